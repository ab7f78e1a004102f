"""The runtime the user has: which projector types a given runtime version loads.

    >>> spec = parse_runtime("llama-cpp-python@0.3.16", db)
    >>> type_support(db, spec, "qwen3vl_merger").status
    'no'

The facts are ``compat_db/runtimes.yaml`` (see docs/runtimes.md). A version entry is either a
*snapshot* (the full set of type strings the version loads, read from its vendored llama.cpp), an
entry whose ``adds`` are the types it is the first to load, or a pointer to the llama.cpp build it
bundles (``llama_cpp_build``), which is then looked up in llama.cpp's own table. Between two
snapshots a type present in both is loaded, a type absent from both is not (types are not added
and removed again in between), and anything else is unknown. Nothing is guessed: a version with no
data is ``unknown`` and the answer says what is not known.

Public API: :func:`parse_runtime`, :func:`type_support`, :func:`detect_runtime`,
:func:`runtime_ids`, :class:`RuntimeSpec`, :class:`Support`.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

from mmcheck.db.versions import COMMIT_RE, format_version, version_key
from mmcheck.errors import ConfigError

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.db.model import Runtime, RuntimeVersion

__all__ = [
    "ALIASES",
    "RuntimeSpec",
    "Support",
    "detect_runtime",
    "parse_runtime",
    "runtime_ids",
    "type_support",
]

Status = Literal["yes", "no", "unknown"]
Snapshot = tuple[tuple[int, ...], "RuntimeVersion", frozenset[str]]  # (order key, entry, full type set)

#: Other spellings people use for the runtime ids of ``runtimes.yaml``.
ALIASES = {
    "llamacpp": "llama.cpp",
    "llama-cpp": "llama.cpp",
    "llama_cpp": "llama.cpp",
    "kobold": "koboldcpp",
    "kobold.cpp": "koboldcpp",
    "lm-studio": "lmstudio",
    "lm_studio": "lmstudio",
    "llama_cpp_python": "llama-cpp-python",
    "llamacpppython": "llama-cpp-python",
}


class RuntimeSpec(NamedTuple):
    """A runtime id (as in ``runtimes.yaml``) and the version the user has."""

    runtime: str
    version: str

    def __str__(self) -> str:
        return f"{self.runtime}@{self.version}"


class Support(NamedTuple):
    """Whether a runtime version loads a projector type, and why we say so.

    ``first_known`` is the earliest version known to load it, ``last_without`` the latest version
    known not to (when the data has them); ``via`` names the bundled llama.cpp build the answer
    came from; ``reason`` is one sentence for a report.
    """

    status: Status
    type_id: str
    spec: RuntimeSpec
    reason: str
    first_known: str | None = None
    last_without: str | None = None
    via: str | None = None


def runtime_ids(db: "CompatDB") -> list[str]:
    """The runtime ids the database knows, in database order."""
    return list(db.runtimes)


def parse_runtime(text: str, db: "CompatDB", version: str | None = None) -> RuntimeSpec:
    """Parse ``ID@VERSION`` (or ``ID`` with ``version`` given separately, as the config's
    ``runtime-version``). Raises :class:`ConfigError` with one line saying what is wrong."""
    raw = text.strip()
    name, at, ver = raw.partition("@")
    name = name.strip().lower()
    if at and version is not None:
        raise ConfigError(f"runtime {text!r} names a version and runtime-version gives another; use one")
    ver = (ver if at else (version or "")).strip()
    rid = ALIASES.get(name, name)
    if rid not in db.runtimes:
        known = ", ".join(runtime_ids(db))
        raise ConfigError(f"unknown runtime {name or text!r} in --runtime {text!r} (known: {known})")
    if not ver:
        raise ConfigError(f"--runtime {text!r} has no version: use {rid}@VERSION, e.g. {_example(rid)}")
    rt = db.runtimes[rid]
    if version_key(rt.versioning, ver) is None and not (rt.versioning == "build" and COMMIT_RE.match(ver)):
        want = "a build such as b6907 (or a commit hash)" if rt.versioning == "build" else "a version such as 1.2.3"
        raise ConfigError(f"--runtime {text!r}: {ver!r} is not {want}")
    return RuntimeSpec(rid, format_version(rt.versioning, ver))


def _example(rid: str) -> str:
    return {"llama.cpp": "llama.cpp@b6907", "koboldcpp": "koboldcpp@1.98", "ollama": "ollama@0.12.3"}.get(
        rid, f"{rid}@0.3.16"
    )


# --------------------------------------------------------------------------------------------
# Looking a type up
# --------------------------------------------------------------------------------------------


def _snapshots(rt: "Runtime") -> list[Snapshot]:
    """(key, entry, full type set) for every snapshot, ascending."""
    out = []
    known: set[str] = set()
    for rv in rt.versions:
        if not rv.snapshot or rv.version is None:
            continue
        key = version_key(rt.versioning, rv.version)
        if key is None:
            continue
        known = (known | set(rv.adds)) - set(rv.drops)
        out.append((key, rv, frozenset(known)))
    return out


def _exact_adds(rt: "Runtime", type_id: str) -> "RuntimeVersion | None":
    """The non-snapshot entry that names ``type_id`` as first loaded there (orderable only)."""
    for rv in rt.versions:
        if not rv.snapshot and rv.version and type_id in rv.adds and version_key(rt.versioning, rv.version):
            return rv
    return None


def _entry(rt: "Runtime", version: str) -> "RuntimeVersion | None":
    key = version_key(rt.versioning, version)
    for rv in rt.versions:
        if rv.version is None:
            continue
        if key is not None and version_key(rt.versioning, rv.version) == key:
            return rv
        if (
            key is None
            and rv.llama_cpp_commit
            and (rv.llama_cpp_commit.startswith(version) or version.startswith(rv.llama_cpp_commit))
        ):
            return rv
        if key is None and rv.version == version:
            return rv
    return None


def _name(db: "CompatDB", rid: str) -> str:
    rt = db.runtimes.get(rid)
    return rt.name if rt is not None else rid


def type_support(db: "CompatDB", spec: RuntimeSpec, type_string: str) -> Support:
    """Does ``spec`` load projector type ``type_string`` (the file's ``clip.projector_type``)?

    The answer is ``yes``, ``no`` or ``unknown``; never a guess. See the module docstring for the
    rules. ``type_string`` is the declared string (``mlp`` for an MLP_NORM file, ``qwen2.5o`` for a
    Qwen2.5-Omni one): that is what the runtime's loader looks up.
    """
    rt = db.runtimes[spec.runtime]
    label = f"{rt.name} {spec.version}"
    key = version_key(rt.versioning, spec.version)
    entry = _entry(rt, spec.version)
    snaps = _snapshots(rt)

    # 0. the llama.cpp revision projector_types.yaml was derived from loads every type in it
    if rt.id == "llama.cpp" and key is None and db.revision and COMMIT_RE.match(spec.version):
        n = min(len(spec.version), len(db.revision))
        if n >= 7 and spec.version[:n] == db.revision[:n]:
            if type_string in db.projector_types:
                return Support(
                    "yes", type_string, spec, f"{type_string!r} is in projector_types.yaml, derived from {label}"
                )
            return Support(
                "no", type_string, spec, f"{label} (the database's reference revision) does not know {type_string!r}"
            )

    # 1. the exact version is a snapshot
    if entry is not None and entry.snapshot:
        for _, rv, types in snaps:
            if rv is entry:
                if type_string in types:
                    return Support("yes", type_string, spec, f"{label} loads {type_string!r}")
                return _no(rt, spec, type_string, snaps, f"{label} does not load {type_string!r}")

    # 2. the version bundles a known llama.cpp build: ask llama.cpp's table
    if entry is not None and entry.llama_cpp_build and rt.id != "llama.cpp" and "llama.cpp" in db.runtimes:
        inner = type_support(db, RuntimeSpec("llama.cpp", entry.llama_cpp_build), type_string)
        via = f"llama.cpp {entry.llama_cpp_build}"
        reason = f"{label} bundles {via}: {inner.reason}"
        return Support(inner.status, type_string, spec, reason, inner.first_known, inner.last_without, via)

    if key is None:
        return Support("unknown", type_string, spec, f"{label} cannot be placed among the known {rt.name} versions")

    # 3. an entry that names the exact first version
    first = _exact_adds(rt, type_string)
    if first is not None and first.version is not None:
        fkey = version_key(rt.versioning, first.version)
        assert fkey is not None
        if key >= fkey:
            return Support("yes", type_string, spec, f"{type_string!r} is loaded since {rt.name} {first.version}",
                           first_known=first.version)  # fmt: skip
        return Support("no", type_string, spec,
                       f"{label} is older than {first.version}, the first {rt.name} that loads {type_string!r}",
                       first_known=first.version)  # fmt: skip

    # 4. between snapshots
    lo = next(((k, rv, t) for k, rv, t in reversed(snaps) if k <= key), None)
    hi = next(((k, rv, t) for k, rv, t in snaps if k >= key), None)
    first_in = next((rv.version for k, rv, t in snaps if type_string in t and k > key), None)
    if lo is not None and hi is not None:
        in_lo, in_hi = type_string in lo[2], type_string in hi[2]
        if in_lo and in_hi:
            return Support("yes", type_string, spec,
                           f"{rt.name} {lo[1].version} and {hi[1].version} both load {type_string!r}")  # fmt: skip
        if not in_lo and not in_hi:
            return _no(
                rt,
                spec,
                type_string,
                snaps,
                f"neither {rt.name} {lo[1].version} nor {hi[1].version} loads {type_string!r}",
            )
        if in_hi:
            return Support("unknown", type_string, spec,
                           f"{type_string!r} was added between {rt.name} {lo[1].version} (without it) and "
                           f"{hi[1].version} (with it); whether {spec.version} has it is not known",
                           first_known=hi[1].version, last_without=lo[1].version)  # fmt: skip
        why = f"{type_string!r} was removed between {rt.name} {lo[1].version} and {hi[1].version}"
        return Support("unknown", type_string, spec, why)
    if lo is not None:  # newer than every snapshot
        if type_string in lo[2]:
            return Support(
                "yes", type_string, spec, f"{type_string!r} is loaded since {rt.name} {lo[1].version} or earlier"
            )
        why = (
            f"{rt.name} {lo[1].version}, the newest version with a known type list, does not load "
            f"{type_string!r}; whether {spec.version} does is not known"
        )
        return Support("unknown", type_string, spec, why, last_without=lo[1].version)
    if hi is not None:  # older than every snapshot
        if type_string not in hi[2]:
            return _no(
                rt,
                spec,
                type_string,
                snaps,
                f"{rt.name} {hi[1].version}, newer than {spec.version}, does not load {type_string!r} either",
            )
        return Support("unknown", type_string, spec,
                       f"{label} is older than every {rt.name} version with a known type list "
                       f"({hi[1].version} loads {type_string!r})", first_known=first_in)  # fmt: skip
    return Support("unknown", type_string, spec, f"which projector types {label} loads is not recorded")


def _no(rt: "Runtime", spec: RuntimeSpec, type_string: str, snaps: Sequence[Snapshot], reason: str) -> Support:
    """A ``no`` that names the first version known to load the type, when there is one."""
    key = version_key(rt.versioning, spec.version)
    first = None
    last_without = None
    for k, rv, types in snaps:
        if type_string in types and (key is None or k > key):
            first = rv.version
            break
        if type_string not in types:
            last_without = rv.version
    exact = _exact_adds(rt, type_string)
    if exact is not None and exact.version is not None:
        ekey = version_key(rt.versioning, exact.version)
        fkey = version_key(rt.versioning, first) if first is not None else None
        if ekey is not None and (fkey is None or ekey < fkey):
            first = exact.version
    if first is not None:
        reason += f"; the first {rt.name} known to load it is {first}"
        if last_without is not None and last_without != spec.version:
            reason += f" ({last_without} does not)"
    return Support("no", type_string, spec, reason, first_known=first, last_without=last_without)


# --------------------------------------------------------------------------------------------
# Detecting the runtime from the command mmcheck exec wraps
# --------------------------------------------------------------------------------------------

_LLAMA_VERSION_RE = re.compile(r"version:\s*(\d+)\s*\(([0-9a-f]{7,40})\)")
_DOTTED_IN_TEXT_RE = re.compile(r"(?<![\d.])v?(\d+\.\d+(?:\.\d+){0,2})(?![\d.])")
_PY_VERSION = "import importlib.metadata as m; print(m.version('llama-cpp-python'))"


def _runtime_of(cmd: Sequence[str]) -> str | None:
    """Which runtime a command line starts, from its executable's name (and ``-m`` module)."""
    if not cmd:
        return None
    exe = os.path.basename(cmd[0]).lower()
    exe = exe.removesuffix(".exe")
    if exe.startswith("python") and "-m" in cmd and any(a.startswith("llama_cpp") for a in cmd):
        return "llama-cpp-python"
    if exe.startswith("llama-") or exe in ("main", "server", "mtmd-cli"):
        return "llama.cpp"
    if exe.startswith("koboldcpp") or exe == "kobold":
        return "koboldcpp"
    if exe == "ollama":
        return "ollama"
    return None


def _run(argv: Sequence[str], timeout: float) -> str | None:
    import subprocess  # only to ask a runtime its version: a pair check never starts a process

    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return (proc.stdout or "") + "\n" + (proc.stderr or "")


def detect_runtime(cmd: Sequence[str], exe: str | None = None, *, timeout: float = 5.0) -> RuntimeSpec | None:
    """The runtime and version ``cmd`` starts, or ``None`` when it cannot be told.

    llama.cpp tools, KoboldCpp and Ollama are asked with ``CMD --version`` (at most ``timeout``
    seconds); for ``python -m llama_cpp.server`` the interpreter is asked for the installed
    llama-cpp-python version. ``exe`` is the resolved executable (default ``cmd[0]``).
    """
    rid = _runtime_of(cmd)
    if rid is None:
        return None
    program = exe or cmd[0]
    if rid == "llama-cpp-python":
        out = _run([program, "-c", _PY_VERSION], timeout)
        m = _DOTTED_IN_TEXT_RE.search(out or "")
        return RuntimeSpec(rid, m.group(1)) if m else None
    out = _run([program, "--version"], timeout)
    if not out:
        return None
    if rid == "llama.cpp":
        lm = _LLAMA_VERSION_RE.search(out)
        if lm is None:
            return None
        # builds from a source tree without git history print "version: 0 (<commit>)"
        return RuntimeSpec(rid, f"b{lm.group(1)}" if lm.group(1) != "0" else lm.group(2))
    m = _DOTTED_IN_TEXT_RE.search(out)
    return RuntimeSpec(rid, m.group(1)) if m else None


_FIRST: "dict[tuple[int, str], tuple[CompatDB, list[str]]]" = {}


def first_versions(db: "CompatDB", type_string: str) -> list[str]:
    """Where the version table places the first version of each runtime that loads ``type_string``:
    ``"KoboldCpp 1.101"`` (named by its release), ``"llama-cpp-python 0.3.17 (0.3.16 does not)"``
    (between two known type lists) or ``"Ollama 0.12.3 or earlier"``. Runtimes whose table says
    nothing about the type are left out; nothing is guessed."""
    hit = _FIRST.get((id(db), type_string))
    if hit is not None and hit[0] is db:  # a scan asks for the same few types again and again
        return list(hit[1])
    out = _first_versions(db, type_string)
    _FIRST[(id(db), type_string)] = (db, out)
    return list(out)


def _first_versions(db: "CompatDB", type_string: str) -> list[str]:
    out = []
    for rt in db.runtimes.values():
        exact = _exact_adds(rt, type_string)
        if exact is not None:
            out.append(f"{rt.name} {exact.version}")
            continue
        before = None
        for _, rv, types in _snapshots(rt):
            if type_string in types:
                out.append(f"{rt.name} {rv.version}" + (f" ({before} does not)" if before else " or earlier"))
                break
            before = rv.version
    return out
