"""Progress reporting and cancellation, shared by the CLI's progress bar and the GUI worker's signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from core.errors import JobCancelled

if TYPE_CHECKING:
    from core.job.preview import PreviewFrames


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


@dataclass(frozen=True)
class DecodeProgress:
    done: int  # VAE decoder calls finished (one per latent frame, per tile when tiling)
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


StageCallback = Callable[[Stage], None]
StepCallback = Callable[[StepProgress], None]
PreviewCallback = Callable[["PreviewFrames"], None]
DecodeCallback = Callable[[DecodeProgress], None]


class CancelToken:
    """Set from any thread; the engine checks it between steps and stages. `suspend` stops the job the same
    way, but says it is to be kept (the window closes with its queue): the job waits again instead of ending."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._keep = False

    def cancel(self) -> None:
        self._event.set()

    def suspend(self) -> None:
        self._keep = True
        self._event.set()

    @property
    def suspended(self) -> bool:
        return self._keep and self._event.is_set()

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
    on_preview: PreviewCallback | None = None
    on_decode: DecodeCallback | None = None
    preview_every: int = 0  # steps between previews; 0: none (nothing is projected)

    def stage(self, stage: Stage) -> None:
        if self.on_stage is not None:
            self.on_stage(stage)

    def step(self, progress: StepProgress) -> None:
        if self.on_step is not None:
            self.on_step(progress)

    @property
    def wants_previews(self) -> bool:
        return self.on_preview is not None and self.preview_every > 0

    def preview(self, frames: PreviewFrames) -> None:
        if self.on_preview is not None:
            self.on_preview(frames)

    def decode(self, progress: DecodeProgress) -> None:
        if self.on_decode is not None:
            self.on_decode(progress)


class StepClock:
    """ETA from the mean time of the finished steps (the first step includes warm-up, so it is dropped once
    there are later ones to average)."""

    def __init__(self, total: int, done_before: int = 0) -> None:
        self.total = total
        self.done_before = done_before  # steps a resumed job had already done before this run
        self.start = time.perf_counter()
        self._marks: list[float] = []

    def tick(self) -> StepProgress:
        now = time.perf_counter()
        self._marks.append(now)
        ran = len(self._marks)
        done = self.done_before + ran
        elapsed = now - self.start
        per_step = (self._marks[-1] - self._marks[0]) / (ran - 1) if ran >= 3 else elapsed / ran
        return StepProgress(step=done, total=self.total, elapsed_s=elapsed, eta_s=per_step * (self.total - done))


@dataclass(frozen=True)
class QueuedWork:
    """What the estimate needs to know about one job: its steps and its size in latent pixels."""

    steps: int
    latent_pixels: int  # latent frames x latent height x latent width


def queue_seconds_left(
    current_eta_s: float, seconds_per_step: float, current: QueuedWork, waiting: Sequence[QueuedWork]
) -> float:
    """Time left for the running job and everything waiting behind it, from the running job's measured
    seconds per step, scaled to each waiting job by its size (a step costs about in proportion to its tokens;
    attention grows faster, so large jobs behind a small one are underestimated, never wildly). Loading,
    encoding and decoding are not counted: core/job/time_left.py's queue_time_left counts them too."""
    per_pixel_step = seconds_per_step / max(1, current.latent_pixels)
    return max(0.0, current_eta_s) + sum(w.steps * w.latent_pixels * per_pixel_step for w in waiting)
