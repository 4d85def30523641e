"""An estimate, before anything is loaded, of what a job will cost: peak GPU memory per stage (encoding,
denoising, decoding) and for the whole job, peak host RAM, seconds per denoising step and the job's time.

Everything here is an ESTIMATE computed from the architecture's numbers, not a measurement:

- Parameter counts come from the component configs (transformer layers, heads and widths; T5-XXL; CLIP-L/G; the
  Wan VAE), read from a model folder's config.json files when one is given, with ContentV-8B's built in.
- Activation sizes are a few calibrated coefficients times the tensor sizes the job implies (tokens × width for the
  transformer, pixels for the VAE). They were fitted to the full-size measurements on an NVIDIA H100 in the issue
  "Engine on real consumer PCs" (ContentV-8B, 768×432×125, bf16) and are tested against them (within 15 %) and
  against CPU measurements on small random models (tests/test_estimate.py).
- Seconds per step are the step's FLOPs (linear layers plus attention) divided by an effective throughput: the
  card's dense bf16 tensor TFLOPs (table below, vendor figures, approximate) times the efficiency measured on the
  H100 (4.53 s/step). Offload placements add their transfer cost from the host link's bandwidth.
- A job split over several GPUs (core/parallel/plan.py) is estimated per GPU: every GPU holds all the weights, a
  guidance split's GPU runs one branch, a sequence split's GPU holds its share of the tokens' activations and does
  its share of the work, and each step adds the bytes the split exchanges over the link between the GPUs
  (`split_traffic`, `LINK_TABLE`: bandwidths that are assumptions, not measurements; no multi-GPU machine has
  measured them yet).

Nothing here imports torch, so the window can call it on every change of a field.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.job.request import GenerationRequest, MemoryOptions, Placement, Quantization, StepCache, snap_frames
from core.parallel.rank_context import SplitLayout

GiB = 2**30

# ---- calibration (fitted to the H100 table in issue 9; see the module docstring) -------------------------------
# Peak transformer activations of one call, per sample, in units of (tokens × hidden × element size): the hidden
# states, attention inputs/outputs and feed-forward intermediates alive at once in a block with a fused kernel.
ACTIVATION_BUFFERS_PER_SAMPLE = 13.5
# Of those, the feed-forward's two 4x-wide intermediates (before and after the GELU): the engine now runs the
# feed-forward a slice of tokens at a time (core/engine/feed_forward.py), so they scale with the slice, not the clip.
FEED_FORWARD_BUFFERS = 8.0
DEFAULT_FEED_FORWARD_CHUNK = 8192  # core.engine.feed_forward.DEFAULT_CHUNK_TOKENS (not imported: it imports torch)
# Streamed placement: blocks of weights on the GPU at once (the one computing, the next one arriving).
STREAMED_BLOCKS_IN_FLIGHT = 1.5
# Untiled VAE decode: working set per output pixel of one frame chunk (float32 decoder features).
VAE_DECODE_BYTES_PER_PIXEL = 21_600
# Full output video copies alive while decoding (decoded tensor, then its rescaled/clamped copies).
VAE_OUTPUT_COPIES_UNTILED = 3.0
VAE_OUTPUT_COPIES_TILED = 2.3  # decoded tiles, blended result
VAE_TILE_PIXELS = 256 * 256  # diffusers' Wan tile (tile_sample_min_height × width)
# The H100 figure the throughput is calibrated on.
CALIBRATION_GPU = "NVIDIA H100 80GB HBM3"
CALIBRATION_S_PER_STEP = 4.53
CALIBRATION_SHAPE = (768, 432, 125)
# Streamed: side-stream copies overlap compute; measured 4.59 vs 4.53 s/step.
STREAMED_OVERHEAD = 0.013
# Sequential offload copies each layer synchronously from pageable memory: measured 6.87 s/step on a PCIe Gen5
# host, i.e. the transformer crossed at about 6.9 GB/s effective (a fraction of the link's bandwidth).
SEQUENTIAL_LINK_EFFICIENCY = 6.9 / 50.0
# Weight-only 8-bit: each layer is widened back to bf16 before it runs.
QUANTIZED_STEP_OVERHEAD = 0.03
# Attention slicing with a fused kernel: more, smaller kernel launches.
ATTENTION_SLICING_OVERHEAD = 0.05
# A non-fused ("math") attention kernel is this much slower on the attention part of the work.
MATH_ATTENTION_SLOWDOWN = 2.5
# Host process before any weights: the Python runtime, torch and (on a GPU) the CUDA libraries, Qt.
HOST_BASELINE_BYTES_GPU = int(2.0 * GiB)  # plus the CUDA libraries and context (not yet measured)
HOST_BASELINE_BYTES_CPU = int(0.5 * GiB)  # measured here: ~0.45 GiB with torch, diffusers, transformers imported
# VAE decode throughput relative to the transformer's (convolutions in float32 reach far less of the peak).
VAE_DECODE_FLOPS_PER_PIXEL = 2.2e6  # rough, per output pixel per frame; not measured yet (see bench/)
VAE_EFFICIENCY_FACTOR = 0.25
DEFAULT_QUERY_CHUNK = 2048  # core.engine.attention.DEFAULT_QUERY_CHUNK (not imported: it imports torch)
SAFETY_MARGIN_BYTES = int(0.9 * GiB)  # CUDA context, allocator fragmentation
# Step caching (core/engine/step_cache.py): the share of the transformer's work a level skips. MagCache's shares are
# what its settings allowed on the tiny test model (fast: about a third of the calls, faster: about half); the
# First-Block cache is adaptive and skipped nothing on random weights, so the estimate promises nothing for it.
# TaylorSeer's share follows from its schedule (warm-up steps, then one full step in TAYLOR_INTERVAL).
MAG_CACHE_SKIPPED_SHARE = {StepCache.FAST: 1 / 3, StepCache.FASTER: 1 / 2}
FIRST_BLOCK_SKIPPED_SHARE = 0.0
TAYLOR_INTERVAL = 3  # core.engine.step_cache.TAYLOR_INTERVAL (not imported: it imports torch)
TAYLOR_WARMUP_STEPS = 2  # core.engine.step_cache.TAYLOR_WARMUP_STEPS

# Approximate dense bf16/fp16 tensor TFLOPs (FP32 accumulate) and host-link bandwidth (GB/s, effective) of common
# cards, from the vendors' data sheets. Matched by substring of the name CUDA/NVML reports, longest key first.
GPU_TABLE: dict[str, tuple[float, float]] = {
    "H200": (989.0, 50.0),
    "H100 PCIe": (756.0, 50.0),
    "H100": (989.0, 50.0),
    "B200": (2250.0, 50.0),
    "A100": (312.0, 25.0),
    "L40S": (362.0, 25.0),
    "L40": (181.0, 25.0),
    "L4": (121.0, 25.0),
    "A10G": (70.0, 25.0),
    "A10": (125.0, 25.0),
    "RTX 6000 Ada": (364.0, 25.0),
    "RTX A6000": (155.0, 25.0),
    "RTX A5000": (111.0, 25.0),
    "RTX A4000": (77.0, 25.0),
    "RTX 5090": (209.5, 50.0),
    "RTX 5080": (112.6, 50.0),
    "RTX 5070 Ti": (87.9, 50.0),
    "RTX 5070": (61.7, 50.0),
    "RTX 5060 Ti": (47.4, 50.0),
    "RTX 4090": (165.2, 25.0),
    "RTX 4080": (97.5, 25.0),
    "RTX 4070 Ti": (80.2, 25.0),
    "RTX 4070": (58.3, 25.0),
    "RTX 4060 Ti": (44.1, 25.0),
    "RTX 4060": (30.2, 25.0),
    "RTX 3090 Ti": (80.0, 25.0),
    "RTX 3090": (71.0, 25.0),
    "RTX 3080 Ti": (68.2, 25.0),
    "RTX 3080": (59.5, 25.0),
    "RTX 3070 Ti": (43.5, 25.0),
    "RTX 3070": (40.6, 25.0),
    "RTX 3060 Ti": (32.4, 25.0),
    "RTX 3060": (25.6, 25.0),
    "RTX 2080 Ti": (53.8, 12.0),
    "V100": (125.0, 12.0),
    "T4": (65.0, 12.0),
}
UNKNOWN_GPU = (40.0, 25.0)  # a mid-range card, when the name is not in the table
CPU_TFLOPS = 1.0  # a desktop CPU in float32, roughly; only used to say "very slow"


def gpu_specs(name: str) -> tuple[float, float]:
    """(dense bf16 TFLOPs, host-link GB/s) for a GPU name as CUDA or NVML reports it."""
    for key in sorted(GPU_TABLE, key=len, reverse=True):
        if key.lower() in name.lower():
            return GPU_TABLE[key]
    return UNKNOWN_GPU


# ---- architecture ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransformerArch:
    num_layers: int = 38
    num_attention_heads: int = 38
    attention_head_dim: int = 64
    joint_attention_dim: int = 4096
    caption_projection_dim: int = 2432
    pooled_projection_dim: int = 2048
    in_channels: int = 16
    out_channels: int = 16
    patch_size: int = 2

    @property
    def hidden(self) -> int:
        return self.num_attention_heads * self.attention_head_dim

    def block_params(self, context_pre_only: bool) -> int:
        """One SD3 joint block: adaLN-zero for both streams, joint attention with rms qk-norm, two MLPs (4×)."""
        d = self.hidden
        linear = lambda i, o: i * o + o  # noqa: E731 - weight and bias
        x_stream = linear(d, 6 * d) + 4 * linear(d, d) + linear(d, 4 * d) + linear(4 * d, d)
        context_norm = linear(d, 2 * d) if context_pre_only else linear(d, 6 * d)
        context = context_norm + 3 * linear(d, d)
        if not context_pre_only:
            context += linear(d, d) + linear(d, 4 * d) + linear(4 * d, d)
        return x_stream + context + 4 * self.attention_head_dim

    @property
    def blocks_params(self) -> int:
        return (self.num_layers - 1) * self.block_params(False) + self.block_params(True)

    @property
    def other_params(self) -> int:
        d, p = self.hidden, self.patch_size
        patch = self.in_channels * p * p * d + d
        time_text = (256 * d + d) + (d * d + d) + (self.pooled_projection_dim * d + d) + (d * d + d)
        context = self.joint_attention_dim * self.caption_projection_dim + self.caption_projection_dim
        out = (d * 2 * d + 2 * d) + (d * p * p * self.out_channels + p * p * self.out_channels)
        return patch + time_text + context + out

    @property
    def params(self) -> int:
        return self.blocks_params + self.other_params

    @property
    def largest_linear_params(self) -> int:
        return 4 * self.hidden * self.hidden

    def flops_per_call(self, video_tokens: int, text_tokens: int) -> tuple[float, float]:
        """(linear FLOPs, attention FLOPs) of one forward pass for one sample."""
        d = self.hidden
        n = video_tokens + text_tokens
        x_linear = 12 * d * d  # q, k, v, out, MLP (the adaLN runs on one vector)
        ctx_linear = 12 * d * d
        linear = self.num_layers * 2.0 * (x_linear * video_tokens + ctx_linear * text_tokens)
        attention = self.num_layers * 4.0 * n * n * d
        return linear, attention


@dataclass(frozen=True)
class T5Arch:
    d_model: int = 4096
    d_ff: int = 10240
    d_kv: int = 64
    num_heads: int = 64
    num_layers: int = 24
    vocab_size: int = 32128
    gated: bool = True
    relative_attention_num_buckets: int = 32

    @property
    def block_params(self) -> int:
        inner = self.num_heads * self.d_kv
        ff = (3 if self.gated else 2) * self.d_model * self.d_ff
        return 4 * self.d_model * inner + ff + 2 * self.d_model

    @property
    def shared_params(self) -> int:
        return self.vocab_size * self.d_model

    @property
    def params(self) -> int:
        bias = self.relative_attention_num_buckets * self.num_heads
        return self.num_layers * self.block_params + self.shared_params + bias + self.d_model


@dataclass(frozen=True)
class ClipArch:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    projection_dim: int
    vocab_size: int = 49408
    max_position_embeddings: int = 77

    @property
    def params(self) -> int:
        h, i = self.hidden_size, self.intermediate_size
        layer = 4 * (h * h + h) + 4 * h + (h * i + i) + (i * h + h)
        embeddings = (self.vocab_size + self.max_position_embeddings) * h
        return embeddings + self.num_hidden_layers * layer + 2 * h + h * self.projection_dim


WAN_VAE_PARAMS_AT_96 = 126_892_531  # AutoencoderKLWan(base_dim=96, dim_mult=[1,2,4,4], num_res_blocks=2)


@dataclass(frozen=True)
class VaeArch:
    base_dim: int = 96
    num_res_blocks: int = 2

    @property
    def params(self) -> int:
        # Convolutions scale with width squared and roughly with the number of res blocks (2 in the real VAE).
        scale = (self.base_dim / 96) ** 2 * (self.num_res_blocks + 1) / 3
        return int(WAN_VAE_PARAMS_AT_96 * scale)


@dataclass(frozen=True)
class Architecture:
    transformer: TransformerArch = field(default_factory=TransformerArch)
    t5: T5Arch = field(default_factory=T5Arch)
    clip_l: ClipArch = field(default_factory=lambda: ClipArch(768, 3072, 12, 768))
    clip_g: ClipArch = field(default_factory=lambda: ClipArch(1280, 5120, 32, 1280))
    vae: VaeArch = field(default_factory=VaeArch)

    @classmethod
    def contentv_8b(cls) -> Architecture:
        return cls()

    @classmethod
    def from_model_dir(cls, root: str | Path) -> Architecture:
        """Read each component's config.json; a missing file or key keeps ContentV-8B's value."""
        root = Path(root)
        base = cls()

        def read(name: str) -> dict[str, Any]:
            try:
                return json.loads((root / name / "config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}

        def pick(default: Any, config: dict[str, Any], mapping: dict[str, str]) -> Any:
            values = {f: config[k] for f, k in mapping.items() if isinstance(config.get(k), (int, float))}
            return dataclasses.replace(default, **values)

        tr = read("transformer")
        transformer = pick(base.transformer, tr, {f.name: f.name for f in dataclasses.fields(TransformerArch)})
        t5_config = read("text_encoder_3")
        t5 = pick(
            base.t5,
            t5_config,
            {
                "d_model": "d_model",
                "d_ff": "d_ff",
                "d_kv": "d_kv",
                "num_heads": "num_heads",
                "num_layers": "num_layers",
                "vocab_size": "vocab_size",
                "relative_attention_num_buckets": "relative_attention_num_buckets",
            },
        )
        if "feed_forward_proj" in t5_config:
            t5 = dataclasses.replace(t5, gated=str(t5_config["feed_forward_proj"]).startswith("gated"))
        clip_keys = {
            "hidden_size": "hidden_size",
            "intermediate_size": "intermediate_size",
            "num_hidden_layers": "num_hidden_layers",
            "projection_dim": "projection_dim",
            "vocab_size": "vocab_size",
            "max_position_embeddings": "max_position_embeddings",
        }
        clip_l = pick(base.clip_l, read("text_encoder"), clip_keys)
        clip_g = pick(base.clip_g, read("text_encoder_2"), clip_keys)
        vae = pick(base.vae, read("vae"), {"base_dim": "base_dim", "num_res_blocks": "num_res_blocks"})
        return cls(transformer, t5, clip_l, clip_g, vae)


# ---- inputs and outputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobShape:
    width: int = 768
    height: int = 432
    frames: int = 125
    steps: int = 50
    guidance: float = 6.0
    max_sequence_length: int = 256

    @property
    def latent_frames(self) -> int:
        return (snap_frames(self.frames) - 1) // 4 + 1

    def video_tokens(self, patch: int) -> int:
        return self.latent_frames * (self.height // 8 // patch) * (self.width // 8 // patch)

    @property
    def text_tokens(self) -> int:
        return 77 + self.max_sequence_length

    @property
    def samples_per_step(self) -> int:
        return 2 if self.guidance > 1 else 1


@dataclass(frozen=True)
class EstimateOptions:
    placement: Placement = Placement.GPU
    quantization: Quantization = Quantization.NONE
    vae_tiling: bool = False
    vae_slicing: bool = False
    attention_slicing: bool = False
    text_encoders_off_gpu: bool = False
    device: str = "cuda"  # "cuda", "mps" or "cpu"
    dtype: str = "bfloat16"
    guidance_batched: bool = False  # the engine's default is one branch after the other
    fused_attention: bool = True  # flash / memory-efficient SDPA; False: the math kernel (scores materialised)
    # The engine after issue 9's memory work: T5 streams block by block in the streamed placement, and there the
    # CLIPs and the VAE (and in sequential) are on the GPU only while they run; loading holds one copy.
    t5_streamed: bool = True
    small_models_on_demand: bool = True
    one_copy_loading: bool = True
    # Feed-forward slices of this many tokens (core/engine/feed_forward.py, on in every placement); None: unchunked.
    feed_forward_chunk_tokens: int | None = DEFAULT_FEED_FORWARD_CHUNK
    gpu_name: str = CALIBRATION_GPU
    step_cache: StepCache = StepCache.OFF
    step_cache_calibrated: bool = False  # a MagCache calibration is stored for this model
    # Several GPUs (core/parallel/plan.py): how the job is split and the link the split's traffic crosses
    # (a LINK_TABLE key). The figures are then one GPU's: its peak memory, its seconds per step.
    layout: SplitLayout = field(default_factory=SplitLayout)
    link: str = "none"

    def memory_options(self) -> MemoryOptions:
        return MemoryOptions(
            device=self.device,
            dtype=self.dtype,
            placement=self.placement,
            vae_slicing=self.vae_slicing,
            vae_tiling=self.vae_tiling,
            attention_slicing=self.attention_slicing,
            quantization=self.quantization,
            text_encoders_off_gpu=self.text_encoders_off_gpu,
        )


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes on the compute device per stage (on the CPU they are host RAM too), host RAM, and time."""

    encoding_bytes: int
    denoising_bytes: int
    decoding_bytes: int
    host_ram_bytes: int  # peak process RAM, loading included
    host_weights_bytes: int  # weights the placement keeps in host RAM
    load_transient_bytes: int  # extra host RAM while a component is converted during loading
    s_per_step: float
    total_s: float  # encoding + steps + decoding + per-job transfers (not loading from disk)
    weights_bytes: int  # all weights in their stored form

    @property
    def peak_bytes(self) -> int:
        return max(self.encoding_bytes, self.denoising_bytes, self.decoding_bytes)

    @property
    def peak_stage(self) -> str:
        stages = {"encoding": self.encoding_bytes, "denoising": self.denoising_bytes, "decoding": self.decoding_bytes}
        return max(stages, key=lambda k: stages[k])


@dataclass(frozen=True)
class _Weights:
    transformer_blocks: int
    transformer_block: int
    transformer_other: int
    t5_blocks: int
    t5_block: int
    t5_shared: int
    clip: int
    vae: int
    largest_leaf: int

    @property
    def transformer(self) -> int:
        return self.transformer_blocks + self.transformer_other

    @property
    def t5(self) -> int:
        return self.t5_blocks + self.t5_shared

    @property
    def total(self) -> int:
        return self.transformer + self.t5 + self.clip + self.vae


def _element_size(dtype: str) -> int:
    return 4 if dtype == "float32" else 2


def _weights(arch: Architecture, options: EstimateOptions) -> _Weights:
    elem = _element_size(options.dtype)
    # int8 / fp8: one byte per weight in the blocks plus a per-output-channel scale (counted as ~1 %).
    quant = 1.01 if options.quantization is not Quantization.NONE else float(elem)
    tr, t5 = arch.transformer, arch.t5
    block = int(tr.block_params(False) * quant)
    t5_block = int(t5.block_params * quant)
    largest_leaf = max(tr.largest_linear_params, t5.shared_params, 3 * t5.d_model * t5.d_ff) * elem
    return _Weights(
        transformer_blocks=int(tr.blocks_params * quant),
        transformer_block=block,
        transformer_other=tr.other_params * elem,
        t5_blocks=int(t5.num_layers * t5.block_params * quant),
        t5_block=t5_block,
        t5_shared=(t5.params - t5.num_layers * t5.block_params) * elem,
        clip=(arch.clip_l.params + arch.clip_g.params) * elem,
        vae=arch.vae.params * 4,  # the Wan VAE runs in float32
        largest_leaf=largest_leaf,
    )


# ---- the estimate ---------------------------------------------------------------------------------------------
def estimate(shape: JobShape, options: EstimateOptions, arch: Architecture | None = None) -> MemoryEstimate:
    """Estimate the job's memory and time (see the module docstring: an estimate, calibrated on an H100)."""
    arch = arch or Architecture.contentv_8b()
    w = _weights(arch, options)
    elem = _element_size(options.dtype)
    tr = arch.transformer

    # -- activations
    video_tokens = shape.video_tokens(tr.patch_size)
    tokens = video_tokens + shape.text_tokens
    layout = options.layout
    # A guidance split's GPU runs one branch; a sequence split's GPU holds its share of the tokens between the
    # attentions (Ulysses: all tokens for its share of the heads inside them, the same bytes).
    batch = shape.samples_per_step if options.guidance_batched and not layout.splits_guidance else 1
    rank_tokens = rank_token_count(shape, tr, layout.sequence)
    hidden_bytes = rank_tokens * tr.hidden * elem
    # The cached 3D position table: added before the split, so every GPU holds all of it.
    denoise_act = video_tokens * tr.hidden * elem
    if layout.splits_sequence:
        # The embedded tokens before the split (a shard may be a view that keeps them alive), and under ring
        # attention every GPU's keys and values gathered at once (diffusers gathers them before computing).
        denoise_act += tokens * tr.hidden * elem
        if layout.sequence_kind == "ring":
            denoise_act += batch * 2 * tokens * tr.hidden * elem
    ff_tokens = min(rank_tokens, options.feed_forward_chunk_tokens or rank_tokens)
    per_sample = (ACTIVATION_BUFFERS_PER_SAMPLE - FEED_FORWARD_BUFFERS) * hidden_bytes
    per_sample += FEED_FORWARD_BUFFERS * ff_tokens * tr.hidden * elem
    denoise_act += int(batch * per_sample)
    if not options.fused_attention:
        rows = min(tokens, DEFAULT_QUERY_CHUNK) if options.attention_slicing else tokens
        # scores and their softmax, float32 on the CPU's math path, the compute dtype elsewhere
        score_elem = 4 if options.device == "cpu" else elem
        scores = batch * tr.num_attention_heads * rows * tokens * score_elem * 2
        denoise_act += math.ceil(scores / layout.sequence)  # a share of the heads, or of the queries
    if options.quantization is not Quantization.NONE:
        denoise_act += tr.largest_linear_params * elem  # one layer widened back at a time
    t5 = arch.t5
    encode_act = shape.samples_per_step * shape.max_sequence_length * (3 * t5.d_ff + 4 * t5.d_model) * elem
    encode_act += shape.samples_per_step * t5.num_heads * shape.max_sequence_length**2 * 4
    pixels = shape.width * shape.height
    # The decoder's features scale with its width (96 channels at the first level in the real Wan VAE).
    per_pixel = VAE_DECODE_BYTES_PER_PIXEL * arch.vae.base_dim / 96
    output_bytes = 3 * snap_frames(shape.frames) * pixels * 4
    if options.vae_tiling:
        tile_pixels = min(pixels, VAE_TILE_PIXELS)
        decode_act = int(VAE_OUTPUT_COPIES_TILED * output_bytes + per_pixel * tile_pixels)
    else:
        decode_act = int(VAE_OUTPUT_COPIES_UNTILED * output_bytes + per_pixel * pixels)

    # -- weights resident on the device in each stage
    placement = options.placement
    on_cpu = options.device == "cpu"
    small = w.clip + w.vae
    if placement is Placement.GPU or on_cpu:
        encoders = w.t5 + w.clip
        off_after = options.text_encoders_off_gpu and not on_cpu
        enc_w = w.total
        den_w = w.transformer + w.vae + (0 if off_after else encoders)
        dec_w = den_w
    elif placement is Placement.MODEL:
        enc_w = max(w.t5, w.clip)  # one component on the GPU at a time
        den_w = w.transformer
        dec_w = w.vae
    elif placement is Placement.SEQUENTIAL:
        enc_w = den_w = dec_w = w.largest_leaf  # accelerate moves one leaf module in at a time
    else:  # streamed
        t5_on_gpu = w.t5_shared + int(STREAMED_BLOCKS_IN_FLIGHT * w.t5_block) if options.t5_streamed else w.t5
        blocks = w.transformer_other + int(STREAMED_BLOCKS_IN_FLIGHT * w.transformer_block)
        if options.small_models_on_demand:
            # The CLIPs are lent for the whole prompt encoding (T5 streams through meanwhile), the VAE for decoding.
            enc_w = w.clip + t5_on_gpu
            den_w = blocks
            dec_w = w.vae
        else:
            enc_w = small + t5_on_gpu
            den_w = small + blocks
            dec_w = small
    encoding = enc_w + encode_act
    denoising = den_w + denoise_act
    decoding = dec_w + decode_act

    # -- host RAM
    baseline = HOST_BASELINE_BYTES_CPU if on_cpu else HOST_BASELINE_BYTES_GPU
    if on_cpu:
        host_weights = w.total
    elif placement is Placement.GPU:
        host_weights = w.t5 + w.clip if options.text_encoders_off_gpu else 0
    elif placement is Placement.STREAMED:
        host_weights = w.transformer + w.t5 + (small if options.small_models_on_demand else 0)
    else:
        host_weights = w.total
    # Loading: one block (one-copy loading) or one whole component (the old loaders) beside the kept weights.
    largest_component = max(w.transformer, w.t5)
    full_precision_largest = max(tr.params, t5.params) * elem
    if options.one_copy_loading:
        transient = max(w.transformer_block, w.t5_block, w.largest_leaf)
    else:
        transient = full_precision_largest if options.quantization is not Quantization.NONE else largest_component
    host = baseline + host_weights + transient
    if on_cpu:
        host = baseline + max(host_weights + transient, w.total + max(denoise_act, decode_act, encode_act))

    s_step, total = _timing(shape, options, arch, w, video_tokens)
    return MemoryEstimate(
        encoding_bytes=int(encoding),
        denoising_bytes=int(denoising),
        decoding_bytes=int(decoding),
        host_ram_bytes=int(host),
        host_weights_bytes=int(host_weights),
        load_transient_bytes=int(transient),
        s_per_step=s_step,
        total_s=total,
        weights_bytes=w.total,
    )


def step_cache_saving(level: StepCache, steps: int, calibrated: bool, attention_share: float = 1.0) -> float:
    """The share of the denoising compute a step-cache level is expected to skip (0 = none).

    MagCache and the First-Block cache skip whole transformer calls; TaylorSeer predicts the attention outputs on
    its cached steps and still runs the rest, so it saves `attention_share` of those steps."""
    if level is StepCache.OFF or steps < 1:
        return 0.0
    if calibrated:
        return MAG_CACHE_SKIPPED_SHARE[level]
    if level is StepCache.FAST:
        return FIRST_BLOCK_SKIPPED_SHARE
    cached_steps = sum(
        1 for step in range(TAYLOR_WARMUP_STEPS, steps) if (step - TAYLOR_WARMUP_STEPS) % TAYLOR_INTERVAL
    )
    return cached_steps / steps * attention_share


def _step_flops(shape: JobShape, arch: Architecture, options: EstimateOptions) -> float:
    """One step's FLOPs on one GPU (on a split job's busiest GPU: uneven shares round up)."""
    tr = arch.transformer
    linear, attention = tr.flops_per_call(shape.video_tokens(tr.patch_size), shape.text_tokens)
    if not options.fused_attention:
        attention *= MATH_ATTENTION_SLOWDOWN  # the same work done at a lower rate
    layout = options.layout
    samples = 1 if layout.splits_guidance else shape.samples_per_step
    if layout.splits_sequence:
        tokens = shape.video_tokens(tr.patch_size) + shape.text_tokens
        token_share = rank_token_count(shape, tr, layout.sequence) / tokens
        linear *= token_share
        if layout.sequence_kind == "ring":
            attention *= token_share  # its own queries against every key
        else:  # Ulysses: every query against every key, for its share of the heads
            attention *= math.ceil(tr.num_attention_heads / layout.sequence) / tr.num_attention_heads
    return samples * (linear + attention)


def _calibrated_efficiency() -> float:
    """Fraction of the card's dense TFLOPs the engine reached in the H100 measurement."""
    width, height, frames = CALIBRATION_SHAPE
    flops = _step_flops(JobShape(width, height, frames), Architecture.contentv_8b(), EstimateOptions())
    return flops / CALIBRATION_S_PER_STEP / (gpu_specs(CALIBRATION_GPU)[0] * 1e12)


def _timing(
    shape: JobShape, options: EstimateOptions, arch: Architecture, w: _Weights, video_tokens: int
) -> tuple[float, float]:
    tflops, link_gbs = gpu_specs(options.gpu_name) if options.device != "cpu" else (CPU_TFLOPS, 0.0)
    dtype_factor = 0.25 if options.dtype == "float32" and options.device != "cpu" else 1.0
    throughput = _calibrated_efficiency() * tflops * 1e12 * dtype_factor
    if options.device == "cpu":
        throughput /= options.layout.world  # a split job's processes share the CPU's cores
    compute = _step_flops(shape, arch, options) / throughput
    if options.quantization is not Quantization.NONE:
        compute *= 1 + QUANTIZED_STEP_OVERHEAD
    if options.attention_slicing:
        compute *= 1 + ATTENTION_SLICING_OVERHEAD
    # MagCache and the First-Block cache skip whole calls (their transfers too); TaylorSeer only the attention.
    whole_calls = options.step_cache_calibrated or options.step_cache is StepCache.FAST
    linear, attention = arch.transformer.flops_per_call(video_tokens, shape.text_tokens)
    cache_saving = step_cache_saving(
        options.step_cache, shape.steps, options.step_cache_calibrated, attention / (linear + attention)
    )
    if not whole_calls:
        compute *= 1 - cache_saving
    calls = 1 if options.guidance_batched or shape.samples_per_step == 1 else 2
    link = max(link_gbs, 1e-9) * 1e9
    per_job_transfer = 0.0
    step = compute
    if options.device != "cpu":
        if options.placement is Placement.STREAMED:
            copy = calls * w.transformer_blocks / (0.8 * link)  # pinned, on a side stream
            step = max(compute, copy) * (1 + STREAMED_OVERHEAD)
        elif options.placement is Placement.SEQUENTIAL:
            step = compute + calls * w.transformer / (SEQUENTIAL_LINK_EFFICIENCY * link)
        elif options.placement is Placement.MODEL:
            per_job_transfer = 2 * w.total / (0.5 * link)  # each component in and back out, pageable copies
    if options.layout.world > 1:
        # The split's exchanges wait for each other: not overlapped with compute (diffusers' Ulysses and ring
        # both block on their collectives).
        step += communication_seconds(split_traffic(shape, options.layout, arch, options.dtype), options.link)
    if whole_calls:
        step *= 1 - cache_saving
    decode_flops = VAE_DECODE_FLOPS_PER_PIXEL * shape.width * shape.height * snap_frames(shape.frames)
    decode_s = decode_flops / (throughput * VAE_EFFICIENCY_FACTOR)
    total = shape.steps * step + decode_s + per_job_transfer
    return step, total


# ---- from a request -------------------------------------------------------------------------------------------
def options_from_memory(memory: MemoryOptions, guidance_batched: bool = False, **overrides: Any) -> EstimateOptions:
    device = memory.device if memory.device != "auto" else "cuda"
    dtype = memory.dtype if memory.dtype != "auto" else ("float32" if device == "cpu" else "bfloat16")
    return EstimateOptions(
        placement=memory.placement,
        quantization=memory.quantization,
        vae_tiling=memory.vae_tiling,
        vae_slicing=memory.vae_slicing,
        attention_slicing=memory.attention_slicing,
        text_encoders_off_gpu=memory.text_encoders_off_gpu,
        device=device,
        dtype=dtype,
        guidance_batched=guidance_batched,
        **overrides,
    )


def guidance_batched_for(request: GenerationRequest) -> bool:
    """The speed options' guidance batching where the request carries them (issue 9); else sequential, the
    engine's default. AUTO batches only where it was measured faster, which this estimate cannot know: it
    assumes sequential, the lower-memory answer."""
    speed = getattr(request, "speed", None)
    mode = getattr(speed, "guidance_batching", None)
    value = str(getattr(mode, "value", mode) or "").lower()
    return value == "batched"


def estimate_request(
    request: GenerationRequest,
    arch: Architecture | None = None,
    gpu_name: str = CALIBRATION_GPU,
    device: str | None = None,
    **overrides: Any,
) -> MemoryEstimate:
    """The estimate for a request's size and memory options; `device` resolves "auto" (default: a CUDA GPU)."""
    memory = request.memory
    if device is not None and memory.device == "auto":
        memory = dataclasses.replace(memory, device=device)
    speed = {"step_cache": request.speed.step_cache, "fused_attention": request.speed.attention_backend != "math"}
    options = options_from_memory(memory, guidance_batched_for(request), gpu_name=gpu_name, **{**speed, **overrides})
    shape = JobShape(
        request.width, request.height, request.num_frames, request.steps, request.guidance, request.max_sequence_length
    )
    return estimate(shape, options, arch)


# ---- recommendation -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recommendation:
    options: MemoryOptions
    estimate: MemoryEstimate
    fits: bool  # False: nothing fits; `options` are the lowest-memory settings


def _candidates(capabilities: Any) -> list[EstimateOptions]:
    cuda = bool(getattr(capabilities, "cuda", False))
    mps = bool(getattr(capabilities, "mps", False))
    if not cuda and not mps:
        return [EstimateOptions(device="cpu", dtype="float32", gpu_name="")]
    device = "cuda" if cuda else "mps"
    dtype = "bfloat16" if (cuda and getattr(capabilities, "bf16", True)) else "float16"
    name = str(getattr(capabilities, "cuda_name", "") or "")
    placements = [Placement.GPU, Placement.MODEL, Placement.SEQUENTIAL]
    if cuda:
        placements.insert(2, Placement.STREAMED)
    found: list[EstimateOptions] = []
    for placement in placements:
        for quant in (Quantization.NONE, Quantization.INT8):
            for tiling in (False, True):
                for encoders_off in (False, True) if placement is Placement.GPU else (False,):
                    found.append(
                        EstimateOptions(
                            placement=placement,
                            quantization=quant,
                            vae_tiling=tiling,
                            text_encoders_off_gpu=encoders_off,
                            device=device,
                            dtype=dtype,
                            gpu_name=name,
                        )
                    )
    return found


def recommend(
    shape: JobShape,
    gpu_free_bytes: int,
    host_ram_bytes: int,
    capabilities: Any,
    arch: Architecture | None = None,
    margin_bytes: int = SAFETY_MARGIN_BYTES,
    **kept: Any,
) -> Recommendation:
    """The fastest options predicted to fit in `gpu_free_bytes` (less a margin for the CUDA context and
    fragmentation) and in `host_ram_bytes`; full precision and untiled decoding where they cost nothing.

    `kept`: EstimateOptions fields the user chose that this does not change but that change the answer (the
    speed options: guidance_batched costs memory, step_cache and fused_attention change the time)."""
    scored = []
    for candidate in _candidates(capabilities):
        options = dataclasses.replace(candidate, **kept)
        result = estimate(shape, options, arch)
        # Among equally fast choices, prefer the fewest compromises (8-bit weights, tiling seams).
        compromises = (options.quantization is not Quantization.NONE, options.vae_tiling, options.text_encoders_off_gpu)
        scored.append((result, options, compromises))
    if scored[0][1].device == "cpu":
        result, options, _ = scored[0]
        return Recommendation(options.memory_options(), result, result.host_ram_bytes <= host_ram_bytes)
    fitting = [
        s for s in scored if s[0].peak_bytes + margin_bytes <= gpu_free_bytes and s[0].host_ram_bytes <= host_ram_bytes
    ]
    if fitting:
        result, options, _ = min(fitting, key=_speed_key)
        return Recommendation(options.memory_options(), result, True)
    result, options, _ = min(scored, key=lambda s: (s[0].peak_bytes, s[0].total_s))
    return Recommendation(options.memory_options(), result, False)


def _speed_key(scored: tuple[MemoryEstimate, EstimateOptions, tuple[bool, ...]]) -> tuple[float, int]:
    result, _, compromises = scored
    # Within 2 % counts as equally fast; then the fewer compromises win.
    return (round(math.log(max(result.total_s, 1e-9)) / math.log(1.02)), sum(compromises))


# ---- several GPUs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkAssumption:
    """What the estimate assumes of a link between GPUs: effective bandwidth one way, per GPU (links are full
    duplex, so every GPU sends its share at once), and the fixed cost of one collective."""

    name: str  # how a reason names the link
    gb_per_s: float
    latency_s: float
    source: str  # where the figure comes from


# ASSUMPTIONS, not measurements (no machine with several GPUs has measured them here). Keys: core.engine.devices.Link's
# values, and "cpu" for a split job's processes on the CPU.
LINK_TABLE: dict[str, LinkAssumption] = {
    "nvlink": LinkAssumption(
        "NVLink", 100.0, 10e-6, "RTX 3090 bridge ~56 GB/s one way, A100 ~300 GB/s; 100 GB/s taken between them"
    ),
    "p2p": LinkAssumption(
        "PCIe peer to peer", 25.0, 20e-6, "PCIe 4.0 x16: 32 GB/s raw, ~25 GB/s effective; x8 slots give half"
    ),
    "pcie": LinkAssumption(
        "PCIe without peer access",
        12.5,
        30e-6,
        "no peer access (GeForce 40-series and later): NCCL copies through host memory, about half of x16",
    ),
    "cpu": LinkAssumption("gloo on this computer", 2.0, 100e-6, "gloo over loopback TCP, rough"),
}
# A link that was not detected (faked capabilities, a single GPU asked to split) is taken as the slowest GPU link.
UNKNOWN_LINK = "pcie"


def link_assumption(link: str) -> LinkAssumption:
    return LINK_TABLE.get(str(link), LINK_TABLE[UNKNOWN_LINK])


def rank_token_count(shape: JobShape, tr: TransformerArch, sequence: int) -> int:
    """Tokens on the busiest GPU of a sequence split: video and text tokens are each split, uneven shares round up."""
    video, text = shape.video_tokens(tr.patch_size), shape.text_tokens
    return math.ceil(video / sequence) + math.ceil(text / sequence)


@dataclass(frozen=True)
class SplitTraffic:
    """Bytes a split job exchanges in one denoising step (both guidance branches). Each GPU sends
    `per_gpu_bytes`; all together send `total_bytes` (the sum over the links, both directions)."""

    per_gpu_bytes: int
    total_bytes: int
    collectives: int  # per GPU per step
    sequence_bytes: int  # of per_gpu_bytes: the token split's attention exchanges and the gather at proj_out
    guidance_bytes: int  # of per_gpu_bytes: the noise prediction sent to the other branch's GPU


def split_traffic(
    shape: JobShape, layout: SplitLayout, arch: Architecture | None = None, dtype: str = "bfloat16"
) -> SplitTraffic:
    """What `layout` sends between GPUs per step, from the tensor sizes (S = tokens × hidden × element size, one
    full q, k, v or attention output of one branch; each of `n` sequence GPUs holds S/n of it):

    - Ulysses: per block, all-to-alls of q, k, v and the output: each GPU sends (n-1)/n of its 4 shards;
    - ring (diffusers 0.42's): per block, every GPU's k and v gathered before computing: each GPU sends its two
      shards to the n-1 others (as much as Ulysses at n = 2, (n/2)× as much above);
    - both: the output gathered once at proj_out (video tokens × patch² × channels);
    - guidance: each branch's GPU sends its noise prediction (latents-sized) to the other once per step.
    """
    arch = arch or Architecture.contentv_8b()
    tr = arch.transformer
    elem = _element_size(dtype)
    video = shape.video_tokens(tr.patch_size)
    tokens = video + shape.text_tokens
    # Branches one GPU runs: both on a sequence-only split of a guided job, one under a guidance split.
    branches = 1 if layout.splits_guidance else shape.samples_per_step
    n = layout.sequence
    sequence_bytes = 0.0
    collectives = 0
    if n > 1:
        shard = tokens * tr.hidden * elem / n
        if layout.sequence_kind == "ring":
            per_block, per_block_collectives = 2 * shard * (n - 1), 1
        else:
            per_block, per_block_collectives = 4 * shard * (n - 1) / n, 4
        output_shard = video * tr.patch_size**2 * tr.out_channels * elem / n
        sequence_bytes = branches * (tr.num_layers * per_block + output_shard * (n - 1))
        collectives += branches * (tr.num_layers * per_block_collectives + 1)
    guidance_bytes = 0
    if layout.splits_guidance:
        latents = tr.out_channels * shape.latent_frames * (shape.height // 8) * (shape.width // 8)
        guidance_bytes = latents * elem
        collectives += 1
    per_gpu = int(sequence_bytes) + guidance_bytes
    return SplitTraffic(per_gpu, per_gpu * layout.world, collectives, int(sequence_bytes), guidance_bytes)


def communication_seconds(traffic: SplitTraffic, link: str) -> float:
    """Seconds per step one GPU spends exchanging, at the link's assumed bandwidth (LINK_TABLE)."""
    spec = link_assumption(link)
    return traffic.per_gpu_bytes / (spec.gb_per_s * 1e9) + traffic.collectives * spec.latency_s


@dataclass(frozen=True)
class ParallelEstimate:
    """The estimate for one GPU count: one GPU's peak memory and the job's seconds per step."""

    gpus: int
    split: str  # SplitLayout.describe(): "none", "guidance", "ulysses ×2", "guidance × ulysses ×2"
    layout: SplitLayout
    per_gpu_peak_bytes: int
    seconds_per_step: float
    communication_seconds: float  # of seconds_per_step
    speedup: float  # one GPU's s/step with the same options ÷ this s/step
    bytes_per_step: int  # sent by all GPUs together per step
    bytes_per_gpu: int  # sent by each GPU per step
    link: str  # the LINK_TABLE key assumed
    reason: str  # why this split (core.parallel.plan.SplitPlan.reason)
    refused: str = ""  # why the job as asked cannot run on this many GPUs; the figures are then for the
    # nearest that can (all on GPU, split chosen automatically)
    fits: bool | None = None  # per_gpu_peak_bytes (with a margin) within one GPU's memory; None: unknown


def parallel_speedups(
    request: GenerationRequest, caps: Any, arch: Architecture | None = None, link: str | None = None
) -> list[ParallelEstimate]:
    """The estimate on 1, 2, … `caps.cuda_devices` GPUs for the request's size and options (one entry on a machine
    with fewer than two): what the window shows beside its "GPUs" choice."""
    import core.parallel.plan as parallel_plan  # it imports this module
    from core.errors import StudioError
    from core.job.request import ParallelOptions, Split

    cuda = bool(getattr(caps, "cuda", False))
    count = max(1, int(getattr(caps, "cuda_devices", 0) or 0)) if cuda else 1
    device = "cuda" if cuda else (getattr(caps, "accelerator", None) or "cpu")
    gpu_name = str(getattr(caps, "cuda_name", "") or CALIBRATION_GPU)
    total = int(getattr(caps, "cuda_total_bytes", 0) or 0)
    found: list[ParallelEstimate] = []
    for gpus in range(1, count + 1):
        asked = dataclasses.replace(request, parallel=ParallelOptions(gpus, request.parallel.split))
        refused = ""
        try:
            plan = parallel_plan.resolve_split(asked, caps, link)
        except StudioError as exc:
            refused = exc.message
            asked = dataclasses.replace(
                asked,
                parallel=ParallelOptions(gpus, Split.AUTO),
                memory=dataclasses.replace(asked.memory, placement=Placement.GPU),
            )
            try:
                plan = parallel_plan.resolve_split(asked, caps, link)
            except StudioError:
                continue  # nothing on this many GPUs can run this job
        runs = plan.applied_to(asked)
        one = estimate_request(dataclasses.replace(runs, parallel=ParallelOptions()), arch, gpu_name, device)
        used_link = plan.link if gpus > 1 else "none"
        split = estimate_request(runs, arch, gpu_name, device, layout=plan.layout, link=used_link)
        shape = JobShape(runs.width, runs.height, runs.num_frames, runs.steps, runs.guidance, runs.max_sequence_length)
        dtype = runs.memory.dtype if runs.memory.dtype != "auto" else ("float32" if device == "cpu" else "bfloat16")
        traffic = split_traffic(shape, plan.layout, arch, dtype)
        found.append(
            ParallelEstimate(
                gpus=gpus,
                split=plan.layout.describe(),
                layout=plan.layout,
                per_gpu_peak_bytes=split.peak_bytes,
                seconds_per_step=split.s_per_step,
                communication_seconds=communication_seconds(traffic, used_link) if gpus > 1 else 0.0,
                speedup=one.s_per_step / split.s_per_step if split.s_per_step > 0 else 1.0,
                bytes_per_step=traffic.total_bytes,
                bytes_per_gpu=traffic.per_gpu_bytes,
                link=used_link,
                reason=plan.reason,
                refused=refused,
                fits=split.peak_bytes + SAFETY_MARGIN_BYTES <= total if total else None,
            )
        )
    return found
