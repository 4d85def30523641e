"""The way back from a clip to its parameters: read from every place the app writes them (mp4 tag, sidecar, WebM,
GIF, PNG exports), refused with one line for anything else, notes on what this machine cannot run, and the CLI's
`info` and `generate --from` (which makes the very same frames again)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import explicit_generate_options
from core.cli import main as cli_main
from core.engine.devices import Capabilities, resolve_device
from core.errors import EXIT_BAD_INPUT, exit_code
from core.job.clip_settings import (
    ClipSettingsError,
    NoteKind,
    make_runnable,
    read_clip_settings,
    runnable_request,
    settings_notes,
)
from core.job.request import GenerationRequest, MemoryOptions, Placement, SpeedOptions
from core.model.identity import identify_model
from core.output.export import ExportFormat, ExportRequest, export_clip
from core.output.video import _ffmpeg, read_png_frames

TINY = ["--width", "80", "--height", "48", "--frames", "9", "--steps", "2"]
CPU = Capabilities(cuda=False, mps=False)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> dict[str, Path]:
    """One clip made by `generate` (with its PNG frames), and its WebM, GIF and PNG-folder exports."""
    folder = tmp_path_factory.mktemp("made")
    clip = folder / "clip.mp4"
    code, _, err = run_cli(
        "generate", "--model", str(tiny_model), "--prompt", "a red kite, 风筝", *TINY, "--seed", "7", "--fps", "12",
        "--device", "cpu",  # the same clip on any machine, GPU or not
        "--save-frames", str(folder / "frames"), "--data-dir", str(folder / "data"), "--output", str(clip),
    )  # fmt: skip
    assert code == 0, err
    paths = {"clip": clip, "sidecar": folder / "clip.json", "frames": folder / "frames", "folder": folder}
    for fmt, name in ((ExportFormat.WEBM, "clip.webm"), (ExportFormat.GIF, "clip.gif"), (ExportFormat.PNG, "png")):
        paths[fmt.value] = export_clip(ExportRequest(clip, fmt, folder / name)).output
    return paths


def _recorded(made: dict[str, Path]) -> GenerationRequest:
    return GenerationRequest.from_dict(json.loads(made["sidecar"].read_text(encoding="utf-8"))["request"])


def _strip_tags(source: Path, target: Path) -> Path:
    subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(source), "-map_metadata", "-1", "-c", "copy", str(target)], check=True
    )
    return target


# ---- reading ----------------------------------------------------------------------------------------------------
def test_reads_the_mp4_comment_tag(made: dict[str, Path], tiny_model: Path) -> None:
    settings = read_clip_settings(made["clip"])
    assert settings.request == _recorded(made)
    assert settings.request.seed == 7 and settings.request.prompt == "a red kite, 风筝" and settings.request.fps == 12
    assert settings.found_in == "the comment tag of clip.mp4" and settings.found_path == made["clip"]
    # The model by its identity, not its path; found among the folders given, not by where it was.
    assert settings.model == identify_model(tiny_model) and not settings.model.path and settings.model_dir == ""
    assert read_clip_settings(made["clip"], [tiny_model]).model_dir == str(tiny_model.resolve())
    assert (settings.device, settings.dtype, settings.frames_generated) == ("cpu", "float32", 9)
    assert settings.app_version and settings.attention_used == "sdpa"
    assert settings.source == made["clip"]


def test_sidecar_alone_when_the_tag_is_stripped(made: dict[str, Path], tmp_path: Path) -> None:
    stripped = _strip_tags(made["clip"], tmp_path / "stripped.mp4")
    with pytest.raises(ClipSettingsError, match=r"holds no ContentV Studio parameters, and there is no stripped\.json"):
        read_clip_settings(stripped)
    shutil.copy(made["sidecar"], tmp_path / "stripped.json")
    settings = read_clip_settings(stripped)
    assert settings.request == _recorded(made)
    assert settings.found_in == "the sidecar stripped.json" and settings.found_path == tmp_path / "stripped.json"


@pytest.mark.parametrize(
    ("key", "found_in"),
    [
        ("webm", "the comment tag of clip.webm"),
        ("gif", "the GIF comment of clip.gif"),
        ("png", "the file parameters.json"),
    ],
)
def test_reads_every_export(made: dict[str, Path], key: str, found_in: str) -> None:
    settings = read_clip_settings(made[key])
    assert settings.request == _recorded(made) and settings.found_in == found_in
    assert settings.device == "cpu" and settings.frames_generated == 9


def test_reads_one_exported_png_and_a_folder_without_its_json(made: dict[str, Path], tmp_path: Path) -> None:
    frame = made["png"] / "frame_00003.png"
    settings = read_clip_settings(frame)
    assert settings.request == _recorded(made) and settings.found_in == "the text chunk of frame_00003.png"
    copy = shutil.copytree(made["png"], tmp_path / "frames")
    (copy / "parameters.json").unlink()
    assert read_clip_settings(copy).found_in == "the text chunk of frame_00000.png"


@pytest.mark.parametrize("name", ["sidecar", "webm-json", "gif-json", "png-json"])
def test_reads_each_sidecar_json_directly(made: dict[str, Path], name: str) -> None:
    path = {
        "sidecar": made["sidecar"],
        "webm-json": made["folder"] / "clip.webm.json",
        "gif-json": made["folder"] / "clip.gif.json",
        "png-json": made["png"] / "parameters.json",
    }[name]
    settings = read_clip_settings(path)
    assert settings.request == _recorded(made) and settings.found_in == f"the file {path.name}"


def test_an_export_without_its_tag_falls_back_to_its_own_sidecar(made: dict[str, Path], tmp_path: Path) -> None:
    webm = _strip_tags(made["webm"], tmp_path / "out.webm")
    data = json.loads(made["sidecar"].read_text(encoding="utf-8"))
    (tmp_path / "out.webm.json").write_text(json.dumps({**data, "request": {**data["request"], "seed": 99}}))
    (tmp_path / "out.json").write_text(made["sidecar"].read_text(encoding="utf-8"))  # the mp4's, second choice
    settings = read_clip_settings(webm)
    assert settings.found_in == "the sidecar out.webm.json" and settings.request.seed == 99


def _parameters(made: dict[str, Path], **changes: object) -> dict:
    data = json.loads(made["sidecar"].read_text(encoding="utf-8"))
    request = {**data["request"], **changes.pop("request", {})}  # type: ignore[dict-item]
    return {**data, **changes, "request": request}


def _foreign_mp4(folder: Path) -> Path:
    target = folder / "foreign.mp4"
    subprocess.run(
        [_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=8", "-frames:v", "8",
         "-metadata", 'comment={"app": "Another App", "prompt": "x"}', "-pix_fmt", "yuv420p", str(target)],
        check=True,
    )  # fmt: skip
    return target


BAD_FILES = {
    "foreign mp4": (lambda m, d: _foreign_mp4(d), "holds no ContentV Studio parameters"),
    "random json": (lambda m, d: _write(d / "random.json", '{"width": 768, "seed": 1}'), "holds no ContentV Studio"),
    "another app's json": (
        lambda m, d: _write(d / "other.json", json.dumps({**_parameters(m), "app": "ComfyUI"})),
        "holds no ContentV Studio parameters",
    ),
    "json list": (lambda m, d: _write(d / "list.json", "[1, 2]"), "holds no ContentV Studio parameters"),
    "truncated json": (
        lambda m, d: _write(d / "cut.json", m["sidecar"].read_text(encoding="utf-8")[:150]),
        "holds no ContentV Studio parameters",
    ),
    "corrupt mp4": (lambda m, d: _write_bytes(d / "noise.mp4", bytes(range(256)) * 40), "holds no ContentV Studio"),
    "truncated mp4": (
        lambda m, d: _write_bytes(d / "cut.mp4", m["clip"].read_bytes()[:300]),
        "holds no ContentV Studio parameters",
    ),
    "corrupt gif": (lambda m, d: _write_bytes(d / "bad.gif", b"GIF89a\x00\x01"), "holds no ContentV Studio"),
    "empty folder": (lambda m, d: _mkdir(d / "empty"), "holds no ContentV Studio parameters"),
    "missing file": (lambda m, d: d / "nowhere.mp4", "does not exist"),
    "newer format": (
        lambda m, d: _write(d / "new.json", json.dumps({**_parameters(m), "format_version": 2, "app_version": "9.0"})),
        "written by ContentV Studio 9.0 in a newer format",
    ),
    "unknown offload": (
        lambda m, d: _write(d / "odd.json", json.dumps(_parameters(m, request={"memory": {"offload": "hyperspace"}}))),
        "this version cannot read ('hyperspace' is not a valid Placement)",
    ),
    "width out of range": (
        lambda m, d: _write(d / "wide.json", json.dumps(_parameters(m, request={"width": 100}))),
        "holds parameters that cannot run: The width must be a multiple of 16 (got 100; try 96).",
    ),
    "negative guidance": (
        lambda m, d: _write(d / "neg.json", json.dumps(_parameters(m, request={"guidance": -1}))),
        "The guidance scale cannot be negative",
    ),
    "no seed": (
        lambda m, d: _write(d / "seedless.json", json.dumps(_parameters(m, request={"seed": None}))),
        "records no seed",
    ),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_anything_else_is_one_clear_line(made: dict[str, Path], tmp_path: Path, case: str) -> None:
    make, message = BAD_FILES[case]
    path = make(made, tmp_path)
    with pytest.raises(ClipSettingsError) as caught:
        read_clip_settings(path)
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith(str(path))
    assert exit_code(caught.value.kind) == EXIT_BAD_INPUT
    # The command line says the same in one line, with the input exit code, and writes nothing.
    before = sorted(tmp_path.iterdir())
    code, out, err = run_cli("info", str(path))
    assert (code, out) == (EXIT_BAD_INPUT, "") and err.strip() == f"error: {text}"
    code, out, err = run_cli("generate", "--from", str(path), "--output", str(tmp_path / "new.mp4"))
    assert (code, out) == (EXIT_BAD_INPUT, "") and err.strip() == f"error: {text}"
    assert sorted(tmp_path.iterdir()) == before


# ---- what this machine can run ----------------------------------------------------------------------------------
def _settings_with(made: dict[str, Path], folder: Path, **changes: object):
    return read_clip_settings(_write(folder / "changed.json", json.dumps(_parameters(made, **changes))))


def test_notes_name_another_model_folder(made: dict[str, Path], tmp_path: Path, tiny_model: Path) -> None:
    settings = read_clip_settings(made["clip"], [tiny_model])
    assert settings_notes(settings, str(tiny_model), CPU) == []
    link = tmp_path / "same-model"
    link.symlink_to(tiny_model)
    assert settings_notes(settings, str(link), CPU) == []  # the same folder by another path: resolved
    other = _mkdir(tmp_path / "other-model")
    [note] = settings_notes(settings, str(other), CPU)
    assert note.kind is NoteKind.MODEL_FOLDER and note.recorded == "tiny-contentv"
    assert note.message == f"Made with tiny-contentv, found at {tiny_model.resolve()}."
    [note] = settings_notes(settings, str(other), CPU, name_folders=False)  # for output that may be shared
    assert note.message == "Made with tiny-contentv, found among the model folders this app knows."


def test_notes_say_a_model_folder_from_another_computer_is_missing(made: dict[str, Path], tmp_path: Path) -> None:
    # An older clip records a plain path: read as a model named by the path's last folder.
    settings = _settings_with(made, tmp_path, model="/home/someone/models/ContentV-8B")
    assert settings.model.name == "ContentV-8B" and settings.model_dir == ""
    for current in (None, str(tmp_path)):
        [note] = settings_notes(settings, current, CPU)
        assert note.kind is NoteKind.MODEL_FOLDER
        assert note.message == "Made with ContentV-8B, not found among the model folders this app knows."


def test_cuda_only_options_fall_back_on_this_cpu_machine(made: dict[str, Path], tmp_path: Path) -> None:
    settings = _settings_with(
        made,
        tmp_path,
        device="cuda",
        dtype="bfloat16",
        request={
            "memory": {"device": "cuda", "dtype": "bfloat16", "offload": "streamed", "vae_tiling": True},
            "speed": {"attention_backend": "cudnn", "step_cache": "fast"},
        },
    )
    notes = settings_notes(settings, None, CPU)
    swaps = {n.option: n for n in notes if n.kind is NoteKind.UNAVAILABLE}
    assert set(swaps) == {"device", "offload", "attention"}
    assert swaps["device"].recorded == "cuda" and swaps["device"].fallback == "auto (cpu here)"
    assert "PyTorch sees none" in swaps["device"].message
    assert swaps["offload"].recorded == "streamed" and swaps["offload"].fallback == "none"
    assert "no GPU" in swaps["offload"].message and swaps["offload"].message.endswith("Runs with offload none instead.")
    assert swaps["attention"].fallback == "auto" and "needs a CUDA GPU" in swaps["attention"].message
    [other] = [n for n in notes if n.kind is NoteKind.OTHER_DEVICE]
    assert other.message.startswith("Made on cuda in bfloat16; here it runs on cpu in bfloat16")

    runnable = runnable_request(settings, CPU)
    assert runnable.memory == MemoryOptions(device="auto", dtype="bfloat16", vae_tiling=True)
    assert runnable.speed.attention_backend == "auto" and runnable.speed.step_cache.value == "fast"
    assert (runnable.seed, runnable.prompt, runnable.steps) == (7, settings.request.prompt, 2)
    assert resolve_device(runnable.memory, CPU).device == "cpu"  # it runs here
    # An option the user gave explicitly is kept, for the job's own check to refuse as usual.
    kept, kept_notes = make_runnable(settings.request, CPU, keep={"device"})
    assert kept.memory.device == "cuda" and not [n for n in kept_notes if n.option in ("device", "offload")]


def test_placements_and_dtypes_fall_back_to_the_nearest_that_runs() -> None:
    old_gpu = Capabilities(cuda=True, mps=False, cuda_name="Tesla T4", bf16=False)
    request = GenerationRequest("x", seed=1, memory=MemoryOptions(device="cuda", dtype="bfloat16"))
    runnable, [note] = make_runnable(request, old_gpu)
    assert runnable.memory.dtype == "float16" and note.option == "dtype" and "Tesla T4" in note.message
    apple = Capabilities(cuda=False, mps=True)
    streamed = GenerationRequest("x", seed=1, memory=MemoryOptions(placement=Placement.STREAMED))
    runnable, [note] = make_runnable(streamed, apple)
    assert runnable.memory.placement is Placement.SEQUENTIAL and note.fallback == "sequential"
    runnable, [note] = make_runnable(streamed, CPU)
    assert runnable.memory.placement is Placement.GPU and note.fallback == "none"


def test_compile_falls_back_in_the_standalone_app(monkeypatch: pytest.MonkeyPatch) -> None:
    request = GenerationRequest("x", seed=1, memory=MemoryOptions(device="cpu"), speed=SpeedOptions(compile=True))
    assert make_runnable(request, CPU) == (request, [])  # from source it can run
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    runnable, [note] = make_runnable(request, CPU)
    assert not runnable.speed.compile and note.option == "compile" and note.fallback == "off"
    assert "standalone app" in note.message


# ---- the command line -------------------------------------------------------------------------------------------
def test_info_prints_a_readable_block(made: dict[str, Path], tiny_model: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("info", str(made["clip"]), "--model", str(tiny_model))
    assert code == 0, err
    lines = out.splitlines()
    expected = {
        "clip": f"{made['clip']} (parameters from the comment tag of clip.mp4)",
        "prompt": "a red kite, 风筝",
        "size": "80×48",
        "frames": "9 at 12 fps (0.75 s)",
        "steps": "2",
        "guidance": "6",
        "seed": "7",
        "model": "tiny-contentv",
        "model folder": str(tiny_model.resolve()),
    }
    for label, value in expected.items():
        assert f"{label + ':':<17}{value}" in lines, (label, out)
    assert any(line.startswith("memory:") and "offload none" in line and "vae-tiling off" in line for line in lines)
    assert any(line.startswith("speed:") and "attention auto" in line for line in lines)
    assert any(line.startswith("made by:") and "on cpu in float32, attention sdpa" in line for line in lines)
    assert "notes: none" in lines

    other = _mkdir(tmp_path / "other-model")
    code, out, _ = run_cli("info", str(made["clip"]), "--model", str(other))
    assert code == 0 and "  - Made with tiny-contentv, not found among the model folders this app knows." in out
    assert "model folder:    (not found among the model folders this app knows)" in out.splitlines()


def test_info_json_is_the_sidecar_layout_and_reads_back(made: dict[str, Path], tmp_path: Path) -> None:
    code, out, err = run_cli("info", str(made["gif"]), "--json")
    assert code == 0, err
    data = json.loads(out)
    sidecar = json.loads(made["sidecar"].read_text(encoding="utf-8"))
    assert set(data) == {
        "app", "app_version", "format_version", "model", "request", "frames_generated", "device", "dtype", "speed",
        "source", "found_in", "notes",
    }  # fmt: skip
    for key in ("app", "app_version", "model", "request", "frames_generated", "device", "dtype", "speed"):
        assert data[key] == sidecar[key], key
    assert data["found_in"] == "the GIF comment of clip.gif" and isinstance(data["notes"], list)
    again = read_clip_settings(_write(tmp_path / "info.json", out))
    assert again.request == _recorded(made)


def test_generate_from_a_clip_makes_the_same_frames(made: dict[str, Path], tmp_path: Path, tiny_model: Path) -> None:
    new = tmp_path / "again.mp4"
    (tmp_path / "data").mkdir()  # the window's recent model folders hold the clip's model
    _write(tmp_path / "data" / "settings.json", json.dumps({"recent_models": [str(tiny_model)]}))
    code, out, err = run_cli(
        "generate", "--from", str(made["clip"]), "--output", str(new), "--save-frames", str(tmp_path / "frames"),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [str(new), "seed: 7"]
    assert "parameters from the comment tag of clip.mp4\n" in err
    assert f"model: {tiny_model.resolve()} (the clip's model, found by its configuration)" in err
    first, second = read_png_frames(made["frames"]), read_png_frames(tmp_path / "frames")
    assert first.shape == (9, 48, 80, 3) and (first == second).all()
    assert (
        json.loads((tmp_path / "again.json").read_text())["request"]
        == json.loads(made["sidecar"].read_text())["request"]
    )


def test_generate_from_with_overrides_and_another_computers_clip(
    made: dict[str, Path], tmp_path: Path, tiny_model: Path
) -> None:
    import torch

    changes = {"model": "/elsewhere/ContentV-8B", "request": {"memory": {"device": "mps", "offload": "streamed"}}}
    clip = _write(tmp_path / "elsewhere.json", json.dumps(_parameters(made, **changes)))
    new = tmp_path / "fewer-steps.mp4"
    base = ["generate", "--from", str(clip), "--output", str(new), "--data-dir", str(tmp_path / "data")]
    (tmp_path / "data").mkdir()
    code, out, err = run_cli(*base)  # the clip's model folder is not here, and the window has none set
    assert code == EXIT_BAD_INPUT and out == "" and not new.exists()
    assert err.strip().splitlines() == [
        "error: The clip was made with ContentV-8B, not found among the model folders this app knows. "
        "Give the model folder with --model DIR."
    ]
    # The window's model folder (its settings in the data folder) is the next choice.
    _write(tmp_path / "data" / "settings.json", json.dumps({"model_dir": str(tiny_model), "language": "en"}))
    code, out, err = run_cli(*base, "--steps", "1", "--save-frames", str(tmp_path / "f"))
    assert code == 0, err
    assert "parameters from the file elsewhere.json; given here: --steps\n" in err
    assert f"model: {tiny_model} (the window's model folder; the clip's ContentV-8B was not found here)" in err
    if not torch.cuda.is_available():
        assert "note: Apple's MPS device was asked for, but this machine has none. Runs with device auto" in err
        assert "Runs with offload none instead." in err
    written = json.loads((tmp_path / "fewer-steps.json").read_text())["request"]
    assert written["steps"] == 1 and written["seed"] == 7 and written["fps"] == 12
    assert written["memory"]["device"] == "auto"  # no MPS on Linux or Windows
    assert written["memory"]["offload"] == ("streamed" if torch.cuda.is_available() else "none")
    assert not (read_png_frames(tmp_path / "f") == read_png_frames(made["frames"])).all()  # --steps took effect


def test_only_options_given_on_the_command_line_count_as_given() -> None:
    argv = ["--from", "c.mp4", "--output", "o.mp4", "--heig", "48", "--no-vae-tiling", "--seed=5", "--compile"]
    assert explicit_generate_options(argv) == {"from_clip", "output", "height", "vae_tiling", "seed", "compile"}
    assert explicit_generate_options(["--from", "c.mp4", "--output", "o.mp4"]) == {"from_clip", "output"}


def test_generate_without_from_still_requires_model_prompt_and_output(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli_main(["generate", "--prompt", "x"], io.StringIO(), io.StringIO())
    assert caught.value.code == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "error: the following arguments are required: --model, --output (see 'main.py generate --help')\n"
    )
    with pytest.raises(SystemExit):
        cli_main(["generate", "--from", "c.mp4"], io.StringIO(), io.StringIO())
    assert "required: --output (" in capsys.readouterr().err
