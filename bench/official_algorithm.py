"""The official ContentV sampling algorithm, re-implemented on a loaded `ContentVTransformer3DModel`'s weights:
the baseline the engine's speed and numerics are measured against.

What the official code (bytedance/ContentV: contentv_pipeline.py, contentv_transformer.py) does, and so this:
- every transformer call patchifies each frame, then rebuilds the 3D sin-cos position embedding on the CPU
  (`get_3d_sincos_pos_embed(..., output_type="pt")`) and moves it to the device and dtype;
- the joint attention is diffusers' stock `JointAttnProcessor2_0` (plain `scaled_dot_product_attention`);
- classifier-free guidance runs the conditional branch, then the unconditional one, as two transformer calls
  (the official pipeline does not batch them), combined as `uncond + g * (cond - uncond)`;
- the scheduler is the model's FlowMatchEulerDiscreteScheduler with `sigmas = linspace(1, 0, steps + 1)[:-1]`;
- the noise is the caller's (the official demo draws it with a seeded CPU generator in the compute dtype).

The engine's own speed-ups (cached position embedding, kernel choice, step caches, compile) are all bypassed: the
transformer's attention processors are swapped for the stock one for the duration of the call and restored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from diffusers.models.attention_processor import JointAttnProcessor2_0
from diffusers.models.embeddings import get_3d_sincos_pos_embed

from core.engine.pipeline import PromptEmbeddings

# ContentV-8B's scheduler_config.json (the same values as the reference checkpoint's).
OFFICIAL_SCHEDULER_CONFIG: dict[str, Any] = {"num_train_timesteps": 1000, "shift": 3.0}


@contextmanager
def _stock_attention(transformer: Any) -> Iterator[None]:
    if getattr(transformer, "is_cache_enabled", False):
        raise RuntimeError("Switch the step cache off before running the official algorithm on this transformer.")
    saved = transformer.attn_processors
    transformer.set_attn_processor(JointAttnProcessor2_0())
    try:
        yield
    finally:
        transformer.set_attn_processor(saved)


def _blocks_forward(block: Any) -> Callable[..., Any]:
    """The block's uncompiled forward (compile_repeated_blocks wraps `_call_impl`, not `forward`)."""
    return block.forward


def official_transformer_call(
    transformer: Any,
    latents: torch.Tensor,
    timestep: torch.Tensor,
    embeds: torch.Tensor,
    pooled: torch.Tensor,
) -> torch.Tensor:
    """One forward of the official SD3Transformer3DModel on `transformer`'s weights."""
    b, _, frames, height, width = latents.shape
    patch = transformer.config.patch_size
    # Patchify each frame: b c t h w -> (b t) c h w -> conv -> b (t h w) c
    x = latents.permute(0, 2, 1, 3, 4).reshape(b * frames, latents.shape[1], height, width)
    x = transformer.pos_embed.proj(x)
    d, hp, wp = x.shape[1:]
    x = x.reshape(b, frames, d, hp, wp).permute(0, 1, 3, 4, 2).reshape(b, frames * hp * wp, d)
    table = get_3d_sincos_pos_embed(  # rebuilt on the CPU in every call, as the official code does
        embed_dim=transformer.pos_embed.embed_dim,
        spatial_size=(width // patch, height // patch),
        temporal_size=frames,
        spatial_interpolation_scale=0.5,
        temporal_interpolation_scale=1.0,
        output_type="pt",
    )
    hidden = x + table.flatten(0, 1).unsqueeze(0).to(device=x.device, dtype=x.dtype)

    temb = transformer.time_text_embed(timestep, pooled)
    context = transformer.context_embedder(embeds)
    for block in transformer.transformer_blocks:
        context, hidden = _blocks_forward(block)(
            hidden_states=hidden, encoder_hidden_states=context, temb=temb, joint_attention_kwargs=None
        )
    hidden = transformer.norm_out(hidden, temb)
    hidden = transformer.proj_out(hidden)
    # b (t h w) (p q c) -> b c t (h p) (w q)
    c = hidden.shape[-1] // (patch * patch)
    out = hidden.reshape(b, frames, height // patch, width // patch, patch, patch, c)
    return out.permute(0, 6, 1, 2, 4, 3, 5).reshape(b, c, frames, height, width)


def _scheduler(scheduler: Any | None) -> Any:
    if scheduler is not None:
        return scheduler
    return FlowMatchEulerDiscreteScheduler(**OFFICIAL_SCHEDULER_CONFIG)


def _official_step(
    transformer: Any,
    scheduler: Any,
    embeds: PromptEmbeddings,
    latents: torch.Tensor,
    t: torch.Tensor,
    guidance: float,
) -> torch.Tensor:
    timestep = t.expand(latents.shape[0])
    noise_pred = official_transformer_call(transformer, latents, timestep, embeds.embeds, embeds.pooled)
    if guidance > 1 and embeds.negative_embeds is not None and embeds.negative_pooled is not None:
        uncond = official_transformer_call(
            transformer, latents, timestep, embeds.negative_embeds, embeds.negative_pooled
        )
        noise_pred = uncond + guidance * (noise_pred - uncond)
    return scheduler.step(noise_pred, t, latents, return_dict=False)[0]


@torch.no_grad()
def official_denoise(
    transformer: Any,
    embeds: PromptEmbeddings,
    latents: torch.Tensor,
    steps: int,
    guidance: float,
    device: torch.device | str,
    on_step: Callable[[int], None] | None = None,
    scheduler: Any | None = None,
) -> torch.Tensor:
    """The official denoising loop; returns the final latents. `scheduler`: the model's own (default: ContentV-8B's
    configuration)."""
    device = torch.device(device)
    scheduler = _scheduler(scheduler)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 0.0, steps + 1)[:-1], device=device)
    latents = latents.to(device)
    with _stock_attention(transformer):
        for i, t in enumerate(scheduler.timesteps):
            latents = _official_step(transformer, scheduler, embeds, latents, t, guidance)
            if on_step is not None:
                on_step(i + 1)
    return latents


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def time_official_steps(
    transformer: Any,
    embeds: PromptEmbeddings,
    latents: torch.Tensor,
    steps: int,
    guidance: float,
    device: torch.device | str,
    scheduler: Any | None = None,
) -> list[float]:
    """Seconds per official step (CUDA-synchronised before and after each), for `steps` steps."""
    device = torch.device(device)
    scheduler = _scheduler(scheduler)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 0.0, steps + 1)[:-1], device=device)
    latents = latents.to(device)
    seconds: list[float] = []
    with _stock_attention(transformer):
        for t in scheduler.timesteps:
            _sync(device)
            start = time.perf_counter()
            latents = _official_step(transformer, scheduler, embeds, latents, t, guidance)
            _sync(device)
            seconds.append(time.perf_counter() - start)
    return seconds
