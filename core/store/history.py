"""The job history: every job the app ran or was asked to run, in one SQLite file in the data folder.

A job is written when it is queued and updated as it starts and ends, so a crash loses at most the end of the
record. Waiting jobs carry a queue position: the queue itself lives here, so a close or a crash keeps it, and on
the next start `requeue_unfinished` puts the job that was running back at the head of the queue (it restarts from
the beginning with the same seed).

The request is stored as its own dictionary (`GenerationRequest.to_dict()`), not field by field; only the prompt
is repeated in a column of its own, for searching.

No Qt here. One connection is shared by the GUI thread and the generation worker, serialised by a lock (the
writes are tiny; WAL keeps readers from waiting on them).

Another process may hold the database for a while (a second window, a command-line job, a backup tool): every
statement waits for it (SQLite's busy timeout, then retries with backoff, BUSY_WAIT_S in all) and only then gives
up with HistoryBusyError. A locked database is never damage: opening one that stays locked leaves the setup (WAL,
migrations) for the first use after it is free. Jobs run by a command-line process (`runner` set) are not the
window's: the window neither queues nor interrupts them while that process lives.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from core.i18n import _t
from core.job.request import GenerationRequest, GenerationResult
from core.store.durable import process_alive, process_start

SCHEMA_VERSION = 3
BUSY_WAIT_S = 10.0  # how long one read or write waits for another process's lock before giving up
_STATEMENT_BUSY_TIMEOUT_S = 1.0  # SQLite's own wait within one attempt; the retry loop backs off around it
_T = TypeVar("_T")

# SQLite's primary result codes (the low byte of sqlite_errorcode).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the database (SQLITE_BUSY / SQLITE_LOCKED): wait, never call it damage."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def is_damage(exc: BaseException) -> bool:
    """SQLite says the file is damaged or not a database (SQLITE_CORRUPT / SQLITE_NOTADB)."""
    if not isinstance(exc, sqlite3.DatabaseError) or is_busy(exc):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the app stopped (crash, power loss) while the job was queued or running

    @property
    def finished(self) -> bool:
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class JobRecord:
    id: int
    status: JobStatus
    created_at: float  # seconds since the epoch
    request: GenerationRequest  # as it was (or will be) run, with its seed: ready to run again
    model_dir: str
    started_at: float | None = None
    finished_at: float | None = None
    queue_position: int | None = None  # set while the job waits (or runs); lower runs first
    frames_generated: int | None = None
    device: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    peak_vram_bytes: int | None = None
    video_path: str | None = None
    thumbnail_path: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    error_advice: str | None = None
    notes: tuple[str, ...] = ()
    runner: str | None = None  # set when a command-line process runs the job (JSON: pid, its start, host)

    @property
    def run_elsewhere(self) -> bool:
        """The job is (or was) run by a command-line process, not by a window's queue."""
        return self.runner is not None

    @property
    def video(self) -> Path | None:
        return Path(self.video_path) if self.video_path else None

    @property
    def thumbnail(self) -> Path | None:
        return Path(self.thumbnail_path) if self.thumbnail_path else None

    @property
    def total_s(self) -> float | None:
        return self.timings.get("total_s") if self.timings else None


_SCHEMA_V1 = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    num_frames INTEGER NOT NULL,
    fps INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    guidance REAL NOT NULL,
    seed INTEGER,
    max_sequence_length INTEGER NOT NULL,
    model_dir TEXT NOT NULL,
    memory TEXT NOT NULL,
    frames_generated INTEGER,
    device TEXT,
    timings TEXT,
    peak_vram_bytes INTEGER,
    video_path TEXT,
    thumbnail_path TEXT,
    error_kind TEXT,
    error_message TEXT,
    error_advice TEXT,
    notes TEXT
);
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_status ON jobs (status);
"""

# Version 2: the request as one JSON dictionary (the prompt kept beside it for searching) and a queue position.
_JOBS_V2 = """
CREATE TABLE jobs_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    queue_position INTEGER,
    prompt TEXT NOT NULL,
    request TEXT NOT NULL,
    model_dir TEXT NOT NULL,
    frames_generated INTEGER,
    device TEXT,
    timings TEXT,
    peak_vram_bytes INTEGER,
    video_path TEXT,
    thumbnail_path TEXT,
    error_kind TEXT,
    error_message TEXT,
    error_advice TEXT,
    notes TEXT
)
"""

_V1_REQUEST_COLUMNS = (
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "num_frames",
    "fps",
    "steps",
    "guidance",
    "seed",
    "max_sequence_length",
)
_KEPT_COLUMNS = (
    "id, status, created_at, started_at, finished_at, prompt, model_dir, frames_generated, device, timings, "
    "peak_vram_bytes, video_path, thumbnail_path, error_kind, error_message, error_advice, notes"
)


def _migrate_v1_to_v2(db: sqlite3.Connection) -> None:
    """Fold each row's request columns into one dictionary; old rows keep every value they had."""
    db.execute(_JOBS_V2)
    rows = db.execute(f"SELECT {_KEPT_COLUMNS}, {', '.join(_V1_REQUEST_COLUMNS[1:])}, memory FROM jobs").fetchall()
    for row in rows:
        request = {name: row[name] for name in _V1_REQUEST_COLUMNS}
        request["memory"] = _loads(row["memory"], {})
        db.execute(
            f"INSERT INTO jobs_v2 ({_KEPT_COLUMNS}, request) VALUES ({', '.join('?' * 18)})",
            (*(row[name] for name in _KEPT_COLUMNS.split(", ")), json.dumps(request, sort_keys=True)),
        )
    db.execute("DROP TABLE jobs")
    db.execute("ALTER TABLE jobs_v2 RENAME TO jobs")
    db.execute("CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC)")
    db.execute("CREATE INDEX jobs_status ON jobs (status)")
    db.execute("CREATE INDEX jobs_queue ON jobs (queue_position) WHERE queue_position IS NOT NULL")


def _run_script(script: str) -> Callable[[sqlite3.Connection], None]:
    def run(db: sqlite3.Connection) -> None:
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)

    return run


# Version 3: who runs a job outside the window's queue (a command-line process), so that the window leaves it be.
_V3 = "ALTER TABLE jobs ADD COLUMN runner TEXT"

# Index i upgrades a database at user_version i to i + 1. Append, never edit.
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _run_script(_SCHEMA_V1),
    _migrate_v1_to_v2,
    _run_script(_V3),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION


class HistoryError(Exception):
    """The history database cannot be used (newer schema, unreadable file)."""


class HistoryBusyError(HistoryError, sqlite3.OperationalError):
    """Another process held the database for longer than the wait. Nothing is wrong with it: try again later.
    (Also an sqlite3.Error, so callers that tolerate a failed history write tolerate this too.)"""


def this_process_runner() -> str:
    """The `runner` of a job this process runs outside the window's queue (a command-line job)."""
    return json.dumps(
        {"kind": "cli", "pid": os.getpid(), "started": process_start(os.getpid()), "host": socket.gethostname()},
        sort_keys=True,
    )


def runner_alive(runner: str | None) -> bool:
    """Whether the process named by a job's `runner` still runs. One on another computer (a data folder on a
    network share) cannot be checked and counts as alive: its job is left alone."""
    if not runner:
        return False
    data = _loads(runner, {})
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return False
    if data.get("host") not in (None, socket.gethostname()):
        return True
    recorded = data.get("started")
    return process_alive(data["pid"], recorded if isinstance(recorded, int | float) else None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class HistoryStore:
    def __init__(self, path: str | Path, *, busy_wait_s: float = BUSY_WAIT_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_wait_s = busy_wait_s
        self._lock = threading.RLock()
        self.setup_pending = False  # the database was locked at opening: set up at its first use
        try:
            self._db = sqlite3.connect(
                self.path, timeout=_STATEMENT_BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
            self._db.row_factory = sqlite3.Row
            try:
                self._retry_while_busy(self._set_up)
            except HistoryBusyError:
                self.setup_pending = True
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                _t("The history database {path} cannot be opened: {error}").format(path=self.path, error=exc)
            ) from exc

    # ---- plumbing ---------------------------------------------------------------------------------------------
    def _retry_while_busy(self, work: Callable[[], _T]) -> _T:
        """Run `work`, again and again with growing pauses while another process holds the database, for
        `busy_wait_s` in all; then HistoryBusyError. Any other error is raised at once."""
        deadline = time.monotonic() + self.busy_wait_s
        pause = 0.05
        while True:
            try:
                return work()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HistoryBusyError(
                        _t("The history database {path} is in use by another program.").format(path=self.path)
                    ) from exc
                time.sleep(min(pause, left))
                pause = min(pause * 2, 1.0)

    def _set_up(self) -> None:
        with self._lock:
            # Even these can meet a lock (they read the file's header). Already WAL (every database this app
            # wrote): no lock is needed, so a busy writer elsewhere is no bother.
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._migrate()

    def _ready(self) -> None:
        """Finish a setup a lock postponed (raises HistoryBusyError while the database is still held)."""
        if self.setup_pending:
            self._retry_while_busy(self._set_up)
            self.setup_pending = False

    def _write(self, body: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `body` in one write transaction, waiting for (and retrying after) another process's lock."""

        def attempt() -> _T:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = body(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return result

        with self._lock:
            self._ready()
            return self._retry_while_busy(attempt)

    def _read(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            self._ready()
            return self._retry_while_busy(lambda: self._db.execute(sql, params).fetchall())

    def _migrate(self) -> None:
        # A read first: a current database needs no write lock at all to open.
        if self._check_version(self._db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION:
            return

        def upgrade(db: sqlite3.Connection) -> None:
            version = self._check_version(db.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, SCHEMA_VERSION):
                _MIGRATIONS[step](db)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        self._db.execute("BEGIN IMMEDIATE")
        try:
            upgrade(self._db)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _check_version(self, version: int) -> int:
        if version > SCHEMA_VERSION:
            raise HistoryError(
                _t(
                    "The history database {path} was written by a newer ContentV Studio "
                    "(schema {version}, this version reads up to {supported})."
                ).format(path=self.path, version=version, supported=SCHEMA_VERSION)
            )
        return int(version)

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writing ----------------------------------------------------------------------------------------------
    def add(
        self,
        request: GenerationRequest,
        model_dir: str | Path,
        status: JobStatus = JobStatus.QUEUED,
        *,
        created_at: float | None = None,
        runner: str | None = None,
    ) -> JobRecord:
        """Record a job; a queued or running one joins the end of the queue, unless `runner` (a command-line
        process, see `this_process_runner`) runs it outside the queue."""
        now = time.time() if created_at is None else created_at
        started = now if status is JobStatus.RUNNING else None

        def insert(db: sqlite3.Connection) -> int:
            position = None
            if not status.finished and runner is None:
                position = db.execute("SELECT COALESCE(MAX(queue_position), 0) + 1 FROM jobs").fetchone()[0]
            cursor = db.execute(
                """INSERT INTO jobs (status, created_at, started_at, queue_position, prompt, request, model_dir,
                   runner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    status.value,
                    now,
                    started,
                    position,
                    request.prompt,
                    json.dumps(request.to_dict(), sort_keys=True),
                    str(model_dir),
                    runner,
                ),
            )
            return int(cursor.lastrowid or 0)

        record = self.get(self._write(insert))
        assert record is not None
        return record

    def mark_running(self, job_id: int) -> None:
        self._write(
            lambda db: db.execute(
                "UPDATE jobs SET status = ?, started_at = ? WHERE id = ?",
                (JobStatus.RUNNING.value, time.time(), job_id),
            )
        )

    def mark_done(self, job_id: int, result: GenerationResult, thumbnail: Path | None = None) -> None:
        values = (
            JobStatus.DONE.value,
            time.time(),
            json.dumps(result.request.to_dict(), sort_keys=True),
            result.num_frames,
            result.device,
            json.dumps(result.timings.to_dict()),
            result.peak_vram_bytes,
            str(result.video_path),
            str(thumbnail) if thumbnail else None,
            json.dumps(list(result.notes)),
            job_id,
        )
        self._write(
            lambda db: db.execute(
                """UPDATE jobs SET status = ?, finished_at = ?, queue_position = NULL, request = ?,
                   frames_generated = ?, device = ?, timings = ?, peak_vram_bytes = ?, video_path = ?,
                   thumbnail_path = ?, notes = ?, error_kind = NULL, error_message = NULL, error_advice = NULL
                   WHERE id = ?""",
                values,
            )
        )

    # ---- the queue --------------------------------------------------------------------------------------------
    def set_queue_order(self, job_ids: list[int]) -> None:
        """Waiting jobs run in this order (1, 2, …); ids not listed keep their place after these."""

        def order(db: sqlite3.Connection) -> None:
            for position, job_id in enumerate(job_ids, start=1):
                db.execute("UPDATE jobs SET queue_position = ? WHERE id = ?", (position, job_id))

        self._write(order)

    def requeue(self, job_id: int) -> None:
        """Put a job that was stopped to be kept (the window closed), or one continued from its journal, back in the
        queue, at its head."""

        def to_head(db: sqlite3.Connection) -> None:
            head = db.execute("SELECT COALESCE(MIN(queue_position), 1) - 1 FROM jobs").fetchone()[0]
            db.execute(
                """UPDATE jobs SET status = ?, started_at = NULL, finished_at = NULL, queue_position = ?,
                   error_kind = NULL, error_message = NULL, error_advice = NULL WHERE id = ?""",
                (JobStatus.QUEUED.value, head, job_id),
            )

        self._write(to_head)

    def requeue_unfinished(self) -> int:
        """After a close or a crash: the job that was running waits again at the head of the queue (it restarts
        from the beginning with its seed); queued ones keep their places. Jobs a command-line process runs are
        left to it while it lives (and called interrupted once it is gone). Returns how many jobs wait."""

        def requeue(db: sqlite3.Connection) -> int:
            _interrupt_orphaned_runs(db)
            head = db.execute("SELECT COALESCE(MIN(queue_position), 1) - 1 FROM jobs").fetchone()[0]
            db.execute(
                """UPDATE jobs SET status = ?, started_at = NULL, queue_position = ?
                   WHERE status = ? AND runner IS NULL""",
                (JobStatus.QUEUED.value, head, JobStatus.RUNNING.value),
            )
            # A queued row without a position (written by hand or by an older build) goes to the end.
            tail = db.execute("SELECT COALESCE(MAX(queue_position), 0) FROM jobs").fetchone()[0]
            db.execute(
                """UPDATE jobs SET queue_position = ? + id
                   WHERE status = ? AND queue_position IS NULL AND runner IS NULL""",
                (tail, JobStatus.QUEUED.value),
            )
            waiting = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = ? AND runner IS NULL", (JobStatus.QUEUED.value,)
            )
            return int(waiting.fetchone()[0])

        return self._write(requeue)

    def queued_jobs(self) -> list[JobRecord]:
        """The window's jobs waiting or running, in the order they run (the running one first)."""
        rows = self._read(
            """SELECT * FROM jobs WHERE status IN (?, ?) AND runner IS NULL
               ORDER BY status = ? DESC, queue_position, id""",
            (JobStatus.QUEUED.value, JobStatus.RUNNING.value, JobStatus.RUNNING.value),
        )
        return [_record(r) for r in rows]

    def mark_failed(self, job_id: int, kind: str, message: str, advice: str = "") -> None:
        self._finish(job_id, JobStatus.FAILED, kind, message, advice)

    def mark_cancelled(self, job_id: int) -> None:
        self._finish(job_id, JobStatus.CANCELLED, None, None, None)

    def _finish(
        self, job_id: int, status: JobStatus, kind: str | None, message: str | None, advice: str | None
    ) -> None:
        self._write(
            lambda db: db.execute(
                """UPDATE jobs SET status = ?, finished_at = ?, queue_position = NULL, error_kind = ?,
                   error_message = ?, error_advice = ? WHERE id = ?""",
                (status.value, time.time(), kind, message, advice, job_id),
            )
        )

    def mark_interrupted(self) -> int:
        """Give up on what a previous run left queued or running (the app keeps its queue with
        `requeue_unfinished` instead; this is for tools that cannot resume). Jobs of a command-line process
        that still runs are left alone. Returns how many."""

        def interrupt(db: sqlite3.Connection) -> int:
            orphaned = _interrupt_orphaned_runs(db)
            cursor = db.execute(
                """UPDATE jobs SET status = ?, finished_at = COALESCE(finished_at, ?), queue_position = NULL,
                   error_message = COALESCE(error_message, ?)
                   WHERE status IN (?, ?) AND runner IS NULL""",
                (
                    JobStatus.INTERRUPTED.value,
                    time.time(),
                    "The app stopped before this job finished.",
                    JobStatus.QUEUED.value,
                    JobStatus.RUNNING.value,
                ),
            )
            return orphaned + int(cursor.rowcount)

        return self._write(interrupt)

    def delete(self, job_id: int) -> JobRecord | None:
        """Remove the record and return it (so the caller can delete its files), or None if it was not there."""
        record = self.get(job_id)
        if record is None:
            return None
        self._write(lambda db: db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)))
        return record

    # ---- reading ----------------------------------------------------------------------------------------------
    def get(self, job_id: int) -> JobRecord | None:
        rows = self._read("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _record(rows[0]) if rows else None

    def list_jobs(self, search: str = "", limit: int | None = None, offset: int = 0) -> list[JobRecord]:
        """Newest first. `search`: every word must occur in the prompt (case-insensitive for ASCII)."""
        words = search.split()
        where = " AND ".join("prompt LIKE ? ESCAPE '\\'" for _ in words) or "1"
        params: list[Any] = [f"%{_escape_like(w)}%" for w in words]
        sql = f"SELECT * FROM jobs WHERE {where} ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [_record(r) for r in self._read(sql, params)]

    def count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM jobs")[0][0])


def _interrupt_orphaned_runs(db: sqlite3.Connection) -> int:
    """Jobs of a command-line process that is gone (killed, crashed) will not end by themselves: interrupted."""
    rows = db.execute(
        "SELECT id, runner FROM jobs WHERE status IN (?, ?) AND runner IS NOT NULL",
        (JobStatus.QUEUED.value, JobStatus.RUNNING.value),
    ).fetchall()
    gone = [int(row[0]) for row in rows if not runner_alive(row[1])]
    for job_id in gone:
        db.execute(
            """UPDATE jobs SET status = ?, finished_at = COALESCE(finished_at, ?), queue_position = NULL,
               error_message = COALESCE(error_message, ?) WHERE id = ?""",
            (
                JobStatus.INTERRUPTED.value,
                time.time(),
                "The command-line process stopped before this job finished.",
                job_id,
            ),
        )
    return len(gone)


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return default


def _request(row: sqlite3.Row) -> GenerationRequest:
    data = _loads(row["request"], {})
    if not isinstance(data, dict):
        data = {}
    data.setdefault("prompt", row["prompt"])
    try:
        return GenerationRequest.from_dict(data)
    except (TypeError, ValueError):
        # A damaged dictionary: keep the prompt readable; memory options fall back to the defaults.
        try:
            return GenerationRequest.from_dict({**data, "memory": {}})
        except (TypeError, ValueError):
            return GenerationRequest(prompt=str(row["prompt"]))


def _record(row: sqlite3.Row) -> JobRecord:
    try:
        status = JobStatus(row["status"])
    except ValueError:
        status = JobStatus.INTERRUPTED
    return JobRecord(
        id=int(row["id"]),
        status=status,
        created_at=float(row["created_at"]),
        request=_request(row),
        model_dir=row["model_dir"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        queue_position=row["queue_position"],
        frames_generated=row["frames_generated"],
        device=row["device"],
        timings=_loads(row["timings"], {}),
        peak_vram_bytes=row["peak_vram_bytes"],
        video_path=row["video_path"],
        thumbnail_path=row["thumbnail_path"],
        error_kind=row["error_kind"],
        error_message=row["error_message"],
        error_advice=row["error_advice"],
        notes=tuple(_loads(row["notes"], [])),
        runner=row["runner"],
    )
