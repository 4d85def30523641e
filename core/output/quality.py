"""Frame fidelity measures (numpy only): PSNR and SSIM of a clip against a reference clip of the same shape.

Used to state what a speed option costs in quality: the frames of a cached (or otherwise approximated) run are
compared with the uncached run's frames for the same seed. Frames are float arrays in [0, 1], shaped
(frames, height, width, channels) or (height, width, channels).
"""

from __future__ import annotations

import numpy as np

SSIM_WINDOW = 7  # scikit-image's default uniform window
SSIM_K1, SSIM_K2 = 0.01, 0.03


def psnr(frames: np.ndarray, reference: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over the whole clip (inf when identical)."""
    if frames.shape != reference.shape:
        raise ValueError(f"shapes differ: {frames.shape} vs {reference.shape}")
    mse = float(np.mean((frames.astype(np.float64) - reference.astype(np.float64)) ** 2))
    if mse == 0.0:
        return float("inf")
    return 10.0 * np.log10(data_range**2 / mse)


def _box_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over every size×size window of the last two axes ('valid' windows only), via cumulative sums."""
    c = np.cumsum(np.cumsum(x, axis=-2), axis=-1)
    c = np.pad(c, [(0, 0)] * (x.ndim - 2) + [(1, 0), (1, 0)])
    total = c[..., size:, size:] - c[..., :-size, size:] - c[..., size:, :-size] + c[..., :-size, :-size]
    return total / (size * size)


def ssim(frames: np.ndarray, reference: np.ndarray, data_range: float = 1.0) -> float:
    """Mean structural similarity (Wang et al. 2004, uniform 7×7 window, per channel, averaged over frames and
    channels), as scikit-image's `structural_similarity` computes it by default."""
    if frames.shape != reference.shape:
        raise ValueError(f"shapes differ: {frames.shape} vs {reference.shape}")
    x = np.asarray(frames, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    if x.ndim == 3:
        x, y = x[None], y[None]
    # (frames, H, W, C) -> (frames, C, H, W) so the window runs over the two image axes.
    x, y = np.moveaxis(x, -1, 1), np.moveaxis(y, -1, 1)
    size = min(SSIM_WINDOW, x.shape[-1], x.shape[-2])
    if size % 2 == 0:
        size -= 1
    n = size * size
    cov_norm = n / (n - 1) if n > 1 else 1.0  # sample covariance, as scikit-image
    ux, uy = _box_mean(x, size), _box_mean(y, size)
    vx = cov_norm * (_box_mean(x * x, size) - ux * ux)
    vy = cov_norm * (_box_mean(y * y, size) - uy * uy)
    vxy = cov_norm * (_box_mean(x * y, size) - ux * uy)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return float(s.mean())
