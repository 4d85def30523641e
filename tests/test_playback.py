"""Clips that play the same everywhere: colours converted with a stated matrix and tagged to match (BT.709,
limited range), an H.264 level that holds the clip's size, rate and bitrate, keyframes every two seconds, and
fractional frame rates kept exact in the stream (core/output/video.py, core/output/h264_levels.py,
core/output/frame_rate.py)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from core.output.export import ExportFormat, ExportRequest, export_clip, webm_codec
from core.output.h264_levels import HIGH_PROFILE_FACTOR, level_by_idc, level_for, macroblocks
from core.output.video import _ffmpeg, write_mp4
from tests.media_probe import (
    bitstream_bits,
    decode_as_tagged,
    keyframe_times,
    packet_rate,
    sps_fields,
    stream_line,
)

BARS = (
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 255, 255), (255, 0, 255), (255, 255, 0),
    (255, 255, 255), (0, 0, 0), (64, 64, 64), (128, 128, 128), (192, 192, 192),
)  # fmt: skip


def colour_bars(width: int, height: int, count: int = 2) -> np.ndarray:
    """`count` frames of vertical bars, float in [0, 1] as the engine hands them over."""
    image = np.zeros((height, width, 3), dtype=np.float32)
    bar = width // len(BARS)
    for i, colour in enumerate(BARS):
        image[:, i * bar : (i + 1) * bar] = np.array(colour) / 255
    return np.repeat(image[None], count, axis=0)


def bar_errors(decoded: np.ndarray, width: int, height: int) -> dict[tuple[int, int, int], int]:
    """The largest error of any channel inside each bar (a margin left out: 4:2:0 chroma blurs bar edges)."""
    bar = width // len(BARS)
    errors = {}
    for i, colour in enumerate(BARS):
        inner = decoded[:, 16 : height - 16, i * bar + 16 : (i + 1) * bar - 16].astype(int)
        errors[colour] = int(np.abs(inner - np.array(colour)).max())
    return errors


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (768, 432), (1920, 1080)])
def test_colour_bars_read_back_true_as_tagged(tmp_path: Path, width: int, height: int) -> None:
    clip = write_mp4(colour_bars(width, height), tmp_path / "bars.mp4", 24, {})
    sps = sps_fields(clip)
    # BT.709 primaries, transfer and matrix, limited range: what a browser assumes for HD, now said outright.
    assert sps["colour_description_present_flag"] == 1
    assert (sps["colour_primaries"], sps["transfer_characteristics"], sps["matrix_coefficients"]) == (1, 1, 1)
    assert sps["video_full_range_flag"] == 0
    assert "yuv420p(tv, bt709, progressive)" in stream_line(clip)  # the container says the same
    errors = bar_errors(decode_as_tagged(clip, width, height), width, height)
    assert max(errors.values()) <= 3, errors


def test_webm_is_converted_and_tagged_the_same(tmp_path: Path) -> None:
    if webm_codec() is None:
        pytest.skip("this ffmpeg has no WebM encoder")
    width, height = 384, 224
    clip = write_mp4(colour_bars(width, height), tmp_path / "bars.mp4", Fraction(24000, 1001), {"seed": 1})
    out = tmp_path / "bars.webm"
    export_clip(ExportRequest(clip, ExportFormat.WEBM, out))
    line = stream_line(out)
    assert "yuv420p(tv, bt709" in line and "23.98 fps" in line, line
    raw = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(out), "-vf", "scale=in_color_matrix=bt709:in_range=tv,format=rgb24",
         "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    errors = bar_errors(np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3), width, height)
    # A second generation (mp4 decoded, then VP9) may lose a level more; a matrix mix-up would lose dozens.
    assert max(errors.values()) <= 5, errors


def noise(width: int, height: int, count: int) -> np.ndarray:
    """The worst case for the bitrate: every pixel new in every frame."""
    return np.random.default_rng(5).random((count, height, width, 3), dtype=np.float32)


@pytest.mark.parametrize(("width", "height"), [(256, 144), (1280, 720)])
def test_h264_level_holds_size_rate_and_bitrate(tmp_path: Path, width: int, height: int) -> None:
    fps, count = 24, 24
    clip = write_mp4(noise(width, height, count), tmp_path / "noise.mp4", fps, {})
    sps = sps_fields(clip)
    level = level_by_idc(sps["level_idc"])
    assert sps["profile_idc"] == 100  # High: bitrate and buffer limits are 5/4 of the table's
    assert (sps["colour_primaries"], sps["matrix_coefficients"], sps["video_full_range_flag"]) == (1, 1, 0)
    across, down = macroblocks(width, height)
    assert across * down <= level.max_fs and across * down * fps <= level.max_mbps
    assert level.idc >= level_for(width, height, fps).idc
    seconds = count / fps
    bits = bitstream_bits(clip)
    # What the level lets a stream carry in this time: the coded picture buffer full at the start, then the rate.
    allowed = HIGH_PROFILE_FACTOR * 1000 * (level.max_cpb + level.max_br * seconds)
    assert bits <= allowed, (bits, allowed, level.name)
    if width == 256:  # the clip that was tagged 1.2 (384 kb/s) while carrying 2.85 Mb/s
        assert bits / seconds <= HIGH_PROFILE_FACTOR * 1000 * level.max_br, (bits / seconds, level.name)


def test_keyframes_every_two_seconds(tmp_path: Path) -> None:
    fps, count = 8, 41
    # A slow pan: no scene cuts, so only the interval puts keyframes in.
    ramp = np.linspace(0, 1, 96, dtype=np.float32)
    frames = np.stack([np.roll(np.tile(ramp, (64, 1)), i, axis=1) for i in range(count)])
    clip = write_mp4(np.repeat(frames[..., None], 3, axis=3), tmp_path / "pan.mp4", fps, {})
    times = keyframe_times(clip)
    gaps = np.diff([*times, count / fps])
    assert times[0] == 0 and gaps.max() <= 2.0 + 1e-9, times


@pytest.mark.parametrize("rate", [Fraction(24000, 1001), Fraction(30000, 1001), 25])
def test_fractional_rate_is_exact_in_the_stream(tmp_path: Path, rate: Fraction | int) -> None:
    clip = write_mp4(noise(64, 48, 5), tmp_path / "rate.mp4", rate, {})
    assert packet_rate(clip) == rate
    sps = sps_fields(clip)
    assert Fraction(sps["time_scale"], 2 * sps["num_units_in_tick"]) == rate
