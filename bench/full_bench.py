"""The engine benchmark at full size (a GPU) or scaled down (the CPU): every memory configuration and speed option
through the project's `Engine`, each in a fresh process, against the official algorithm on the same weights, the
uncached frames (PSNR/SSIM) and the memory estimator (core/estimate.py).

    bench/run_full.sh "$OUT"                            # CUDA GPU: ContentV-8B-shaped folder, 768x432x125, 3 steps
    bench/run_full.sh "$OUT" --set speed                # batched guidance, fast/faster cache, compile (8 steps)
    bench/run_full.sh "$OUT" --set soak                 # 6 jobs in a row per process: CUDA memory after each
    .venv/bin/python -m bench.full_bench --set soak --scale small --name soak-cpu   # the same on the CPU (RSS)
    .venv/bin/python -m bench.full_bench --scale small  # CPU: scaled-down model and job, about 10 minutes
    .venv/bin/python -m bench.full_bench --model /path/to/ContentV-8B --device cuda   # real weights

Writes <out>/engine-<device>-<scale>.json and .md (the device named in both), rewritten after each configuration.
Per configuration: per-stage peak device memory, s/step, load time, peak host RAM, transformer calls, PSNR/SSIM
against the base configuration; ratios: engine and speed options vs the official algorithm, cached vs uncached,
streamed vs all on GPU, int8 vs bf16 host RAM, measured vs estimated.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GiB = 2**30
RESULTS = ROOT / "bench" / "results"

# name -> config for bench.run_config ({"memory": MemoryOptions keys, "speed": SpeedOptions keys}).
GPU_CONFIGS: dict[str, dict[str, Any]] = {
    "all on GPU": {"memory": {"offload": "none"}},
    "model offload + tiling": {"memory": {"offload": "model", "vae_tiling": True}},
    "streamed": {"memory": {"offload": "streamed"}},
    "streamed + int8 + tiling": {"memory": {"offload": "streamed", "quantize": "int8", "vae_tiling": True}},
    "sequential + int8 + tiling": {"memory": {"offload": "sequential", "quantize": "int8", "vae_tiling": True}},
}
# The speed options, each beside the uncached, sequential-guidance base configuration of its device.
SPEED_VARIANTS: dict[str, dict[str, Any]] = {
    "batched guidance": {"guidance_batching": "batched"},
    "fast cache": {"step_cache": "fast"},
    "faster cache": {"step_cache": "faster"},
    "compiled": {"compile": True},
}
CPU_CONFIGS: dict[str, dict[str, Any]] = {
    "all on CPU": {"memory": {"offload": "none"}},
    # int8 against bf16 (issue 9's host-RAM target is the int8 job's extra RAM vs the bf16 job's).
    "all on CPU (bf16)": {"memory": {"offload": "none", "dtype": "bfloat16"}},
    "int8 + tiling (bf16)": {
        "memory": {"offload": "none", "quantize": "int8", "vae_tiling": True, "dtype": "bfloat16"}
    },
    **{
        f"all on CPU + {name}": {"memory": {"offload": "none"}, "speed": speed}
        for name, speed in SPEED_VARIANTS.items()
        if name != "compiled"
    },  # compiling on the CPU needs a C++ toolchain and minutes: a GPU measurement
}
# Soaks: several jobs in a row in one process (bench/run_config.py's run_soak), memory after each job. On the GPU
# at a smaller job than the memory set's, so that the model's load dominates and the set fits its budget.
SOAK_JOBS = 6  # job 6 is the same kind of job as job 2 (the first after the model's load)
GPU_SOAK_CONFIGS: dict[str, dict[str, Any]] = {
    f"soak: {SOAK_JOBS} jobs, all on GPU": {
        "memory": {"offload": "none"},
        "jobs": SOAK_JOBS,
        "size": "512x288",
        "frames": 33,
    },
    f"soak: {SOAK_JOBS} jobs, model offload + tiling": {
        "memory": {"offload": "model", "vae_tiling": True},
        "jobs": SOAK_JOBS,
        "size": "512x288",
        "frames": 33,
    },
}
CPU_SOAK_CONFIGS: dict[str, dict[str, Any]] = {
    f"soak: {SOAK_JOBS} jobs, all on CPU": {"memory": {"offload": "none"}, "jobs": SOAK_JOBS}
}
BASELINE_CONFIG = {"all on GPU", "all on CPU"}
SSIM_FRAMES = 16

SCALE_DEFAULTS = {
    # scale: (size, frames, steps). Steps >= 8 so the uncached base run records the MagCache calibration the
    # cache levels then use (core/engine/step_cache.py); the full size keeps 3 for the memory set's 8-minute budget.
    "full": ("768x432", 125, 3),
    "small": ("192x112", 9, 8),
    "tiny": ("64x48", 5, 8),
}


def speed_configs() -> dict[str, dict[str, Any]]:
    """All on GPU with each speed option (batched guidance, the step-cache levels, regional compile)."""
    return {
        f"all on GPU + {name}": {"memory": {"offload": "none"}, "speed": speed}
        for name, speed in SPEED_VARIANTS.items()
    }


def run_one(name: str, config: dict[str, Any], args: argparse.Namespace, model: Path, scratch: Path) -> dict[str, Any]:
    """One configuration in a fresh process (its own host-RAM peak), within `args.timeout` seconds."""
    frames_file = scratch / f"{slug(name)}.npy"
    command = [
        sys.executable,
        "-m",
        "bench.run_config",
        "--model",
        str(model),
        "--config",
        json.dumps(config),
        "--device",
        args.device,
        "--dtype",
        args.dtype,
        "--size",
        args.size,
        "--frames",
        str(args.frames),
        "--steps",
        str(args.steps),
        "--frames-out",
        str(frames_file),
    ]
    if name in BASELINE_CONFIG and not args.no_baseline:
        command.append("--baseline")
    # MagCache calibrations go to a folder of this run, not the user's data folder: the uncached base run
    # records one, the cache levels after it use it, and nothing leaks into (or from) the app's own settings.
    env = {**os.environ, "CONTENTV_STUDIO_CALIBRATION_DIR": str(scratch / "step-cache")}
    print(f"[bench] {name} …", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"name": name, "config": config, "error": f"timed out after {args.timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["name"] = name
            result["wall_s"] = round(time.perf_counter() - start, 2)
            if "baseline not available" in done.stderr:
                result["official_note"] = "baseline not available"
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
    return {"name": name, "config": config, "error": " | ".join(tail) or f"exit status {done.returncode}"}


def attach_quality(results: list[dict[str, Any]]) -> None:
    """PSNR and SSIM of each configuration's frames against the base configuration's (same seed, uncached,
    unquantized): the quality cost of a cache level, int8 or batched guidance. On random weights a check of the
    mechanism; with --model on real weights, the real cost."""
    import numpy as np

    from core.output.quality import psnr, ssim

    base = next((r for r in results if r["name"] in BASELINE_CONFIG and "frames_file" in r), None)
    if base is None:
        return
    reference = np.load(base["frames_file"], mmap_mode="r")
    # SSIM on at most this many evenly spaced frames: at full size (125 frames of 768x432) the float64 windows of
    # every frame would take minutes of the GPU run's budget; PSNR uses every frame.
    picked = np.unique(np.linspace(0, reference.shape[0] - 1, min(SSIM_FRAMES, reference.shape[0])).astype(int))
    for result in results:
        if result is base or "frames_file" not in result or "psnr_db" in result:
            continue
        frames = np.load(result["frames_file"], mmap_mode="r")
        if frames.shape == reference.shape:
            result["psnr_db"] = psnr(np.asarray(frames), np.asarray(reference))
            result["ssim"] = ssim(np.asarray(frames[picked]), np.asarray(reference[picked]))


def attach_estimates(results: list[dict[str, Any]], args: argparse.Namespace, model: Path) -> None:
    from core.estimate import Architecture, EstimateOptions, JobShape, estimate
    from core.job.request import MemoryOptions

    arch = Architecture.from_model_dir(model)
    width, height = (int(v) for v in args.size.split("x"))
    shape = JobShape(width, height, args.frames, steps=args.steps)
    for result in results:
        if "error" in result:
            continue
        memory = MemoryOptions.from_dict(result["config"].get("memory", {}))
        dtype = memory.dtype if memory.dtype != "auto" else args.dtype
        dtype = dtype if dtype != "auto" else ("float32" if args.device == "cpu" else "bfloat16")
        options = EstimateOptions(
            placement=memory.placement,
            quantization=memory.quantization,
            vae_tiling=memory.vae_tiling,
            device=args.device,
            dtype=dtype,
            guidance_batched=bool(result.get("guidance_batched")),
            gpu_name=result.get("device_name", ""),
        )
        predicted = estimate(shape, options, arch)
        result["estimate"] = {
            "encoding_bytes": predicted.encoding_bytes,
            "denoising_bytes": predicted.denoising_bytes,
            "decoding_bytes": predicted.decoding_bytes,
            "peak_bytes": predicted.peak_bytes,
            "host_ram_bytes": predicted.host_ram_bytes,
            "s_per_step": predicted.s_per_step,
        }


def attach_ratios(results: list[dict[str, Any]]) -> dict[str, float]:
    by_name = {r["name"]: r for r in results if "error" not in r}
    ratios: dict[str, float] = {}
    base_name = "all on GPU" if "all on GPU" in by_name else "all on CPU"
    base = by_name.get(base_name)
    if base and base.get("official") and base.get("s_per_step"):
        ratios["official s/step ÷ engine s/step (speed-up)"] = base["official"]["s_per_step"] / base["s_per_step"]
    streamed = by_name.get("streamed")
    if base and streamed and base.get("s_per_step"):
        ratios["streamed s/step ÷ all on GPU"] = streamed["s_per_step"] / base["s_per_step"]
    for result in by_name.values():
        if base and result is not base and base.get("s_per_step") and result.get("s_per_step"):
            result["s_per_step_vs_base"] = result["s_per_step"] / base["s_per_step"]
        if result.get("official") and result.get("s_per_step"):
            result["speedup_vs_official"] = result["official"]["s_per_step"] / result["s_per_step"]
    if base:
        official = (base.get("official") or {}).get("s_per_step")
        for variant in SPEED_VARIANTS:
            other = by_name.get(f"{base_name} + {variant}")
            if not other or not other.get("s_per_step"):
                continue
            ratios[f"{variant}: {base_name} s/step ÷ its s/step (speed-up)"] = base["s_per_step"] / other["s_per_step"]
            if base.get("all_steps_s") and other.get("all_steps_s"):
                # Every step, the first included: a cache always computes its first steps in full.
                ratios[f"{variant}: {base_name} denoising time ÷ its (speed-up)"] = (
                    base["all_steps_s"] / other["all_steps_s"]
                )
            if official:
                ratios[f"{variant}: official s/step ÷ its s/step (speed-up)"] = official / other["s_per_step"]
            if base.get("transformer_calls") and other.get("transformer_calls") is not None:
                ratios[f"{variant}: transformer calls ÷ {base_name}'s"] = (
                    other["transformer_calls"] / base["transformer_calls"]
                )
    bf16 = by_name.get("all on CPU (bf16)") or by_name.get("streamed") or base
    int8 = next((r for n, r in by_name.items() if "int8" in n), None)
    if bf16 and int8 and bf16.get("extra_host_ram_bytes"):
        ratios[f"host RAM added by the job: {int8['name']} ÷ {bf16['name']}"] = (
            int8["extra_host_ram_bytes"] / bf16["extra_host_ram_bytes"]
        )
    return ratios


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "device"


def markdown(report: dict[str, Any]) -> str:
    def gib(value: Any) -> str:
        return "—" if value is None else f"{value / GiB:.2f}"

    lines = [
        f"# Engine benchmark: {report['device_name']} ({report['device']})",
        "",
        f"Model: {report['model_description']} · {report['size']}, {report['frames']} frames, {report['steps']} steps, "
        f"dtype {report['dtype']} · torch {report['torch']} · model folder built in {report['build_s']:.1f} s.",
        "Peaks are per stage ("
        + ("CUDA allocator, reset as each stage begins" if report["device"] == "cuda" else "tensor tracker")
        + "); est. = core/estimate.py's prediction for the same job.",
        "",
        "| configuration | encoding GiB | denoising GiB | decoding GiB | peak GiB (est.) | s/step (est.) | load s | "
        "host RAM peak GiB (est.) | transformer calls | PSNR dB / SSIM vs base | vs all-on-device | vs official |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        if "error" in r:
            lines.append(f"| {r['name']} | failed: {r['error'][:160]} | | | | | | | | | | |")
            continue
        if "soak" in r:
            continue  # in its own table below
        stages = r["stage_peak_bytes"]
        est = r.get("estimate", {})
        vs_base = f"{r['s_per_step_vs_base']:.3f}×" if "s_per_step_vs_base" in r else "—"
        vs_official = f"{r['speedup_vs_official']:.2f}× faster" if "speedup_vs_official" in r else "—"
        quality = f"{r['psnr_db']:.1f} / {r['ssim']:.4f}" if "psnr_db" in r else "—"
        method = (r.get("speed") or {}).get("step_cache_method", "none")
        counted = r.get("transformer_calls")
        calls = ("—" if counted is None else f"{counted:.1f}") + (f" ({method})" if method != "none" else "")
        lines.append(
            f"| {r['name']} | {gib(stages.get('encoding'))} | {gib(stages.get('denoising'))} | "
            f"{gib(stages.get('decoding'))} | {gib(r['peak_bytes'])} ({gib(est.get('peak_bytes'))}) | "
            f"{r['s_per_step']:.3g} ({est.get('s_per_step', float('nan')):.3g}) | {r['load_s']:.1f} | "
            f"{gib(r['peak_host_ram_bytes'])} ({gib(est.get('host_ram_bytes'))}) | {calls} | {quality} | {vs_base} | "
            f"{vs_official} |"
        )
    if all("soak" in r or "soak" in str(r.get("name", "")) for r in report["results"]):
        # Soaks only: no engine table (nor its notes on peaks per stage and estimates).
        lines = [f"# Soak: {report['device_name']} ({report['device']})", "", lines[2]]
        if report["device"] == "cpu":
            lines[-1] += f" {os.cpu_count()} CPUs (shared: see each soak's load average)."
    for r in report["results"]:
        if "soak" in r:
            lines += soak_markdown(r)
    if all("soak" in r or "soak" in str(r.get("name", "")) for r in report["results"]):
        return "\n".join(lines) + "\n"
    baseline = next((r for r in report["results"] if r.get("official")), None)
    if baseline:
        lines += ["", f"Official algorithm on the same weights: {baseline['official']['s_per_step']:.3f} s/step."]
    elif any(r.get("official_note") for r in report["results"]):
        lines += ["", "Official algorithm: baseline not available (bench/official_algorithm.py missing)."]
    if report["ratios"]:
        lines += ["", "| ratio | value |", "|---|---|"]
        lines += [f"| {k} | {v:.3f} |" for k, v in report["ratios"].items()]
    if report["device"] == "cpu":
        loads = [
            f"{r['name']}: {r['load_average'][0]}→{r['load_average'][1]}"
            for r in report["results"]
            if r.get("load_average") and None not in r["load_average"]
        ]
        lines += [
            "",
            "A scaled-down CPU run: it checks the benchmark end to end and the CPU-valid configurations; the GPU "
            "figures come from `bench/run_full.sh` on a CUDA machine. The CPU's s/step figures are only as good as "
            "the machine was quiet (1-minute load average before→after each configuration: "
            + ("; ".join(loads) or "not available")
            + f"; {os.cpu_count()} CPUs). The estimator's s/step on a CPU is a rough 1 TFLOPs guess.",
        ]
    return "\n".join(lines) + "\n"


def soak_markdown(result: dict[str, Any]) -> list[str]:
    """One soak: a row per job, memory after it and its peaks; then the growth from job to job."""
    mib = 2**20
    cuda = "cuda_allocated_after_bytes" in result["soak"][0]
    config = result["config"]
    head = "| job | kind | outcome | s | RSS after MiB | RSS peak MiB |"
    rule = "|---|---|---|---|---|---|"
    if cuda:
        head += " CUDA allocated after MiB | CUDA reserved after MiB | CUDA peak allocated MiB |"
        rule += "---|---|---|"
    lines = [
        "",
        f"## {result['name']}",
        "",
        f"{len(result['soak'])} jobs in a row in one process ({result.get('size')}, {result.get('frames')} frames, "
        f"{result.get('steps')} steps; {json.dumps(config.get('memory', {}))}): new prompts and seeds, previews "
        "every step on some, a re-run, a cancel midway. The process's RSS sampled every 3 ms for each job's peak"
        + ("; CUDA memory from torch.cuda after each job (peak: max_memory_allocated, reset per job)." if cuda else ".")
        + f" 1-minute load average before→after: {result['load_average'][0]}→{result['load_average'][1]}.",
        "",
        head,
        rule,
    ]
    for job in result["soak"]:
        row = (
            f"| {job['job']} | {job['kind']} | {job['outcome']} | {job['wall_s']} | "
            f"{job['rss_after_bytes'] / mib:.0f} | {job['rss_peak_bytes'] / mib:.0f} |"
        )
        if cuda:
            row += (
                f" {job['cuda_allocated_after_bytes'] / mib:.0f} | {job['cuda_reserved_after_bytes'] / mib:.0f} | "
                f"{job['cuda_peak_allocated_bytes'] / mib:.0f} |"
            )
        lines.append(row)
    growth = result.get("soak_growth") or {}
    notes = []
    if "compared_jobs" in growth:
        a, b = growth["compared_jobs"]
        notes.append(f"peak RSS of job {b} ÷ job {a} (the same kind of job): {growth['rss_peak_ratio']:.3f}")
    if "rss_after_delta_bytes" in growth:
        notes.append(f"RSS after the last job − after job 2: {growth['rss_after_delta_bytes'] / mib:+.1f} MiB")
    for key, label in (
        ("cuda_allocated_delta_bytes", "CUDA allocated"),
        ("cuda_reserved_delta_bytes", "CUDA reserved"),
        ("cuda_peak_allocated_delta_bytes", "CUDA peak allocated (same kind of job)"),
    ):
        if key in growth:
            notes.append(f"{label}, last job − job 2: {growth[key] / mib:+.1f} MiB")
    if notes:
        lines += ["", "Growth: " + "; ".join(notes) + "."]
    return lines


def build_or_use_model(args: argparse.Namespace, workdir: Path) -> tuple[Path, float, str]:
    if args.model:
        return Path(args.model), 0.0, f"weights from {args.model}"
    target = workdir / f"contentv-{args.scale}"
    if args.scale == "tiny":
        from core.model.demo import make_demo_model

        start = time.perf_counter()
        make_demo_model(target, overwrite=True)
        return target, time.perf_counter() - start, "the demo model (tiny random ContentV)"
    from bench.model_builder import SCALES, build_model

    dtype = "bfloat16" if args.device == "cuda" else "float32"
    seconds = build_model(target, SCALES[args.scale], args.device, dtype)
    description = "ContentV-8B-shaped, random weights" if args.scale == "full" else "scaled-down ContentV, random"
    return target, seconds, description


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=sorted(SCALE_DEFAULTS))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--model", default=None, help="a ContentV folder (real weights) instead of a random one")
    parser.add_argument("--size", default=None, help="WxH (default: by scale)")
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--configs", default=None, help="comma-separated configuration names (default: all)")
    parser.add_argument("--workdir", default=None, help="where the random model folder is built")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--name", default=None, help="file stem of the results (default: engine-<device>-<scale>)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per configuration")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--budget",
        type=int,
        default=0,
        help="seconds for all configurations (0: no limit); "
        "a configuration that cannot start with --min-config-s left is reported as skipped",
    )
    parser.add_argument("--min-config-s", type=int, default=45)
    parser.add_argument(
        "--set",
        default="memory",
        choices=["memory", "speed", "soak", "all"],
        help="GPU configurations: the memory placements (default), all on GPU with the step-cache levels and "
        "compile (where this checkout has issue 9's speed options), soak (6 jobs in a row in one process, memory "
        "after each; on the CPU too), or all of them (longer than 8 minutes at full size)",
    )
    args = parser.parse_args(argv)
    size, frames, steps = SCALE_DEFAULTS[args.scale]
    args.size = args.size or size
    args.frames = args.frames or frames
    # The step caches need the uncached base run to record a MagCache calibration (>= 8 steps).
    args.steps = args.steps or (max(steps, 8) if args.set in ("speed", "all") else steps)

    configs = dict(CPU_SOAK_CONFIGS) if args.set == "soak" else dict(CPU_CONFIGS)
    if args.device == "cuda":
        configs = dict(GPU_CONFIGS) if args.set in ("memory", "all") else {}
        if args.set in ("speed", "all"):
            configs.setdefault("all on GPU", GPU_CONFIGS["all on GPU"])
            configs.update(speed_configs())
        if args.set in ("soak", "all"):
            configs.update(GPU_SOAK_CONFIGS)
    if args.configs:
        wanted = [c.strip() for c in args.configs.split(",")]
        unknown = [c for c in wanted if c not in configs]
        if unknown:
            parser.error(f"unknown configuration(s) {unknown}; choose from {sorted(configs)}")
        configs = {c: configs[c] for c in wanted}

    import torch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    deadline = time.perf_counter() + args.budget if args.budget else None
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        model, build_s, description = build_or_use_model(args, Path(tmp))
        print(f"[bench] model: {description} ({build_s:.1f} s)", file=sys.stderr, flush=True)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        for name, config in configs.items():
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left < args.min_config_s:
                results.append({"name": name, "config": config, "error": f"skipped: {left:.0f} s of the budget left"})
                continue
            run_args = argparse.Namespace(**{**vars(args), "timeout": int(min(args.timeout, left or args.timeout))})
            result = run_one(name, config, run_args, model, scratch)
            results.append(result)
            if "soak" not in result:
                attach_estimates([result], args, model)
            attach_quality(results)
            report = make_report(args, results, build_s, description, torch.__version__)
            print(progress_line(result), file=sys.stderr, flush=True)
            write_report(report, out, args)  # after every configuration: a timeout keeps what ran
    report = make_report(args, results, build_s, description, torch.__version__)
    stem = write_report(report, out, args)
    print(markdown(report))
    print(f"[bench] wrote {out / stem}.json and .md", file=sys.stderr)
    return 1 if any("error" in r for r in results) else 0


def make_report(
    args: argparse.Namespace, results: list[dict[str, Any]], build_s: float, description: str, torch_version: str
) -> dict[str, Any]:
    ratios = attach_ratios(results)
    device_name = next((r["device_name"] for r in results if "device_name" in r), args.device)
    return {
        "device": args.device,
        "device_name": device_name,
        "torch": torch_version,
        "scale": args.scale,
        "model_description": description,
        "size": args.size,
        "frames": args.frames,
        "steps": args.steps,
        "dtype": args.dtype,
        "build_s": build_s,
        "results": results,
        "ratios": ratios,
    }


def write_report(report: dict[str, Any], out: Path, args: argparse.Namespace) -> str:
    device_name = report["device_name"]
    kind = "soak" if args.set == "soak" else "engine"
    stem = args.name or f"{kind}-{slug(device_name if args.device == 'cuda' else 'cpu')}-{args.scale}"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(markdown(report), encoding="utf-8")
    return stem


def progress_line(result: dict[str, Any]) -> str:
    """One line per configuration as the run goes, so a GPU session sees figures before the end."""
    if "error" in result:
        return f"[bench] {result['name']}: FAILED {result['error'][:300]}"
    if "soak" in result:
        return f"[bench] {result['name']}: " + "; ".join(soak_markdown(result)[-1:])
    parts = [
        f"{result['s_per_step']:.3g} s/step",
        f"peak {result['peak_bytes'] / GiB:.2f} GiB",
        f"host RAM {result['peak_host_ram_bytes'] / GiB:.2f} GiB",
        f"load {result['load_s']:.1f} s",
        f"calls {result.get('transformer_calls') or 0:.1f}",
    ]
    if result.get("official"):
        parts.append(f"official {result['official']['s_per_step']:.3g} s/step")
    if "psnr_db" in result:
        parts.append(f"PSNR {result['psnr_db']:.1f} dB SSIM {result['ssim']:.3f}")
    return f"[bench] {result['name']}: " + ", ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
