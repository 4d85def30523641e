"""A clip made on several GPUs, opened on a machine with fewer (core/job/clip_settings.py): the note says so and the
runnable request uses the GPUs present, keeping the split where it still applies."""

from __future__ import annotations

import json
from pathlib import Path

from core.engine.devices import Capabilities, Link
from core.job.clip_settings import (
    APP_NAME,
    NoteKind,
    make_runnable,
    read_clip_settings,
    runnable_request,
    settings_notes,
)
from core.job.request import GenerationRequest, MemoryOptions, ParallelOptions, Split
from core.parallel.plan import resolve_split


def cuda(count: int) -> Capabilities:
    return Capabilities(
        cuda=True, mps=False, cuda_name="NVIDIA GeForce RTX 4090", bf16=True, cuda_devices=count, link=Link.PCIE
    )


CPU = Capabilities(cuda=False, mps=False)


def made_on(tmp_path: Path, gpus: int, split: Split) -> Path:
    request = GenerationRequest("a kite", seed=5, parallel=ParallelOptions(gpus, split))
    sidecar = tmp_path / "clip.json"
    data = {"app": APP_NAME, "app_version": "1", "request": request.to_dict(), "device": "cuda", "dtype": "bfloat16"}
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    return sidecar


def test_a_clip_from_more_gpus_runs_on_those_present(tmp_path: Path) -> None:
    settings = read_clip_settings(made_on(tmp_path, 4, Split.ULYSSES))
    assert settings.request.parallel == ParallelOptions(4, Split.ULYSSES)
    [note] = settings_notes(settings, None, cuda(2))
    assert (note.kind, note.option, note.recorded, note.fallback) == (NoteKind.UNAVAILABLE, "parallel", "4", "2")
    assert note.message == "Made on 4 GPUs; this machine has 2. Runs with parallel 2 instead."
    runnable = runnable_request(settings, cuda(2))
    assert runnable.parallel == ParallelOptions(2, Split.ULYSSES)  # the split still applies
    assert resolve_split(runnable, cuda(2)).layout.world == 2
    assert (runnable.seed, runnable.prompt) == (5, "a kite")
    assert settings_notes(settings, None, cuda(4)) == [] and runnable_request(settings, cuda(8)) == settings.request


def test_a_split_that_no_longer_applies_becomes_auto(tmp_path: Path) -> None:
    settings = read_clip_settings(made_on(tmp_path, 4, Split.GUIDANCE))
    [note] = settings_notes(settings, None, cuda(3))
    assert "The guidance split cannot run on 3, so the split is chosen automatically." in note.message
    assert runnable_request(settings, cuda(3)).parallel == ParallelOptions(3, Split.AUTO)


def test_no_gpu_runs_it_on_one_device(tmp_path: Path) -> None:
    settings = read_clip_settings(made_on(tmp_path, 2, Split.GUIDANCE))
    notes = settings_notes(settings, None, CPU)
    parallel = [n for n in notes if n.option == "parallel"]
    expected = "Made on 2 GPUs; this machine has no CUDA GPU. Runs with parallel 1 instead."
    assert [n.message for n in parallel] == [expected]
    assert any(n.kind is NoteKind.OTHER_DEVICE for n in notes)  # and on the CPU, not CUDA
    runnable = runnable_request(settings, CPU)
    assert runnable.parallel == ParallelOptions() and "parallel" not in runnable.to_dict()
    assert runnable_request(settings, cuda(1)).parallel == ParallelOptions()


def test_processes_on_a_cpu_asked_for_by_name_are_kept() -> None:
    request = GenerationRequest("x", seed=1, memory=MemoryOptions(device="cpu"), parallel=ParallelOptions(2))
    assert make_runnable(request, CPU) == (request, [])


def test_a_count_given_explicitly_is_kept_for_the_jobs_own_check() -> None:
    request = GenerationRequest("x", seed=1, parallel=ParallelOptions(4))
    kept, notes = make_runnable(request, cuda(2), keep={"parallel"})
    assert kept.parallel.gpus == 4 and notes == []
