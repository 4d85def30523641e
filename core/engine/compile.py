"""Regional `torch.compile`: compile the transformer's repeated joint blocks, not the whole model.

All 38 blocks of ContentV-8B share one class and one shape, so compiling the block once gives most of a full
compile's speed-up for a fraction of its compile time (diffusers' `compile_repeated_blocks`, which calls
`block.compile()` on every module named in the model's `_repeated_blocks`). `torch.compile` is lazy: the
compiling happens during the first denoising step, so its cost is measured as that step's extra time
(`compile_seconds`).
"""

from __future__ import annotations

import sys
from statistics import median
from typing import Any

from torch import nn


def _repeated_blocks(transformer: Any) -> list[nn.Module]:
    names = set(getattr(transformer, "_repeated_blocks", ()) or ())
    return [m for m in transformer.modules() if m.__class__.__name__ in names]


def blocks_compiled(transformer: Any) -> bool:
    blocks = _repeated_blocks(transformer)
    return bool(blocks) and all(getattr(b, "_compiled_call_impl", None) is not None for b in blocks)


def check_compile_available() -> None:
    """The standalone app (PyInstaller) carries neither triton nor torch's C++ headers, which inductor's code
    generation needs: refuse there with a clear message instead of failing inside the first step."""
    if getattr(sys, "frozen", False):
        from core.errors import DeviceUnavailableError

        raise DeviceUnavailableError(
            "torch.compile is not available in the standalone app (it lacks triton and a C++ toolchain).",
            "Run without --compile, or run ContentV Studio from source to use it.",
        )


def set_block_compilation(transformer: Any, enabled: bool, backend: str = "inductor") -> bool:
    """Compile (or un-compile) the repeated blocks; returns True when something changed. Idempotent, so a job can
    call it every time; un-compiling restores the eager forward at once. (`backend="eager"` traces without
    generating code: the tests' quick check of the wiring.)"""
    if enabled == blocks_compiled(transformer):
        return False
    if enabled and backend == "inductor":
        check_compile_available()
    if enabled:
        # dynamic=None: recompiles at most once for a new frame count or size, then reuses the graph.
        transformer.compile_repeated_blocks(fullgraph=False, dynamic=None, backend=backend)
    else:
        for block in _repeated_blocks(transformer):
            block._compiled_call_impl = None  # nn.Module.compile() stores the compiled call here
    return True


def compile_seconds(step_seconds: list[float]) -> float:
    """The compile cost a job paid: its first step's time beyond a typical later step's (0 if unknown)."""
    if len(step_seconds) < 2:
        return 0.0
    return max(0.0, step_seconds[0] - median(step_seconds[1:]))
