"""Walk a projection chain over tensor shapes alone: the widths each op takes and gives.

This is the one place that knows how an op's tensors fix its input and output widths. The
header-only rules (MM503 layers-do-not-chain, MM504 bias-length-mismatch) walk every type's chain
with it; the smoke test asks it for each op's dimensions before running the op with numpy. A shape
that does not fit makes llama.cpp abort when it builds the graph (``ggml_can_mul_mat``,
``ggml_can_repeat``) at clip's warm-up (clip_model_loader::warmup, tools/mtmd/clip.cpp:3737
@0c1e570).
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from collections.abc import Callable
from typing import Literal, NamedTuple

from mmcheck.projectors.ops import (
    Branches,
    Depthwise,
    Gated,
    Linear,
    Merge,
    Norm,
    Op,
    SqueezeExcite,
    SwiGLU,
)

ShapeOf = Callable[[str], "tuple[int, ...] | None"]
ProblemKind = Literal["chain", "bias", "missing"]


class ShapeProblem(NamedTuple):
    """One op that does not fit: ``chain`` (input width), ``bias`` (a bias or norm length) or
    ``missing`` (a tensor the op needs is absent; the required-tensor rules report those)."""

    kind: ProblemKind
    tensor: str
    message: str


class ShapeMismatch(Exception):
    """Raised by :func:`linear_dims` and friends when an op cannot take its input."""

    def __init__(self, problem: ShapeProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def linear_dims(op: Linear, shape: tuple[int, ...]) -> tuple[int, int]:
    """``(n_in, n_out)`` of a linear layer whose weight has ``shape`` (ggml ne order).

    ggml stores ``Linear(in, out)`` as ne = (in, out); a conv weight used as one (ne = (kw, kh, c_in,
    c_out)) takes ``kw*kh*c_in`` inputs. ``transposed`` weights are applied as ``x @ W``: ne = (out, in).
    """
    if op.transposed:
        if len(shape) != 2:
            raise ShapeMismatch(
                ShapeProblem("chain", op.weight, f"layer {op.weight} has shape {list(shape)}, expected a matrix")
            )
        return shape[1], shape[0]
    if len(shape) < 2:
        raise ShapeMismatch(
            ShapeProblem("chain", op.weight, f"layer {op.weight} is not a matrix (shape {list(shape)})")
        )
    return _count(shape[:-1]), shape[-1]


def input_problem(op: Linear, n_in: int, width: int) -> ShapeProblem | None:
    """A layer that takes ``n_in`` inputs after a stage ``width`` wide: a problem, or None."""
    if n_in == width:
        return None
    return ShapeProblem("chain", op.weight, f"{op.weight} takes {n_in} inputs but the previous stage outputs {width}")


def vector_fits(name: str, shape: tuple[int, ...], width: int, what: str) -> ShapeProblem | None:
    """A bias or norm vector of ``shape`` applied to rows ``width`` wide: a problem, or None."""
    if _count(shape) != width or shape[0] != width:
        length = shape[0] if len(shape) == 1 else list(shape)
        return ShapeProblem("bias", name, f"{what} {name} has length {length}, expected {width}")
    return None


def depthwise_fits(op: Depthwise, shape: tuple[int, ...], width: int) -> ShapeProblem | None:
    """A depthwise conv weight on ``width`` channels: a problem, or None.

    ``ggml_conv_2d_dw`` reshapes the kernel to (kw, kh, 1, ne[2]*ne[3]) (ggml/src/ggml.c:4901
    @0c1e570), so ne = (kw, kh, 1, C) and the squeezed (kw, kh, C) of older converters both work.
    """
    if len(shape) not in (3, 4) or _count(shape[2:]) != width:
        return ShapeProblem(
            "chain",
            op.weight,
            f"depthwise conv {op.weight} has shape {list(shape)}, expected [kw, kh, 1, {width}] or [kw, kh, {width}]",
        )
    return None


class ShapeWalk(NamedTuple):
    """The result of walking a chain: its output width (None when unknown) and the problems."""

    width: int | None
    problems: list[ShapeProblem]


def walk(ops: tuple[Op, ...], shape_of: ShapeOf, width: int | None) -> ShapeWalk:
    """Walk ``ops`` from an input ``width`` wide (None: take the first layer's own input).

    Like llama.cpp's graph build, the walk stops at the first layer that does not chain; bias and
    norm lengths are checked on the way. A missing tensor makes the width unknown from there on.
    """
    problems: list[ShapeProblem] = []
    try:
        out = _walk(ops, shape_of, width, problems)
    except ShapeMismatch as e:
        problems.append(e.problem)
        out = None
    return ShapeWalk(out, problems)


def _linear(op: Linear, shape_of: ShapeOf, width: int | None, problems: list[ShapeProblem]) -> int | None:
    shape = shape_of(op.weight)
    if shape is None:
        if op.required:
            problems.append(ShapeProblem("missing", op.weight, f"tensor {op.weight} is not in the projector"))
            return None
        return width  # an optional layer that is absent is skipped
    n_in, n_out = linear_dims(op, shape)
    problem = input_problem(op, n_in, width) if width is not None else None
    if problem is not None:
        raise ShapeMismatch(problem)
    if op.bias is not None:
        bias = shape_of(op.bias)
        if bias is None and op.bias_required:
            problems.append(ShapeProblem("missing", op.bias, f"tensor {op.bias} is not in the projector"))
        elif bias is not None:
            problem = vector_fits(op.bias, bias, n_out, "bias")
            if problem is not None:
                problems.append(problem)
    return n_out


def _norm(op: Norm, shape_of: ShapeOf, width: int | None, problems: list[ShapeProblem]) -> int | None:
    for name, required in ((op.weight, op.required), (op.bias, op.bias_required)):
        if name is None:
            continue
        shape = shape_of(name)
        if shape is None:
            if required:
                problems.append(ShapeProblem("missing", name, f"tensor {name} is not in the projector"))
            continue
        if width is None:
            width = shape[0]  # a chain that starts with a norm takes the norm's width
        problem = vector_fits(name, shape, width, "norm weight" if name == op.weight else "norm bias")
        if problem is not None:
            problems.append(problem)
    return width


def _walk(ops: tuple[Op, ...], shape_of: ShapeOf, width: int | None, problems: list[ShapeProblem]) -> int | None:
    for op in ops:
        if isinstance(op, Linear):
            width = _linear(op, shape_of, width, problems)
        elif isinstance(op, Norm):
            width = _norm(op, shape_of, width, problems)
        elif isinstance(op, Merge):
            width = width * op.factor if width is not None and op.factor > 0 else None
        elif isinstance(op, SwiGLU):
            if width is not None and width % 2:
                raise ShapeMismatch(ShapeProblem("chain", "swiglu", f"swiglu needs an even width, got {width}"))
            width = width // 2 if width is not None else None
        elif isinstance(op, Gated):
            gate = _linear(Linear(op.gate, op.gate_bias), shape_of, width, problems)
            up = _linear(Linear(op.up, op.up_bias), shape_of, width, problems)
            if gate is not None and up is not None and gate != up:
                raise ShapeMismatch(
                    ShapeProblem("chain", op.up, f"gate {op.gate} and up {op.up} output widths differ ({gate} vs {up})")
                )
            width = gate if gate is not None else up
        elif isinstance(op, Depthwise):
            shape = shape_of(op.weight)
            if shape is None:
                problems.append(ShapeProblem("missing", op.weight, f"tensor {op.weight} is not in the projector"))
            elif width is not None:
                problem = depthwise_fits(op, shape, width)
                if problem is not None:
                    raise ShapeMismatch(problem)
            bias = shape_of(op.bias) if op.bias is not None else None
            if op.bias is not None and bias is None:  # a named depthwise bias is added unchecked
                problems.append(ShapeProblem("missing", op.bias, f"tensor {op.bias} is not in the projector"))
            elif op.bias is not None and bias is not None and width is not None:
                found = vector_fits(op.bias, bias, width, "bias")
                if found is not None:
                    problems.append(found)
        elif isinstance(op, SqueezeExcite):
            fc1 = Linear(f"{op.fc1}.weight", f"{op.fc1}.bias", bias_required=True)
            fc2 = Linear(f"{op.fc2}.weight", f"{op.fc2}.bias", bias_required=True)
            inner = _linear(fc1, shape_of, width, problems)
            out = _linear(fc2, shape_of, inner, problems)
            if out is not None and width is not None and out != width:
                message = f"squeeze-excite {op.fc2} outputs {out}, expected {width}"
                raise ShapeMismatch(ShapeProblem("chain", f"{op.fc2}.weight", message))
        elif isinstance(op, Branches):
            outs = [_walk(chain, shape_of, width, problems) for chain in op.chains]
            width = None if any(o is None for o in outs) else sum(o for o in outs if o is not None)
        # Act and Scale keep the width
    return width
