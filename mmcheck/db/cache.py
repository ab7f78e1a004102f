"""A JSON cache of the parsed and validated database.

Parsing YAML costs more than the rest of a ``mmcheck pair`` run (``import yaml`` alone is
~25 ms), so a validated DB is stored as JSON under the cache directory, keyed by a SHA-256 over
the relative paths and bytes of every YAML file and over the code that reads them
(:func:`code_fingerprint`: the model, schema, loader and this module), so a changed schema or
model class never reads a stale cache. A hit rebuilds the entries from JSON without importing ``yaml``.
So that a run need not read and hash every YAML file, a small index maps the files' identities
(inode, size, modification and change times, as git's index uses) to that content hash; see
``loader.identity_key``. Every cache failure (unwritable directory, corrupt file) is silent: the
DB is then read, hashed or parsed.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from mmcheck.db.model import (
    CompatDB,
    Encoder,
    Family,
    FamilyVariant,
    Lineage,
    Marker,
    MergeRule,
    ProjectorType,
    Runtime,
    RuntimeVersion,
    TokenRule,
    WidthRule,
    as_plain,
)

FORMAT = "mmcheck-db-cache"
_FINGERPRINT: list[str] = []


def code_fingerprint() -> str:
    """A SHA-256 over the source of the ``mmcheck.db`` package: what the cached JSON depends on."""
    if not _FINGERPRINT:
        from mmcheck._hash import sha256

        h = sha256(FORMAT.encode())
        for src in sorted(Path(__file__).parent.glob("*.py")):
            h.update(src.name.encode() + b"\0")
            try:
                h.update(src.read_bytes())
            except OSError:  # an unreadable install: no cache can be trusted to match it
                h.update(os.urandom(16))
        _FINGERPRINT.append(h.hexdigest())
    return _FINGERPRINT[0]


def cache_dir() -> Path:
    """``$MMCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/mmcheck``, else ``~/.cache/mmcheck``."""
    override = os.environ.get("MMCHECK_CACHE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "mmcheck"


def cache_path(digest: str) -> Path:
    """The cache file for a DB whose content hash is ``digest``."""
    return cache_dir() / f"db-{digest}.json"


def read(digest: str, root: Path) -> CompatDB | None:
    """The cached DB for ``digest``, or ``None`` on a miss or any problem with the file."""
    try:
        with open(cache_path(digest), "rb") as fh:
            data = json.loads(fh.read())
        if data.get("format") != FORMAT or data.get("digest") != digest:
            return None
        return from_json(data, root)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(digest: str, db: CompatDB) -> None:
    """Store ``db`` atomically; silently do nothing if the cache directory is not writable."""
    payload = json.dumps(to_json(db, digest), ensure_ascii=False, separators=(",", ":"))
    write_atomic(cache_path(digest), payload.encode("utf-8"))


def index_path(key: str) -> Path:
    """The file that records the content digest of the DB files whose identities hash to ``key``."""
    return cache_dir() / f"db-files-{key}.txt"


def read_index(key: str) -> str | None:
    """The content digest recorded for ``key`` (see ``loader.identity_key``), or None."""
    try:
        digest = index_path(key).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    return digest if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else None


def write_index(key: str, digest: str) -> None:
    """Record that the files whose identities hash to ``key`` have the content digest ``digest``."""
    write_atomic(index_path(key), digest.encode("ascii") + b"\n")


def write_atomic(path: Path, *chunks: bytes) -> bool:
    """Write ``chunks`` to ``path`` through a temporary file in its folder, so that a reader never
    sees half a file; False (and nothing left behind) when the cache directory is not writable."""
    import tempfile  # write path only

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


def to_json(db: CompatDB, digest: str) -> dict[str, Any]:
    """A JSON-serialisable dict of ``db`` (the root path is not stored)."""
    return {
        "format": FORMAT,
        "digest": digest,
        "revision": db.revision,
        "projector_types": [as_plain(t) for t in db.projector_types.values()],
        "lineages": [as_plain(x) for x in db.lineages.values()],
        "families": [as_plain(f) for f in db.families.values()],
        "runtimes": [as_plain(r) for r in db.runtimes.values()],
    }


def from_json(data: dict[str, Any], root: Path) -> CompatDB:
    """Rebuild a :class:`CompatDB` from :func:`to_json` output."""
    types = [_projector_type(d) for d in data["projector_types"]]
    lineages = [_lineage(d) for d in data["lineages"]]
    families = [_family(d) for d in data["families"]]
    runtimes = [_runtime(d) for d in data["runtimes"]]
    return CompatDB(
        root=root,
        projector_types={t.id: t for t in types},
        lineages={x.id: x for x in lineages},
        families={f.id: f for f in families},
        runtimes={r.id: r for r in runtimes},
        revision=data["revision"],
    )


def _projector_type(d: dict[str, Any]) -> ProjectorType:
    merge = d["merge"]
    return ProjectorType(
        id=d["id"],
        modality=d["modality"],
        width=WidthRule(**d["width"]),
        tokens=TokenRule(**d["tokens"]),
        merge=None if merge is None else MergeRule(keys=tuple(merge["keys"]), default=merge["default"]),
        text_architectures=tuple(d["text_architectures"]),
        rope=d["rope"],
        markers=tuple(Marker(**m) for m in d["markers"]),
        baked_embeddings=tuple(d["baked_embeddings"]),
        required_keys=tuple(d["required_keys"]),
        required_tensors=tuple(d["required_tensors"]),
        hazards=tuple(d["hazards"]),
        non_causal=d["non_causal"],
        remap=dict(d["remap"]),
        notes=d["notes"],
        source=d["source"],
        confidence=d["confidence"],
    )


def _lineage(d: dict[str, Any]) -> Lineage:
    d = dict(d)
    for key in ("tokenizer_fingerprints", "name_patterns", "tokenizer_pre", "vocab_sizes"):
        d[key] = tuple(d[key])
    return Lineage(**d)


def _family(d: dict[str, Any]) -> Family:
    d = dict(d)
    d["projector_types"] = tuple(d["projector_types"])
    d["encoder"] = None if d["encoder"] is None else Encoder(**d["encoder"])
    d["variants"] = tuple(
        FamilyVariant(
            **{
                **v,
                "text_name_patterns": tuple(v["text_name_patterns"]),
                "encoder": None if v["encoder"] is None else Encoder(**v["encoder"]),
            }
        )
        for v in d["variants"]
    )
    return Family(**d)


def _runtime(d: dict[str, Any]) -> Runtime:
    d = dict(d)
    d["versions"] = tuple(
        RuntimeVersion(**{**v, "adds": tuple(v["adds"]), "drops": tuple(v["drops"])}) for v in d["versions"]
    )
    return Runtime(**d)
