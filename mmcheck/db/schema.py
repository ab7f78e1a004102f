"""The schema of ``compat_db/`` (docs/compat-db.md), as hand-written validation.

Each ``read_*`` function takes the line-annotated tree of one file, records every error in
the file's :class:`~mmcheck.db.checks.Ctx` and returns the valid entries. Ids are registered in
a :class:`Registry` (duplicates are errors) and references to other entries are collected as
:class:`Ref` so that :func:`check_refs` can resolve them once every file is read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from mmcheck.db import checks as c
from mmcheck.db import expr as _expr
from mmcheck.db.checks import Ctx, Invalid, Obj
from mmcheck.db.model import (
    MODALITIES,
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
    Versioning,
    WidthRule,
)
from mmcheck.db.nodes import Node

SCHEMA_VERSION = 1
CONFIDENCES = ("confirmed", "reported", "inferred")
WIDTH_KINDS = ("tensor", "tensor_times_deepstack", "feature_layers_times_projection_dim", "none")
TENSOR_KINDS = ("tensor", "tensor_times_deepstack")
YES_NO = {True: "yes", False: "no"}  # YAML 1.1 reads a bare yes/no as a boolean


def _keys(cls: Any) -> tuple[str, ...]:
    """The YAML keys of an entry: its class's fields, in order (one source for both)."""
    return tuple(cls._fields)


@dataclass(frozen=True)
class Ref:
    """A reference from one entry to another (``kind``: type, lineage or runtime)."""

    kind: str
    target: str
    file: str
    line: int
    label: str


@dataclass
class Registry:
    """Ids seen so far, per kind, with where they were first defined; and pending refs."""

    seen: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)
    refs: list[Ref] = field(default_factory=list)

    def register(self, ctx: Ctx, kind: str, id: str, line: int) -> bool:
        """Record ``id``; report a duplicate and return False if it was seen before."""
        table = self.seen.setdefault(kind, {})
        if id in table:
            first_file, first_line = table[id]
            ctx.error(f"duplicate {kind} id {id!r} (first defined at {first_file}:{first_line})", line)
            return False
        table[id] = (ctx.file, line)
        return True

    def ref(self, ctx: Ctx, kind: str, target: str, line: int, label: str) -> None:
        """Note that ``target`` must exist among the ``kind`` ids."""
        self.refs.append(Ref(kind, target, ctx.file, line, label))


def check_refs(reg: Registry, ctx_for: dict[str, Ctx], skip: Collection[str] = ()) -> None:
    """Report every reference whose target id was never defined.

    ``skip``: kinds whose defining file could not be read at all (malformed or empty); their
    references are not checked, so one broken file gives one error, not dozens.
    """
    for ref in reg.refs:
        if ref.kind in skip:
            continue
        table = reg.seen.get(ref.kind, {})
        if ref.target not in table:
            where = {"type": "projector_types.yaml", "lineage": "lineages/", "runtime": "runtimes.yaml"}[ref.kind]
            ctx_for[ref.file].error(
                f"{ref.label}: unknown {ref.kind} {ref.target!r} (not defined in {where})", ref.line
            )


def _top(ctx: Ctx, root: Node | None, list_key: str, extra: tuple[str, ...] = ()) -> Obj | None:
    """Check a file's top-level mapping and its ``schema_version``."""
    if root is None:
        ctx.error("file is empty", 1)
        return None
    top = Obj(ctx, root, "top level", ("schema_version", list_key, *extra))
    top.get("schema_version", c.integer(SCHEMA_VERSION, SCHEMA_VERSION), required=True)
    return top


def _entries(top: Obj, key: str) -> list[Node]:
    nodes = top.get(key, _nodelist, required=True, default=())
    return list(nodes)


def _nodelist(node: Node, label: str) -> tuple[Node, ...]:
    if not isinstance(node.value, list):
        raise Invalid(f"{label} must be a list, got {node.kind}", node.line)
    return tuple(node.value)


def _label(kind: str, node: Node) -> str:
    """``kind 'id'`` for messages, using the entry's id when it has a readable one."""
    if isinstance(node.value, dict):
        id_node = node.value.get("id")
        if id_node is not None and isinstance(id_node.value, str):
            return f"{kind} {id_node.value!r}"
    return kind


def _head(ctx: Ctx, reg: Registry, obj: Obj, kind: str) -> str | None:
    """Read and register an entry's ``id``."""
    id_: str | None = obj.get("id", c.ident, required=True)
    if id_ is not None and not reg.register(ctx, kind, id_, obj.line("id")):
        obj.failed = True
    return id_


def _provenance(obj: Obj) -> dict[str, Any]:
    return {
        "source": obj.get("source", c.nonempty, required=True, default=""),
        "confidence": obj.get("confidence", c.enum(*CONFIDENCES), required=True, default="inferred"),
    }


# --- projector_types.yaml -------------------------------------------------------------------

_TYPE_KEYS = _keys(ProjectorType)


def read_projector_types(ctx: Ctx, root: Node | None, reg: Registry) -> tuple[str, list[ProjectorType]]:
    """Validate ``projector_types.yaml``; return (llama_cpp_revision, valid types)."""
    top = _top(ctx, root, "types", ("llama_cpp_revision",))
    if top is None:
        return "", []
    revision = top.get("llama_cpp_revision", c.nonempty, required=True, default="")
    out = []
    for node in _entries(top, "types"):
        t = _projector_type(ctx, node, reg)
        if t is not None:
            out.append(t)
    return revision, out


def _projector_type(ctx: Ctx, node: Node, reg: Registry) -> ProjectorType | None:
    obj = Obj(ctx, node, _label("type", node), _TYPE_KEYS)
    id_ = _head(ctx, reg, obj, "type")
    width = _sub(obj, "width", _width, required=True)
    tokens = _sub(obj, "tokens", _tokens, required=True)
    merge = _sub(obj, "merge", _merge)
    markers = obj.get("markers", c.listof(_marker_checker(ctx, obj.label)), default=())
    baked = obj.get("baked_embeddings", c.listof(c.nonempty, unique=True), default=())
    remap = obj.get("remap", c.strmap(c.enum(*MODALITIES), c.ident), default={})
    for modality, target in (remap or {}).items():
        reg.ref(ctx, "type", target, obj.fields["remap"].line, f"{obj.label}: remap.{modality}")
    baked_set = set(baked or ())
    for i, m in enumerate(markers or ()):
        if m.kind == "E" and m.text not in baked_set:
            obj.failed = True
            ctx.error(
                f"{obj.label}: E marker {m.text!r} is not listed in baked_embeddings",
                obj.fields["markers"].value[i].line,
            )
    values = dict(
        modality=obj.get("modality", c.enum(*MODALITIES), required=True),
        text_architectures=obj.get("text_architectures", c.listof(c.nonempty, unique=True), default=()),
        rope=obj.get("rope", c.nullable(c.enum("mrope", "imrope"))),
        required_keys=obj.get("required_keys", c.listof(_clip_key, unique=True), default=()),
        required_tensors=obj.get("required_tensors", c.listof(c.nonempty, unique=True), default=()),
        hazards=obj.get("hazards", c.listof(c.nonempty), default=()),
        non_causal=obj.get("non_causal", _non_causal, default=False),
        notes=obj.get("notes", c.text, default=""),
        **_provenance(obj),
    )
    if obj.failed or id_ is None or width is None or tokens is None:
        return None
    return ProjectorType(
        id=id_,
        width=width,
        tokens=tokens,
        merge=merge,
        markers=markers,
        baked_embeddings=baked,
        remap=remap,
        **values,
    )


def _sub(obj: Obj, key: str, reader: Any, required: bool = False) -> Any:
    """Read a nested mapping with ``reader(obj_ctx, node, label)``; None if absent/invalid."""
    if key not in obj.fields:
        if required:
            obj.get(key, c.string, required=True)
        return None
    node = obj.fields[key]
    if node.value is None and not required:
        return None
    before = len(obj.ctx.errors)
    value = reader(obj.ctx, node, f"{obj.label}: {key}")
    if len(obj.ctx.errors) > before:
        obj.failed = True
        return None
    return value


def _width(ctx: Ctx, node: Node, label: str) -> WidthRule | None:
    obj = Obj(ctx, node, label, ("kind", "tensor", "dim", "optional", "fallback_key"))
    kind = obj.get("kind", c.enum(*WIDTH_KINDS), required=True)
    tensor = obj.get("tensor", c.nullable(c.nonempty))
    dim = obj.get("dim", c.nullable(c.integer(0, 3)))
    optional = obj.get("optional", c.boolean, default=False)
    fallback = obj.get("fallback_key", c.nullable(_clip_key))
    if kind in TENSOR_KINDS:
        for key in ("tensor", "dim"):
            if key not in obj.fields or obj.fields[key].value is None:
                obj.failed = True
                ctx.error(f"{label}: kind {kind!r} needs a {key!r}", obj.line(key))
    elif kind is not None and (tensor is not None or dim is not None):
        obj.failed = True
        ctx.error(f"{label}: kind {kind!r} takes no tensor/dim", obj.line("tensor"))
    if obj.failed or kind is None:
        return None
    return WidthRule(kind=kind, tensor=tensor, dim=dim, optional=optional, fallback_key=fallback)


def _expression(node: Node, label: str) -> str:
    value = c.nonempty(node, label)
    try:
        _expr.parse(value)
    except _expr.ExprError as exc:
        raise Invalid(f"{label}: {exc}", node.line) from None
    return value


def _tokens(ctx: Ctx, node: Node, label: str) -> TokenRule | None:
    obj = Obj(ctx, node, label, ("expr", "min", "max", "per", "note"))
    rule = TokenRule(
        expr=obj.get("expr", c.nullable(_expression)),
        min=obj.get("min", c.nullable(c.integer(0))),
        max=obj.get("max", c.nullable(c.integer(0))),
        per=obj.get("per", c.enum("image", "tile", "clip"), default="image"),
        note=obj.get("note", c.text, default=""),
    )
    if rule.min is not None and rule.max is not None and rule.min > rule.max:
        obj.failed = True
        ctx.error(f"{label}: min {rule.min} is greater than max {rule.max}", obj.line("min"))
    return None if obj.failed else rule


def _merge(ctx: Ctx, node: Node, label: str) -> MergeRule | None:
    obj = Obj(ctx, node, label, ("keys", "default"))
    rule = MergeRule(
        keys=obj.get("keys", c.listof(_clip_key, unique=True), required=True, default=()),
        default=obj.get("default", c.nullable(c.integer(1))),
    )
    return None if obj.failed else rule


def _marker_checker(ctx: Ctx, owner: str) -> c.Checker:
    def check(node: Node, label: str) -> Marker:
        obj = Obj(ctx, node, label, ("text", "kind"))
        text = obj.get("text", c.literal, required=True)
        kind = obj.get("kind", c.enum("T", "L", "E"), required=True)
        if obj.failed:
            raise c.Reported
        return Marker(text=text, kind=kind)

    return check


def _clip_key(node: Node, label: str) -> str:
    value = c.nonempty(node, label)
    if not value.startswith("clip."):
        raise Invalid(f"{label}: {value!r} is not an mmproj key (must start with 'clip.')", node.line)
    return value


def _non_causal(node: Node, label: str) -> bool | str:
    if isinstance(node.value, bool):
        return node.value
    value: str = c.enum("conditional")(node, label)
    return value


# --- lineages.yaml --------------------------------------------------------------------------

_LINEAGE_KEYS = _keys(Lineage)


def read_lineages(ctx: Ctx, root: Node | None, reg: Registry) -> list[Lineage]:
    """Validate ``lineages.yaml``; return the valid lineages."""
    top = _top(ctx, root, "lineages")
    if top is None:
        return []
    out = []
    for node in _entries(top, "lineages"):
        obj = Obj(ctx, node, _label("lineage", node), _LINEAGE_KEYS)
        id_ = _head(ctx, reg, obj, "lineage")
        count = c.nullable(c.integer(1))
        values = dict(
            name=obj.get("name", c.nonempty, required=True),
            architecture=obj.get("architecture", c.nonempty, required=True),
            **{k: obj.get(k, count) for k in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "vocab_size")},
            vocab_sizes=obj.get("vocab_sizes", c.listof(c.integer(1), unique=True), default=()),
            rope_freq_base=obj.get("rope_freq_base", c.nullable(c.number)),
            tokenizer_model=obj.get("tokenizer_model", c.nullable(c.string)),
            tokenizer_pre=obj.get("tokenizer_pre", _string_or_list, default=()),
            tokenizer_fingerprints=obj.get("tokenizer_fingerprints", c.listof(c.nonempty), default=()),
            name_patterns=obj.get("name_patterns", c.listof(c.regex), default=()),
            derived_from=obj.get("derived_from", c.nullable(c.ident)),
            notes=obj.get("notes", c.text, default=""),
            **_provenance(obj),
        )
        if values["derived_from"] is not None:
            reg.ref(ctx, "lineage", values["derived_from"], obj.line("derived_from"), f"{obj.label}: derived_from")
        if not obj.failed and id_ is not None:
            out.append(Lineage(id=id_, **values))
    return out


def _string_or_list(node: Node, label: str) -> tuple[str, ...]:
    """A string, a list of distinct strings, or null (= none)."""
    if node.value is None:
        return ()
    if isinstance(node.value, str):
        return (c.nonempty(node, label),)
    value: tuple[str, ...] = c.listof(c.nonempty, unique=True)(node, label)
    return value


# --- families/*.yaml ------------------------------------------------------------------------

_FAMILY_KEYS = _keys(Family)
_VARIANT_KEYS = _keys(FamilyVariant)
_ENCODER_KEYS = _keys(Encoder)


def read_family(ctx: Ctx, root: Node | None, reg: Registry, stem: str) -> Family | None:
    """Validate one ``families/<stem>.yaml``; the family id must equal ``stem``."""
    top = _top(ctx, root, "family")
    if top is None:
        return None
    if "family" not in top.fields:
        top.get("family", c.string, required=True)
        return None
    obj = Obj(ctx, top.fields["family"], _label("family", top.fields["family"]), _FAMILY_KEYS)
    id_ = _head(ctx, reg, obj, "family")
    if id_ is not None and id_ != stem:
        obj.failed = True
        ctx.error(f"{obj.label}: file must be named families/{id_}.yaml (is {stem}.yaml)", obj.line("id"))
    types = obj.get("projector_types", c.listof(c.ident, unique=True), required=True, default=())
    if "projector_types" in obj.fields and isinstance(obj.fields["projector_types"].value, list):
        for i, type_id in enumerate(types):
            reg.ref(
                ctx, "type", type_id, obj.fields["projector_types"].value[i].line, f"{obj.label}: projector_types[{i}]"
            )
    if obj.fields.get("projector_types", Node(None, 0)).value == []:
        obj.failed = True
        ctx.error(f"{obj.label}: projector_types must not be empty", obj.line("projector_types"))
    encoder = _sub(obj, "encoder", _encoder)
    variants = obj.get("variants", c.listof(_variant_checker(ctx, reg)), required=True, default=())
    values = dict(
        name=obj.get("name", c.nonempty, required=True),
        finetunes_work=obj.get("finetunes_work", c.enum("yes", "no", "unknown", bools=YES_NO), default="unknown"),
        finetunes_note=obj.get("finetunes_note", c.text, default=""),
        notes=obj.get("notes", c.text, default=""),
        **_provenance(obj),
    )
    if obj.failed or id_ is None:
        return None
    return Family(id=id_, projector_types=types, encoder=encoder, variants=variants, **values)


def _encoder(ctx: Ctx, node: Node, label: str) -> Encoder | None:
    obj = Obj(ctx, node, label, _ENCODER_KEYS)
    count = c.nullable(c.integer(1))
    enc = Encoder(name=obj.get("name", c.nullable(c.nonempty)), **{k: obj.get(k, count) for k in _ENCODER_KEYS[1:]})
    return None if obj.failed else enc


def _variant_checker(ctx: Ctx, reg: Registry) -> c.Checker:
    def check(node: Node, label: str) -> FamilyVariant:
        obj = Obj(ctx, node, f"{label} ({_label('variant', node)})", _VARIANT_KEYS)
        id_ = _head(ctx, reg, obj, "variant")
        count = c.nullable(c.integer(1))
        lineage = obj.get("lineage", c.nullable(c.ident), required=True)
        if lineage is not None:
            reg.ref(ctx, "lineage", lineage, obj.line("lineage"), f"{obj.label}: lineage")
        variant = FamilyVariant(
            id=id_ or "",
            size_label=obj.get("size_label", c.nullable(c.nonempty)),
            lineage=lineage,
            output_width=obj.get("output_width", count),
            tokens_per_image=obj.get("tokens_per_image", count),
            context_length=obj.get("context_length", count),
            text_name_patterns=obj.get("text_name_patterns", c.listof(c.regex), default=()),
            encoder=_sub(obj, "encoder", _encoder),
        )
        if obj.failed or id_ is None:
            raise c.Reported
        return variant

    return check


# --- runtimes.yaml --------------------------------------------------------------------------

_RUNTIME_KEYS = _keys(Runtime)
_VERSION_KEYS = _keys(RuntimeVersion)
VERSIONINGS = ("build", "dotted")


def read_runtimes(ctx: Ctx, root: Node | None, reg: Registry) -> list[Runtime]:
    """Validate ``runtimes.yaml``; return the valid runtimes."""
    top = _top(ctx, root, "runtimes")
    if top is None:
        return []
    out = []
    for node in _entries(top, "runtimes"):
        obj = Obj(ctx, node, _label("runtime", node), _RUNTIME_KEYS)
        id_ = _head(ctx, reg, obj, "runtime")
        versioning: Versioning = "build" if obj.get("versioning", c.enum(*VERSIONINGS)) == "build" else "dotted"
        versions = obj.get("versions", c.listof(_version_checker(ctx, reg, versioning)), default=())
        if versions and not obj.failed:
            _check_snapshots(ctx, obj, versioning, versions)
        values = dict(
            name=obj.get("name", c.nonempty, required=True),
            versions=versions,
            notes=obj.get("notes", c.text, default=""),
            **_provenance(obj),
        )
        if not obj.failed and id_ is not None:
            out.append(Runtime(id=id_, versioning=versioning, **values))
    return out


def _check_snapshots(ctx: Ctx, obj: Obj, versioning: str, versions: tuple[RuntimeVersion, ...]) -> None:
    """Snapshot entries are in ascending version order and their ``drops`` were in the set."""
    from mmcheck.db.versions import version_key

    items = obj.fields["versions"].value
    known: set[str] = set()
    last: tuple[int, ...] | None = None
    for i, rv in enumerate(versions):
        if not rv.snapshot:
            continue
        line = items[i].line
        key = version_key(versioning, rv.version or "")
        if key is None:
            continue  # reported by the version checker
        if last is not None and key <= last:
            obj.failed = True
            ctx.error(
                f"{obj.label}: snapshot {rv.version!r} is not after the previous snapshot (keep them ascending)", line
            )
        last = key
        for t in rv.drops:
            if t not in known:
                obj.failed = True
                ctx.error(f"{obj.label}: snapshot {rv.version!r} drops {t!r}, which no earlier snapshot has", line)
        known = (known | set(rv.adds)) - set(rv.drops)


def _version_checker(ctx: Ctx, reg: Registry, versioning: str = "dotted") -> c.Checker:
    from mmcheck.db.versions import BUILD_RE, COMMIT_RE, version_key

    def check(node: Node, label: str) -> RuntimeVersion:
        obj = Obj(ctx, node, label, _VERSION_KEYS)
        version = obj.get("version", c.nullable(c.nonempty))
        date = obj.get("date", c.nullable(c.date))
        if version is None and date is None and not obj.failed:
            obj.failed = True
            ctx.error(f"{label}: needs a version or a date (quote versions such as '1.101')", obj.line())
        snapshot = obj.get("snapshot", c.boolean, default=False)
        if version is not None and version_key(versioning, version) is None and (snapshot or versioning == "dotted"):
            obj.failed = True
            want = "a build such as 'b6907'" if versioning == "build" else "a dotted version such as '1.98'"
            ctx.error(f"{label}: version {version!r} is not {want}", obj.line("version"))
        if snapshot and version is None:
            obj.failed = True
            ctx.error(f"{label}: a snapshot needs a version", obj.line("snapshot"))
        adds = obj.get("adds", c.listof(c.ident, unique=True), default=())
        drops = obj.get("drops", c.listof(c.ident, unique=True), default=())
        for key, names in (("adds", adds), ("drops", drops)):
            if key in obj.fields and isinstance(obj.fields[key].value, list):
                for i, type_id in enumerate(names):
                    reg.ref(ctx, "type", type_id, obj.fields[key].value[i].line, f"{label}: {key}")
        if drops and not snapshot:
            obj.failed = True
            ctx.error(f"{label}: drops is only allowed on a snapshot entry", obj.line("drops"))
        both = sorted(set(adds) & set(drops))
        if both:
            obj.failed = True
            ctx.error(f"{label}: {', '.join(both)} both added and dropped", obj.line("drops"))
        build = obj.get("llama_cpp_build", c.nullable(c.nonempty))
        if build is not None and not BUILD_RE.match(build):
            obj.failed = True
            ctx.error(f"{label}: llama_cpp_build {build!r} is not a build such as 'b6907'", obj.line("llama_cpp_build"))
        commit = obj.get("llama_cpp_commit", c.nullable(c.nonempty))
        if commit is not None and not COMMIT_RE.match(commit):
            obj.failed = True
            ctx.error(f"{label}: llama_cpp_commit {commit!r} is not a commit hash", obj.line("llama_cpp_commit"))
        rv = RuntimeVersion(
            version=version,
            date=date,
            adds=adds,
            drops=drops,
            snapshot=bool(snapshot),
            llama_cpp_build=build,
            llama_cpp_commit=commit,
            source=obj.get("source", c.nonempty, required=True, default=""),
            notes=obj.get("notes", c.text, default=""),
        )
        if obj.failed:
            raise c.Reported
        return rv

    return check
