"""What the window shows of the running job: the progress bar, the line under it (stage, step, time left, the queue
behind it) and the window title ("45% — a red fox… — ContentV Studio", "Decoding 40% (+2) — …", so the taskbar
shows it too).

It listens to the JobController's signals; the window reacts to the same signals for everything else (the player,
the preview, error dialogs)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar

from core.history import HistoryStore, JobRecord
from core.progress import QueuedWork, Stage, queue_seconds_left
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
TITLE_PROMPT_CHARS = 40  # of the prompt in the title while a job runs


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
        self._stage_text = self.tr("Ready.")
        self._prompt = ""  # of the running job, for the title
        self._percent = 0  # of the running job's denoising, or of its decoding while `_decoding`
        self._decoding = False
        self._seconds_per_step: float | None = None  # measured on the running job, for the queue's time left
        self._job_eta = 0.0
        self.label.setText(self._stage_text)
        c = controller
        c.jobQueued.connect(self._on_queued)
        c.jobStarted.connect(self._on_started)
        c.stageChanged.connect(self._on_stage)
        c.stepped.connect(self._on_step)
        c.decoded.connect(self._on_decoded)
        c.queue.changed.connect(self._on_queue_changed)

    def _on_queue_changed(self) -> None:
        self.set_stage(self._stage_text)  # the count (and time) of waiting jobs
        if self.current_job is not None:
            self._emit_title()

    def _emit_title(self) -> None:
        self.titleChanged.emit(
            window_title(
                self._percent, self._prompt, decoding=self._decoding, waiting=len(self.controller.waiting_jobs)
            )
        )

    # ---- the line under the bar -------------------------------------------------------------------------------
    def set_stage(self, text: str) -> None:
        self._stage_text = text
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
        entry = c.running_entry
        if entry is not None and self._seconds_per_step is not None:
            work = [QueuedWork(e.request.steps, e.latent_pixels) for e in c.queue.entries]
            current = QueuedWork(entry.request.steps, entry.latent_pixels)
            total = queue_seconds_left(self._job_eta, self._seconds_per_step, current, work)
            note += "  ·  " + self.tr("queue about {time} left").format(time=clock(total))
        return note

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
        self._job_eta = 0.0
        record = self.store.get(job_id)
        self._prompt = record.request.prompt if record is not None else ""
        self._percent, self._decoding = 0, False
        self._emit_title()
        self._set_busy_bar()
        self.set_stage(self.tr(STAGE_TEXT[Stage.LOADING.value]))

    def _on_stage(self, job_id: int, stage: str) -> None:
        if job_id != self.current_job:
            return
        self.set_stage(self.tr(STAGE_TEXT[stage]) if stage in STAGE_TEXT else stage)
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
        self._job_eta = eta
        left = "  ·  " + self.tr("about {time} left").format(time=clock(eta)) if step < total else ""
        self.set_stage(
            self.tr("Denoising  ·  step {step} of {total}  ·  {elapsed}").format(
                step=step, total=total, elapsed=clock(elapsed)
            )
            + left
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
        self.set_stage(self.tr("Decoding the video  ·  {done} of {total}").format(done=done, total=total))
        self._percent, self._decoding = 100 * done // max(1, total), True
        self._emit_title()

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
            self.titleChanged.emit(window_title())
