"""The job history: every job the app ran or was asked to run, in one SQLite file in the data folder.

A job is written when it is queued and updated as it starts and ends, so a crash loses at most the end of the
record. Waiting jobs carry a queue position: the queue itself lives here, so a close or a crash keeps it, and on
the next start `requeue_unfinished` puts the job that was running back at the head of the queue (it restarts from
the beginning with the same seed).

The request is stored as its own dictionary (`GenerationRequest.to_dict()`), not field by field; only the prompt
is repeated in a column of its own, for searching.

No Qt here. One connection is shared by the GUI thread and the generation worker, serialised by a lock (the
writes are tiny; WAL keeps readers from waiting on them), with a busy timeout for a second process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from core.i18n import _t
from core.request import GenerationRequest, GenerationResult, MemoryOptions

SCHEMA_VERSION = 2


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

    # The request's fields, read through (the panels and dialogs predate the stored dictionary).
    @property
    def prompt(self) -> str:
        return self.request.prompt

    @property
    def negative_prompt(self) -> str:
        return self.request.negative_prompt

    @property
    def width(self) -> int:
        return self.request.width

    @property
    def height(self) -> int:
        return self.request.height

    @property
    def num_frames(self) -> int:
        return self.request.num_frames

    @property
    def fps(self) -> int:
        return self.request.fps

    @property
    def steps(self) -> int:
        return self.request.steps

    @property
    def guidance(self) -> float:
        return self.request.guidance

    @property
    def seed(self) -> int | None:
        return self.request.seed

    @property
    def max_sequence_length(self) -> int:
        return self.request.max_sequence_length

    @property
    def memory(self) -> MemoryOptions:
        return self.request.memory

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


# Index i upgrades a database at user_version i to i + 1. Append, never edit.
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_run_script(_SCHEMA_V1), _migrate_v1_to_v2)
assert len(_MIGRATIONS) == SCHEMA_VERSION


class HistoryError(Exception):
    """The history database cannot be used (newer schema, unreadable file)."""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class HistoryStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                _t("The history database {path} cannot be opened: {error}").format(path=self.path, error=exc)
            ) from exc

    # ---- plumbing ---------------------------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    _t(
                        "The history database {path} was written by a newer ContentV Studio "
                        "(schema {version}, this version reads up to {supported})."
                    ).format(path=self.path, version=version, supported=SCHEMA_VERSION)
                )
            for step in range(version, SCHEMA_VERSION):
                _MIGRATIONS[step](db)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

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
    ) -> JobRecord:
        """Record a job; a queued or running one joins the end of the queue."""
        now = time.time() if created_at is None else created_at
        started = now if status is JobStatus.RUNNING else None
        with self._tx() as db:
            position = None
            if not status.finished:
                position = db.execute("SELECT COALESCE(MAX(queue_position), 0) + 1 FROM jobs").fetchone()[0]
            cursor = db.execute(
                """INSERT INTO jobs (status, created_at, started_at, queue_position, prompt, request, model_dir)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (
                    status.value,
                    now,
                    started,
                    position,
                    request.prompt,
                    json.dumps(request.to_dict(), sort_keys=True),
                    str(model_dir),
                ),
            )
            job_id = int(cursor.lastrowid or 0)
        record = self.get(job_id)
        assert record is not None
        return record

    def mark_running(self, job_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = ?, started_at = ? WHERE id = ?",
                (JobStatus.RUNNING.value, time.time(), job_id),
            )

    def mark_done(self, job_id: int, result: GenerationResult, thumbnail: Path | None = None) -> None:
        with self._tx() as db:
            db.execute(
                """UPDATE jobs SET status = ?, finished_at = ?, queue_position = NULL, request = ?,
                   frames_generated = ?, device = ?, timings = ?, peak_vram_bytes = ?, video_path = ?,
                   thumbnail_path = ?, notes = ?, error_kind = NULL, error_message = NULL, error_advice = NULL
                   WHERE id = ?""",
                (
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
                ),
            )

    # ---- the queue --------------------------------------------------------------------------------------------
    def set_queue_order(self, job_ids: list[int]) -> None:
        """Waiting jobs run in this order (1, 2, …); ids not listed keep their place after these."""
        with self._tx() as db:
            for position, job_id in enumerate(job_ids, start=1):
                db.execute("UPDATE jobs SET queue_position = ? WHERE id = ?", (position, job_id))

    def requeue(self, job_id: int) -> None:
        """Put a job that was stopped to be kept (the window closed) back in the queue, at its head."""
        with self._tx() as db:
            head = db.execute("SELECT COALESCE(MIN(queue_position), 1) - 1 FROM jobs").fetchone()[0]
            db.execute(
                """UPDATE jobs SET status = ?, started_at = NULL, finished_at = NULL, queue_position = ?
                   WHERE id = ?""",
                (JobStatus.QUEUED.value, head, job_id),
            )

    def requeue_unfinished(self) -> int:
        """After a close or a crash: the job that was running waits again at the head of the queue (it restarts
        from the beginning with its seed); queued ones keep their places. Returns how many jobs wait."""
        with self._tx() as db:
            head = db.execute("SELECT COALESCE(MIN(queue_position), 1) - 1 FROM jobs").fetchone()[0]
            db.execute(
                """UPDATE jobs SET status = ?, started_at = NULL, queue_position = ?
                   WHERE status = ?""",
                (JobStatus.QUEUED.value, head, JobStatus.RUNNING.value),
            )
            # A queued row without a position (written by hand or by an older build) goes to the end.
            tail = db.execute("SELECT COALESCE(MAX(queue_position), 0) FROM jobs").fetchone()[0]
            db.execute(
                "UPDATE jobs SET queue_position = ? + id WHERE status = ? AND queue_position IS NULL",
                (tail, JobStatus.QUEUED.value),
            )
            waiting = db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (JobStatus.QUEUED.value,))
            return int(waiting.fetchone()[0])

    def queued_jobs(self) -> list[JobRecord]:
        """Jobs waiting or running, in the order they run (the running one first)."""
        with self._lock:
            rows = self._db.execute(
                """SELECT * FROM jobs WHERE status IN (?, ?)
                   ORDER BY status = ? DESC, queue_position, id""",
                (JobStatus.QUEUED.value, JobStatus.RUNNING.value, JobStatus.RUNNING.value),
            ).fetchall()
        return [_record(r) for r in rows]

    def mark_failed(self, job_id: int, kind: str, message: str, advice: str = "") -> None:
        self._finish(job_id, JobStatus.FAILED, kind, message, advice)

    def mark_cancelled(self, job_id: int) -> None:
        self._finish(job_id, JobStatus.CANCELLED, None, None, None)

    def _finish(
        self, job_id: int, status: JobStatus, kind: str | None, message: str | None, advice: str | None
    ) -> None:
        with self._tx() as db:
            db.execute(
                """UPDATE jobs SET status = ?, finished_at = ?, queue_position = NULL, error_kind = ?,
                   error_message = ?, error_advice = ? WHERE id = ?""",
                (status.value, time.time(), kind, message, advice, job_id),
            )

    def mark_interrupted(self) -> int:
        """Give up on what a previous run left queued or running (the app keeps its queue with
        `requeue_unfinished` instead; this is for tools that cannot resume). Returns how many."""
        with self._tx() as db:
            cursor = db.execute(
                """UPDATE jobs SET status = ?, finished_at = COALESCE(finished_at, ?), queue_position = NULL,
                   error_message = COALESCE(error_message, ?)
                   WHERE status IN (?, ?)""",
                (
                    JobStatus.INTERRUPTED.value,
                    time.time(),
                    "The app stopped before this job finished.",
                    JobStatus.QUEUED.value,
                    JobStatus.RUNNING.value,
                ),
            )
            return int(cursor.rowcount)

    def delete(self, job_id: int) -> JobRecord | None:
        """Remove the record and return it (so the caller can delete its files), or None if it was not there."""
        record = self.get(job_id)
        if record is None:
            return None
        with self._tx() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return record

    # ---- reading ----------------------------------------------------------------------------------------------
    def get(self, job_id: int) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _record(row)

    def list_jobs(self, search: str = "", limit: int | None = None, offset: int = 0) -> list[JobRecord]:
        """Newest first. `search`: every word must occur in the prompt (case-insensitive for ASCII)."""
        words = search.split()
        where = " AND ".join("prompt LIKE ? ESCAPE '\\'" for _ in words) or "1"
        params: list[Any] = [f"%{_escape_like(w)}%" for w in words]
        sql = f"SELECT * FROM jobs WHERE {where} ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_record(r) for r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


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
    )
