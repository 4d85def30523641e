"""The history store: records written at start and updated at the end, newest-first listing with prompt search,
interrupted jobs after a crash, schema versioning, and use from several threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from core.job.request import GenerationRequest, GenerationResult, MemoryOptions, Placement, Quantization, StageTimings
from core.store.history import SCHEMA_VERSION, HistoryError, HistoryStore, JobRecord, JobStatus


def request(prompt: str = "a cat on a sofa", seed: int | None = 42, **kw: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, width=80, height=48, num_frames=9, steps=3, seed=seed, **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path):
    with HistoryStore(tmp_path / "history.sqlite3") as s:
        yield s


def test_add_records_everything_needed_to_run_again(store: HistoryStore, tmp_path: Path):
    memory = MemoryOptions(
        device="cuda",
        dtype="bfloat16",
        placement=Placement.STREAMED,
        vae_tiling=True,
        quantization=Quantization.FP8,
        text_encoders_off_gpu=True,
    )
    req = request(negative_prompt="blurry", guidance=4.5, fps=16, memory=memory, seed=2**63 - 1)
    record = store.add(req, tmp_path / "model")
    assert isinstance(record, JobRecord)
    assert record.status is JobStatus.QUEUED and record.started_at is None
    assert record.model_dir == str(tmp_path / "model")
    assert record.request == req  # round trip, including the memory options and a 63-bit seed


def test_lifecycle_done(store: HistoryStore, tmp_path: Path):
    record = store.add(request(), "m")
    store.mark_running(record.id)
    running = store.get(record.id)
    assert running is not None and running.status is JobStatus.RUNNING and running.started_at is not None
    video = tmp_path / "clip.mp4"
    result = GenerationResult(
        request=request(seed=42),
        video_path=video,
        sidecar_path=None,
        frames_dir=None,
        num_frames=9,
        timings=StageTimings(1.0, 2.0, 3.0, 4.0, 0.5),
        peak_vram_bytes=7 * 2**30,
        device="cuda",
        notes=("10 frames is not of the form 4k+1",),
    )
    store.mark_done(record.id, result, tmp_path / "thumb.png")
    done = store.get(record.id)
    assert done is not None
    assert done.status is JobStatus.DONE and done.status.finished
    assert done.video == video and done.thumbnail == tmp_path / "thumb.png"
    assert done.timings["total_s"] == pytest.approx(10.5) and done.total_s == pytest.approx(10.5)
    assert done.peak_vram_bytes == 7 * 2**30 and done.device == "cuda" and done.frames_generated == 9
    assert done.notes == ("10 frames is not of the form 4k+1",)
    assert done.finished_at is not None and done.finished_at >= done.started_at


def test_failed_and_cancelled(store: HistoryStore):
    a = store.add(request(), "m", JobStatus.RUNNING)
    store.mark_failed(a.id, "out-of-memory", "The GPU ran out of memory.", "Try model CPU offload.")
    failed = store.get(a.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert (failed.error_kind, failed.error_message, failed.error_advice) == (
        "out-of-memory",
        "The GPU ran out of memory.",
        "Try model CPU offload.",
    )
    b = store.add(request(), "m")
    store.mark_cancelled(b.id)
    cancelled = store.get(b.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED


def test_list_is_newest_first_and_searches_prompts(store: HistoryStore):
    ids = [
        store.add(request(p), "m", created_at=t).id
        for t, p in [
            (1.0, "A red fox in the snow"),
            (2.0, "an owl at night"),
            (3.0, "a fox and an owl"),
            (4.0, "100% cotton_sky"),
        ]
    ]
    assert [r.id for r in store.list_jobs()] == ids[::-1]
    assert [r.request.prompt for r in store.list_jobs("fox")] == ["a fox and an owl", "A red fox in the snow"]
    assert [r.request.prompt for r in store.list_jobs("OWL fox")] == ["a fox and an owl"]  # every word, any case
    assert store.list_jobs("badger") == []
    # LIKE wildcards in the search are literal characters.
    assert [r.request.prompt for r in store.list_jobs("100%")] == ["100% cotton_sky"]
    assert store.list_jobs("fox_") == []  # as a wildcard, "_" would match the space in "fox and"
    assert [r.id for r in store.list_jobs(limit=2)] == ids[:1:-1]
    assert [r.id for r in store.list_jobs(limit=2, offset=2)] == ids[1::-1]
    assert store.count() == 4


def test_same_created_at_orders_by_id(store: HistoryStore):
    a = store.add(request("first"), "m", created_at=5.0)
    b = store.add(request("second"), "m", created_at=5.0)
    assert [r.id for r in store.list_jobs()] == [b.id, a.id]


def test_delete_returns_the_record(store: HistoryStore, tmp_path: Path):
    record = store.add(request(), "m")
    deleted = store.delete(record.id)
    assert deleted is not None and deleted.id == record.id
    assert store.get(record.id) is None
    assert store.delete(record.id) is None


def test_unfinished_jobs_become_interrupted_after_a_crash(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    running = store.add(request("running"), "m", JobStatus.RUNNING)
    queued = store.add(request("queued"), "m")
    done = store.add(request("done"), "m", JobStatus.RUNNING)
    store.mark_cancelled(done.id)
    del store  # no close(): what a crash leaves behind

    reopened = HistoryStore(path)
    assert reopened.mark_interrupted() == 2
    assert reopened.get(running.id).status is JobStatus.INTERRUPTED  # type: ignore[union-attr]
    assert reopened.get(queued.id).status is JobStatus.INTERRUPTED  # type: ignore[union-attr]
    assert reopened.get(done.id).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert "stopped" in (reopened.get(running.id).error_message or "")  # type: ignore[union-attr]
    assert reopened.mark_interrupted() == 0
    reopened.close()


def test_schema_is_versioned_and_uses_wal(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="newer ContentV Studio"):
        HistoryStore(path)


def test_reopening_keeps_records(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        record = store.add(request("kept"), "m")
    with HistoryStore(path) as store:
        assert [r.id for r in store.list_jobs()] == [record.id]


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="cannot be opened"):
        HistoryStore(path)


def test_unknown_values_in_a_row_do_not_break_reading(store: HistoryStore):
    record = store.add(request(), "m")
    with store._lock:
        store._db.execute(
            "UPDATE jobs SET status = 'exploded', request = '{bad json', timings = 'nope' WHERE id = ?", (record.id,)
        )
    read = store.get(record.id)
    assert read is not None
    assert read.status is JobStatus.INTERRUPTED and read.request.memory == MemoryOptions() and read.timings == {}
    assert read.request.prompt == record.request.prompt  # the prompt column keeps the entry readable


def test_threads_share_the_store(store: HistoryStore):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                record = store.add(request(f"thread {n} job {i}"), "m")
                store.mark_running(record.id)
                store.mark_cancelled(record.id)
                store.list_jobs("thread")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 100
    assert {r.status for r in store.list_jobs()} == {JobStatus.CANCELLED}


# ---- schema 2: the request as one dictionary, the queue ---------------------------------------------------------
_V1_ROW = (
    "INSERT INTO jobs (status, created_at, started_at, finished_at, prompt, negative_prompt, width, height, "
    "num_frames, fps, steps, guidance, seed, max_sequence_length, model_dir, memory, frames_generated, device, "
    "timings, video_path, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def test_a_version_1_database_migrates_keeping_every_row(tmp_path: Path):
    from core.store.history import _SCHEMA_V1

    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_V1)
    memory = MemoryOptions(placement=Placement.MODEL, vae_tiling=True).to_dict()
    import json

    db.execute(
        _V1_ROW,
        (
            "done",
            100.0,
            101.0,
            150.0,
            "an old fox",
            "blurry",
            96,
            64,
            17,
            16,
            7,
            4.5,
            99,
            128,
            "/m",
            json.dumps(memory),
            17,
            "cpu",
            json.dumps({"total_s": 49.0}),
            "/out/fox.mp4",
            json.dumps(["note"]),
        ),
    )
    db.execute(
        _V1_ROW,
        (
            "failed",
            200.0,
            None,
            None,
            "an old owl",
            "",
            80,
            48,
            9,
            24,
            3,
            6.0,
            None,
            256,
            "/m",
            "{}",
            None,
            None,
            None,
            None,
            None,
        ),
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()

    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        fox, owl = sorted(store.list_jobs(), key=lambda r: r.id)
        assert fox.request == GenerationRequest(
            prompt="an old fox",
            negative_prompt="blurry",
            width=96,
            height=64,
            num_frames=17,
            fps=16,
            steps=7,
            guidance=4.5,
            seed=99,
            max_sequence_length=128,
            memory=MemoryOptions.from_dict(memory),
        )
        assert (fox.status, fox.created_at, fox.video_path, fox.total_s, fox.notes) == (
            JobStatus.DONE,
            100.0,
            "/out/fox.mp4",
            49.0,
            ("note",),
        )
        assert owl.status is JobStatus.FAILED and owl.request.seed is None and owl.request.fps == 24
        assert store.list_jobs("owl") == [owl]  # search still works on the migrated rows
        columns = {row[1] for row in store._db.execute("PRAGMA table_info(jobs)")}
    assert "request" in columns and "queue_position" in columns
    assert not {"width", "height", "steps", "seed", "memory"} & columns  # the request is not repeated


def test_the_request_is_stored_as_its_own_dictionary(store: HistoryStore):
    import json

    original = request("stored whole", memory=MemoryOptions(quantization=Quantization.INT8))
    record = store.add(original, "m")
    raw = store._db.execute("SELECT request FROM jobs WHERE id = ?", (record.id,)).fetchone()[0]
    assert json.loads(raw) == original.to_dict()
    assert record.request == original


def test_queue_order_survives_a_crash_and_the_running_job_goes_first(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    a, b, c, d = (store.add(request(f"job {n}"), "m") for n in "abcd")
    store.set_queue_order([c.id, a.id, d.id, b.id])
    store.mark_running(d.id)  # the worker picked d
    store.mark_cancelled(b.id)  # removed from the queue
    assert [r.id for r in store.queued_jobs()] == [d.id, c.id, a.id]
    del store  # a crash

    reopened = HistoryStore(path)
    assert reopened.requeue_unfinished() == 3
    waiting = reopened.queued_jobs()
    assert [r.id for r in waiting] == [d.id, c.id, a.id]
    assert all(r.status is JobStatus.QUEUED and r.started_at is None for r in waiting)
    assert waiting[0].request.seed == d.request.seed  # restarts from the beginning with the same seed
    assert reopened.get(b.id).queue_position is None  # type: ignore[union-attr]
    assert reopened.requeue_unfinished() == 3  # idempotent
    reopened.close()


def test_requeue_puts_a_stopped_job_back_at_the_head(store: HistoryStore):
    a, b = store.add(request("a"), "m"), store.add(request("b"), "m")
    store.mark_running(b.id)
    store.requeue(b.id)
    assert [(r.id, r.status) for r in store.queued_jobs()] == [(b.id, JobStatus.QUEUED), (a.id, JobStatus.QUEUED)]


def test_finished_jobs_leave_the_queue(store: HistoryStore, tmp_path: Path):
    a, b = store.add(request("a"), "m"), store.add(request("b"), "m")
    store.mark_failed(a.id, "internal", "boom")
    store.mark_running(b.id)
    result = GenerationResult(
        request=b.request,
        video_path=tmp_path / "b.mp4",
        sidecar_path=None,
        frames_dir=None,
        num_frames=9,
        timings=StageTimings(1, 1, 1, 1, 1),
        peak_vram_bytes=None,
        device="cpu",
        notes=(),
    )
    store.mark_done(b.id, result)
    assert store.queued_jobs() == []
    assert store.get(a.id).queue_position is None and store.get(b.id).queue_position is None  # type: ignore[union-attr]
