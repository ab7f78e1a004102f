"""The operations a projection chain is made of: llama.cpp's projection graph, as data.

Each op names the tensors it reads; :mod:`mmcheck.projectors.shapes` walks a chain over the
tensor shapes alone (the header-only checks), and the smoke test runs the same chain with numpy.
"""

# No ``from __future__ import annotations``: typing.NamedTuple would compile each string annotation
# into a ForwardRef at start-up; the one forward reference (Op, in Branches) is quoted.
from typing import Literal, NamedTuple

NormKind = Literal["layer", "rms", "affine"]
ActKind = Literal["gelu", "gelu_erf", "gelu_quick", "silu", "relu", "hardswish"]


class Linear(NamedTuple):
    """``y = x W^T (+ b)``; ``W`` ne = (in..., out). ``transposed``: ne = (out, in), ``y = x W``."""

    weight: str
    bias: str | None = None
    bias_required: bool = False
    transposed: bool = False
    required: bool = True


class Norm(NamedTuple):
    """LayerNorm / RMSNorm / plain affine (folded batch-norm) with optional weight and bias."""

    kind: NormKind
    weight: str | None = None
    bias: str | None = None
    required: bool = True  # the weight must exist (llama.cpp loads it as required)
    bias_required: bool = False  # the graph adds the bias unchecked: a missing one crashes


class Act(NamedTuple):
    """An element-wise activation."""

    kind: ActKind


class Merge(NamedTuple):
    """Concatenate ``factor`` consecutive rows (patch merge / frame stacking): width × factor."""

    factor: int
    label: str = "merge"


class Scale(NamedTuple):
    """Multiply by a constant (e.g. Gemma's ``sqrt(n_embd)``)."""

    value: float
    label: str = "scale"


class SwiGLU(NamedTuple):
    """Split the last dimension in halves a, b: ``silu(a) * b`` (``swapped``: ``a * silu(b)``)."""

    swapped: bool = False


class Gated(NamedTuple):
    """``act(x Wg^T) * (x Wu^T)`` (llama.cpp ``build_ffn`` with a parallel gate)."""

    gate: str
    up: str
    act: ActKind = "silu"
    gate_bias: str | None = None
    up_bias: str | None = None


class Depthwise(NamedTuple):
    """A depthwise conv (ne = (kw, kh, 1, C)) applied to a constant image: per-channel tap sum."""

    weight: str
    bias: str | None = None


class SqueezeExcite(NamedTuple):
    """MobileNet squeeze-excite: ``x * hardsigmoid(fc2(relu(fc1(mean_rows(x)))))``."""

    fc1: str
    fc2: str


class Branches(NamedTuple):
    """Run each chain on the same input and concatenate the outputs along the width."""

    chains: "tuple[tuple[Op, ...], ...]"
    label: str = "concat"


Op = Linear | Norm | Act | Merge | Scale | SwiGLU | Gated | Depthwise | SqueezeExcite | Branches
