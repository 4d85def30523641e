"""ContentV's 3D MMDiT: diffusers' SD3 transformer with per-frame patchify, (t, h, w) token order and a
3D sin-cos position embedding.

The official implementation rebuilds the position embedding on the CPU in every forward; here it is built
once per (frames, height, width, device, dtype) and cached, which gives the same numbers.

Its tokens can be split across the ranks of a split job (core/parallel/sequence_split.py, diffusers' context
parallelism).

The class mixes in diffusers' `CacheMixin` (enable_cache / cache_context / disable_cache), which step caching
(core/engine/step_cache.py) uses.
"""

from __future__ import annotations

import types
from typing import Any, ClassVar

import torch
from diffusers import SD3Transformer2DModel
from diffusers.configuration_utils import register_to_config
from diffusers.models.cache_utils import CacheMixin
from diffusers.models.embeddings import get_3d_sincos_pos_embed
from diffusers.models.modeling_outputs import Transformer2DModelOutput
from torch import nn

# The class name the official checkpoint's config.json carries; the loader maps it to ours.
OFFICIAL_CLASS_NAME = "SD3Transformer3DModel"


class FramePatchEmbed(nn.Module):
    """Conv2d patchify applied to each frame, tokens ordered (t, h, w), plus a cached 3D sin-cos embedding."""

    def __init__(self, patch_size: int, in_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size, bias=True)
        self._pos_cache: dict[tuple[int, int, int, torch.device, torch.dtype], torch.Tensor] = {}

    def position_embedding(
        self, frames: int, height: int, width: int, device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        key = (frames, height, width, device, dtype)
        cached = self._pos_cache.get(key)
        if cached is None:
            p = self.patch_size
            table = get_3d_sincos_pos_embed(
                embed_dim=self.embed_dim,
                spatial_size=(width // p, height // p),
                temporal_size=frames,
                spatial_interpolation_scale=0.5,
                temporal_interpolation_scale=1.0,
                output_type="pt",
            )
            cached = table.flatten(0, 1).unsqueeze(0).to(device=device, dtype=dtype)
            # A handful of shapes per session at most; keep the newest few so a long session cannot grow it.
            if len(self._pos_cache) >= 8:
                self._pos_cache.pop(next(iter(self._pos_cache)))
            self._pos_cache[key] = cached
        return cached

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = latents.shape
        frames = latents.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        tokens = self.proj(frames)  # (b t) d h' w'
        d, hp, wp = tokens.shape[1:]
        tokens = tokens.reshape(b, t, d, hp, wp).permute(0, 1, 3, 4, 2).reshape(b, t * hp * wp, d)
        return tokens + self.position_embedding(t, h, w, tokens.device, tokens.dtype)


def _pass_text_through(block: nn.Module) -> None:
    """Make a `context_pre_only` block return its text states unchanged instead of None.

    SD3's last joint block does not update the text tokens and returns (None, video). Nothing reads the text
    states after it, so the value is free to choose; returning the input lets block-level caches (diffusers'
    First-Block cache computes a text-state residual at the tail block) work on this transformer. The video
    output is untouched, so the numbers do not change.
    """
    # A bound method (not a closure), so a deep copy of the model binds it to the copied block.
    block.forward = types.MethodType(_forward_keeping_text, block)  # type: ignore[method-assign]


def _forward_keeping_text(block: nn.Module, *args: Any, **kwargs: Any) -> Any:
    text_in = kwargs.get("encoder_hidden_states", args[1] if len(args) > 1 else None)
    text_out, video_out = type(block).forward(block, *args, **kwargs)
    return (text_in if text_out is None else text_out), video_out


class ContentVTransformer3DModel(SD3Transformer2DModel, CacheMixin):
    """Accepts every SD3Transformer2DModel config key, so the official config.json loads as it is."""

    _repeated_blocks: ClassVar[list[str]] = [
        "JointTransformerBlock"
    ]  # for regional torch.compile (core/engine/compile.py)

    @register_to_config
    def __init__(
        self,
        sample_size: int = 128,
        patch_size: int = 2,
        in_channels: int = 16,
        num_layers: int = 38,
        attention_head_dim: int = 64,
        num_attention_heads: int = 38,
        joint_attention_dim: int = 4096,
        caption_projection_dim: int = 2432,
        pooled_projection_dim: int = 2048,
        out_channels: int = 16,
        pos_embed_max_size: int = 192,
        dual_attention_layers: tuple[int, ...] = (),
        qk_norm: str | None = "rms_norm",
    ) -> None:
        # Defaults are ContentV-8B's; the official config.json repeats every key, all accepted here.
        super().__init__(
            sample_size=sample_size,
            patch_size=patch_size,
            in_channels=in_channels,
            num_layers=num_layers,
            attention_head_dim=attention_head_dim,
            num_attention_heads=num_attention_heads,
            joint_attention_dim=joint_attention_dim,
            caption_projection_dim=caption_projection_dim,
            pooled_projection_dim=pooled_projection_dim,
            out_channels=out_channels,
            pos_embed_max_size=pos_embed_max_size,
            dual_attention_layers=tuple(dual_attention_layers),
            qk_norm=qk_norm,
        )
        # Replace SD3's 2D PatchEmbed (and its large fixed position table) by the per-frame 3D version.
        self.pos_embed = FramePatchEmbed(patch_size=patch_size, in_channels=in_channels, embed_dim=self.inner_dim)
        for block in self.transformer_blocks:
            if getattr(block, "context_pre_only", False):
                _pass_text_through(block)

    def _resolve_parallel_config(self, config: Any) -> Any:
        # diffusers' version divides by torch.accelerator.device_count() (0 on the CPU); see
        # core/parallel/sequence_split.py.
        from core.parallel.sequence_split import resolve_parallel_config_on_mesh

        return resolve_parallel_config_on_mesh(self, config)

    def unpatchify(self, tokens: torch.Tensor, frames: int, height: int, width: int) -> torch.Tensor:
        p = self.pos_embed.patch_size
        b, _, _ = tokens.shape
        h, w = height // p, width // p
        c = tokens.shape[-1] // (p * p)
        # b (t h w) (p q c) -> b c t (h p) (w q)
        x = tokens.reshape(b, frames, h, w, p, p, c)
        x = x.permute(0, 6, 1, 2, 4, 3, 5)
        return x.reshape(b, c, frames, h * p, w * p)

    def forward(  # type: ignore[override]
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        timestep: torch.Tensor,
        joint_attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor] | Transformer2DModelOutput:
        _, _, frames, height, width = hidden_states.shape
        hidden_states = self.pos_embed(hidden_states)
        temb = self.time_text_embed(timestep, pooled_projections)
        encoder_hidden_states = self.context_embedder(encoder_hidden_states)

        for block in self.transformer_blocks:
            encoder_hidden_states, hidden_states = block(
                hidden_states=hidden_states,
                encoder_hidden_states=encoder_hidden_states,
                temb=temb,
                joint_attention_kwargs=joint_attention_kwargs,
            )

        hidden_states = self.norm_out(hidden_states, temb)
        hidden_states = self.proj_out(hidden_states)
        output = self.unpatchify(hidden_states, frames, height, width)
        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
