"""``python -m mmcheck``."""

from mmcheck.entry import main

raise SystemExit(main())
