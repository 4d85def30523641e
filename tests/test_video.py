"""Clip output: atomic, never overwriting, parameters carried inside the mp4."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import OutputError
from core.output.video import (
    check_output_path,
    read_mp4_comment,
    read_mp4_frames,
    write_mp4,
    write_png_frames,
    write_sidecar,
    write_thumbnail,
)


def frames(t: int = 5, h: int = 32, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = np.linspace(0, 1, w, dtype=np.float32)[None, None, :, None]
    return np.clip(base + 0.02 * rng.standard_normal((t, h, w, 3), dtype=np.float32), 0, 1)


def test_mp4_round_trip_with_awkward_metadata(tmp_path):
    meta = {"prompt": 'quotes " and = ; # \\ backslash\nnew line, ünïcödé — 日本', "seed": 1}
    path = write_mp4(frames(), tmp_path / "a.mp4", 8, meta)
    decoded = read_mp4_frames(path)
    assert decoded.shape == (5, 32, 48, 3)
    assert np.abs(decoded.astype(int) - (frames() * 255).round().astype(int)).mean() < 6  # crf 17 H.264
    assert read_mp4_comment(path) == meta
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


def test_never_overwrites(tmp_path):
    target = tmp_path / "b.mp4"
    target.write_bytes(b"keep")
    with pytest.raises(OutputError, match="already exists"):
        check_output_path(target)
    with pytest.raises(OutputError):
        write_mp4(frames(), target, 8, {})
    assert target.read_bytes() == b"keep"
    assert [p.name for p in tmp_path.iterdir()] == ["b.mp4"]
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(OutputError):
        write_sidecar(target, {"x": 1})
    assert (tmp_path / "b.json").read_text() == "{}"


def test_malformed_frames_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        write_mp4(frames()[..., :2], tmp_path / "c.mp4", 8, {})
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    import core.output.video as video

    real = video._send_frames

    def interrupted(stdin, pixels):
        real(stdin, pixels[:1])
        raise KeyboardInterrupt  # the user pressed Ctrl+C mid-clip

    monkeypatch.setattr(video, "_send_frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_mp4(frames(), tmp_path / "c.mp4", 8, {})
    assert list(tmp_path.iterdir()) == []


def test_png_frames_and_thumbnail(tmp_path):
    folder = write_png_frames(frames(), tmp_path / "frames")
    assert sorted(p.name for p in folder.iterdir()) == [f"frame_{i:05d}.png" for i in range(5)]
    clip = write_mp4(frames(), tmp_path / "d.mp4", 8, {})
    thumb = write_thumbnail(clip, tmp_path / "thumbs" / "d.png", max_side=24)
    from PIL import Image

    assert max(Image.open(thumb).size) == 24
