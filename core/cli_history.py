"""A command-line job in the window's history: `main.py generate --data-dir DIR` records its job in that data
folder's history (the window's own by default), running → done / failed / cancelled, with its outputs, so the
window lists it.

The clip is the work and the row is secondary: the history is written through the same busy-safe store as the
window's (each write waits at most `wait_s` for another process's lock), a write that still finds it held is
tried again at the end of the job, and if the history cannot be written even then the job goes on and ends as it
would have, with one warning line. The row carries this process as its `runner`, so a window that starts meanwhile
neither queues nor interrupts it while this process lives. A damaged history is left for the window to recover.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from core.errors import FailureKind, JobCancelled, StudioError
from core.job.request import GenerationRequest, GenerationResult
from core.store.history import BUSY_WAIT_S, HistoryError, HistoryStore, JobStatus, this_process_runner
from core.store.state_dirs import default_data_root

logger = logging.getLogger(__name__)

HISTORY_FILE = "history.sqlite3"  # as gui.support.paths.DataPaths names it
_HISTORY_FAILURES = (HistoryError, sqlite3.Error, OSError)
WAIT_S = BUSY_WAIT_S  # how long one history write may hold up the job while another process holds the history


class CliJobRecord:
    """The history row of one command-line job; every method is safe to call whatever the history's state."""

    def __init__(self, data_dir: str | Path | None, err: TextIO, wait_s: float | None = None) -> None:
        root = Path(data_dir).expanduser().absolute() if data_dir else default_data_root()
        self.path = root / HISTORY_FILE
        self.thumbnails = root / "thumbnails"
        self.job_id: int | None = None
        self._err = err
        self._wait_s = WAIT_S if wait_s is None else wait_s
        self._store: HistoryStore | None = None
        self._request: GenerationRequest | None = None
        self._model_dir = ""
        self._created_at = 0.0
        self._runner = this_process_runner()

    def start(self, request: GenerationRequest, model_dir: str) -> None:
        """Record the job as running (or leave it for the end of the job if the history is held now)."""
        self._request, self._model_dir, self._created_at = request, model_dir, time.time()
        self._try(self._add)

    def done(self, result: GenerationResult) -> None:
        thumbnail = self._thumbnail(result.video_path)
        self._end(lambda store, job_id: store.mark_done(job_id, result, thumbnail))

    def failed(self, kind: str, message: str, advice: str = "") -> None:
        self._end(lambda store, job_id: store.mark_failed(job_id, kind, message, advice))

    def cancelled(self) -> None:
        self._end(lambda store, job_id: store.mark_cancelled(job_id))

    def close(self) -> None:
        if self._store is not None:
            with contextlib.suppress(sqlite3.Error):
                self._store.close()
            self._store = None

    # ---- internals --------------------------------------------------------------------------------------------
    def _add(self) -> None:
        if self.job_id is not None or self._request is None:
            return
        store = self._open()
        record = store.add(
            self._request, self._model_dir, JobStatus.RUNNING, created_at=self._created_at, runner=self._runner
        )
        self.job_id = record.id

    def _open(self) -> HistoryStore:
        if self._store is None:
            self._store = HistoryStore(self.path, busy_wait_s=self._wait_s)
        return self._store

    def _end(self, write: Callable[[HistoryStore, int], None]) -> None:
        def finish() -> None:
            self._add()  # the start was not recorded (the history was held then): the whole row now
            if self.job_id is not None:
                write(self._open(), self.job_id)

        if not self._try(finish):
            self._err.write(
                f"warning: the job could not be recorded in the history {self.path} (it is in use by another "
                "program or cannot be written); the clip itself is not affected\n"
            )

    def _try(self, work: Callable[[], None]) -> bool:
        try:
            work()
            return True
        except _HISTORY_FAILURES as exc:
            logger.warning("The history %s was not written now: %s", self.path, exc)
            return False

    def _thumbnail(self, video: Path) -> Path | None:
        from core.output.video import write_thumbnail

        try:
            return write_thumbnail(video, self.thumbnails / f"{video.stem}.png")
        except Exception:  # a missing thumbnail never fails a finished clip
            logger.warning("No thumbnail for %s", video, exc_info=True)
            return None


@contextlib.contextmanager
def recorded_cli_job(
    data_dir: str | Path | None, request: GenerationRequest, model_dir: str, err: TextIO
) -> Iterator[CliJobRecord]:
    """Record a command-line job around its run: the caller calls `done(result)`; an exception marks the job
    cancelled (Ctrl+C, SIGTERM) or failed, and goes on to the caller unchanged."""
    job = CliJobRecord(data_dir, err)
    job.start(request, model_dir)
    try:
        yield job
    except (JobCancelled, KeyboardInterrupt):
        job.cancelled()
        raise
    except StudioError as exc:
        job.failed(str(exc.kind), exc.message, exc.advice)
        raise
    except BaseException as exc:
        kind = FailureKind.OUT_OF_MEMORY if isinstance(exc, MemoryError) else FailureKind.INTERNAL
        text = str(exc).splitlines()[0] if str(exc) else ""
        job.failed(str(kind), f"{type(exc).__name__}: {text}"[:300])
        raise
    finally:
        job.close()


def record_resumed_job(
    data_dir: str | Path | None, history_id: int | None, result: GenerationResult, err: TextIO
) -> None:
    """A job `resume` finished: its own history row (the window's or an earlier `generate`'s) is marked done."""
    if history_id is None:
        return
    job = CliJobRecord(data_dir, err)
    job.job_id = history_id
    try:
        job.done(result)
    finally:
        job.close()
