"""The job controller: the window's single entry point for running jobs. It checks a request, records it in the
history, hands it to the worker, tracks which jobs are pending and cancels them. It holds state, not widgets.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.checkpoint import check_model_folder
from core.errors import InvalidRequestError, ModelFolderError
from core.history import HistoryStore, JobRecord, JobStatus
from core.progress import CancelToken
from core.request import GenerationRequest, random_seed
from gui.worker import GenerationWorker, Job, JobOutcome, WorkerHost

logger = logging.getLogger(__name__)


class JobController(QObject):
    capabilitiesReady = Signal(object)  # core.devices.Capabilities
    engineFailed = Signal(str, str, str)  # kind, message, advice
    jobQueued = Signal(object)  # JobRecord
    jobStarted = Signal(int)
    stageChanged = Signal(int, str)
    stepped = Signal(int, int, int, float, float)
    jobFinished = Signal(int, object)  # job id, JobOutcome
    jobFailed = Signal(int, str, str, str)  # job id, kind, message, advice
    jobCancelled = Signal(int)
    jobEnded = Signal(int)  # after any of finished / failed / cancelled
    historyChanged = Signal()
    busyChanged = Signal(bool)

    def __init__(
        self,
        store: HistoryStore,
        outputs_dir: Path,
        thumbnails_dir: Path,
        log_hint: str = "",
        warm_imports: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.capabilities: object | None = None
        self._tokens: dict[int, CancelToken] = {}  # pending jobs (queued or running), in submission order
        self._running: int | None = None
        worker = GenerationWorker(store, outputs_dir, thumbnails_dir, log_hint, warm_imports)
        self._host = WorkerHost(worker, self)
        worker.ready.connect(self._on_ready)
        worker.initFailed.connect(self.engineFailed)
        worker.jobStarted.connect(self._on_started)
        worker.stageChanged.connect(self.stageChanged)
        worker.stepped.connect(self.stepped)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)

    def start(self) -> None:
        self._host.start()

    # ---- state ------------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self._tokens)

    @property
    def running_job(self) -> int | None:
        return self._running

    @property
    def pending_jobs(self) -> list[int]:
        return list(self._tokens)

    @property
    def engine_ready(self) -> bool:
        return self.capabilities is not None

    # ---- submitting -------------------------------------------------------------------------------------------
    def preflight(self, request: GenerationRequest, model_dir: str) -> None:
        """Refuse what cannot run, before a record or a job exists: StudioError with plain-words advice."""
        if not model_dir.strip():
            raise ModelFolderError(
                self.tr("No model folder is chosen."),
                self.tr("Choose your ContentV-8B folder, or make a demo model to check the install."),
            )
        request.validate()
        if self.capabilities is not None:
            from core.devices import resolve_device

            resolve_device(request.memory, self.capabilities)  # type: ignore[arg-type]
        check_model_folder(model_dir)

    def submit(self, request: GenerationRequest, model_dir: str) -> JobRecord:
        """Queue a job (it starts when the worker is free). The seed is fixed now so the record can be re-run."""
        self.preflight(request, model_dir)
        if request.seed is None:
            request = request.with_seed(random_seed())
        record = self.store.add(request, str(Path(model_dir).expanduser()), JobStatus.QUEUED)
        token = CancelToken()
        was_busy = self.busy
        self._tokens[record.id] = token
        self._host.submit(Job(record.id, record.model_dir, request, token))
        self.jobQueued.emit(record)
        self.historyChanged.emit()
        if not was_busy:
            self.busyChanged.emit(True)
        return record

    def rerun(self, record: JobRecord, new_seed: bool = False) -> JobRecord:
        request = record.request
        if new_seed or request.seed is None:
            request = request.with_seed(random_seed())
        if not request.prompt.strip():
            raise InvalidRequestError(self.tr("This history entry has no prompt to run again."))
        return self.submit(request, record.model_dir)

    # ---- cancelling -------------------------------------------------------------------------------------------
    def cancel(self, job_id: int) -> bool:
        token = self._tokens.get(job_id)
        if token is None:
            return False
        token.cancel()
        return True

    def cancel_current(self) -> bool:
        """Cancel the running job, or the next queued one when none has started yet."""
        target = self._running if self._running is not None else next(iter(self._tokens), None)
        return target is not None and self.cancel(target)

    def cancel_all(self) -> None:
        for token in self._tokens.values():
            token.cancel()

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Cancel everything and stop the worker thread. Jobs that never reached the worker are recorded as
        cancelled, so the history does not show them 'interrupted' on the next start."""
        self.cancel_all()
        stopped = self._host.shutdown(timeout_ms)
        for job_id in list(self._tokens):
            record = self.store.get(job_id)
            if record is not None and record.status is JobStatus.QUEUED:
                self.store.mark_cancelled(job_id)
        return stopped

    # ---- worker signals ---------------------------------------------------------------------------------------
    def _on_ready(self, caps: object) -> None:
        self.capabilities = caps
        self.capabilitiesReady.emit(caps)

    def _on_started(self, job_id: int) -> None:
        self._running = job_id
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

    def _ended(self, job_id: int) -> None:
        self._tokens.pop(job_id, None)
        if self._running == job_id:
            self._running = None
        self.historyChanged.emit()
        self.jobEnded.emit(job_id)
        if not self._tokens:
            self.busyChanged.emit(False)
