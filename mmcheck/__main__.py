"""``python -m mmcheck``."""

from mmcheck.cli import main

raise SystemExit(main())
