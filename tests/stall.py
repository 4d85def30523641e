"""A job that stalls after a given step, for tests that kill a process mid-denoise: run as a script prelude, it
makes the step clock (core.progress.StepClock) sleep for good once the job reports that step, so the test kills
it at a known point instead of racing a job that takes a fraction of a second."""

from __future__ import annotations

PRELUDE = """
import sys, time
sys.path.insert(0, {root!r})
import core.progress

_tick = core.progress.StepClock.tick

def _stalling_tick(self):
    progress = _tick(self)
    if progress.step == {step}:
        open({marker!r}, "w").close()
        time.sleep(3600)
    return progress

core.progress.StepClock.tick = _stalling_tick
"""


def prelude(root: str, step: int, marker: str) -> str:
    """Python source that stalls the job in this process after `step` steps, creating `marker` when it does."""
    return PRELUDE.format(root=root, step=step, marker=marker)
