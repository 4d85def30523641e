"""A folder of lossless PNG frames that carries the clip's parameters: in each frame's tEXt chunk (the key most
image tools read generation parameters from) and in `parameters.json` beside the frames.

One writer for both ways frames are made, `generate --save-frames` (core/output/video.py) and the PNG export
(core/output/export.py), so the two folders are alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.store.durable import fsync_dir, fsync_file

FRAME_NAME = "frame_{:05d}.png"
PNG_SIDECAR_NAME = "parameters.json"
PNG_TEXT_KEY = "parameters"


def parameters_text(parameters: dict[str, Any]) -> str:
    """The parameters as the JSON sidecars hold them."""
    return json.dumps(parameters, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_frames_into(
    folder: Path,
    pixels: np.ndarray,
    parameters: dict[str, Any] | None,
    each_frame: Callable[[int], None] | None = None,
) -> int:
    """Write every frame of `pixels` ((T, H, W, 3) uint8) and `parameters.json` into the existing, empty `folder`,
    each file flushed to disk; `each_frame(i)` runs after frame i (progress; it may raise to stop). Returns the
    number of frames found written. `parameters` None: bare frames (no text chunk, no parameters.json)."""
    from PIL import Image, PngImagePlugin

    text: PngImagePlugin.PngInfo | None = None
    if parameters is not None:
        text = PngImagePlugin.PngInfo()
        # A tEXt chunk holds Latin-1 only: ASCII-escaped JSON keeps prompts in any script intact.
        text.add_text(PNG_TEXT_KEY, json.dumps(parameters, ensure_ascii=True, sort_keys=True))
    for i, frame in enumerate(pixels):
        target = folder / FRAME_NAME.format(i)
        Image.fromarray(frame).save(target, pnginfo=text, compress_level=4)
        fsync_file(target)
        if each_frame is not None:
            each_frame(i)
    if parameters is not None:
        sidecar = folder / PNG_SIDECAR_NAME
        sidecar.write_text(parameters_text(parameters), encoding="utf-8")
        fsync_file(sidecar)
    fsync_dir(folder)
    return len(list(folder.glob("frame_*.png")))


def read_frame_parameters(path: Path) -> dict[str, Any] | None:
    """The parameters in one PNG frame's text chunk, or None."""
    from PIL import Image

    with Image.open(path) as image:
        raw = getattr(image, "text", {}).get(PNG_TEXT_KEY)
    if raw is None:
        return None
    try:
        loaded = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return loaded if isinstance(loaded, dict) else None
