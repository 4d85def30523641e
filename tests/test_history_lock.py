"""A locked history is not a damaged one: while another process holds the database, opening it waits (or opens
it as it is and sets it up once free), writes wait and then succeed, and nothing is ever moved aside or emptied.
Jobs a command-line process runs are left to it by the window's queue."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from core.job.request import GenerationRequest, MemoryOptions
from core.store.history import (
    HistoryBusyError,
    HistoryStore,
    JobStatus,
    is_busy,
    is_damage,
    runner_alive,
    this_process_runner,
)
from core.store.history_recovery import database_problem, open_history
from tests.sqlite_lock import database_held

ROWS = 12


def request(prompt: str = "a fox in snow") -> GenerationRequest:
    return GenerationRequest(prompt=prompt, width=48, height=32, num_frames=5, steps=2, seed=4, memory=MemoryOptions())


def history_with_rows(path: Path, rows: int = ROWS) -> None:
    with HistoryStore(path) as store:
        for i in range(rows):
            store.add(request(f"job {i}"), "/models/m", JobStatus.QUEUED if i % 2 else JobStatus.RUNNING)


def nothing_moved_aside(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".damaged-" in p.name]


@pytest.mark.parametrize("block_readers", [False, True], ids=["writers-wait", "readers-wait-too"])
def test_opening_a_history_another_process_holds_keeps_every_row(tmp_path, block_readers):
    path = tmp_path / "history.sqlite3"
    history_with_rows(path)
    with database_held(path, 8, block_readers=block_readers) as holder:
        opening = open_history(path, tmp_path / "outputs")
        assert opening.moved_to is None and not opening.started_fresh and opening.persistent
        assert nothing_moved_aside(tmp_path)
        if not block_readers:  # WAL: reading never waits for a writer, even before the lock is released
            assert opening.store.count() == ROWS
            holder.kill()
        holder.wait(60)
    assert opening.store.count() == ROWS
    assert sorted(r.request.prompt for r in opening.store.list_jobs()) == sorted(f"job {i}" for i in range(ROWS))
    opening.store.add(request("after the lock"), "/m")
    assert opening.store.count() == ROWS + 1
    opening.store.close()


def test_a_history_still_held_after_the_wait_opens_as_it_is_with_a_notice(tmp_path):
    path = tmp_path / "history.sqlite3"
    history_with_rows(path)
    original = path.read_bytes()
    with database_held(path, 120, block_readers=True):
        opening = open_history(path, tmp_path / "outputs", busy_wait_s=0.3)
        assert opening.busy and opening.moved_to is None and opening.persistent
        assert "in use by another program" in opening.notice and "Nothing was moved" in opening.notice
        with pytest.raises(HistoryBusyError) as caught:  # reading waits, then says why, as an sqlite3.Error
            opening.store.count()
        assert isinstance(caught.value, sqlite3.Error) and path.read_bytes() == original
        assert nothing_moved_aside(tmp_path)
    assert opening.store.count() == ROWS  # once free, the same store reads everything
    opening.store.close()


def test_a_write_while_locked_waits_and_then_succeeds(tmp_path):
    path = tmp_path / "history.sqlite3"
    history_with_rows(path)
    store = HistoryStore(path)
    first = store.list_jobs()[-1]
    with database_held(path, 3):  # a writer elsewhere for a few seconds (the store is open: WAL)
        added = store.add(request("queued while the history was held"), "/m")
        store.mark_cancelled(first.id)
    assert store.count() == ROWS + 1 and store.get(added.id) is not None
    record = store.get(first.id)
    assert record is not None and record.status is JobStatus.CANCELLED
    store.close()


def test_a_write_that_waits_too_long_fails_as_a_busy_history_and_changes_nothing(tmp_path):
    path = tmp_path / "history.sqlite3"
    history_with_rows(path)
    store = HistoryStore(path, busy_wait_s=0.3)
    with database_held(path, 120):
        with pytest.raises(HistoryBusyError):
            store.add(request("too late"), "/m")
        assert store.count() == ROWS  # reads go on meanwhile (WAL)
    store.add(request("in time"), "/m")
    assert store.count() == ROWS + 1
    store.close()


def test_an_old_schema_held_by_another_process_migrates_once_free(tmp_path):
    path = tmp_path / "history.sqlite3"
    history_with_rows(path, 3)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE jobs DROP COLUMN runner")  # as version 2 wrote it
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with database_held(path, 120):
        opening = open_history(path, busy_wait_s=0.3)
        assert opening.busy and opening.moved_to is None
    assert opening.store.schema_version == 3 and opening.store.count() == 3
    opening.store.close()


def test_a_locked_database_is_not_called_damaged(tmp_path):
    path = tmp_path / "history.sqlite3"
    history_with_rows(path, 2)
    with database_held(path, 120, block_readers=True):
        assert database_problem(path) is None
        db = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError) as caught:
            db.execute("PRAGMA quick_check").fetchall()
        db.close()
        assert is_busy(caught.value) and not is_damage(caught.value)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 400)
    db = sqlite3.connect(garbage)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        db.execute("PRAGMA quick_check").fetchall()
    db.close()
    assert is_damage(caught.value) and not is_busy(caught.value)


# ---- jobs a command-line process runs ------------------------------------------------------------------------
def test_the_windows_queue_leaves_a_live_command_line_job_alone(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        mine = store.add(request("the window's"), "/m", JobStatus.RUNNING)
        cli = store.add(request("the command line's"), "/m", JobStatus.RUNNING, runner=this_process_runner())
        assert cli.queue_position is None and cli.run_elsewhere
        assert store.requeue_unfinished() == 1  # the window's own job waits again; the CLI's runs on
        assert [r.id for r in store.queued_jobs()] == [mine.id]
        record = store.get(cli.id)
        assert record is not None and record.status is JobStatus.RUNNING
        assert store.mark_interrupted() == 1
        record = store.get(cli.id)
        assert record is not None and record.status is JobStatus.RUNNING


def test_a_command_line_job_whose_process_is_gone_is_interrupted(tmp_path):
    gone = json.dumps({"kind": "cli", "pid": os.getpid(), "started": 1.0, "host": os.uname().nodename})
    assert runner_alive(this_process_runner()) and not runner_alive(gone)  # same PID, another start: reused
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        cli = store.add(request(), "/m", JobStatus.RUNNING, runner=gone)
        assert store.requeue_unfinished() == 0
        record = store.get(cli.id)
        assert record is not None and record.status is JobStatus.INTERRUPTED
        assert record.error_message and "command-line" in record.error_message


# ---- the command line records its job in the window's history ------------------------------------------------
TINY = ["--width", "80", "--height", "48", "--frames", "9", "--steps", "2", "--seed", "5", "--device", "cpu"]


def run_cli(*args: str) -> tuple[int, str, str]:
    from core import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_command_line_job_is_recorded_in_the_data_folders_history(tmp_path, tiny_model):
    data = tmp_path / "data"
    clip = tmp_path / "clip.mp4"
    code, _, err = run_cli(
        "generate",
        "--model",
        str(tiny_model),
        "--prompt",
        "a kite",
        *TINY,
        "--output",
        str(clip),
        "--data-dir",
        str(data),
    )
    assert code == 0, err
    with HistoryStore(data / "history.sqlite3") as store:
        [record] = store.list_jobs()
        assert record.status is JobStatus.DONE and record.video == clip and record.request.prompt == "a kite"
        assert record.request.seed == 5 and record.run_elsewhere and record.queue_position is None
        assert record.thumbnail is not None and record.thumbnail.is_file()
        assert store.queued_jobs() == []  # never in the window's queue
    assert json.loads(clip.with_suffix(".json").read_text())["job_id"] == record.id


def test_a_failed_command_line_job_is_recorded_as_failed(tmp_path, tiny_model, monkeypatch):
    import core.engine.runner
    from core.errors import OutOfMemoryError

    def failing(self, *args, **kwargs):
        raise OutOfMemoryError("The GPU ran out of memory.", "Try model offload.")

    monkeypatch.setattr(core.engine.runner.Engine, "generate", failing)
    data = tmp_path / "data"
    code, _, _ = run_cli(
        "generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--output", str(tmp_path / "o.mp4"),
        "--data-dir", str(data),
    )  # fmt: skip
    assert code == 4
    with HistoryStore(data / "history.sqlite3") as store:
        [record] = store.list_jobs()
    assert record.status is JobStatus.FAILED and record.error_kind == "out-of-memory"
    assert record.error_message == "The GPU ran out of memory." and record.error_advice == "Try model offload."


def test_a_command_line_job_makes_its_clip_while_the_history_is_held(tmp_path, tiny_model, monkeypatch):
    from core import cli_history

    monkeypatch.setattr(cli_history, "WAIT_S", 0.2)  # the job must not wait the full time for its row
    data = tmp_path / "data"
    data.mkdir()
    history_with_rows(data / "history.sqlite3", 3)
    clip = tmp_path / "clip.mp4"
    with database_held(data / "history.sqlite3", 120, block_readers=True):
        code, out, err = run_cli(
            "generate", "--model", str(tiny_model), "--prompt", "held", *TINY, "--output", str(clip),
            "--data-dir", str(data),
        )  # fmt: skip
        assert code == 0, err
        assert out.splitlines()[0] == str(clip) and clip.is_file()
        assert "warning: the job could not be recorded in the history" in err
    assert nothing_moved_aside(data)
    with HistoryStore(data / "history.sqlite3") as store:
        assert store.count() == 3  # the rows that were there are all there


def test_a_command_line_job_records_its_row_at_the_end_when_the_start_found_the_history_held(tmp_path, tiny_model):
    from core.cli_history import CliJobRecord
    from core.engine.runner import Engine
    from core.job.request import OutputOptions

    data = tmp_path / "data"
    data.mkdir()
    history_with_rows(data / "history.sqlite3", 2)
    err = io.StringIO()
    job = CliJobRecord(data, err, wait_s=0.2)
    tiny = GenerationRequest(prompt="late row", width=80, height=48, num_frames=9, steps=2, seed=3,
                             memory=MemoryOptions(device="cpu"))  # fmt: skip
    with database_held(data / "history.sqlite3", 120, block_readers=True):
        job.start(tiny, str(tiny_model))
        assert job.job_id is None  # not recorded yet: the job goes on
    result = Engine().generate(str(tiny_model), tiny, OutputOptions(tmp_path / "late.mp4"))
    job.done(result)
    job.close()
    assert err.getvalue() == ""
    with HistoryStore(data / "history.sqlite3") as store:
        record = store.get(job.job_id or -1)
        assert record is not None and record.status is JobStatus.DONE and record.request.prompt == "late row"
        assert store.count() == 3
