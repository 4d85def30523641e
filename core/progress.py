"""Progress reporting and cancellation, shared by the CLI's progress bar and the GUI worker's signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from core.errors import JobCancelled


class Stage(str, Enum):
    LOADING = "loading"
    ENCODING = "encoding"
    DENOISING = "denoising"
    DECODING = "decoding"
    SAVING = "saving"


@dataclass(frozen=True)
class StepProgress:
    step: int  # steps finished, 1..total
    total: int
    elapsed_s: float  # since denoising began
    eta_s: float  # estimated seconds of denoising left

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0


StageCallback = Callable[[Stage], None]
StepCallback = Callable[[StepProgress], None]


class CancelToken:
    """Set from any thread; the engine checks it between steps and stages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled()


@dataclass
class ProgressSink:
    """Bundles the optional callbacks so the engine calls them without None checks everywhere."""

    on_stage: StageCallback | None = None
    on_step: StepCallback | None = None

    def stage(self, stage: Stage) -> None:
        if self.on_stage is not None:
            self.on_stage(stage)

    def step(self, progress: StepProgress) -> None:
        if self.on_step is not None:
            self.on_step(progress)


class StepClock:
    """ETA from the mean time of the finished steps (the first step includes warm-up, so it is dropped once
    there are later ones to average)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.start = time.perf_counter()
        self._marks: list[float] = []

    def tick(self) -> StepProgress:
        now = time.perf_counter()
        self._marks.append(now)
        done = len(self._marks)
        elapsed = now - self.start
        per_step = (self._marks[-1] - self._marks[0]) / (done - 1) if done >= 3 else elapsed / done
        return StepProgress(step=done, total=self.total, elapsed_s=elapsed, eta_s=per_step * (self.total - done))
