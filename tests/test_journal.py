"""The job journal: a job stopped or killed mid-denoise continues from its last snapshot and makes the very clip the
uninterrupted job makes; torn, damaged or mismatched snapshots are never used; a failed decode is decoded again
without running the transformer."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core import cli
from core.engine.runner import Engine
from core.errors import JobCancelled, OutOfMemoryError
from core.job.progress import CancelToken, ProgressSink
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, SpeedOptions, StepCache
from core.output.video import read_png_frames
from core.store.journal import (
    JobJournal,
    JournalError,
    JournalOptions,
    find_journal,
    list_journals,
    read_snapshot_file,
    snapshot_path,
)
from tests.interrupting import TransformerCalls, fail_decode_once, prelude

ROOT = Path(__file__).resolve().parent.parent
CPU = MemoryOptions(device="cpu")


def tiny_request(**overrides) -> GenerationRequest:
    base = GenerationRequest(
        prompt="a lighthouse at dusk", width=80, height=48, num_frames=9, steps=10, seed=11, memory=CPU
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture()
def model_copy(tiny_model: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target)
    return target


def outputs(tmp_path: Path, name: str) -> OutputOptions:
    return OutputOptions(tmp_path / f"{name}.mp4", frames_dir=tmp_path / f"{name}-png")


def run_uninterrupted(engine: Engine, model: Path, request: GenerationRequest, tmp_path: Path) -> np.ndarray:
    engine.generate(model, request, outputs(tmp_path, "whole"))
    return read_png_frames(tmp_path / "whole-png")


def stop_at(step: int) -> tuple[ProgressSink, CancelToken]:
    cancel = CancelToken()

    def on_step(p) -> None:
        if p.step == step:
            cancel.cancel()

    return ProgressSink(on_step=on_step), cancel


@pytest.fixture()
def calibration(tmp_path, monkeypatch):
    """A private calibration folder: empty (First-Block / TaylorSeer) unless a test records one (MagCache)."""
    folder = tmp_path / "calibration"
    monkeypatch.setenv("CONTENTV_STUDIO_CALIBRATION_DIR", str(folder))
    return folder


# The step cache's methods: "none"; First-Block and TaylorSeer without a calibration; MagCache with one.
CACHES = [
    (StepCache.OFF, False, "none"),
    (StepCache.FAST, False, "first-block"),
    (StepCache.FASTER, False, "taylorseer"),
    (StepCache.FAST, True, "mag-cache"),
]


@pytest.mark.parametrize(("level", "calibrated", "method"), CACHES, ids=[c[2] for c in CACHES])
def test_stopped_job_resumes_to_identical_frames(engine, tiny_model, tmp_path, calibration, level, calibrated, method):
    if calibrated:  # an uncached job of >= 8 steps records this model's MagCache calibration
        engine.generate(tiny_model, tiny_request(seed=3), OutputOptions(tmp_path / "calibrate.mp4"))
    request = tiny_request(speed=SpeedOptions(step_cache=level))
    expected = run_uninterrupted(engine, tiny_model, request, tmp_path)

    journal = JournalOptions(tmp_path / "jobs", "job-a", snapshot_every=3)
    sink, cancel = stop_at(7)
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, request, outputs(tmp_path, "resumed"), sink, cancel, journal=journal)
    assert engine.last_journal is not None and engine.last_journal.kept and engine.last_journal.step == 7
    assert not (tmp_path / "resumed.mp4").exists()
    kept = find_journal("job-a", tmp_path / "jobs")
    assert kept is not None and kept.snapshot_steps() == [6, 7]  # the newest two are kept
    latest = kept.latest_snapshot()
    assert latest is not None and latest.cache["plan"]["method"] == method
    assert latest.cache["mode"] == ("none" if method == "none" else "exact")

    steps_seen: list[int] = []
    result = engine.generate(
        tiny_model,
        request,
        outputs(tmp_path, "resumed"),
        ProgressSink(on_step=lambda p: steps_seen.append(p.step)),
        journal=journal,
    )
    assert steps_seen == [8, 9, 10]  # only the steps the first run had not done
    assert any("Continued from step 7 of 10" in n for n in result.notes)
    assert np.array_equal(read_png_frames(tmp_path / "resumed-png"), expected)  # 0/255: exact
    assert not (tmp_path / "jobs" / "job-a").exists()  # published: the journal is gone
    assert engine.last_journal is not None and not engine.last_journal.kept


def test_cache_state_over_the_limit_restarts_the_cache_and_says_so(
    engine, tiny_model, tmp_path, calibration, monkeypatch
):
    import core.store.journal as journal_module

    monkeypatch.setattr(journal_module, "CACHE_STATE_LIMIT_BYTES", 0)
    request = tiny_request(speed=SpeedOptions(step_cache=StepCache.FASTER))  # TaylorSeer
    journal = JournalOptions(tmp_path / "jobs", "job-b", snapshot_every=2)
    sink, cancel = stop_at(5)
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, request, outputs(tmp_path, "b"), sink, cancel, journal=journal)
    kept = find_journal("job-b", tmp_path / "jobs")
    assert kept is not None
    latest = kept.latest_snapshot()
    assert latest is not None and latest.cache["mode"] == "restart" and not latest.exact
    result = engine.generate(tiny_model, request, outputs(tmp_path, "b"), journal=journal)
    assert any("restarted at the resumed step" in n for n in result.notes)
    assert read_png_frames(tmp_path / "b-png").shape[0] == 9


def test_torn_or_damaged_newest_snapshot_falls_back_to_the_previous(engine, tiny_model, tmp_path):
    request = tiny_request()
    journal = JournalOptions(tmp_path / "jobs", "job-c", snapshot_every=2)
    sink, cancel = stop_at(6)
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, request, outputs(tmp_path, "c"), sink, cancel, journal=journal)
    kept = find_journal("job-c", tmp_path / "jobs")
    assert kept is not None and kept.snapshot_steps() == [4, 6]
    newest = snapshot_path(kept.folder, 6)
    data = bytearray(newest.read_bytes())
    data[-5] ^= 0xFF  # one flipped bit in the latents: the checksum catches it
    newest.write_bytes(bytes(data))
    with pytest.raises(JournalError):
        read_snapshot_file(newest)
    latest = kept.latest_snapshot()
    assert latest is not None and latest.step == 4
    newest.write_bytes(bytes(data[: len(data) // 2]))  # torn
    assert kept.latest_snapshot().step == 4
    snapshot_path(kept.folder, 4).write_bytes(b"")  # both unusable: start from step 0
    assert kept.latest_snapshot() is None
    expected = run_uninterrupted(engine, tiny_model, request, tmp_path)
    engine.generate(tiny_model, request, outputs(tmp_path, "c"), journal=journal)
    assert np.array_equal(read_png_frames(tmp_path / "c-png"), expected)


KILL_DURING_WRITE = """
import os, signal, sys
sys.path.insert(0, {root!r})
import torch
from pathlib import Path
from core.store.journal import JobJournal, JournalHeader, Snapshot
import safetensors.torch as st

journal = JobJournal.open(Path({folder!r}))
real = st.save_file

def torn(tensors, filename, metadata=None):
    real(tensors, filename, metadata=metadata)
    with open(filename, "r+b") as f:  # half of the new file on disk, then the power goes
        f.truncate(os.path.getsize(filename) // 2)
    os.kill(os.getpid(), signal.SIGKILL)

st.save_file = torn
journal.write(Snapshot(9, torch.zeros(1, 16, 3, 6, 10), {{}}, {{}}, {{"mode": "none"}}), background=False)
"""


def test_kill_during_a_snapshot_write_keeps_the_previous_snapshot(engine, tiny_model, tmp_path):
    journal = JournalOptions(tmp_path / "jobs", "job-d", snapshot_every=3)
    sink, cancel = stop_at(6)
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, tiny_request(), outputs(tmp_path, "d"), sink, cancel, journal=journal)
    folder = tmp_path / "jobs" / "job-d"
    before = {p.name: p.read_bytes() for p in folder.glob("step-*")}
    script = KILL_DURING_WRITE.format(root=str(ROOT), folder=str(folder))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert {p.name: p.read_bytes() for p in folder.glob("step-*")} == before  # nothing replaced, nothing added
    kept = find_journal("job-d", tmp_path / "jobs")
    assert kept is not None and kept.latest_snapshot().step == 6
    assert [s.step for s in list_journals(tmp_path / "jobs")] == [6]


def test_snapshot_of_a_changed_model_is_refused_and_starting_over_works(engine, model_copy, tmp_path):
    request = tiny_request(steps=6)
    journal = JournalOptions(tmp_path / "jobs", "job-e", snapshot_every=2)
    sink, cancel = stop_at(4)
    with pytest.raises(JobCancelled):
        engine.generate(model_copy, request, outputs(tmp_path, "e"), sink, cancel, journal=journal)
    # A changed request is refused (the seed, the prompt, the steps…).
    with pytest.raises(JournalError, match="settings differ"):
        engine.generate(model_copy, dataclasses.replace(request, guidance=3.0), outputs(tmp_path, "e"), journal=journal)
    weights = next((model_copy / "transformer").glob("*.safetensors"))
    os.utime(weights, ns=(time.time_ns(), time.time_ns() + 10**9))  # replaced weights
    with pytest.raises(JournalError, match="model folder has changed"):
        engine.generate(model_copy, request, outputs(tmp_path, "e"), journal=journal)
    assert find_journal("job-e", tmp_path / "jobs").latest_snapshot().step == 4  # left as it was
    assert not (tmp_path / "e.mp4").exists()
    engine.generate(model_copy, request, outputs(tmp_path, "e"), journal=dataclasses.replace(journal, resume=False))
    assert (tmp_path / "e.mp4").exists() and not (tmp_path / "jobs" / "job-e").exists()


def test_oom_at_decode_is_decoded_again_without_the_transformer(engine, tiny_model, tmp_path, monkeypatch):
    request = tiny_request(steps=4)
    expected = run_uninterrupted(engine, tiny_model, request, tmp_path)
    fail_decode_once(monkeypatch, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB"))
    journal = JournalOptions(tmp_path / "jobs", "job-f")
    with pytest.raises(OutOfMemoryError):
        engine.generate(tiny_model, request, outputs(tmp_path, "f"), journal=journal)
    kept = engine.last_journal
    assert kept is not None and kept.kept and kept.denoised and kept.step == 4

    calls = TransformerCalls(monkeypatch)
    tiled = dataclasses.replace(request, memory=dataclasses.replace(CPU, vae_tiling=True, vae_slicing=True))
    result = engine.generate(tiny_model, tiled, outputs(tmp_path, "f"), journal=journal)
    assert calls.count == 0 and result.timings.denoising_s == 0
    assert np.array_equal(read_png_frames(tmp_path / "f-png"), expected)
    assert json.loads((tmp_path / "f.json").read_text())["resumed_from_step"] == 4


def test_decode_again_on_the_cpu(engine, tiny_model, tmp_path, monkeypatch):
    request = tiny_request(steps=3)
    journal = JournalOptions(tmp_path / "jobs", "job-g")
    fail_decode_once(monkeypatch, RuntimeError("the driver was reset"))
    with pytest.raises(RuntimeError):
        engine.generate(tiny_model, request, outputs(tmp_path, "g"), journal=journal)
    assert engine.last_journal is not None and engine.last_journal.denoised  # any failure keeps the latents
    calls = TransformerCalls(monkeypatch)
    result = engine.generate(
        tiny_model, request, outputs(tmp_path, "g"), journal=dataclasses.replace(journal, decode_on_cpu=True)
    )
    assert calls.count == 0 and result.device == "cpu" and result.num_frames == 9


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def cli_job(model: Path, tmp_path: Path, name: str, cache: StepCache) -> list[str]:
    return [
        "generate", "--model", str(model), "--prompt", "a red kite over dunes", "--width", "80", "--height", "48",
        "--frames", "9", "--steps", "12", "--seed", "5", "--device", "cpu", "--step-cache", cache.value,
        "--output", str(tmp_path / f"{name}.mp4"), "--save-frames", str(tmp_path / f"{name}-png"),
    ]  # fmt: skip


@pytest.mark.parametrize("cache", [StepCache.OFF, StepCache.FASTER], ids=["cache-off", "cache-on"])
def test_cli_job_killed_mid_denoise_resumes_to_identical_frames(tiny_model, tmp_path, calibration, cache):
    data = tmp_path / "data"
    code, _, err = run_cli(*cli_job(tiny_model, tmp_path, "whole", cache), "--data-dir", str(tmp_path / "other"))
    assert code == 0, err
    expected = read_png_frames(tmp_path / "whole-png")

    argv = [*cli_job(tiny_model, tmp_path, "killed", cache), "--data-dir", str(data), "--snapshot-every", "2"]
    stalled = tmp_path / "stalled"
    script = prelude(str(ROOT), 7, str(stalled))  # the job stops moving after step 7: killed "at step 7"
    script += f"from core.cli import main\nsys.exit(main({argv!r}))\n"
    command = [sys.executable, "-c", script]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 600  # only gives up on a job that never gets there
        while not (stalled.exists() and list((data / "jobs").glob("*/step-000004.safetensors"))):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no handler runs, nothing is cleaned up
    finally:
        proc.wait()
    assert not (tmp_path / "killed.mp4").exists()

    code, listing, _ = run_cli("resume", "--list", "--data-dir", str(data))
    assert code == 0 and "interrupted" in listing and "/12" in listing
    job_id = listing.split()[0]
    step = int(listing.split()[2].split("/")[0])
    assert 4 <= step < 12
    code, out, err = run_cli("resume", "--data-dir", str(data))
    assert code == 0, err
    assert f"from step {step} of 12" in err and str(tmp_path / "killed.mp4") in out
    assert np.array_equal(read_png_frames(tmp_path / "killed-png"), expected)
    assert not (data / "jobs" / job_id).exists()
    code, listing, err = run_cli("resume", "--list", "--data-dir", str(data))
    assert code == 0 and listing == "" and "no interrupted jobs" in err


def test_cli_resume_refusals_are_one_line(tiny_model, model_copy, tmp_path):
    data = tmp_path / "data"
    code, _, err = run_cli("resume", "nope", "--data-dir", str(data))
    assert code == 2 and err.count("\n") == 1 and "no interrupted job nope" in err.lower()

    jobs = data / "jobs"
    journal = JournalOptions(jobs, "cli-x", snapshot_every=2)
    sink, cancel = stop_at(3)
    with pytest.raises(JobCancelled):
        Engine().generate(model_copy, tiny_request(steps=6), outputs(tmp_path, "x"), sink, cancel, journal=journal)
    (model_copy / "vae" / "extra.txt").write_text("a new file")
    code, _, err = run_cli("resume", "cli-x", "--data-dir", str(data))
    assert code == 2 and "model folder has changed" in err and "--start-over" in err
    assert err.strip().count("\n") == 1  # "resuming …" and the error line
    code, _, err = run_cli("resume", "cli-x", "--start-over", "--data-dir", str(data))
    assert code == 0, err
    assert (tmp_path / "x.mp4").exists()


def test_journal_header_names_everything_a_resume_needs(engine, tiny_model, tmp_path):
    sink, cancel = stop_at(2)
    journal = JournalOptions(tmp_path / "jobs", "job-h", snapshot_every=1, history_id=42)
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, tiny_request(steps=5), outputs(tmp_path, "h"), sink, cancel, journal=journal)
    opened = JobJournal.open(tmp_path / "jobs" / "job-h")
    header = opened.header
    assert header.request["seed"] == 11 and header.history_id == 42 and header.device == "cpu"
    assert header.video_path == str(tmp_path / "h.mp4") and header.frames_dir == str(tmp_path / "h-png")
    assert header.model_dir == str(tiny_model.resolve()) and len(header.model_identity) == 64
    assert opened.load_embeddings() is not None  # a resume skips the text encoders
    assert not (opened.folder / "owner.json").exists()  # released: resumable by anyone


def test_a_journal_killed_before_its_header_is_pruned_once_stale(tmp_path):
    from core.store.journal import prune_headerless

    jobs = tmp_path / "jobs"
    stale, fresh, owned = jobs / "cli-stale", jobs / "cli-fresh", jobs / "cli-owned"
    for folder in (stale, fresh, owned):
        folder.mkdir(parents=True)
    (owned / "owner.json").write_text(json.dumps({"pid": os.getpid(), "started": 0}))  # a live owner
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(owned, (old, old))
    assert prune_headerless(jobs) == [stale]
    assert not stale.exists() and fresh.exists() and owned.exists()
    code, listing, _ = run_cli("resume", "--list", "--data-dir", str(tmp_path))
    assert code == 0 and "cli-fresh  unreadable" in listing and "cli-stale" not in listing
