"""Weight-only quantization of the transformer and T5: int8 or fp8 storage, compute in the pipeline's dtype.

Written in plain PyTorch so it runs wherever torch does (Windows and Linux CUDA, and the CPU for tests)
without a compiled extension. Each Linear keeps its weight as int8 or float8_e4m3fn with one scale per output
channel (symmetric, absmax), and dequantizes it layer by layer in forward: the weights take half the memory
of bf16, and only one layer's bf16 copy exists at a time.

Weights are Parameters (requires_grad=False), not buffers, so accelerate's CPU-offload hooks move them like
any other weight. They are stored as `qweight`, and `weight` is None: model code that peeks at
`layer.weight.dtype` to cast its activations (T5's feed-forward does) must not cast them to int8 or fp8.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from core.job.request import Quantization

INT8_MAX = 127.0
FP8_MAX = 448.0  # largest finite float8_e4m3fn


QUANTIZE_CHUNK_ELEMENTS = 1 << 20  # float32 temporaries of at most 4 MB while quantizing


def quantize_weight(
    weight: torch.Tensor, kind: Quantization, compute_dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric absmax quantization per output channel: (int8 or float8 weight, scale in compute dtype)."""
    rows, columns = weight.shape
    step = max(1, QUANTIZE_CHUNK_ELEMENTS // max(1, columns))
    return quantize_rows(lambda a, b: weight[a:b], rows, columns, kind, compute_dtype, None, step)


def quantize_rows(
    read_rows: Callable[[int, int], torch.Tensor],
    rows: int,
    columns: int,
    kind: Quantization,
    compute_dtype: torch.dtype,
    source_dtype: torch.dtype | None,
    rows_per_step: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantize a weight given as `read_rows(start, stop)`, a few rows at a time: each row's scale depends on
    that row alone, so the result equals quantizing the whole, with small float32 temporaries. With
    `source_dtype`, each slice is first rounded to it (the dtype the unquantized layer would have had)."""
    if kind is Quantization.INT8:
        storage, limit = torch.int8, INT8_MAX
    elif kind is Quantization.FP8:
        storage, limit = torch.float8_e4m3fn, FP8_MAX
    else:
        raise ValueError(f"not a quantized kind: {kind}")
    qweight = torch.empty((rows, columns), dtype=storage)
    scale = torch.empty((rows, 1), dtype=torch.float32)
    for start in range(0, rows, rows_per_step):
        stop = min(rows, start + rows_per_step)
        part = read_rows(start, stop)
        if source_dtype is not None:
            part = part.to(source_dtype)
        part = part.to(torch.float32, copy=True)  # a copy: changed in place below
        part_scale = part.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / limit
        part.div_(part_scale)
        if kind is Quantization.INT8:
            part = part.round_()
        qweight[start:stop] = part.clamp_(-limit, limit).to(storage)
        scale[start:stop] = part_scale
    return qweight, scale.to(compute_dtype)


class QuantizedLinear(nn.Module):
    def __init__(
        self,
        qweight: torch.Tensor,
        scale: torch.Tensor,
        bias: torch.Tensor | None,
        compute_dtype: torch.dtype,
    ) -> None:
        super().__init__()
        self.in_features = qweight.shape[1]
        self.out_features = qweight.shape[0]
        self.qweight = nn.Parameter(qweight, requires_grad=False)
        self.weight_scale = nn.Parameter(scale, requires_grad=False)  # (out, 1) in compute dtype
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.compute_dtype = compute_dtype
        self._pending: tuple[Quantization, torch.dtype] = (Quantization.NONE, compute_dtype)

    @classmethod
    def from_linear(cls, linear: nn.Linear, kind: Quantization, compute_dtype: torch.dtype) -> QuantizedLinear:
        qweight, scale = quantize_weight(linear.weight.detach(), kind, compute_dtype)
        bias = None if linear.bias is None else linear.bias.detach().to(compute_dtype)
        return cls(qweight, scale, bias, compute_dtype)

    @classmethod
    def empty(
        cls,
        in_features: int,
        out_features: int,
        has_bias: bool,
        kind: Quantization,
        compute_dtype: torch.dtype,
        source_dtype: torch.dtype,
    ) -> QuantizedLinear:
        """A skeleton on the meta device, filled by `load_weight` as the checkpoint is read (core.model.weights_loader).
        `source_dtype` is the dtype the unquantized layer would have had: the weight is rounded to it first, so
        the result is bit for bit what quantizing the loaded layer gives."""
        storage = torch.int8 if kind is Quantization.INT8 else torch.float8_e4m3fn
        meta = torch.device("meta")
        qweight = torch.empty(out_features, in_features, dtype=storage, device=meta)
        scale = torch.empty(out_features, 1, dtype=compute_dtype, device=meta)
        bias = torch.empty(out_features, dtype=compute_dtype, device=meta) if has_bias else None
        layer = cls(qweight, scale, bias, compute_dtype)
        layer._pending = (kind, source_dtype)
        return layer

    def load_weight_rows(
        self,
        read_rows: Callable[[int, int], torch.Tensor],
        shape: tuple[int, ...],
        rows_per_read: int,
        pin_memory: bool = False,
    ) -> None:
        """Quantize a full-precision weight into this skeleton, reading it `rows_per_read` rows at a time
        (core.model.weights_loader streams it from the file), so the full-precision weight never exists whole."""
        kind, source_dtype = self._pending
        if tuple(shape) != (self.out_features, self.in_features):
            expected = (self.out_features, self.in_features)
            raise ValueError(f"a weight of shape {tuple(shape)} for a layer of shape {expected}")
        qweight, scale = quantize_rows(
            read_rows, self.out_features, self.in_features, kind, self.compute_dtype, source_dtype, rows_per_read
        )
        if pin_memory:
            qweight, scale = qweight.pin_memory(), scale.pin_memory()
        self.qweight = nn.Parameter(qweight, requires_grad=False)
        self.weight_scale = nn.Parameter(scale, requires_grad=False)

    @property
    def weight(self) -> None:
        return None

    def dequantized_weight(self, dtype: torch.dtype) -> torch.Tensor:
        # In place on the fresh copy: one weight-sized temporary per layer, not two.
        return self.qweight.to(dtype).mul_(self.weight_scale.to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype if x.is_floating_point() else self.compute_dtype
        bias = None if self.bias is None else self.bias.to(dtype)
        return F.linear(x, self.dequantized_weight(dtype), bias)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, storage={self.qweight.dtype}"


def quantize_linears(
    model: nn.Module,
    kind: Quantization,
    compute_dtype: torch.dtype,
    include: Iterable[str] = ("",),
    min_features: int = 16,
) -> int:
    """Replace the nn.Linear layers under the submodules named in `include` (prefixes; "" means all).

    Small layers (fewer than `min_features` inputs or outputs) stay as they are: they save nothing and cost
    precision. Returns the number of layers replaced.
    """
    if kind is Quantization.NONE:
        return 0
    targets = quantizable_linears(model, include, min_features)
    count = len(targets)
    while targets:  # drop each original as soon as its replacement is in place: one spare layer at a time
        _, parent, child_name, linear = targets.pop()
        setattr(parent, child_name, QuantizedLinear.from_linear(linear, kind, compute_dtype))
        del linear
    return count


def quantizable_linears(
    model: nn.Module, include: Iterable[str] = ("",), min_features: int = 16
) -> list[tuple[str, nn.Module, str, nn.Linear]]:
    """(full name, parent, attribute, layer) of each nn.Linear under the `include` prefixes that is big enough
    to be worth quantizing."""
    prefixes = tuple(include)
    targets: list[tuple[str, nn.Module, str, nn.Linear]] = []
    for name, module in model.named_modules():
        for child_name, child in module.named_children():
            full = f"{name}.{child_name}" if name else child_name
            if (
                isinstance(child, nn.Linear)
                and full.startswith(prefixes)
                and min(child.in_features, child.out_features) >= min_features
            ):
                targets.append((full, module, child_name, child))
    return targets


def parameter_bytes(model: nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


# Which parts of each model are quantized: the transformer's blocks hold ~99% of its weights; T5's feed-forward
# and attention layers hold nearly all of its. Embeddings, norms and the output projection stay in full precision.
TRANSFORMER_QUANT_PREFIXES = ("transformer_blocks.",)
T5_QUANT_PREFIXES = ("encoder.block.",)

# component name -> the prefixes quantized in it
QUANTIZED_PREFIXES: dict[str, tuple[str, ...]] = {
    "transformer": TRANSFORMER_QUANT_PREFIXES,
    "text_encoder_3": T5_QUANT_PREFIXES,
}
