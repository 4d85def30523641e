"""What the window shows of the running job: the progress bar, the line under it (stage, step, time left, the queue
behind it) and the window title ("45% — a red fox… — ContentV Studio", "Decoding 40% (+2) — …", so the taskbar
shows it too).

The time left is the whole job's, loading, encoding, decoding and saving included, and the queue's adds every
waiting job's (core/job/time_left.py, from this machine's past jobs); the line is refreshed every second while a job
runs, so a long load or decode counts down too.

It listens to the JobController's signals; the window reacts to the same signals for everything else (the player,
the preview, error dialogs)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar

from core.job.progress import DecodeProgress, Stage, StepProgress
from core.job.time_left import QueuedJob, StageCosts, job_seconds_left, queue_time_left
from core.store.history import HistoryStore, JobRecord
from gui.jobs.controller import JobController
from gui.jobs.history_panel import HistoryPanel
from gui.support.formatting import clock
from gui.support.i18n import QT_TRANSLATE_NOOP
from gui.support.paths import APP_NAME

# Translated where shown (self.tr in JobProgressView: same context).
STAGE_TEXT = {
    Stage.LOADING.value: QT_TRANSLATE_NOOP("JobProgressView", "Loading the model…"),
    Stage.ENCODING.value: QT_TRANSLATE_NOOP("JobProgressView", "Encoding the prompt…"),
    Stage.DENOISING.value: QT_TRANSLATE_NOOP("JobProgressView", "Denoising…"),
    Stage.DECODING.value: QT_TRANSLATE_NOOP("JobProgressView", "Decoding the video…"),
    Stage.SAVING.value: QT_TRANSLATE_NOOP("JobProgressView", "Saving the clip…"),
}
FINISH_STAGE_TEXT = {
    "reading": QT_TRANSLATE_NOOP("JobProgressView", "Reading the clip…"),
    "downloading": QT_TRANSLATE_NOOP("JobProgressView", "Downloading the model (first use)…"),
    "loading": QT_TRANSLATE_NOOP("JobProgressView", "Loading the network…"),
    "upscaling": QT_TRANSLATE_NOOP("JobProgressView", "Upscaling"),
    "interpolating": QT_TRANSLATE_NOOP("JobProgressView", "Interpolating"),
    "saving": QT_TRANSLATE_NOOP("JobProgressView", "Saving the clip…"),
}
FRAME_STAGES = ("upscaling", "interpolating")
TITLE_PROMPT_CHARS = 40  # of the prompt in the title while a job runs
HISTORY_JOBS_FOR_COSTS = 200  # the newest finished jobs the stage costs are learned from
REFRESH_MS = 1000  # the time left counts down between progress signals

logger = logging.getLogger(__name__)


def window_title(percent: int | None = None, prompt: str = "", *, decoding: bool = False, waiting: int = 0) -> str:
    """One title: "85% — a red fox… — ContentV Studio" while a job runs ("Decoding 40% — …" while it decodes,
    "85% (+2) — …" while two more jobs wait), the app's name otherwise. Short, as taskbars cut titles; it ends with
    the application's display name, so Qt does not append it a second time."""
    if percent is None:
        return APP_NAME
    lead = (
        QCoreApplication.translate("JobProgressView", "Decoding {percent}%").format(percent=percent)
        if decoding
        else f"{percent}%"
    )
    if waiting > 0:
        lead += f" (+{waiting})"
    parts = [lead]
    prompt = " ".join(prompt.split())
    if prompt:
        parts.append(prompt if len(prompt) <= TITLE_PROMPT_CHARS else prompt[: TITLE_PROMPT_CHARS - 1].rstrip() + "…")
    return " — ".join([*parts, APP_NAME])


class JobProgressView(QObject):
    titleChanged = Signal(str)

    def __init__(
        self,
        controller: JobController,
        store: HistoryStore,
        bar: QProgressBar,
        label: QLabel,
        history: HistoryPanel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = store
        self.bar = bar
        self.label = label
        self.history = history
        self.current_job: int | None = None
        self._prompt = ""  # of the running job, for the title
        self._percent = 0  # of the running job's denoising, or of its decoding while `_decoding`
        self._decoding = False
        self._seconds_per_step: float | None = None  # measured on the running job, for the queue's time left
        # For the time left: what runs, where it is, and what this machine's past jobs say the rest costs.
        self._job: QueuedJob | None = None
        self._loaded: QueuedJob | None = None  # the job whose model the engine holds (it stays loaded)
        self._model_loaded = False  # when the running job started
        self._costs: StageCosts | None = None
        self._stage: Stage | None = None
        self._stage_started = 0.0
        self._last_step: StepProgress | None = None
        self._last_decode: DecodeProgress | None = None
        self._stage_base = self.tr("Ready.")  # the stage line without its time left and queue note
        self._with_time_left = False
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._render)
        self.label.setText(self._stage_base)
        c = controller
        c.jobQueued.connect(self._on_queued)
        c.jobStarted.connect(self._on_started)
        c.stageChanged.connect(self._on_stage)
        c.stepped.connect(self._on_step)
        c.decoded.connect(self._on_decoded)
        c.finishProgressed.connect(self._on_finish_progress)
        self._finish_estimate: tuple[float, int] | None = None  # (seconds, past jobs it was learned from)
        self._finish_started = 0.0
        self._finish_stage = ""
        c.queue.changed.connect(self._on_queue_changed)

    def _on_queue_changed(self) -> None:
        self._render()  # the count (and time) of waiting jobs
        if self.current_job is not None:
            self._emit_title()

    def _emit_title(self) -> None:
        self.titleChanged.emit(
            window_title(
                self._percent, self._prompt, decoding=self._decoding, waiting=len(self.controller.waiting_jobs)
            )
        )

    # ---- the line under the bar -------------------------------------------------------------------------------
    def set_stage(self, text: str, *, time_left: bool = False) -> None:
        """The line under the bar: `text`, the running job's time left when asked, then the queue behind it."""
        self._stage_base = text
        self._with_time_left = time_left
        self._render()

    def _render(self) -> None:
        text = self._stage_base
        left = self.seconds_left() if self._with_time_left else None
        if left is not None:
            text += "  ·  " + self.tr("about {time} left").format(time=clock(left))
        self.label.setText(text + self._queue_note())

    def _queue_note(self) -> str:
        """The queue behind the running job: how many wait and, once a step was measured, the time they need."""
        c = self.controller
        waiting = len(c.waiting_jobs)
        if not waiting:
            return ""
        if c.paused:
            return "  ·  " + self.tr("%n waiting (paused)", "", waiting)
        note = "  ·  " + self.tr("%n more queued", "", waiting)
        left = self.queue_seconds_left()
        if left is not None:
            note += "  ·  " + self.tr("queue about {time} left").format(time=clock(left))
        return note

    # ---- time left -------------------------------------------------------------------------------------------
    def seconds_left(self) -> float | None:
        """The running job's time left, every stage still to come included; None with no job or no costs."""
        if self._job is None or self._costs is None:
            return None
        return job_seconds_left(
            self._stage,
            self._costs,
            self._job.request,
            self._last_step,
            self._last_decode,
            self._model_loaded,
            stage_elapsed_s=time.monotonic() - self._stage_started,
            decode_elapsed_s=time.monotonic() - self._stage_started if self._stage is Stage.DECODING else None,
        )

    def queue_seconds_left(self) -> float | None:
        """The running job's time left plus every waiting job's, loading included where a job changes model."""
        current = self.seconds_left()
        if current is None or self._costs is None:
            return None
        waiting = [QueuedJob(e.request, e.model_dir) for e in self.controller.queue.entries]
        return queue_time_left(current, self._costs, self._job, waiting, self._seconds_per_step)

    def _learn_costs(self, job: QueuedJob) -> StageCosts | None:
        memory = job.request.memory
        caps = self.controller.capabilities
        device = memory.device if memory.device != "auto" else (getattr(caps, "accelerator", None) or "cpu")
        gpu_name = getattr(caps, "cuda_name", None) or ""
        try:
            records = self.store.list_jobs(limit=HISTORY_JOBS_FOR_COSTS)
        except Exception:  # a busy or damaged history costs the estimate its learned figures, nothing more
            logger.warning("No history for the time left", exc_info=True)
            records = []
        return StageCosts.from_history(records, device, **({"gpu_name": gpu_name} if gpu_name else {}))

    def _enter_stage(self, stage: Stage | None, text: str) -> None:
        if stage is not self._stage:
            self._stage = stage
            self._stage_started = time.monotonic()
        self.set_stage(text, time_left=True)

    def _set_busy_bar(self) -> None:
        self.bar.setRange(0, 0)  # indeterminate until the steps begin
        self.bar.setFormat("")

    def reset_bar(self, text: str) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat(text)

    # ---- the running job --------------------------------------------------------------------------------------
    def _on_queued(self, record: JobRecord) -> None:
        c = self.controller
        if (c.running_job is None or c.running_job == record.id) and not c.paused:
            self.set_stage(self.tr("Waiting for the engine…") if not c.engine_ready else self.tr("Starting…"))
            self._set_busy_bar()

    def _on_started(self, job_id: int) -> None:
        self.current_job = job_id
        self._seconds_per_step = None
        self._last_step = None
        self._last_decode = None
        record = self.store.get(job_id)
        self._prompt = record.request.prompt if record is not None else ""
        entry = self.controller.running_entry
        request = entry.request if entry is not None else record.request if record is not None else None
        model_dir = entry.model_dir if entry is not None else record.model_dir if record is not None else ""
        self._job = QueuedJob(request, model_dir) if request is not None else None
        self._model_loaded = (
            self._job is not None and self._loaded is not None and self._loaded.load_key == self._job.load_key
        )
        self._costs = self._learn_costs(self._job) if self._job is not None else None
        self._stage = None
        self._percent, self._decoding = 0, False
        self._finish_estimate, self._finish_stage = None, ""
        self._emit_title()
        self._set_busy_bar()
        self._enter_stage(Stage.LOADING, self.tr(STAGE_TEXT[Stage.LOADING.value]))
        self._refresh.start()

    def _on_stage(self, job_id: int, stage: str) -> None:
        if job_id != self.current_job:
            return
        known = Stage(stage) if stage in STAGE_TEXT else None
        if known is not None and known is not Stage.LOADING:
            self._loaded = self._job  # past loading: the engine holds this job's model for the next one
        self._enter_stage(known, self.tr(STAGE_TEXT[stage]) if stage in STAGE_TEXT else stage)
        if stage in (Stage.LOADING.value, Stage.ENCODING.value):
            self._set_busy_bar()
        elif stage == Stage.DECODING.value:
            self.bar.setRange(0, 0)  # until the first decoded frame says how many there are
            self.bar.setFormat("")
            self._percent, self._decoding = 0, True
            self._emit_title()
        elif stage == Stage.SAVING.value:
            self.bar.setValue(self.bar.maximum())

    def _on_step(self, job_id: int, step: int, total: int, elapsed: float, eta: float) -> None:
        if job_id != self.current_job:
            return
        if self.bar.maximum() != total:
            self.bar.setRange(0, total)
            self.bar.setFormat(self.tr("%v / %m steps"))
        self.bar.setValue(step)
        self._seconds_per_step = elapsed / max(1, step)
        self._last_step = StepProgress(step, total, elapsed, eta)
        self._enter_stage(
            Stage.DENOISING,
            self.tr("Denoising  ·  step {step} of {total}  ·  {elapsed}").format(
                step=step, total=total, elapsed=clock(elapsed)
            ),
        )
        self.history.set_progress(job_id, step / total if total else 1.0)
        self._percent, self._decoding = 100 * step // max(1, total), False
        self._emit_title()

    def _on_decoded(self, job_id: int, done: int, total: int) -> None:
        if job_id != self.current_job:
            return
        if self.bar.maximum() != total:
            self.bar.setRange(0, total)
            self.bar.setFormat(self.tr("decoding %v / %m"))
        self.bar.setValue(done)
        self._last_decode = DecodeProgress(done, total)
        self._enter_stage(
            Stage.DECODING, self.tr("Decoding the video  ·  {done} of {total}").format(done=done, total=total)
        )
        self._percent, self._decoding = 100 * done // max(1, total), True
        self._emit_title()

    # ---- finishing (core/finish/: upscaling, interpolation) -----------------------------------------------------
    def _on_finish_progress(self, job_id: int, stage: str, done: int, total: int) -> None:
        if job_id != self.current_job:
            return
        if self._finish_estimate is None:
            self._finish_started = time.monotonic()
            self._finish_estimate = self._estimate_finish() or (0.0, -1)
        if stage != self._finish_stage:
            self._finish_stage, self._stage_started = stage, time.monotonic()
            self._stage = None  # the generation's time left no longer applies
            self._set_busy_bar()
        text = self.tr(FINISH_STAGE_TEXT[stage]) if stage in FINISH_STAGE_TEXT else stage
        left: float | None = None
        if stage in FRAME_STAGES and total:
            if self.bar.maximum() != total:
                self.bar.setRange(0, total)
                self.bar.setFormat(self.tr("%v / %m frames"))
            self.bar.setValue(done)
            text += "  ·  " + self.tr("frame {done} of {total}").format(done=done, total=total)
            elapsed = time.monotonic() - self._stage_started
            if done:  # measured on this clip now
                left = elapsed / done * (total - done)
            self._percent = 100 * done // max(1, total)
            self.history.set_progress(job_id, done / total)
            self._emit_title()
        elif stage == "downloading":
            text += "  ·  " + self.tr("{size} MiB").format(size=done // 2**20)
        if left is None and self._finish_estimate[1] >= 0:
            left = max(0.0, self._finish_estimate[0] - (time.monotonic() - self._finish_started))
            learned = self._finish_estimate[1]
            source = (
                self.tr("estimate from %n past finish job(s)", "", learned)
                if learned
                else self.tr("a rough default estimate: no finish job has run here yet")
            )
            text += "  ·  " + self.tr("about {time} left ({source})").format(time=clock(left), source=source)
        elif left is not None:
            text += "  ·  " + self.tr("about {time} left").format(time=clock(left))
        self.set_stage(text)

    def _estimate_finish(self) -> tuple[float, int] | None:
        """The finish's time from this machine's past finish jobs (core/finish/job.py); None when unknown."""
        from core.finish.job import ClipShape, clip_shape, estimate_finish

        request = self._job.request if self._job is not None else None
        if request is None or request.finish is None:
            return None
        try:
            if request.finish_source is not None:
                source = clip_shape(Path(request.finish_source))
            else:  # generated first: the clip the form asked for
                source = ClipShape(request.effective_frames, request.width, request.height, float(request.fps))
            records = self.store.list_jobs(limit=HISTORY_JOBS_FOR_COSTS)
        except Exception:  # an unreadable clip or a busy history costs the estimate, nothing more
            logger.warning("No estimate for the finish", exc_info=True)
            return None
        on_gpu = getattr(self.controller.capabilities, "accelerator", None) == "cuda" and request.memory.device != "cpu"
        estimate = estimate_finish(request.finish, source, records, on_gpu)
        return estimate.seconds, estimate.learned_from

    # ---- how it ended (the window calls these: it decides what else an end means) -----------------------------
    def finished(self, steps: int, seconds: float, seed: int) -> None:
        self.bar.setRange(0, max(1, steps))
        self.bar.setValue(self.bar.maximum())
        self.bar.setFormat(self.tr("Done"))
        self.set_stage(self.tr("Done in {seconds} s  ·  seed {seed}").format(seconds=f"{seconds:.1f}", seed=seed))

    def failed(self, message: str) -> None:
        self.reset_bar(self.tr("Failed"))
        self.set_stage(self.tr("Failed: {message}").format(message=message))

    def cancelled(self, reached: tuple[int, int] | None) -> None:
        self.reset_bar(self.tr("Cancelled"))
        if reached is not None:
            self.set_stage(
                self.tr(
                    "Cancelled at step {step} of {steps}; nothing was written. Continue it from the history."
                ).format(step=reached[0], steps=reached[1])
            )
        else:
            self.set_stage(self.tr("Cancelled — nothing was written."))

    def suspended(self, reached: tuple[int, int] | None) -> None:
        self.reset_bar(self.tr("Stopped"))
        if reached is not None:
            self.set_stage(
                self.tr("Stopped; the job waits in the queue and continues from step {step} of {steps}.").format(
                    step=reached[0], steps=reached[1]
                )
            )
        else:
            self.set_stage(self.tr("Stopped; the job waits in the queue and restarts from the beginning."))

    def ended(self, job_id: int) -> None:
        self.history.set_progress(job_id, None)
        if job_id == self.current_job:
            self.current_job = None
            self._seconds_per_step = None
            self._job = None
            self._refresh.stop()
            self.titleChanged.emit(window_title())
