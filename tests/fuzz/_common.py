"""What the harnesses share: atheris, the corpus and scratch folders, seeding, libFuzzer's arguments.

Imports nothing from mmcheck at module level: a harness imports mmcheck inside
``atheris.instrument_imports()`` (coverage feedback needs instrumented bytecode), and only then
calls the seed writers here, which import the builders.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: everything a harness writes: ``<name>/corpus``, ``<name>/artifacts`` (git-ignored, as all of .cache/)
CACHE = ROOT / ".cache" / "fuzz"

Seeds = Iterable[tuple[str, bytes]]


def atheris() -> Any:
    """The atheris module, or exit with how to install it (it has no type stubs: typed ``Any``)."""
    try:
        return importlib.import_module("atheris")
    except ImportError:
        sys.exit("atheris is not installed: `make fuzz` installs it (or `.venv/bin/python -m pip install atheris`)")


#: never imported by ``instrument``: the builders and demo servers are not under test, and
#: ``__main__`` would run the CLI
_NOT_UNDER_TEST = ("mmcheck.testing", "mmcheck.__main__")


def instrument(at: Any, package: str = "mmcheck", also: tuple[str, ...] = ()) -> None:
    """Import every module of ``package`` under atheris' instrumentation (and ``also`` these).

    mmcheck imports many modules lazily (the smoke test, the rules, the remote stack); imported
    later, outside ``instrument_imports``, they would give the fuzzer no coverage feedback.
    """
    with at.instrument_imports(include=[package, *also]):
        root = importlib.import_module(package)
        for mod in pkgutil.walk_packages(root.__path__, prefix=f"{package}.", onerror=lambda name: None):
            if mod.name.startswith(_NOT_UNDER_TEST):
                continue
            try:
                importlib.import_module(mod.name)
            except Exception as e:  # a module the harness does not reach must not stop it; say so
                print(f"fuzz: not instrumented: {mod.name}: {type(e).__name__}: {e}", file=sys.stderr)


def scratch(name: str) -> Path:
    """This process' scratch folder, ``$TMPDIR/mmcheck-fuzz/<name>/<pid>``.

    Outside the repository, so that no ``pyproject.toml`` above it is found as a configuration.
    libFuzzer ends the process with ``exit()``, so nothing runs at exit: the folders of processes
    that are gone are removed here, at the next start (parallel ``-jobs`` keep theirs).
    """
    work = Path(tempfile.gettempdir()) / "mmcheck-fuzz" / name
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():
        if old.name.isdigit() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    mine = work / str(os.getpid())
    mine.mkdir(exist_ok=True)
    return mine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def seed(name: str, make: Callable[[Path], Seeds]) -> Path:
    """Write the seeds of harness ``name`` (``seed-*`` files, rewritten on every start) into its corpus."""
    corpus = CACHE / name / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"mmcheck-fuzz-{name}-") as work:
        for file_name, data in make(Path(work)):
            (corpus / f"seed-{file_name}").write_bytes(data)
    return corpus


def libfuzzer_args(argv: list[str], name: str, corpus: Path, words: Iterable[str] = ()) -> list[str]:
    """``argv`` with this harness' defaults: the corpus folder (when no file or folder is given),
    crash files under ``.cache/fuzz/<name>/artifacts/``, a 20 s per-input timeout (a hang is a bug)
    and, when ``words`` are given, a libFuzzer dictionary of them (tokens the mutator inserts)."""
    args = list(argv)
    given = args[1:]
    if words and not any(a.startswith("-dict=") for a in given):
        dictionary = CACHE / name / "words.dict"
        dictionary.write_text("".join(f'"{_escape(w)}"\n' for w in words))
        args.append(f"-dict={dictionary}")
    if not any(a.startswith("-artifact_prefix=") for a in given):
        artifacts = CACHE / name / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        args.append(f"-artifact_prefix={artifacts}/")
    if not any(a.startswith("-timeout=") for a in given):
        args.append("-timeout=20")
    if not any(not a.startswith("-") for a in given):
        args.append(str(corpus))
    return args


def _escape(word: str) -> str:
    """``word`` in a libFuzzer dictionary's quotes: printable ASCII as is, other bytes as ``\\xNN``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02X}" for b in word.encode("utf-8"))


def text_model(path: Path, **overrides: Any) -> Path:
    """The small text model the projector seeds fit (64 wide, one layer, 300 tokens)."""
    from mmcheck.testing.builders import write_text_model

    return write_text_model(path, **{"n_embd": 64, "n_layer": 1, "vocab_size": 300, **overrides})


def projector_seeds(work: Path, *, header_only: bool) -> Seeds:
    """Generated projectors of every type in ``PROJECTOR_TYPES`` (and a big-endian one)."""
    from mmcheck.testing.builders import write_projector

    path = work / "p.gguf"
    for ptype in PROJECTOR_TYPES:
        spec = projector_spec(ptype, header_only=header_only)
        yield f"mmproj-{ptype}.gguf", write_projector(path, **spec).read_bytes()
    big = projector_spec("mlp", header_only=header_only, endianness="big")
    yield "mmproj-mlp-be.gguf", write_projector(path, **big).read_bytes()


#: projector types whose smoke test runs the full chain on the small spec below
PROJECTOR_TYPES = ("mlp", "mlp_norm", "ldp", "ldpv2", "gemma3", "pixtral", "qwen2vl_merger", "ultravox", "voxtral")


def projector_spec(ptype: str, **overrides: Any) -> dict[str, Any]:
    """Builder arguments of a small projector of type ``ptype`` for a 64-wide text model."""
    return {
        "projector_type": ptype,
        "width": 32,
        "hidden": 64,
        "n_embd_out": 64,
        "n_layer": 1,
        "image_size": 16,
        "patch_size": 8,
        **overrides,
    }
