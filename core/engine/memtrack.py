"""Peak tensor memory on any device, measured from inside PyTorch's dispatcher.

`torch.cuda.max_memory_allocated` only exists for CUDA. This tracker sees every tensor an operator returns,
counts its storage once while it is alive, and records the peak of the sum — so the CPU test suite can show
that a memory mode really lowers peak memory (attention slicing, VAE tiling, quantization), and the benchmark
can report the same figure without a GPU. Internal scratch buffers that a fused kernel frees before returning
are not seen; the modes measured here work by shrinking tensors that operators do return.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class TensorMemoryTracker(TorchDispatchMode):
    """Use as a context manager; read `peak_bytes` afterwards (bytes above what was alive on entry)."""

    def __init__(self, device_type: str | None = None) -> None:
        super().__init__()
        self.device_type = device_type
        self.current_bytes = 0
        self.peak_bytes = 0
        self._seen: set[int] = set()

    def _release(self, key: int, nbytes: int) -> None:
        self._seen.discard(key)
        self.current_bytes -= nbytes

    def _track(self, tensor: torch.Tensor) -> None:
        if self.device_type is not None and tensor.device.type != self.device_type:
            return
        try:
            storage = tensor.untyped_storage()
        except (RuntimeError, NotImplementedError):
            return  # e.g. tensors without storage
        key = storage.data_ptr()
        nbytes = storage.nbytes()
        if nbytes == 0 or key in self._seen:
            return
        self._seen.add(key)
        self.current_bytes += nbytes
        self.peak_bytes = max(self.peak_bytes, self.current_bytes)
        # The storage's Python object lives exactly as long as the storage itself.
        weakref.finalize(storage, self._release, key, nbytes)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        flat, _ = tree_flatten(out)
        for item in flat:
            if isinstance(item, torch.Tensor):
                self._track(item)
        return out
