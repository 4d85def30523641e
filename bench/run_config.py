"""One benchmark configuration, run through the project's `Engine` in a fresh process (so the host-RAM peak
belongs to this configuration alone). Prints one line `RESULT {json}` on stdout.
A configuration with `"jobs": N` (N > 1) is a soak instead: N jobs in a row on one Engine, memory after each
(`run_soak`).

    python -m bench.run_config --model DIR --config '{"memory": {"offload": "streamed"}}' --device cuda \
        --size 768x432 --frames 125 --steps 3 [--baseline]

Per stage (loading, encoding, denoising, decoding): peak GPU memory from the CUDA allocator, its peak statistics
reset as each stage begins (the engine's stage callback); on the CPU, the tensor-memory tracker of
core/engine/memtrack.py
(tensors alive, reset the same way). Seconds per step: the mean interval between steps after the first (which
includes warm-up). Host RAM: the process's VmHWM (Linux), or psutil's RSS sampled by a thread elsewhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROMPT = "A red fox trots through fresh snow in a silent pine forest at dawn."


class HostRamPeak:
    """Peak resident memory of this process: VmHWM where the kernel keeps it, else RSS sampled every 20 ms."""

    def __init__(self) -> None:
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if _vm_kib("VmHWM:") is None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self) -> None:
        import psutil

        process = psutil.Process()
        while not self._stop.wait(0.02):
            self._peak = max(self._peak, process.memory_info().rss)

    def current(self) -> int:
        kib = _vm_kib("VmRSS:")
        if kib is not None:
            return kib * 1024
        import psutil

        return int(psutil.Process().memory_info().rss)

    def peak(self) -> int:
        kib = _vm_kib("VmHWM:")
        if kib is not None:
            return kib * 1024
        self._stop.set()
        return max(self._peak, self.current())


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on Windows
        return None


def _vm_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class StagePeaks:
    """Peak device memory of each stage, reset when the next one begins."""

    def __init__(self, device: str) -> None:
        import torch

        from core.engine.memtrack import TensorMemoryTracker

        self.device = device
        self.peaks: dict[str, int] = {}
        self._stage: str | None = None
        self._torch = torch
        self.tracker = None if device == "cuda" else TensorMemoryTracker()

    def _read(self) -> int:
        if self.device == "cuda":
            self._torch.cuda.synchronize()
            return int(self._torch.cuda.max_memory_allocated())
        assert self.tracker is not None
        return int(self.tracker.peak_bytes)

    def _reset(self) -> None:
        if self.device == "cuda":
            self._torch.cuda.synchronize()
            self._torch.cuda.reset_peak_memory_stats()
        else:
            assert self.tracker is not None
            self.tracker.peak_bytes = self.tracker.current_bytes

    def on_stage(self, stage: Any) -> None:
        self.finish()
        self._stage = str(getattr(stage, "value", stage))
        self._reset()

    def finish(self) -> None:
        if self._stage is not None:
            self.peaks[self._stage] = max(self.peaks.get(self._stage, 0), self._read())
            self._stage = None


def build_request(config: dict[str, Any], args: argparse.Namespace) -> Any:
    from core.job.request import GenerationRequest, MemoryOptions, SpeedOptions

    width, height = (int(v) for v in args.size.split("x"))
    memory = MemoryOptions.from_dict({"device": args.device, "dtype": args.dtype, **config.get("memory", {})})
    request = GenerationRequest(
        prompt=PROMPT,
        width=width,
        height=height,
        num_frames=args.frames,
        steps=args.steps,
        guidance=6.0,
        seed=0,
        memory=memory,
    )
    speed = config.get("speed")
    if speed:
        request = dataclasses.replace(request, speed=SpeedOptions.from_dict(speed))
    return request


class AttentionCounter:
    """Counts the joint attentions the engine's processor actually computes: a block a step cache skips, or an
    attention TaylorSeer predicts, never reaches it. Patched on the class because each job installs fresh
    processor instances (this process runs one configuration, so the patch touches nothing else); the official
    baseline uses diffusers' stock processor and is not counted."""

    def __init__(self) -> None:
        from core.engine.attention import JointAttentionProcessor

        self.calls = 0
        original = JointAttentionProcessor.__call__
        counter = self

        def counting_call(processor: Any, *args: Any, **kwargs: Any) -> Any:
            counter.calls += 1
            return original(processor, *args, **kwargs)

        JointAttentionProcessor.__call__ = counting_call  # type: ignore[method-assign]


class FrameCapture:
    """Keeps the frames of the job's last decode (float32 in [0, 1]) so the parent can compare configurations."""

    def __init__(self) -> None:
        from core.engine.pipeline import ContentVPipeline

        self.frames: Any = None
        original = ContentVPipeline.decode
        capture = self

        def capturing_decode(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            capture.frames = original(pipe, *args, **kwargs)
            return capture.frames

        ContentVPipeline.decode = capturing_decode  # type: ignore[method-assign]


def run(args: argparse.Namespace) -> dict[str, Any]:
    host = HostRamPeak()
    import torch

    from core.engine.runner import Engine
    from core.job.progress import ProgressSink
    from core.job.request import OutputOptions

    config = json.loads(args.config)
    request = build_request(config, args)
    device = args.device
    # Counting inside a compiled block would add a side effect to every traced call: not for compiled runs.
    attentions = None if (config.get("speed") or {}).get("compile") else AttentionCounter()
    capture = FrameCapture()
    result: dict[str, Any] = {"config": config}
    if device == "cuda":
        result["device_name"] = torch.cuda.get_device_name(0)
        result["gpu_total_bytes"] = int(torch.cuda.get_device_properties(0).total_memory)
    else:
        result["device_name"] = platform.processor() or platform.machine() or "cpu"
    result["host_ram_before_bytes"] = host.current()
    load_before = _load_average()
    peaks = StagePeaks(device)
    step_marks: list[float] = []
    stage_marks: dict[str, float] = {}

    def on_stage(stage: Any) -> None:
        stage_marks[str(stage.value)] = time.perf_counter()
        peaks.on_stage(stage)

    def on_step(_progress: Any) -> None:
        if device == "cuda":
            torch.cuda.synchronize()  # the step's kernels are queued asynchronously: time them finished
        step_marks.append(time.perf_counter())

    sink = ProgressSink(on_stage=on_stage, on_step=on_step)
    engine = Engine()
    with tempfile.TemporaryDirectory() as tmp:
        output = OutputOptions(Path(tmp) / "clip.mp4", write_sidecar=False)
        if peaks.tracker is not None:
            with peaks.tracker:
                generated = engine.generate(args.model, request, output, sink)
        else:
            generated = engine.generate(args.model, request, output, sink)
    peaks.finish()
    speed_report = engine.clip_metadata(request, engine.check(args.model, request), generated.num_frames)["speed"]
    num_layers = int(engine.pipeline.transformer.config.num_layers)
    intervals = [b - a for a, b in itertools.pairwise(step_marks)]
    first_step = step_marks[0] - stage_marks["denoising"] if step_marks else None
    result.update(
        {
            "stage_peak_bytes": peaks.peaks,
            "peak_bytes": max(peaks.peaks.get(s, 0) for s in ("encoding", "denoising", "decoding")),
            "engine_peak_bytes": generated.peak_vram_bytes,
            # The mean, not the median: a step cache makes some steps nearly free and others whole, and the
            # median of such a mix lands on one kind. Steps after the first (warm-up, compilation) only.
            "s_per_step": statistics.fmean(intervals) if intervals else first_step,
            "all_steps_s": (step_marks[-1] - stage_marks["denoising"]) if step_marks else None,
            "first_step_s": first_step,
            "timings": generated.timings.to_dict(),
            "load_s": generated.timings.loading_s,
            "frames": generated.num_frames,
            "peak_host_ram_bytes": host.peak(),
            "speed": speed_report,
            "guidance_batched": speed_report.get("guidance_batching") == "batched",
            "attention_calls": attentions.calls if attentions else None,
            # Transformer calls in whole-model equivalents (a First-Block-cached call counts 1/num_layers).
            "transformer_calls": attentions.calls / num_layers if attentions else None,
        }
    )
    if args.frames_out and capture.frames is not None:
        import numpy as np

        np.save(args.frames_out, capture.frames.astype(np.float32))
        result["frames_file"] = args.frames_out
    result["extra_host_ram_bytes"] = result["peak_host_ram_bytes"] - result["host_ram_before_bytes"]
    # Other processes' load skews CPU timings: kept beside them (1-minute load average, before and after).
    result["load_average"] = [load_before, _load_average()]
    if args.baseline:
        result["official"] = official_baseline(engine, request, args)
    return result


class RssPeak:
    """The process's peak resident memory since `begin()`, from a thread sampling every few ms (VmHWM only ever
    grows, so it cannot give one job's peak after another's)."""

    def __init__(self, interval_s: float = 0.003) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval_s
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def current(self) -> int:
        return int(self._process.memory_info().rss)

    def begin(self) -> None:
        self._peak = self.current()

    def peak(self) -> int:
        self._peak = max(self._peak, self.current())
        return self._peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self.current())


# The soak's jobs after the first, in turn, as a session varies them.
SOAK_KINDS = ("new seed", "new seed, previews", "re-run of the previous job", "cancelled midway, previews")


def run_soak(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """`config["jobs"]` jobs in a row on one Engine (one process, the model loaded once), as the window's worker
    runs them: new prompts and seeds, previews on and off, a re-run, a cancel in the middle. After each job:
    torch.cuda.memory_allocated and memory_reserved, and the job's peak allocated (CUDA), and the process's RSS
    and its peak during the job (sampled every 3 ms). Memory that stays is a leak only if it grows from job to
    job: compare each job with the same kind of job earlier (job 2 and job 6 are both "new seed, previews")."""
    import torch

    from core.engine.runner import Engine
    from core.errors import JobCancelled
    from core.job.progress import CancelToken, ProgressSink
    from core.job.request import OutputOptions

    jobs = int(config["jobs"])
    base = build_request(config, args)
    cuda = args.device == "cuda"
    rss = RssPeak()
    engine = Engine()
    records: list[dict[str, Any]] = []
    result: dict[str, Any] = {"config": config, "load_average_before": _load_average()}
    result.update({"size": args.size, "frames": args.frames, "steps": args.steps})
    if cuda:
        result["device_name"] = torch.cuda.get_device_name(0)
        result["gpu_total_bytes"] = int(torch.cuda.get_device_properties(0).total_memory)
    else:
        result["device_name"] = platform.processor() or platform.machine() or "cpu"
    result["host_ram_before_bytes"] = rss.current()
    previous_seed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1, jobs + 1):
            kind = SOAK_KINDS[(k - 1) % len(SOAK_KINDS)] if k > 1 else "first (loads the model)"
            seed = previous_seed if kind.startswith("re-run") else k
            request = dataclasses.replace(base, seed=seed, prompt=f"{PROMPT} Take {k}.")
            if kind.startswith("re-run"):
                request = dataclasses.replace(request, prompt=records[-1]["prompt"])
            token = CancelToken()
            cancel_at = max(1, args.steps // 2) if kind.startswith("cancelled") else None
            steps_done: list[int] = []

            def on_step(
                progress: Any,
                token: CancelToken = token,
                cancel_at: int | None = cancel_at,
                done: list[int] = steps_done,
            ) -> None:
                done.append(progress.step)
                if progress.step == cancel_at:
                    token.cancel()

            previews: list[Any] = []
            sink = ProgressSink(
                on_step=on_step, on_preview=previews.append, preview_every=1 if "previews" in kind else 0
            )
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            rss.begin()
            started = time.perf_counter()
            outcome = "finished"
            try:
                engine.generate(args.model, request, OutputOptions(Path(tmp) / f"job-{k}.mp4"), sink, token)
            except JobCancelled:
                outcome = f"cancelled after step {steps_done[-1] if steps_done else 0}"
            record: dict[str, Any] = {
                "job": k,
                "kind": kind,
                "seed": seed,
                "prompt": request.prompt,
                "outcome": outcome,
                "previews": len(previews),
                "wall_s": round(time.perf_counter() - started, 2),
                "rss_after_bytes": rss.current(),
                "rss_peak_bytes": rss.peak(),
            }
            previews.clear()
            if cuda:
                torch.cuda.synchronize()
                record["cuda_allocated_after_bytes"] = int(torch.cuda.memory_allocated())
                record["cuda_reserved_after_bytes"] = int(torch.cuda.memory_reserved())
                record["cuda_peak_allocated_bytes"] = int(torch.cuda.max_memory_allocated())
            records.append(record)
            previous_seed = seed
            print(f"[soak] {soak_line(record)}", file=sys.stderr, flush=True)
    rss.stop()
    result["soak"] = records
    result["soak_growth"] = soak_growth(records)
    result["peak_host_ram_bytes"] = max(r["rss_peak_bytes"] for r in records)
    result["load_average"] = [result.pop("load_average_before"), _load_average()]
    return result


def soak_line(record: dict[str, Any]) -> str:
    mib = 2**20
    parts = [f"job {record['job']} ({record['kind']}): {record['outcome']}, {record['wall_s']} s"]
    parts.append(f"RSS {record['rss_after_bytes'] / mib:.0f} MiB after, peak {record['rss_peak_bytes'] / mib:.0f}")
    if "cuda_allocated_after_bytes" in record:
        parts.append(
            f"CUDA allocated {record['cuda_allocated_after_bytes'] / mib:.0f} MiB, reserved "
            f"{record['cuda_reserved_after_bytes'] / mib:.0f} MiB after, peak allocated "
            f"{record['cuda_peak_allocated_bytes'] / mib:.0f} MiB"
        )
    return ", ".join(parts)


def soak_growth(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The last job against the last earlier job of the same kind after the first (which loads the model), and
    the figures after the last job against those after job 2: what stays resident should not grow."""
    growth: dict[str, Any] = {}
    if len(records) < 3:
        return growth
    last = records[-1]
    same_kind = [r for r in records[1:-1] if r["kind"] == last["kind"]]
    if same_kind:
        earlier = same_kind[0]
        growth["compared_jobs"] = [earlier["job"], last["job"]]
        growth["rss_peak_ratio"] = last["rss_peak_bytes"] / earlier["rss_peak_bytes"]
        if "cuda_peak_allocated_bytes" in last:
            growth["cuda_peak_allocated_delta_bytes"] = (
                last["cuda_peak_allocated_bytes"] - earlier["cuda_peak_allocated_bytes"]
            )
    second = records[1]
    growth["rss_after_delta_bytes"] = last["rss_after_bytes"] - second["rss_after_bytes"]
    for key in ("cuda_allocated_after_bytes", "cuda_reserved_after_bytes"):
        if key in last:
            growth[key.replace("_after_bytes", "_delta_bytes")] = last[key] - second[key]
    return growth


def official_baseline(engine: Any, request: Any, args: argparse.Namespace) -> dict[str, Any] | None:
    """The official algorithm (bench/official_algorithm.py) on the same loaded weights, timed step by step."""
    try:
        from bench.official_algorithm import time_official_steps  # type: ignore[import-not-found]
    except ImportError:
        print("baseline not available (bench/official_algorithm.py is missing)", file=sys.stderr)
        return None
    import torch

    pipe = engine.pipeline
    device = torch.device(args.device)
    dtype = pipe.transformer.dtype
    embeds = pipe.encode_prompt(
        request.prompt, request.negative_prompt, True, request.max_sequence_length, device, dtype
    )
    shape = pipe.latent_shape(request.height, request.width, request.effective_frames)
    latents = pipe.initial_noise(shape, 0, dtype, device)
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler.from_config(pipe.scheduler.config)  # the model's own, fresh
    run = lambda: time_official_steps(  # noqa: E731
        pipe.transformer, embeds, latents, request.steps, request.guidance, device, scheduler=scheduler
    )
    peak = None
    if device.type == "cpu":
        # The engine's job ran under the tensor tracker, whose dispatcher hook costs time on every operator:
        # the baseline runs under one too, so the two s/step figures pay the same overhead and stay comparable.
        from core.engine.memtrack import TensorMemoryTracker

        with TensorMemoryTracker() as tracker:
            times = run()
        peak = int(tracker.peak_bytes)
    else:
        torch.cuda.reset_peak_memory_stats()
        times = run()
        peak = int(torch.cuda.max_memory_allocated())
    later = times[1:] or times
    return {"step_s": list(times), "s_per_step": statistics.fmean(later), "peak_bytes": peak}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--config", default="{}", help="JSON: {'memory': MemoryOptions.to_dict() keys, 'speed': …}")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--size", default="768x432")
    parser.add_argument("--frames", type=int, default=125)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--baseline", action="store_true", help="also time the official algorithm")
    parser.add_argument("--frames-out", default=None, help="save the decoded frames here (.npy) for quality checks")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    config = json.loads(args.config)
    # A configuration may carry its own job shape (the soak runs a smaller job than the memory set).
    args.size = config.get("size", args.size)
    args.frames = int(config.get("frames", args.frames))
    args.steps = int(config.get("steps", args.steps))
    result = run_soak(args, config) if int(config.get("jobs", 1)) > 1 else run(args)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
