"""The `generate` command line contract, run as a user runs it: a real subprocess of main.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.output.png_frames import read_frame_parameters
from core.output.video import read_mp4_comment, read_mp4_frames, read_png_frames

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--width", "80", "--height", "48", "--frames", "9", "--steps", "2"]


def run_main(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_generate_writes_video_sidecar_metadata_and_frames(tmp_path, tiny_model):
    out = tmp_path / "clip.mp4"
    proc = run_main(
        "generate",
        "--model",
        str(tiny_model),
        "--prompt",
        "a red kite over the sea",
        *TINY,
        "--seed",
        "7",
        "--fps",
        "12",
        "--save-frames",
        str(tmp_path / "frames"),
        "--output",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(out), "seed: 7"]
    # progress bar on stderr: every stage, and the last step
    for stage in ("loading", "encoding", "denoising", "decoding", "saving"):
        assert stage in proc.stderr
    assert "2/2" in proc.stderr

    frames = read_mp4_frames(out)
    assert frames.shape == (9, 48, 80, 3)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["request"]["seed"] == 7 and sidecar["request"]["fps"] == 12
    assert sidecar["request"]["prompt"] == "a red kite over the sea"
    assert read_mp4_comment(out) == sidecar  # the mp4 carries the same parameters
    pngs = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert pngs == [*(f"frame_{i:05d}.png" for i in range(9)), "parameters.json"]
    # The frames carry the clip's parameters as an exported PNG folder does: in each frame and beside them.
    assert json.loads((tmp_path / "frames" / "parameters.json").read_text(encoding="utf-8")) == sidecar
    assert read_frame_parameters(tmp_path / "frames" / "frame_00004.png") == sidecar
    assert read_png_frames(tmp_path / "frames").shape == (9, 48, 80, 3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_random_seed_is_printed_recorded_and_reproducible(tmp_path, tiny_model):
    first = run_main(
        "generate", "--model", str(tiny_model), "--prompt", "waves", *TINY, "--output", str(tmp_path / "a.mp4")
    )
    assert first.returncode == 0, first.stderr
    seed = int(first.stdout.splitlines()[1].removeprefix("seed: "))
    assert f"seed: {seed} (random)" in first.stderr
    assert json.loads((tmp_path / "a.json").read_text())["request"]["seed"] == seed
    again = run_main(
        "generate",
        "--model",
        str(tiny_model),
        "--prompt",
        "waves",
        *TINY,
        "--seed",
        str(seed),
        "--output",
        str(tmp_path / "b.mp4"),
    )
    assert again.returncode == 0, again.stderr
    assert (read_mp4_frames(tmp_path / "a.mp4") == read_mp4_frames(tmp_path / "b.mp4")).all()


def test_frame_count_rounds_down_to_4k_plus_1_with_a_note(tmp_path, tiny_model):
    out = tmp_path / "c.mp4"
    proc = run_main(
        "generate",
        "--model",
        str(tiny_model),
        "--prompt",
        "x",
        "--width",
        "80",
        "--height",
        "48",
        "--frames",
        "12",
        "--steps",
        "1",
        "--seed",
        "1",
        "--output",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "generating 13 frames" in proc.stderr  # the official rounding: 12 // 4 * 4 + 1
    assert read_mp4_frames(out).shape[0] == 13


BAD_INPUTS = [
    (["--prompt", "   "], "prompt is empty"),
    (["--prompt", "x", "--width", "100"], "multiple of 16"),
    (["--prompt", "x", "--height", "50"], "multiple of 16"),
    (["--prompt", "x", "--frames", "0"], "at least 1"),
    (["--prompt", "x", "--steps", "0"], "steps must be at least 1"),
    (["--prompt", "x", "--guidance", "-1"], "cannot be negative"),
    (["--prompt", "x", "--seed", "-5"], "seed must be"),
    (["--prompt", "x", "--guidance", "inf"], "not a finite number"),
    (["--prompt", "x", "--guidance", "nan"], "not a finite number"),
    (["--prompt", "x", "--frames", "many"], "not a whole number"),
    (["--prompt", "x", "--device", "tpu"], "invalid choice"),
    (["--prompt", "x", "--device", "cuda"], "CUDA GPU"),
    (["--prompt", "x", "--offload", "model"], "no GPU"),
    (["--prompt", "x", "--offload", "streamed"], "no GPU"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_exits_with_one_clear_line_and_no_file(tmp_path, tiny_model, extra, message):
    try:
        import torch

        if torch.cuda.is_available() and "GPU" in message:
            pytest.skip("this machine has the GPU the case says is missing")
    except ImportError:  # pragma: no cover
        pass
    out = tmp_path / "out.mp4"
    proc = run_main("generate", "--model", str(tiny_model), *extra, "--output", str(out))
    assert proc.returncode == 2  # bad input, refused before anything loads
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_and_broken_model_folders_are_named(tmp_path, broken_model):
    proc = run_main(
        "generate", "--model", str(tmp_path / "nowhere"), "--prompt", "x", "--output", str(tmp_path / "o.mp4")
    )
    assert proc.returncode == 3 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr

    (broken_model / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    weights = broken_model / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])  # a truncated download
    proc = run_main("generate", "--model", str(broken_model), "--prompt", "x", "--output", str(tmp_path / "o.mp4"))
    assert proc.returncode == 3
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "vae (Wan2.1 VAE) has no weight file" in line
    assert "transformer (3D MMDiT) weight file diffusion_pytorch_model.safetensors is truncated" in line
    assert not (tmp_path / "o.mp4").exists()


def test_existing_output_is_never_overwritten(tmp_path, tiny_model):
    out = tmp_path / "taken.mp4"
    out.write_bytes(b"precious")
    proc = run_main("generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--output", str(out))
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert out.read_bytes() == b"precious"
    # An existing sidecar of that name is refused up front too, before the job runs.
    free = tmp_path / "free.mp4"
    (tmp_path / "free.json").write_text("{}")
    proc = run_main("generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--output", str(free))
    assert proc.returncode == 2 and "free.json already exists" in proc.stderr and "loading" not in proc.stderr
    assert not free.exists() and (tmp_path / "free.json").read_text() == "{}"


def test_unwritable_output_folder(tmp_path, tiny_model):
    proc = run_main(
        "generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--output", str(tmp_path / "no" / "o.mp4")
    )
    assert proc.returncode != 0 and "does not exist" in proc.stderr
    proc = run_main("generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--output", str(tmp_path / "o.avi"))
    assert proc.returncode != 0 and ".mp4" in proc.stderr


def test_make_demo_model_then_generate(tmp_path):
    model = tmp_path / "demo"
    made = run_main("make-demo-model", str(model))
    assert made.returncode == 0, made.stderr
    assert (model / "model_index.json").is_file()
    again = run_main("make-demo-model", str(model))
    assert again.returncode != 0 and "not empty" in again.stderr and "Traceback" not in again.stderr
    gen = run_main(
        "generate", "--model", str(model), "--prompt", "x", *TINY, "--seed", "3", "--output", str(tmp_path / "d.mp4")
    )
    assert gen.returncode == 0, gen.stderr


def test_help_lists_the_whole_contract():
    proc = run_main("generate", "--help")
    assert proc.returncode == 0
    for flag in (
        "--model",
        "--prompt",
        "--negative-prompt",
        "--width",
        "--height",
        "--frames",
        "--fps",
        "--steps",
        "--guidance",
        "--seed",
        "--device",
        "--dtype",
        "--offload",
        "--vae-slicing",
        "--vae-tiling",
        "--attention-slicing",
        "--quantize",
        "--output",
        "--save-frames",
    ):
        assert flag in proc.stdout


def test_a_full_disk_exits_5_with_one_line_and_leaves_nothing(tmp_path, tiny_model):
    """A real small tmpfs where the machine allows mounting one (root); the encoder's failure is noticed."""
    small = tmp_path / "small"
    small.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(small)], capture_output=True)
    if mount.returncode:
        pytest.skip("cannot mount a tmpfs here (tests/test_outputs_atomic.py injects ENOSPC instead)")
    try:
        proc = run_main(
            "generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--seed", "1",
            "--width", "256", "--height", "256", "--output", str(small / "full.mp4"),
        )  # fmt: skip
        assert proc.returncode == 5, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("error: The disk is full") and "Traceback" not in proc.stderr
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_speed_flags_reach_the_request():
    from core.cli import build_parser, request_from_args
    from core.job.request import GuidanceBatching, SpeedOptions, StepCache

    base = ["generate", "--model", "m", "--prompt", "p", "--output", "o.mp4"]
    assert request_from_args(build_parser().parse_args(base)).speed == SpeedOptions()
    flags = ["--attention", "cudnn", "--step-cache", "faster", "--guidance-batching", "auto", "--compile"]
    speed = request_from_args(build_parser().parse_args(base + flags)).speed
    assert speed == SpeedOptions("cudnn", StepCache.FASTER, GuidanceBatching.AUTO, compile=True)
