"""Build the optional C accelerator of the header reader (``mmcheck/header/_walk.c``).

hatchling runs this for wheels and editable installs. The extension is compiled with the
interpreter's own compiler settings; without a compiler or Python's headers the build goes on and
mmcheck uses its pure-Python walk (same results, slower on large vocabularies).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("mmcheck") / "header" / "_walk.c"


def compile_walk(root: Path) -> Path | None:
    """Compile the extension next to its source; its path, or None when it cannot be built."""
    src = root / SOURCE
    out = src.with_name("_walk" + str(sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
    cc = shlex.split(str(sysconfig.get_config_var("CC") or "cc"))
    flags = ["-shared", "-fPIC", "-O2", "-Wall", "-I", sysconfig.get_paths()["include"]]
    try:
        done = subprocess.run([*cc, *flags, str(src), "-o", str(out)], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"mmcheck: C accelerator not built ({e}); using the Python header walk", file=sys.stderr)
        return None
    if done.returncode != 0:
        print(f"mmcheck: C accelerator not built; using the Python header walk\n{done.stderr}", file=sys.stderr)
        return None
    return out


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Compile ``_walk`` and put it in the wheel (an editable install finds it in the source tree)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        built = compile_walk(Path(self.root))
        if built is None:
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(built)] = f"mmcheck/header/{built.name}"
