"""The job controller: the window's single entry point for running jobs. It checks requests, records them in
the history, keeps the waiting ones in the queue model (`gui.jobs.queue_model.QueueModel`), hands the worker one job
at a time from the queue's head, and cancels, removes, reorders, pauses and resumes. It holds state, not widgets.

The history database is the queue's memory: every waiting job is a 'queued' record with a position, written as
the queue changes, so a close (which keeps the queue) or a crash loses nothing; on the next start the queue is
rebuilt from the database, paused, until `resume`. Each job keeps a journal (core/store/journal.py) under its history
id,
so a job that was stopped, killed or whose decode failed continues from its last snapshot when it runs again.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.errors import InvalidRequestError, ModelFolderError
from core.job.preview import DEFAULT_PREVIEW_EVERY
from core.job.progress import CancelToken
from core.job.request import MAX_SEED, GenerationRequest, random_seed
from core.model.checkpoint import check_model_folder
from core.store.history import HistoryStore, JobRecord, JobStatus
from core.store.journal import DEFAULT_SNAPSHOT_EVERY, discard_journal, history_job_id, journal_progress
from gui.jobs.queue_model import QueueEntry, QueueModel
from gui.jobs.worker import GenerationWorker, Job, JobOutcome, WorkerHost

logger = logging.getLogger(__name__)


def seed_series(first: int, count: int) -> list[int]:
    """seed, seed + 1, … (wrapping past the largest seed)."""
    return [(first + k) % (MAX_SEED + 1) for k in range(count)]


class JobController(QObject):
    capabilitiesReady = Signal(object)  # core.engine.devices.Capabilities
    engineFailed = Signal(str, str, str)  # kind, message, advice
    jobQueued = Signal(object)  # JobRecord
    jobStarted = Signal(int)
    stageChanged = Signal(int, str)
    stepped = Signal(int, int, int, float, float)
    previewed = Signal(int, object)  # job id, core.job.preview.PreviewFrames
    decoded = Signal(int, int, int)  # job id, decoder calls done, total
    finishProgressed = Signal(int, str, int, int)  # job id, core.finish.clip.FinishStage value, done, total
    jobFinished = Signal(int, object)  # job id, JobOutcome
    jobFailed = Signal(int, str, str, str)  # job id, kind, message, advice
    jobCancelled = Signal(int)
    jobSuspended = Signal(int)  # stopped to be kept: it waits in the history for the next start
    jobEnded = Signal(int)  # after any of finished / failed / cancelled / suspended
    historyChanged = Signal()
    busyChanged = Signal(bool)  # whether any job runs or waits

    def __init__(
        self,
        store: HistoryStore,
        outputs_dir: Path,
        thumbnails_dir: Path,
        log_hint: str = "",
        warm_imports: bool = True,
        parent: QObject | None = None,
        *,
        restore_queue: bool = True,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.capabilities: object | None = None
        self.preview_every = DEFAULT_PREVIEW_EVERY
        self.snapshot_every = DEFAULT_SNAPSHOT_EVERY  # journal snapshots (core/store/journal.py), from the settings
        self.keep_model_path = False  # clips record the model folder's path too (the include_model_path setting)
        self.queue = QueueModel(self)
        self.queue.orderChanged.connect(self._save_order)
        self._tokens: dict[int, CancelToken] = {}  # pending jobs (waiting or running)
        self._running: int | None = None  # handed to the worker and not yet ended
        self._running_entry: QueueEntry | None = None
        self._busy = False
        worker = GenerationWorker(store, outputs_dir, thumbnails_dir, log_hint, warm_imports)
        self._host = WorkerHost(worker, self)
        worker.ready.connect(self._on_ready)
        worker.initFailed.connect(self.engineFailed)
        worker.jobStarted.connect(self._on_started)
        worker.stageChanged.connect(self.stageChanged)
        worker.stepped.connect(self.stepped)
        worker.previewed.connect(self.previewed)
        worker.decoded.connect(self.decoded)
        worker.finishProgressed.connect(self.finishProgressed)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.suspended.connect(self._on_suspended)
        if restore_queue:  # not in a second window on the same data folder: the first one runs those jobs
            self._restore_queue()

    def start(self) -> None:
        self._host.start()
        self._dispatch_next()

    def _restore_queue(self) -> None:
        """Jobs a previous session left waiting (or running) come back, paused: nothing starts by itself."""
        try:
            waiting = self.store.queued_jobs()
        except sqlite3.Error:  # another process holds the history past the wait: they come back at the next start
            logger.exception("Could not read the queue from the history")
            return
        if not waiting:
            return
        for record in waiting:
            self._tokens[record.id] = CancelToken()
        self.queue.set_paused(True)
        self.queue.append([self._entry(r.id, r.request, r.model_dir) for r in waiting])
        self._update_busy()

    @staticmethod
    def _entry(job_id: int, request: GenerationRequest, model_dir: str, **flags: bool) -> QueueEntry:
        """A queue entry, with the step its journal reached when the job was interrupted."""
        reached = JobController.journal_progress(job_id)
        return QueueEntry(job_id, request, model_dir, reached[0] if reached else 0, **flags)

    @staticmethod
    def journal_progress(job_id: int) -> tuple[int, int] | None:
        """(step reached, steps) of a history job's journal: it can continue from there (None: it cannot)."""
        return journal_progress(history_job_id(job_id))

    # ---- state ------------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A job runs or waits (a paused queue counts)."""
        return bool(self._tokens)

    @property
    def running_job(self) -> int | None:
        return self._running

    @property
    def running_entry(self) -> QueueEntry | None:
        return self._running_entry

    @property
    def pending_jobs(self) -> list[int]:
        """The running job (if any), then the waiting ones in the order they will run."""
        return ([self._running] if self._running is not None else []) + self.queue.job_ids

    @property
    def waiting_jobs(self) -> list[int]:
        return self.queue.job_ids

    @property
    def paused(self) -> bool:
        return self.queue.paused

    @property
    def engine_ready(self) -> bool:
        return self.capabilities is not None

    def has_unsettled_jobs(self) -> bool:
        """Jobs that closing the window would affect: waiting ones, or a running one not already cancelled."""
        token = self._tokens.get(self._running) if self._running is not None else None
        return bool(self.queue.job_ids) or (token is not None and not token.cancelled)

    # ---- submitting -------------------------------------------------------------------------------------------
    def preflight(self, request: GenerationRequest, model_dir: str) -> None:
        """Refuse what cannot run, before a record or a job exists: StudioError with plain-words advice."""
        if request.finishes_only:  # finishing a clip needs its clip, not a model folder
            request.validate()
            return
        if not model_dir.strip():
            raise ModelFolderError(
                self.tr("No model folder is chosen."),
                self.tr("Choose your ContentV-8B folder, or make a demo model to check the install."),
            )
        request.validate()
        if self.capabilities is not None:
            from core.engine.devices import resolve_device

            resolve_device(request.memory, self.capabilities)  # type: ignore[arg-type]
        check_model_folder(model_dir)

    def submit(self, request: GenerationRequest, model_dir: str) -> JobRecord:
        """Queue a job (it starts when the worker is free). The seed is fixed now so the record can be re-run."""
        return self.submit_many([request], model_dir)[0]

    def submit_many(self, requests: list[GenerationRequest], model_dir: str) -> list[JobRecord]:
        """Queue several jobs at once: all are checked first, so a bad one queues none."""
        if not requests:
            return []
        self.preflight(requests[0], model_dir)  # the folder is checked once: the batch shares it
        for request in requests[1:]:
            request.validate()
        folder = str(Path(model_dir).expanduser())
        records: list[JobRecord] = []
        for request in requests:
            if request.seed is None:
                request = request.with_seed(random_seed())
            records.append(self.store.add(request, folder, JobStatus.QUEUED))
        for record in records:
            self._tokens[record.id] = CancelToken()
        self.queue.append([QueueEntry(r.id, r.request, r.model_dir) for r in records])
        for record in records:
            self.jobQueued.emit(record)
        self.historyChanged.emit()
        self._update_busy()
        self._dispatch_next()
        return records

    def rerun(self, record: JobRecord, new_seed: bool = False) -> JobRecord:
        request = record.request
        if new_seed or request.seed is None:
            request = request.with_seed(random_seed())
        if not request.prompt.strip():
            raise InvalidRequestError(self.tr("This history entry has no prompt to run again."))
        return self.submit(request, record.model_dir)

    # ---- the queue --------------------------------------------------------------------------------------------
    def _dispatch_next(self) -> None:
        """Hand the head of the queue to the worker when it is free and the queue is not paused."""
        if self._running is not None or self.queue.paused or not self._host.worker_thread.isRunning():
            return
        entry = self.queue.take_first()
        if entry is None:
            return
        self._running = entry.job_id
        self._running_entry = entry
        token = self._tokens.setdefault(entry.job_id, CancelToken())
        self._host.submit(
            Job(
                entry.job_id,
                entry.model_dir,
                entry.request,
                token,
                self.preview_every,
                self.snapshot_every,
                start_over=entry.start_over,
                decode_on_cpu=entry.decode_on_cpu,
                keep_model_path=self.keep_model_path,
            )
        )

    # ---- journals: continue, start over, decode again ------------------------------------------------------
    def continue_job(self, record: JobRecord, request: GenerationRequest | None = None, **flags: bool) -> bool:
        """Queue an ended job (cancelled, failed, interrupted) again under its own id, so it continues from its
        journal's last snapshot. `request`: the same job with other memory settings (decode again)."""
        if record.id in self._tokens or record.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            return False
        self.store.requeue(record.id)
        self._tokens[record.id] = CancelToken()
        self.queue.append([self._entry(record.id, request or record.request, record.model_dir, **flags)])
        self._save_order(self.queue.job_ids)
        self.historyChanged.emit()
        self._update_busy()
        self._dispatch_next()
        return True

    def decode_again(self, record: JobRecord) -> bool:
        """A job whose decode failed after its last step: decode its kept latents again with lower-memory
        settings (VAE tiling and slicing; when those were on already, on the CPU), without denoising again."""
        memory = record.request.memory
        on_cpu = memory.vae_tiling and memory.vae_slicing
        lower = dataclasses.replace(
            record.request, memory=dataclasses.replace(memory, vae_tiling=True, vae_slicing=True)
        )
        return self.continue_job(record, lower, decode_on_cpu=on_cpu)

    def start_over(self, job_id: int) -> bool:
        """Drop a job's journal so it runs from step 0: a waiting job stays in its place; an ended one is queued."""
        discard_journal(history_job_id(job_id))
        entry = self.queue.entry(job_id)
        if entry is not None:
            return self.queue.replace(dataclasses.replace(entry, resume_step=0, start_over=True))
        record = self.store.get(job_id)
        return record is not None and self.continue_job(record, start_over=True)

    def move(self, job_id: int, to_row: int) -> bool:
        return self.queue.move(job_id, to_row)

    def remove(self, job_id: int) -> bool:
        """Take a waiting job out of the queue (recorded as cancelled); the running one is cancelled."""
        if job_id == self._running:
            return self.cancel(job_id)
        if self.queue.remove(job_id) is None:
            return False
        self._write(self.store.mark_cancelled, job_id)
        self.jobCancelled.emit(job_id)
        self._ended(job_id)
        return True

    def clear_queue(self) -> int:
        """Remove every waiting job (the running one goes on). Returns how many were removed."""
        removed = self.queue.clear()
        for entry in removed:
            self._write(self.store.mark_cancelled, entry.job_id)
            self.jobCancelled.emit(entry.job_id)
            self._ended(entry.job_id)
        return len(removed)

    def pause(self) -> None:
        """Let the running job finish but start no other."""
        self.queue.set_paused(True)

    def resume(self) -> None:
        self.queue.set_paused(False)
        self._dispatch_next()

    def _save_order(self, job_ids: list[int]) -> None:
        self._write(self.store.set_queue_order, job_ids)

    # ---- cancelling -------------------------------------------------------------------------------------------
    def cancel(self, job_id: int) -> bool:
        if job_id != self._running:
            return self.remove(job_id)
        token = self._tokens.get(job_id)
        if token is None:
            return False
        token.cancel()
        return True

    def cancel_current(self) -> bool:
        """Cancel the running job, or the next waiting one when none has started yet."""
        target = self._running if self._running is not None else next(iter(self.queue.job_ids), None)
        return target is not None and self.cancel(target)

    def cancel_all(self) -> None:
        self.clear_queue()
        if self._running is not None:
            self.cancel(self._running)

    def suspend_all(self) -> None:
        """For closing while keeping the queue: start nothing more, and stop the running job so that it waits
        again (at the head of the queue) instead of ending."""
        self.pause()
        if self._running is not None:
            token = self._tokens.get(self._running)
            if token is not None and not token.cancelled:
                token.suspend()

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Stop the worker thread (cancel or suspend the running job first). Waiting jobs stay queued in the
        history: they are listed, paused, on the next start."""
        if self._running is not None:
            token = self._tokens.get(self._running)
            if token is not None and not token.cancelled:
                token.suspend()
        return self._host.shutdown(timeout_ms)

    # ---- worker signals ---------------------------------------------------------------------------------------
    def _on_ready(self, caps: object) -> None:
        self.capabilities = caps
        self.capabilitiesReady.emit(caps)

    def _on_started(self, job_id: int) -> None:
        self.jobStarted.emit(job_id)
        self.historyChanged.emit()

    def _on_finished(self, job_id: int, outcome: JobOutcome) -> None:
        self.jobFinished.emit(job_id, outcome)
        self._ended(job_id)

    def _on_failed(self, job_id: int, kind: str, message: str, advice: str) -> None:
        self.jobFailed.emit(job_id, kind, message, advice)
        self._ended(job_id)

    def _on_cancelled(self, job_id: int) -> None:
        self.jobCancelled.emit(job_id)
        self._ended(job_id)

    def _on_suspended(self, job_id: int) -> None:
        self.jobSuspended.emit(job_id)
        self._ended(job_id)

    def _ended(self, job_id: int) -> None:
        self._tokens.pop(job_id, None)
        if self._running == job_id:
            self._running = None
            self._running_entry = None
        self.historyChanged.emit()
        self.jobEnded.emit(job_id)
        self._update_busy()
        self._dispatch_next()

    def _update_busy(self) -> None:
        if self.busy != self._busy:
            self._busy = self.busy
            self.busyChanged.emit(self._busy)

    @staticmethod
    def _write(write: Callable[..., object], *args: object) -> None:
        try:
            write(*args)
        except sqlite3.Error:
            logger.exception("Could not update the queue in the history")
