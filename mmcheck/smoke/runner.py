"""Orchestration of the smoke test (imported lazily by :func:`mmcheck.smoke.run_smoke`)."""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np

from mmcheck.facts.projector import TowerFacts
from mmcheck.inspection import FileInfo
from mmcheck.projectors.layouts import layout_input, plan_for
from mmcheck.smoke.baked import compare_baked
from mmcheck.smoke.embedding_space import compare, sample_rows
from mmcheck.smoke.forward import Forward, ShapeError, merge_factor
from mmcheck.smoke.model import SmokeFinding, SmokeResult, skipped
from mmcheck.smoke.tensors import F32Array, SmokeSkip, TensorReader


def _run_tower(
    tower: TowerFacts, mmproj: FileInfo, fwd: Forward, n_tokens: int, rng: np.random.Generator
) -> tuple[F32Array | None, dict[str, Any]]:
    """Forward one tower; returns its output (None when the pass stopped) and a summary."""
    assert mmproj.projector is not None
    ctx = layout_input(tower, mmproj.projector, mmproj.header)
    plan = plan_for(ctx.type_id, tower.spec, ctx)
    summary: dict[str, Any] = {"modality": tower.modality, "type": ctx.type_id, "full_definition": plan.full}
    if not plan.ops:
        summary["note"] = plan.note or "no projection layers known for this type"
        return None, summary
    width = plan.input_width if plan.input_width is not None else fwd.first_input_width(plan)
    if width is None:
        summary["note"] = "encoder width unknown"
        return None, summary
    rows = n_tokens * merge_factor(plan.ops)
    x = rng.standard_normal((rows, width)).astype(np.float32)
    try:
        out = fwd.run_chain(plan.ops, x)
    except (ShapeError, FloatingPointError):
        return None, summary
    summary["output_width"] = int(out.shape[1])
    return out, summary


def _width_finding(tower: TowerFacts, out: F32Array, n_embd_inp: int | None) -> SmokeFinding | None:
    if n_embd_inp is None or out.shape[1] == n_embd_inp:
        return None
    return SmokeFinding(
        "MM804",
        f"{tower.modality} projection outputs width {out.shape[1]}, the text model expects {n_embd_inp}",
        "llama.cpp refuses the pair (mismatch between text model and mmproj); use a projector made for this model",
    )


def run(model: FileInfo, mmproj: FileInfo, *, n_tokens: int, seed: int, embd_sample: int) -> SmokeResult:
    """The smoke test proper; may raise (``run_smoke`` turns exceptions into ``skipped``)."""
    t_start = time.perf_counter()
    if model.text is None:
        return skipped(f"{model.path.name} is not a text model")
    if mmproj.projector is None or not mmproj.projector.towers:
        return skipped(f"{mmproj.path.name} is not a projector with a known tower")
    proj_reader, text_reader = TensorReader(mmproj.header), TensorReader(model.header)
    try:
        proj_reader.check_data()
        text_reader.check_data()
        # ±inf or huge weights overflow the forward pass and the embedding statistics: that is
        # reported as findings (MM802 bad weights, MM803 non-finite outputs), not as numpy's
        # RuntimeWarnings on stderr (errstate covers dequantization, forward, embedding space, baked)
        with np.errstate(all="ignore"):
            result = _run_checked(model, mmproj, proj_reader, text_reader, n_tokens, seed, embd_sample, t_start)
    except SmokeSkip as exc:
        return skipped(str(exc), _timings(proj_reader, text_reader, None, 0.0, t_start))
    return result


def _timings(
    proj: TensorReader, text: TensorReader, fwd: Forward | None, embd_ms: float, t_start: float
) -> dict[str, float]:
    return {
        "read": round(proj.read_ms + text.read_ms, 3),
        "dequantize": round(proj.dequant_ms + text.dequant_ms, 3),
        "forward": round(fwd.forward_ms if fwd else 0.0, 3),
        "embedding": round(embd_ms, 3),
        "total": round((time.perf_counter() - t_start) * 1000.0, 3),
    }


def _run_checked(
    model: FileInfo,
    mmproj: FileInfo,
    proj_reader: TensorReader,
    text_reader: TensorReader,
    n_tokens: int,
    seed: int,
    embd_sample: int,
    t_start: float,
) -> SmokeResult:
    text = model.text
    proj = mmproj.projector
    assert text is not None and proj is not None
    rng = np.random.default_rng(seed)
    fwd = Forward(proj_reader)
    findings: list[SmokeFinding] = []
    towers = [t for t in proj.towers.values() if t.type_id]
    outputs: dict[str, F32Array] = {}
    summaries = []
    for tower in towers:
        fwd.prefix = f"{tower.modality}: " if len(towers) > 1 else ""
        out, summary = _run_tower(tower, mmproj, fwd, n_tokens, rng)
        summaries.append(summary)
        if out is not None:
            outputs[tower.modality] = out
            wf = _width_finding(tower, out, text.n_embd_inp)
            if wf:
                findings.append(wf)
    findings = fwd.findings + findings

    # embedding space: the primary tower's output against sampled token_embd rows
    t_embd = time.perf_counter()
    io0 = text_reader.read_ms + text_reader.dequant_ms
    scale_ratio = alignment = None
    detail: dict[str, Any] = {"towers": summaries}
    primary = proj.primary
    embd_info = text_reader.info("token_embd.weight")
    out = outputs.get(primary.modality) if primary is not None else None
    if out is None:
        detail["skipped"] = "no projected output"
    elif embd_info is None:
        detail["skipped"] = "text model has no token_embd.weight"
    elif out.shape[1] % embd_info.shape[0] or out.shape[1] < embd_info.shape[0]:
        detail["skipped"] = f"output width {out.shape[1]} is not a multiple of n_embd {embd_info.shape[0]}"
    else:
        embd = sample_rows(text_reader, "token_embd.weight", embd_sample, seed)
        ev = compare(out[:, : embd_info.shape[0]], embd)  # deepstack: the main path's columns
        scale_ratio, alignment = ev.scale_ratio, ev.alignment
        detail.update(ev.detail)
        if ev.finding:
            findings.append(ev.finding)

    baked: list[dict[str, Any]] = []
    lineage: Literal["confirmed", "contradicted"] | None = None
    for tower in towers:
        recs, bf = compare_baked(tower.type_id or "", proj_reader, text, text_reader)
        baked += recs
        findings += bf
    if any(f.code == "MM806" for f in findings):
        lineage = "contradicted"
    elif any(f.code == "MM807" for f in findings):
        lineage = "confirmed"
    embd_ms = (time.perf_counter() - t_embd) * 1000.0 - (text_reader.read_ms + text_reader.dequant_ms - io0)

    # the test fails on evidence against the pair; an aligned embedding space (MM807/MM809) is for it
    failed = any(f.against for f in findings)
    ran = ", ".join(f"{s['type']} ({'full chain' if s['full_definition'] else 'final layer only'})" for s in summaries)
    reason = f"ran {len(fwd.stages)} stage(s): {ran}" if fwd.stages else f"nothing to run: {ran}"
    if failed:
        reason += "; " + "; ".join(f"{f.code} {f.name}" for f in findings if f.against)
    return SmokeResult(
        status="failed" if failed else "passed",
        reason=reason,
        findings=tuple(findings),
        stages=tuple(fwd.stages),
        scale_ratio=scale_ratio,
        alignment=alignment,
        baked=tuple(baked),
        timings=_timings(proj_reader, text_reader, fwd, max(embd_ms, 0.0), t_start),
        lineage_evidence=lineage,
        embedding=detail,
    )
