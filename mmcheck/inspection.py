"""``inspect``: read a GGUF header and say what the file is, with its key facts."""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from mmcheck.facts.classify import FileKind, classify
from mmcheck.facts.text import TextFacts, text_facts
from mmcheck.header import FilePath, GGUFHeader, RemotePath, read_header

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.facts.projector import ProjectorFacts


class FileInfo(NamedTuple):
    """A header with its classification and facts."""

    path: FilePath
    header: GGUFHeader
    kind: FileKind
    text: TextFacts | None
    projector: "ProjectorFacts | None"

    @property
    def modality_label(self) -> str:
        """``text model``, ``projector (vision)``, ``projector (vision+audio)``, ``lora-adapter``..."""
        if self.kind == FileKind.PROJECTOR and self.projector is not None:
            p = self.projector
            mods = [
                m for m, on in (("vision", p.has_vision), ("audio", p.has_audio), ("gen-audio", p.has_gen_audio)) if on
            ]
            return f"projector ({'+'.join(mods) or 'no encoder'})"
        if self.kind == FileKind.TEXT_MODEL:
            return "text model (vocab only)" if not self.header.tensors else "text model"
        return str(self.kind.value)


def analyze(header: GGUFHeader, db: "CompatDB | Callable[[], CompatDB]") -> FileInfo:
    """Classify a header and extract the facts that fit its kind (``db`` may be a loader)."""
    kind = classify(header)
    text = text_facts(header) if kind == FileKind.TEXT_MODEL else None
    proj = None
    if kind == FileKind.PROJECTOR:
        from mmcheck.facts.projector import projector_facts

        proj = projector_facts(header, db() if callable(db) else db)
    return FileInfo(header.path, header, kind, text, proj)


def inspect_file(path: str | os.PathLike[str] | RemotePath, db: "CompatDB | Callable[[], CompatDB]") -> FileInfo:
    """Read ``path``'s header and analyze it. Raises ``GGUFError`` for unreadable files."""
    return analyze(read_header(path), db)


def quantization_summary(header: GGUFHeader) -> dict[str, int]:
    """ggml type name -> number of tensors, most common first."""
    counts: dict[str, int] = {}
    for t in header.tensors.values():
        counts[t.type_name] = counts.get(t.type_name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def info_to_dict(info: FileInfo) -> dict[str, Any]:
    """The JSON form of ``inspect`` for one file (stable keys; see docs/json.md)."""
    h = info.header
    out: dict[str, Any] = {
        "path": str(info.path),
        "kind": info.kind.value,
        "description": info.modality_label,
        "architecture": h.architecture,
        "gguf_version": h.version,
        "byte_order": h.byte_order,
        "n_tensors": len(h.tensors),
        "n_kv": len(h.metadata),
        "file_size": h.file_size,
        "header_size": h.header_size,
        "data_offset": h.data_offset,
        "data_status": h.data_status.value,
        "data_status_detail": h.describe_data_status(),
        "quantization": quantization_summary(h),
        "split": None if h.split is None else {"index": h.split.shard, "count": h.split.shards},
        "warnings": list(h.warnings),
    }
    transfer = getattr(h.source, "transfer", None)
    if transfer is not None:
        out["remote"] = transfer.to_dict()  # requests made and bytes fetched for this file
    if info.text is not None:
        out["text"] = text_to_dict(info.text)
    if info.projector is not None:
        out["projector"] = projector_to_dict(info.projector)
    return out


def text_to_dict(t: TextFacts) -> dict[str, Any]:
    """JSON form of ``TextFacts``."""
    return {
        "architecture": t.architecture,
        "n_embd": t.n_embd,
        "n_embd_inp": t.n_embd_inp,
        "deepstack_layers": t.deepstack_layers,
        "context_length": t.context_length,
        "n_layer": t.n_layer,
        "n_head": _jsonable(t.n_head),
        "n_head_kv": _jsonable(t.n_head_kv),
        "n_ff": _jsonable(t.n_ff),
        "vocab_size": t.vocab_size,
        "token_embd_rows": t.embd_rows,
        "tokenizer_model": t.tokenizer_model,
        "tokenizer_pre": t.tokenizer_pre,
        "tokenizer_fingerprint": t.vocab.fingerprint() if t.vocab is not None else None,
        "rope_type": t.rope_type,
        "rope_sections": list(t.rope_sections) if t.rope_sections else None,
        "rope_freq_base": t.rope_freq_base,
        "name": t.name,
        "basename": t.basename,
        "size_label": t.size_label,
        "finetune": t.finetune,
        "base_models": [bm._asdict() for bm in t.base_models],
    }


def projector_to_dict(p: "ProjectorFacts") -> dict[str, Any]:
    """JSON form of ``ProjectorFacts``."""
    towers = {}
    for m, t in p.towers.items():
        towers[m] = {
            "type": t.type_id,
            "declared_type": t.declared_type,
            "type_key": t.type_key,
            "known": t.known,
            "output_width": t.width.value,
            "width_source": t.width.source,
            "width_problem": t.width.problem,
            "tokens": None
            if t.tokens is None
            else {"typical": t.tokens.typical, "min": t.tokens.minimum, "max": t.tokens.maximum, "per": t.tokens.per},
            "markers": [{"text": text, "kind": kind} for text, kind in t.markers],
            "baked_embeddings": list(t.baked_embeddings),
            "missing_keys": list(t.missing_keys),
            "missing_tensors": list(t.missing_tensors),
            "text_architectures": list(t.text_architectures),
        }
    enc = p.encoder
    aenc = p.audio_encoder
    return {
        "has_vision": p.has_vision,
        "has_audio": p.has_audio,
        "has_gen_audio": p.has_gen_audio,
        "output_width": p.output_width,
        "towers": towers,
        "legacy_untyped": p.legacy_untyped,
        "inferred_type": p.inferred_type,
        "legacy_flags": p.legacy_flags,
        "name": p.name,
        "vision_encoder": None if enc is None else {k: _jsonable(v) for k, v in enc._asdict().items()},
        "audio_encoder": None if aenc is None else aenc._asdict(),
        "tensor_types": p.tensor_types,
        "projector_tensor_types": p.projector_tensor_types,
    }


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v
