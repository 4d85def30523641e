"""Faults end in a whole result or one clear line with a distinct exit status: non-finite values, NaN weights,
unreadable model folders, pickle weights, SIGTERM, interrupts after publishing, damaged history at --smoke."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core import cli
from core.errors import (
    EXIT_CODES,
    FailureKind,
    InvalidRequestError,
    ModelFolderError,
    NonFiniteError,
    OutOfMemoryError,
    OutputError,
)
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions
from core.model.checkpoint import inspect_model_folder

ROOT = Path(__file__).resolve().parents[1]
CPU = MemoryOptions(device="cpu", dtype="float32")
TINY = ["--width", "80", "--height", "48", "--frames", "9", "--steps", "2"]


def tiny_request(**overrides) -> GenerationRequest:
    base = GenerationRequest(prompt="a lighthouse", width=80, height=48, num_frames=9, steps=2, seed=1, memory=CPU)
    import dataclasses

    return dataclasses.replace(base, **overrides)


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


# ---- exit codes ----------------------------------------------------------------------------------------------
def test_exit_codes_are_distinct_and_documented():
    assert EXIT_CODES[FailureKind.BAD_INPUT] == 2
    assert EXIT_CODES[FailureKind.MODEL_FOLDER] == 3
    assert EXIT_CODES[FailureKind.OUT_OF_MEMORY] == 4
    assert EXIT_CODES[FailureKind.OUTPUT] == 5
    assert EXIT_CODES[FailureKind.CANCELLED] == 130
    assert EXIT_CODES[FailureKind.INTERNAL] == 1
    assert set(FailureKind) <= set(EXIT_CODES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Exit codes") :]
    for code in (0, 1, 2, 3, 4, 5, 130):
        assert f"| {code} |" in table


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (OutOfMemoryError("The GPU ran out of memory.", "Try model offload."), 4, "ran out of memory"),
        (OutputError("The disk is full: the clip could not be written; nothing was saved."), 5, "disk is full"),
        (NonFiniteError("The denoised latents hold NaN or infinity: damaged weights."), 3, "NaN"),
        (ModelFolderError("Loading the model failed:\nline two"), 3, "Loading the model failed: line two"),
        (MemoryError(), 4, "system memory"),
        (RuntimeError("something odd\nsecond line"), 1, "unexpected RuntimeError: something odd second line"),
    ],
)
def test_each_failure_after_loading_has_its_exit_status_and_one_line(
    tiny_model, tmp_path, monkeypatch, raised, code, words
):
    import core.engine.runner

    def failing(self, *args, **kwargs):
        raise raised

    monkeypatch.setattr(core.engine.runner.Engine, "generate", failing)
    status, _, err = run_cli(
        "generate",
        "--model",
        str(tiny_model),
        "--prompt",
        "x",
        *TINY,
        "--seed",
        "1",
        "--output",
        str(tmp_path / "o.mp4"),
    )
    assert status == code
    assert len(err.strip().splitlines()) == 1 and words in err, err
    if code == 1:  # the traceback went to a log file named in the line
        log = Path(err.split("details in ")[1].rstrip(")\n"))
        assert "Traceback" in log.read_text() and "something odd" in log.read_text()
        log.unlink()


# ---- non-finite values -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [
        {"guidance": float("inf")},
        {"guidance": float("nan")},
        {"guidance": float("-inf")},
        {"width": float("inf")},
        {"height": float("nan")},
        {"num_frames": 9.0},
        {"seed": float("nan")},
        {"seed": True},
        {"steps": float("inf")},
    ],
)
def test_non_finite_or_non_whole_values_are_refused(overrides):
    with pytest.raises(InvalidRequestError):
        tiny_request(**overrides).validate()


@pytest.fixture
def nan_model(tiny_model, tmp_path) -> Path:
    """The tiny model with one transformer weight full of NaN: a valid header, damaged numbers."""
    import torch
    from safetensors.torch import load_file, save_file

    model = tmp_path / "nan-model"
    shutil.copytree(tiny_model, model)
    weights = model / "transformer" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(weights)
    name = next(k for k in tensors if k.endswith("proj_out.weight"))
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, weights)
    return model


def test_nan_weights_end_the_job_with_a_clear_error_and_nothing_written(nan_model, tmp_path):
    from core.engine.runner import Engine

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NonFiniteError, match=r"NaN or infinity.*damaged") as caught:
        Engine().generate(nan_model, tiny_request(), OutputOptions(out / "black.mp4", frames_dir=out / "f"))
    assert caught.value.kind is FailureKind.NON_FINITE
    assert list(out.iterdir()) == []  # no black clip, no sidecar, no temporary file, no reservation


def test_float16_overflow_is_named_as_a_likely_cause():
    from core.engine.devices import ResolvedDevice
    from core.engine.runner import _refuse_non_finite

    resolved = ResolvedDevice.__new__(ResolvedDevice)
    object.__setattr__(resolved, "dtype_name", "float16")
    with pytest.raises(NonFiniteError, match="float16 overflowed"):
        _refuse_non_finite(False, "decoded frames", resolved)


# ---- unreadable folders and files ---------------------------------------------------------------------------
def deny_reads(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """What chmod 000 does for a normal user (tests run as root, who reads whatever the mode says)."""
    if os.geteuid() != 0:
        folder.chmod(0)
        return
    real_listdir, real_iterdir, real_open = os.listdir, Path.iterdir, Path.open

    def denied(path: object) -> bool:
        return Path(str(path)) == folder or folder in Path(str(path)).parents

    def listdir(path="."):
        if denied(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    def iterdir(self):
        if denied(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    def open_(self, *args, **kwargs):
        if denied(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(Path, "iterdir", iterdir)
    monkeypatch.setattr(Path, "open", open_)


def test_an_unreadable_component_folder_is_named_not_a_traceback(tiny_model, tmp_path, monkeypatch):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    deny_reads(monkeypatch, model / "text_encoder_3")
    report = inspect_model_folder(model)  # the window's "Checking the folder…" gets a report, so it ends
    assert not report.ok
    assert any("unreadable (permission denied)" in p for p in report.problems), report.problems
    status, _, err = run_cli(
        "generate", "--model", str(model), "--prompt", "x", *TINY, "--output", str(tmp_path / "o.mp4")
    )
    assert status == 3 and "unreadable (permission denied)" in err and len(err.strip().splitlines()) == 1


def test_an_unreadable_weight_file_and_folder_are_named(tiny_model, tmp_path, monkeypatch):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    deny_reads(monkeypatch, model / "vae" / "diffusion_pytorch_model.safetensors")
    assert any("unreadable" in p for p in inspect_model_folder(model).problems)
    monkeypatch.undo()
    deny_reads(monkeypatch, model)
    assert inspect_model_folder(model).problems == ("the folder is unreadable (permission denied)",)


class _Payload:
    def __reduce__(self):
        return (print, ("this pickle runs code",))


def test_a_pickle_that_is_not_plain_weights_is_refused_without_a_traceback(tiny_model, tmp_path):
    from core.engine.runner import Engine

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    folder = model / "text_encoder"
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"weight": _Payload()}))
    with pytest.raises(ModelFolderError) as caught:
        Engine().load(model, CPU)
    text = str(caught.value)
    assert "pickle" in text and "safetensors" in text
    assert "weights_only" not in text and "\n" not in text


# ---- signals and interrupts ------------------------------------------------------------------------------------
def test_sigterm_is_handled_like_ctrl_c(tiny_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    long_job = ["--width", "80", "--height", "48", "--frames", "9", "--steps", "400", "--seed", "1"]
    long_job += ["--output", str(out / "t.mp4")]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "generate", "--model", str(tiny_model), "--prompt", "x", *long_job],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "/400" in line:  # denoising has begun
            break
    proc.send_signal(signal.SIGTERM)  # stops the job at the end of its step, with a journal snapshot there
    rest = proc.stderr.read()
    assert proc.wait(300) == 130
    last = rest.strip().splitlines()[-1]  # one line: why it ended, and how to continue it
    assert last.startswith("cancelled: The job was cancelled; nothing was written; stopped after step "), rest
    assert "/400" not in last and "continue with main.py resume cli-" in last
    assert "Traceback" not in rest
    assert list(out.iterdir()) == []


def test_an_interrupt_after_publishing_says_truthfully_what_was_written(tiny_model, tmp_path, monkeypatch):
    import core.engine.runner

    real = core.engine.runner.Engine.generate

    def published_then_interrupted(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(core.engine.runner.Engine, "generate", published_then_interrupted)
    out = tmp_path / "o.mp4"
    status, _, err = run_cli("generate", "--model", str(tiny_model), "--prompt", "x", *TINY, "--output", str(out))
    assert status == 130
    last = err.strip().splitlines()[-1]
    assert "nothing was written" not in last
    assert "already saved" in last and str(out) in last and str(out.with_suffix(".json")) in last


# ---- the window's history at --smoke ---------------------------------------------------------------------------
def test_smoke_with_a_damaged_history_does_not_block(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "history.sqlite3").write_bytes(b"not a database at all" * 200)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--smoke", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    kept = [p for p in data.iterdir() if p.name.startswith("history.sqlite3.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == b"not a database at all" * 200


def test_sigterm_closes_the_window_cleanly(tmp_path):
    import time

    data = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = data / "logs" / "contentv-studio.log"
    deadline = time.monotonic() + 600  # only when the window never starts
    while time.monotonic() < deadline and not (log.exists() and "Event loop running" in log.read_text()):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(300) == 130
    assert "Terminated by a signal" in log.read_text()
    assert not (data / ".instance.lock").exists()  # shut down, not killed: the folder lock was released
