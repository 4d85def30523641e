"""A cheap look at the latents while they denoise: a linear projection from the Wan2.1 VAE's 16 latent channels
to RGB, per latent pixel (8x8 video pixels, 4 frames), with no VAE call.

The factors are the published Wan2.1 latent-to-RGB approximation used for live previews by ComfyUI
(`comfy/latent_formats.py`, class `Wan21`: `latent_rgb_factors`, `latent_rgb_factors_bias`). They were fitted
on the real Wan2.1 VAE and apply to the normalised latents ((z - latents_mean) / latents_std), which is the
space our denoising loop works in. The numbers are facts about the VAE; this module is our own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

# 16 x 3: row c is latent channel c's contribution to (R, G, B) in [-1, 1].
WAN21_LATENT_RGB_FACTORS: tuple[tuple[float, float, float], ...] = (
    (-0.1299, -0.1692, 0.2932),
    (0.0671, 0.0406, 0.0442),
    (0.3568, 0.2548, 0.1747),
    (0.0372, 0.2344, 0.1420),
    (0.0313, 0.0189, -0.0328),
    (0.0296, -0.0956, -0.0665),
    (-0.3477, -0.4059, -0.2925),
    (0.0166, 0.1902, 0.1975),
    (-0.0412, 0.0267, -0.1364),
    (-0.1293, 0.0740, 0.1636),
    (0.0680, 0.3019, 0.1128),
    (0.0032, 0.0581, 0.0639),
    (-0.1251, 0.0927, 0.1699),
    (0.0060, -0.0633, 0.0005),
    (0.3477, 0.2275, 0.2950),
    (0.1984, 0.0913, 0.1861),
)
WAN21_LATENT_RGB_BIAS: tuple[float, float, float] = (-0.1835, -0.0868, -0.3360)

DEFAULT_PREVIEW_EVERY = 5  # steps between previews; 0 turns them off
PREVIEW_MAX_SIDE = 160  # pixels: the preview is small, so the projection stays cheap at any video size


@dataclass(frozen=True)
class PreviewFrames:
    """The latents seen as a short clip: one RGB frame per latent frame (each stands for 4 video frames)."""

    step: int  # steps done when the latents were taken
    total: int
    frames: np.ndarray  # (T, h, w, 3) uint8, C-contiguous

    @property
    def size(self) -> tuple[int, int]:
        return int(self.frames.shape[2]), int(self.frames.shape[1])


def latents_to_rgb(latents: torch.Tensor, max_side: int = PREVIEW_MAX_SIDE) -> np.ndarray:
    """(1, 16, T, H, W) normalised latents -> (T, h, w, 3) uint8, h and w at most `max_side` (nearest-neighbour
    enlargement of the latent grid, never more than 8x, since each latent pixel is an 8x8 patch)."""
    import torch

    if latents.ndim != 5 or latents.shape[1] != len(WAN21_LATENT_RGB_FACTORS):
        raise ValueError(f"expected (1, 16, T, H, W) Wan2.1 latents, got {tuple(latents.shape)}")
    sample = latents[0].detach()
    factors = torch.tensor(WAN21_LATENT_RGB_FACTORS, dtype=torch.float32, device=sample.device)
    bias = torch.tensor(WAN21_LATENT_RGB_BIAS, dtype=torch.float32, device=sample.device)
    rgb = torch.einsum("cthw,cr->thwr", sample.float(), factors) + bias  # on the latents' device: no big copy
    rgb = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    _, height, width, _ = rgb.shape
    scale = max(1, min(8, max_side // max(height, width, 1)))
    if scale > 1:
        rgb = rgb.repeat(scale, axis=1).repeat(scale, axis=2)
    return np.ascontiguousarray(rgb)


def should_preview(step: int, total: int, every: int) -> bool:
    """Every `every` steps, and never on the last one (the decoded clip follows right after)."""
    return every > 0 and step < total and step % every == 0
