"""Execute a projection :class:`~mmcheck.projectors.layouts.Plan` with numpy, checking every layer.

Checks: a layer's input width equals the previous output (MM801), bias and norm lengths (MM801),
required tensors present (MM801), weights not all zero / constant / NaN / Inf (MM802) and finite
outputs after every stage (MM803). A shape error stops the pass: llama.cpp would abort there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmcheck.projectors.layouts import Plan
from mmcheck.projectors.ops import (
    Act,
    Branches,
    Depthwise,
    Gated,
    Linear,
    Merge,
    Norm,
    Op,
    Scale,
    SqueezeExcite,
    SwiGLU,
)
from mmcheck.projectors.shapes import ShapeMismatch, depthwise_fits, input_problem, linear_dims, vector_fits
from mmcheck.smoke.model import SmokeFinding
from mmcheck.smoke.tensors import F32Array, TensorReader

_CRASH_HINT = "llama.cpp aborts (GGML_ASSERT) or crashes on this file at warm-up; get an intact projector"


class ShapeError(Exception):
    """A layer does not fit its input; the message names it."""


@dataclass
class Forward:
    """The state of one forward pass: findings, stage records, tensors already checked."""

    reader: TensorReader
    prefix: str = ""
    findings: list[SmokeFinding] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    forward_ms: float = 0.0

    # -- tensors ------------------------------------------------------------------------------

    def _shape_error(self, message: str) -> ShapeError:
        self.findings.append(SmokeFinding("MM801", message, _CRASH_HINT))
        return ShapeError(message)

    def _tensor(self, name: str, *, matrix: bool) -> F32Array:
        arr = self.reader.read(name)
        if name not in self.checked:
            self.checked.add(name)
            self._check_weights(name, arr, matrix=matrix)
        return arr

    def _check_weights(self, name: str, arr: F32Array, *, matrix: bool) -> None:
        if not arr.size:
            return
        problem = None
        lo, hi = float(arr.min()), float(arr.max())  # NaN propagates through min/max
        if not (np.isfinite(lo) and np.isfinite(hi)):
            n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            problem = f"holds {n_bad} NaN/Inf value(s)"
        elif lo == hi == 0.0:
            # an all-zero matrix or norm scale kills the signal; an all-zero bias is normal
            if matrix or not name.endswith(".bias"):
                problem = "is all zero"
        elif matrix and arr.size > 1 and lo == hi:
            problem = f"is constant ({lo:g})"
        if problem:
            self.findings.append(
                SmokeFinding(
                    "MM802",
                    f"weight tensor {name} {problem}",
                    "the projector's weights are damaged (bad conversion, bad quantization or a corrupt "
                    "download): it loads but produces garbage; re-download or re-convert it",
                )
            )

    def _width_of(self, name: str, required: bool) -> tuple[int, ...] | None:
        info = self.reader.info(name)
        if info is None:
            if required:
                raise self._shape_error(f"missing layer: tensor {name} is not in the projector")
            return None
        return info.shape

    def _vector(self, name: str | None, width: int, what: str, *, required: bool) -> F32Array | None:
        if name is None:
            return None
        shape = self._width_of(name, required)
        if shape is None:
            return None
        problem = vector_fits(name, shape, width, what)
        if problem is not None:
            raise self._shape_error(problem.message)
        return self._tensor(name, matrix=False).reshape(width)

    # -- ops ----------------------------------------------------------------------------------

    def _linear(self, op: Linear, x: F32Array) -> tuple[F32Array, list[str]] | None:
        shape = self._width_of(op.weight, op.required)
        if shape is None:
            return None
        try:
            n_in, n_out = linear_dims(op, shape)
        except ShapeMismatch as e:
            raise self._shape_error(e.problem.message) from None
        problem = input_problem(op, n_in, x.shape[1])
        if problem is not None:
            raise self._shape_error(problem.message)
        bias = self._vector(op.bias, n_out, "bias", required=op.bias_required)
        w = self._tensor(op.weight, matrix=True)
        # (W @ x^T)^T keeps W C-contiguous: several times faster than x @ W^T for few rows
        y = x @ w.reshape(n_in, n_out) if op.transposed else (w.reshape(n_out, n_in) @ x.T).T
        if bias is not None:
            y = y + bias
        used = [op.weight] + ([op.bias] if bias is not None and op.bias else [])
        return y.astype(np.float32, copy=False), used

    def _norm(self, op: Norm, x: F32Array) -> tuple[F32Array, list[str]]:
        d = x.shape[1]
        if op.kind == "layer":
            y = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)
        elif op.kind == "rms":
            y = x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + 1e-6)
        else:
            y = x
        used = []
        w = self._vector(op.weight, d, "norm weight", required=op.required)
        if w is not None and op.weight:
            y = y * w
            used.append(op.weight)
        b = self._vector(op.bias, d, "norm bias", required=op.bias_required)
        if b is not None and op.bias:
            y = y + b
            used.append(op.bias)
        return y.astype(np.float32, copy=False), used

    def _gated(self, op: Gated, x: F32Array) -> tuple[F32Array, list[str]]:
        g = self._linear(Linear(op.gate, op.gate_bias), x)
        u = self._linear(Linear(op.up, op.up_bias), x)
        assert g is not None and u is not None
        if g[0].shape[1] != u[0].shape[1]:
            raise self._shape_error(
                f"gate {op.gate} and up {op.up} output widths differ ({g[0].shape[1]} vs {u[0].shape[1]})"
            )
        return activate(op.act, g[0]) * u[0], g[1] + u[1]

    def _depthwise(self, op: Depthwise, x: F32Array) -> tuple[F32Array, list[str]]:
        shape = self._width_of(op.weight, True)
        assert shape is not None
        problem = depthwise_fits(op, shape, x.shape[1])
        if problem is not None:
            raise self._shape_error(problem.message)
        w = self._tensor(op.weight, matrix=True).reshape(x.shape[1], -1).sum(axis=1)  # channels lead
        y = x * w
        used = [op.weight]
        b = self._vector(op.bias, x.shape[1], "bias", required=op.bias is not None)
        if b is not None and op.bias:
            y = y + b
            used.append(op.bias)
        return y.astype(np.float32, copy=False), used

    def _squeeze(self, op: SqueezeExcite, x: F32Array) -> tuple[F32Array, list[str]]:
        pooled = x.mean(axis=0, keepdims=True)
        a = self._linear(Linear(f"{op.fc1}.weight", f"{op.fc1}.bias", bias_required=True), pooled)
        assert a is not None
        b = self._linear(Linear(f"{op.fc2}.weight", f"{op.fc2}.bias", bias_required=True), np.maximum(a[0], 0))
        assert b is not None
        if b[0].shape[1] != x.shape[1]:
            raise self._shape_error(f"squeeze-excite {op.fc2} outputs {b[0].shape[1]}, expected {x.shape[1]}")
        gate = np.clip(b[0] / 6.0 + 0.5, 0.0, 1.0)
        return (x * gate).astype(np.float32, copy=False), a[1] + b[1]

    def _step(self, op: Op, x: F32Array) -> tuple[F32Array, str, str, list[str]] | None:
        """Run one op: (output, stage name, op kind, tensors used), or None when it was skipped."""
        if isinstance(op, Linear):
            r = self._linear(op, x)
            return None if r is None else (r[0], op.weight.removesuffix(".weight"), "linear", r[1])
        if isinstance(op, Norm):
            absent = op.weight is not None and self.reader.info(op.weight) is None
            if absent and not op.required and op.kind == "affine":
                return None
            y, used = self._norm(op, x)
            name = op.weight.removesuffix(".weight") if op.weight else f"{op.kind}_norm"
            return y, name, f"{op.kind}-norm", used
        if isinstance(op, Act):
            return activate(op.kind, x), op.kind, "activation", []
        if isinstance(op, Merge):
            if op.factor <= 0 or x.shape[0] % op.factor:
                raise self._shape_error(f"{op.label}: cannot merge {x.shape[0]} rows by {op.factor}")
            return x.reshape(x.shape[0] // op.factor, x.shape[1] * op.factor), f"{op.label} x{op.factor}", "merge", []
        if isinstance(op, Scale):
            return (x * np.float32(op.value)).astype(np.float32), op.label, "scale", []
        if isinstance(op, SwiGLU):
            if x.shape[1] % 2:
                raise self._shape_error(f"swiglu needs an even width, got {x.shape[1]}")
            h = x.shape[1] // 2
            a, b = x[:, :h], x[:, h:]
            y = a * activate("silu", b) if op.swapped else activate("silu", a) * b
            return y, "swiglu", "activation", []
        if isinstance(op, Gated):
            y, used = self._gated(op, x)
            return y, op.gate.removesuffix(".weight") + " * up", "gated-ffn", used
        if isinstance(op, Depthwise):
            y, used = self._depthwise(op, x)
            return y, op.weight.removesuffix(".weight"), "depthwise-conv (constant image)", used
        if isinstance(op, SqueezeExcite):
            y, used = self._squeeze(op, x)
            return y, op.fc1.rsplit(".", 1)[0] + " (squeeze-excite)", "squeeze-excite", used
        if isinstance(op, Branches):
            outs = [self.run_chain(chain, x) for chain in op.chains]
            return np.concatenate(outs, axis=1), op.label, "concat", []
        raise TypeError(f"unknown op {op!r}")

    def run_chain(self, ops: tuple[Op, ...], x: F32Array) -> F32Array:
        """Run ``ops`` on ``x``, recording stages. Raises ShapeError (already recorded as MM801)."""
        for op in ops:
            t0 = time.perf_counter()
            d0 = self.reader.read_ms + self.reader.dequant_ms
            shape_in = list(x.shape)
            r = self._step(op, x)
            if r is None:
                continue
            x, name, kind, used = r
            ms = (time.perf_counter() - t0) * 1000.0
            io_ms = self.reader.read_ms + self.reader.dequant_ms - d0
            self.forward_ms += max(ms - io_ms, 0.0)
            self.stages.append(
                {
                    "name": self.prefix + name,
                    "op": kind,
                    "input_shape": shape_in,
                    "output_shape": list(x.shape),
                    "tensors": used,
                    "ms": round(ms, 3),
                }
            )
            if not np.isfinite(x).all():
                self.findings.append(
                    SmokeFinding(
                        "MM803",
                        f"stage {self.prefix}{name} produced non-finite values (NaN/Inf)",
                        "the projector's weights overflow or are damaged; the text model would receive garbage",
                    )
                )
                raise FloatingPointError(name)
        return x

    def first_input_width(self, plan: Plan) -> int | None:
        """The input width of the first layer that has one (for plans without an encoder width)."""
        for op in plan.ops:
            if isinstance(op, Norm) and op.weight:
                info = self.reader.info(op.weight)
                if info is not None:
                    return info.shape[0]
            if isinstance(op, Linear):
                info = self.reader.info(op.weight)
                if info is None:
                    return None
                try:
                    return linear_dims(op, tuple(info.shape))[0]
                except ShapeMismatch:
                    return None
            if isinstance(op, Merge):
                return None
        return None


def merge_factor(ops: tuple[Op, ...]) -> int:
    """The product of the top-level merge factors (rows consumed per output row)."""
    f = 1
    for op in ops:
        if isinstance(op, Merge) and op.factor > 0:
            f *= op.factor
    return f


def activate(kind: str, x: F32Array) -> F32Array:
    """Apply an activation (GELU uses the tanh approximation for both gelu and gelu_erf)."""
    if kind in ("gelu", "gelu_erf"):
        y = 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
    elif kind == "gelu_quick":
        y = x / (1.0 + np.exp(-1.702 * np.clip(x, -60, 60)))
    elif kind == "silu":
        y = x / (1.0 + np.exp(-np.clip(x, -60, 60)))
    elif kind == "relu":
        y = np.maximum(x, 0)
    elif kind == "hardswish":
        y = x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    else:
        raise ValueError(f"unknown activation {kind}")
    return y.astype(np.float32, copy=False)
