"""Facts about a projector (``general.architecture = clip``), extracted from its header only.

The projector type is resolved the way llama.cpp's ``clip_model_loader`` does it, and the output
width is computed from the tensor the compatibility database names for the type (mirroring
``clip_n_mmproj_embd``): never from ``projection_dim``, which is reported but not trusted.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import re
from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from mmcheck.db.model import MODALITIES
from mmcheck.header import GGUFHeader

if TYPE_CHECKING:  # the database is only passed in; importing it here would cost every inspect
    from mmcheck.db import CompatDB, ProjectorType

#: key prefix of each modality (``clip.vision.*``, ``clip.audio.*``, ``clip.gen.audio.*``)
KEY_PREFIX = {"vision": "clip.vision", "audio": "clip.audio", "gen_audio": "clip.gen.audio"}
_DEEPSTACK_RE = re.compile(r"^v\.deepstack\.(\d+)\.fc1\.weight$")

# MiniCPM-V resampler: query tokens by clip.minicpmv_version when minicpmv_query_num is absent
# (tools/mtmd/clip.cpp@0c1e570).
_MINICPMV_QUERY_DEFAULT = {0: 96, 1: 96, 2: 96}


class Width(NamedTuple):
    """An output width as llama.cpp computes it, or why it cannot be computed."""

    value: int | None
    source: str  # e.g. "mm.2.weight ne[1]"
    problem: str | None = None  # why value is None
    crash: bool = False  # llama.cpp dereferences the missing tensor: the process dies


class TokenEstimate(NamedTuple):
    """Tokens one image (or tile / clip) becomes: typical at the native size, and the clamp range."""

    typical: int | None
    minimum: int | None
    maximum: int | None
    per: str
    note: str

    @property
    def worst_case(self) -> int | None:
        """The most tokens one unit can take (the max bound when the type clamps, else typical)."""
        return self.maximum if self.maximum is not None else self.typical


class EncoderFacts(NamedTuple):
    """The vision encoder's hyperparameters (``clip.vision.*``)."""

    image_size: int | None
    patch_size: int | None
    width: int | None
    n_layer: int | None
    n_head: int | None
    n_ff: int | None
    projection_dim: int | None
    merge: int | None
    grid_pinpoints: tuple[int, ...] | None
    min_pixels: int | None
    max_pixels: int | None
    feature_layers: tuple[int, ...] | None
    minicpmv_version: int | None
    query_num: int | None


class AudioEncoderFacts(NamedTuple):
    """The audio encoder's hyperparameters (``clip.audio.*``)."""

    width: int | None
    n_layer: int | None
    n_head: int | None
    n_mel_bins: int | None
    stack_factor: int | None
    projection_dim: int | None


class TowerFacts(NamedTuple):
    """One modality's projector: its type, width, tokens and what llama.cpp needs for it."""

    modality: str
    type_id: str | None  # resolved type (after mlp -> mlp_norm and qwen2.5o remaps)
    declared_type: str | None  # the string in the file
    type_key: str | None  # which key it came from
    known: bool  # whether the type is in the database (i.e. llama.cpp knows it)
    width: Width
    tokens: TokenEstimate | None
    markers: tuple[tuple[str, str], ...]  # (text, kind T/L/E)
    baked_embeddings: tuple[str, ...]  # baked embedding tensors present in the file
    missing_keys: tuple[str, ...]
    missing_tensors: tuple[str, ...]
    text_architectures: tuple[str, ...]
    rope: str | None
    spec: "ProjectorType | None" = None
    merge: int | None = None  # patch merge side m (m x m patches per token), for types that merge


class ProjectorFacts(NamedTuple):
    """What mmcheck knows about a projector file."""

    has_vision: bool
    has_audio: bool
    has_gen_audio: bool
    towers: dict[str, TowerFacts]
    legacy_untyped: bool  # no projector type key at all (2023-24 LLaVA-era file)
    inferred_type: str | None  # what the tensors suggest for an untyped file
    legacy_flags: dict[str, bool]
    encoder: EncoderFacts | None
    audio_encoder: AudioEncoderFacts | None
    name: str | None
    basename: str | None
    description: str | None
    tensor_types: dict[str, int]  # ggml type name -> count, over all tensors
    projector_tensor_types: dict[str, int]  # over the projection tensors (not the encoder)
    n_tensors: int

    @property
    def primary(self) -> TowerFacts | None:
        """The tower whose width llama.cpp compares with the text model: vision, else audio."""
        return self.towers.get("vision") or self.towers.get("audio") or self.towers.get("gen_audio")

    @property
    def output_width(self) -> int | None:
        """The width llama.cpp compares with the text model's ``n_embd_inp``."""
        p = self.primary
        return p.width.value if p is not None else None

    @property
    def type_ids(self) -> tuple[str, ...]:
        """The resolved type of every tower, vision first."""
        return tuple(t.type_id for t in self.towers.values() if t.type_id)


def _int_tuple(header: GGUFHeader, key: str) -> tuple[int, ...] | None:
    arr = header.get_array(key)
    if arr is None or arr.element_type.name in ("STRING", "ARRAY"):
        return None
    return tuple(int(x) for x in arr.tolist())


def _declared_type(header: GGUFHeader, modality: str) -> tuple[str | None, str | None]:
    for key in ("clip.projector_type", f"{KEY_PREFIX[modality]}.projector_type"):
        value = header.get_str(key)
        if value is not None:
            return value, key
    return None, None


def _infer_legacy_type(header: GGUFHeader) -> str | None:
    names = header.tensors
    if "mm.0.weight" in names and ("mm.2.weight" in names or "mm.3.weight" in names):
        return "mlp_norm" if "mm.3.weight" in names else "mlp"
    if any(n.startswith("mm.model.peg.") for n in names):
        return "ldpv2"
    if any(n.startswith("mm.model.mb_block.") for n in names):
        return "ldp"
    if any(n.startswith("resampler.") for n in names):
        return "resampler"
    return None


def compute_width(header: GGUFHeader, spec: "ProjectorType") -> Width:
    """The output width of a tower of type ``spec``, exactly as ``clip_n_mmproj_embd`` reads it."""
    rule = spec.width
    if rule.kind == "none":
        return Width(None, "none", "llama.cpp has no output width for this type (GGML_ABORT)", crash=True)
    if rule.kind == "feature_layers_times_projection_dim":
        layers = _int_tuple(header, "clip.vision.feature_layer")
        pdim = header.get_int("clip.vision.projection_dim")
        if layers is None or pdim is None:
            return Width(
                None, "len(feature_layer) x projection_dim", "clip.vision.feature_layer or projection_dim missing"
            )
        return Width(len(layers) * pdim, "len(clip.vision.feature_layer) x clip.vision.projection_dim")
    assert rule.tensor is not None and rule.dim is not None
    source = f"{rule.tensor} ne[{rule.dim}]"
    info = header.tensors.get(rule.tensor)
    if info is None:
        if rule.fallback_key and header.get_int(rule.fallback_key) is not None:
            problem = f"{rule.tensor} is missing (older builds read {rule.fallback_key})"
        else:
            problem = f"{rule.tensor} is missing"
        return Width(None, source, problem, crash=rule.optional)
    if rule.dim >= len(info.shape):
        return Width(None, source, f"{rule.tensor} has only {len(info.shape)} dimensions", crash=True)
    value = info.shape[rule.dim]
    if rule.kind == "tensor_times_deepstack":
        n = sum(1 for name in header.tensors if _DEEPSTACK_RE.match(name))
        if n:
            return Width(value * (1 + n), f"{source} x (1 + {n} deepstack layers)")
    return Width(value, source)


def _merge(header: GGUFHeader, spec: "ProjectorType") -> int | None:
    if spec.merge is None:
        return None
    for key in spec.merge.keys:
        v = header.get_int(key)
        if v is not None:
            return v
    return spec.merge.default


def _tokens(spec: "ProjectorType", enc: EncoderFacts | None, merge: int | None) -> TokenEstimate:
    rule = spec.tokens
    variables: dict[str, int] = {}
    if enc is not None:
        for name, value in (
            ("image_size", enc.image_size),
            ("patch_size", enc.patch_size),
            ("query_num", enc.query_num),
        ):
            if value is not None:
                variables[name] = value
    if merge is not None:
        variables["merge"] = merge
    typical = rule.tokens_for(variables)
    if typical is not None and rule.max is not None:
        typical = min(typical, rule.max)
    if typical is not None and rule.min is not None:
        typical = max(typical, rule.min)
    return TokenEstimate(typical, rule.min, rule.max, rule.per, rule.note)


def _encoder(header: GGUFHeader) -> EncoderFacts:
    p = "clip.vision."
    version = header.get_int("clip.minicpmv_version")
    query = header.get_int("clip.minicpmv_query_num")
    if query is None and "resampler.query" in header.tensors:
        query = _MINICPMV_QUERY_DEFAULT.get(version or 0, 64)
    return EncoderFacts(
        image_size=header.get_int(p + "image_size"),
        patch_size=header.get_int(p + "patch_size"),
        width=header.get_int(p + "embedding_length"),
        n_layer=header.get_int(p + "block_count"),
        n_head=header.get_int(p + "attention.head_count"),
        n_ff=header.get_int(p + "feed_forward_length"),
        projection_dim=header.get_int(p + "projection_dim"),
        merge=header.get_int(p + "projector.scale_factor") or header.get_int(p + "spatial_merge_size"),
        grid_pinpoints=_int_tuple(header, p + "image_grid_pinpoints"),
        min_pixels=header.get_int(p + "image_min_pixels"),
        max_pixels=header.get_int(p + "image_max_pixels"),
        feature_layers=_int_tuple(header, p + "feature_layer"),
        minicpmv_version=version,
        query_num=query,
    )


def _audio_encoder(header: GGUFHeader) -> AudioEncoderFacts:
    p = "clip.audio."
    return AudioEncoderFacts(
        width=header.get_int(p + "embedding_length"),
        n_layer=header.get_int(p + "block_count"),
        n_head=header.get_int(p + "attention.head_count"),
        n_mel_bins=header.get_int(p + "num_mel_bins"),
        stack_factor=header.get_int(p + "projector.stack_factor"),
        projection_dim=header.get_int(p + "projection_dim"),
    )


def _is_projection_tensor(name: str) -> bool:
    return name.startswith(("mm.", "resampler.", "adapter.")) or ".deepstack." in name


def projector_facts(header: GGUFHeader, db: "CompatDB") -> ProjectorFacts:
    """Extract ``ProjectorFacts`` from a projector header, using the database's type table."""
    has_vision = bool(header.get_bool("clip.has_vision_encoder"))
    has_audio = bool(header.get_bool("clip.has_audio_encoder"))
    has_gen_audio = bool(header.get_bool("clip.has_gen_audio_encoder"))
    legacy_flags = {
        k.removeprefix("clip."): bool(header.get_bool(k))
        for k in header.metadata
        if k.startswith("clip.has_") and header.get_bool(k) is not None
    }
    encoder = _encoder(header) if has_vision else None
    audio_encoder = _audio_encoder(header) if has_audio else None
    declared_any = any(_declared_type(header, m)[0] is not None for m in MODALITIES)
    inferred = None if declared_any else _infer_legacy_type(header)

    towers: dict[str, TowerFacts] = {}
    for modality in MODALITIES:
        present = {"vision": has_vision, "audio": has_audio, "gen_audio": has_gen_audio}[modality]
        if not present:
            continue
        declared, key = _declared_type(header, modality)
        type_id = declared
        spec = db.projector_type(declared) if declared is not None else None
        if declared is None and inferred is not None and modality == "vision":
            # a legacy file without a type key (MM402): its shapes are still those of the type its
            # tensors show, so width, structure and family checks run on that type
            type_id, spec = inferred, db.projector_type(inferred)
        if spec is not None and spec.remap.get(modality):
            type_id = spec.remap[modality]
            spec = db.projector_type(type_id)
        if type_id == "mlp" and "mm.3.weight" in header.tensors:
            type_id = "mlp_norm"  # llama.cpp's "Yi-type llava" rule
            spec = db.projector_type(type_id)
        towers[modality] = _tower(header, modality, declared, key, type_id, spec, encoder)

    tensor_types = Counter(t.type_name for t in header.tensors.values())
    proj_types = Counter(t.type_name for t in header.tensors.values() if _is_projection_tensor(t.name))
    return ProjectorFacts(
        has_vision=has_vision,
        has_audio=has_audio,
        has_gen_audio=has_gen_audio,
        towers=towers,
        legacy_untyped=not declared_any,
        inferred_type=inferred,
        legacy_flags=legacy_flags,
        encoder=encoder,
        audio_encoder=audio_encoder,
        name=header.get_str("general.name"),
        basename=header.get_str("general.basename"),
        description=header.get_str("general.description"),
        tensor_types=dict(tensor_types),
        projector_tensor_types=dict(proj_types),
        n_tensors=len(header.tensors),
    )


def _tower(
    header: GGUFHeader,
    modality: str,
    declared: str | None,
    key: str | None,
    type_id: str | None,
    spec: "ProjectorType | None",
    encoder: EncoderFacts | None,
) -> TowerFacts:
    if spec is None:
        return TowerFacts(
            modality=modality,
            type_id=type_id,
            declared_type=declared,
            type_key=key,
            known=False,
            width=Width(None, "unknown type", "llama.cpp does not know this projector type"),
            tokens=None,
            markers=(),
            baked_embeddings=(),
            missing_keys=(),
            missing_tensors=(),
            text_architectures=(),
            rope=None,
        )
    merge = _merge(header, spec)
    return TowerFacts(
        modality=modality,
        type_id=type_id,
        declared_type=declared,
        type_key=key,
        known=True,
        width=compute_width(header, spec),
        tokens=_tokens(spec, encoder, merge) if modality == "vision" else None,
        markers=tuple((m.text, m.kind) for m in spec.markers),
        baked_embeddings=tuple(n for n in spec.baked_embeddings if n in header.tensors),
        missing_keys=tuple(k for k in spec.required_keys if k not in header.metadata),
        missing_tensors=tuple(t for t in spec.required_tensors if t not in header.tensors),
        text_architectures=tuple(spec.text_architectures),
        rope=spec.rope,
        spec=spec,
        merge=merge,
    )
