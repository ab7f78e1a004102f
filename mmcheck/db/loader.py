"""Find, read, validate and cache the compatibility database.

``load_db()`` is on the hot path of every command: it finds the cache entry from the YAML files'
identities (or, when they changed recently, by hashing them), and on a cache
hit (:mod:`mmcheck.db.cache`) rebuilds the DB from JSON without importing ``yaml``, ``ast`` or
the schema. On a miss it parses every file, validates it (:mod:`mmcheck.db.schema`), raises
on the first error and otherwise stores the result in the cache.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from mmcheck._hash import sha256
from mmcheck.db import cache
from mmcheck.db.model import CompatDB, Family, Lineage, ProjectorType, Runtime
from mmcheck.errors import DBError

__all__ = ["db_files", "default_db_path", "load_db", "validate_db"]

PROJECTOR_TYPES = "projector_types.yaml"
LINEAGES = "lineages"  # lineages.yaml, or lineages/*.yaml (one file per vendor)
RUNTIMES = "runtimes.yaml"
FAMILIES = "families"
KIND_OF = {PROJECTOR_TYPES: "type", RUNTIMES: "runtime"}


def _kind(name: str) -> str:
    """The entry kind a database file defines, from its relative path."""
    if name in KIND_OF:
        return KIND_OF[name]
    return "lineage" if name == f"{LINEAGES}.yaml" or name.startswith(f"{LINEAGES}/") else "family"


def _is_lineage_file(name: str) -> bool:
    return _kind(name) == "lineage"


def default_db_path() -> Path:
    """``mmcheck/compat_db/`` inside an installed package, else the repository's ``compat_db/``."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "compat_db"
    return packaged if packaged.is_dir() else here.parents[2] / "compat_db"


def _root(path: str | Path | None) -> Path:
    root = default_db_path() if path is None else Path(path)
    try:
        if not root.is_dir():
            raise DBError(f"compatibility database directory not found: {root}")
        if not (root / PROJECTOR_TYPES).is_file():
            raise DBError(f"not a compatibility database: {root} has no {PROJECTOR_TYPES}")
    except OSError as exc:  # a parent folder the user may not enter
        raise DBError(f"cannot open the compatibility database: {exc.strerror}", file=str(root)) from None
    return root


def db_files(root: Path) -> list[str]:
    """The DB's YAML files, relative to ``root`` (POSIX separators), in load order."""
    names = [n for n in (PROJECTOR_TYPES, f"{LINEAGES}.yaml", RUNTIMES) if (root / n).is_file()]
    for folder in (LINEAGES, FAMILIES):
        d = root / folder
        if d.is_dir():
            try:
                entries = list(d.iterdir())
            except OSError as exc:
                raise DBError(f"cannot list the folder: {exc.strerror}", file=str(d)) from None
            names += sorted(f"{folder}/{p.name}" for p in entries if p.name.endswith(".yaml") and p.is_file())
    return names


def _read_all(root: Path, names: list[str] | None = None) -> dict[str, bytes]:
    out = {}
    for name in db_files(root) if names is None else names:
        try:
            out[name] = (root / name).read_bytes()
        except OSError as exc:
            raise DBError(f"cannot read: {exc.strerror}", file=str(root / name)) from None
    return out


def _digest(contents: dict[str, bytes]) -> str:
    h = sha256(cache.code_fingerprint().encode())
    for name, data in contents.items():
        h.update(b"\0%d:%s\0%d:" % (len(name.encode()), name.encode(), len(data)))
        h.update(data)
    return str(h.hexdigest())


#: a file changed this recently (ns) may change again within the same timestamp tick, keeping its
#: size and times: until then its times prove nothing, and the files are read and hashed
RACY_NS = 2_000_000_000


def identity_key(root: Path, names: list[str]) -> str | None:
    """A hash of every DB file's inode, size, modification and change time (and of the code that
    reads them), or None when one cannot be stat'ed or changed less than ``RACY_NS`` ago.

    Any write, rename or chmod of a file sets its change time, which no tool can set back, so a
    changed file always gives another key (``cp -p`` and ``rsync -t`` keep the modification time,
    not the change time). On Windows the change time is the creation time, so there is no key.
    """
    if os.name == "nt":
        return None
    now = time.time_ns()
    h = sha256(cache.code_fingerprint().encode() + b"\0" + os.fsencode(root.resolve()))
    base = os.fspath(root)
    for name in names:
        try:
            st = os.stat(os.path.join(base, name))
        except OSError:
            return None
        if now - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
            return None
        h.update(b"\0%s\0%d:%d:%d:%d" % (name.encode(), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return str(h.hexdigest())


def load_db(path: str | Path | None = None) -> CompatDB:
    """Load the compatibility database at ``path`` (default: :func:`default_db_path`).

    Uses the JSON cache when the YAML files are unchanged: found from the files' identities
    (:func:`identity_key`) without reading them, else from a hash of their bytes. Raises
    :class:`DBError`: the error itself when there is one, else one that gives the count and the
    first error's place.
    """
    root = _root(path)
    names = db_files(root)
    key = identity_key(root, names)
    if key is not None and (known := cache.read_index(key)) is not None:
        hit = cache.read(known, root)
        if hit is not None:
            return hit
    contents = _read_all(root, names)
    digest = _digest(contents)
    hit = cache.read(digest, root)
    if hit is not None:
        if key is not None:
            cache.write_index(key, digest)
        return hit
    db, errors = _parse(root, contents)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        first = errors[0]
        raise DBError(
            f"{len(errors)} errors in the compatibility database; first: {first.message}"
            " (run `mmcheck db validate` for all)",
            file=first.file,
            line=first.line,
        )
    cache.write(digest, db)
    if key is not None:
        cache.write_index(key, digest)
    return db


def check_readable(path: str | Path | None = None) -> None:
    """Raise ``DBError`` when the database folder (or one of its files) cannot be read at all."""
    _read_all(_root(path))


def validate_db(path: str | Path | None = None) -> list[DBError]:
    """Every error of the database at ``path`` (empty when it is valid). Never uses the cache."""
    try:
        root = _root(path)
        contents = _read_all(root)
    except DBError as exc:
        return [exc]
    return _parse(root, contents)[1]


def _parse(root: Path, contents: dict[str, bytes]) -> tuple[CompatDB, list[DBError]]:
    from mmcheck.db import schema
    from mmcheck.db.checks import Ctx
    from mmcheck.db.nodes import Node, compose

    reg = schema.Registry()
    broken: set[str] = set()  # kinds whose file is malformed or empty
    ctxs: dict[str, Ctx] = {}
    errors: list[DBError] = []

    def tree(name: str) -> tuple[Ctx, Node | None, bool]:
        """Compose one file; the flag is False when its YAML is malformed."""
        ctx = ctxs[name] = Ctx(name)
        node, errs = compose(contents[name], name)
        ctx.errors.extend(errs)
        if node is None:
            broken.add(_kind(name))
        return ctx, node, not (errs and node is None)

    # Projector types and runtimes first: later files refer to them.
    revision: str = ""
    types: list[ProjectorType] = []
    ctx, node, ok = tree(PROJECTOR_TYPES)
    if ok:
        revision, types = schema.read_projector_types(ctx, node, reg)
    runtimes: list[Runtime] = []
    if RUNTIMES in contents:
        ctx, node, ok = tree(RUNTIMES)
        runtimes = schema.read_runtimes(ctx, node, reg) if ok else []
    lineages: list[Lineage] = []
    for name in contents:
        if _is_lineage_file(name):
            ctx, node, ok = tree(name)
            lineages += schema.read_lineages(ctx, node, reg) if ok else []
    families: list[Family] = []
    for name in contents:
        if name.startswith(f"{FAMILIES}/"):
            ctx, node, ok = tree(name)
            fam = schema.read_family(ctx, node, reg, Path(name).stem) if ok else None
            if fam is not None:
                families.append(fam)
    schema.check_refs(reg, ctxs, broken)
    for name in contents:
        errors.extend(sorted(ctxs[name].errors, key=lambda e: e.line or 0))
    db = CompatDB(
        root=root,
        projector_types={t.id: t for t in types},
        lineages={x.id: x for x in lineages},
        families={f.id: f for f in families},
        runtimes={r.id: r for r in runtimes},
        revision=revision,
    )
    return db, errors
