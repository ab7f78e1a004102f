"""The typed, immutable view of the compatibility database (``compat_db/``).

Every class mirrors one entry kind of ``docs/compat-db.md``. Values nobody has confirmed are
``None`` (never zero). Sequences are tuples so that every object is hashable and immutable.
The loader (:mod:`mmcheck.db.loader`) is the only place that builds these from YAML.

The entries are ``NamedTuple``s, not frozen dataclasses: Python creates a dataclass by compiling
six generated methods, ~1 ms a class at every start-up, and every command loads these
(docs/benchmarks.md). :func:`as_plain` turns an entry into JSON-ready dicts and lists.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles every string annotation into
# a ForwardRef when the class is created (90 here, ~2 ms of every start-up); forward references
# are quoted instead.
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, get_args

__all__ = [
    "MODALITIES",
    "CompatDB",
    "Confidence",
    "Encoder",
    "Family",
    "FamilyVariant",
    "Lineage",
    "Marker",
    "MarkerKind",
    "MergeRule",
    "Modality",
    "NonCausal",
    "ProjectorType",
    "Runtime",
    "RuntimeVersion",
    "TokenRule",
    "Versioning",
    "WidthKind",
    "WidthRule",
    "as_plain",
]

Modality = Literal["vision", "audio", "gen_audio"]
#: The towers a projector file can hold, in the order llama.cpp loads them.
MODALITIES: tuple[Modality, ...] = get_args(Modality)
WidthKind = Literal["tensor", "tensor_times_deepstack", "feature_layers_times_projection_dim", "none"]
TokensPer = Literal["image", "tile", "clip"]
MarkerKind = Literal["T", "L", "E"]
Confidence = Literal["confirmed", "reported", "inferred"]
FinetunesWork = Literal["yes", "no", "unknown"]
NonCausal = bool | Literal["conditional"]


class WidthRule(NamedTuple):
    """How llama.cpp's ``clip_n_mmproj_embd()`` computes a projector's output width.

    ``kind``: ``tensor`` (``tensor``'s ``ne[dim]``), ``tensor_times_deepstack`` (that times
    ``1 + number of deepstack layers``), ``feature_layers_times_projection_dim`` (metadata only)
    or ``none`` (no width case: llama.cpp aborts). ``optional`` means llama.cpp loads the tensor
    as optional and dereferences it unchecked (missing => crash). ``fallback_key`` is the
    metadata key older builds used instead of the tensor.
    """

    kind: WidthKind
    tensor: str | None = None
    dim: int | None = None
    optional: bool = False
    fallback_key: str | None = None


class TokenRule(NamedTuple):
    """Tokens one image, tile or audio clip becomes (``per``).

    ``expr`` is integer arithmetic over ``image_size``, ``patch_size``, ``merge`` and
    ``query_num`` (see :mod:`mmcheck.db.expr`), or ``None`` when there is no closed formula;
    ``note`` then carries the rule in words. ``min``/``max`` are the type's clamp, when it has one.
    """

    expr: str | None = None
    min: int | None = None
    max: int | None = None
    per: TokensPer = "image"
    note: str = ""

    def tokens_for(self, variables: dict[str, int]) -> int | None:
        """Evaluate ``expr`` with ``variables``.

        Returns ``None`` when there is no expression, a variable it needs is missing, or it
        divides by zero. The result is not clamped to ``min``/``max``.
        """
        if self.expr is None:
            return None
        from mmcheck.db import expr as _expr  # lazy: keeps ``ast`` off the cache-hit path

        try:
            return _expr.evaluate(self.expr, variables)
        except (_expr.UnknownVariableError, ZeroDivisionError):
            return None


class MergeRule(NamedTuple):
    """Where the merge factor ``m`` comes from: the first present key in ``keys``, else
    ``default`` (``None``: llama.cpp requires the key or the default is unknown)."""

    keys: tuple[str, ...] = ()
    default: int | None = None


class Marker(NamedTuple):
    """A string the runtime looks up in the text vocabulary.

    ``kind``: ``T`` special token (parse_special), ``L`` rendered-piece lookup, ``E`` an
    embedding baked into the mmproj (``text`` is then a tensor name).
    """

    text: str
    kind: MarkerKind


class ProjectorType(NamedTuple):
    """One ``clip.projector_type`` string llama.cpp knows, and what it implies."""

    id: str
    modality: Modality
    width: WidthRule
    tokens: TokenRule
    merge: MergeRule | None = None
    text_architectures: tuple[str, ...] = ()
    rope: Literal["mrope", "imrope"] | None = None
    markers: tuple[Marker, ...] = ()
    baked_embeddings: tuple[str, ...] = ()
    required_keys: tuple[str, ...] = ()
    required_tensors: tuple[str, ...] = ()
    hazards: tuple[str, ...] = ()
    non_causal: NonCausal = False
    remap: Mapping[str, str] = MappingProxyType({})
    notes: str = ""
    source: str = ""
    confidence: Confidence = "confirmed"


class Lineage(NamedTuple):
    """A base text model that fine-tunes descend from, with its shape fingerprint.

    ``vocab_size`` is the checkpoint's ``config.json`` value; ``vocab_sizes`` the token-list
    lengths real conversions have (trimmed to the tokenizer, padded to the config, extended by
    added tokens). ``tokenizer_pre`` lists every pre-tokenizer label a conversion path writes.
    ``derived_from`` is the lineage this one is a fine-tune of (Vicuna of Llama 2), if any.
    """

    id: str
    name: str
    architecture: str
    n_embd: int | None = None
    n_layer: int | None = None
    n_head: int | None = None
    n_head_kv: int | None = None
    n_ff: int | None = None
    vocab_size: int | None = None
    vocab_sizes: tuple[int, ...] = ()
    rope_freq_base: float | None = None
    tokenizer_model: str | None = None
    tokenizer_pre: tuple[str, ...] = ()
    tokenizer_fingerprints: tuple[str, ...] = ()
    name_patterns: tuple[str, ...] = ()
    derived_from: str | None = None
    source: str = ""
    confidence: Confidence = "confirmed"
    notes: str = ""


class FamilyVariant(NamedTuple):
    """One size of a family: the lineage it was trained with and what its projector implies.

    ``text_name_patterns`` recognise the names of this VLM's *own* files (its text model, and
    projectors that carry the model's name), never the bare base-LLM name: that is the lineage's
    ``name_patterns``. ``encoder`` overrides the family's encoder signature for this size.
    """

    id: str
    size_label: str | None = None
    lineage: str | None = None
    output_width: int | None = None
    tokens_per_image: int | None = None
    context_length: int | None = None
    text_name_patterns: tuple[str, ...] = ()
    encoder: "Encoder | None" = None


class Encoder(NamedTuple):
    """The vision (or audio) encoder signature of a family; every field may be unknown."""

    name: str | None = None
    embedding_length: int | None = None
    block_count: int | None = None
    image_size: int | None = None
    patch_size: int | None = None
    head_count: int | None = None


class Family(NamedTuple):
    """One projector recipe and the text models it was trained with."""

    id: str
    name: str
    projector_types: tuple[str, ...]
    encoder: Encoder | None = None
    variants: tuple[FamilyVariant, ...] = ()
    finetunes_work: FinetunesWork = "unknown"
    finetunes_note: str = ""
    notes: str = ""
    source: str = ""
    confidence: Confidence = "confirmed"


Versioning = Literal["build", "dotted"]


class RuntimeVersion(NamedTuple):
    """A runtime version (or a dated change without a version) and what it loads.

    Without ``snapshot``, ``adds`` lists the projector types this version is the first to load.
    With ``snapshot``, the full set of type strings this version loads is known (read from its
    vendored llama.cpp): the previous snapshot's set plus ``adds`` minus ``drops``.
    ``llama_cpp_build`` (``"b6646"``) and ``llama_cpp_commit`` name the llama.cpp it bundles, when known.
    """

    version: str | None
    date: str | None = None
    adds: tuple[str, ...] = ()
    drops: tuple[str, ...] = ()
    snapshot: bool = False
    llama_cpp_build: str | None = None
    llama_cpp_commit: str | None = None
    source: str = ""
    notes: str = ""


class Runtime(NamedTuple):
    """A program that loads mmproj files (llama.cpp and the runtimes built on it)."""

    id: str
    name: str
    versioning: Versioning = "dotted"  # build: llama.cpp's bNNNN; dotted: 1.98, 0.12.3, 0.3.16
    versions: tuple[RuntimeVersion, ...] = ()
    source: str = ""
    confidence: Confidence = "confirmed"
    notes: str = ""


class CompatDB(NamedTuple):
    """The whole database. ``revision`` is the llama.cpp commit the projector table was
    derived from (``llama_cpp_revision`` in ``projector_types.yaml``)."""

    root: Path
    projector_types: dict[str, ProjectorType]
    lineages: dict[str, Lineage]
    families: dict[str, Family]
    runtimes: dict[str, Runtime]
    revision: str

    def projector_type(self, id: str) -> ProjectorType | None:
        """The projector type with this ``clip.projector_type`` string, or ``None``."""
        return self.projector_types.get(id)

    def families_for_type(self, type_id: str) -> list[Family]:
        """Families whose projector uses ``type_id``, in database order."""
        return [f for f in self.families.values() if type_id in f.projector_types]

    def lineages_with_fingerprint(self, fingerprint: str) -> list[str]:
        """Ids of every lineage that records this tokenizer fingerprint (several share one vocabulary)."""
        # a pass over ~90 lineages, a few times per text model (identify caches its comparisons)
        return [lin.id for lin in self.lineages.values() if fingerprint in lin.tokenizer_fingerprints]


def as_plain(value: Any) -> Any:
    """``value`` with every entry (and nested entry) as a dict, tuples as lists, paths as strings."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: as_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value
