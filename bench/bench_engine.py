"""Engine benchmark: speed of the denoising step and peak memory of each memory mode.

    .venv/bin/python bench/bench_engine.py                       # CPU, a small random ContentV-shaped model
    .venv/bin/python bench/bench_engine.py --device cuda         # the same on a GPU (CUDA allocator peaks)
    .venv/bin/python bench/bench_engine.py --device cuda --model /path/to/ContentV-8B --size 768x432 --frames 125

Peak memory is CUDA's `max_memory_allocated` on a GPU and, on the CPU, the tensor-memory tracker in
core/engine/memtrack.py (every tensor an operator returns, counted while alive). Times are medians of repeated steps
after a warm-up. Prints a Markdown table and, with --json, writes every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from core.engine.attention import disable_attention_slicing, enable_attention_slicing  # noqa: E402
from core.engine.memtrack import TensorMemoryTracker  # noqa: E402
from core.engine.quantize import QuantizedLinear, parameter_bytes, quantize_linears  # noqa: E402
from core.engine.transformer import ContentVTransformer3DModel  # noqa: E402
from core.job.request import Quantization  # noqa: E402

MiB = 2**20

# A scaled-down ContentV: same structure (joint attention, qk rms-norm, 3D position embedding), fewer and
# narrower blocks, so the CPU can run it in seconds.
SMALL_CONFIG: dict[str, Any] = {
    "num_layers": 4,
    "num_attention_heads": 8,
    "attention_head_dim": 64,
    "caption_projection_dim": 512,
    "joint_attention_dim": 1024,
    "pooled_projection_dim": 512,
}


@contextlib.contextmanager
def peak_memory(device: torch.device) -> Iterator[dict[str, int]]:
    box: dict[str, int] = {}
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        yield box
        torch.cuda.synchronize()
        box["peak"] = torch.cuda.max_memory_allocated() - base
    else:
        with TensorMemoryTracker() as tracker:
            yield box
        box["peak"] = tracker.peak_bytes


def _timed(fn: Callable[[], Any], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def median_time(fn: Callable[[], Any], device: torch.device, repeats: int) -> float:
    fn()  # warm-up
    return statistics.median(_timed(fn, device) for _ in range(repeats))


def paired_median_times(
    a: Callable[[], Any], b: Callable[[], Any], device: torch.device, repeats: int
) -> tuple[float, float]:
    """A and B in turn (A B A B ...), so drift in the machine's speed hits both alike."""
    a()
    b()
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(_timed(a, device))
        times_b.append(_timed(b, device))
    return statistics.median(times_a), statistics.median(times_b)


def position_embedding_build_s(repeats: int) -> float:
    """What the official code pays on the CPU in every transformer call at ContentV-8B's default shape
    (inner dim 2432, 768×432, 125 frames -> 32 × 27 × 48 tokens)."""
    from core.engine.transformer import FramePatchEmbed

    embed = FramePatchEmbed(patch_size=2, in_channels=16, embed_dim=2432)

    def build() -> None:
        embed._pos_cache.clear()
        embed.position_embedding(32, 54, 96, torch.device("cpu"), torch.float32)

    return median_time(build, torch.device("cpu"), repeats)


def preview_projection_s(device: torch.device, repeats: int) -> float:
    """One live preview (core/job/preview.py) of ContentV-8B's default job's latents (768x432, 125 frames:
    (1, 16, 32, 54, 96)): a denoising step of the 8B model takes seconds, so this must stay far below that."""
    from core.job.preview import latents_to_rgb

    latents = torch.randn(1, 16, 32, 54, 96, device=device)
    latents_to_rgb(latents)  # warm-up
    return median_time(lambda: latents_to_rgb(latents), device, repeats)


def build_transformer(args: argparse.Namespace, dtype: torch.dtype, device: torch.device) -> ContentVTransformer3DModel:
    if args.model:
        model = ContentVTransformer3DModel.from_pretrained(Path(args.model) / "transformer", torch_dtype=dtype)
    else:
        torch.manual_seed(0)
        model = ContentVTransformer3DModel(**SMALL_CONFIG)
        if dtype != torch.float32:
            model = model.to(dtype)
    return model.to(device).eval()


def inputs_for(model: ContentVTransformer3DModel, args: argparse.Namespace, batch: int, dtype, device):
    width, height = (int(v) for v in args.size.split("x"))
    latent_frames = (args.frames - 1) // 4 + 1
    g = torch.Generator().manual_seed(0)
    cfg = model.config
    return (
        torch.randn(batch, 16, latent_frames, height // 8, width // 8, generator=g).to(device, dtype),
        torch.randn(batch, 77 + 256, cfg.joint_attention_dim, generator=g).to(device, dtype),
        torch.randn(batch, cfg.pooled_projection_dim, generator=g).to(device, dtype),
        torch.full((batch,), 500.0, device=device),
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device)
    dtype = {"cpu": torch.float32}.get(device.type, torch.bfloat16)
    model = build_transformer(args, dtype, device)
    one = inputs_for(model, args, 1, dtype, device)
    two = inputs_for(model, args, 2, dtype, device)
    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "model": args.model or f"random small ContentV ({SMALL_CONFIG['num_layers']} blocks)",
        "size": args.size,
        "frames": args.frames,
        "tokens": one[0].shape[2] * one[0].shape[3] // 2 * one[0].shape[4] // 2,
    }

    def step(inputs):
        with torch.no_grad():
            return model(*inputs, return_dict=False)[0]

    # 1. position embedding cached (ours) vs rebuilt on the CPU every forward (the official code)
    cache = model.pos_embed._pos_cache

    def uncached():
        cache.clear()
        return step(one)

    results["step_cached_pos_s"], results["step_rebuilt_pos_s"] = paired_median_times(
        lambda: step(one), uncached, device, args.repeats
    )
    results["pos_embed_build_8b_s"] = position_embedding_build_s(3)
    results["preview_8b_default_s"] = preview_projection_s(device, args.repeats)

    # 2. guidance: both branches in one batch vs one after the other
    results["cfg_batched_s"], results["cfg_sequential_s"] = paired_median_times(
        lambda: step(two), lambda: (step(one), step(one)), device, args.repeats
    )

    # 3. peak memory: plain, and attention slicing with the math SDPA kernel (no fused attention)
    with peak_memory(device) as plain:
        step(one)
    results["peak_step_bytes"] = plain["peak"]
    with sdpa_kernel(SDPBackend.MATH):
        with peak_memory(device) as math_plain:
            step(one)
        enable_attention_slicing(model, args.query_chunk)
        with peak_memory(device) as math_sliced:
            step(one)
        disable_attention_slicing(model)
    results["peak_step_math_attention_bytes"] = math_plain["peak"]
    results["peak_step_math_attention_sliced_bytes"] = math_sliced["peak"]
    enable_attention_slicing(model, args.query_chunk)
    results["step_sliced_s"] = median_time(lambda: step(one), device, args.repeats)
    disable_attention_slicing(model)

    # 4. weight quantization: bytes held by the transformer, and the step time with dequantize-on-the-fly
    results["weights_bytes"] = parameter_bytes(model)
    reference = step(one).float()
    for kind in (Quantization.INT8, Quantization.FP8):
        quantized = build_transformer(args, dtype, torch.device("cpu"))
        quantize_linears(quantized, kind, dtype, ("transformer_blocks.",))
        quantized = quantized.to(device)
        assert any(isinstance(m, QuantizedLinear) for m in quantized.modules())
        results[f"weights_{kind.value}_bytes"] = parameter_bytes(quantized)
        with torch.no_grad():
            out = quantized(*one, return_dict=False)[0].float()
        results[f"{kind.value}_relative_error"] = float((out - reference).norm() / reference.norm())
        results[f"step_{kind.value}_s"] = median_time(
            lambda q=quantized: q(*one, return_dict=False), device, max(1, args.repeats // 2)
        )
        del quantized
    results.update(bench_vae(args, device))
    return results


def bench_vae(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    from diffusers import AutoencoderKLWan

    from core.model.demo import make_demo_model

    if args.model:
        vae = AutoencoderKLWan.from_pretrained(Path(args.model) / "vae", torch_dtype=torch.float32)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            folder = make_demo_model(Path(tmp) / "m")
            vae = AutoencoderKLWan.from_pretrained(folder / "vae", torch_dtype=torch.float32)
    vae = vae.to(device).eval()
    width, height = (int(v) for v in args.vae_size.split("x"))
    latents = torch.randn(1, 16, 2, height // 8, width // 8, generator=torch.Generator().manual_seed(1)).to(device)
    out: dict[str, Any] = {"vae_size": args.vae_size}
    for tiling in (False, True):
        vae.enable_tiling() if tiling else vae.disable_tiling()
        start = time.perf_counter()
        with torch.no_grad(), peak_memory(device) as peak:
            vae.decode(latents, return_dict=False)
        out[f"vae_decode_{'tiled' if tiling else 'whole'}_bytes"] = peak["peak"]
        out[f"vae_decode_{'tiled' if tiling else 'whole'}_s"] = time.perf_counter() - start
    return out


def markdown(r: dict[str, Any]) -> str:
    def mib(key: str) -> str:
        return f"{r[key] / MiB:,.1f} MiB"

    def ratio(a: str, b: str) -> str:
        return f"{r[a] / r[b]:.2f}×"

    rows = [
        ("denoising step, position embedding cached", f"{r['step_cached_pos_s'] * 1000:.1f} ms", ""),
        (
            "denoising step, embedding rebuilt every forward (official)",
            f"{r['step_rebuilt_pos_s'] * 1000:.1f} ms",
            f"cached is {ratio('step_rebuilt_pos_s', 'step_cached_pos_s')} faster",
        ),
        (
            "building the 3D position embedding once at ContentV-8B's default shape (CPU)",
            f"{r['pos_embed_build_8b_s'] * 1000:.0f} ms",
            "the official code pays this in every transformer call: twice a step with guidance",
        ),
        (
            "a live preview of ContentV-8B's default job's latents (768x432, 125 frames)",
            f"{r['preview_8b_default_s'] * 1000:.1f} ms",
            "projection to RGB, no VAE call: a small share of a step of seconds",
        ),
        ("guidance, both branches batched", f"{r['cfg_batched_s'] * 1000:.1f} ms", ""),
        (
            "guidance, one branch after the other",
            f"{r['cfg_sequential_s'] * 1000:.1f} ms",
            f"batched is {ratio('cfg_sequential_s', 'cfg_batched_s')} faster",
        ),
        ("peak memory of a step (default attention kernel)", mib("peak_step_bytes"), ""),
        ("peak memory of a step, math attention kernel", mib("peak_step_math_attention_bytes"), ""),
        (
            "the same with attention slicing",
            mib("peak_step_math_attention_sliced_bytes"),
            f"{ratio('peak_step_math_attention_bytes', 'peak_step_math_attention_sliced_bytes')} lower",
        ),
        ("step time with attention slicing", f"{r['step_sliced_s'] * 1000:.1f} ms", ""),
        ("transformer weights", mib("weights_bytes"), ""),
        (
            "transformer weights, int8",
            mib("weights_int8_bytes"),
            f"rel. error {r['int8_relative_error']:.4f}, step {r['step_int8_s'] * 1000:.1f} ms",
        ),
        (
            "transformer weights, fp8",
            mib("weights_fp8_bytes"),
            f"rel. error {r['fp8_relative_error']:.4f}, step {r['step_fp8_s'] * 1000:.1f} ms",
        ),
        (
            f"VAE decode {r['vae_size']}, 5 frames, whole",
            mib("vae_decode_whole_bytes"),
            f"{r['vae_decode_whole_s']:.1f} s",
        ),
        (
            f"VAE decode {r['vae_size']}, 5 frames, tiled",
            mib("vae_decode_tiled_bytes"),
            f"{ratio('vae_decode_whole_bytes', 'vae_decode_tiled_bytes')} lower, {r['vae_decode_tiled_s']:.1f} s",
        ),
    ]
    head = (
        f"Device: {r['device']} · torch {r['torch']} · model: {r['model']} · {r['size']}, {r['frames']} frames "
        f"({r['tokens']} video tokens)\n\n| measure | value | note |\n|---|---|---|\n"
    )
    return head + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--model", default=None, help="a ContentV folder; default: a small random model")
    parser.add_argument("--size", default="256x144", help="WxH of the video")
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--vae-size", default="512x288")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--query-chunk", type=int, default=256)
    parser.add_argument("--json", default=None, help="write every figure to this file")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda asked for, but PyTorch sees no CUDA GPU", file=sys.stderr)
        return 2
    torch.set_grad_enabled(False)
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    results = run(args)
    print(markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
