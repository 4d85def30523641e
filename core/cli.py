"""The headless command line: `generate` (text to video; `--from CLIP` makes a clip again from its parameters),
`info` (a clip's parameters), `make-demo-model` (a tiny model to test an install), `export`, `download`, `resume`,
and the finishing commands `upscale` and `interpolate` (core/cli_finish.py).

Every failure ends with one line on stderr and a distinct exit status (core.errors.EXIT_CODES: 2 bad input,
3 model folder or load failure, 4 out of memory, 5 output not written, 130 cancelled — Ctrl+C or SIGTERM —,
1 anything unexpected); the details of an unexpected one go to a log file whose path the line names.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import json
import math
import os
import shlex
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from core.errors import (
    EXIT_BAD_INPUT,
    EXIT_CANCELLED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_OUT_OF_MEMORY,
    EXIT_OUTPUT,
    InvalidRequestError,
    JobCancelled,
    OutputError,
    OutputTakenError,
    StudioError,
    exit_code,
)
from core.i18n import _t
from core.job.progress import CancelToken, ProgressSink, Stage, StepProgress
from core.job.request import (
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
    ParallelOptions,
    Placement,
    Quantization,
    SpeedOptions,
    Split,
    StepCache,
)
from core.output.frame_rate import FrameRate, frame_rate_text, parse_frame_rate, seconds
from core.store.journal import DEFAULT_SNAPSHOT_EVERY


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
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def _frame_rate(text: str) -> FrameRate:
    try:
        return parse_frame_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(prog: str = "main.py") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="ContentV Studio: text-to-video with ContentV-8B on your own GPU.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    gen = sub.add_parser("generate", help="generate one clip from a prompt, headless")
    _add_generate_arguments(gen)

    info = sub.add_parser(
        "info",
        help="show the parameters a clip was made with, and what this machine cannot run of them",
        description="Read the parameters from a clip (mp4, WebM, GIF, a PNG frame or frames folder, or a sidecar "
        ".json) and print them, with notes on what differs here. 'generate --from CLIP' makes the clip again.",
    )
    info.add_argument("clip", metavar="CLIP")
    info.add_argument("--json", action="store_true", help="print the parameters as JSON (the sidecar's keys)")
    info.add_argument(
        "--model", default=None, metavar="DIR", help="compare with this model folder (default: the window's)"
    )
    info.add_argument("--data-dir", default=None, metavar="DIR", help="the data folder (default: the window's)")

    resume = sub.add_parser(
        "resume",
        help="continue interrupted jobs from their last snapshot (a failed decode: decode again)",
        description="Continue jobs that were killed, stopped or whose decode failed, from their last journal "
        "snapshot, writing the outputs they had. Without JOB: every interrupted job, oldest first.",
    )
    resume.add_argument("job", nargs="?", default=None, metavar="JOB", help="a job id from --list")
    resume.add_argument("--data-dir", default=None, metavar="DIR", help="the data folder (default: the window's)")
    resume.add_argument("--list", action="store_true", help="list the resumable jobs and the step each reached")
    resume.add_argument("--start-over", action="store_true", help="run the job again from step 0 (same seed)")
    resume.add_argument(
        "--offload", choices=[p.value for p in Placement], default=None, help="another weight placement"
    )
    resume.add_argument("--vae-slicing", action="store_true", help="decode with VAE slicing (less memory)")
    resume.add_argument("--vae-tiling", action="store_true", help="decode with VAE tiling (much less memory)")
    resume.add_argument(
        "--decode-on-cpu", action="store_true", help="a denoised job: decode on the CPU (the last resort)"
    )
    resume.add_argument("--snapshot-every", type=_int, default=DEFAULT_SNAPSHOT_EVERY, metavar="N")

    demo = sub.add_parser("make-demo-model", help="write a tiny random-weight model to check an install")
    demo.add_argument("dir", metavar="DIR")

    export = sub.add_parser("export", help="export a clip as WebM, an animated GIF or PNG frames")
    export.add_argument("clip", metavar="CLIP.mp4")
    export.add_argument("--format", required=True, choices=["webm", "gif", "png"])
    export.add_argument("--output", default=None, metavar="PATH", help="file, or a folder for png (default: beside)")
    export.add_argument("--gif-palette", choices=["clip", "frame"], default="clip", help="one palette or one a frame")

    download = sub.add_parser("download", help="download ContentV-8B from the Hugging Face Hub (resumable)")
    download.add_argument("--to", required=True, metavar="DIR", help="an empty or new folder, or an interrupted one")
    download.add_argument("--repo", default="ByteDance/ContentV-8B")
    download.add_argument("--revision", default="main", metavar="R")

    from core.cli_finish import add_finish_parsers

    add_finish_parsers(sub, _float, _int)
    return parser


def _add_generate_arguments(gen: argparse.ArgumentParser) -> None:
    """`generate`'s options. --model, --prompt and --output are checked by `_check_required` (not argparse), since
    `--from CLIP` supplies the first two; the message without --from is argparse's own."""
    gen.add_argument("--model", default=None, metavar="DIR", help="ContentV-8B folder (diffusers layout)")
    gen.add_argument("--prompt", default=None, metavar="TEXT")
    gen.add_argument(
        "--from",
        dest="from_clip",
        default=None,
        metavar="CLIP",
        help="make a clip again with the parameters it was made with (see 'info'); options given here override "
        "them, --model defaults to the clip's model folder",
    )
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
    gen.add_argument(
        "--fps",
        type=_frame_rate,
        default=DEFAULT_FPS,
        metavar="F",
        help="frames a second: whole, NTSC (23.976 = 24000/1001, 29.97, 59.94) or a fraction such as 24000/1001",
    )
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
    gen.add_argument("--vae-slicing", action=argparse.BooleanOptionalAction, default=False)
    gen.add_argument("--vae-tiling", action=argparse.BooleanOptionalAction, default=False)
    gen.add_argument("--attention-slicing", action=argparse.BooleanOptionalAction, default=False)
    gen.add_argument(
        "--text-encoders-off-gpu",
        action=argparse.BooleanOptionalAction,
        default=False,
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
    gen.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="torch.compile the transformer blocks (first step slower)",
    )
    gen.add_argument(
        "--parallel",
        type=_int,
        default=1,
        metavar="N",
        help="split the job over N GPUs (one process each, NCCL); with --device cpu, N processes over gloo; "
        "under torchrun, the total number of processes",
    )
    gen.add_argument(
        "--split",
        choices=[s.value for s in Split],
        default=Split.AUTO.value,
        help="with --parallel: guidance (the two guidance branches side by side), ulysses or ring (the tokens "
        "split), auto: chosen from the job and the GPUs",
    )
    gen.add_argument(
        "--collective-timeout",
        type=_float,
        default=300.0,
        metavar="S",
        help="with --parallel: seconds any exchange between the processes may wait before the job ends (300)",
    )
    gen.add_argument("--output", default=None, metavar="FILE.mp4")
    gen.add_argument("--save-frames", default=None, metavar="DIR", help="also write lossless PNG frames")
    gen.add_argument(
        "--finish",
        default=None,
        metavar="STEPS",
        help="then upscale and/or interpolate the clip, e.g. upscale=2,fps=48 (also factor=2, upscale-model=FILE, "
        "interpolate=rife|ffmpeg, rife-model=FILE); only the finished clip is kept",
    )
    gen.add_argument(
        "--keep-model-path",
        action="store_true",
        help="record the model folder's absolute path in the clip too (by default a clip names the model by its "
        "name, hub id and a hash of its configs only, so a shared clip does not tell where it lives)",
    )
    gen.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="the app's data folder (default: the window's): its history records the job, its journal lets it resume",
    )
    gen.add_argument(
        "--snapshot-every",
        type=_int,
        default=DEFAULT_SNAPSHOT_EVERY,
        metavar="N",
        help=f"journal the job's state every N steps ({DEFAULT_SNAPSHOT_EVERY}; 0: only when stopped and at the end)",
    )


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
        parallel=ParallelOptions(getattr(args, "parallel", 1), Split(getattr(args, "split", Split.AUTO.value))),
    )


def request_values(request: GenerationRequest) -> dict[str, Any]:
    """A request as `generate`'s option values (argparse dests): the inverse of `request_from_args`."""
    memory, speed = request.memory, request.speed
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "width": request.width,
        "height": request.height,
        "frames": request.num_frames,
        "fps": request.fps,
        "steps": request.steps,
        "guidance": request.guidance,
        "seed": request.seed,
        "device": memory.device,
        "dtype": memory.dtype,
        "offload": memory.placement.value,
        "vae_slicing": memory.vae_slicing,
        "vae_tiling": memory.vae_tiling,
        "attention_slicing": memory.attention_slicing,
        "quantize": memory.quantization.value,
        "text_encoders_off_gpu": memory.text_encoders_off_gpu,
        "attention": speed.attention_backend,
        "step_cache": speed.step_cache.value,
        "guidance_batching": speed.guidance_batching.value,
        "compile": speed.compile,
    }


def _generate_parser() -> argparse.ArgumentParser:
    """`generate`'s options alone, named as the subcommand's (its messages read the same)."""
    parser = _Parser(prog="main.py generate")
    _add_generate_arguments(parser)
    return parser


_UNSET = object()


def explicit_generate_options(argv: Sequence[str]) -> set[str]:
    """The options (argparse dests) given on `generate`'s command line `argv` (what follows 'generate'), told apart
    from argparse's defaults: parsed into a namespace that already holds every dest, argparse fills in no default."""
    parser = _generate_parser()
    blank = argparse.Namespace(**{a.dest: _UNSET for a in parser._actions if a.dest != argparse.SUPPRESS})
    parsed = parser.parse_args(list(argv), namespace=blank)
    return {dest for dest, value in vars(parsed).items() if value is not _UNSET}


def _check_required(args: argparse.Namespace) -> None:
    """argparse's own message for a missing --model, --prompt or --output; with --from only --output is needed."""
    names = ["--output"] if args.from_clip else ["--model", "--prompt", "--output"]
    missing = [name for name in names if getattr(args, name[2:]) is None]
    if missing:
        _generate_parser().error(f"the following arguments are required: {', '.join(missing)}")


SETTINGS_FILE = "settings.json"  # the window's settings in its data folder, as gui.paths.DataPaths names it


def _data_root(data_dir: str | None) -> Path:
    from core.store.state_dirs import default_data_root

    return Path(data_dir).expanduser() if data_dir else default_data_root()


def known_model_folders(args: argparse.Namespace) -> list[str]:
    """Where a clip's model is looked for: --model, then the window's model folder, its recent ones and the data
    folder's models/ (core.model.identity.find_model prefers the earliest among equal matches)."""
    from core.model.identity import window_model_folders

    return ([args.model] if args.model else []) + window_model_folders(_data_root(args.data_dir))


def window_model_dir(data_dir: str | None) -> str | None:
    """The model folder the window uses (its settings in the data folder), when it exists; None otherwise."""
    root = _data_root(data_dir)
    try:
        chosen = json.loads((root / SETTINGS_FILE).read_text(encoding="utf-8")).get("model_dir")
    except (OSError, ValueError, AttributeError):  # no settings yet, or unreadable: the window starts over too
        return None
    return chosen if isinstance(chosen, str) and chosen and Path(chosen).expanduser().is_dir() else None


def _request_from_clip(args: argparse.Namespace, explicit: set[str], err: TextIO) -> tuple[GenerationRequest, str]:
    """`generate --from CLIP`: the clip's request with the options given on the command line in its place, what
    cannot run here swapped for the nearest that can (each named on stderr), and the model folder to use."""
    from core.engine.devices import detect_capabilities
    from core.job.clip_settings import make_runnable, read_clip_settings

    settings = read_clip_settings(args.from_clip, known_model_folders(args))
    model, which = _model_for_clip(args, settings)  # refused before anything is said about the clip
    recorded = request_values(settings.request)
    given = {dest for dest in explicit if dest in recorded}
    values = {**vars(args), **recorded, **{dest: getattr(args, dest) for dest in given}}
    request = dataclasses.replace(
        request_from_args(argparse.Namespace(**values)), max_sequence_length=settings.request.max_sequence_length
    )
    changed = ", ".join("--" + dest.replace("_", "-") for dest in sorted(given))
    err.write(f"parameters from {settings.found_in}" + (f"; given here: {changed}" if changed else "") + "\n")
    request, swaps = make_runnable(request, detect_capabilities(), keep=given)
    for note in swaps:
        err.write(f"note: {note.message}\n")
    err.write(f"model: {model} ({which})\n")
    return request, model


_FOUND_BY = {
    "config_hash": "the clip's model, found by its configuration",
    "hub_revision": "the clip's model, found by its hub id and revision",
    "hub_id": "found by the clip's hub id; its configuration differs",
    "path": "the folder the clip recorded",
    "name": "found by the clip's model folder name",
}


def _model_for_clip(args: argparse.Namespace, settings: Any) -> tuple[str, str]:
    """--model, else the folder found for the clip's model among those this app knows, else the window's; with
    which one it is, in words."""
    if args.model:
        return args.model, "--model"
    if settings.model_dir:
        return settings.model_dir, _FOUND_BY.get(str(settings.model_match), "the clip's model")
    model = settings.model.describe() if settings.model.known else "?"
    window = window_model_dir(args.data_dir)
    if window is None:
        raise InvalidRequestError(
            _t("The clip was made with {model}, not found among the model folders this app knows.").format(model=model),
            "Give the model folder with --model DIR.",
        )
    return window, f"the window's model folder; the clip's {model} was not found here"


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


def _use_data_dir(data_dir: str | None) -> Path:
    """Point the engine's state (journals, step-cache calibrations) at the data folder; returns its jobs/."""
    from core.store.journal import journals_dir
    from core.store.state_dirs import set_state_root

    if data_dir:
        set_state_root(Path(data_dir).expanduser().absolute())
    return journals_dir()


def _resume_command(args: argparse.Namespace, job_id: str) -> str:
    data_dir = f" --data-dir {shlex.quote(str(Path(args.data_dir).expanduser()))}" if args.data_dir else ""
    return f"main.py resume{data_dir} {job_id}"


def _journal_hint(engine: Any, args: argparse.Namespace, exc: BaseException) -> None:
    """After a job that ended without its clip: how to continue it, when its journal was kept (`main` adds it to
    the line that says why the job ended)."""
    kept = getattr(engine, "last_journal", None)
    if kept is None or not kept.kept:
        return
    command = _resume_command(args, kept.job_id)
    if not kept.denoised:
        args.resume_hint = f"stopped after step {kept.step} of {kept.steps}: continue with {command}"
    elif isinstance(exc, (OutputError, OSError)):  # the decode went well; the clip could not be written
        args.resume_hint = f"the denoised latents are kept: once the clip can be written, {command}"
    else:
        args.resume_hint = (
            f"the denoised latents are kept: decode them again with {command} --vae-tiling --vae-slicing"
            " (or --decode-on-cpu)"
        )


def _signals_stop_after_step(cancel: CancelToken, err: TextIO) -> contextlib.AbstractContextManager[None]:
    """The first Ctrl+C or SIGTERM stops the job at the end of its current step, with a journal snapshot there;
    a second one interrupts at once (the previous snapshot stays)."""

    def stop(signum: int, _frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt(f"signal {signum}")
        cancel.cancel()
        with contextlib.suppress(Exception):
            err.write("\nstopping after this step (press Ctrl+C again to stop at once)…\n")
            err.flush()

    return _handling_signals(("SIGINT", *_TERMINATE), stop)


def _run_journaled(
    engine: Any,
    args: argparse.Namespace,
    model: str,
    request: GenerationRequest,
    output: OutputOptions,
    journal: Any,
    err: TextIO,
) -> Any:
    bar = ProgressBar(err)
    cancel = CancelToken()
    try:
        with _signals_stop_after_step(cancel, err):
            return engine.generate(model, request, output, ProgressSink(bar.stage, bar.step), cancel, journal=journal)
    except BaseException as exc:
        bar._end_line()
        _journal_hint(engine, args, exc)
        raise


def _report_done(result: Any, start: float, out: TextIO, err: TextIO) -> None:
    t = result.timings
    peak = f", peak VRAM {result.peak_vram_bytes / 2**30:.2f} GiB" if result.peak_vram_bytes else ""
    compiled = f", compile {result.compile_s:.1f}s" if result.compile_s is not None else ""
    err.write(
        f"done in {time.perf_counter() - start:.1f}s (load {t.loading_s:.1f}s, encode {t.encoding_s:.1f}s, "
        f"denoise {t.denoising_s:.1f}s, decode {t.decoding_s:.1f}s){peak}{compiled}"
        f", attention {result.attention_backend or '?'}\n"
    )
    for note in result.notes:
        if note.startswith(("Continued from", "The step cache's state")):
            err.write(f"note: {note}\n")
    out.write(f"{result.video_path}\n")
    out.write(f"seed: {result.seed}\n")


def run_generate(args: argparse.Namespace, out: TextIO, err: TextIO, explicit: set[str] | None = None) -> int:
    """`explicit`: the options given on the command line (`explicit_generate_options`); with --from, only those
    override the clip's values (None: those whose value is not the default)."""
    from core.cli_finish import GenerateFinish

    finishing = GenerateFinish.from_args(args)
    if finishing is not None:
        finishing.check()
    if args.from_clip:
        if explicit is None:  # called without the command line: what differs from the defaults counts as given
            defaults = _generate_parser()
            explicit = {dest for dest, value in vars(args).items() if value != defaults.get_default(dest)}
        request, model = _request_from_clip(args, explicit, err)
    else:
        request, model = request_from_args(args), args.model
    output = OutputOptions(
        video_path=Path(args.output).expanduser(),
        frames_dir=Path(args.save_frames).expanduser() if args.save_frames else None,
        keep_model_path=bool(getattr(args, "keep_model_path", False)),
    )
    if args.snapshot_every < 0:
        raise InvalidRequestError(
            _t("--snapshot-every must be 0 or more (got {value}).").format(value=args.snapshot_every)
        )
    engine = _engine_for(request, args)
    try:
        return _run_generate_with(engine, args, model, request, output, finishing, out, err)
    finally:
        close = getattr(engine, "close", None)  # a split job's rank processes end with the command
        if close is not None:
            close()


def _engine_for(request: GenerationRequest, args: argparse.Namespace) -> Any:
    """One process for a job on one GPU; a coordinator of N rank processes for --parallel N; this process as one
    rank when torchrun started it."""
    from core.engine.runner import Engine

    if not request.parallel.enabled:
        return Engine()
    from datetime import timedelta

    from core.parallel.rank_context import launched_by_torchrun
    from core.parallel.ranks import LaunchedRank, ParallelEngine

    timeout = getattr(args, "collective_timeout", 300.0)
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidRequestError(
            _t("--collective-timeout must be a number of seconds above 0 (got {value}).").format(value=timeout)
        )
    if launched_by_torchrun():
        return LaunchedRank(collective_timeout=timedelta(seconds=timeout))
    return ParallelEngine(collective_timeout=timedelta(seconds=timeout))


def _run_generate_with(
    engine: Any,
    args: argparse.Namespace,
    model: str,
    request: GenerationRequest,
    output: OutputOptions,
    finishing: Any,
    out: TextIO,
    err: TextIO,
) -> int:
    from core.cli_finish import stop_within_frame
    from core.cli_history import recorded_cli_job
    from core.store.journal import JournalOptions, new_job_id

    engine.check(model, request, output)  # refuse bad input before the slow imports and loading
    if not getattr(engine, "is_leader", True):
        # A torchrun rank other than 0: the job from its own command line, quietly; rank 0 records and writes.
        engine.generate(model, request, output, ProgressSink(), CancelToken())
        return EXIT_OK
    split = getattr(engine, "last_split", None)
    if split is not None:
        err.write(f"split: {split.layout.describe()} on {request.parallel.gpus} processes — {split.reason}\n")
    jobs = _use_data_dir(args.data_dir)
    if request.seed is None:
        from core.job.request import random_seed

        request = request.with_seed(random_seed())
        err.write(f"seed: {request.seed} (random)\n")
    if request.frames_note:
        err.write(f"note: {request.frames_note}\n")
    if finishing is not None:
        finishing.prepare(err)  # a named model to download: before the clip is made, not after
    start = time.perf_counter()
    # The job is recorded in the data folder's history, as the window's are (never failing the job for it).
    with recorded_cli_job(args.data_dir, request, model, err) as job:
        try:
            if finishing is not None:  # the clip is made in a private folder and finished into --output
                output = dataclasses.replace(output, video_path=finishing.begin())
            output = dataclasses.replace(output, job_id=job.job_id)
            journal = JournalOptions(jobs, new_job_id(), snapshot_every=args.snapshot_every, history_id=job.job_id)
            result = _run_journaled(engine, args, model, request, output, journal, err)
            if finishing is not None:
                cancel = CancelToken()
                with stop_within_frame(cancel, err):
                    finished = finishing.run(result.video_path, err, cancel)
                result = dataclasses.replace(result, video_path=finished.output, sidecar_path=finished.sidecar)
        finally:
            if finishing is not None:
                finishing.end()
        job.done(result)
    _report_done(result, start, out, err)
    return EXIT_OK


def run_resume(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`resume`: continue one journal, or every interrupted one; `--list` shows them."""
    from core.store.journal import describe, find_journal, list_journals, prune_headerless

    jobs = _use_data_dir(args.data_dir)
    prune_headerless(jobs)  # killed before they wrote anything: nothing to list or resume
    if args.list:
        summaries = list_journals(jobs)
        for line in describe(summaries):
            out.write(line + "\n")
        if not summaries:
            err.write(f"no interrupted jobs in {jobs}\n")
        return EXIT_OK
    if args.job is not None:
        journal = find_journal(args.job, jobs)
        if journal is None:
            raise InvalidRequestError(
                _t("There is no interrupted job {job} in {folder} (see 'resume --list').").format(
                    job=args.job, folder=jobs
                )
            )
        chosen = [journal.summary()]
    else:
        chosen = [s for s in list_journals(jobs) if s.header is not None and not s.running]
        if not chosen:
            err.write(f"no interrupted jobs in {jobs}\n")
            return EXIT_OK
    engines: dict[bool, Any] = {}  # one engine for one-GPU jobs, one coordinator for split ones
    try:
        return _resume_each(args, chosen, engines, jobs, out, err)
    finally:
        for engine in engines.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()


def _resume_each(
    args: argparse.Namespace, chosen: list[Any], engines: dict[bool, Any], jobs: Path, out: TextIO, err: TextIO
) -> int:
    from core.cli_history import record_resumed_job
    from core.store.journal import JournalError, JournalOptions

    status = EXIT_OK
    for summary in chosen:
        header = summary.header
        if header is None:  # pragma: no cover - only listed, never chosen
            continue
        if summary.running:
            raise JournalError(_t("The job {job} is running in another process.").format(job=summary.job_id))
        request = GenerationRequest.from_dict(header.request)
        memory = request.memory
        if args.offload:
            memory = dataclasses.replace(memory, placement=Placement(args.offload))
        if args.vae_tiling or args.vae_slicing:
            memory = dataclasses.replace(
                memory,
                vae_tiling=memory.vae_tiling or args.vae_tiling,
                vae_slicing=memory.vae_slicing or args.vae_slicing,
            )
        request = dataclasses.replace(request, memory=memory)
        # A job split over several GPUs continues split the same way (on as many GPUs), through the same engine kind.
        split = request.parallel.enabled
        if split not in engines:
            engines[split] = _engine_for(request, args)
        engine = engines[split]
        output = OutputOptions(
            video_path=Path(header.video_path),
            frames_dir=Path(header.frames_dir) if header.frames_dir else None,
            write_sidecar=header.write_sidecar,
            job_id=header.history_id,
            keep_model_path=header.keep_model_path,
        )
        options = JournalOptions(
            jobs,
            summary.job_id,
            snapshot_every=args.snapshot_every,
            history_id=header.history_id,
            resume=not args.start_over,
            decode_on_cpu=args.decode_on_cpu,
        )
        where = "from step 0" if args.start_over else f"from step {summary.step} of {summary.steps}"
        err.write(f"resuming {summary.job_id} {where}: {header.video_path}\n")
        start = time.perf_counter()
        try:
            result = _run_journaled(engine, args, header.model_dir, request, output, options, err)
        except JournalError as exc:
            err.write(f"error: {_one_line(str(exc))} ({_resume_command(args, summary.job_id)} --start-over)\n")
            status = status or exit_code(exc.kind)
            if args.job is not None:
                return status
            continue
        record_resumed_job(args.data_dir, header.history_id, result, err)
        _report_done(result, start, out, err)
    return status


def run_info(args: argparse.Namespace, out: TextIO) -> int:
    """`info CLIP`: the clip's parameters in a readable block (or `--json`), with what differs on this machine."""
    from core.engine.devices import detect_capabilities
    from core.job.clip_settings import read_clip_settings, settings_notes

    settings = read_clip_settings(args.clip, known_model_folders(args))
    current = args.model or window_model_dir(args.data_dir)
    # JSON output may be shared: its notes do not say where the model was found on this computer.
    notes = settings_notes(settings, current, detect_capabilities(), name_folders=not args.json)
    if args.json:
        data = settings.to_json()
        data["notes"] = [note.to_dict() for note in notes]
        out.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        return EXIT_OK
    for label, value in _info_rows(settings):
        out.write(f"{label + ':':<17}" + value.replace("\n", "\n" + " " * 17) + "\n")
    out.write("notes:" + (" none\n" if not notes else "\n"))
    for note in notes:
        out.write(f"  - {note.message}\n")
    return EXIT_OK


def _info_rows(settings: Any) -> list[tuple[str, str]]:
    r, memory, speed = settings.request, settings.request.memory, settings.request.speed

    def on(flag: bool) -> str:
        return "on" if flag else "off"

    rate, length = frame_rate_text(r.fps), seconds(r.effective_frames, r.fps)
    frames = f"{r.num_frames} at {rate} fps ({length:.2f} s)"
    if r.effective_frames != r.num_frames:
        frames = f"{r.num_frames} ({r.effective_frames} generated) at {rate} fps ({length:.2f} s)"
    made = f"ContentV Studio {settings.app_version}"
    if settings.device:
        made += f" on {settings.device} in {settings.dtype or '?'}"
    if settings.attention_used:
        made += f", attention {settings.attention_used}"
    return [
        ("clip", f"{settings.source} (parameters from {settings.found_in})"),
        ("prompt", r.prompt),
        ("negative prompt", r.negative_prompt),
        ("size", f"{r.width}×{r.height}"),
        ("frames", frames),
        ("steps", str(r.steps)),
        ("guidance", f"{r.guidance:g}"),
        ("seed", str(r.seed)),
        (
            "memory",
            f"device {memory.device}, dtype {memory.dtype}, offload {memory.placement.value}, "
            f"quantize {memory.quantization.value}, vae-slicing {on(memory.vae_slicing)}, "
            f"vae-tiling {on(memory.vae_tiling)}, attention-slicing {on(memory.attention_slicing)}, "
            f"text-encoders-off-gpu {on(memory.text_encoders_off_gpu)}",
        ),
        (
            "speed",
            f"attention {speed.attention_backend}, step-cache {speed.step_cache.value}, "
            f"guidance-batching {speed.guidance_batching.value}, compile {on(speed.compile)}",
        ),
        ("model", settings.model.describe() if settings.model.known else "(not recorded)"),
        ("model folder", settings.model_dir or "(not found among the model folders this app knows)"),
        ("made by", made),
        ("again", f"main.py generate --from {shlex.quote(str(settings.source))} --output NEW.mp4"),
    ]


def run_make_demo_model(args: argparse.Namespace, out: TextIO) -> int:
    from core.model.demo import make_demo_model

    target = Path(args.dir).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputTakenError(f"{target} already exists and is not empty; choose a new folder.")
    path = make_demo_model(target)
    out.write(f"{path}\n")
    return EXIT_OK


def run_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from core.output.export import (
        ExportFormat,
        ExportRequest,
        ExportWriteError,
        GifPalette,
        default_output,
        export_clip,
    )

    source = Path(args.clip).expanduser()
    fmt = ExportFormat(args.format)
    target = Path(args.output).expanduser() if args.output else default_output(source, fmt)
    bar = ProgressBar(err)
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        bar.step(StepProgress(done, total, elapsed, elapsed / done * (total - done) if done else 0.0))

    try:
        result = export_clip(ExportRequest(source, fmt, target, GifPalette(args.gif_palette)), progress)
    except ExportWriteError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_OUTPUT
    rate = frame_rate_text(result.fps)
    err.write(f"{result.frames} frames at {rate} fps ({result.codec}); parameters in {result.sidecar}\n")
    out.write(f"{result.output}\n")
    return EXIT_OK


def run_download(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from core.errors import ModelFolderError
    from core.model.download import DownloadError, DownloadProgress, download_model, fetch_plan

    target = Path(args.to).expanduser()
    try:
        plan = fetch_plan(args.repo, args.revision)
        err.write(f"{plan.repo} @ {plan.commit[:12]}: {len(plan.files)} files, {plan.total_bytes / 1e9:.2f} GB\n")
        bar = ProgressBar(err)
        start = time.perf_counter()
        last = [-1]

        def progress(p: DownloadProgress) -> None:
            percent = int(p.fraction * 100)
            if percent != last[0]:
                last[0] = percent
                bar.step(StepProgress(percent, 100, time.perf_counter() - start, p.eta_s or 0.0))

        report = download_model(plan, target, progress)
    except (DownloadError, ModelFolderError) as exc:
        err.write(f"error: {exc}\n")
        return exit_code(exc.kind)
    except OSError as exc:  # the folder itself could not be written (permissions, a full disk)
        err.write(f"error: {target} could not be written: {exc}\n")
        return EXIT_OUTPUT
    except KeyboardInterrupt:  # what arrived stays in the folder, marked incomplete
        err.write("\npaused: run the same command again to resume the download.\n")
        return EXIT_CANCELLED
    err.write(f"{report.message()}\n")
    out.write(f"{report.path}\n")
    return EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_failure_log(exc: BaseException) -> Path | None:
    """The traceback of an unexpected failure, in a log file the error line names."""
    try:
        folder = Path(tempfile.gettempdir()) / "contentv-studio"
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / f"cli-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return log
    except OSError:
        return None


@contextlib.contextmanager
def _handling_signals(names: Sequence[str], handler: Any) -> Iterator[None]:
    """`handler` for the named signals (those this platform has) while the block runs, on the main thread only;
    the previous handlers come back after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    for name in names:
        number = getattr(signal, name, None)
        if number is not None:
            with contextlib.suppress(ValueError, OSError):
                previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, old)


_TERMINATE = ("SIGTERM", "SIGBREAK")  # SIGBREAK: Ctrl+Break on Windows (absent elsewhere)


def _terminate_as_interrupt() -> contextlib.AbstractContextManager[None]:
    """SIGTERM (and SIGBREAK on Windows) end a job the way Ctrl+C does: cancel, clean up, exit 130."""

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    return _handling_signals(_TERMINATE, interrupt)


def _what_was_written(args: argparse.Namespace) -> str:
    """After an interrupt, say truthfully which outputs exist (the job publishes all of them or none)."""
    if getattr(args, "command", None) != "generate":
        return "nothing was written"
    video = Path(args.output).expanduser()
    if video.exists():
        written = [str(video), str(video.with_suffix(".json"))]
        if args.save_frames:
            written.append(str(Path(args.save_frames).expanduser()))
        return "the clip was already saved: " + ", ".join(p for p in written if Path(p).exists())
    return "nothing was written"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    # (sys.stdout and sys.stderr are None in a windowed frozen app; packaging's runtime hook replaces them.)
    out = out if out is not None else cast(TextIO, sys.stdout)
    err = err if err is not None else cast(TextIO, sys.stderr)
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    explicit: set[str] | None = None
    if args.command == "generate":
        _check_required(args)
        if args.from_clip:
            explicit = explicit_generate_options(argv[argv.index("generate") + 1 :])
    from core.store.state_dirs import set_state_root, state_root

    root_before = state_root()  # --data-dir points the engine's state there for this command only
    try:
        with _terminate_as_interrupt():
            if args.command == "generate":
                return run_generate(args, out, err, explicit)
            if args.command == "info":
                return run_info(args, out)
            if args.command == "export":
                return run_export(args, out, err)
            if args.command == "download":
                return run_download(args, out, err)
            if args.command == "resume":
                return run_resume(args, out, err)
            if args.command in ("upscale", "interpolate"):
                from core.cli_finish import run_interpolate, run_upscale

                return (run_upscale if args.command == "upscale" else run_interpolate)(args, out, err)
            return run_make_demo_model(args, out)
    except (Exception, KeyboardInterrupt) as exc:
        status, line = _failure_line(exc, args)
        hint = getattr(args, "resume_hint", "")  # a kept journal: how to continue, on the same line
        err.write(f"{line.rstrip('.')}; {hint}\n" if hint else f"{line}\n")
        return status
    finally:
        set_state_root(root_before)


def _failure_line(exc: BaseException, args: argparse.Namespace) -> tuple[int, str]:
    """The exit status and the one line that says why a command ended without finishing."""
    if isinstance(exc, JobCancelled):
        return EXIT_CANCELLED, f"cancelled: {_one_line(exc.message)}"
    if isinstance(exc, StudioError):
        return exit_code(exc.kind), f"error: {_one_line(str(exc))}"
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_CANCELLED, f"cancelled: interrupted; {_what_was_written(args)}."
    log = _write_failure_log(exc)
    if isinstance(exc, MemoryError):
        return EXIT_OUT_OF_MEMORY, f"error: the computer ran out of system memory (RAM){_log_note(log)}"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return EXIT_OUTPUT, f"error: the disk is full ({exc.filename or 'output'}){_log_note(log)}"
        if (
            exc.errno == errno.ENAMETOOLONG
        ):  # refused up front (core.output.video.check_name_lengths); this is the backstop
            name = exc.filename or "output"
            return EXIT_OUTPUT, f"error: a file name is too long for this file system ({name}){_log_note(log)}"
        return EXIT_INTERNAL, f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}{_log_note(log)}"
    return EXIT_INTERNAL, f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))[:300]}{_log_note(log)}"


def _log_note(log: Path | None) -> str:
    return f" (details in {log})" if log else ""
