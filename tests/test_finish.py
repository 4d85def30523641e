"""Finishing a clip (core/finish, core/cli_finish.py): upscaling through cccv's networks built from local weights
files in their published formats, interpolation with RIFE's IFNet and with ffmpeg's minterpolate, scene cuts, the
frame-count and duration convention, cancelling, bad model files, and the default models' pinned, resumable
download from a stand-in server on 127.0.0.1. Random weights throughout: the mechanics, not the picture."""

from __future__ import annotations

import hashlib
import io
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import main as cli_main
from core.errors import JobCancelled
from core.finish import models as finish_models
from core.finish.clip import FinishProgress, FinishRequest, InterpolateStep, UpscaleStep, finish_clip
from core.finish.interpolate import InterpolationMethod, Timing, scene_cuts
from core.finish.networks import build_rife, build_upscaler, import_cccv
from core.finish.upscale import load_upscaler, upscale_frames
from core.job.progress import CancelToken
from core.model.download import DownloadCancelled, DownloadError
from core.output.video import read_mp4_comment, read_mp4_frames, write_mp4
from tests.hub_server import COMMIT, serve_model

W, H = 64, 48


def _smooth_frames(count: int, seed: int = 0, shift: int = 2) -> np.ndarray:
    """A soft pattern drifting sideways: consecutive frames differ little (no scene cut)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    rng = np.random.default_rng(seed)
    phase = rng.random(3) * 6
    frames = []
    for i in range(count):
        xs = x + shift * i
        rgb = [0.5 + 0.4 * np.sin(xs / (7 + c) + y / 11 + phase[c]) for c in range(3)]
        frames.append(np.stack(rgb, axis=-1))
    return np.stack(frames).astype(np.float32)


def _clip(path: Path, frames: np.ndarray, fps: int = 24) -> Path:
    metadata = {"app": "ContentV Studio", "test": "finish", "request": {"fps": fps}}
    return write_mp4(frames, path, fps, metadata)


def _fps_of(path: Path) -> float:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    return float(meta["fps"])


@pytest.fixture(autouse=True)
def _state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Named models are looked for (and downloaded) in a throw-away data folder: none is there."""
    folder = tmp_path / "state"
    monkeypatch.setenv("CONTENTV_STUDIO_STATE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Random-weight networks saved as their projects release them."""
    from safetensors.torch import save_file

    arch = import_cccv()
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    compact = arch.SRVGGNetCompact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, scale=2, act_type="prelu")
    state = {k: v.contiguous() for k, v in compact.state_dict().items()}
    torch.save({"params": state}, folder / "compact-x2.pth")  # as Real-ESRGAN's releases: {"params": …}
    save_file(state, str(folder / "compact-x2.safetensors"))
    rrdb = arch.RRDBNet(num_in_ch=3, num_out_ch=3, scale=2, num_feat=8, num_block=1, num_grow_ch=4)
    torch.save({"params_ema": rrdb.state_dict()}, folder / "rrdb-x2.pth")
    ifnet = arch.IFNet()
    # RIFE's flownet.pkl: the state dict of the DataParallel-wrapped net, every key under "module.".
    torch.save({f"module.{k}": v for k, v in ifnet.state_dict().items()}, folder / "flownet.pkl")
    (folder / "garbage.pth").write_bytes(b"this is not a torch file at all")
    torch.save({"params": {"conv.weight": torch.zeros(3, 3, 3, 3)}}, folder / "foreign.pth")
    return (
        {p.name: p for p in folder.iterdir()}
        | {p.stem: p for p in folder.glob("*.pth")}
        | {"flownet": folder / "flownet.pkl"}
    )


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return _clip(tmp_path / "clip.mp4", _smooth_frames(5))


# ---- networks from files -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["compact-x2.pth", "compact-x2.safetensors", "rrdb-x2.pth"])
def test_upscaler_family_is_read_from_the_weights(weights: dict[str, Path], name: str) -> None:
    path = weights[name]
    net, spec = build_upscaler(path)
    assert spec.scale == 2
    assert spec.family == ("RRDBNet" if name.startswith("rrdb") else "SRVGGNetCompact")
    out = net(torch.rand(1, 3, 16, 20))
    assert out.shape == (1, 3, 32, 40)


def test_tiles_with_overlap_match_the_whole_frame(weights: dict[str, Path]) -> None:
    upscaler = load_upscaler(weights["compact-x2"], "cpu")
    frames = (_smooth_frames(1) * 255).round().astype(np.uint8)
    whole = upscale_frames(frames, upscaler, 2.0, tile=max(W, H))
    tiled = upscale_frames(frames, upscaler, 2.0, tile=16)  # 12 tiles, each with its neighbours' context
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_rife_loads_from_a_released_flownet_file(weights: dict[str, Path]) -> None:
    net = build_rife(weights["flownet"])
    pair = torch.rand(1, 6, 64, 64)
    assert net(pair, timestep=0.5).shape == (1, 3, 64, 64)


# ---- upscaling a clip ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["compact-x2.pth", "compact-x2.safetensors"])
def test_upscale_doubles_the_clip_and_records_how(weights: dict[str, Path], clip: Path, name: str) -> None:
    model = weights[name]
    out = clip.with_name("big.mp4")
    seen: list[FinishProgress] = []
    result = finish_clip(FinishRequest(clip, out, upscale=UpscaleStep(str(model), 2.0)), seen.append)
    frames = read_mp4_frames(out)
    assert frames.shape == (5, 2 * H, 2 * W, 3) and (result.width, result.height) == (2 * W, 2 * H)
    assert [p.done for p in seen if p.stage.value == "upscaling"] == [1, 2, 3, 4, 5]
    metadata = read_mp4_comment(out)
    assert metadata is not None and metadata == json.loads(out.with_suffix(".json").read_text())
    finish = metadata["finish"]
    assert finish["steps"] == ["upscale"]
    assert finish["upscale"]["network"]["family"] == "SRVGGNetCompact"
    assert finish["upscale"]["model"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert finish["source"]["clip"] == clip.name and finish["source"]["width"] == W  # a name: private by default
    assert metadata["test"] == "finish"  # the source's own parameters travel on


def test_upscale_to_another_scale_resamples_to_even_sizes(weights: dict[str, Path], clip: Path) -> None:
    out = clip.with_name("x15.mp4")
    finish_clip(FinishRequest(clip, out, upscale=UpscaleStep(str(weights["compact-x2"]), 1.5)))
    assert read_mp4_frames(out).shape[1:3] == (72, 96)


# ---- interpolation -----------------------------------------------------------------------------------------------
def test_timing_convention() -> None:
    two = Timing(5, Fraction(24), Fraction(48))
    assert two.count == 9 and two.duration_s == pytest.approx(4 / 24)
    assert Timing(5, Fraction(24), Fraction(96)).count == 17  # 4×: 4n − 3
    sixty = Timing(5, Fraction(24), Fraction(60))
    assert sixty.count == 11 and sixty.positions()[-1] == 4  # 4 s·60/24 = 10 steps of 0.4 frames


@pytest.mark.parametrize("method", ["rife", "ffmpeg"])
def test_2x_gives_2n_minus_1_frames_at_twice_the_fps(weights: dict[str, Path], clip: Path, method: str) -> None:
    out = clip.with_name(f"smooth-{method}.mp4")
    model = str(weights["flownet"]) if method == "rife" else None
    step = InterpolateStep(factor=2, method=InterpolationMethod(method), model=model)
    result = finish_clip(FinishRequest(clip, out, interpolate=step))
    source, frames = read_mp4_frames(clip), read_mp4_frames(out)
    assert len(frames) == 2 * 5 - 1 == result.frames
    assert _fps_of(out) == pytest.approx(48) and result.fps == 48
    assert (len(frames) - 1) / 48 == pytest.approx((len(source) - 1) / 24) == result.duration_s
    # Frames that land on a source frame are that frame (up to the encoder's rounding).
    for k in range(5):
        assert np.abs(frames[2 * k].astype(int) - source[k].astype(int)).mean() < 3
    assert read_mp4_comment(out)["finish"]["interpolate"]["method"] == method  # type: ignore[index]


def test_a_fractional_rate_stays_exact_through_interpolation(tmp_path: Path) -> None:
    """23.976 fps doubled is 48000/1001, written as such; 29.97 as a target is 30000/1001."""
    from fractions import Fraction

    from tests.media_probe import packet_rate

    film = write_mp4(_smooth_frames(4), tmp_path / "film.mp4", Fraction(24000, 1001),
                     {"app": "ContentV Studio", "request": {"fps": "24000/1001"}})  # fmt: skip
    doubled = tmp_path / "doubled.mp4"
    step = InterpolateStep(factor=2, method=InterpolationMethod.FFMPEG)
    result = finish_clip(FinishRequest(film, doubled, interpolate=step))
    assert packet_rate(doubled) == Fraction(48000, 1001) and result.frames == 7
    again = tmp_path / "again.mp4"  # an interpolated clip interpolated again starts from its own rate, not 23.976
    finish_clip(FinishRequest(doubled, again, interpolate=InterpolateStep(factor=2, method=InterpolationMethod.FFMPEG)))
    assert packet_rate(again) == Fraction(96000, 1001)
    ntsc = tmp_path / "ntsc.mp4"
    finish_clip(FinishRequest(film, ntsc, interpolate=InterpolateStep(fps=29.97, method=InterpolationMethod.FFMPEG)))
    assert packet_rate(ntsc) == Fraction(30000, 1001)


@pytest.mark.parametrize("method", ["rife", "ffmpeg"])
def test_a_scene_cut_is_not_blended(weights: dict[str, Path], tmp_path: Path, method: str) -> None:
    first, second = _smooth_frames(4, seed=1), 1.0 - _smooth_frames(3, seed=5)[:, ::-1]
    frames = np.concatenate([first, second])
    assert scene_cuts((frames * 255).round().astype(np.uint8)) == {3}
    clip = _clip(tmp_path / "cut.mp4", frames)
    out = tmp_path / f"cut-{method}.mp4"
    model = str(weights["flownet"]) if method == "rife" else None
    finish_clip(FinishRequest(clip, out, interpolate=InterpolateStep(2, None, InterpolationMethod(method), model)))
    source, result = read_mp4_frames(clip).astype(int), read_mp4_frames(out).astype(int)
    at_cut = result[7]  # between source frames 3 and 4
    nearest = min(np.abs(at_cut - source[3]).mean(), np.abs(at_cut - source[4]).mean())
    blend = (source[3] + source[4]) / 2
    assert nearest < 3, "the frame at the cut repeats a source frame"
    assert np.abs(at_cut - blend).mean() > 10 * max(nearest, 1)
    if method == "rife":
        assert read_mp4_comment(out)["finish"]["interpolate"]["repeated_at_scene_cuts"] == 1  # type: ignore[index]


def test_upscale_then_interpolate_in_one_clip(weights: dict[str, Path], clip: Path) -> None:
    out = clip.with_name("both.mp4")
    request = FinishRequest(
        clip,
        out,
        upscale=UpscaleStep(str(weights["compact-x2"])),
        interpolate=InterpolateStep(fps=48, method=InterpolationMethod.FFMPEG),
    )
    result = finish_clip(request)
    assert read_mp4_frames(out).shape == (9, 2 * H, 2 * W, 3) and result.fps == 48
    assert read_mp4_comment(out)["finish"]["steps"] == ["upscale", "interpolate"]  # type: ignore[index]


# ---- cancelling --------------------------------------------------------------------------------------------------
def _cancel_after_first_frame(cancel: CancelToken):
    def progress(p: FinishProgress) -> None:
        if p.stage.value in ("upscaling", "interpolating") and p.done >= 1:
            cancel.cancel()

    return progress


@pytest.mark.parametrize("kind", ["upscale", "rife", "ffmpeg"])
def test_cancel_after_the_first_frame_leaves_nothing(weights: dict[str, Path], clip: Path, kind: str) -> None:
    before = sorted(p.name for p in clip.parent.iterdir())
    if kind == "upscale":
        request = FinishRequest(clip, clip.with_name("out.mp4"), upscale=UpscaleStep(str(weights["compact-x2"])))
    else:
        model = str(weights["flownet"]) if kind == "rife" else None
        step = InterpolateStep(factor=2, method=InterpolationMethod(kind), model=model)
        request = FinishRequest(clip, clip.with_name("out.mp4"), interpolate=step)
    cancel = CancelToken()
    with pytest.raises(JobCancelled):
        finish_clip(request, _cancel_after_first_frame(cancel), cancel)
    assert sorted(p.name for p in clip.parent.iterdir()) == before


# ---- the command line ------------------------------------------------------------------------------------------
def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_upscale_and_interpolate(weights: dict[str, Path], clip: Path) -> None:
    big = clip.with_name("big.mp4")
    code, out, err = _run("upscale", str(clip), "--model", str(weights["compact-x2"]), "--scale", "2",
                          "--output", str(big))  # fmt: skip
    assert code == 0, err
    assert out.strip() == str(big) and read_mp4_frames(big).shape[1:3] == (2 * H, 2 * W)
    smooth = clip.with_name("smooth.mp4")
    code, out, err = _run("interpolate", str(big), "--fps", "48", "--output", str(smooth))
    assert code == 0, err
    assert "note: RIFE's weights are not downloaded" in err  # no default RIFE here: ffmpeg, said so
    assert len(read_mp4_frames(smooth)) == 9
    metadata = read_mp4_comment(smooth)
    assert metadata is not None and metadata["finish"]["source"]["finish"]["steps"] == ["upscale"]
    code, _, err = _run("interpolate", str(clip), "--factor", "2", "--model", str(weights["flownet"]),
                        "--output", str(clip.with_name("rife.mp4")))  # fmt: skip
    assert code == 0 and "note:" not in err


def test_a_finished_clip_names_its_files_without_their_folders_unless_asked(
    weights: dict[str, Path], tmp_path: Path
) -> None:
    """As clips name the main model by identity: the source clip and the upscaler's weights by name only, so a
    shared result does not tell where a person keeps them; --keep-paths records them for an archive."""
    home = tmp_path / "alice-private-home"
    home.mkdir()
    source = _clip(home / "clip.mp4", _smooth_frames(3))
    model = home / "compact-x2.pth"
    model.write_bytes(weights["compact-x2"].read_bytes())
    for keep, present in (([], False), (["--keep-paths"], True)):
        out = tmp_path / f"shared{len(keep)}.mp4"
        code, _, err = _run("upscale", str(source), "--model", str(model), "--output", str(out), *keep)
        assert code == 0, err
        for written in (out, out.with_suffix(".json")):
            assert (b"alice-private-home" in written.read_bytes()) is present, written
        finish = json.loads(out.with_suffix(".json").read_text())["finish"]
        assert finish["upscale"]["model"]["file"] == (str(model.resolve()) if present else "compact-x2.pth")


@pytest.mark.parametrize("command", ["upscale", "interpolate"])
def test_cli_cancel_exits_130_and_leaves_nothing(
    weights: dict[str, Path], clip: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.cli_finish

    real = core.cli_finish.finish_clip

    def tripping(request, progress, cancel, **kwargs):
        trip = _cancel_after_first_frame(cancel)

        def both(p: FinishProgress) -> None:
            progress(p)
            trip(p)

        return real(request, both, cancel, **kwargs)

    monkeypatch.setattr(core.cli_finish, "finish_clip", tripping)
    before = sorted(p.name for p in clip.parent.iterdir())
    model = ["--model", str(weights["compact-x2"] if command == "upscale" else weights["flownet"])]
    extra = [] if command == "upscale" else ["--factor", "2"]
    code, _, err = _run(command, str(clip), *model, *extra, "--output", str(clip.with_name("out.mp4")))
    assert code == 130
    assert err.strip().splitlines()[-1].startswith("cancelled:")
    assert sorted(p.name for p in clip.parent.iterdir()) == before


@pytest.mark.parametrize(("name", "status"), [("garbage", 3), ("foreign", 3), ("flownet", 3), ("missing", 2)])
def test_cli_bad_model_file_one_line_and_status(weights: dict[str, Path], clip: Path, name: str, status: int) -> None:
    model = str(weights[name]) if name in weights else str(clip.with_name("missing.pth"))
    before = sorted(p.name for p in clip.parent.iterdir())
    code, out, err = _run("upscale", str(clip), "--model", model, "--output", str(clip.with_name("out.mp4")))
    assert code == status
    lines = err.strip().splitlines()  # stage lines, then the one line that says why
    assert out == "" and lines[-1].startswith("error:") and sum(line.startswith("error") for line in lines) == 1
    assert sorted(p.name for p in clip.parent.iterdir()) == before


def test_cli_refuses_bad_values_before_loading(clip: Path) -> None:
    for args in (
        ["upscale", str(clip), "--model", "default", "--scale", "0.5"],
        ["interpolate", str(clip), "--fps", "12"],  # below the clip's 24 fps
        ["interpolate", str(clip), "--fps", "23.976"],  # a fractional rate is fine, but not below the source
        ["interpolate", str(clip), "--factor", "2", "--method", "ffmpeg", "--model", "default"],
        ["upscale", str(clip.with_name("nope.mp4")), "--model", "default"],
    ):
        code, _, err = _run(*args, "--output", str(clip.with_name("out.mp4")))
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1
    assert not clip.with_name("out.mp4").exists()


def test_generate_finish_keeps_only_the_finished_clip(
    tiny_model: Path, weights: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "final.mp4"
    spec = f"upscale=2,upscale-model={weights['compact-x2']},fps=16,interpolate=ffmpeg"
    code, stdout, err = _run(
        "generate", "--model", str(tiny_model), "--prompt", "a kite", "--width", "64", "--height", "48",
        "--frames", "5", "--steps", "1", "--fps", "8", "--seed", "3", "--finish", spec,
        "--data-dir", str(tmp_path / "data"), "--output", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert stdout.splitlines()[0] == str(out)
    assert read_mp4_frames(out).shape == (9, 96, 128, 3)
    metadata = json.loads(out.with_suffix(".json").read_text())
    assert metadata["request"]["seed"] == 3 and metadata["finish"]["steps"] == ["upscale", "interpolate"]
    assert metadata["finish"]["source"]["clip"] is None and metadata["finish"]["source"]["width"] == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "final.json", "final.mp4"]  # nothing else kept


# ---- the default models' download --------------------------------------------------------------------------------
@pytest.fixture
def served_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The default upscaler's entry pointed at a file served from 127.0.0.1, with that file's hash pinned."""
    folder = tmp_path / "served"
    folder.mkdir()
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline; this server is local
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)  # many chunks per file, as with real weights
    data = np.random.default_rng(3).bytes(600_000)
    (folder / "model.pth").write_bytes(data)
    with serve_model(folder, repo="cccv/zoo") as hub:
        pinned = finish_models.NamedModel(
            "realesrgan-x2plus", "upscale", "model.pth", f"{hub.url}/cccv/zoo/resolve/{COMMIT}/model.pth",
            hashlib.sha256(data).hexdigest(), "test",
        )  # fmt: skip
        monkeypatch.setitem(finish_models.NAMED_MODELS, pinned.name, pinned)
        yield hub, pinned, data


def test_default_model_download_resumes_and_is_hash_checked(served_model, tmp_path: Path) -> None:
    hub, pinned, data = served_model
    target = tmp_path / "models"
    hub.cut("model.pth", times=1)  # the connection drops halfway
    path = finish_models.download_named_model(pinned, target)
    assert path.read_bytes() == data and not (target / "model.pth.part").exists()
    ranges = hub.state.ranges_for("model.pth")
    assert len(ranges) == 2 and ranges[1] is not None and int(ranges[1].removeprefix("bytes=").rstrip("-")) > 0


def test_cancelled_download_resumes_in_a_later_run(served_model, tmp_path: Path) -> None:
    hub, pinned, data = served_model
    target = tmp_path / "models"
    cancel = CancelToken()
    with pytest.raises(DownloadCancelled):  # a chunk's bytes are counted before they are written: stop at the 3rd
        finish_models.download_named_model(
            pinned, target, lambda p: cancel.cancel() if p.done_bytes > 128 * 1024 else None, cancel
        )
    kept = (target / "model.pth.part").stat().st_size
    assert 0 < kept < len(data) and not (target / "model.pth").exists()
    assert finish_models.download_named_model(pinned, target).read_bytes() == data
    assert hub.state.ranges_for("model.pth")[-1] == f"bytes={kept}-"


def test_a_download_with_the_wrong_hash_is_refused_and_removed(served_model, tmp_path: Path) -> None:
    _hub, pinned, _data = served_model
    wrong = finish_models.NamedModel(pinned.name, pinned.kind, pinned.filename, pinned.url, "0" * 64, "test")
    with pytest.raises(DownloadError, match="damaged"):
        finish_models.download_named_model(wrong, tmp_path / "models")
    assert not any((tmp_path / "models").iterdir())


def test_cli_model_default_downloads_into_the_data_folder(served_model, clip: Path, tmp_path: Path) -> None:
    _hub, _pinned, data = served_model
    # The served bytes are no network: the download works, the file then fails to load (exit 3, one line).
    code, _, err = _run("upscale", str(clip), "--model", "default", "--data-dir", str(tmp_path / "data"),
                        "--output", str(clip.with_name("out.mp4")))  # fmt: skip
    assert code == 3, err
    assert (tmp_path / "data" / "finish-models" / "model.pth").read_bytes() == data
