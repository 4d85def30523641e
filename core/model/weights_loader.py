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

import ctypes
import json
import struct
import sys
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import torch
from torch import nn

from core.engine.quantize import QuantizedLinear, quantizable_linears
from core.i18n import _t
from core.job.request import Quantization

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

    def read_into(self, name: str, handle: IO[bytes], out: torch.Tensor, scratch: torch.Tensor) -> None:
        """Fill `out` (its final dtype, maybe pinned) from the file: directly when the dtypes agree, otherwise
        through `scratch` a slice at a time, so no full-size temporary of the tensor ever exists."""
        entry = self.entries[name]
        flat = out.view(-1)
        if entry.dtype == out.dtype:
            _read_exact(handle, entry.start, flat.view(torch.uint8), entry, name)
            return
        item = entry.nbytes // max(1, flat.numel())
        per_chunk = max(1, scratch.numel() // max(1, item))
        for first in range(0, flat.numel(), per_chunk):
            count = min(per_chunk, flat.numel() - first)
            raw = scratch[: count * item]
            _read_exact(handle, entry.start + first * item, raw, entry, name)
            flat[first : first + count].copy_(raw.view(entry.dtype))

    def row_reader(self, name: str, handle: IO[bytes], scratch: torch.Tensor) -> Callable[[int, int], torch.Tensor]:
        """`read(start, stop)` gives rows start..stop of a 2-D tensor, in `scratch` (valid until the next read)."""
        entry = self.entries[name]
        row_bytes = entry.nbytes // max(1, entry.shape[0])

        def read(start: int, stop: int) -> torch.Tensor:
            raw = scratch[: (stop - start) * row_bytes]
            _read_exact(handle, entry.start + start * row_bytes, raw, entry, name)
            return raw.view(entry.dtype).view(stop - start, *entry.shape[1:])

        return read

    def rows_per_read(self, name: str, scratch: torch.Tensor) -> int:
        entry = self.entries[name]
        row_bytes = max(1, entry.nbytes // max(1, entry.shape[0]))
        if row_bytes > scratch.numel():
            raise ValueError(f"tensor {name} has rows larger than the read buffer")
        return scratch.numel() // row_bytes

    def in_file_order(self) -> list[str]:
        return [n for n, _ in sorted(self.entries.items(), key=lambda item: (str(item[1].file), item[1].start))]


def _read_exact(handle: IO[bytes], offset: int, into: torch.Tensor, entry: TensorEntry, name: str) -> None:
    if into.numel() == 0:
        return
    handle.seek(offset)
    if handle.readinto(into.numpy().data) != into.numel():  # pyright: ignore[reportAttributeAccessIssue]
        raise OSError(_t("{file} is truncated (tensor {tensor})").format(file=entry.file.name, tensor=name))


class MissingWeights(KeyError):
    """Tensors the model needs that no weight file holds. A KeyError, as before, whose text is the plain message
    (KeyError's own quotes it), so the load failure shown in the window is recognised and translated."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


READ_BUFFER_BYTES = 8 << 20  # one reused buffer for every conversion: nothing else is allocated while reading


def weight_files(folder: Path) -> list[Path]:
    """A component's safetensors files: the shards its `*.safetensors.index.json` names, or its one file."""
    indexes = sorted(folder.glob("*.safetensors.index.json"))
    if indexes:
        weight_map = json.loads(indexes[0].read_text(encoding="utf-8"))["weight_map"]
        return sorted({folder / shard for shard in weight_map.values()})
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(_t("{folder} has no *.safetensors weights").format(folder=folder))
    return files


def _read_header(file: Path) -> dict[str, TensorEntry]:
    with file.open("rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(_t("{file} is not a safetensors file").format(file=file.name))
        (length,) = struct.unpack("<Q", raw)
        header = json.loads(f.read(length))
    base = 8 + length
    entries = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(
                _t("{file}: tensor {tensor} has an unsupported dtype {dtype}").format(
                    file=file.name, tensor=name, dtype=info["dtype"]
                )
            )
        start, end = (int(x) for x in info["data_offsets"])
        entries[name] = TensorEntry(file, dtype, tuple(int(d) for d in info["shape"]), base + start, end - start)
    return entries


# ---- building the empty model ---------------------------------------------------------------------------------
def build_empty(cls: Any, folder: Path) -> nn.Module:
    """The model with every parameter on the meta device: no memory, no random initialisation.

    Built entirely under the meta device, nothing is allocated. A model with buffers (CLIP's position ids: values
    computed at construction, not stored in the checkpoint) is rebuilt with only its parameters on meta (accelerate's
    `init_empty_weights`), which allocates each parameter for a moment; only the small CLIP encoders need that.
    """
    with torch.device("meta"):
        model = _construct(cls, folder)
    if next(model.buffers(), None) is not None:
        from accelerate import init_empty_weights

        with init_empty_weights(include_buffers=False):
            model = _construct(cls, folder)
    return model.eval()


def _construct(cls: Any, folder: Path) -> nn.Module:
    if hasattr(cls, "load_config"):  # diffusers
        return cls.from_config(cls.load_config(folder))
    config = cls.config_class.from_pretrained(folder, local_files_only=True)  # transformers
    return cls(config)


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


def _place(slot: _Slot, tensor: torch.Tensor) -> None:
    """Put the tensor at every place of its slot, as one object: tied weights stay one Parameter."""
    value = nn.Parameter(tensor, requires_grad=False) if slot.is_param else tensor
    for module, attr in slot.places:
        if slot.is_param:
            module._parameters[attr] = value  # pyright: ignore[reportArgumentType]
        else:
            module._buffers[attr] = value


@dataclass
class _Slot:
    """Where one checkpoint tensor goes: every (module, attribute) that shares it (tied weights), its dtype."""

    places: list[tuple[nn.Module, str]]
    dtype: torch.dtype
    is_param: bool


# glibc's malloc raises its mmap threshold after large frees (up to 32 MiB), so later tensors come from the heap,
# where freed quantization temporaries stay resident and fragment: the same int8 load then peaks 30 % higher on
# some runs than on others. A fixed 1 MiB threshold hands every large buffer back to the OS when it is freed.
GLIBC_M_MMAP_THRESHOLD = -3
LARGE_ALLOCATION_BYTES = 1 << 20
_malloc_tuned = False


def return_large_frees_to_the_os() -> None:
    """Once per process, on Linux with glibc; elsewhere (Windows, macOS, musl) nothing to do."""
    global _malloc_tuned
    if _malloc_tuned or not sys.platform.startswith("linux"):
        return
    _malloc_tuned = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(GLIBC_M_MMAP_THRESHOLD, LARGE_ALLOCATION_BYTES)
    except (OSError, AttributeError):  # not glibc
        pass


def load_model(
    cls: Any,
    folder: Path,
    dtype: torch.dtype,
    quantization: Quantization = Quantization.NONE,
    quantize_prefixes: Iterable[str] = ("",),
    pin_memory: bool = False,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Build `cls` from `folder` in `dtype`, quantizing the Linear layers under `quantize_prefixes`, with each
    tensor read, converted and placed one at a time. `pin_memory` reads each tensor straight into page-locked
    memory (for streamed offload, whose side-stream copies need it), so no unpinned copy ever exists. With a
    `device` (all on GPU), each tensor goes there as soon as it is read: host RAM holds one tensor at a time."""
    return_large_frees_to_the_os()
    on_device = device is not None and torch.device(device).type != "cpu"
    model = build_empty(cls, folder)
    keep_fp32 = fp32_module_names(model, dtype)

    # Parameter dtypes as the library loaders leave them: compute dtype, float32 where transformers keeps it.
    slots: dict[str, _Slot] = {}
    # id -> (the tensor, kept alive so that no id is reused while this runs; its slot)
    by_identity: dict[int, tuple[torch.Tensor, _Slot]] = {}
    for module_name, module in model.named_modules():
        for attr, tensor in list(module._parameters.items()) + list(module._buffers.items()):
            if tensor is None:
                continue
            full = f"{module_name}.{attr}" if module_name else attr
            is_param = attr in module._parameters
            known = by_identity.get(id(tensor))
            slot = known[1] if known is not None else None
            if slot is None:
                target = tensor.dtype
                if tensor.is_floating_point():
                    target = torch.float32 if _kept_in_fp32(full, keep_fp32) else dtype
                slot = _Slot([], target, is_param)
                by_identity[id(tensor)] = (tensor, slot)
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
    # Tensors the model has no place for (e.g. the decoder half of a full T5 checkpoint) are not even read.
    reader.entries = {n: e for n, e in reader.entries.items() if n in slots or n in quantized}
    widest_row = max((e.nbytes // max(1, e.shape[0]) for n, e in reader.entries.items() if n in quantized), default=0)
    scratch = torch.empty(max(READ_BUFFER_BYTES, widest_row), dtype=torch.uint8)
    filled: set[int] = set()
    with ExitStack() as stack:
        handles = {f: stack.enter_context(f.open("rb")) for f in reader.files()}
        for name in reader.in_file_order():
            entry = reader.entries[name]
            handle = handles[entry.file]
            layer = quantized.get(name)
            if layer is not None:
                read_rows = reader.row_reader(name, handle, scratch)
                layer.load_weight_rows(read_rows, entry.shape, reader.rows_per_read(name, scratch), pin_memory)
                if on_device:
                    layer.qweight = nn.Parameter(layer.qweight.to(device), requires_grad=False)
                    layer.weight_scale = nn.Parameter(layer.weight_scale.to(device), requires_grad=False)
                filled.add(id(layer))
                continue
            slot = slots[name]
            expected = _slot_shape(slot)
            if expected is not None and entry.shape != expected:
                raise ValueError(
                    _t("{folder}: {tensor} has shape {shape}, the model expects {expected}").format(
                        folder=folder.name, tensor=name, shape=entry.shape, expected=expected
                    )
                )
            tensor = torch.empty(entry.shape, dtype=slot.dtype, pin_memory=pin_memory)
            reader.read_into(name, handle, tensor, scratch)
            _place(slot, tensor.to(device) if on_device else tensor)
            filled.add(id(slot))
    del scratch

    _tie_unfilled(model, slots, filled)
    missing = [n for n, s in slots.items() if s.is_param and id(s) not in filled and _is_meta(s)]
    missing += [n for n, q in quantized.items() if id(q) not in filled]
    if missing:
        raise MissingWeights(
            _t("{folder}: the weights lack {names}").format(folder=folder.name, names=", ".join(sorted(missing)[:5]))
        )
    if pin_memory:
        _pin_remaining(model)
    if on_device:
        model.to(device)  # what was not read from the file: buffers built at construction
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
                    place_module._parameters[place_attr] = cast(nn.Parameter, tensor)
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


def _pin_remaining(model: nn.Module) -> None:
    """Buffers built at construction (not read from the file) are small; pin them so every copy is async."""
    for module in model.modules():
        for attr, buffer in module._buffers.items():
            if buffer is not None and not buffer.is_pinned():
                module._buffers[attr] = buffer.pin_memory()
