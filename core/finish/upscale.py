"""Upscaling a clip's frames with a super-resolution network, frame by frame, in tiles sized from free memory.

- Tiles: the largest square tile whose activations fit in a share of the free memory (CUDA: torch.cuda.mem_get_info;
  the CPU: the available RAM), the whole frame when it fits. Each tile is run with `TILE_OVERLAP` pixels of its
  neighbours around it and only its own middle is kept, so the network sees across the seam and no seam shows (for
  the compact SRVGG nets, whose reach is 1 pixel per layer, the tiled frame equals the whole one when the overlap
  covers that reach). A tile is padded (edge pixels repeated) to the multiple its network needs — SwinIR's and
  HAT's attention window, RRDB's pixel-unshuffle — and the padding cut off again.
- Precision: float16 on a GPU (the Real-ESRGAN nets are trained and published for it); a frame that comes out with
  NaN or infinity in float16 is done again in float32, and the rest of the clip stays in float32. float32 on the CPU.
- The network's own factor is resampled to the asked scale (antialiased area-like downscale, bicubic upscale), and
  the size is rounded to even numbers, which H.264 in 4:2:0 needs.
- Progress per frame; the cancel token is checked between tiles, so a cancel stops within a frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidRequestError, OutOfMemoryError
from core.finish.networks import UpscalerSpec, build_upscaler
from core.i18n import _t
from core.job.progress import CancelToken

TILE_OVERLAP = 24  # input pixels of context on each side of a tile
MIN_TILE = 64
MAX_SCALE = 8.0
MEMORY_SHARE_GPU = 0.5  # of the free GPU memory, for one tile's activations
MEMORY_SHARE_CPU = 0.25  # of the available RAM

FrameCallback = Callable[[int, int], None]  # (frames done, frames in all)


@dataclass
class Upscaler:
    """A loaded upscaling network on its device."""

    net: Any
    spec: UpscalerSpec
    device: str
    half: bool
    source: Path

    @property
    def scale(self) -> int:
        return self.spec.scale


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidRequestError(_t("There is no CUDA GPU here; use --device cpu."))
    return device


def load_upscaler(path: Path, device: str = "auto", half: bool | None = None) -> Upscaler:
    """The network in `path` on `device`; `half` None: float16 on a GPU, float32 on the CPU."""
    import torch

    device = pick_device(device)
    net, spec = build_upscaler(Path(path))
    use_half = device == "cuda" if half is None else half
    net = net.to(device=device, dtype=torch.float16 if use_half else torch.float32)
    return Upscaler(net, spec, device, use_half, Path(path))


def output_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The upscaled size, rounded to even numbers (H.264 in 4:2:0)."""
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def check_scale(scale: float) -> None:
    if not math.isfinite(scale) or scale <= 1 or scale > MAX_SCALE:
        raise InvalidRequestError(
            _t("The upscale factor must be above 1 and at most {limit} (got {value}).").format(
                limit=f"{MAX_SCALE:g}", value=f"{scale:g}"
            )
        )


def bytes_per_input_pixel(spec: UpscalerSpec, element_bytes: int) -> int:
    """A generous estimate of the memory one input pixel of a tile costs while the network runs: a few live
    feature maps at the widest width, and the upsampling stages at the output's resolution."""
    widest = max(spec.features, spec.in_channels * spec.scale**2)
    return element_bytes * (4 * widest + 3 * 64 * spec.scale**2 + 8)


def free_memory_bytes(device: str) -> int:
    import torch

    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info()
        return int(free * MEMORY_SHARE_GPU)
    import psutil

    return int(psutil.virtual_memory().available * MEMORY_SHARE_CPU)


def tile_side(upscaler: Upscaler, width: int, height: int, budget_bytes: int | None = None) -> int:
    """The side of a square tile (input pixels, before the overlap) that fits the budget; at least MIN_TILE, and
    the frame's longer side when the whole frame fits."""
    budget = free_memory_bytes(upscaler.device) if budget_bytes is None else budget_bytes
    per_pixel = bytes_per_input_pixel(upscaler.spec, 2 if upscaler.half else 4)
    side = int(math.sqrt(max(budget, 0) / per_pixel)) - 2 * TILE_OVERLAP
    if side >= max(width, height):
        return max(width, height)
    return max(MIN_TILE, side // 8 * 8)


def upscale_frames(
    frames: np.ndarray,
    upscaler: Upscaler,
    scale: float,
    progress: FrameCallback | None = None,
    cancel: CancelToken | None = None,
    tile: int | None = None,
) -> np.ndarray:
    """uint8 (T, H, W, 3) → uint8 (T, H', W', 3) at `scale` (see `output_size`); `tile` overrides the size picked
    from free memory."""
    import torch

    check_scale(scale)
    count, height, width, _ = frames.shape
    out_w, out_h = output_size(width, height, scale)
    side = tile or tile_side(upscaler, width, height)
    result = np.empty((count, out_h, out_w, 3), dtype=np.uint8)
    for index in range(count):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            result[index] = _upscale_one(frames[index], upscaler, (out_w, out_h), side, cancel)
        except torch.OutOfMemoryError:
            if side <= MIN_TILE:
                raise OutOfMemoryError(
                    _t("The GPU ran out of memory upscaling a {tile}-pixel tile.").format(tile=side),
                    "Close other programs using the GPU, or run on the CPU (--device cpu).",
                ) from None
            torch.cuda.empty_cache()
            side = max(MIN_TILE, side // 2)  # free memory was overestimated: smaller tiles from here on
            result[index] = _upscale_one(frames[index], upscaler, (out_w, out_h), side, cancel)
        if progress is not None:
            progress(index + 1, count)
    return result


def _upscale_one(
    frame: np.ndarray, upscaler: Upscaler, size: tuple[int, int], side: int, cancel: CancelToken | None
) -> np.ndarray:
    import torch

    image = torch.from_numpy(np.ascontiguousarray(frame)).to(upscaler.device).permute(2, 0, 1)[None]
    image = image.float() / 255.0
    out = _run_tiled(image, upscaler, side, cancel)
    if upscaler.half and not bool(torch.isfinite(out).all()):
        # float16 overflowed on this content: float32 from here on (correct beats fast).
        upscaler.net = upscaler.net.float()
        upscaler.half = False
        out = _run_tiled(image, upscaler, side, cancel)
    out = _resample(out.float(), size)
    pixels = (out.clamp(0, 1)[0].permute(1, 2, 0) * 255).round().to(torch.uint8)
    return pixels.cpu().numpy()


def _run_tiled(image: Any, upscaler: Upscaler, side: int, cancel: CancelToken | None) -> Any:
    """The network over `image` (1, 3, H, W) float in [0, 1], tile by tile with overlap; float32 result."""
    import torch
    import torch.nn.functional as F

    _, channels, height, width = image.shape
    scale = upscaler.scale
    dtype = torch.float16 if upscaler.half else torch.float32
    out = torch.empty((1, channels, height * scale, width * scale), device=image.device, dtype=torch.float32)
    # RRDB's 2× and 1× nets pixel-unshuffle by 2 or 4, SwinIR and HAT attend within w×w windows: a tile's sides
    # must divide by that, so a tile is padded at its bottom and right edges and the padding cut off again.
    multiple = upscaler.spec.size_multiple
    with torch.inference_mode():
        for top in range(0, height, side):
            for left in range(0, width, side):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                bottom, right = min(top + side, height), min(left + side, width)
                y0, x0 = max(top - TILE_OVERLAP, 0), max(left - TILE_OVERLAP, 0)
                y1, x1 = min(bottom + TILE_OVERLAP, height), min(right + TILE_OVERLAP, width)
                piece = image[:, :, y0:y1, x0:x1]
                pad_h, pad_w = (-piece.shape[2]) % multiple, (-piece.shape[3]) % multiple
                if pad_h or pad_w:
                    piece = F.pad(piece, (0, pad_w, 0, pad_h), mode="replicate")
                result = upscaler.net(piece.to(dtype)).float()
                oy, ox = (top - y0) * scale, (left - x0) * scale
                out[:, :, top * scale : bottom * scale, left * scale : right * scale] = result[
                    :, :, oy : oy + (bottom - top) * scale, ox : ox + (right - left) * scale
                ]
    return out


def _resample(image: Any, size: tuple[int, int]) -> Any:
    import torch.nn.functional as F

    width, height = size
    if image.shape[-1] == width and image.shape[-2] == height:
        return image
    shrinking = width < image.shape[-1]
    return F.interpolate(image, size=(height, width), mode="bicubic", align_corners=False, antialias=shrinking)
