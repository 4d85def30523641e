"""What a player reads from a written clip, read with the bundled ffmpeg (it comes without ffprobe): the H.264
SPS fields (level, colour description, timing) through the `trace_headers` bitstream filter, the packets' exact
durations, and the pixels decoded with the matrix the stream is tagged with."""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from core.output.video import _ffmpeg

# H.264 VUI matrix_coefficients → ffmpeg's name for the matrix (2, unspecified: ffmpeg's own guess, BT.601).
MATRIX_NAMES = {1: "bt709", 5: "bt470", 6: "smpte170m", 2: "bt601"}


def sps_fields(path: Path) -> dict[str, int]:
    """The first SPS's syntax elements (level_idc, colour_primaries, …) as the stream carries them."""
    trace = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-bsf:v", "trace_headers",
         "-frames:v", "1", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    fields: dict[str, int] = {}
    for name, value in re.findall(r"\]\s+\d+\s+(\w+)\s+[01]+ = (-?\d+)", trace):
        fields.setdefault(name, int(value))
    return fields


def packet_rate(path: Path) -> Fraction:
    """The stream's frame rate from its time base and its packets' durations (all equal), exact."""
    text = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    num, den = (int(v) for v in re.search(r"^#tb 0: (\d+)/(\d+)$", text, re.MULTILINE).groups())  # type: ignore[union-attr]
    durations = {int(line.split(",")[3]) for line in text.splitlines() if line and not line.startswith("#")}
    assert len(durations) == 1, durations
    return 1 / (Fraction(num, den) * durations.pop())


def decode_as_tagged(path: Path, width: int, height: int) -> np.ndarray:
    """Every frame to RGB, converted with the matrix and range the stream's SPS states (as a player does)."""
    sps = sps_fields(path)
    matrix = MATRIX_NAMES[sps.get("matrix_coefficients", 2)]
    in_range = "pc" if sps.get("video_full_range_flag") else "tv"
    raw = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(path),
         "-vf", f"scale=in_color_matrix={matrix}:in_range={in_range}:flags=accurate_rnd+full_chroma_int,format=rgb24",
         "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)


def bitstream_bits(path: Path) -> int:
    """The video's own bits (the packets' sizes, without the container)."""
    text = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return 8 * sum(int(line.split(",")[4]) for line in text.splitlines() if line and not line.startswith("#"))


def stream_line(path: Path) -> str:
    """ffmpeg's one-line description of the video stream ("… yuv420p(tv, bt709, progressive), 1280x720, …")."""
    info = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return re.search(r"Video: .*", info).group(0)  # type: ignore[union-attr]


def keyframe_times(path: Path) -> list[float]:
    """When each keyframe shows, in seconds (only keyframes decoded)."""
    log = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-skip_frame", "nokey", "-i", str(path), "-vf", "showinfo", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return [float(t) for t in re.findall(r"pts_time:\s*([0-9.]+)", log)]
