"""Helpers for tests that interrupt jobs: a process that stalls after a given step (so a test kills it at a known
point instead of racing a job that takes a fraction of a second), a decode that fails once, and a count of the
transformer's calls."""

from __future__ import annotations

from typing import Any

import pytest

# Run as a script prelude: the step clock (core.job.progress.StepClock) sleeps for good once the job reports `step`.
PRELUDE = """
import sys, time
sys.path.insert(0, {root!r})
import core.job.progress

_tick = core.job.progress.StepClock.tick

def _stalling_tick(self):
    progress = _tick(self)
    if progress.step == {step}:
        open({marker!r}, "w").close()
        time.sleep(3600)
    return progress

core.job.progress.StepClock.tick = _stalling_tick
"""


def prelude(root: str, step: int, marker: str) -> str:
    """Python source that stalls the job in this process after `step` steps, creating `marker` when it does."""
    return PRELUDE.format(root=root, step=step, marker=marker)


class TransformerCalls:
    """Counts the transformer's forward calls (a cache's skipped steps still call it: its blocks are skipped)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from core.engine.transformer import ContentVTransformer3DModel

        self.count = 0
        real = ContentVTransformer3DModel.forward

        def counting(module: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(module, *args, **kwargs)

        monkeypatch.setattr(ContentVTransformer3DModel, "forward", counting)


def fail_decode_once(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """The next VAE decode raises `error` (an out-of-memory, a driver reset); later ones run."""
    import core.engine.pipeline as pipeline_module

    real = pipeline_module._vae_decode
    failures = [error]

    def failing_once(vae: Any, latents: Any, device: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(vae, latents, device)

    monkeypatch.setattr(pipeline_module, "_vae_decode", failing_once)
