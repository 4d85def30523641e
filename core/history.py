"""The job history: every job the app ran or was asked to run, in one SQLite file in the data folder.

A job is written when it is queued and updated as it starts and ends, so a crash loses at most the end of the
record: on the next start `mark_interrupted` turns what was left 'running' (or 'queued') into 'interrupted'.

No Qt here. One connection is shared by the GUI thread and the generation worker, serialised by a lock (the
writes are tiny; WAL keeps readers from waiting on them), with a busy timeout for a second process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from core.request import GenerationRequest, GenerationResult, MemoryOptions

SCHEMA_VERSION = 1


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
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_frames: int
    fps: int
    steps: int
    guidance: float
    seed: int | None
    max_sequence_length: int
    model_dir: str
    memory: MemoryOptions
    started_at: float | None = None
    finished_at: float | None = None
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

    @property
    def request(self) -> GenerationRequest:
        """The request as it was run (with its seed), ready to run again."""
        return GenerationRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            width=self.width,
            height=self.height,
            num_frames=self.num_frames,
            fps=self.fps,
            steps=self.steps,
            guidance=self.guidance,
            seed=self.seed,
            memory=self.memory,
            max_sequence_length=self.max_sequence_length,
        )

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

# Index i upgrades a database at user_version i to i + 1. Append, never edit.
_MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1,)
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
            raise HistoryError(f"The history database {self.path} cannot be opened: {exc}") from exc

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
                    f"The history database {self.path} was written by a newer ContentV Studio "
                    f"(schema {version}, this version reads up to {SCHEMA_VERSION})."
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
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
        now = time.time() if created_at is None else created_at
        started = now if status is JobStatus.RUNNING else None
        with self._tx() as db:
            cursor = db.execute(
                """INSERT INTO jobs (status, created_at, started_at, prompt, negative_prompt, width, height,
                   num_frames, fps, steps, guidance, seed, max_sequence_length, model_dir, memory)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    status.value,
                    now,
                    started,
                    request.prompt,
                    request.negative_prompt,
                    request.width,
                    request.height,
                    request.num_frames,
                    request.fps,
                    request.steps,
                    float(request.guidance),
                    request.seed,
                    request.max_sequence_length,
                    str(model_dir),
                    json.dumps(request.memory.to_dict(), sort_keys=True),
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
                """UPDATE jobs SET status = ?, finished_at = ?, seed = ?, frames_generated = ?, device = ?,
                   timings = ?, peak_vram_bytes = ?, video_path = ?, thumbnail_path = ?, notes = ?,
                   error_kind = NULL, error_message = NULL, error_advice = NULL
                   WHERE id = ?""",
                (
                    JobStatus.DONE.value,
                    time.time(),
                    result.seed,
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

    def mark_failed(self, job_id: int, kind: str, message: str, advice: str = "") -> None:
        self._finish(job_id, JobStatus.FAILED, kind, message, advice)

    def mark_cancelled(self, job_id: int) -> None:
        self._finish(job_id, JobStatus.CANCELLED, None, None, None)

    def _finish(
        self, job_id: int, status: JobStatus, kind: str | None, message: str | None, advice: str | None
    ) -> None:
        with self._tx() as db:
            db.execute(
                """UPDATE jobs SET status = ?, finished_at = ?, error_kind = ?, error_message = ?, error_advice = ?
                   WHERE id = ?""",
                (status.value, time.time(), kind, message, advice, job_id),
            )

    def mark_interrupted(self) -> int:
        """Jobs a previous run left queued or running can no longer finish; say so. Returns how many."""
        with self._tx() as db:
            cursor = db.execute(
                """UPDATE jobs SET status = ?, finished_at = COALESCE(finished_at, ?),
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


def _record(row: sqlite3.Row) -> JobRecord:
    try:
        status = JobStatus(row["status"])
    except ValueError:
        status = JobStatus.INTERRUPTED
    try:
        memory = MemoryOptions.from_dict(_loads(row["memory"], {}))
    except ValueError:
        memory = MemoryOptions()
    return JobRecord(
        id=int(row["id"]),
        status=status,
        created_at=float(row["created_at"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        prompt=row["prompt"],
        negative_prompt=row["negative_prompt"],
        width=int(row["width"]),
        height=int(row["height"]),
        num_frames=int(row["num_frames"]),
        fps=int(row["fps"]),
        steps=int(row["steps"]),
        guidance=float(row["guidance"]),
        seed=None if row["seed"] is None else int(row["seed"]),
        max_sequence_length=int(row["max_sequence_length"]),
        model_dir=row["model_dir"],
        memory=memory,
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
