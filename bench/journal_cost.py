"""What the job journal (core/store/journal.py) costs a job.

    .venv/bin/python bench/journal_cost.py [--runs N] [--json OUT.json] [--md OUT.md]

Three figures, each measured on this machine:

1. One snapshot of the default job (768x432, 125 frames: latents 1x16x32x54x96) in float32 and bfloat16, and of
   a MagCache state at ContentV-8B's full size (two guidance branches x 41,472 tokens x 2,432 features, bfloat16):
   the time the job's own thread spends (copying the tensors off the job) and the background writer's time (SHA-256,
   safetensors, fsync, rename). Set against the estimator's official s/step on the GPU it is calibrated on (H100,
   the fastest card, so the largest share), at the default interval of 5 steps.
2. Whole tiny jobs (core.model.demo, 80x48, 9 frames, 20 steps, CPU) with the journal every step (the worst case)
   against no journal, alternated run by run, each the median of N.
3. The step-cache states at full size, on paper, and which ones a snapshot keeps (limit CACHE_STATE_LIMIT_BYTES).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.store.journal import (  # noqa: E402
    CACHE_STATE_LIMIT_BYTES,
    DEFAULT_SNAPSHOT_EVERY,
    JobJournal,
    JournalHeader,
    Snapshot,
)

DEFAULT_LATENTS = (1, 16, 32, 54, 96)  # 768x432x125 through the Wan VAE (x8 spatial, x4 temporal)
VIDEO_TOKENS, TEXT_TOKENS, HIDDEN, LAYERS = 32 * 27 * 48, 77 + 256, 38 * 64, 38
H100_OFFICIAL_S_PER_STEP = 4.53  # core/estimate.py's calibration point (issue 9's H100 table)


def _journal(folder: Path) -> JobJournal:
    header = JournalHeader("bench", {"steps": 50}, "", "", "cpu", "float32", "", None, True)
    return JobJournal.start(folder, header)


def time_snapshot(tensors: dict[str, torch.Tensor], runs: int) -> dict[str, float]:
    """Median foreground (copy) and background (hash + write + fsync) seconds of one snapshot."""
    foreground, background = [], []
    with tempfile.TemporaryDirectory(dir=ROOT) as folder:  # the disk the data folder is on, not a tmpfs
        journal = _journal(Path(folder))
        for step in range(1, runs + 1):
            started = time.perf_counter()
            copies = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
            latents = copies.pop("latents")
            snapshot = Snapshot(step, latents, {}, {}, {"mode": "exact"}, {f"cache.{k}": v for k, v in copies.items()})
            foreground.append(time.perf_counter() - started)
            started = time.perf_counter()
            journal.write(snapshot, background=False)
            background.append(time.perf_counter() - started)
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    return {
        "mib": size / 2**20,
        "foreground_s": statistics.median(foreground),
        "background_s": statistics.median(background),
    }


def time_jobs(runs: int) -> dict[str, float]:
    from core.engine.runner import Engine
    from core.job.request import GenerationRequest, MemoryOptions, OutputOptions
    from core.model.demo import make_demo_model
    from core.store.journal import JournalOptions

    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
        root = Path(folder)
        model = make_demo_model(root / "model")
        engine = Engine()
        request = GenerationRequest(
            prompt="a lighthouse", width=80, height=48, num_frames=9, steps=20, seed=1, memory=MemoryOptions("cpu")
        )
        engine.generate(model, request, OutputOptions(root / "warm.mp4"))  # load once, warm the caches
        plain, journaled, on_thread = [], [], []
        for run in range(runs):
            for with_journal in (run % 2 == 0, run % 2 != 0):
                journal = JournalOptions(root / "jobs", f"bench-{run}", snapshot_every=1) if with_journal else None
                result = engine.generate(
                    model, request, OutputOptions(root / f"{run}-{with_journal}.mp4"), journal=journal
                )
                (journaled if with_journal else plain).append(result.timings.denoising_s)
        # The job thread's own time on snapshots, from one more journaled job.
        from core.store.journal import JobJournal as _JobJournal

        spent: list[float] = []
        real_wait = _JobJournal.wait

        def timed_wait(self: _JobJournal) -> None:
            real_wait(self)
            spent.append(self.write_seconds)

        _JobJournal.wait = timed_wait  # type: ignore[method-assign]
        try:
            journal = JournalOptions(root / "jobs", "bench-last", snapshot_every=1)
            engine.generate(model, request, OutputOptions(root / "last.mp4"), journal=journal)
        finally:
            _JobJournal.wait = real_wait  # type: ignore[method-assign]
        on_thread.append(max(spent) if spent else 0.0)
    return {
        "steps": request.steps,
        "plain_denoise_s": statistics.median(plain),
        "journaled_denoise_s": statistics.median(journaled),
        "ratio": statistics.median(journaled) / statistics.median(plain),
        "job_thread_snapshot_s": on_thread[0],
    }


def cache_states_on_paper() -> dict[str, dict[str, float]]:
    video = VIDEO_TOKENS * HIDDEN
    both = (VIDEO_TOKENS + TEXT_TOKENS) * HIDDEN
    branches = 2
    states = {
        "mag-cache": branches * video * 2,  # the previous residual, bf16
        "first-block": branches * (video + video + TEXT_TOKENS * HIDDEN) * 2,  # head residual + tail residuals
        "taylorseer": branches * LAYERS * 2 * both * 4,  # orders 0 and 1 of every attention output, float32
    }
    return {k: {"gib": v / 2**30, "kept": float(v <= CACHE_STATE_LIMIT_BYTES)} for k, v in states.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--md", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(max(1, (os.cpu_count() or 2)))
    latents32 = torch.randn(DEFAULT_LATENTS)
    snapshots = {
        "latents float32": time_snapshot({"latents": latents32}, args.runs),
        "latents bfloat16": time_snapshot({"latents": latents32.bfloat16()}, args.runs),
        "latents + MagCache state (bf16, full size)": time_snapshot(
            {"latents": latents32.bfloat16(), "r": torch.randn(2, VIDEO_TOKENS, HIDDEN, dtype=torch.bfloat16)}, 3
        ),
    }
    interval_s = DEFAULT_SNAPSHOT_EVERY * H100_OFFICIAL_S_PER_STEP
    for figure in snapshots.values():
        figure["share_of_interval_on_h100"] = figure["foreground_s"] / interval_s
        figure["background_fits_interval"] = float(figure["background_s"] < interval_s)
    report = {
        "machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "snapshot_every": DEFAULT_SNAPSHOT_EVERY,
        "h100_official_s_per_step": H100_OFFICIAL_S_PER_STEP,
        "snapshots": snapshots,
        "tiny_jobs": time_jobs(args.runs),
        "cache_states_full_size": cache_states_on_paper(),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    if args.md:
        args.md.write_text(markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = [
        "# Job journal: what a snapshot costs",
        "",
        f"Measured with `bench/journal_cost.py` on {report['machine']} (no GPU); the GPU share is the job "
        f"thread's time per snapshot against {report['snapshot_every']} steps at the estimator's official "
        f"{report['h100_official_s_per_step']} s/step on an H100 (the fastest card: the largest share).",
        "",
        "| snapshot | size MiB | job thread s | background s | share of 5 H100 steps |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, f in report["snapshots"].items():
        lines.append(
            f"| {name} | {f['mib']:.1f} | {f['foreground_s']:.4f} | {f['background_s']:.3f} | "
            f"{f['share_of_interval_on_h100'] * 100:.3f} % |"
        )
    t = report["tiny_jobs"]
    lines += [
        "",
        f"Tiny jobs on the CPU ({t['steps']} steps, a snapshot after every step, the worst case): denoising "
        f"{t['journaled_denoise_s']:.2f} s with the journal against {t['plain_denoise_s']:.2f} s without "
        f"({(t['ratio'] - 1) * 100:+.1f} %); the job thread spent {t['job_thread_snapshot_s']:.3f} s in all on its "
        "snapshots.",
        "",
        "Step-cache state at ContentV-8B's full size (default job, guidance on), on paper:",
        "",
        "| method | GiB | kept in a snapshot |",
        "|---|---:|---|",
    ]
    for name, f in report["cache_states_full_size"].items():
        kept = "yes (exact resume)" if f["kept"] else "no: the cache restarts at the resumed step"
        lines.append(f"| {name} | {f['gib']:.2f} | {kept} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
