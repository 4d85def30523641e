"""Loading a model straight from its safetensors files into its final form, one tensor at a time.

`from_pretrained` followed by quantization (or by pinning for streamed offload) holds two copies of a component
for a while: the loaded one and the converted one. On ContentV-8B that is ~2x the weights in host RAM, more than
a 32 GB PC has. Here the model is built on the meta device (no memory), the Linear layers that will be quantized
are swapped for empty `QuantizedLinear` skeletons, and each tensor is then read from the file, converted (dtype,
int8/fp8) and put in place before the next one is read. Host RAM holds the finished model plus one tensor.

The files are read with plain reads into freshly allocated (optionally pinned) buffers rather than memory-mapped:
touched pages of a mapping count towards the process's resident memory until it is closed, so a mapped read of a
16 GB file would show (and on a tight machine, cost) 16 GB on top of the weights being built.

The numbers are those of the library loaders: each tensor is cast to the dtype its parameter has in the model
(transformers' `_keep_in_fp32_modules` applied exactly as transformers applies it), and a quantized layer's weight
is quantized from that dtype, as `quantize_linears` does on a loaded model.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch
from torch import nn

from core.quantize import QuantizedLinear, quantizable_linears
from core.request import Quantization

SAFETENSORS_DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F8_E4M3": torch.float8_e4m3fn,
    "F8_E5M2": torch.float8_e5m2,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


@dataclass(frozen=True)
class TensorEntry:
    file: Path
    dtype: torch.dtype
    shape: tuple[int, ...]
    start: int  # absolute byte offset in the file
    nbytes: int


class SafetensorsReader:
    """The tensors of one component (a single file or the shards an index names), read one at a time."""

    def __init__(self, folder: Path) -> None:
        self.entries: dict[str, TensorEntry] = {}
        for file in weight_files(folder):
            self.entries.update(_read_header(file))

    def names(self) -> list[str]:
        return list(self.entries)

    def files(self) -> list[Path]:
        return sorted({e.file for e in self.entries.values()})

    def read(self, name: str, handle: IO[bytes], pin_memory: bool = False) -> torch.Tensor:
        entry = self.entries[name]
        buffer = torch.empty(entry.nbytes, dtype=torch.uint8, pin_memory=pin_memory)
        if entry.nbytes:
            handle.seek(entry.start)
            view = memoryview(buffer.numpy())
            got = handle.readinto(view)
            if got != entry.nbytes:
                raise OSError(f"{entry.file.name} is truncated (tensor {name})")
        return buffer.view(entry.dtype).reshape(entry.shape)

    def iter_tensors(
        self, read_pinned: Callable[[str, TensorEntry], bool] | None = None
    ) -> Iterator[tuple[str, torch.Tensor]]:
        """File by file, in file order, so reads are sequential. `read_pinned(name, entry)` says which tensors
        to read straight into page-locked memory (those whose file form is already their final form)."""
        with ExitStack() as stack:
            handles = {f: stack.enter_context(f.open("rb")) for f in self.files()}
            ordered = sorted(self.entries.items(), key=lambda item: (str(item[1].file), item[1].start))
            for name, entry in ordered:
                pinned = read_pinned is not None and read_pinned(name, entry)
                yield name, self.read(name, handles[entry.file], pinned)


def weight_files(folder: Path) -> list[Path]:
    """A component's safetensors files: the shards its `*.safetensors.index.json` names, or its one file."""
    indexes = sorted(folder.glob("*.safetensors.index.json"))
    if indexes:
        weight_map = json.loads(indexes[0].read_text(encoding="utf-8"))["weight_map"]
        return sorted({folder / shard for shard in weight_map.values()})
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder} has no *.safetensors weights")
    return files


def _read_header(file: Path) -> dict[str, TensorEntry]:
    with file.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    base = 8 + length
    entries = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{file.name}: tensor {name} has an unsupported dtype {info['dtype']}")
        start, end = (int(x) for x in info["data_offsets"])
        entries[name] = TensorEntry(file, dtype, tuple(int(d) for d in info["shape"]), base + start, end - start)
    return entries


# ---- building the empty model ---------------------------------------------------------------------------------
def build_empty(cls: Any, folder: Path) -> nn.Module:
    """The model with its parameters on the meta device and its buffers (position ids, tables) real."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        if hasattr(cls, "load_config"):  # diffusers
            model = cls.from_config(cls.load_config(folder))
        else:  # transformers
            config = cls.config_class.from_pretrained(folder, local_files_only=True)
            model = cls(config)
    return model.eval()


def fp32_module_names(model: nn.Module, dtype: torch.dtype) -> tuple[str, ...]:
    """The module names transformers keeps in float32 for this dtype (fp16: `_keep_in_fp32_modules`; fp16 and
    bf16: `_keep_in_fp32_modules_strict`), as its loader decides."""
    names: set[str] = set()
    if dtype == torch.float16:
        names.update(getattr(model, "_keep_in_fp32_modules", None) or ())
    if dtype in (torch.float16, torch.bfloat16):
        names.update(getattr(model, "_keep_in_fp32_modules_strict", None) or ())
    return tuple(sorted(names))


def _kept_in_fp32(param_name: str, keep: tuple[str, ...]) -> bool:
    parts = param_name.split(".")
    return any(k in parts for k in keep)


def _set_tensor(module: nn.Module, attr: str, tensor: torch.Tensor, is_param: bool) -> None:
    if is_param:
        module._parameters[attr] = nn.Parameter(tensor, requires_grad=False)
    else:
        module._buffers[attr] = tensor


@dataclass
class _Slot:
    """Where one checkpoint tensor goes: every (module, attribute) that shares it (tied weights), its dtype."""

    places: list[tuple[nn.Module, str]]
    dtype: torch.dtype
    is_param: bool


def load_model(
    cls: Any,
    folder: Path,
    dtype: torch.dtype,
    quantization: Quantization = Quantization.NONE,
    quantize_prefixes: Iterable[str] = ("",),
    pin_memory: bool = False,
) -> nn.Module:
    """Build `cls` from `folder` in `dtype`, quantizing the Linear layers under `quantize_prefixes`, with each
    tensor read, converted and placed one at a time. `pin_memory` reads each tensor straight into page-locked
    memory (for streamed offload, whose side-stream copies need it), so no unpinned copy ever exists."""
    model = build_empty(cls, folder)
    keep_fp32 = fp32_module_names(model, dtype)

    # Parameter dtypes as the library loaders leave them: compute dtype, float32 where transformers keeps it.
    slots: dict[str, _Slot] = {}
    by_identity: dict[int, _Slot] = {}
    for module_name, module in model.named_modules():
        for attr, tensor in list(module._parameters.items()) + list(module._buffers.items()):
            if tensor is None:
                continue
            full = f"{module_name}.{attr}" if module_name else attr
            is_param = attr in module._parameters
            slot = by_identity.get(id(tensor))
            if slot is None:
                target = tensor.dtype
                if tensor.is_floating_point():
                    target = torch.float32 if _kept_in_fp32(full, keep_fp32) else dtype
                slot = _Slot([], target, is_param)
                by_identity[id(tensor)] = slot
            slot.places.append((module, attr))
            slots[full] = slot

    quantized: dict[str, QuantizedLinear] = {}
    if quantization is not Quantization.NONE:
        for full, parent, child_name, linear in quantizable_linears(model, quantize_prefixes):
            weight_slot = slots[f"{full}.weight"]
            skeleton = QuantizedLinear.empty(
                linear.in_features,
                linear.out_features,
                linear.bias is not None,
                quantization,
                compute_dtype=dtype,
                source_dtype=weight_slot.dtype,
            )
            setattr(parent, child_name, skeleton)
            del slots[f"{full}.weight"]
            quantized[f"{full}.weight"] = skeleton
            if linear.bias is not None:
                # The bias is kept in the compute dtype, as QuantizedLinear.from_linear keeps it.
                slots[f"{full}.bias"] = _Slot([(skeleton, "bias")], dtype, True)

    reader = SafetensorsReader(folder)
    filled: set[int] = set()
    def read_pinned(name: str, entry: TensorEntry) -> bool:
        slot = slots.get(name)
        return pin_memory and name not in quantized and slot is not None and slot.dtype == entry.dtype

    for name, raw in reader.iter_tensors(read_pinned):
        layer = quantized.get(name)
        if layer is not None:
            layer.load_weight(raw, pin_memory=pin_memory)
            filled.add(id(layer))
            continue
        slot = slots.get(name)
        if slot is None:
            continue  # e.g. a decoder half a T5 checkpoint carries; transformers ignores it too
        expected = _slot_shape(slot)
        if expected is not None and tuple(raw.shape) != expected:
            raise ValueError(f"{folder.name}: {name} has shape {tuple(raw.shape)}, the model expects {expected}")
        tensor = _final_form(raw, slot.dtype, pin_memory)
        del raw
        for module, attr in slot.places:
            _set_tensor(module, attr, tensor, slot.is_param)
        filled.add(id(slot))

    _tie_unfilled(model, slots, filled)
    missing = [n for n, s in slots.items() if s.is_param and id(s) not in filled and _is_meta(s)]
    missing += [n for n, q in quantized.items() if id(q) not in filled]
    if missing:
        raise KeyError(f"{folder.name}: the weights lack {', '.join(sorted(missing)[:5])}")
    if pin_memory:
        _pin_remaining(model)
    return model


def _tie_unfilled(model: nn.Module, slots: dict[str, _Slot], filled: set[int]) -> None:
    """transformers names tied weights as {tied name: source name} (T5: encoder.embed_tokens.weight ->
    shared.weight); a checkpoint stores one of the pair. Give the unfilled one the other's tensor."""
    tied = getattr(model, "_tied_weights_keys", None)
    if not isinstance(tied, dict):
        return
    for target, source in tied.items():
        for a, b in ((target, source), (source, target)):
            empty, full = slots.get(a), slots.get(b)
            if empty is None or full is None or id(empty) in filled or id(full) not in filled:
                continue
            module, attr = full.places[0]
            tensor = module._parameters[attr] if full.is_param else module._buffers[attr]
            assert tensor is not None
            for place_module, place_attr in empty.places:
                if full.is_param:
                    place_module._parameters[place_attr] = tensor
                else:
                    place_module._buffers[place_attr] = tensor
            filled.add(id(empty))


def _slot_shape(slot: _Slot) -> tuple[int, ...] | None:
    module, attr = slot.places[0]
    current = module._parameters.get(attr) if slot.is_param else module._buffers.get(attr)
    return None if current is None else tuple(current.shape)


def _is_meta(slot: _Slot) -> bool:
    module, attr = slot.places[0]
    current = module._parameters.get(attr) if slot.is_param else module._buffers.get(attr)
    return current is not None and current.is_meta


def _final_form(raw: torch.Tensor, dtype: torch.dtype, pin_memory: bool) -> torch.Tensor:
    if raw.dtype == dtype and (raw.is_pinned() or not pin_memory):
        return raw
    out = torch.empty(raw.shape, dtype=dtype, pin_memory=pin_memory)
    out.copy_(raw)
    return out


def _pin_remaining(model: nn.Module) -> None:
    """Buffers built at construction (not read from the file) are small; pin them so every copy is async."""
    for module in model.modules():
        for attr, buffer in module._buffers.items():
            if buffer is not None and not buffer.is_pinned():
                module._buffers[attr] = buffer.pin_memory()
