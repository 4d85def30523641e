"""Frame interpolation: more frames per second over the same span of time, with RIFE 4.x or ffmpeg's minterpolate.

Timing convention: a clip of n frames at f fps lasts (n − 1) / f seconds from its first frame to its last (frame k
is shown at k / f). Interpolating to F fps keeps that span: the output has floor((n − 1) · F / f) + 1 frames, frame
j at j / F, taken from source position j · f / F — 2× of n frames is 2n − 1 frames at twice the fps, 4× is 4n − 3.
Output frames that land on a source frame are that frame, unchanged.

Scene cuts: where consecutive source frames differ by more than a threshold (the mean absolute difference of their
luma, in percent of full scale — the measure ffmpeg's minterpolate uses, with its default of 10), the frames
between them are not blended: each repeats the nearer source frame (RIFE), or minterpolate repeats one of them.

- RIFE (cccv's IFNet, RIFE 4.25/4.26): any time step between two frames; frames padded to a multiple of 64 (the
  net's coarsest level sees 1/64 of the frame); float16 on a GPU, float32 on the CPU.
- ffmpeg's minterpolate (motion-compensated, in the bundled ffmpeg): needs no weights, slower and softer.
"""

from __future__ import annotations

import math
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidRequestError, OutputError
from core.finish.networks import build_rife
from core.finish.upscale import pick_device
from core.i18n import _t
from core.job.progress import CancelToken
from core.output.frame_rate import parse_frame_rate

SCENE_CUT_PERCENT = 10.0  # minterpolate's default scd_threshold, same measure
MAX_FPS = 240
PAD_MULTIPLE = 64

FrameCallback = Callable[[int, int], None]  # (frames done, frames in all)


class InterpolationMethod(str, Enum):
    RIFE = "rife"
    FFMPEG = "ffmpeg"


@dataclass(frozen=True)
class Timing:
    """Where each output frame comes from: source positions (a Fraction, exact) for `count` frames at `fps`."""

    source_frames: int
    source_fps: Fraction
    fps: Fraction

    @property
    def count(self) -> int:
        return math.floor((self.source_frames - 1) * self.fps / self.source_fps) + 1

    def positions(self) -> list[Fraction]:
        step = self.source_fps / self.fps
        return [j * step for j in range(self.count)]

    @property
    def duration_s(self) -> float:
        """First frame to last: (count − 1) / fps, equal to the source's (n − 1) / f where the ratio divides."""
        return float((self.count - 1) / self.fps)


def as_fraction(value: float | Fraction) -> Fraction:
    """An exact rate: 29.97 is 30000/1001 and 47.952 is 48000/1001 (core/output/frame_rate.py), not a nearby
    fraction."""
    if isinstance(value, Fraction):
        return value
    try:
        return Fraction(parse_frame_rate(value))
    except ValueError:
        return Fraction(value).limit_denominator(1001)  # out of the writable range: target_fps refuses it


def target_fps(source_fps: float | Fraction, factor: int | None = None, fps: float | None = None) -> Fraction:
    """The output rate: `factor` × the source's, or `fps`; refused when it is not above the source's."""
    if (factor is None) == (fps is None):  # the caller picks the one (InterpolateStep.rate)
        raise InvalidRequestError(_t("Give either a factor or a frame rate to interpolate to, not both."))
    source = as_fraction(source_fps)
    if factor is not None:
        if factor not in (2, 4, 8):
            raise InvalidRequestError(_t("The factor must be 2, 4 or 8 (got {value}).").format(value=factor))
        out = source * factor
    else:
        assert fps is not None
        if not math.isfinite(fps) or fps <= 0:
            raise InvalidRequestError(_t("The frame rate must be a positive number (got {value}).").format(value=fps))
        out = as_fraction(fps)
    if out <= source:
        raise InvalidRequestError(
            _t("The clip is already {source} fps; interpolate to a higher frame rate (got {value}).").format(
                source=f"{float(source):g}", value=f"{float(out):g}"
            )
        )
    if out > MAX_FPS:
        raise InvalidRequestError(_t("At most {limit} fps (got {value}).").format(limit=MAX_FPS, value=float(out)))
    return out


def luma_difference_percent(a: np.ndarray, b: np.ndarray) -> float:
    """The mean absolute difference of two uint8 RGB frames' luma (BT.601), in percent of full scale."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float(np.abs(a.astype(np.float32) @ weights - b.astype(np.float32) @ weights).mean() / 255 * 100)


def scene_cuts(frames: np.ndarray, threshold: float = SCENE_CUT_PERCENT) -> set[int]:
    """Indices i where a cut lies between frame i and frame i + 1."""
    return {i for i in range(len(frames) - 1) if luma_difference_percent(frames[i], frames[i + 1]) > threshold}


# ---- RIFE --------------------------------------------------------------------------------------------------------
@dataclass
class Rife:
    net: Any
    device: str
    half: bool
    source: Path


def load_rife(path: Path, device: str = "auto", half: bool | None = None) -> Rife:
    import torch

    device = pick_device(device)
    use_half = device == "cuda" if half is None else half
    net = build_rife(Path(path)).to(device=device, dtype=torch.float16 if use_half else torch.float32)
    return Rife(net, device, use_half, Path(path))


def interpolate_rife(
    frames: np.ndarray,
    timing: Timing,
    rife: Rife,
    threshold: float = SCENE_CUT_PERCENT,
    progress: FrameCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, int]:
    """uint8 (n, H, W, 3) → (timing.count, H, W, 3) and how many frames were repeated at scene cuts."""
    import torch
    import torch.nn.functional as F

    cuts = scene_cuts(frames, threshold)
    count, (height, width) = timing.count, frames.shape[1:3]
    out = np.empty((count, height, width, 3), dtype=np.uint8)
    pad_h, pad_w = (-height) % PAD_MULTIPLE, (-width) % PAD_MULTIPLE
    dtype = torch.float16 if rife.half else torch.float32
    cached: dict[int, Any] = {}

    def tensor(i: int) -> Any:
        if i not in cached:
            if len(cached) > 2:  # frames are used in order: keep the pair at hand
                cached.clear()
            t = torch.from_numpy(np.ascontiguousarray(frames[i])).to(rife.device).permute(2, 0, 1)[None].float() / 255
            cached[i] = F.pad(t, (0, pad_w, 0, pad_h), mode="replicate").to(dtype)
        return cached[i]

    repeated = 0
    with torch.inference_mode():
        for j, position in enumerate(timing.positions()):
            if cancel is not None:
                cancel.raise_if_cancelled()
            i, step = math.floor(position), position - math.floor(position)
            if step == 0:
                out[j] = frames[i]
            elif i in cuts:
                out[j] = frames[i if step <= Fraction(1, 2) else i + 1]
                repeated += 1
            else:
                pair = torch.cat((tensor(i), tensor(i + 1)), dim=1)
                middle = rife.net(pair, timestep=float(step))[:, :, :height, :width].float()
                pixels = (middle.clamp(0, 1)[0].permute(1, 2, 0) * 255).round().to(torch.uint8)
                out[j] = pixels.cpu().numpy()
            if progress is not None:
                progress(j + 1, count)
    return out, repeated


# ---- ffmpeg ------------------------------------------------------------------------------------------------------
def minterpolate_filter(fps: Fraction, threshold: float = SCENE_CUT_PERCENT) -> str:
    return (
        f"minterpolate=fps={fps.numerator}/{fps.denominator}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1"
        f":scd=fdiff:scd_threshold={threshold:g}"
    )


def interpolate_ffmpeg(
    frames: np.ndarray,
    timing: Timing,
    threshold: float = SCENE_CUT_PERCENT,
    progress: FrameCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """The same through the bundled ffmpeg's minterpolate (frames piped in and out, never through a file)."""
    from core.output.video import _ffmpeg

    _, height, width, _ = frames.shape
    # minterpolate stops short of the last source frame (it looks ahead): feed the last one a few more times and
    # keep exactly the frames the timing asks for.
    padded = np.concatenate([frames, np.repeat(frames[-1:], 3, axis=0)])
    rate = timing.source_fps
    command = [
        _ffmpeg(), "-hide_banner", "-nostdin", "-v", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
        "-r", f"{rate.numerator}/{rate.denominator}", "-i", "-",
        "-vf", minterpolate_filter(timing.fps, threshold),
        "-frames:v", str(timing.count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    errors: list[bytes] = []

    def feed() -> None:
        try:
            for frame in padded:
                process.stdin.write(np.ascontiguousarray(frame).tobytes())  # type: ignore[union-attr]
            process.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError, OSError):
            pass  # ffmpeg stopped (cancel, or it has all the frames it was asked for)

    def drain() -> None:
        errors.append(process.stderr.read())  # type: ignore[union-attr]

    threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain, daemon=True)]
    for thread in threads:
        thread.start()
    size = height * width * 3
    out = np.empty((timing.count, height, width, 3), dtype=np.uint8)
    got = 0
    try:
        while got < timing.count:
            if cancel is not None:
                cancel.raise_if_cancelled()
            data = process.stdout.read(size)
            if len(data) < size:
                break
            out[got] = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
            got += 1
            if progress is not None:
                progress(got, timing.count)
        process.stdout.close()
        code = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for thread in threads:
            thread.join(10)
    if got < timing.count:
        detail = b"".join(errors).decode("utf-8", "replace").strip().splitlines()
        raise OutputError(
            _t("ffmpeg's minterpolate gave {got} of {count} frames ({detail}).").format(
                got=got, count=timing.count, detail=detail[-1] if detail else f"exit status {code}"
            )
        )
    return out
