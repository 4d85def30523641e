"""Exports of a finished clip to WebM, GIF and PNG frames: every frame decodes back, the parameters travel with
each, timing is right, and existing targets are refused (exit 2) before anything is written."""

from __future__ import annotations

import io
import json
import math
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from core.output.export import (
    PNG_SIDECAR_NAME,
    PNG_TEXT_KEY,
    ExportCancelled,
    ExportFormat,
    ExportInputError,
    ExportRequest,
    GifPalette,
    export_clip,
    gif_delays_cs,
    gif_timing,
    read_webm_comment,
    webm_codec,
)
from core.output.video import read_mp4_frames, write_mp4, write_sidecar

PARAMS = {"prompt": "一只狐狸 in the snow", "seed": 1234, "fps": 24, "steps": 3}
FRAMES = 9


def _clip(folder: Path, fps: int = 24, name: str = "clip.mp4") -> Path:
    """A small clip whose frames differ (a moving bar) and whose last two frames are identical, as still scenes
    are: a GIF writer that merges repeats would lose one."""
    rng = np.random.default_rng(0)
    frames = rng.uniform(0.2, 0.4, size=(FRAMES, 48, 64, 3)).astype(np.float32)
    for i in range(FRAMES):
        frames[i, :, (i * 6) % 64 : (i * 6) % 64 + 6] = 1.0
    frames[-1] = frames[-2]
    path = folder / name
    write_mp4(frames, path, fps, PARAMS)
    write_sidecar(path, PARAMS)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clip(tmp_path_factory.mktemp("clip"))


def test_bundled_ffmpeg_has_vp9() -> None:
    assert webm_codec() == "vp9"


def test_webm_keeps_every_frame_and_parameters(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.webm"
    seen: list[tuple[int, int]] = []
    result = export_clip(ExportRequest(clip, ExportFormat.WEBM, out), progress=lambda d, t: seen.append((d, t)))
    assert result.frames == FRAMES and result.codec == "vp9"
    decoded = read_mp4_frames(out)  # ffmpeg decodes any container
    assert decoded.shape == (FRAMES, 48, 64, 3)
    source = read_mp4_frames(clip).astype(int)
    assert np.abs(decoded.astype(int) - source).mean() < 6  # lossy, but close to the source
    assert read_webm_comment(out) == PARAMS
    assert json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8")) == PARAMS
    assert seen[-1] == (FRAMES, FRAMES)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("palette", list(GifPalette))
def test_gif_keeps_every_frame_timing_and_comment(clip: Path, tmp_path: Path, palette: GifPalette) -> None:
    from PIL import Image, ImageSequence

    out = tmp_path / "out.gif"
    result = export_clip(ExportRequest(clip, ExportFormat.GIF, out, gif_palette=palette))
    assert result.frames == FRAMES
    with Image.open(out) as gif:
        frames = [np.asarray(f.convert("RGB")).astype(int) for f in ImageSequence.Iterator(gif)]
        durations = [f.info["duration"] for f in ImageSequence.Iterator(gif)]
        gif.seek(0)
        comment = gif.info["comment"]
    assert len(frames) == FRAMES  # the repeated last frame is kept
    assert durations == [d * 10 for d in gif_delays_cs(FRAMES, 24)]
    assert json.loads(comment.decode("utf-8")) == PARAMS
    source = read_mp4_frames(clip).astype(int)
    assert max(np.abs(f - s).mean() for f, s in zip(frames, source, strict=True)) < 8
    assert json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8")) == PARAMS


def test_gif_delays_follow_timestamps_for_rates_that_do_not_divide_100() -> None:
    for fps in (24, 30, 16, 7):
        delays = gif_delays_cs(240, fps)
        elapsed = np.cumsum(delays)
        exact = np.arange(1, 241) * 100 / fps
        assert np.abs(elapsed - exact).max() <= 0.5  # never drifts by more than half a hundredth
    assert gif_delays_cs(6, 24) == [4, 4, 4, 5, 4, 4]  # 0.25 s exactly


@pytest.mark.parametrize("fps", [8, 24, 25, 30, 50, 60, 120, Fraction(24000, 1001), Fraction(60000, 1001)])
@pytest.mark.parametrize("count", [1, 2, 9, 124, 125])
def test_gif_delays_are_whole_at_least_2cs_and_add_up(fps: int | Fraction, count: int) -> None:
    timing = gif_timing(count, fps)
    duration_cs = Fraction(100 * count) / Fraction(fps)
    assert all(isinstance(d, int) for d in timing.delays_cs)
    # Browsers show a delay under 2 cs as 100 ms; the single frame of a very short clip is the only one that may
    # then run over the clip's duration.
    assert min(timing.delays_cs) >= 2
    if duration_cs >= 2:
        assert abs(sum(timing.delays_cs) - duration_cs) <= 1, (sum(timing.delays_cs), float(duration_cs))
    assert timing.frames[0] == 0 and list(timing.frames) == sorted(set(timing.frames))
    if fps <= 50:
        assert timing.frames == tuple(range(count))  # every frame shown
    elif count > 2:
        assert timing.frames[-1] == count - 1  # the last frame is kept
        step = math.ceil(Fraction(fps) / 50)
        gaps = set(np.diff(timing.frames).tolist())
        assert gaps <= {step, step + 1} and len(timing.frames) <= count  # dropped evenly
        assert 100 / (sum(timing.delays_cs) / len(timing.delays_cs)) <= 50  # at most 50 frames a second shown


def test_gif_delays_at_60_and_120_fps() -> None:
    sixty = gif_timing(125, 60)
    assert sixty.frames == tuple(range(0, 125, 2))  # 30 fps worth of frames: every other one
    assert set(sixty.delays_cs) == {3, 4} and sum(sixty.delays_cs) == 208  # 125 / 60 s = 208.3 cs
    assert gif_delays_cs(6, 24) == [4, 4, 4, 5, 4, 4]
    hundred_twenty = gif_timing(121, 120)
    assert hundred_twenty.frames == tuple(range(0, 121, 3))  # 40 fps worth: every third
    assert set(hundred_twenty.delays_cs) == {2, 3} and sum(hundred_twenty.delays_cs) == 101
    assert gif_delays_cs(12, Fraction(24000, 1001)) == gif_delays_cs(12, 23.976)  # a float rate read exactly


def test_gif_of_a_60_fps_clip_shows_every_other_frame(tmp_path: Path) -> None:
    from PIL import Image, ImageSequence

    pixels = np.zeros((9, 48, 64, 3), dtype=np.float32)
    for i in range(9):
        pixels[i, :, : 7 * (i + 1)] = 1.0  # a bar that grows frame by frame
    clip = write_mp4(pixels, tmp_path / "fast.mp4", 60, PARAMS)
    result = export_clip(ExportRequest(clip, ExportFormat.GIF, tmp_path / "fast.gif"))
    assert result.frames == 5 and result.fps == 60
    with Image.open(result.output) as gif:
        durations = [f.info["duration"] for f in ImageSequence.Iterator(gif)]
        shown = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)]
    assert durations == [d * 10 for d in gif_delays_cs(9, 60)] and min(durations) >= 20
    widths = [int((frame[24] > 128).sum()) for frame in shown]
    assert [round(w / 7) for w in widths] == [1, 3, 5, 7, 9]  # frames 0, 2, 4, 6, 8


def test_png_sequence_keeps_every_frame_with_text_chunk(clip: Path, tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "frames"
    result = export_clip(ExportRequest(clip, ExportFormat.PNG, folder))
    files = sorted(folder.glob("frame_*.png"))
    assert result.frames == len(files) == FRAMES
    source = read_mp4_frames(clip)
    for f, expected in zip(files, source, strict=True):
        with Image.open(f) as image:
            assert json.loads(image.text[PNG_TEXT_KEY]) == PARAMS  # type: ignore[attr-defined]
            assert np.array_equal(np.asarray(image.convert("RGB")), expected)  # lossless
    assert json.loads((folder / PNG_SIDECAR_NAME).read_text(encoding="utf-8")) == PARAMS


def test_existing_target_refused_up_front(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken.gif"
    out.write_bytes(b"mine")
    with pytest.raises(ExportInputError, match="already exists"):
        export_clip(ExportRequest(clip, ExportFormat.GIF, out))
    assert out.read_bytes() == b"mine"
    (tmp_path / "side.webm.json").write_text("{}")
    with pytest.raises(ExportInputError, match=r"side\.webm\.json already exists"):
        export_clip(ExportRequest(clip, ExportFormat.WEBM, tmp_path / "side.webm"))
    assert not (tmp_path / "side.webm").exists()


def test_cancel_leaves_nothing(clip: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    for fmt, out in ((ExportFormat.WEBM, tmp_path / "c.webm"), (ExportFormat.PNG, tmp_path / "c-frames")):

        def cancel_midway(done: int, _total: int) -> None:
            if done == 3:
                stop.set()

        stop.clear()
        with pytest.raises(ExportCancelled):
            export_clip(ExportRequest(clip, fmt, out), progress=cancel_midway, cancel=stop)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["webm", "gif", "png"])
def test_cli_export_decodes_back(clip: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / ("frames" if fmt == "png" else f"clip.{fmt}")
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli_main(["export", str(clip), "--format", fmt, "--output", str(out)], stdout, stderr)
    assert code == 0, stderr.getvalue()
    assert stdout.getvalue().splitlines()[0] == str(out)
    if fmt == "png":
        assert len(list(out.glob("frame_*.png"))) == FRAMES
    elif fmt == "gif":
        from PIL import Image

        with Image.open(out) as gif:
            assert gif.n_frames == FRAMES  # type: ignore[attr-defined]
    else:
        assert len(read_mp4_frames(out)) == FRAMES


def test_cli_export_bad_input_exit_codes(clip: Path, tmp_path: Path) -> None:
    err = io.StringIO()
    existing = tmp_path / "x.webm"
    existing.write_bytes(b"keep")
    assert cli_main(["export", str(clip), "--format", "webm", "--output", str(existing)], io.StringIO(), err) == 2
    assert "already exists" in err.getvalue() and existing.read_bytes() == b"keep"
    assert cli_main(["export", str(tmp_path / "nope.mp4"), "--format", "gif"], io.StringIO(), io.StringIO()) == 2
    wrong_suffix = ["export", str(clip), "--format", "gif", "--output", str(tmp_path / "a.webm")]
    assert cli_main(wrong_suffix, io.StringIO(), io.StringIO()) == 2
    missing_dir = ["export", str(clip), "--format", "gif", "--output", str(tmp_path / "no" / "a.gif")]
    assert cli_main(missing_dir, io.StringIO(), io.StringIO()) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.webm"]


def test_cli_default_output_lands_beside_the_clip_without_touching_its_sidecar(tmp_path: Path) -> None:
    clip = _clip(tmp_path)
    before = (tmp_path / "clip.json").read_bytes()
    assert cli_main(["export", str(clip), "--format", "gif"], io.StringIO(), io.StringIO()) == 0
    assert (tmp_path / "clip.gif").is_file() and (tmp_path / "clip.gif.json").is_file()
    assert (tmp_path / "clip.json").read_bytes() == before
