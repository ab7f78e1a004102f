"""MM6xx — projector precision."""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.header.types import GGML_TYPES_BY_NAME, bits_per_weight
from mmcheck.rules.base import Context, Hit, Severity, rule

_Q8_BITS = bits_per_weight(GGML_TYPES_BY_NAME["Q8_0"].id) or 8.5


@rule("MM601", "heavily-quantized-projector", severity=Severity.WARNING, scope="projector")
def heavily_quantized_projector(ctx: Context) -> Iterator[Hit]:
    """Projector weights are quantized below Q8_0.

    Why: Projectors are small and sensitive: k-quantized projectors lose visual detail, and some
    forks produce garbage with them on GPU offload. The text model's quantization does not have to
    match the projector's.

    Fix: Use the F16 (or Q8_0) projector even with a Q4 text model.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    low = sorted(
        name
        for name in {t.type_name for t in ctx.mmproj.header.tensors.values()}
        if name in GGML_TYPES_BY_NAME
        and (b := bits_per_weight(GGML_TYPES_BY_NAME[name].id)) is not None
        and b < _Q8_BITS
        and name not in ("I8", "I16")
    )
    if low:
        yield Hit(f"projector tensors quantized as {', '.join(low)} (below Q8_0)", "use the F16 projector", "mmproj")


@rule("MM602", "bf16-projector", severity=Severity.WARNING, scope="projector")
def bf16_projector(ctx: Context) -> Iterator[Hit]:
    """The projector is stored in BF16.

    Why: Not every backend runs BF16 (older GPUs, some Vulkan/Metal builds): the projector then
    falls back to CPU or fails.

    Fix: Prefer the F16 projector when your GPU lacks BF16 support.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    n = ctx.mmproj.projector.tensor_types.get("BF16", 0)
    if n:
        yield Hit(f"{n} projector tensors are BF16", "use an F16 projector if your backend lacks BF16", "mmproj")
