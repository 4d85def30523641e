"""Jobs split along the sequence (Ulysses, ring) over 2 CPU processes joined over gloo, end to end through
`ParallelEngine`: each gives the one-process frames, with the First-Block step cache on every rank skips the same
steps (those one process skips), and a split job cancelled after a snapshot continues from its journal, split, to
the uninterrupted split job's frames.

The model has 3 attention heads (2 ranks cannot divide them) and the default text length 77 + 256 = 333 (odd).
One ParallelEngine per layout, kept for the module: each start spawns 2 ranks that load the model."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from core.engine.runner import Engine
from core.errors import JobCancelled
from core.job.progress import CancelToken, ProgressSink, StepProgress
from core.job.request import OutputOptions, ParallelOptions, SpeedOptions, Split, StepCache
from core.parallel.ranks import ParallelEngine
from core.store.journal import JournalOptions, find_journal
from tests.test_ranks import png_frames, tiny_request

ULYSSES_2 = ParallelOptions(gpus=2, split=Split.ULYSSES)
RING_2 = ParallelOptions(gpus=2, split=Split.RING)
CACHE_STEPS = 8
FIRST_BLOCK = SpeedOptions(step_cache=StepCache.FAST)  # without a calibration: the First-Block cache


@pytest.fixture(scope="module")
def odd_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 attention heads: a head count 2 ranks cannot divide."""
    from core.model.demo import make_demo_model

    return make_demo_model(
        tmp_path_factory.mktemp("odd") / "three-heads", transformer_overrides={"num_attention_heads": 3}
    )


@pytest.fixture(scope="module")
def calm_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3-head model with a timestep embedding that ignores the timestep (its last layer's weights are zero, its
    bias stays). Random weights otherwise change the first block's output by 30-40 % a step, far above the
    First-Block cache's 5 %, so it never skips; here the change per step is a few percent and grows after each
    skipped step, so over 8 steps the cache skips some steps and computes others."""
    from safetensors.torch import load_file, save_file

    from core.model.demo import make_demo_model

    model = make_demo_model(
        tmp_path_factory.mktemp("calm") / "three-heads", transformer_overrides={"num_attention_heads": 3}
    )
    weights = model / "transformer" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(weights)
    tensors["time_text_embed.timestep_embedder.linear_2.weight"].zero_()
    save_file(tensors, weights, metadata={"format": "pt"})
    return model


@pytest.fixture(scope="module")
def one_process_frames(odd_model: Path, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    folder = tmp_path_factory.mktemp("one")
    Engine().generate(odd_model, tiny_request(), OutputOptions(folder / "one.mp4", frames_dir=folder / "frames"))
    return png_frames(folder / "frames")


@pytest.fixture(scope="module")
def one_process_skips(calm_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, np.ndarray]:
    """The steps one process's First-Block cache skips, per branch, and its frames."""
    folder = tmp_path_factory.mktemp("one-cached")
    engine = Engine()
    request = tiny_request(steps=CACHE_STEPS, speed=FIRST_BLOCK)
    engine.generate(calm_model, request, OutputOptions(folder / "one.mp4", frames_dir=folder / "frames"))
    report = engine.last_speed_report
    assert report is not None and report.step_cache_method == "first-block"
    return report.skipped_steps, png_frames(folder / "frames")


@pytest.fixture(scope="module")
def ulysses():
    engine = ParallelEngine(collective_timeout=timedelta(seconds=60))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def ring():
    engine = ParallelEngine(collective_timeout=timedelta(seconds=60))
    yield engine
    engine.close()


def split_frames(engine: ParallelEngine, model: Path, folder: Path, **overrides) -> np.ndarray:
    request = tiny_request(**overrides)
    folder.mkdir(exist_ok=True)
    engine.generate(model, request, OutputOptions(folder / "two.mp4", frames_dir=folder / "frames"))
    return png_frames(folder / "frames")


def max_difference(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape
    return int(np.abs(a - b).max())


@pytest.mark.parametrize(("split", "kind"), [(ULYSSES_2, "ulysses"), (RING_2, "ring")], ids=["ulysses", "ring"])
def test_sequence_split_gives_one_process_frames(request, split, kind, odd_model, one_process_frames, tmp_path):
    engine: ParallelEngine = request.getfixturevalue(kind)
    frames = split_frames(engine, odd_model, tmp_path, parallel=split)
    difference = max_difference(frames, one_process_frames)
    print(f"{kind}: max frame difference against one process {difference}/255")
    assert difference <= 1  # within 1/255
    assert engine.last_split is not None and engine.last_split.layout.splits_sequence
    assert engine.last_split.layout.sequence_kind == kind and not engine.last_split.layout.splits_guidance
    assert engine.rank_loads == [1, 1]
    metadata = json.loads((tmp_path / "two.json").read_text())
    assert metadata["split"] == engine.last_split.layout.describe()


@pytest.mark.parametrize(("split", "kind"), [(ULYSSES_2, "ulysses"), (RING_2, "ring")], ids=["ulysses", "ring"])
def test_first_block_cache_skips_the_same_steps_on_every_rank(
    request, split, kind, calm_model, one_process_skips, tmp_path
):
    engine: ParallelEngine = request.getfixturevalue(kind)
    expected_skips, expected_frames = one_process_skips
    frames = split_frames(engine, calm_model, tmp_path, parallel=split, steps=CACHE_STEPS, speed=FIRST_BLOCK)
    rank0, rank1 = engine.rank_skipped_steps
    print(f"{kind}: skipped steps per rank {engine.rank_skipped_steps}; one process {expected_skips}")
    assert rank0 == rank1 == expected_skips
    # The cache both skipped and computed, in each branch: the decisions were really taken.
    for branch in ("cond", "uncond"):
        assert 0 < len(rank0[branch]) < CACHE_STEPS - 1  # (the first step always computes)
    metadata = json.loads((tmp_path / "two.json").read_text())
    assert metadata["speed"]["step_cache_method"] == "first-block"
    assert max_difference(frames, expected_frames) <= 1  # the same skips: the same clip


def cancel_at(step: int) -> tuple[ProgressSink, CancelToken, list[int]]:
    """Cancel once step `step` is reported; the ranks agree on it before a later step (the next one, unless the
    machine is slow to relay the report)."""
    cancel = CancelToken()
    seen: list[int] = []

    def on_step(progress: StepProgress) -> None:
        seen.append(progress.step)
        if progress.step == step:
            cancel.cancel()

    return ProgressSink(on_step=on_step), cancel, seen


@pytest.mark.parametrize("cache", [StepCache.OFF, StepCache.FAST], ids=["cache-off", "first-block"])
def test_cancelled_split_job_resumes_split_from_its_journal(ulysses, calm_model, cache, tmp_path):
    steps = CACHE_STEPS
    speed = SpeedOptions(step_cache=cache)
    request = tiny_request(parallel=ULYSSES_2, steps=steps, speed=speed)
    whole = split_frames(ulysses, calm_model, tmp_path / "whole", parallel=ULYSSES_2, steps=steps, speed=speed)
    whole_skips = ulysses.rank_skipped_steps

    journal = JournalOptions(tmp_path / "jobs", "split-job", snapshot_every=1)
    output = OutputOptions(tmp_path / "resumed.mp4", frames_dir=tmp_path / "resumed-png")
    sink, cancel, seen = cancel_at(2)
    with pytest.raises(JobCancelled):
        ulysses.generate(calm_model, request, output, sink, cancel, journal)
    kept = ulysses.last_journal
    assert kept is not None and kept.kept and 2 <= kept.step < steps
    assert seen[-1] == kept.step  # the last step any rank ran is the one the journal holds
    assert not (tmp_path / "resumed.mp4").exists() and not (tmp_path / "resumed-png").exists()
    stored = find_journal("split-job", tmp_path / "jobs")
    assert stored is not None and stored.snapshot_steps()[-1] == kept.step

    resumed_steps: list[int] = []
    pids = ulysses.rank_pids
    result = ulysses.generate(
        calm_model, request, output, ProgressSink(on_step=lambda p: resumed_steps.append(p.step)), journal=journal
    )
    assert ulysses.rank_pids == pids  # on the same, still loaded ranks
    assert resumed_steps == list(range(kept.step + 1, steps + 1))  # from the snapshot on, not from step 0
    assert ulysses.last_journal is not None and not ulysses.last_journal.kept  # done: the journal is gone
    assert find_journal("split-job", tmp_path / "jobs") is None
    metadata = json.loads(result.sidecar_path.read_text())
    assert metadata["resumed_from_step"] == kept.step and metadata["split"] == "ulysses ×2"
    assert any(f"Continued from step {kept.step} of {steps}." == note for note in result.notes)
    resumed = png_frames(tmp_path / "resumed-png")
    difference = max_difference(resumed, whole)
    print(f"resume ({cache.value}) after step {kept.step}: max difference {difference}/255; skips {whole_skips}")
    if cache is StepCache.OFF:
        assert difference == 0  # the very clip of the uninterrupted split job
        assert not any("step cache" in note for note in result.notes)
    else:
        # Each rank holds only its shard's cache state, so a split job's cache restarts at the resumed step: close
        # to the uninterrupted clip, and the result says it differs.
        assert any(note.startswith("Under a split each GPU holds only its part") for note in result.notes)
        assert not any("too large" in note for note in result.notes)
        assert ulysses.rank_skipped_steps[0] == ulysses.rank_skipped_steps[1]
        assert all(step > kept.step for steps_ in ulysses.rank_skipped_steps[0].values() for step in steps_)


def test_four_processes_split_guidance_and_tokens(odd_model, one_process_frames, tmp_path):
    """4 processes: the two guidance branches side by side, each branch's tokens over 2 processes (Ulysses, 3 heads
    over 2), the layout `auto` picks for a guided job on 4 GPUs."""
    engine = ParallelEngine(collective_timeout=timedelta(seconds=120))
    try:
        frames = split_frames(engine, odd_model, tmp_path, parallel=ParallelOptions(gpus=4, split=Split.AUTO))
        layout = engine.last_split.layout if engine.last_split is not None else None
        assert layout is not None and (layout.guidance, layout.sequence, layout.sequence_kind) == (2, 2, "ulysses")
        difference = max_difference(frames, one_process_frames)
        print(f"guidance × ulysses ×2: max frame difference against one process {difference}/255")
        assert difference <= 1
        assert engine.rank_loads == [1, 1, 1, 1]
    finally:
        engine.close()


def test_main_resume_continues_a_split_job_split(ulysses, odd_model, tmp_path):
    """`main.py resume` of a job that ran on 2 processes continues it on 2 processes (a coordinator of its own),
    from its snapshot, to the uninterrupted split job's frames."""
    import io

    from core.cli import main

    request = tiny_request(parallel=ULYSSES_2, steps=6)
    whole = split_frames(ulysses, odd_model, tmp_path / "whole", parallel=ULYSSES_2, steps=6)
    data = tmp_path / "data"
    journal = JournalOptions(data / "jobs", "split-cli", snapshot_every=1)
    output = OutputOptions(tmp_path / "clip.mp4", frames_dir=tmp_path / "clip-png")
    sink, cancel, _seen = cancel_at(2)
    with pytest.raises(JobCancelled):
        ulysses.generate(odd_model, request, output, sink, cancel, journal)
    kept = ulysses.last_journal
    assert kept is not None and kept.kept

    out, err = io.StringIO(), io.StringIO()
    assert main(["resume", "split-cli", "--data-dir", str(data)], out, err) == 0, err.getvalue()
    assert f"from step {kept.step} of 6" in err.getvalue()
    metadata = json.loads((tmp_path / "clip.json").read_text())
    assert metadata["split"] == "ulysses ×2" and metadata["resumed_from_step"] == kept.step
    assert max_difference(png_frames(tmp_path / "clip-png"), whole) == 0
