"""What a projector could be, what a text model is, and what that says about the pair.

Identification never invents: a projector is only ever said to be a database variant whose output
width equals its own and whose type and encoder signature it has; a text model is only said to be
a lineage when its own names, its ``general.base_model.*`` entries, or a tokenizer fingerprint that
no other lineage shares say so. Shapes alone never identify; they can only contradict.

Facts that fine-tunes and converters cannot change (architecture, widths, layer and head counts,
tokenizer model, a vocabulary of another size class) contradict a lineage. Facts that depend on the
converter (the pre-tokenizer label, a vocabulary trimmed to the tokenizer or padded to the config,
added tokens, the rope base) are reported as weak differences and never contradict.

:func:`assess_pair` turns both sides into a :class:`PairAssessment`: the reasons for a match, the
contradictions, and what is missing to settle it. The MM3xx rules only report it.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from mmcheck.db import CompatDB, Encoder, Family, FamilyVariant, Lineage
from mmcheck.facts.projector import ProjectorFacts
from mmcheck.facts.text import TextFacts

# llama.cpp has converted Mistral-family models under several architecture names over time.
ARCH_EQUIVALENTS = {"mistral": "llama", "mistral3": "llama"}
#: Vocabulary sizes within this many tokens (or this fraction) of a recorded size are a converter
#: difference (trimmed to the tokenizer, padded to the config, added tokens), not another tokenizer.
VOCAB_TOLERANCE_TOKENS = 1024
VOCAB_TOLERANCE_FRACTION = 0.02
#: general.finetune words that still mean "the vendor's own release" (not a third-party fine-tune).
VENDOR_FINETUNE_WORDS = frozenset(
    {"it", "instruct", "chat", "base", "hf", "pt", "preview", "thinking", "reasoning", "vision", "vl", "latest"}
)
_VERSION_WORD = re.compile(r"^v?\d+(\.\d+)*[a-z]{0,2}$")  # 2507, v1, 4.1v, 8k: versions and sizes


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern if pattern.startswith("(?i)") else "(?i)" + pattern)


_LEADING_ASSERTION = re.compile(r"\(\?<?[!=](?:[^()]|\([^()]*\))*\)")  # (?<!...), (?=...): they match no characters


@lru_cache(maxsize=1024)
def required_prefix(pattern: str) -> str | None:
    """Lower-case letters and digits every match of ``pattern`` starts with, or None when unsure.

    Compiling the database's name patterns costs more than the rest of the lineage comparison
    (~20 ms for 159 of them), and a pattern whose first letters appear in no name cannot match:
    :func:`names_match` compiles only the others. Conservative: a ``|`` outside a group, or
    anything but literal letters and digits after the leading assertions, gives None.
    """
    body = pattern.removeprefix("(?i)")
    depth, i = 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 1  # the escaped character is literal
        elif ch == "[":  # a class: skip to its end (a ']' first, or after '^', is literal)
            i += 2 if body[i + 1 : i + 2] == "^" else 1
            i += 1 if body[i : i + 1] == "]" else 0
            while i < len(body) and body[i] != "]":
                i += 2 if body[i] == "\\" else 1
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            return None
        i += 1
    while (m := _LEADING_ASSERTION.match(body)) is not None:
        body = body[m.end() :]
    n = 0
    while n < len(body) and body[n].isascii() and body[n].isalnum():
        n += 1
    if n < len(body) and body[n] in "?*{":
        n -= 1  # the last letter is optional
    return body[:n].lower() if n >= 2 else None


class Names(NamedTuple):
    """Names to match, with the lower-cased join :func:`names_match` prefilters on (None when a
    name is not ASCII: case-insensitive matching folds a few non-ASCII letters onto ASCII ones)."""

    names: Sequence[str]
    folded: str | None

    @classmethod
    def of(cls, names: Sequence[str]) -> "Names":
        """``names``, folded once (for names matched against many patterns, e.g. every lineage)."""
        return cls(names, " / ".join(n.lower() for n in names) if all(n.isascii() for n in names) else None)


def names_match(patterns: Iterable[str], names: Sequence[str] | Names) -> str | None:
    """The first of ``names`` any of ``patterns`` finds (case-insensitive search), or None."""
    listed, folded = names if isinstance(names, Names) else Names.of(names)
    for p in patterns:
        if folded is not None and (prefix := required_prefix(p)) is not None and prefix not in folded:
            continue
        rx = _compiled(p)
        for n in listed:
            if rx.search(n):
                return n
    return None


def path_names(path: str | os.PathLike[str] | None) -> list[str]:
    """The names a file's location gives it: its stem, its folder, and a Hugging Face cache repo.

    Old converters wrote no usable ``general.name`` ("LLaMA v2", a directory name such as "Work"),
    so the file name and the folder a release was downloaded into are often the only names a file
    has. They are used only where the headers name nothing (see :func:`assess_pair`).
    """
    if path is None:
        return []
    p = PurePath(str(path))
    out = [p.stem]
    if p.parent.name and p.parent.name not in (".", ""):
        out.append(p.parent.name)
    for part in p.parts:
        if part.startswith("models--"):  # ~/.cache/huggingface/hub/models--ORG--REPO/snapshots/REV/FILE
            out.append(part.removeprefix("models--").replace("--", "/"))
    return list(dict.fromkeys(out))


def canonical_arch(arch: str | None) -> str | None:
    """The architecture name with converter-era aliases folded (``mistral`` -> ``llama``)."""
    return ARCH_EQUIVALENTS.get(arch, arch) if arch else arch


def has_own_name(text: TextFacts) -> bool:
    """Whether the text model carries a ``general.name`` or ``basename`` of its own."""
    return bool(text.name or text.basename)


def is_third_party_finetune(label: str | None) -> bool:
    """``general.finetune`` names something beyond the vendor's own release labels (it, instruct...)."""
    words = [w for w in re.split(r"[-_ ]+", (label or "").lower()) if w]
    return bool(words) and not all(w in VENDOR_FINETUNE_WORDS or _VERSION_WORD.match(w) for w in words)


# ------------------------------------------------------------------------------------------------
# Text model vs lineage
# ------------------------------------------------------------------------------------------------


class LineageComparison(NamedTuple):
    """How a text model relates to one lineage."""

    lineage: Lineage
    identified_by: tuple[str, ...]  # own name or a unique fingerprint says it is this lineage
    finetune_of: tuple[str, ...]  # its base_model entries (or a fine-tune label) say it derives from it
    supported_by: tuple[str, ...]  # consistent with it, but shared with other lineages (fingerprint)
    consistent: tuple[str, ...]
    weak_differences: tuple[str, ...]  # converter-dependent: never contradict
    contradictions: tuple[str, ...]  # facts fine-tunes and converters do not change

    @property
    def contradicted(self) -> bool:
        """A fact fine-tunes cannot change differs: the text model is not this lineage nor a fine-tune of it."""
        return bool(self.contradictions)

    @property
    def identified(self) -> bool:
        """Positively identified as this lineage or a fine-tune of it, and not contradicted."""
        return bool(self.identified_by or self.finetune_of) and not self.contradicted


@lru_cache(maxsize=1024)
def _recorded_sizes(vocab_size: int | None, vocab_sizes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted({s for s in (vocab_size, *vocab_sizes) if s}))


def vocab_relation(n: int, lineage: Lineage) -> tuple[str, int | None]:
    """``("same"|"near"|"far"|"unknown", nearest recorded size)`` of a token count vs a lineage."""
    sizes = _recorded_sizes(lineage.vocab_size, tuple(lineage.vocab_sizes))
    if not sizes:
        return "unknown", None
    nearest = min(sizes, key=lambda s: abs(s - n))
    if n == nearest:
        return "same", nearest
    tolerance = max(VOCAB_TOLERANCE_TOKENS, int(VOCAB_TOLERANCE_FRACTION * nearest))
    return ("near" if abs(n - nearest) <= tolerance else "far"), nearest


class TextNames(NamedTuple):
    """A text model's own names and its base models' names, each folded once (:class:`Names`)."""

    own: Names
    base: Names

    @classmethod
    def of(cls, text: TextFacts) -> "TextNames":
        """The names of ``text``."""
        return cls(Names.of(text.own_names()), Names.of(text.base_model_names()))


def compare_lineage(
    text: TextFacts, lineage: Lineage, db: CompatDB, names: TextNames | None = None
) -> LineageComparison:
    """Compare a text model with a lineage's names, fingerprint and shapes (``names``: the text
    model's, when the caller compares it with many lineages)."""
    identified: list[str] = []
    finetune: list[str] = []
    supported: list[str] = []
    consistent: list[str] = []
    weak: list[str] = []
    contra: list[str] = []

    names = names or TextNames.of(text)
    own = names_match(lineage.name_patterns, names.own)
    if own is not None:
        if is_third_party_finetune(text.finetune):
            finetune.append(f"its name {own!r} is {lineage.name}'s, with the fine-tune label {text.finetune!r}")
        else:
            identified.append(f"its name {own!r} is {lineage.name}'s")
    base = names_match(lineage.name_patterns, names.base)
    if base is not None and own is None:
        if has_own_name(text) or is_third_party_finetune(text.finetune):
            finetune.append(f"its base model {base!r} is {lineage.name}")
        else:  # no name of its own: a quantized re-upload names the model it was converted from
            identified.append(f"it names no model but its source, {base!r}, which is {lineage.name}")
    if text.vocab is not None and lineage.tokenizer_fingerprints:
        fp = text.vocab.fingerprint()
        if fp in lineage.tokenizer_fingerprints:
            sharing = db.lineages_with_fingerprint(fp)
            if len(sharing) <= 1:
                identified.append(f"its token list is {lineage.name}'s (tokenizer fingerprint)")
            else:
                supported.append(f"its token list is the one {len(sharing)} lineages share ({', '.join(sharing)})")

    def check(label: str, ours: object, theirs: object) -> None:
        if ours is None or theirs is None or isinstance(ours, tuple):
            return
        if ours == theirs:
            consistent.append(f"{label} {ours}")
        else:
            contra.append(f"{label} {ours}, not {theirs}")

    check("architecture", canonical_arch(text.architecture), canonical_arch(lineage.architecture))
    check("n_embd", text.n_embd, lineage.n_embd)
    check("layers", text.n_layer, lineage.n_layer)
    check("heads", text.n_head, lineage.n_head)
    check("kv heads", text.n_head_kv, lineage.n_head_kv)
    check("feed-forward", text.n_ff, lineage.n_ff)
    check("tokenizer", text.tokenizer_model, lineage.tokenizer_model)
    pre = text.tokenizer_pre
    if pre and pre != "default" and lineage.tokenizer_pre:
        if pre in lineage.tokenizer_pre:
            consistent.append(f"pre-tokenizer {pre}")
        else:
            recorded = ", ".join(map(repr, lineage.tokenizer_pre))
            weak.append(f"pre-tokenizer {pre!r} (recorded: {recorded}; the label depends on the conversion path)")
    if text.vocab_size is not None:
        relation, nearest = vocab_relation(text.vocab_size, lineage)
        if relation == "same":
            consistent.append(f"vocab {text.vocab_size}")
        elif relation == "near":
            weak.append(f"vocab {text.vocab_size} (recorded: {nearest}; converters trim, pad or add tokens)")
        elif relation == "far":
            contra.append(f"vocab {text.vocab_size}, not {nearest}")
    if text.rope_freq_base and lineage.rope_freq_base and abs(text.rope_freq_base - lineage.rope_freq_base) > 1e-6:
        weak.append(f"rope base {text.rope_freq_base:g} (recorded: {lineage.rope_freq_base:g})")
    return LineageComparison(
        lineage, tuple(identified), tuple(finetune), tuple(supported), tuple(consistent), tuple(weak), tuple(contra)
    )


# A scan checks each text model against many projectors, and each projector against many text
# models: compare a text model with the lineages, and a projector with the families, once.
_T = TypeVar("_T")
_Memo = dict[tuple[int, int], tuple[Any, CompatDB, list[_T]]]
_LINEAGE_CACHE: _Memo[LineageComparison] = {}
_FAMILY_CACHE: "_Memo[FamilyMatch]" = {}
_MEMO_MAX = 4096


def _once(memo: _Memo[_T], facts: object, db: CompatDB, compute: Callable[[], list[_T]]) -> list[_T]:
    """``compute()`` once per (``facts``, ``db``), as a new list each time. Keyed by identity (facts
    are immutable); the entry keeps both objects alive, so an id is not reused while it exists."""
    key = (id(facts), id(db))
    hit = memo.get(key)
    if hit is None or hit[0] is not facts or hit[1] is not db:
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        hit = memo[key] = (facts, db, compute())
    return list(hit[2])


def match_lineages(text: TextFacts, db: CompatDB) -> list[LineageComparison]:
    """Every lineage compared with the text model: identified first, then uncontradicted, then the rest."""
    return _once(_LINEAGE_CACHE, text, db, lambda: _match_lineages(text, db))


def _match_lineages(text: TextFacts, db: CompatDB) -> list[LineageComparison]:
    names = TextNames.of(text)
    comps = [compare_lineage(text, lin, db, names) for lin in db.lineages.values()]

    def rank(c: LineageComparison) -> tuple[int, int, int]:
        tier = 0 if c.identified else 1 if not c.contradicted else 2
        return tier, -len(c.identified_by) - len(c.finetune_of), -len(c.consistent)

    return sorted(comps, key=rank)


def text_identity(text: TextFacts, db: CompatDB) -> list[LineageComparison]:
    """The lineages the text model is positively identified as (or as a fine-tune of)."""
    return [c for c in match_lineages(text, db) if c.identified]


# ------------------------------------------------------------------------------------------------
# Projector vs families
# ------------------------------------------------------------------------------------------------


class Candidate(NamedTuple):
    """A database variant this projector can be: same type, encoder signature and output width."""

    family: Family
    variant: FamilyVariant
    evidence: tuple[str, ...]
    named: bool = False  # the projector's own names say it is this variant

    @property
    def label(self) -> str:
        """``llava-1.5-7b`` plus its lineage, for messages."""
        return self.variant.id


class FamilyMatch(NamedTuple):
    """A family whose projector type and encoder signature this projector has."""

    family: Family
    variants: tuple[FamilyVariant, ...]  # variants whose output width is exactly the projector's
    evidence: tuple[str, ...]

    @property
    def width_fits(self) -> bool:
        """Some variant has exactly this projector's output width."""
        return bool(self.variants)


def _encoder_problems(proj: ProjectorFacts, enc: Encoder | None) -> tuple[list[str], list[str]]:
    """(agreeing facts, contradicting facts) of the projector's encoder vs a recorded signature."""
    agree: list[str] = []
    contra: list[str] = []
    ours = proj.encoder
    if ours is None or enc is None:
        return agree, contra
    for label, mine, theirs, slack in (
        ("encoder width", ours.width, enc.embedding_length, 0),
        ("image size", ours.image_size, enc.image_size, 0),
        ("patch size", ours.patch_size, enc.patch_size, 0),
        ("encoder layers", ours.n_layer, enc.block_count, 1),  # legacy converters drop the last layer
        ("encoder heads", ours.n_head, enc.head_count, 0),
    ):
        if mine is None or theirs is None:
            continue
        if abs(mine - theirs) <= slack:
            agree.append(f"{label} {mine}")
        else:
            contra.append(f"{label} {mine} (recorded {theirs})")
    return agree, contra


def merged_encoder(family: Family, variant: FamilyVariant) -> Encoder | None:
    """The encoder signature of one variant: its own fields, the family's where it records none."""
    base, own = family.encoder, variant.encoder
    if own is None:
        return base
    if base is None:
        return own
    fields = ("name", "embedding_length", "block_count", "image_size", "patch_size", "head_count")
    return Encoder(**{f: getattr(own, f) if getattr(own, f) is not None else getattr(base, f) for f in fields})


def _projector_types(proj: ProjectorFacts) -> set[str]:
    types = set(proj.type_ids) or ({proj.inferred_type} if proj.inferred_type else set())
    # qwen2.5o files resolve to their per-modality types; keep the label match too
    types |= {t.declared_type for t in proj.towers.values() if t.declared_type}
    return types


def match_families(proj: ProjectorFacts, db: CompatDB) -> list[FamilyMatch]:
    """Families whose projector type and encoder signature this projector has, width-fitting first."""
    return _once(_FAMILY_CACHE, proj, db, lambda: _match_families(proj, db))


def _match_families(proj: ProjectorFacts, db: CompatDB) -> list[FamilyMatch]:
    types = _projector_types(proj)
    width = proj.output_width
    out: list[FamilyMatch] = []
    for fam in db.families.values():
        shared = types & set(fam.projector_types)
        if not shared:
            continue
        signature_ok: list[FamilyVariant] = []
        agree_any: list[str] = []
        for v in fam.variants:
            agree, contra = _encoder_problems(proj, merged_encoder(fam, v))
            if not contra:
                signature_ok.append(v)
                agree_any = agree_any or agree
        if not signature_ok:
            continue
        fitting = tuple(v for v in signature_ok if width is not None and v.output_width == width)
        evidence = [f"projector type {', '.join(sorted(shared))}", *agree_any]
        if fitting:
            evidence.append(f"output width {width}")
        out.append(FamilyMatch(fam, fitting, tuple(evidence)))
    out.sort(key=lambda m: (not m.width_fits, -len(m.evidence)))
    return out


def projector_names(proj: ProjectorFacts) -> list[str]:
    """The names a projector gives itself (general.name, basename, description)."""
    return [n for n in (proj.name, proj.basename, proj.description) if n]


def candidates(
    proj: ProjectorFacts, db: CompatDB, location: Sequence[str] = ()
) -> tuple[list[Candidate], list[FamilyMatch]]:
    """(the variants this projector can be, every family whose recipe it has).

    When the projector's own names pick some of the candidates, only those remain; when its
    header names none of them, its file and folder names (``location``) may.
    """
    fams = match_families(proj, db)
    out: list[Candidate] = [Candidate(fm.family, v, fm.evidence) for fm in fams for v in fm.variants]
    for names in (projector_names(proj), list(location)):
        if not names:
            continue
        named = [c._replace(named=True) for c in out if names_match(c.variant.text_name_patterns, names)]
        if named:
            return named, fams
    return out, fams


# ------------------------------------------------------------------------------------------------
# The pair
# ------------------------------------------------------------------------------------------------


class PairAssessment(NamedTuple):
    """The lineage picture of a pair, computed once; the MM3xx rules report it."""

    candidates: tuple[Candidate, ...]
    families: tuple[FamilyMatch, ...]
    comparisons: Mapping[str, LineageComparison] = MappingProxyType({})  # by lineage id
    confirmed: tuple[str, ...] = ()  # strong reasons for a match (MM301)
    contradictions: tuple[str, ...] = ()  # every candidate is contradicted: why (MM303)
    co_trained: tuple[str, ...] = ()  # a co-trained family's base LLM instead of its own (MM306)
    missing: tuple[str, ...] = ()  # what would settle an unknown (MM302)
    shared_with: tuple[str, ...] = ()  # other variants with the same header (MM307)
    weak_differences: tuple[str, ...] = ()  # converter-dependent differences (MM308)
    text_is: tuple[str, ...] = ()  # what the text model is identified as, for messages

    @property
    def contradicted(self) -> bool:
        """Every variant the projector can be was trained with another text model."""
        return bool(self.contradictions)


def _lineage(db: CompatDB, c: Candidate) -> Lineage | None:
    return db.lineages.get(c.variant.lineage or "")


def _describe(c: Candidate, db: CompatDB) -> str:
    lin = _lineage(db, c)
    return f"{c.variant.id} ({lin.name})" if lin is not None else f"{c.variant.id} (text model not recorded)"


def _missing_markers(text: TextFacts, proj: ProjectorFacts) -> list[str]:
    """Special-token markers the projector's types insert that the text vocabulary lacks."""
    if text.vocab is None:
        return []
    out: list[str] = []
    for tower in proj.towers.values():
        specials = [m for m, kind in tower.markers if kind == "T"]
        if len(specials) > 2:
            continue  # types with alternative marker sets (e.g. kimik25): presence of one set is enough
        out += [m for m in specials if text.vocab.find(m) is None and m not in out]
    return out


def _named_by_headers(text: TextFacts, identity: list[LineageComparison], db: CompatDB) -> bool:
    """Whether the text model's own metadata names anything the database knows."""
    if identity:
        return True
    names = text.own_names() + text.base_model_names()
    return any(names_match(v.text_name_patterns, names) for f in db.families.values() for v in f.variants)


def assess_pair(
    text: TextFacts,
    proj: ProjectorFacts,
    db: CompatDB,
    *,
    text_path: str | os.PathLike[str] | None = None,
    proj_path: str | os.PathLike[str] | None = None,
) -> PairAssessment:
    """Weigh what the projector can be against what the text model is (see the module docstring).

    ``text_path``/``proj_path`` give the files' names and folders, used only where the headers
    name nothing: a text model whose file (or release folder) is named for a variant, with a
    projector whose name or folder says the same variant, is that variant's own pair.
    """
    cands, fams = candidates(proj, db, path_names(proj_path))
    identity = text_identity(text, db)
    text_is = tuple(
        c.lineage.name + (" (a fine-tune)" if c.finetune_of and not c.identified_by else "") for c in identity
    )
    if not cands:
        missing: list[str] = []
        recipe = [fm for fm in fams if not fm.width_fits]
        if recipe:
            recipes = ", ".join(fm.family.name for fm in recipe)
            missing.append(
                f"the projector has the recipe of {recipes} (type and encoder) but outputs {proj.output_width}, a "
                "width no recorded variant has: it was made for another text model, and nothing in its header "
                "says which"
            )
        else:
            missing.append(
                "the projector's type and encoder signature match no family in the database, so nothing in its "
                "header says which text model it was made for"
            )
        return PairAssessment((), tuple(fams), missing=tuple(missing), text_is=text_is)

    comps: dict[str, LineageComparison] = {}
    for c in cands:
        lin = _lineage(db, c)
        if lin is not None and lin.id not in comps:
            comps[lin.id] = compare_lineage(text, lin, db)
    markers = _missing_markers(text, proj)

    def contradictions_of(c: Candidate) -> list[str]:
        lin = _lineage(db, c)
        found = list(comps[lin.id].contradictions) if lin is not None else []
        if markers:
            found.append(f"no {', '.join(map(repr, markers))} token, which {c.family.name}'s text model has")
        return found

    own_names, base_names = TextNames.of(text)
    own = [c for c in cands if names_match(c.variant.text_name_patterns, own_names) is not None]
    own_ft = [c for c in cands if c not in own and names_match(c.variant.text_name_patterns, base_names)]
    header_lineages = sorted({_describe(c, db) for c in cands})

    def others(chosen: Candidate) -> tuple[str, ...]:
        return tuple(d for d in header_lineages if d != _describe(chosen, db))

    def weak_of(c: Candidate) -> tuple[str, ...]:
        lin = _lineage(db, c)
        return comps[lin.id].weak_differences if lin is not None else ()

    for chosen, via_base in [(c, False) for c in own] + [(c, True) for c in own_ft]:
        problems = contradictions_of(chosen)
        if problems:
            continue
        fam = chosen.family
        name = names_match(chosen.variant.text_name_patterns, base_names if via_base else own_names)
        # a re-upload (quantization) names the model it was converted from as its base, and no name
        # of its own; a fine-tune has a name (or a fine-tune label) of its own
        finetuned = (via_base and has_own_name(text)) or is_third_party_finetune(text.finetune)
        if finetuned and fam.finetunes_work != "yes":
            what = f"base model {name!r}" if via_base and has_own_name(text) else f"fine-tune label {text.finetune!r}"
            return PairAssessment(
                tuple(cands),
                tuple(fams),
                comps,
                missing=(
                    f"the text model is a fine-tune of {fam.name}'s own text model ({chosen.variant.id}: {what}), "
                    f"and the database does not record that {fam.name} projectors work on fine-tunes",
                ),
                weak_differences=weak_of(chosen),
                text_is=text_is,
            )
        if finetuned:
            reason = (
                f"the text model {name!r} is a fine-tune of {fam.name}'s own text model ({chosen.variant.id}); "
                f"{fam.name} projectors are known to work on fine-tunes"
            )
        elif via_base:
            reason = (
                f"the text model has no name of its own and names {name!r} as its source: it is {fam.name}'s own "
                f"text model ({chosen.variant.id}) re-uploaded, and the projector's type, encoder and width are "
                "that model's"
            )
        else:
            reason = (
                f"the text model {name!r} is {fam.name}'s own text model ({chosen.variant.id}), "
                "and the projector's type, encoder and width are that model's"
            )
        return PairAssessment(
            tuple(cands),
            tuple(fams),
            comps,
            confirmed=(reason,),
            shared_with=others(chosen),
            weak_differences=weak_of(chosen),
            text_is=text_is,
        )

    location_note: tuple[str, ...] = ()
    text_loc = path_names(text_path)
    if text_loc and not _named_by_headers(text, identity, db):
        for c in cands:
            if contradictions_of(c) or not (name := names_match(c.variant.text_name_patterns, text_loc)):
                continue
            if c.named:
                header = (
                    f"its general.name {text.name!r} is a converter default" if text.name else "it has no general.name"
                )
                return PairAssessment(
                    tuple(cands),
                    tuple(fams),
                    comps,
                    confirmed=(
                        f"both files are named for {c.family.name}'s {c.variant.id} (the text model as {name!r}, the "
                        f"projector by its name or folder), and the projector's type, encoder and width are that "
                        f"model's; the text model's header names no model ({header})",
                    ),
                    shared_with=others(c),
                    weak_differences=weak_of(c),
                    text_is=text_is,
                )
            location_note = (
                f"the text model's file name {name!r} says {c.variant.id}, but neither header says so and the "
                "projector's name does not",
            )
            break

    open_cands = [c for c in cands if not contradictions_of(c)]
    if not open_cands:
        why = tuple(f"{_describe(c, db)}: {'; '.join(contradictions_of(c))}" for c in cands)
        return PairAssessment(tuple(cands), tuple(fams), comps, contradictions=why, text_is=text_is)

    identified = [c for c in open_cands if _lineage(db, c) is not None and comps[_lineage(db, c).id].identified]  # type: ignore[union-attr]
    lineage_ids = {c.variant.lineage for c in cands}
    if identified:
        chosen = identified[0]
        lin = _lineage(db, chosen)
        assert lin is not None
        comp = comps[lin.id]
        fam = chosen.family
        how = "; ".join(comp.identified_by + comp.finetune_of)
        if len(lineage_ids) > 1 and not chosen.named:
            return PairAssessment(
                tuple(cands),
                tuple(fams),
                comps,
                missing=(
                    f"the text model is {lin.name} ({how}), but the projector's header fits "
                    f"{' and '.join(header_lineages)} alike and nothing in it (general.name, description) says "
                    "which one it is",
                ),
                weak_differences=comp.weak_differences,
                text_is=text_is,
            )
        if fam.finetunes_work == "no":
            return PairAssessment(
                tuple(cands),
                tuple(fams),
                comps,
                co_trained=(
                    f"{fam.name} trains its language model together with the projector: {chosen.variant.id} needs "
                    f"{fam.name}'s own text model, and this one is the base model {lin.name} ({how})",
                ),
                missing=(f"nothing says this text model is {fam.name}'s own (its name is the base model's)",),
                weak_differences=comp.weak_differences,
                text_is=text_is,
            )
        if fam.finetunes_work == "yes":
            kind = "a fine-tune of " if comp.finetune_of and not comp.identified_by else ""
            return PairAssessment(
                tuple(cands),
                tuple(fams),
                comps,
                confirmed=(
                    f"the text model is {kind}{lin.name} ({how}), the base model of {chosen.variant.id}; "
                    f"{fam.name} projectors are known to work on {lin.name} and its fine-tunes",
                ),
                shared_with=others(chosen),
                weak_differences=comp.weak_differences,
                text_is=text_is,
            )
        return PairAssessment(
            tuple(cands),
            tuple(fams),
            comps,
            missing=(
                f"the text model is {lin.name} ({how}), the base model of {chosen.variant.id}, but the database "
                f"does not record whether {fam.name} projectors work on it (or only on {fam.name}'s own text model)",
            ),
            weak_differences=comp.weak_differences,
            text_is=text_is,
        )

    # Not identified as any candidate's lineage. A family that trains its language model with the
    # projector needs that model: a text model its own name identifies as another model is not it.
    named_other = [
        i for i in identity if i.identified_by and i.lineage.id not in {c.variant.lineage for c in open_cands}
    ]
    if named_other and all(c.family.finetunes_work == "no" for c in open_cands):
        other = named_other[0].lineage.name
        why = tuple(
            f"{_describe(c, db)}: {c.family.name} trains its language model with the projector, and this text "
            f"model is {other} ({'; '.join(named_other[0].identified_by)})"
            for c in open_cands
        )
        return PairAssessment(tuple(cands), tuple(fams), comps, contradictions=why, text_is=text_is)
    # A relative (a sibling fine-tune, or the base), or nothing known.
    for c in open_cands:
        lin = _lineage(db, c)
        if lin is None:
            continue
        for ident in identity:
            related = ident.lineage.id == lin.derived_from or ident.lineage.derived_from in (lin.id, lin.derived_from)
            if related and ident.lineage.id != lin.id:
                return PairAssessment(
                    tuple(cands),
                    tuple(fams),
                    comps,
                    missing=(
                        f"the text model is {ident.lineage.name}, and {c.variant.id}'s projector was trained with "
                        f"{lin.name}: related models, but a fine-tune's projector is not known to work on its "
                        "siblings or its base",
                    ),
                    weak_differences=comps[lin.id].weak_differences,
                    text_is=text_is,
                )
    names = sorted({lin.name for c in open_cands if (lin := _lineage(db, c)) is not None})
    supported = sorted(
        {s for c in open_cands if (lin := _lineage(db, c)) is not None for s in comps[lin.id].supported_by}
    )
    detail = "no general.name, basename or base_model names it"
    if supported:
        detail += f", and {supported[0]}"
    elif text.vocab is not None:
        detail += ", and its tokenizer fingerprint is not on record"
    what = " or ".join(names) if names else "the text model the projector was trained with (not recorded)"
    return PairAssessment(
        tuple(cands),
        tuple(fams),
        comps,
        missing=(f"nothing identifies the text model as {what} ({detail})", *location_note),
        text_is=text_is,
    )


__all__ = [
    "ARCH_EQUIVALENTS",
    "Candidate",
    "FamilyMatch",
    "LineageComparison",
    "Names",
    "PairAssessment",
    "TextNames",
    "assess_pair",
    "candidates",
    "canonical_arch",
    "compare_lineage",
    "is_third_party_finetune",
    "match_families",
    "match_lineages",
    "merged_encoder",
    "names_match",
    "projector_names",
    "text_identity",
    "vocab_relation",
]
