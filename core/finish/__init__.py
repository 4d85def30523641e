"""Finishing a clip: upscaling (Real-ESRGAN / ESRGAN nets) and frame interpolation (RIFE 4.x, or ffmpeg's
minterpolate), through cccv's network classes. No Qt here.

- `clip.py` — the job: `FinishRequest` → `finish_clip(request, progress, cancel)` → `FinishResult`;
- `upscale.py` — tiled upscaling sized from free memory; `interpolate.py` — timing, scene cuts, RIFE, ffmpeg;
- `networks.py` — building the networks from local weights files; `models.py` — the named default models and
  their pinned, resumable download.
"""
