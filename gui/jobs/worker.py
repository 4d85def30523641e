"""The generation worker: a QObject living on its own QThread that owns the engine (and so the loaded model)
for the whole session, runs one job at a time, and reports through Qt signals.

The job controller hands it one job at a time (the queue itself is the controller's model, so it can be
reordered and survives a close). Each job carries its own CancelToken; the engine checks it between steps and
between decoded latent frames, so a cancel takes effect within one step. The engine and everything that
imports torch is created on the worker's thread.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from core.errors import JobCancelled, OutOfMemoryError, StudioError
from core.job.progress import CancelToken, ProgressSink, Stage, StepProgress
from core.job.request import GenerationRequest, GenerationResult, OutputOptions, StageTimings
from core.store.history import HistoryStore
from core.store.journal import DEFAULT_SNAPSHOT_EVERY
from gui.support.gc_guard import full_collections_paused
from gui.support.i18n import core_text
from gui.support.paths import unique_output_path

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "internal"


@dataclass(frozen=True)
class Job:
    id: int  # the history record's id
    model_dir: str
    request: GenerationRequest  # with its seed already chosen, so the record can be re-run exactly
    cancel: CancelToken = field(default_factory=CancelToken, compare=False)
    preview_every: int = 0  # steps between live previews; 0: none
    snapshot_every: int = DEFAULT_SNAPSHOT_EVERY  # steps between journal snapshots (core/store/journal.py)
    start_over: bool = False  # drop the job's journal and run from step 0
    decode_on_cpu: bool = False  # a denoised journal: decode on the CPU
    keep_model_path: bool = False  # the clip records the model folder's path too (OutputOptions.keep_model_path)


@dataclass(frozen=True)
class JobOutcome:
    """What a finished job hands the window: the clip and the facts about how it was made."""

    job_id: int
    video_path: Path
    thumbnail_path: Path | None
    seed: int
    num_frames: int
    timings: StageTimings
    peak_vram_bytes: int | None
    device: str
    notes: tuple[str, ...]
    request: GenerationRequest

    @classmethod
    def from_result(cls, job_id: int, result: GenerationResult, thumbnail: Path | None) -> JobOutcome:
        return cls(
            job_id=job_id,
            video_path=result.video_path,
            thumbnail_path=thumbnail,
            seed=result.seed,
            num_frames=result.num_frames,
            timings=result.timings,
            peak_vram_bytes=result.peak_vram_bytes,
            device=result.device,
            notes=result.notes,
            request=result.request,
        )


def classify_exception(exc: BaseException, log_hint: str = "") -> tuple[str, str, str]:
    """(kind, message, advice) for anything that escaped the engine. The engine's own errors stay in English
    (the dialog translates them, gui.support.i18n.core_text); the worker's words are translated here (thread-safe)."""
    if isinstance(exc, StudioError):
        return str(exc.kind), exc.message, exc.advice
    if isinstance(exc, MemoryError):
        return (
            str(OutOfMemoryError.kind),
            QCoreApplication.translate("classify_exception", "The computer ran out of system memory (RAM)."),
            QCoreApplication.translate(
                "classify_exception", "Close other programs, or choose a smaller size or fewer frames."
            ),
        )
    text = str(exc)
    if isinstance(exc, RuntimeError) and "out of memory" in text.lower():  # MPS and some CUDA paths
        from core.engine.runner import OOM_ADVICE

        message = QCoreApplication.translate("classify_exception", "The GPU ran out of memory ({error}).")
        return str(OutOfMemoryError.kind), message.format(error=text.splitlines()[0][:200]), OOM_ADVICE
    advice = QCoreApplication.translate("classify_exception", "This is a bug in ContentV Studio.")
    if log_hint:
        details = QCoreApplication.translate("classify_exception", "The details are in {log_file}.")
        advice += " " + details.format(log_file=log_hint)
    message = QCoreApplication.translate("classify_exception", "Something went wrong: {error}")
    return INTERNAL_ERROR, message.format(error=f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"), advice


class GenerationWorker(QObject):
    """Runs on the worker thread. Create it on the GUI thread, then `moveToThread`; it builds the engine in
    `initialize`, which runs on its own thread."""

    ready = Signal(object)  # core.engine.devices.Capabilities, once torch is imported and the machine probed
    initFailed = Signal(str, str, str)  # kind, message, advice (torch missing or broken)
    jobStarted = Signal(int)
    stageChanged = Signal(int, str)  # job id, core.job.progress.Stage value
    stepped = Signal(int, int, int, float, float)  # job id, step, total, elapsed s, ETA s
    finished = Signal(int, object)  # job id, JobOutcome
    failed = Signal(int, str, str, str)  # job id, kind, message, advice
    cancelled = Signal(int)  # job id
    suspended = Signal(int)  # job id: stopped to be kept; it is back in the queue (history) and runs again later
    previewed = Signal(int, object)  # job id, core.job.preview.PreviewFrames
    decoded = Signal(int, int, int)  # job id, decoder calls done, total
    finishProgressed = Signal(int, str, int, int)  # job id, core.finish.clip.FinishStage value, done, total

    def __init__(
        self,
        store: HistoryStore,
        outputs_dir: Path,
        thumbnails_dir: Path,
        log_hint: str = "",
        warm_imports: bool = True,
    ) -> None:
        super().__init__()
        self._store = store
        self._outputs = outputs_dir
        self._thumbnails = thumbnails_dir
        self._log_hint = log_hint
        self._warm_imports = warm_imports
        self._engine: Any = None
        self._parallel: Any = (
            None  # core.parallel.ranks.ParallelEngine, started by the first job split over several GPUs
        )
        self.capabilities: Any = None

    # ---- start-up -----------------------------------------------------------------------------------------
    @Slot()
    def initialize(self) -> None:
        try:
            from core.engine.devices import detect_capabilities
            from core.engine.runner import Engine

            with full_collections_paused():  # what the imports allocate lives on; gc.freeze() below
                caps = detect_capabilities()  # imports torch
                self._engine = Engine(caps)
                self.capabilities = caps
                if self._warm_imports:
                    self.import_pipeline_modules()
                # The engine calls gc.collect() when it (re)loads a model; a full collection over everything torch
                # and diffusers allocated at import holds the GIL for a third of a second, freezing the window.
                # Moving those long-lived objects out of the collector's sight keeps later collections short.
                # (No collection here: this is not the GUI thread, see gui.support.gc_guard.)
                gc.freeze()
        except Exception as exc:  # torch missing or broken: say so, keep the window usable
            logger.exception("The generation engine could not start")
            kind, message, advice = classify_exception(exc, self._log_hint)
            prefix = self.tr("The generation engine could not start.")
            self.initFailed.emit(kind, f"{prefix} {core_text(message)}", advice)
            return
        self.ready.emit(caps)

    @staticmethod
    def import_pipeline_modules() -> None:
        # Import the modelling code now, while the user is still typing, instead of on the first Generate:
        # some of these imports hold the GIL for a while, which is better spent before a job than during it.
        import diffusers  # noqa: F401
        import transformers  # noqa: F401
        from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler  # noqa: F401
        from transformers import (  # noqa: F401
            CLIPTextModelWithProjection,
            CLIPTokenizer,
            T5EncoderModel,
            T5TokenizerFast,  # pyright: ignore[reportAttributeAccessIssue] - a lazy export
        )

        import core.engine.memory
        import core.engine.pipeline
        import core.engine.transformer  # noqa: F401

    # ---- jobs ---------------------------------------------------------------------------------------------
    @Slot(object)
    def run_job(self, job: Job) -> None:
        if job.cancel.suspended:  # the window is closing and keeps its queue: leave the job waiting
            self.suspended.emit(job.id)
            return
        if job.cancel.cancelled:  # cancelled while it waited in the queue
            self._record(self._store.mark_cancelled, job.id)
            self.cancelled.emit(job.id)
            return
        if self._engine is None and not job.request.finishes_only:  # finishing a clip needs no engine
            message = self.tr("The generation engine is not available (see the earlier error).")
            self._record(self._store.mark_failed, job.id, INTERNAL_ERROR, message)
            self.failed.emit(job.id, INTERNAL_ERROR, message, "")
            return
        self._record(self._store.mark_running, job.id)
        self.jobStarted.emit(job.id)
        started = time.perf_counter()
        try:
            self._outputs.mkdir(parents=True, exist_ok=True)
            sink = ProgressSink(
                on_stage=lambda stage: self._on_stage(job.id, stage),
                on_step=lambda p: self._on_step(job.id, p),
                on_preview=lambda frames: self.previewed.emit(job.id, frames),
                on_decode=lambda d: self.decoded.emit(job.id, d.done, d.total),
                preview_every=job.preview_every,
            )
            if job.request.finish is not None:
                result = self._finish_under_a_free_name(job, sink)
            else:
                result = self._generate_under_a_free_name(job, sink)
        except JobCancelled:
            if job.cancel.suspended:  # runs again, from its journal's last snapshot, on the next start or resume
                self._record(self._store.requeue, job.id)
                self.suspended.emit(job.id)
                return
            self._record(self._store.mark_cancelled, job.id)
            self.cancelled.emit(job.id)
            return
        except Exception as exc:
            if not isinstance(exc, StudioError):
                logger.exception("Job %s failed", job.id)
            kind, message, advice = classify_exception(exc, self._log_hint)
            self._record(self._store.mark_failed, job.id, kind, message, advice)
            self.failed.emit(job.id, kind, message, advice)
            return
        thumbnail = self._thumbnail(result.video_path)
        self._record(self._store.mark_done, job.id, result, thumbnail)
        logger.info("Job %s done in %.1f s: %s", job.id, time.perf_counter() - started, result.video_path)
        self.finished.emit(job.id, JobOutcome.from_result(job.id, result, thumbnail))

    def _generate_under_a_free_name(self, job: Job, sink: ProgressSink) -> GenerationResult:
        """Another window on this data folder may take the same name in the same second: take the next one. A job
        continued from its journal keeps the name it had."""
        from core.errors import OutputNameTakenError
        from core.store.journal import JournalError, find_journal, history_job_id, journals_dir

        assert self._engine is not None
        jobs, journal_id = journals_dir(), history_job_id(job.id)
        journal = self._journal(job)
        previous = None  # a job continued from its journal keeps its name
        if not job.start_over:
            with contextlib.suppress(JournalError):  # unreadable: the engine starts the job over
                existing = find_journal(journal_id, jobs)
                previous = Path(existing.header.video_path) if existing is not None else None
        for attempt in range(20):
            if previous is not None and attempt == 0:
                video = previous
            else:
                video = unique_output_path(self._outputs, job.request.prompt)
            try:
                return self._generate(job, video, sink, journal)
            except OutputNameTakenError:
                if attempt == 19:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _journal(job: Job) -> Any:
        from core.store.journal import JournalOptions, history_job_id, journals_dir

        return JournalOptions(
            journals_dir(),
            history_job_id(job.id),
            job.snapshot_every,
            history_id=job.id,
            resume=not job.start_over,  # starting over drops the old journal
            decode_on_cpu=job.decode_on_cpu,
        )

    def _generate(self, job: Job, video: Path, sink: ProgressSink, journal: Any) -> GenerationResult:
        options = OutputOptions(video, job_id=job.id, keep_model_path=job.keep_model_path)
        return self._engine_for(job.request).generate(job.model_dir, job.request, options, sink, job.cancel, journal)

    def _engine_for(self, request: GenerationRequest) -> Any:
        """This process's engine for a job on one GPU; the coordinator of rank processes for one split over
        several (the worker talks to rank 0 through it). Only one of them holds a model at a time: the GPUs are
        the same ones."""
        assert self._engine is not None
        if not request.parallel.enabled:
            self.close_ranks()
            return self._engine
        if self._parallel is None:
            from core.parallel.ranks import ParallelEngine

            self._parallel = ParallelEngine(self._engine.capabilities)
        if self._engine.loaded_key is not None:
            self._engine.unload()
        return self._parallel

    def close_ranks(self) -> None:
        """Stop a split job's rank processes (between jobs, or when the window closes)."""
        parallel, self._parallel = self._parallel, None
        if parallel is not None:
            parallel.close()

    def _finish_under_a_free_name(self, job: Job, sink: ProgressSink) -> GenerationResult:
        """A finish job (core/finish/job.py): finish its clip, or generate and then finish, under a free name."""
        from core.errors import OutputNameTakenError
        from core.finish.clip import FinishProgress
        from core.finish.job import finish_existing, generate_then_finish

        def report(p: FinishProgress) -> None:
            self.finishProgressed.emit(job.id, p.stage.value, p.done, p.total)

        journal = None if job.request.finishes_only else self._journal(job)
        for attempt in range(20):
            video = unique_output_path(self._outputs, job.request.prompt)
            try:
                if job.request.finishes_only:
                    return finish_existing(job.request, video, report, job.cancel, job.keep_model_path)
                return generate_then_finish(
                    job.request,
                    video,
                    lambda path: self._generate(job, path, sink, journal),
                    report,
                    job.cancel,
                    job.keep_model_path,
                )
            except OutputNameTakenError:
                if attempt == 19:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _record(write: Any, *args: Any) -> None:
        # A history write that fails (disk full, database locked for too long) must not swallow the job's end
        # signal, or the window would wait for this job forever.
        try:
            write(*args)
        except Exception:
            logger.exception("Could not update the history (%s)", getattr(write, "__name__", write))

    def _thumbnail(self, video: Path) -> Path | None:
        from core.output.video import write_thumbnail

        try:
            return write_thumbnail(video, self._thumbnails / f"{video.stem}.png")
        except Exception:  # a missing thumbnail must not turn a finished clip into a failed job
            logger.exception("Thumbnail for %s failed", video)
            return None

    def _on_stage(self, job_id: int, stage: Stage) -> None:
        self.stageChanged.emit(job_id, stage.value)

    def _on_step(self, job_id: int, p: StepProgress) -> None:
        self.stepped.emit(job_id, p.step, p.total, p.elapsed_s, p.eta_s)


class WorkerHost(QObject):
    """The GUI-thread side: owns the thread, forwards jobs to the worker, and shuts it down."""

    _submit = Signal(object)

    def __init__(self, worker: GenerationWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.worker_thread = QThread(self)
        self.worker_thread.setObjectName("generation-worker")
        worker.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(worker.initialize)
        self.worker_thread.finished.connect(worker.deleteLater)
        self._submit.connect(worker.run_job)  # queued: the worker lives on the other thread

    def start(self) -> None:
        self.worker_thread.start()

    def submit(self, job: Job) -> None:
        self._submit.emit(job)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Stop the thread's event loop once the current job (cancel it first) returns; True when it stopped."""
        if not self.worker_thread.isRunning():
            return True
        self.worker_thread.quit()
        stopped = self.worker_thread.wait() if timeout_ms < 0 else self.worker_thread.wait(timeout_ms)
        if stopped:
            self.worker.close_ranks()  # the thread is done with them; the rank processes end with the window
        return stopped
