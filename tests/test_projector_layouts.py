"""The one table of projection layouts (mmcheck.projectors.layouts.LAYOUTS), checked type by type.

Two independent descriptions meet here: the layouts (read from llama.cpp's graph builders,
tools/mtmd/models/*.cpp@0c1e570) and the fixture builders' tensor plans (mmcheck.testing.builders,
written from the converters' output). A clean file of every type must walk without a problem and
end at the database's width; a layer or bias made one wider must be caught by MM503 / MM504 from
the header alone.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mmcheck.db import load_db
from mmcheck.inspection import inspect_file
from mmcheck.lint import lint_file
from mmcheck.projectors.layouts import LAYOUTS, LayoutInput, walk_tower
from mmcheck.projectors.ops import Linear, Norm
from mmcheck.testing import write_projector
from mmcheck.testing.builders import ProjectorSpec, projector_tensors

DB = load_db()
TYPES = sorted(LAYOUTS)


def _written(tmp_path: Path, type_id: str, **overrides: object) -> Path:
    return write_projector(tmp_path / f"{type_id}.gguf", projector_type=type_id, header_only=True, **overrides)


def _ops(path: Path, type_id: str) -> tuple[object, ...]:
    info = inspect_file(path, DB)
    assert info.projector is not None
    tower = next(iter(info.projector.towers.values()))
    fake = SimpleNamespace(tensors=info.header.tensors)
    return LAYOUTS[type_id].chain(LayoutInput(type_id, fake, 32, tower.merge, 2))  # type: ignore[arg-type]


def test_every_layout_is_a_type_llama_cpp_knows() -> None:
    assert set(LAYOUTS) <= set(DB.projector_types)
    for type_id, layout in LAYOUTS.items():
        assert layout.source.startswith("ggml-org/llama.cpp tools/mtmd/models/"), type_id
        assert layout.source.endswith("@0c1e570"), type_id


@pytest.mark.parametrize("type_id", TYPES)
def test_a_clean_file_walks_to_the_database_width(tmp_path: Path, type_id: str) -> None:
    path = _written(tmp_path, type_id, n_embd_out=48)
    info = inspect_file(path, DB)
    assert info.projector is not None
    for tower in info.projector.towers.values():
        walked = walk_tower(tower, info.projector, info.header)
        assert walked is not None
        assert walked.problems == [], walked.problems
        if tower.width.value is not None and walked.width is not None:
            assert walked.width == tower.width.value, (walked.width, tower.width)
    codes = {f.rule for f in lint_file(path).findings}
    assert not codes & {"MM503", "MM504"}, codes


def _planned_ops(type_id: str) -> tuple[object, ...]:
    """The chain of ``type_id`` over the tensors the builder writes (no file needed)."""
    spec = ProjectorSpec(projector_type=type_id)
    tensors = {name: shape for name, shape, _ in projector_tensors(type_id, spec)}
    merge = DB.projector_types[type_id].merge
    fake = SimpleNamespace(tensors=tensors)
    return LAYOUTS[type_id].chain(LayoutInput(type_id, fake, 32, merge.default if merge else None, 2))  # type: ignore[arg-type]


def _vectors(ops: tuple[object, ...], tensors: object) -> list[str]:
    names = [
        name
        for op in ops
        for name in ((op.bias,) if isinstance(op, Linear) else (op.weight, op.bias) if isinstance(op, Norm) else ())
        if name is not None
    ]
    return [n for n in names if n in tensors]  # type: ignore[operator]


def _planned_tensors(type_id: str) -> dict[str, tuple[int, ...]]:
    return {n: s for n, s, _ in projector_tensors(type_id, ProjectorSpec(projector_type=type_id))}


# the types whose chain applies a bias or norm vector (gemma4*, idefics3, llama4, voxtral apply none:
# voxtral's biases are in the file but clip.cpp@0c1e570:3173-3174 loads the weights only)
WITH_VECTORS = [t for t in TYPES if _vectors(_planned_ops(t), _planned_tensors(t))]


@pytest.mark.parametrize("type_id", TYPES)
def test_a_layer_that_does_not_chain_is_mm503(tmp_path: Path, type_id: str) -> None:
    """The chain's last required layer is made to take 8 more inputs than the stage before gives
    (for a first layer, the encoder's width; for the resampler, its own ln_post)."""
    clean = _written(tmp_path, type_id)
    last = [op for op in _ops(clean, type_id) if isinstance(op, Linear) and op.required][-1]
    shape = tuple(inspect_file(clean, DB).header.tensors[last.weight].shape)
    wider = (shape[0], shape[1] + 8) if last.transposed else (shape[0] + 8, *shape[1:])
    broken = _written(tmp_path / "b", type_id, override_shapes={last.weight: wider})
    findings = [f for f in lint_file(broken).findings if f.rule == "MM503"]
    assert findings, f"{type_id}: {last.weight} widened by 8 was not caught"
    assert last.weight in findings[0].message and findings[0].severity.value == "error"


@pytest.mark.parametrize("type_id", WITH_VECTORS)
def test_a_norm_or_bias_of_the_wrong_length_is_mm504(tmp_path: Path, type_id: str) -> None:
    clean = _written(tmp_path, type_id)
    tensors = inspect_file(clean, DB).header.tensors
    name = [n for n in _vectors(_ops(clean, type_id), tensors) if len(tensors[n].shape) == 1][-1]
    (n,) = tensors[name].shape
    broken = _written(tmp_path / "b", type_id, override_shapes={name: (n + 1,)})
    findings = [f for f in lint_file(broken).findings if f.rule == "MM504"]
    assert findings, f"{type_id}: {name} one element too long was not caught"
    assert name in findings[0].message


def test_a_squeezed_depthwise_kernel_is_accepted_as_ggml_does() -> None:
    """MobileVLM V2's converter writes the PEG kernel squeezed, ne = [3, 3, 2048] (llama.cpp PR #9763's
    dump; tests/corpus/headers/mobilevlm-v2-1.7b-mmproj-f16.yaml). ggml_conv_2d_dw reshapes the kernel
    to (kw, kh, 1, ne[2]*ne[3]) (ggml/src/ggml.c:4901 @0c1e570), so both layouts load."""
    from mmcheck.projectors.ops import Depthwise
    from mmcheck.projectors.shapes import depthwise_fits

    op = Depthwise("mm.model.peg.0.weight")
    assert depthwise_fits(op, (3, 3, 2048), 2048) is None
    assert depthwise_fits(op, (3, 3, 1, 2048), 2048) is None
    problem = depthwise_fits(op, (3, 3, 2047), 2048)
    assert problem is not None and problem.kind == "chain" and "expected [kw, kh, 1, 2048]" in problem.message


@pytest.mark.parametrize("type_id", TYPES)
def test_a_projection_tensor_the_graph_needs_is_mm502_when_missing(tmp_path: Path, type_id: str) -> None:
    """Every tensor the chain reads as required (clip.cpp loads it as required, or uses it unchecked:
    cross-checked against the loader's get_tensor calls) is reported when it is absent."""
    clean = _written(tmp_path, type_id)
    first = next(op for op in _ops(clean, type_id) if isinstance(op, Linear) and op.required)
    broken = _written(tmp_path / "b", type_id, drop_tensors=[first.weight])
    findings = [f for f in lint_file(broken).findings if f.rule == "MM502"]
    assert findings and first.weight in " ".join(f.message for f in findings), type_id


def _db_projection_requirements() -> list[tuple[str, str]]:
    return [
        (t, name)
        for t in TYPES
        for name in DB.projector_types[t].required_tensors
        if name.startswith(("mm.", "resampler.")) and name in _planned_tensors(t)
    ]


@pytest.mark.parametrize(("type_id", "name"), _db_projection_requirements())
def test_the_layout_requires_what_the_database_requires(tmp_path: Path, type_id: str, name: str) -> None:
    """The database's required projection tensors (cited per type) are required by the layout too:
    without one, the shape walk itself reports it missing. The two descriptions must not disagree."""
    path = _written(tmp_path, type_id, drop_tensors=[name])
    info = inspect_file(path, DB)
    assert info.projector is not None
    missing = [
        p.tensor
        for tower in info.projector.towers.values()
        if (walked := walk_tower(tower, info.projector, info.header)) is not None
        for p in walked.problems
        if p.kind == "missing"
    ]
    assert name in missing, missing
