"""The ContentV text-to-video pipeline: SD3-style text encoding, flow-matching Euler sampling of a 3D MMDiT,
and Wan2.1 VAE decoding — numerically the official `ContentVPipeline`, split into stages the engine can time,
report and cancel between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DiffusionPipeline

from core.request import snap_frames

logger = logging.getLogger(__name__)

CLIP_MAX_TOKENS = 77


@dataclass
class PromptEmbeddings:
    embeds: torch.Tensor  # (1, 77 + T5 tokens, T5 width)
    pooled: torch.Tensor  # (1, CLIP-L proj + CLIP-G proj)
    negative_embeds: torch.Tensor | None
    negative_pooled: torch.Tensor | None


StepHook = Callable[[int], None]  # called after each finished step with the number of steps done


class ContentVPipeline(DiffusionPipeline):
    """Holds the nine components; subclassing DiffusionPipeline gives diffusers' model and sequential CPU offload,
    which walk `model_cpu_offload_seq`."""

    model_cpu_offload_seq = "text_encoder->text_encoder_2->text_encoder_3->transformer->vae"
    _optional_components: ClassVar[list[str]] = []

    def __init__(
        self,
        transformer: torch.nn.Module,
        scheduler: object,
        vae: torch.nn.Module,
        text_encoder: torch.nn.Module,
        tokenizer: object,
        text_encoder_2: torch.nn.Module,
        tokenizer_2: object,
        text_encoder_3: torch.nn.Module,
        tokenizer_3: object,
    ) -> None:
        super().__init__()
        self.register_modules(
            transformer=transformer,
            scheduler=scheduler,
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            text_encoder_2=text_encoder_2,
            tokenizer_2=tokenizer_2,
            text_encoder_3=text_encoder_3,
            tokenizer_3=tokenizer_3,
        )
        self.vae_scale_factor_temporal = 2 ** sum(self.vae.config.temperal_downsample)
        self.vae_scale_factor_spatial = 2 ** len(self.vae.config.temperal_downsample)

    # ---- text -------------------------------------------------------------------------------------------
    def _clip_embeds(
        self, index: int, prompt: str, device: torch.device, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        tokenizer = (self.tokenizer, self.tokenizer_2)[index]
        encoder = (self.text_encoder, self.text_encoder_2)[index]
        max_length = getattr(self.tokenizer, "model_max_length", CLIP_MAX_TOKENS)
        ids = tokenizer(
            [prompt], padding="max_length", max_length=max_length, truncation=True, return_tensors="pt"
        ).input_ids
        out = encoder(ids.to(device), output_hidden_states=True)
        pooled = out[0]
        penultimate = out.hidden_states[-2]
        return penultimate.to(dtype=dtype, device=device), pooled.to(dtype=dtype, device=device)

    def _t5_embeds(
        self, prompt: str, max_sequence_length: int, device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        ids = self.tokenizer_3(
            [prompt],
            padding="max_length",
            max_length=max_sequence_length,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        ).input_ids
        return self.text_encoder_3(ids.to(device))[0].to(dtype=dtype, device=device)

    def _encode_one(
        self, prompt: str, max_sequence_length: int, device: torch.device, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        clip_l, pooled_l = self._clip_embeds(0, prompt, device, dtype)
        clip_g, pooled_g = self._clip_embeds(1, prompt, device, dtype)
        clip = torch.cat([clip_l, clip_g], dim=-1)
        t5 = self._t5_embeds(prompt, max_sequence_length, device, dtype)
        # SD3's scheme: CLIP features zero-padded to T5's width, then CLIP tokens followed by T5 tokens.
        clip = F.pad(clip, (0, t5.shape[-1] - clip.shape[-1]))
        return torch.cat([clip, t5], dim=-2), torch.cat([pooled_l, pooled_g], dim=-1)

    @torch.no_grad()
    def encode_prompt(
        self,
        prompt: str,
        negative_prompt: str,
        do_cfg: bool,
        max_sequence_length: int,
        device: torch.device,
        dtype: torch.dtype,
    ) -> PromptEmbeddings:
        embeds, pooled = self._encode_one(prompt, max_sequence_length, device, dtype)
        if not do_cfg:
            return PromptEmbeddings(embeds, pooled, None, None)
        neg_embeds, neg_pooled = self._encode_one(negative_prompt or "", max_sequence_length, device, dtype)
        return PromptEmbeddings(embeds, pooled, neg_embeds, neg_pooled)

    # ---- sampling -----------------------------------------------------------------------------------------
    def latent_shape(self, height: int, width: int, num_frames: int) -> tuple[int, int, int, int, int]:
        latent_frames = (num_frames - 1) // self.vae_scale_factor_temporal + 1
        s = self.vae_scale_factor_spatial
        return (1, self.transformer.config.in_channels, latent_frames, height // s, width // s)

    @staticmethod
    def initial_noise(shape: tuple[int, ...], seed: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        # Drawn on the CPU with a seeded generator in the compute dtype, then moved: the official demo's noise,
        # whatever the device.
        generator = torch.Generator(device="cpu").manual_seed(seed)
        return torch.randn(shape, generator=generator, dtype=dtype, device="cpu").to(device)

    def _predict(
        self,
        latents: torch.Tensor,
        t: torch.Tensor,
        embeds: torch.Tensor,
        pooled: torch.Tensor,
    ) -> torch.Tensor:
        return self.transformer(
            hidden_states=latents,
            timestep=t.expand(latents.shape[0]),
            encoder_hidden_states=embeds,
            pooled_projections=pooled,
            return_dict=False,
        )[0]

    @torch.no_grad()
    def denoise(
        self,
        prompt: PromptEmbeddings,
        latents: torch.Tensor,
        steps: int,
        guidance: float,
        device: torch.device,
        batch_cfg: bool = True,
        on_step: StepHook | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_latents: Callable[[int, torch.Tensor], None] | None = None,
    ) -> torch.Tensor:
        """Flow-matching Euler from sigma 1 to 0. With `batch_cfg`, the conditional and unconditional branches
        run as one batch of two; if that runs out of GPU memory, the rest runs one branch after the other."""
        sigmas = np.linspace(1.0, 0.0, steps + 1)[:-1]
        self.scheduler.set_timesteps(sigmas=sigmas, device=device)
        both_embeds = both_pooled = prompt.embeds  # replaced below when guidance runs batched
        if batch_cfg and prompt.negative_embeds is not None and prompt.negative_pooled is not None:
            both_embeds = torch.cat([prompt.negative_embeds, prompt.embeds])
            both_pooled = torch.cat([prompt.negative_pooled, prompt.pooled])

        for i, t in enumerate(self.scheduler.timesteps):
            if should_stop is not None and should_stop():
                break
            if prompt.negative_embeds is None or prompt.negative_pooled is None:
                noise_pred = self._predict(latents, t, prompt.embeds, prompt.pooled)
            else:
                pair: tuple[torch.Tensor, torch.Tensor] | None = None
                if batch_cfg:
                    try:
                        uncond, cond = self._predict(torch.cat([latents, latents]), t, both_embeds, both_pooled).chunk(
                            2
                        )
                        pair = (uncond, cond)
                    except torch.OutOfMemoryError:
                        logger.warning("Batched guidance ran out of GPU memory; continuing one branch at a time.")
                        batch_cfg = False
                        del both_embeds, both_pooled
                        if torch.cuda.is_available():
                            torch.cuda.empty_cache()
                if pair is None:
                    pair = (
                        self._predict(latents, t, prompt.negative_embeds, prompt.negative_pooled),
                        self._predict(latents, t, prompt.embeds, prompt.pooled),
                    )
                uncond, cond = pair
                noise_pred = uncond + guidance * (cond - uncond)
            latents = self.scheduler.step(noise_pred, t, latents, return_dict=False)[0]
            if on_step is not None:
                on_step(i + 1)
            if on_latents is not None:
                on_latents(i + 1, latents)
        return latents

    # ---- decoding -----------------------------------------------------------------------------------------
    def decoder_calls(self, latents: torch.Tensor) -> int:
        """How many times the Wan VAE will call its decoder for these latents: once per latent frame, and per
        overlapping tile when tiling applies (mirrors AutoencoderKLWan._decode / tiled_decode)."""
        _, _, frames, height, width = latents.shape
        vae = self.vae
        ratio = getattr(vae, "spatial_compression_ratio", 8)
        tile_h = getattr(vae, "tile_sample_min_height", 256) // ratio
        tile_w = getattr(vae, "tile_sample_min_width", 256) // ratio
        if getattr(vae, "use_tiling", False) and (width > tile_w or height > tile_h):
            stride_h = max(1, getattr(vae, "tile_sample_stride_height", 192) // ratio)
            stride_w = max(1, getattr(vae, "tile_sample_stride_width", 192) // ratio)
            return frames * -(-height // stride_h) * -(-width // stride_w)
        return frames

    @torch.no_grad()
    def decode(
        self,
        latents: torch.Tensor,
        device: torch.device,
        on_decoder_call: Callable[[int, int], None] | None = None,
        before_block: Callable[[], None] | None = None,
    ) -> np.ndarray:
        """Latents to frames (T, H, W, 3), float32 in [0, 1], as the official output_type="np".

        `on_decoder_call(done, total)` runs after each call of the VAE's decoder (one latent frame, or one tile
        of it): progress. `before_block()` runs before the decoder and before each of its middle and upsampling
        blocks: the place to stop a long decode within a fraction of a frame (an exception raised there ends
        it)."""
        if on_decoder_call is None and before_block is None:
            return self._decode(latents, device)
        total = self.decoder_calls(latents)
        done = 0

        def after_call(_module: torch.nn.Module, _args: object, _output: object) -> None:
            nonlocal done
            done += 1
            if on_decoder_call is not None:
                on_decoder_call(done, max(total, done))

        def before(_module: torch.nn.Module, _args: object) -> None:
            if before_block is not None:
                before_block()

        decoder = self.vae.decoder
        handles = [decoder.register_forward_hook(after_call), decoder.register_forward_pre_hook(before)]
        for name in ("mid_block", "up_blocks"):
            blocks = getattr(decoder, name, None)
            for block in blocks if isinstance(blocks, torch.nn.ModuleList) else [blocks] if blocks else []:
                handles.append(block.register_forward_pre_hook(before))
        try:
            return self._decode(latents, device)
        finally:
            for handle in handles:
                handle.remove()
            self.vae.clear_cache()  # a decode stopped midway leaves its per-frame cache behind

    def _decode(self, latents: torch.Tensor, device: torch.device) -> np.ndarray:
        vae_dtype = self.vae.dtype
        latents = latents.to(device=device, dtype=vae_dtype)
        z = self.vae.config.z_dim
        mean = torch.tensor(self.vae.config.latents_mean).view(1, z, 1, 1, 1).to(device, vae_dtype)
        inv_std = 1.0 / torch.tensor(self.vae.config.latents_std).view(1, z, 1, 1, 1).to(device, vae_dtype)
        latents = latents / inv_std + mean
        video = self.vae.decode(latents, return_dict=False)[0]  # (1, 3, T, H, W) in [-1, 1]
        frames = (video[0].permute(1, 2, 3, 0).float() * 0.5 + 0.5).clamp(0, 1)
        return frames.cpu().numpy()

    # ---- one call, official signature (used by the parity test and scripts) -----------------------------------
    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        negative_prompt: str = "",
        height: int = 432,
        width: int = 768,
        num_frames: int = 125,
        num_inference_steps: int = 50,
        guidance_scale: float = 6.0,
        seed: int = 0,
        max_sequence_length: int = 256,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_cfg: bool = True,
    ) -> np.ndarray:
        device = torch.device(device)
        num_frames = snap_frames(num_frames)
        do_cfg = guidance_scale > 1
        embeds = self.encode_prompt(prompt, negative_prompt, do_cfg, max_sequence_length, device, dtype)
        latents = self.initial_noise(self.latent_shape(height, width, num_frames), seed, dtype, device)
        latents = self.denoise(embeds, latents, num_inference_steps, guidance_scale, device, batch_cfg=batch_cfg)
        return self.decode(latents, device)
