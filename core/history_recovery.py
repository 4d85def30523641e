"""Opening the job history so that damage never stops the app and nothing is lost.

A database that SQLite cannot use (garbled pages, failed `PRAGMA quick_check`, not a database at all, unreadable)
is moved aside byte for byte as `history.sqlite3.damaged-<date>T<time>` (with its -wal and -shm files), a fresh
one is started, and the caller gets a notice to show without blocking. On start, clips in the outputs folder
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

from core.history import HistoryError, HistoryStore, JobStatus
from core.i18n import _t
from core.request import GenerationRequest, GenerationResult, StageTimings

logger = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class HistoryOpening:
    """What `open_history` did: the store to use and what the user should be told (empty: nothing)."""

    store: HistoryStore
    notice: str = ""
    moved_to: Path | None = None  # where a damaged database was kept
    started_fresh: bool = False  # a new, empty history was started (missing, empty or damaged before)
    persistent: bool = True  # False: the history lives in memory for this session only


def database_problem(path: Path) -> str | None:
    """Why the database at `path` cannot be used, in plain words, or None when it is sound (or absent/empty)."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except PermissionError:
        return "it cannot be read (permission denied)"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if header != SQLITE_HEADER:
        return "it is not an SQLite database"
    try:
        db = sqlite3.connect(path, timeout=5.0)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            return None  # in use by another instance: not damage
        return f"SQLite cannot open it ({exc})"
    except sqlite3.DatabaseError as exc:
        return f"it is damaged ({exc})"
    problems = [str(row[0]) for row in rows if row and row[0] != "ok"]
    if problems:
        return f"its integrity check failed ({problems[0][:200]})"
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


def open_history(path: str | Path, outputs: Path | None = None, now: float | None = None) -> HistoryOpening:
    """Open (or start) the history at `path`, never failing on damage. `outputs`: reconcile clips found there.

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
        store = HistoryStore(path)
    except HistoryError as exc:
        if "newer" in str(exc):
            raise
        # Damage SQLite noticed only while opening (a check cannot see everything): same remedy, once.
        moved_to = move_aside(path, now)
        store = HistoryStore(path)
        fresh = True
        notice = _t("The history database could not be used ({problem}). It was kept as {name}.").format(
            problem=exc, name=moved_to.name
        )
    opening = HistoryOpening(store, notice, moved_to, fresh)
    if outputs is not None:
        reconcile_outputs(store, outputs, add_unknown=fresh)
    return opening


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
            notes=("Recovered from the outputs folder after the app stopped.",),
        )
        job_id = data.get("job_id")
        record = store.get(int(job_id)) if isinstance(job_id, int) else None
        if record is not None and record.status is not JobStatus.DONE and record.prompt == request.prompt:
            store.mark_done(record.id, result)
        elif record is None and add_unknown:
            added = store.add(request, str(data.get("model", "")), JobStatus.RUNNING)
            store.mark_done(added.id, result)
        else:
            continue
        changed += 1
        logger.info("History reconciled with clip %s", video)
    return changed
