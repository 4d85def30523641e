"""Jobs split over 2 CPU processes joined over gloo (core/parallel/ranks.py): the guidance split gives one process's
frames,
the ranks stay loaded between jobs, cancel stops every rank at the same step, a killed rank ends the job with one
line and nothing published, and a 2-node torchrun launch over 127.0.0.1 writes the clip once."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.engine.runner import Engine
from core.errors import EXIT_RANK, JobCancelled, RankFailedError, exit_code
from core.job.progress import CancelToken, ProgressSink, Stage, StepProgress
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, ParallelOptions, Split
from core.parallel.ranks import ParallelEngine
from tests.ranks_harness import free_port

ROOT = Path(__file__).resolve().parents[1]
GUIDANCE_2 = ParallelOptions(gpus=2, split=Split.GUIDANCE)
# The default max_sequence_length (256) gives 77 + 256 = 333 text tokens: an odd length.


def tiny_request(**overrides) -> GenerationRequest:
    base = GenerationRequest(
        prompt="a lighthouse at dusk",
        width=80,
        height=48,
        num_frames=9,
        steps=3,
        seed=11,
        memory=MemoryOptions(device="cpu", dtype="float32"),
    )
    return dataclasses.replace(base, **overrides)


def png_frames(folder: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p)).astype(np.int16) for p in sorted(folder.glob("*.png"))])


@pytest.fixture(scope="module")
def odd_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 attention heads: a head count 2 ranks cannot divide."""
    from core.model.demo import make_demo_model

    return make_demo_model(
        tmp_path_factory.mktemp("odd") / "three-heads", transformer_overrides={"num_attention_heads": 3}
    )


@pytest.fixture(scope="module")
def parallel():
    engine = ParallelEngine(collective_timeout=timedelta(seconds=60))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def one_process_frames(odd_model: Path, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    folder = tmp_path_factory.mktemp("one")
    Engine().generate(odd_model, tiny_request(), OutputOptions(folder / "one.mp4", frames_dir=folder / "frames"))
    return png_frames(folder / "frames")


def test_demo_model_keeps_the_inner_width_consistent(odd_model):
    import json

    config = json.loads((odd_model / "transformer" / "config.json").read_text())
    assert config["num_attention_heads"] == 3
    assert config["caption_projection_dim"] == 3 * config["attention_head_dim"]


def test_guidance_split_gives_one_process_frames(parallel, odd_model, one_process_frames, tmp_path):
    stages: list[Stage] = []
    steps: list[StepProgress] = []
    request = tiny_request(parallel=GUIDANCE_2)
    output = OutputOptions(tmp_path / "two.mp4", frames_dir=tmp_path / "frames")
    result = parallel.generate(odd_model, request, output, ProgressSink(stages.append, steps.append))

    assert result.video_path == tmp_path / "two.mp4" and result.video_path.exists()
    assert stages == [Stage.LOADING, Stage.ENCODING, Stage.DENOISING, Stage.DECODING, Stage.SAVING]
    assert [s.step for s in steps] == [1, 2, 3]
    frames = png_frames(tmp_path / "frames")
    assert frames.shape == one_process_frames.shape
    assert int(np.abs(frames - one_process_frames).max()) <= 1  # within 1/255
    assert parallel.last_split is not None and parallel.last_split.layout.splits_guidance
    assert parallel.rank_loads == [1, 1]


def test_second_job_reuses_the_loaded_ranks(parallel, odd_model, tmp_path):
    first = parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2), OutputOptions(tmp_path / "a.mp4"))
    pids, loads = parallel.rank_pids, parallel.rank_loads
    second = parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2, seed=12), OutputOptions(tmp_path / "b.mp4"))
    assert first.video_path.exists() and second.video_path.exists()
    assert parallel.rank_pids == pids  # the same processes
    assert parallel.rank_loads == loads  # and neither loaded the model again
    assert parallel.loaded_key is not None


def test_cancel_from_a_thread_stops_both_ranks_at_one_step(parallel, odd_model, tmp_path):
    cancel = CancelToken()
    first_step = threading.Event()
    steps: list[int] = []

    def on_step(progress: StepProgress) -> None:
        steps.append(progress.step)
        first_step.set()

    canceller = threading.Thread(target=lambda: first_step.wait(120) and cancel.cancel(), daemon=True)
    canceller.start()
    request = tiny_request(parallel=GUIDANCE_2, steps=400)
    with pytest.raises(JobCancelled):
        parallel.generate(odd_model, request, OutputOptions(tmp_path / "c.mp4"), ProgressSink(on_step=on_step), cancel)
    canceller.join()
    assert steps and steps[-1] < 400
    assert not (tmp_path / "c.mp4").exists() and not list(tmp_path.iterdir())  # nothing published, nothing left
    # Both ranks are alive, idle and still in step: the next job runs on them, without loading again.
    pids, loads = parallel.rank_pids, parallel.rank_loads
    assert len(pids) == 2
    after = parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2), OutputOptions(tmp_path / "d.mp4"))
    assert after.video_path.exists()
    assert parallel.rank_pids == pids and parallel.rank_loads == loads


def test_a_killed_rank_ends_the_job_and_nothing_is_published(parallel, odd_model, tmp_path):
    parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2), OutputOptions(tmp_path / "warm.mp4"))
    victim = parallel.rank_pids[1]
    outputs = tmp_path / "out"
    outputs.mkdir()

    def on_step(progress: StepProgress) -> None:
        if progress.step == 2:
            os.kill(victim, signal.SIGKILL)

    request = tiny_request(parallel=GUIDANCE_2, steps=400)
    output = OutputOptions(outputs / "killed.mp4", frames_dir=outputs / "frames")
    with pytest.raises(RankFailedError) as caught:
        parallel.generate(odd_model, request, output, ProgressSink(on_step=on_step))
    error = caught.value
    assert error.rank == 1 and error.exit_status == -signal.SIGKILL
    assert "Rank 1" in error.message and "SIGKILL" in error.message and "\n" not in error.message
    assert exit_code(error.kind) == EXIT_RANK != 0
    assert list(outputs.iterdir()) == []  # no clip, no reservation, no partial file
    assert parallel.rank_pids == [] and parallel.loaded_key is None  # every rank was stopped

    # The next job starts fresh ranks.
    again = parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2), OutputOptions(outputs / "again.mp4"))
    assert again.video_path.exists()
    assert victim not in parallel.rank_pids and parallel.rank_loads == [1, 1]


def test_a_rank_lost_between_jobs_is_replaced_without_failing_the_next(parallel, odd_model, tmp_path):
    """A rank that ended while idle (the out-of-memory killer, say) is not the next job's failure: it runs on fresh
    ranks."""
    parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2), OutputOptions(tmp_path / "before.mp4"))
    victim = parallel.rank_pids[1]
    os.kill(victim, signal.SIGKILL)
    from multiprocessing.connection import wait

    assert wait([parallel._ranks.processes[1].sentinel], timeout=60)  # it is gone before the next job starts
    result = parallel.generate(odd_model, tiny_request(parallel=GUIDANCE_2), OutputOptions(tmp_path / "after.mp4"))
    assert result.video_path.exists()
    assert victim not in parallel.rank_pids and parallel.rank_loads == [1, 1]


def test_two_nodes_under_torchrun_write_the_clip_once(odd_model, one_process_frames, tmp_path):
    port = free_port()
    video, frames = tmp_path / "nodes.mp4", tmp_path / "frames"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    job = [
        "generate",
        "--model", str(odd_model), "--prompt", "a lighthouse at dusk",
        "--width", "80", "--height", "48", "--frames", "9", "--steps", "3", "--seed", "11",
        "--device", "cpu", "--dtype", "float32", "--parallel", "2", "--split", "guidance",
        "--output", str(video), "--save-frames", str(frames), "--data-dir", str(tmp_path / "data"),
    ]  # fmt: skip

    def launch(node: int) -> list[str]:
        return [
            sys.executable, "-m", "torch.distributed.run",
            "--nnodes", "2", "--nproc-per-node", "1", "--node-rank", str(node),
            "--master-addr", "127.0.0.1", "--master-port", str(port),
            str(ROOT / "main.py"), *job,
        ]  # fmt: skip

    nodes = [
        subprocess.Popen(launch(node), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for node in (0, 1)
    ]
    outputs = [node.communicate(timeout=300) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    leader_out, follower_out = outputs[0][0], outputs[1][0]
    assert str(video) in leader_out and follower_out == ""  # rank 0 prints, rank 1 says nothing
    assert "split: guidance" in outputs[0][1]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["frames", "nodes.json", "nodes.mp4"]
    assert int(np.abs(png_frames(frames) - one_process_frames).max()) <= 1
