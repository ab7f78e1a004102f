"""MM4xx — will the runtime know this projector type at all?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.rules.base import Context, Hit, Severity, rule

if TYPE_CHECKING:
    from mmcheck.runtimes import Support


@rule("MM401", "unknown-projector-type", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def unknown_projector_type(ctx: Context) -> Iterator[Hit]:
    """The projector type is not one llama.cpp knows.

    Why: llama.cpp refuses it (`load_hparams: unknown projector type: X`). The string may come from
    a fork (`phi3_v`, `locateanything`) or from a llama.cpp newer than the database.

    Fix: Use a runtime that supports the type, or a projector converted by upstream llama.cpp.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    for m, tower in ctx.mmproj.projector.towers.items():
        if tower.declared_type is not None and not tower.known:
            shown = tower.declared_type or "(empty string)"
            yield Hit(
                f"{m} projector type {shown!r} is unknown to llama.cpp {ctx.db.revision}",
                "it needs a fork or a newer runtime; check `mmcheck db list` for supported types",
                file="mmproj",
            )


@rule("MM402", "missing-projector-type", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def missing_projector_type(ctx: Context) -> Iterator[Hit]:
    """The projector has no `clip.projector_type` (a 2023-24 LLaVA-era file), or no encoder flag.

    Why: Current llama.cpp fails with `unknown projector type: ` (empty); builds before 2025 assumed
    `mlp`, Ollama adds the key on import. A file with neither `clip.has_vision_encoder` nor
    `clip.has_audio_encoder` fails with `Failed to load CLIP model`.

    Fix: Add the type with gguf-py (`gguf_set_metadata`/`gguf_new_metadata`), e.g. `mlp` for
    LLaVA-1.5/1.6 files, or download a re-converted projector.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    p = ctx.mmproj.projector
    if not p.has_vision and not p.has_audio and not p.has_gen_audio:
        yield Hit("projector declares no encoder (clip.has_vision_encoder / has_audio_encoder)", "", file="mmproj")
    elif p.legacy_untyped:
        guess = f"; its tensors suggest {p.inferred_type!r}" if p.inferred_type else ""
        yield Hit(
            f"projector has no clip.projector_type (legacy file){guess}",
            f"set clip.projector_type = {p.inferred_type or 'mlp'!r} or use a re-converted projector",
            file="mmproj",
        )


@rule("MM403", "runtime-version-required", severity=Severity.INFO, scope="projector")
def runtime_version_required(ctx: Context) -> Iterator[Hit]:
    """The projector type is newer than some runtime releases: the first version of each runtime
    that loads it, from the version table (`compat_db/runtimes.yaml`).

    Why: Bundled runtimes (KoboldCpp, LM Studio, Ollama, llama-cpp-python) lag upstream by weeks; a
    type added upstream is `unknown projector type` in an older build. Types every recorded version
    loads are not reported.

    Fix: Update the runtime to at least the version shown, or name yours with `--runtime`.
    """
    from mmcheck.runtimes import first_versions

    for declared in dict.fromkeys(t for _, t in _declared_towers(ctx)):
        firsts = [f for f in first_versions(ctx.db, declared) if not f.endswith(" or earlier")]
        if firsts:
            yield Hit(
                f"{declared} is loaded from: {'; '.join(firsts)}",
                "check your runtime's version, or pass --runtime NAME@VERSION",
                file="mmproj",
            )


@rule("MM404", "legacy-flags", severity=Severity.INFO, scope="projector")
def legacy_flags(ctx: Context) -> Iterator[Hit]:
    """The projector carries legacy `clip.has_*_projector` flags that current llama.cpp ignores.

    Why: Old conversion scripts wrote them; they say which script produced the file, nothing more.

    Fix: Nothing; informational.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    flags = [
        k
        for k, v in ctx.mmproj.projector.legacy_flags.items()
        if v and (k.endswith("_projector") or k == "has_qwen2vl_merger")
    ]
    if flags:
        yield Hit(f"legacy flags: {', '.join(sorted(flags))}", "", file="mmproj")


def _runtime_spec(ctx: Context):  # type: ignore[no-untyped-def]
    """The runtime the options name, or None (a bad value was rejected when the options were read)."""
    if not ctx.options.runtime:
        return None
    from mmcheck.errors import ConfigError
    from mmcheck.runtimes import parse_runtime

    try:
        return parse_runtime(ctx.options.runtime, ctx.db, ctx.options.runtime_version)
    except ConfigError:
        return None


def _declared_towers(ctx: Context) -> Iterator[tuple[str, str]]:
    """(modality, declared type string) of every tower whose type the database knows."""
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    for m, tower in ctx.mmproj.projector.towers.items():
        if tower.known and tower.declared_type:
            yield m, tower.declared_type


def _support(ctx: Context) -> Iterator[Support]:
    """Whether the named runtime loads each of the projector's declared types (each type once)."""
    from mmcheck.runtimes import type_support

    spec = _runtime_spec(ctx)
    if spec is None:
        return
    for type_string in dict.fromkeys(t for _, t in _declared_towers(ctx)):
        yield type_support(ctx.db, spec, type_string)


@rule("MM405", "runtime-too-old", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def runtime_too_old(ctx: Context) -> Iterator[Hit]:
    """The runtime you named (`--runtime`, or the one `mmcheck exec` detected) does not load this projector type.

    Why: A runtime that bundles an older llama.cpp refuses the file (`unknown projector type`) or,
    in KoboldCpp, fails the whole load. The table is `compat_db/runtimes.yaml` (docs/runtimes.md).

    Fix: Update the runtime to at least the version named, or use a projector type it loads.
    """
    for s in _support(ctx):
        if s.status == "no":
            name = ctx.db.runtimes[s.spec.runtime].name
            need = f"update to {name} {s.first_known} or newer" if s.first_known else "use a runtime that loads it"
            yield Hit(s.reason, need, file="mmproj")


@rule("MM406", "runtime-support-unknown", severity=Severity.INFO, scope="projector")
def runtime_support_unknown(ctx: Context) -> Iterator[Hit]:
    """Whether the runtime you named loads this projector type is not known.

    Why: `compat_db/runtimes.yaml` records only what a release note, a pinned submodule or a vendored
    copy shows; versions between two recorded ones, and runtimes whose bundled llama.cpp is not
    published, stay unknown rather than guessed.

    Fix: Nothing to fix; try the pair, or tell us the llama.cpp build your runtime bundles.
    """
    for s in _support(ctx):
        if s.status == "unknown":
            yield Hit(f"not known: {s.reason}", "", file="mmproj")
