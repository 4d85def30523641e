"""The headless command line: `generate` (text to video) and `make-demo-model` (a tiny model to test an install).

Bad input exits with status 2 and one line on stderr, without a traceback and without leaving any file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from core.errors import JobCancelled, StudioError
from core.progress import ProgressSink, Stage, StepProgress
from core.request import (
    ATTENTION_BACKENDS,
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    DEFAULT_GUIDANCE,
    DEFAULT_HEIGHT,
    DEFAULT_STEPS,
    DEFAULT_WIDTH,
    DEVICES,
    DTYPES,
    OFFICIAL_NEGATIVE_PROMPT,
    GenerationRequest,
    GuidanceBatching,
    MemoryOptions,
    OutputOptions,
    Placement,
    Quantization,
    SpeedOptions,
    StepCache,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_CANCELLED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem (argparse's own exit status 2 is kept)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def build_parser(prog: str = "main.py") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="ContentV Studio: text-to-video with ContentV-8B on your own GPU.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    gen = sub.add_parser("generate", help="generate one clip from a prompt, headless")
    gen.add_argument("--model", required=True, metavar="DIR", help="ContentV-8B folder (diffusers layout)")
    gen.add_argument("--prompt", required=True, metavar="TEXT")
    gen.add_argument(
        "--negative-prompt",
        default=OFFICIAL_NEGATIVE_PROMPT,
        metavar="TEXT",
        help="default: the official demo's negative prompt",
    )
    gen.add_argument("--width", type=_int, default=DEFAULT_WIDTH, metavar="W", help="multiple of 16 (768)")
    gen.add_argument("--height", type=_int, default=DEFAULT_HEIGHT, metavar="H", help="multiple of 16 (432)")
    gen.add_argument(
        "--frames",
        type=_int,
        default=DEFAULT_FRAMES,
        metavar="N",
        help="4k+1; others become n//4*4+1 as in the official pipeline (125 = 5.2 s at 24 fps)",
    )
    gen.add_argument("--fps", type=_int, default=DEFAULT_FPS, metavar="F")
    gen.add_argument("--steps", type=_int, default=DEFAULT_STEPS, metavar="S")
    gen.add_argument("--guidance", type=_float, default=DEFAULT_GUIDANCE, metavar="G")
    gen.add_argument("--seed", type=_int, default=None, metavar="N", help="default: random, printed")
    gen.add_argument("--device", choices=DEVICES, default="auto")
    gen.add_argument("--dtype", choices=DTYPES, default="auto")
    gen.add_argument(
        "--offload",
        choices=[p.value for p in Placement],
        default=Placement.GPU.value,
        help="none: all on GPU; model: components take turns; sequential: lowest VRAM; "
        "streamed: blocks prefetched on a CUDA side stream",
    )
    gen.add_argument("--vae-slicing", action="store_true")
    gen.add_argument("--vae-tiling", action="store_true")
    gen.add_argument("--attention-slicing", action="store_true")
    gen.add_argument(
        "--text-encoders-off-gpu",
        action="store_true",
        help="move the text encoders to system RAM once the prompt is encoded",
    )
    gen.add_argument("--quantize", choices=[q.value for q in Quantization], default=Quantization.NONE.value)
    gen.add_argument(
        "--attention",
        choices=ATTENTION_BACKENDS,
        default="auto",
        help="attention kernel; auto: the fastest this GPU runs (a forced one that cannot run is refused)",
    )
    gen.add_argument(
        "--step-cache",
        choices=[c.value for c in StepCache],
        default=StepCache.OFF.value,
        help="reuse work between steps (MagCache once calibrated by an uncached job; else First-Block/TaylorSeer)",
    )
    gen.add_argument(
        "--guidance-batching",
        choices=[g.value for g in GuidanceBatching],
        default=GuidanceBatching.SEQUENTIAL.value,
        help="sequential: official numerics, less memory; batched; auto: measure and keep the faster",
    )
    gen.add_argument("--compile", action="store_true", help="torch.compile the transformer blocks (first step slower)")
    gen.add_argument("--output", required=True, metavar="FILE.mp4")
    gen.add_argument("--save-frames", default=None, metavar="DIR", help="also write lossless PNG frames")

    demo = sub.add_parser("make-demo-model", help="write a tiny random-weight model to check an install")
    demo.add_argument("dir", metavar="DIR")
    return parser


def request_from_args(args: argparse.Namespace) -> GenerationRequest:
    memory = MemoryOptions(
        device=args.device,
        dtype=args.dtype,
        placement=Placement(args.offload),
        vae_slicing=args.vae_slicing,
        vae_tiling=args.vae_tiling,
        attention_slicing=args.attention_slicing,
        quantization=Quantization(args.quantize),
        text_encoders_off_gpu=args.text_encoders_off_gpu,
    )
    return GenerationRequest(
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        width=args.width,
        height=args.height,
        num_frames=args.frames,
        fps=args.fps,
        steps=args.steps,
        guidance=args.guidance,
        seed=args.seed,
        memory=memory,
        speed=SpeedOptions(
            attention_backend=args.attention,
            step_cache=StepCache(args.step_cache),
            guidance_batching=GuidanceBatching(args.guidance_batching),
            compile=args.compile,
        ),
    )


class ProgressBar:
    """One line on stderr, redrawn in place: stage, bar, step count, elapsed and ETA."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._open_line = False

    def stage(self, stage: Stage) -> None:
        self._end_line()
        self.stream.write(f"{stage.value}…\n")
        self.stream.flush()

    def step(self, p: StepProgress) -> None:
        filled = int(self.WIDTH * p.fraction)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        text = f"  [{bar}] {p.step}/{p.total}  {p.elapsed_s:6.1f}s elapsed, ~{p.eta_s:6.1f}s left"
        if self.tty:
            self.stream.write("\r" + text)
            self._open_line = p.step < p.total
            if not self._open_line:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _end_line(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False


def run_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from core.engine import Engine

    request = request_from_args(args)
    output = OutputOptions(
        video_path=Path(args.output).expanduser(),
        frames_dir=Path(args.save_frames).expanduser() if args.save_frames else None,
    )
    engine = Engine()
    engine.check(args.model, request, output)  # refuse bad input before the slow imports and loading
    if request.seed is None:
        from core.request import random_seed

        request = request.with_seed(random_seed())
        err.write(f"seed: {request.seed} (random)\n")
    if request.frames_note:
        err.write(f"note: {request.frames_note}\n")
    bar = ProgressBar(err)
    start = time.perf_counter()
    result = engine.generate(args.model, request, output, ProgressSink(bar.stage, bar.step))
    t = result.timings
    peak = f", peak VRAM {result.peak_vram_bytes / 2**30:.2f} GiB" if result.peak_vram_bytes else ""
    compiled = f", compile {result.compile_s:.1f}s" if result.compile_s is not None else ""
    err.write(
        f"done in {time.perf_counter() - start:.1f}s (load {t.loading_s:.1f}s, encode {t.encoding_s:.1f}s, "
        f"denoise {t.denoising_s:.1f}s, decode {t.decoding_s:.1f}s){peak}{compiled}"
        f", attention {result.attention_backend or '?'}\n"
    )
    out.write(f"{result.video_path}\n")
    out.write(f"seed: {result.seed}\n")
    return EXIT_OK


def run_make_demo_model(args: argparse.Namespace, out: TextIO) -> int:
    from core.demo_model import make_demo_model

    target = Path(args.dir).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StudioError(f"{target} already exists and is not empty; choose a new folder.")
    path = make_demo_model(target)
    out.write(f"{path}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    # (sys.stdout and sys.stderr are None in a windowed frozen app; packaging's runtime hook replaces them.)
    out = out if out is not None else cast(TextIO, sys.stdout)
    err = err if err is not None else cast(TextIO, sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    try:
        if args.command == "generate":
            return run_generate(args, out, err)
        return run_make_demo_model(args, out)
    except JobCancelled as exc:
        err.write(f"cancelled: {exc.message}\n")
        return EXIT_CANCELLED
    except StudioError as exc:
        line = exc.message if not exc.advice else f"{exc.message} {exc.advice}"
        err.write(f"error: {line}\n")
        return EXIT_BAD_INPUT if exc.kind != "out-of-memory" else EXIT_FAILED
    except KeyboardInterrupt:
        err.write("cancelled: interrupted; nothing was written.\n")
        return EXIT_CANCELLED
