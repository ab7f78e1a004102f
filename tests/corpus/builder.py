"""Build header-only GGUF files from the real-world header descriptions in ``tests/corpus/headers``.

The format is documented in ``tests/corpus/README.md``. This module is independent of mmcheck's
database and of its own GGUF reader: it writes with ``gguf.GGUFWriter`` (gguf-py, the writer
llama.cpp's converters use), so a file built here is laid out as a converter lays it out.

    python -m tests.corpus.builder --check          # validate every description and pair, build each
    python -m tests.corpus.builder ID... -o DIR     # write the named headers into DIR
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES

ROOT = Path(__file__).resolve().parent
HEADERS = ROOT / "headers"
PAIRS = ROOT / "pairs"

ROLES = ("text-model", "projector")
VERDICTS = ("match", "unknown", "likely-garbage", "mismatch")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SCALARS = {
    "str": GGUFValueType.STRING,
    "bool": GGUFValueType.BOOL,
    "u8": GGUFValueType.UINT8,
    "i8": GGUFValueType.INT8,
    "u16": GGUFValueType.UINT16,
    "i16": GGUFValueType.INT16,
    "u32": GGUFValueType.UINT32,
    "i32": GGUFValueType.INT32,
    "u64": GGUFValueType.UINT64,
    "i64": GGUFValueType.INT64,
    "f32": GGUFValueType.FLOAT32,
    "f64": GGUFValueType.FLOAT64,
}
_TOKEN_TYPES = {"normal": 1, "unknown": 2, "control": 3, "user_defined": 4, "unused": 5, "byte": 6}
_GGML_TYPES = {t.name.lower(): t for t in GGMLQuantizationType}
_VOCAB_KEYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.scores", "tokenizer.ggml.merges")


class CorpusError(ValueError):
    """A description that does not follow tests/corpus/README.md; the message names the file."""


@dataclass(frozen=True)
class Header:
    """One validated header description."""

    id: str
    role: str
    file_name: str | None
    sources: tuple[dict[str, str], ...]
    kv: dict[str, tuple[str, Any]]
    vocab: dict[str, Any] | None
    tensors: tuple[tuple[str, str, tuple[int, ...]], ...]
    path: Path = field(compare=False)

    @property
    def architecture(self) -> str:
        """``general.architecture``."""
        return str(self.kv["general.architecture"][1])


@dataclass(frozen=True)
class Pair:
    """One pair with its expected verdict and the justification."""

    id: str
    model: str
    mmproj: str
    expected: str
    why: str
    sources: tuple[str, ...]
    runtime_says: str | None
    expect_rules: tuple[str, ...]
    group: str
    folder: str | None = None  # the folder a release ships both files in (e.g. "mys/ggml_llava-v1.5-7b")


def _fail(path: Path, message: str) -> CorpusError:
    return CorpusError(f"{path.relative_to(ROOT.parent.parent)}: {message}")


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from None


def _value(path: Path, key: str, spec: Any) -> tuple[str, Any]:
    if not isinstance(spec, list) or len(spec) != 2 or not isinstance(spec[0], str):
        raise _fail(path, f"kv {key!r}: expected [type, value], got {spec!r}")
    vtype, value = spec
    if vtype.startswith("arr[") and vtype.endswith("]"):
        inner = vtype[4:-1]
        if inner not in _SCALARS or not isinstance(value, list):
            raise _fail(path, f"kv {key!r}: {vtype} needs a known element type and a list value")
        for item in value:
            _check_scalar(path, key, inner, item)
    elif vtype in _SCALARS:
        _check_scalar(path, key, vtype, value)
    else:
        raise _fail(path, f"kv {key!r}: unknown value type {vtype!r}")
    return vtype, value


def _check_scalar(path: Path, key: str, vtype: str, value: Any) -> None:
    ok = {
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "f32": isinstance(value, (int, float)) and not isinstance(value, bool),
        "f64": isinstance(value, (int, float)) and not isinstance(value, bool),
    }.get(vtype, isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise _fail(path, f"kv {key!r}: {value!r} is not a {vtype}")


def _tensors(path: Path, spec: Any) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    if not isinstance(spec, dict):
        raise _fail(path, "tensors must be a mapping of name -> [type, ne(, repeat)]")
    for name, entry in spec.items():
        if not isinstance(entry, list) or len(entry) not in (2, 3):
            raise _fail(path, f"tensor {name!r}: expected [type, ne] or [type, ne, repeat]")
        ttype, ne = str(entry[0]).lower(), entry[1]
        if ttype not in _GGML_TYPES:
            raise _fail(path, f"tensor {name!r}: unknown ggml type {entry[0]!r}")
        if not isinstance(ne, list) or not ne or not all(isinstance(d, int) and d >= 0 for d in ne):
            raise _fail(path, f"tensor {name!r}: ne must be a list of non-negative integers")
        block = GGML_QUANT_SIZES[_GGML_TYPES[ttype]][0]
        if ne[0] % block:
            raise _fail(path, f"tensor {name!r}: ne[0] {ne[0]} is not a multiple of {ttype}'s block size {block}")
        repeat = entry[2] if len(entry) == 3 else None
        if repeat is None:
            if "{i}" in name:
                raise _fail(path, f"tensor {name!r}: a name with {{i}} needs a repeat count")
            yield name, ttype, tuple(ne)
            continue
        if not isinstance(repeat, int) or repeat < 1 or "{i}" not in name:
            raise _fail(path, f"tensor {name!r}: the repeat count needs {{i}} in the name and a positive integer")
        for i in range(repeat):
            yield name.replace("{i}", str(i)), ttype, tuple(ne)


def _vocab(path: Path, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or not isinstance(spec.get("size"), int) or spec["size"] < 1:
        raise _fail(path, "vocab needs a positive integer size")
    unknown = set(spec) - {"size", "style", "byte_tokens", "scores", "merges", "tokens"}
    if unknown:
        raise _fail(path, f"vocab: unknown field(s) {sorted(unknown)}")
    if spec.get("style", "spm") not in ("spm", "bpe"):
        raise _fail(path, "vocab.style must be spm or bpe")
    tokens = spec.get("tokens") or {}
    if not isinstance(tokens, dict):
        raise _fail(path, "vocab.tokens must map ids to [text, token type]")
    seen: set[str] = set()
    for tid, entry in tokens.items():
        if not isinstance(tid, int) or not 0 <= tid < spec["size"]:
            raise _fail(path, f"vocab.tokens: id {tid!r} is outside 0..{spec['size'] - 1}")
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise _fail(path, f"vocab.tokens[{tid}]: expected [text, token type]")
        if entry[1] not in _TOKEN_TYPES:
            raise _fail(path, f"vocab.tokens[{tid}]: unknown token type {entry[1]!r}")
        if entry[0] in seen:
            raise _fail(path, f"vocab.tokens: {entry[0]!r} is listed twice")
        seen.add(entry[0])
    return dict(spec)


def load_header(path: Path) -> Header:
    """Read and validate one header description."""
    doc = _load_yaml(path)
    if not isinstance(doc, dict):
        raise _fail(path, "top level must be a mapping")
    unknown = set(doc) - {"id", "role", "file_name", "sources", "provenance", "kv", "vocab", "tensors"}
    if unknown:
        raise _fail(path, f"unknown field(s) {sorted(unknown)}")
    hid = doc.get("id")
    if not isinstance(hid, str) or not _ID.match(hid) or hid != path.stem:
        raise _fail(path, f"id {hid!r} must be lower-case and equal the file name ({path.stem})")
    if doc.get("role") not in ROLES:
        raise _fail(path, f"role must be one of {ROLES}")
    sources = doc.get("sources")
    if not isinstance(sources, list) or not sources:
        raise _fail(path, "sources: at least one source is required")
    for s in sources:
        if not isinstance(s, dict) or not str(s.get("url", "")).strip() or not str(s.get("shows", "")).strip():
            raise _fail(path, "each source needs a url and what it shows")
    if not str(doc.get("provenance", "")).strip():
        raise _fail(path, "provenance: say what was copied and what was reconstructed")
    kv_spec = doc.get("kv")
    if not isinstance(kv_spec, dict) or "general.architecture" not in kv_spec:
        raise _fail(path, "kv must be a mapping that includes general.architecture")
    kv = {str(k): _value(path, str(k), v) for k, v in kv_spec.items()}
    for key in _VOCAB_KEYS:
        if key in kv:
            raise _fail(path, f"kv {key!r}: describe the token list under vocab, not as a key")
    vocab = _vocab(path, doc["vocab"]) if doc.get("vocab") is not None else None
    if doc["role"] == "text-model" and vocab is None:
        raise _fail(path, "a text model needs a vocab description")
    tensors = tuple(_tensors(path, doc.get("tensors") or {}))
    names = [t[0] for t in tensors]
    if len(names) != len(set(names)):
        raise _fail(path, "duplicate tensor names")
    return Header(
        id=hid,
        role=doc["role"],
        file_name=doc.get("file_name"),
        sources=tuple(sources),
        kv=kv,
        vocab=vocab,
        tensors=tensors,
        path=path,
    )


@cache
def headers() -> dict[str, Header]:
    """Every header description, by id."""
    return {p.stem: load_header(p) for p in sorted(HEADERS.glob("*.yaml"))}


def load_pairs(path: Path) -> list[Pair]:
    """Read and validate one pairs file (header ids are checked against :func:`headers`)."""
    doc = _load_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("pairs"), list):
        raise _fail(path, "top level must be a mapping with a 'pairs' list")
    known = headers()
    out = []
    for entry in doc["pairs"]:
        if not isinstance(entry, dict):
            raise _fail(path, "each pair must be a mapping")
        pid = entry.get("id")
        unknown = set(entry) - {
            "id", "model", "mmproj", "expected", "why", "sources", "runtime_says", "expect_rules", "folder"
        }  # fmt: skip
        if unknown:
            raise _fail(path, f"pair {pid!r}: unknown field(s) {sorted(unknown)}")
        if not isinstance(pid, str) or not _ID.match(pid):
            raise _fail(path, f"pair id {pid!r} is not a valid id")
        for slot, role in (("model", "text-model"), ("mmproj", "projector")):
            hid = entry.get(slot)
            if hid not in known:
                raise _fail(path, f"pair {pid!r}: {slot} {hid!r} is not a header in tests/corpus/headers")
            if known[hid].role != role:
                raise _fail(path, f"pair {pid!r}: {slot} {hid!r} is a {known[hid].role}, not a {role}")
        if entry.get("expected") not in VERDICTS:
            raise _fail(path, f"pair {pid!r}: expected must be one of {VERDICTS}")
        if not str(entry.get("why", "")).strip():
            raise _fail(path, f"pair {pid!r}: why is required")
        sources = entry.get("sources") or []
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources):
            raise _fail(path, f"pair {pid!r}: sources must be a non-empty list of URLs")
        folder = entry.get("folder")
        if folder is not None and (not isinstance(folder, str) or not re.match(r"^[\w.-]+(/[\w.-]+)*$", folder)):
            raise _fail(path, f"pair {pid!r}: folder must be a relative path such as org/repo")
        rules = entry.get("expect_rules") or []
        if not isinstance(rules, list) or not all(isinstance(r, str) and re.match(r"^MM\d{3}$", r) for r in rules):
            raise _fail(path, f"pair {pid!r}: expect_rules must be a list of rule codes")
        out.append(
            Pair(
                id=pid,
                model=entry["model"],
                mmproj=entry["mmproj"],
                expected=entry["expected"],
                why=" ".join(str(entry["why"]).split()),
                sources=tuple(sources),
                runtime_says=entry.get("runtime_says"),
                expect_rules=tuple(rules),
                group=path.stem,
                folder=folder,
            )
        )
    return out


@cache
def pairs() -> tuple[Pair, ...]:
    """Every pair of every ``pairs/*.yaml``; pair ids are unique across files."""
    out: list[Pair] = []
    for path in sorted(PAIRS.glob("*.yaml")):
        out += load_pairs(path)
    ids = [p.id for p in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CorpusError(f"tests/corpus/pairs: duplicate pair ids {dupes}")
    return tuple(out)


def _byte_level_alphabet() -> list[str]:
    """GPT-2's byte-level BPE alphabet: the 256 single characters every byte maps to."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), ord("\xff") + 1)]
    chars, extra = [], 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def _filler(i: int, style: str) -> str:
    return f"\u2581w{i}" if style == "spm" else f"\u0120w{i}"


def token_list(vocab: dict[str, Any]) -> tuple[list[str], list[int]]:
    """The synthesized token list and token types: listed tokens at their ids, byte tokens, filler."""
    size = vocab["size"]
    style = vocab.get("style", "spm")
    tokens: list[str | None] = [None] * size
    types = [1] * size
    for tid, (text, ttype) in (vocab.get("tokens") or {}).items():
        tokens[tid] = text
        types[tid] = _TOKEN_TYPES[ttype]
    taken = {t for t in tokens if t is not None}
    if vocab.get("byte_tokens", True):
        free = (i for i in range(size) if tokens[i] is None)
        pieces = [f"<0x{b:02X}>" for b in range(256)] if style == "spm" else _byte_level_alphabet()
        for piece in pieces:
            if piece in taken:
                continue
            i = next(free, None)
            if i is None:
                break
            tokens[i], types[i] = piece, (6 if style == "spm" else 1)
    out = [t if t is not None else _filler(i, style) for i, t in enumerate(tokens)]
    return out, types


def build(header: Header, directory: Path) -> Path:
    """Write ``header`` as a header-only GGUF into ``directory``; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    # without a published name, a neutral one: the header id must not act as a file name
    path = directory / (header.file_name or ("model.gguf" if header.role == "text-model" else "mmproj.gguf"))
    writer = GGUFWriter(path, header.architecture)
    for key, (vtype, value) in header.kv.items():
        if key == "general.architecture":
            continue  # GGUFWriter writes it first, as the converters do
        if vtype.startswith("arr["):
            writer.add_key_value(key, value, GGUFValueType.ARRAY, sub_type=_SCALARS[vtype[4:-1]])
        else:
            writer.add_key_value(key, value, _SCALARS[vtype])
    if header.vocab is not None:
        tokens, types = token_list(header.vocab)
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        if header.vocab.get("scores"):
            writer.add_token_scores([-float(i) for i in range(len(tokens))])
        n_merges = int(header.vocab.get("merges") or 0)
        if n_merges:
            writer.add_token_merges([f"\u0120 w{i}" for i in range(n_merges)])
    for name, ttype, ne in header.tensors:
        qtype = _GGML_TYPES[ttype]
        block, type_size = GGML_QUANT_SIZES[qtype]
        n = int(np.prod(ne, dtype=np.int64)) if ne else 1
        writer.add_tensor_info(name, tuple(reversed(ne)), np.dtype(np.float32), n // block * type_size, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return path


def build_pair(pair: Pair, directory: Path) -> tuple[Path, Path]:
    """Write both files of ``pair``: together in ``pair.folder`` when the release ships them so, else
    in two neutral folders (files mixed from different places)."""
    known = headers()
    if pair.folder:
        where = directory / pair.folder
        return build(known[pair.model], where), build(known[pair.mmproj], where)
    return build(known[pair.model], directory / "a"), build(known[pair.mmproj], directory / "b")


def main(argv: list[str] | None = None) -> int:
    """Validate the corpus (``--check``) or build named headers."""
    ap = argparse.ArgumentParser(prog="python -m tests.corpus.builder", description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*", help="header ids to build")
    ap.add_argument("-o", "--out", type=Path, default=Path("."), help="output directory")
    ap.add_argument("--check", action="store_true", help="validate every header and pair and build each header")
    args = ap.parse_args(argv)
    try:
        known = headers()
        all_pairs = pairs()
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                for h in known.values():
                    build(h, Path(tmp) / h.id)
            used = {p.model for p in all_pairs} | {p.mmproj for p in all_pairs}
            unused = sorted(set(known) - used)
            print(f"{len(known)} headers, {len(all_pairs)} pairs: ok")
            if unused:
                print(f"headers in no pair: {', '.join(unused)}")
            return 0
        for hid in args.ids:
            if hid not in known:
                print(f"unknown header id {hid!r}", file=sys.stderr)
                return 2
            print(build(known[hid], args.out))
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
