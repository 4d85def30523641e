"""A damaged history never stops the app and loses nothing: it is kept aside byte for byte, a fresh one starts
with a notice, and clips a killed session published are reconciled with the history."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np

from core.job.request import GenerationRequest, MemoryOptions
from core.output.video import publish_clip, reserve_outputs
from core.store.history import HistoryStore, JobStatus
from core.store.history_recovery import database_problem, open_history, reconcile_outputs

NOW = 1_795_000_000.0  # a fixed moment for the damaged copy's name


def request(prompt: str = "a fox in snow") -> GenerationRequest:
    return GenerationRequest(prompt=prompt, width=48, height=32, num_frames=5, steps=2, seed=4, memory=MemoryOptions())


def filled_history(path: Path, jobs: int = 40) -> None:
    with HistoryStore(path) as store:
        for i in range(jobs):
            store.add(request(f"prompt number {i} " + "x" * 400), "/models/m")
    # Fold the WAL into the main file so the damage below hits real pages.
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def sqlite_refuses(path: Path) -> bool:
    db = sqlite3.connect(path)
    try:
        db.execute("SELECT * FROM jobs").fetchall()
        return db.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
    except sqlite3.DatabaseError:
        return True
    finally:
        db.close()


def test_a_sound_database_opens_without_a_notice(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled_history(path, 3)
    opening = open_history(path)
    assert opening.notice == "" and opening.moved_to is None and opening.store.count() == 3


def test_garbled_pages_are_moved_aside_byte_for_byte_and_a_fresh_history_starts(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled_history(path)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, min(len(data), 6 * page), page):  # garble a few pages after the schema
        data[start + 10 : start + 600] = os.urandom(590)
    path.write_bytes(bytes(data))
    assert database_problem(path) is not None
    assert sqlite_refuses(path)  # what stopped the window before
    data = path.read_bytes()

    opening = open_history(path, now=NOW)
    assert opening.moved_to is not None and opening.moved_to.read_bytes() == data
    assert opening.moved_to.name.startswith("history.sqlite3.damaged-20")
    assert "could not be used" in opening.notice and opening.moved_to.name in opening.notice
    assert opening.store.count() == 0
    opening.store.add(request(), "/m")  # the fresh one works
    assert opening.store.count() == 1


def test_not_a_database(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is a text file, not SQLite\n" * 50)
    opening = open_history(path, now=NOW)
    assert "not an SQLite database" in opening.notice
    assert opening.moved_to is not None and opening.moved_to.read_bytes().startswith(b"this is a text")
    assert opening.store.count() == 0


def test_an_empty_file_is_a_fresh_start_and_says_so(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"")
    opening = open_history(path)
    assert opening.started_fresh and "was empty" in opening.notice and opening.moved_to is None
    assert opening.store.count() == 0


def test_an_unreadable_database_is_moved_aside(tmp_path, monkeypatch):
    path = tmp_path / "history.sqlite3"
    filled_history(path, 2)
    original = path.read_bytes()
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads whatever the mode says: simulate the refusal the way a user's account meets it
        real_open = Path.open

        def refusing(self, *args, **kwargs):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refusing)
    opening = open_history(path, now=NOW)
    assert "permission denied" in opening.notice
    assert opening.moved_to is not None
    monkeypatch.undo()
    opening.moved_to.chmod(0o644)
    assert opening.moved_to.read_bytes() == original


def publish_for_job(outputs: Path, job_id: int, prompt: str) -> Path:
    outputs.mkdir(parents=True, exist_ok=True)
    target = outputs / f"clip-{job_id}.mp4"
    metadata = {"request": request(prompt).to_dict(), "frames_generated": 5, "job_id": job_id, "model": "/m"}
    with reserve_outputs(target) as reservation:
        publish_clip(np.zeros((5, 32, 48, 3), np.float32), reservation, 8, metadata)
    return target


def test_a_clip_published_just_before_a_kill_is_reconciled_with_its_job(tmp_path):
    path, outputs = tmp_path / "history.sqlite3", tmp_path / "outputs"
    with HistoryStore(path) as store:
        job = store.add(request(), "/m", JobStatus.RUNNING)
    clip = publish_for_job(outputs, job.id, request().prompt)  # then the window was killed

    opening = open_history(path, outputs)
    record = opening.store.get(job.id)
    assert record is not None and record.status is JobStatus.DONE and record.video == clip
    assert opening.store.mark_interrupted() == 0  # nothing left to call interrupted
    # Starting again changes nothing.
    assert reconcile_outputs(opening.store, outputs, add_unknown=True) == 0
    assert opening.store.count() == 1


def test_after_damage_the_clips_on_disk_come_back_into_the_history(tmp_path):
    path, outputs = tmp_path / "history.sqlite3", tmp_path / "outputs"
    publish_for_job(outputs, 7, "first clip")
    publish_for_job(outputs, 9, "second clip")
    (outputs / "stray.json").write_text(json.dumps({"not": "a sidecar"}))
    path.write_bytes(b"garbage" * 100)
    opening = open_history(path, outputs, now=NOW)
    prompts = sorted(r.request.prompt for r in opening.store.list_jobs())
    assert prompts == ["first clip", "second clip"]
    assert all(r.status is JobStatus.DONE and r.video and r.video.exists() for r in opening.store.list_jobs())


def test_a_healthy_history_does_not_resurrect_deleted_entries(tmp_path):
    path, outputs = tmp_path / "history.sqlite3", tmp_path / "outputs"
    publish_for_job(outputs, 12, "kept on disk, deleted from the history")
    with HistoryStore(path) as store:
        store.add(request(), "/m")
    opening = open_history(path, outputs)
    assert opening.store.count() == 1


def test_the_window_opens_over_a_damaged_history_and_says_so_in_the_status_bar(qtbot, tmp_path):
    from gui.app import create_window

    data = tmp_path / "data"
    data.mkdir()
    (data / "history.sqlite3").write_bytes(b"garbage" * 500)
    window = create_window(data, start_engine=False, warm_imports=False)
    try:
        with qtbot.waitExposed(window):
            window.show()
        message = window.statusBar().currentMessage()
        assert "could not be used" in message and "history.sqlite3.damaged-" in message
        assert window.error_dialog is None  # told without a dialog
    finally:
        window.close()
        qtbot.waitUntil(lambda: window._shut_down, timeout=60_000)
        window.deleteLater()
