"""The operations a projection chain is made of: llama.cpp's projection graph, as data.

Each op names the tensors it reads; :mod:`mmcheck.projectors.shapes` walks a chain over the
tensor shapes alone (the header-only checks), and the smoke test runs the same chain with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NormKind = Literal["layer", "rms", "affine"]
ActKind = Literal["gelu", "gelu_erf", "gelu_quick", "silu", "relu", "hardswish"]


@dataclass(frozen=True)
class Linear:
    """``y = x W^T (+ b)``; ``W`` ne = (in..., out). ``transposed``: ne = (out, in), ``y = x W``."""

    weight: str
    bias: str | None = None
    bias_required: bool = False
    transposed: bool = False
    required: bool = True


@dataclass(frozen=True)
class Norm:
    """LayerNorm / RMSNorm / plain affine (folded batch-norm) with optional weight and bias."""

    kind: NormKind
    weight: str | None = None
    bias: str | None = None
    required: bool = True  # the weight must exist (llama.cpp loads it as required)
    bias_required: bool = False  # the graph adds the bias unchecked: a missing one crashes


@dataclass(frozen=True)
class Act:
    """An element-wise activation."""

    kind: ActKind


@dataclass(frozen=True)
class Merge:
    """Concatenate ``factor`` consecutive rows (patch merge / frame stacking): width × factor."""

    factor: int
    label: str = "merge"


@dataclass(frozen=True)
class Scale:
    """Multiply by a constant (e.g. Gemma's ``sqrt(n_embd)``)."""

    value: float
    label: str = "scale"


@dataclass(frozen=True)
class SwiGLU:
    """Split the last dimension in halves a, b: ``silu(a) * b`` (``swapped``: ``a * silu(b)``)."""

    swapped: bool = False


@dataclass(frozen=True)
class Gated:
    """``act(x Wg^T) * (x Wu^T)`` (llama.cpp ``build_ffn`` with a parallel gate)."""

    gate: str
    up: str
    act: ActKind = "silu"
    gate_bias: str | None = None
    up_bias: str | None = None


@dataclass(frozen=True)
class Depthwise:
    """A depthwise conv (ne = (kw, kh, 1, C)) applied to a constant image: per-channel tap sum."""

    weight: str
    bias: str | None = None


@dataclass(frozen=True)
class SqueezeExcite:
    """MobileNet squeeze-excite: ``x * hardsigmoid(fc2(relu(fc1(mean_rows(x)))))``."""

    fc1: str
    fc2: str


@dataclass(frozen=True)
class Branches:
    """Run each chain on the same input and concatenate the outputs along the width."""

    chains: tuple[tuple[Op, ...], ...]
    label: str = "concat"


Op = Linear | Norm | Act | Merge | Scale | SwiGLU | Gated | Depthwise | SqueezeExcite | Branches
