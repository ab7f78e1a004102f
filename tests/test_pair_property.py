"""Property: over random generated pairs, `mismatch` exactly when llama.cpp's width rule would
refuse the pair or a crash hazard is present (the width check of tools/mtmd/mtmd.cpp:604, and the
load-time crash hazards the projection layouts of mmcheck/projectors/layouts.py describe)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcheck.db import load_db
from mmcheck.pair import check_pair
from mmcheck.projectors.layouts import LAYOUTS, LayoutInput
from mmcheck.projectors.ops import Linear
from mmcheck.testing import write_projector, write_text_model
from mmcheck.testing.builders import ProjectorSpec, projector_tensors
from mmcheck.verdict import Verdict

DB = load_db()
TYPES = sorted(LAYOUTS)
WIDTHS = [32, 48, 64]


def _linear_layers(type_id: str) -> list[tuple[str, str | None]]:
    """The required linear layers of the type's chain, in graph order (from the one layout table)."""
    spec = ProjectorSpec(projector_type=type_id)
    fake = SimpleNamespace(tensors={name: shape for name, shape, _ in projector_tensors(type_id, spec)})
    merge = DB.projector_types[type_id].merge
    given = LayoutInput(type_id, fake, spec.width, merge.default if merge else None, 2)  # type: ignore[arg-type]
    ops = LAYOUTS[type_id].chain(given)
    return [(op.weight, op.bias) for op in ops if isinstance(op, Linear) and op.required and not op.transposed]


@st.composite
def pairs(draw: st.DrawFn) -> dict[str, object]:
    type_id = draw(st.sampled_from(TYPES))
    corruption = draw(st.sampled_from(["none", "none", "drop-width-tensor", "chain", "bias"]))
    return {
        "type": type_id,
        "text_width": draw(st.sampled_from(WIDTHS)),
        "proj_width": draw(st.sampled_from(WIDTHS)),
        "corruption": corruption,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=pairs())
def test_mismatch_iff_width_refused_or_hazard(case: dict[str, object]) -> None:
    type_id = str(case["type"])
    spec = DB.projector_types[type_id]
    text_width, proj_width = int(case["text_width"]), int(case["proj_width"])  # type: ignore[call-overload]
    markers = [m.text for m in spec.markers if m.kind in ("T", "L")]
    arch = spec.text_architectures[0] if spec.text_architectures else "llama"
    overrides: dict[str, tuple[int, ...]] = {}
    drop: list[str] = []
    hazard = False
    corruption = case["corruption"]
    layers = _linear_layers(type_id)
    plan = {
        name: shape
        for name, shape, _ in projector_tensors(type_id, ProjectorSpec(projector_type=type_id, n_embd_out=proj_width))
    }
    if corruption == "drop-width-tensor" and spec.width.tensor:
        drop = [spec.width.tensor]
        hazard = True  # missing width tensor: llama.cpp refuses (required) or segfaults (optional)
    elif corruption == "chain" and len(layers) >= 2:
        last = layers[-1][0]
        shape = plan[last]
        overrides[last] = (shape[0] + 8, *shape[1:])  # the last layer no longer takes the previous output
        hazard = True
    elif corruption == "bias" and layers and layers[-1][1] in plan:
        bias = str(layers[-1][1])
        (n,) = plan[bias]
        overrides[bias] = (n - 1,)
        hazard = True
    with tempfile.TemporaryDirectory() as d:
        model = write_text_model(
            Path(d) / "m.gguf",
            arch=arch,
            n_embd=text_width,
            rope_sections=[4, 6, 6, 0] if spec.rope else None,
            special_tokens=[m for m in markers if m != "\n"],
            header_only=True,
        )
        proj = write_projector(
            Path(d) / "p.gguf",
            projector_type=type_id,
            n_embd_out=proj_width,
            drop_tensors=drop,
            override_shapes=overrides,
            header_only=True,
        )
        report = check_pair(model, proj, smoke=False, db=DB)
    refused = proj_width != text_width or hazard
    findings = [(f.rule, f.message) for f in report.findings if f.severity.value == "error"]
    assert (report.verdict == Verdict.MISMATCH) == refused, (case, findings)
