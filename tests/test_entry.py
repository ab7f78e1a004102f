"""The console entry (``mmcheck.entry``): the collector settings it uses for a short process are
limited to that process, and they lose no output.

Each case runs in a subprocess, so the test process's own collector state plays no part. The speed
itself is measured by ``make bench`` (docs/benchmarks.md), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from mmcheck.testing import write_projector, write_text_model

#: runs one command through ``entry`` (or ``cli``), then reports the collector's state as JSON
PROBE = """
import gc, json, sys
{before}
from mmcheck.{module} import main
sys.argv = ["mmcheck", *{args!r}]
code = main({call_args})
print(json.dumps({{"code": code, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}}))
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("entry")
    return write_text_model(d / "model.gguf", n_embd=64), write_projector(d / "mmproj.gguf", n_embd_out=64)


def probe(module: str, args: list[str], cwd: Path, *, before: str = "", in_process: bool = False) -> dict[str, int]:
    script = PROBE.format(before=before, module=module, args=args, call_args="sys.argv[1:]" if in_process else "")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr
    state: dict[str, int] = json.loads(proc.stdout.splitlines()[-1])
    return state


def test_the_console_script_and_python_m_use_the_entry() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "mmcheck"]
    assert script.value == "mmcheck.entry:main"
    main_module = Path(__file__).parents[1] / "mmcheck" / "__main__.py"
    assert "from mmcheck.entry import main" in main_module.read_text()


def test_the_entry_freezes_what_is_alive_and_leaves_the_collector_on(pair: tuple[Path, Path], tmp_path: Path) -> None:
    through_entry, in_process = tmp_path / "entry.json", tmp_path / "cli.json"
    args = ["pair", str(pair[0]), str(pair[1]), "-f", "json", "-o"]
    state = probe("entry", [*args, str(through_entry)], tmp_path)
    assert state["code"] == 0
    assert state["enabled"], "a long scan must still free its reference cycles"
    assert state["frozen"] > 1000  # the imported modules, and what the run left alive
    # nothing lost: the report is the one the in-process CLI writes, byte for byte, smoke test included
    assert probe("cli", [*args, str(in_process)], tmp_path, in_process=True)["code"] == 0
    assert through_entry.read_bytes() == in_process.read_bytes()
    assert json.loads(through_entry.read_text())["smoke"]["status"] == "passed"


def test_a_disabled_collector_stays_disabled(pair: tuple[Path, Path], tmp_path: Path) -> None:
    state = probe("entry", ["pair", str(pair[0]), str(pair[1]), "--no-smoke"], tmp_path, before="gc.disable()")
    assert state["code"] == 0
    assert not state["enabled"]


def test_the_in_process_cli_leaves_the_collector_alone(pair: tuple[Path, Path], tmp_path: Path) -> None:
    state = probe("cli", ["pair", str(pair[0]), str(pair[1])], tmp_path, in_process=True)
    assert state == {"code": 0, "enabled": True, "frozen": 0}


def test_ctrl_c_while_the_modules_load_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # a finder that raises KeyboardInterrupt when the CLI module is imported: Ctrl-C at that moment
    script = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "mmcheck.cli":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
from mmcheck.entry import main
sys.exit(main())
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "mmcheck: interrupted\n"
