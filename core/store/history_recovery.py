"""Opening the job history so that damage never stops the app and nothing is lost.

A database that SQLite cannot use (garbled pages, failed `PRAGMA quick_check`, not a database at all, unreadable)
is moved aside byte for byte as `history.sqlite3.damaged-<date>T<time>` (with its -wal and -shm files), a fresh
one is started, and the caller gets a notice to show without blocking. A database another process holds (a second
window, a command-line job, a backup tool) is not damaged: it is waited on and, if still held, opened anyway and
set up at its first use; it is never moved aside. Only what SQLite calls damage (SQLITE_CORRUPT, SQLITE_NOTADB, a
failed integrity check) or a file that is not an SQLite database is. On start, clips in the outputs folder
whose sidecar names a job that is not marked done (the app was killed right after publishing) are reconciled
with the history: the job is marked done with its clip, or added when the history no longer has it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.i18n import _t
from core.job.request import GenerationRequest, GenerationResult, StageTimings
from core.store.history import (
    BUSY_WAIT_S,
    HistoryBusyError,
    HistoryError,
    HistoryStore,
    JobStatus,
    is_busy,
    is_damage,
)

logger = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")
CHECK_BUSY_TIMEOUT_S = 2.0  # a database held longer is not checked now (it is checked at the next start)


@dataclass(frozen=True)
class HistoryOpening:
    """What `open_history` did: the store to use and what the user should be told (empty: nothing)."""

    store: HistoryStore
    notice: str = ""
    moved_to: Path | None = None  # where a damaged database was kept
    started_fresh: bool = False  # a new, empty history was started (missing, empty or damaged before)
    persistent: bool = True  # False: the history lives in memory for this session only
    busy: bool = False  # another process held the database past the wait: set up at its first use


def database_problem(path: Path) -> str | None:
    """Why the database at `path` cannot be used, in plain words, or None when it is sound (or absent/empty).
    A database another process holds is not checked (None): being locked is not being damaged."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except PermissionError:
        return _t("it cannot be read (permission denied)")
    except OSError as exc:
        return _t("it cannot be read ({error})").format(error=exc.strerror or exc)
    if header != SQLITE_HEADER:
        return _t("it is not an SQLite database")
    try:
        db = sqlite3.connect(path, timeout=CHECK_BUSY_TIMEOUT_S)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            logger.info("History database %s is in use by another process; not checked now", path)
            return None
        if is_damage(exc):
            return _t("it is damaged ({error})").format(error=exc)
        return _t("SQLite cannot open it ({error})").format(error=exc)
    problems = [str(row[0]) for row in rows if row and row[0] != "ok"]
    if problems:
        return _t("its integrity check failed ({detail})").format(detail=problems[0][:200])
    return None


def move_aside(path: Path, now: float | None = None) -> Path:
    """Rename the database (and its companions) to `<name>.damaged-YYYY-MM-DDTHH-MM-SS`; bytes are untouched."""
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.localtime(time.time() if now is None else now))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        n += 1
    os.rename(path, target)
    for suffix in COMPANION_SUFFIXES:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            with contextlib.suppress(OSError):
                os.rename(companion, target.with_name(target.name + suffix))
    return target


def open_history(
    path: str | Path, outputs: Path | None = None, now: float | None = None, *, busy_wait_s: float = BUSY_WAIT_S
) -> HistoryOpening:
    """Open (or start) the history at `path`, never failing on damage or on a lock. `outputs`: reconcile clips
    found there. `busy_wait_s`: how long each use waits for another process's lock.

    Raises HistoryError only for a database written by a newer version of the app (kept as it is)."""
    path = Path(path)
    notice = ""
    moved_to: Path | None = None
    fresh = not path.exists()
    if path.exists() and _size(path) == 0:
        fresh = True
        notice = _t("The history database {path} was empty; a new history was started.").format(path=path)
    problem = database_problem(path)
    if problem is not None:
        try:
            moved_to = move_aside(path, now)
        except OSError as exc:
            logger.error("History database %s is unusable (%s) and could not be moved aside: %s", path, problem, exc)
            store = HistoryStore(":memory:")
            return HistoryOpening(
                store,
                _t(
                    "The history database {path} cannot be used ({problem}) and could not be moved aside; "
                    "this session's history will not be saved."
                ).format(path=path, problem=problem),
                persistent=False,
                started_fresh=True,
            )
        fresh = True
        notice = _t(
            "The history database could not be used ({problem}). It was kept as {name} and a new "
            "history was started; clips in the outputs folder are listed again."
        ).format(problem=problem, name=moved_to.name)
        logger.warning("History database %s moved aside to %s: %s", path, moved_to, problem)
    try:
        store = HistoryStore(path, busy_wait_s=busy_wait_s)
    except HistoryError as exc:
        cause = exc.__cause__
        if cause is None or not is_damage(cause):  # a newer schema, or a refusal that is not damage
            if "newer" in str(exc):
                raise
            logger.error("History database %s cannot be opened: %s", path, exc)
            return HistoryOpening(
                HistoryStore(":memory:"),
                _t(
                    "The history database {path} cannot be opened ({error}); it was left as it is, and this "
                    "session's history will not be saved."
                ).format(path=path, error=cause or exc),
                persistent=False,
            )
        # Damage SQLite noticed only while opening (a check cannot see everything): same remedy, once.
        moved_to = move_aside(path, now)
        store = HistoryStore(path, busy_wait_s=busy_wait_s)
        fresh = True
        notice = _t("The history database could not be used ({problem}). It was kept as {name}.").format(
            problem=exc, name=moved_to.name
        )
    if store.setup_pending:
        logger.warning("History database %s is held by another process; it will be used once free", path)
        notice = _t(
            "The history database {path} is in use by another program (another window, a command-line job or a "
            "backup). Nothing was moved or lost: the history is read and written as soon as it is free."
        ).format(path=path)
    opening = HistoryOpening(store, notice, moved_to, fresh, busy=store.setup_pending)
    if outputs is not None:
        try:
            reconcile_outputs(store, outputs, add_unknown=fresh)
        except HistoryBusyError as exc:  # the clips are still there: reconciled at the next start
            logger.warning("Clips in %s were not reconciled with the history now: %s", outputs, exc)
    return opening


def _model_folder(recorded: Any, outputs: Path) -> str:
    """The folder of the model a clip recorded (by identity; core/model/identity.py), looked for among those the
    window of this data folder knows (`outputs` is the data folder's outputs/); "" when none is it."""
    from core.model.identity import ModelIdentity, find_model, window_model_folders

    identity = ModelIdentity.from_recorded(recorded)
    match = find_model(identity, window_model_folders(outputs.parent)) if identity.known else None
    return match.folder if match is not None else ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("request"), dict) else None


def reconcile_outputs(store: HistoryStore, outputs: Path, *, add_unknown: bool = False) -> int:
    """Mark done the jobs whose clip is in `outputs` but whose record is not done; with `add_unknown`, add
    clips whose job the history does not have (a fresh history after damage). Returns how many changed."""
    try:
        sidecars = sorted(p for p in outputs.glob("*.json") if not p.name.startswith("."))
    except OSError:
        return 0
    if not sidecars:
        return 0
    known_videos = {r.video_path for r in store.list_jobs() if r.video_path}
    changed = 0
    for sidecar in sidecars:
        video = sidecar.with_suffix(".mp4")
        if not video.is_file() or str(video) in known_videos:
            continue
        data = _read_sidecar(sidecar)
        if data is None:
            continue
        try:
            request = GenerationRequest.from_dict(data["request"])
        except (KeyError, TypeError, ValueError):
            continue
        result = GenerationResult(
            request=request,
            video_path=video,
            sidecar_path=sidecar,
            frames_dir=None,
            num_frames=int(data.get("frames_generated") or request.effective_frames),
            timings=StageTimings(),
            peak_vram_bytes=None,
            device=str(data.get("device", "")),
            notes=(_t("Recovered from the outputs folder after the app stopped."),),
        )
        job_id = data.get("job_id")
        record = store.get(int(job_id)) if isinstance(job_id, int) else None
        if record is not None and record.status is not JobStatus.DONE and record.request.prompt == request.prompt:
            store.mark_done(record.id, result)
        elif record is None and add_unknown:
            added = store.add(request, _model_folder(data.get("model"), outputs), JobStatus.RUNNING)
            store.mark_done(added.id, result)
        else:
            continue
        changed += 1
        logger.info("History reconciled with clip %s", video)
    return changed
