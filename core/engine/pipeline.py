"""The ContentV text-to-video pipeline: SD3-style text encoding, flow-matching Euler sampling of a 3D MMDiT,
and Wan2.1 VAE decoding — numerically the official `ContentVPipeline`, split into stages the engine can time,
report and cancel between.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DiffusionPipeline

from core.job.request import GuidanceBatching, snap_frames

if TYPE_CHECKING:
    from core.parallel.rank_context import RankContext

logger = logging.getLogger(__name__)

CLIP_MAX_TOKENS = 77


@dataclass
class PromptEmbeddings:
    embeds: torch.Tensor  # (1, 77 + T5 tokens, T5 width)
    pooled: torch.Tensor  # (1, CLIP-L proj + CLIP-G proj)
    negative_embeds: torch.Tensor | None
    negative_pooled: torch.Tensor | None


StepHook = Callable[[int], None]  # called after each finished step with the number of steps done
LatentsHook = Callable[[int, torch.Tensor], None]  # (steps done, the latents after that step)

AUTO_MIN_STEPS = 6  # AUTO spends steps 1-3 on a warm-up and the two measurements; below this it is not worth it


def _batching_mode(batch_cfg: bool | GuidanceBatching) -> GuidanceBatching:
    if isinstance(batch_cfg, GuidanceBatching):
        return batch_cfg
    return GuidanceBatching.BATCHED if batch_cfg else GuidanceBatching.SEQUENTIAL


def _synchronized_clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


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
        self.active_branch = "cond"  # the guidance branch the transformer is running ("cond", "uncond", "both")
        self.guidance_batching_used = GuidanceBatching.SEQUENTIAL
        self.guidance_timings: dict[str, float] = {}
        self.step_seconds: list[float] = []  # seconds of each step of the last denoise (CUDA-synchronised)
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
        branch: str,
    ) -> torch.Tensor:
        # The branch name keeps step caches (diffusers' cache hooks) and the MagCache recorder apart per branch.
        self.active_branch = branch
        context = (
            self.transformer.cache_context(branch)
            if getattr(self.transformer, "is_cache_enabled", False)
            else contextlib.nullcontext()
        )
        with context:
            return self.transformer(
                hidden_states=latents,
                timestep=t.expand(latents.shape[0]),
                encoder_hidden_states=embeds,
                pooled_projections=pooled,
                return_dict=False,
            )[0]

    def _guided_pair_batched(
        self, latents: torch.Tensor, t: torch.Tensor, both_embeds: torch.Tensor, both_pooled: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        uncond, cond = self._predict(torch.cat([latents, latents]), t, both_embeds, both_pooled, "both").chunk(2)
        return uncond, cond

    def _guided_pair_sequential(
        self, latents: torch.Tensor, t: torch.Tensor, prompt: PromptEmbeddings
    ) -> tuple[torch.Tensor, torch.Tensor]:
        assert prompt.negative_embeds is not None and prompt.negative_pooled is not None
        # The official order: the conditional branch first, then the unconditional one.
        cond = self._predict(latents, t, prompt.embeds, prompt.pooled, "cond")
        uncond = self._predict(latents, t, prompt.negative_embeds, prompt.negative_pooled, "uncond")
        return uncond, cond

    def _guided_pair_split(
        self, latents: torch.Tensor, t: torch.Tensor, prompt: PromptEmbeddings, ranks: RankContext
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Under a guidance split this rank runs one branch (guidance index 0: unconditional, 1: conditional) under
        that branch's own cache context, as one process does, and the pair exchanges its prediction: one
        all-gather of one latent-sized tensor per step."""
        import torch.distributed as dist

        assert prompt.negative_embeds is not None and prompt.negative_pooled is not None
        if ranks.guidance_index == 0:
            mine = self._predict(latents, t, prompt.negative_embeds, prompt.negative_pooled, "uncond")
        else:
            mine = self._predict(latents, t, prompt.embeds, prompt.pooled, "cond")
        mine = mine.contiguous()
        both = [torch.empty_like(mine) for _ in range(2)]
        dist.all_gather(both, mine, group=ranks.guidance_group)
        return both[0], both[1]

    @torch.no_grad()
    def denoise(
        self,
        prompt: PromptEmbeddings,
        latents: torch.Tensor,
        steps: int,
        guidance: float,
        device: torch.device,
        batch_cfg: bool | GuidanceBatching = False,
        on_step: StepHook | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_latents: LatentsHook | None = None,
        start_step: int = 0,
        before_loop: Callable[[], None] | None = None,
        after_step: LatentsHook | None = None,
        guidance_state: dict | None = None,
        ranks: RankContext | None = None,
    ) -> torch.Tensor:
        """Flow-matching Euler from sigma 1 to 0.

        Guidance runs one branch after the other by default (the official numerics, half the activations).
        `batch_cfg=True` (or BATCHED) runs both as one batch of two, falling back to one after the other if that
        runs out of GPU memory; AUTO times both on this job's own steps (step 2 one after the other, step 3
        batched, after a warm-up step) and keeps the faster for the rest. `self.guidance_batching_used` says
        which ran. `on_latents(steps_done, latents)` sees the latents after each step (live preview).

        Resuming (core/store/journal.py): `latents` are those after `start_step` steps, `before_loop()` runs once the
        schedule is set (it puts the scheduler's and the step cache's saved state back), `guidance_state` is
        `self.guidance_state()` as it was then, and `after_step(steps_done, latents)` runs after each step, before
        the progress hooks (the journal's snapshots).

        Split over ranks (`ranks`, core/parallel/rank_context.py): every rank calls this in lockstep with the same
        latents.
        `should_stop()` says whether this rank was asked to stop; the ranks agree on it before each step
        (`ranks.any_rank`), so all stop at the same step. Under a guidance split each rank computes one branch
        (`_guided_pair_split`) and all apply guidance and the scheduler step identically; guidance never runs
        batched there."""
        mode = _batching_mode(batch_cfg)
        guided = prompt.negative_embeds is not None and prompt.negative_pooled is not None
        split_guidance = ranks is not None and ranks.layout.splits_guidance and guided
        if mode is GuidanceBatching.AUTO and (not guided or steps < AUTO_MIN_STEPS):
            mode = GuidanceBatching.SEQUENTIAL  # too few steps to measure and still profit
        timings: dict[GuidanceBatching, float] = {}
        if guidance_state:  # resumed: the mode AUTO had settled on (or its measurements so far)
            mode = GuidanceBatching(guidance_state.get("mode", mode.value))
            timings = {GuidanceBatching(k): float(v) for k, v in guidance_state.get("timings", {}).items()}
        if ranks is not None:
            mode, timings = GuidanceBatching.SEQUENTIAL, {}  # each rank runs its branch (or its shard) alone
        sigmas = np.linspace(1.0, 0.0, steps + 1)[:-1]
        self.scheduler.set_timesteps(sigmas=sigmas, device=device)
        both_embeds = both_pooled = prompt.embeds  # replaced below when guidance may run batched
        if guided and mode is not GuidanceBatching.SEQUENTIAL:
            assert prompt.negative_embeds is not None and prompt.negative_pooled is not None
            both_embeds = torch.cat([prompt.negative_embeds, prompt.embeds])
            both_pooled = torch.cat([prompt.negative_pooled, prompt.pooled])
        self.step_seconds = []
        self._guidance_now = (mode, timings)
        if before_loop is not None:
            before_loop()

        for i, t in enumerate(self.scheduler.timesteps):
            if i < start_step:
                continue
            stop = should_stop is not None and should_stop()
            if ranks is not None:
                stop = ranks.any_rank(stop)
            if stop:
                break
            step_started = _synchronized_clock(device)
            if not guided:
                noise_pred = self._predict(latents, t, prompt.embeds, prompt.pooled, "cond")
            elif split_guidance:
                assert ranks is not None
                uncond, cond = self._guided_pair_split(latents, t, prompt, ranks)
                noise_pred = uncond + guidance * (cond - uncond)
            else:
                run_batched = mode is GuidanceBatching.BATCHED or (mode is GuidanceBatching.AUTO and i == 2)
                started = _synchronized_clock(device)
                pair: tuple[torch.Tensor, torch.Tensor] | None = None
                if run_batched:
                    try:
                        pair = self._guided_pair_batched(latents, t, both_embeds, both_pooled)
                    except torch.OutOfMemoryError:
                        logger.warning("Batched guidance ran out of GPU memory; continuing one branch at a time.")
                        mode = GuidanceBatching.SEQUENTIAL
                        if torch.cuda.is_available():
                            torch.cuda.empty_cache()
                if pair is None:
                    pair = self._guided_pair_sequential(latents, t, prompt)
                uncond, cond = pair
                noise_pred = uncond + guidance * (cond - uncond)
                if mode is GuidanceBatching.AUTO and i in (1, 2):
                    used = GuidanceBatching.BATCHED if run_batched else GuidanceBatching.SEQUENTIAL
                    timings[used] = _synchronized_clock(device) - started
                    if len(timings) == 2:
                        mode = min(timings, key=lambda m: timings[m])
                        logger.info("Guidance batching measured: %s; using %s", timings, mode.value)
            latents = self.scheduler.step(noise_pred, t, latents, return_dict=False)[0]
            self.step_seconds.append(_synchronized_clock(device) - step_started)
            self._guidance_now = (mode, timings)
            if after_step is not None:
                after_step(i + 1, latents)
            if on_latents is not None:
                on_latents(i + 1, latents)
            if on_step is not None:
                on_step(i + 1)
        # AUTO still undecided (stopped before measuring) ran one branch after the other.
        ran_batched = guided and mode is GuidanceBatching.BATCHED
        self.guidance_batching_used = GuidanceBatching.BATCHED if ran_batched else GuidanceBatching.SEQUENTIAL
        self.guidance_timings = {m.value: round(s, 4) for m, s in timings.items()}
        return latents

    def guidance_state(self) -> dict:
        """How guidance runs at this point of the current denoise (for a journal snapshot): the mode in effect and
        AUTO's measurements so far."""
        mode, timings = getattr(self, "_guidance_now", (GuidanceBatching.SEQUENTIAL, {}))
        return {"mode": mode.value, "timings": {m.value: s for m, s in timings.items()}}

    # ---- decoding -----------------------------------------------------------------------------------------
    def decoder_calls(self, latents: torch.Tensor) -> int:
        return decoder_calls(self.vae, latents)

    @torch.no_grad()
    def decode(
        self,
        latents: torch.Tensor,
        device: torch.device,
        on_decoder_call: Callable[[int, int], None] | None = None,
        before_block: Callable[[], None] | None = None,
    ) -> np.ndarray:
        return decode_latents(self.vae, latents, device, on_decoder_call, before_block)

    def _decode(self, latents: torch.Tensor, device: torch.device) -> np.ndarray:
        return _vae_decode(self.vae, latents, device)

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
        batch_cfg: bool | GuidanceBatching = False,
    ) -> np.ndarray:
        device = torch.device(device)
        num_frames = snap_frames(num_frames)
        do_cfg = guidance_scale > 1
        embeds = self.encode_prompt(prompt, negative_prompt, do_cfg, max_sequence_length, device, dtype)
        latents = self.initial_noise(self.latent_shape(height, width, num_frames), seed, dtype, device)
        latents = self.denoise(embeds, latents, num_inference_steps, guidance_scale, device, batch_cfg=batch_cfg)
        return self.decode(latents, device)


# ---- decoding, with any Wan VAE (the pipeline's, or one loaded alone to decode a journal's latents again) ---------
def decoder_calls(vae: torch.nn.Module, latents: torch.Tensor) -> int:
    """How many times the Wan VAE will call its decoder for these latents: once per latent frame, and per
    overlapping tile when tiling applies (mirrors AutoencoderKLWan._decode / tiled_decode)."""
    _, _, frames, height, width = latents.shape
    ratio = getattr(vae, "spatial_compression_ratio", 8)
    tile_h = getattr(vae, "tile_sample_min_height", 256) // ratio
    tile_w = getattr(vae, "tile_sample_min_width", 256) // ratio
    if getattr(vae, "use_tiling", False) and (width > tile_w or height > tile_h):
        stride_h = max(1, getattr(vae, "tile_sample_stride_height", 192) // ratio)
        stride_w = max(1, getattr(vae, "tile_sample_stride_width", 192) // ratio)
        return frames * -(-height // stride_h) * -(-width // stride_w)
    return frames


@torch.no_grad()
def decode_latents(
    vae: Any,
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
        return _vae_decode(vae, latents, device)
    total = decoder_calls(vae, latents)
    done = 0

    def after_call(_module: torch.nn.Module, _args: object, _output: object) -> None:
        nonlocal done
        done += 1
        if on_decoder_call is not None:
            on_decoder_call(done, max(total, done))

    def before(_module: torch.nn.Module, _args: object) -> None:
        if before_block is not None:
            before_block()

    decoder = vae.decoder
    handles = [decoder.register_forward_hook(after_call), decoder.register_forward_pre_hook(before)]
    for name in ("mid_block", "up_blocks"):
        blocks = getattr(decoder, name, None)
        for block in blocks if isinstance(blocks, torch.nn.ModuleList) else [blocks] if blocks else []:
            handles.append(block.register_forward_pre_hook(before))
    try:
        return _vae_decode(vae, latents, device)
    finally:
        for handle in handles:
            handle.remove()
        vae.clear_cache()  # a decode stopped midway leaves its per-frame cache behind


def _vae_decode(vae: Any, latents: torch.Tensor, device: torch.device) -> np.ndarray:
    vae_dtype = vae.dtype
    latents = latents.to(device=device, dtype=vae_dtype)
    z = vae.config.z_dim
    mean = torch.tensor(vae.config.latents_mean).view(1, z, 1, 1, 1).to(device, vae_dtype)
    inv_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, z, 1, 1, 1).to(device, vae_dtype)
    latents = latents / inv_std + mean
    video = vae.decode(latents, return_dict=False)[0]  # (1, 3, T, H, W) in [-1, 1]
    frames = (video[0].permute(1, 2, 3, 0).float() * 0.5 + 0.5).clamp(0, 1)
    return frames.cpu().numpy()
