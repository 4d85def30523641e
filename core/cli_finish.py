"""The finishing commands: `upscale CLIP`, `interpolate CLIP`, and `generate … --finish upscale=2,fps=48`.

Each ends like `generate`: one line on failure and the same exit statuses (2 bad input, 3 a model file that is not
a network this app runs, 4 out of memory, 5 the output not written, 130 cancelled, 1 a network failure or a bug).
The first Ctrl+C or SIGTERM stops the job within the frame it is on, the second at once; either way nothing is left
under the output's names.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from core.errors import EXIT_OK, InvalidRequestError
from core.finish.clip import (
    FinishProgress,
    FinishRequest,
    FinishResult,
    FinishStage,
    InterpolateStep,
    UpscaleStep,
    check_finish,
    check_steps,
    finish_clip,
)
from core.finish.interpolate import InterpolationMethod
from core.i18n import _t
from core.job.progress import CancelToken, StepProgress


def add_finish_parsers(sub: Any, number: Callable[[str], float], whole: Callable[[str], int]) -> None:
    """`upscale` and `interpolate` under the main parser's subcommands (`number`/`whole`: its value parsers)."""
    up = sub.add_parser(
        "upscale",
        help="upscale a clip with a Real-ESRGAN/ESRGAN network (a .pth/.safetensors file or the default model)",
        description="Upscale every frame of CLIP into a new clip. --model default downloads the default model "
        "(Real-ESRGAN x2plus, hash-checked) into the data folder the first time.",
    )
    up.add_argument("clip", metavar="CLIP")
    up.add_argument("--model", required=True, metavar="FILE|default", help="weights file, 'default' or a name")
    up.add_argument("--scale", type=number, default=2.0, metavar="S", help="output size / input size (2)")
    up.add_argument("--tile", type=whole, default=None, metavar="PX", help="tile side (default: from free memory)")
    _common(up)

    inter = sub.add_parser(
        "interpolate",
        help="raise a clip's frame rate with RIFE (or ffmpeg's minterpolate)",
        description="Interpolate CLIP to --factor times its frame rate or to --fps. RIFE runs when its weights are "
        "here (--model FILE, or the default once downloaded with --model default); otherwise ffmpeg's "
        "minterpolate, with a note. Scene cuts are never blended.",
    )
    inter.add_argument("clip", metavar="CLIP")
    rate = inter.add_mutually_exclusive_group(required=True)
    rate.add_argument("--factor", type=whole, choices=[2, 4, 8], default=None)
    rate.add_argument("--fps", type=number, default=None, metavar="F")
    inter.add_argument("--method", choices=[m.value for m in InterpolationMethod], default=None)
    inter.add_argument("--model", default=None, metavar="FILE|default", help="RIFE weights file or 'default'")
    inter.add_argument(
        "--scene-cut", type=number, default=10.0, metavar="PERCENT", help="luma difference that marks a cut (10)"
    )
    _common(inter)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, metavar="NEW.mp4")
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    parser.add_argument(
        "--data-dir", default=None, metavar="DIR", help="where named models are kept (its finish-models/)"
    )
    parser.add_argument(
        "--keep-paths",
        action="store_true",
        help="record the source clip's and the model file's absolute paths in the result (by default names only)",
    )


def parse_finish_spec(text: str) -> tuple[UpscaleStep | None, InterpolateStep | None]:
    """`upscale=2,fps=48` (also `factor=2`, `upscale-model=FILE`, `interpolate=rife|ffmpeg`, `rife-model=FILE`)."""
    values: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not value or key not in _SPEC_KEYS or key in values:
            raise InvalidRequestError(
                _t(
                    "--finish takes key=value pairs separated by commas ({keys}), e.g. upscale=2,fps=48 (got '{text}')."
                ).format(keys=", ".join(_SPEC_KEYS), text=text)
            )
        values[key] = value
    upscale = None
    if "upscale" in values or "upscale-model" in values:
        scale = _spec_number(values, "upscale", 2.0)
        upscale = UpscaleStep(model=values.get("upscale-model", "default"), scale=2.0 if scale is None else scale)
    interpolate = None
    if {"fps", "factor", "interpolate", "rife-model"} & values.keys():
        method = values.get("interpolate")
        if method is not None and method not in [m.value for m in InterpolationMethod]:
            raise InvalidRequestError(
                _t("--finish interpolate= takes rife or ffmpeg (got '{value}').").format(value=method)
            )
        fps, factor = _spec_number(values, "fps", None), _spec_number(values, "factor", None)
        if factor is not None and factor not in (2, 4, 8):
            raise InvalidRequestError(_t("The factor must be 2, 4 or 8 (got {value}).").format(value=values["factor"]))
        interpolate = InterpolateStep(
            factor=None if factor is None else int(factor),
            fps=fps,
            method=InterpolationMethod(method) if method else None,
            model=values.get("rife-model"),
        )
    return upscale, interpolate


_SPEC_KEYS = ("upscale", "upscale-model", "fps", "factor", "interpolate", "rife-model")


def _spec_number(values: dict[str, str], key: str, default: float | None) -> float | None:
    if key not in values:
        return default
    try:
        return float(values[key].removesuffix("x"))
    except ValueError:
        raise InvalidRequestError(
            _t("--finish {key}= takes a number (got '{value}').").format(key=key, value=values[key])
        ) from None


# ---- running -----------------------------------------------------------------------------------------------------
def run_upscale(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    request = FinishRequest(
        source=Path(args.clip).expanduser(),
        output=Path(args.output).expanduser(),
        upscale=UpscaleStep(model=args.model, scale=args.scale, tile=args.tile),
        device=args.device,
        keep_paths=args.keep_paths,
    )
    return _run(request, args, out, err)


def run_interpolate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    request = FinishRequest(
        source=Path(args.clip).expanduser(),
        output=Path(args.output).expanduser(),
        interpolate=InterpolateStep(
            factor=args.factor,
            fps=args.fps,
            method=InterpolationMethod(args.method) if args.method else None,
            model=args.model,
            scene_cut_percent=args.scene_cut,
        ),
        device=args.device,
        keep_paths=args.keep_paths,
    )
    return _run(request, args, out, err)


def _run(request: FinishRequest, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from core.cli import _use_data_dir

    _use_data_dir(args.data_dir)  # named models live in the data folder
    check_finish(request)  # bad input refused before anything is read or loaded
    cancel = CancelToken()
    start = time.perf_counter()
    with stop_within_frame(cancel, err):
        result = finish_clip(request, progress_printer(err), cancel)
    report_finished(result, start, out, err)
    return EXIT_OK


def progress_printer(err: TextIO) -> Callable[[FinishProgress], None]:
    """A stage line whenever the stage changes, and the progress bar for frames (and download bytes)."""
    from core.cli import ProgressBar

    bar = ProgressBar(err)
    state: dict[str, Any] = {"stage": None, "start": time.perf_counter(), "percent": -1}

    def show(p: FinishProgress) -> None:
        if p.stage is not state["stage"]:
            bar._end_line()
            err.write(f"{p.stage.value}…\n")
            err.flush()
            state.update(stage=p.stage, start=time.perf_counter(), percent=-1)
        elapsed = time.perf_counter() - state["start"]
        if p.stage is FinishStage.DOWNLOADING:
            mib = p.done // 2**20
            if mib != state["percent"]:
                state["percent"] = mib
                err.write(f"  {mib} MiB\n" if not bar.tty else f"\r  {mib} MiB")
            return
        if p.total:
            eta = elapsed / p.done * (p.total - p.done) if p.done else 0.0
            bar.step(StepProgress(p.done, p.total, elapsed, eta))

    return show


def report_finished(result: FinishResult, start: float, out: TextIO, err: TextIO) -> None:
    for note in result.notes:
        err.write(f"note: {note}\n")
    err.write(
        f"done in {time.perf_counter() - start:.1f}s: {result.width}×{result.height}, {result.frames} frames at "
        f"{result.fps:g} fps ({result.duration_s:.2f} s first to last frame)\n"
    )
    out.write(f"{result.output}\n")


def stop_within_frame(cancel: CancelToken, err: TextIO) -> contextlib.AbstractContextManager[None]:
    """The first Ctrl+C or SIGTERM cancels at the next frame (or tile); a second one interrupts at once."""
    from core.cli import _TERMINATE, _handling_signals

    def stop(signum: int, _frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt(f"signal {signum}")
        cancel.cancel()
        with contextlib.suppress(Exception):
            err.write("\nstopping after this frame (press Ctrl+C again to stop at once)…\n")
            err.flush()

    return _handling_signals(("SIGINT", *_TERMINATE), stop)


# ---- generate --finish -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class GenerateFinish:
    """`generate --finish`: the generated clip goes to a private folder beside the output, is finished into the
    output, and the folder goes away (a killed job's folder is removed by the next job there, as any temporary)."""

    output: Path
    upscale: UpscaleStep | None
    interpolate: InterpolateStep | None
    device: str
    reservation: Any = None
    folder: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GenerateFinish | None:
        if not getattr(args, "finish", None):
            return None
        if args.save_frames:
            raise InvalidRequestError(
                _t("--save-frames cannot go with --finish (the frames would be the unfinished clip's).")
            )
        upscale, interpolate = parse_finish_spec(args.finish)
        device = args.device if args.device in ("cuda", "cpu") else "auto"
        return cls(Path(args.output).expanduser(), upscale, interpolate, device)

    def check(self) -> None:
        """Before the generation: the steps' values and model files (the engine checks the output's name)."""
        check_steps(self.upscale, self.interpolate)

    def prepare(self, err: TextIO) -> None:
        """Before the generation too: fetch the named models the steps need and are not here yet, so a failed
        download never costs a generated clip."""
        from core.finish.clip import resolve_interpolation, resolve_model

        show = progress_printer(err)
        if self.upscale is not None:
            resolve_model(self.upscale.model, "upscale", True, show, None)
        if self.interpolate is not None:
            _method, _model, note = resolve_interpolation(self.interpolate, True, show, None)
            if note:
                err.write(f"note: {note}\n")

    def begin(self) -> Path:
        """Hold the output's names and make the private folder; the path the generated clip is written to."""
        from core.output.video import reserve_outputs, temp_name

        self.reservation = reserve_outputs(self.output)
        self.folder = self.output.with_name(temp_name(self.output.stem, self.reservation.token, "frames"))
        self.folder.mkdir()
        return self.folder / "generated.mp4"

    def run(self, generated: Path, err: TextIO, cancel: CancelToken) -> FinishResult:
        err.write("finishing…\n")
        return finish_clip(self._request(generated), progress_printer(err), cancel, reservation=self.reservation)

    def end(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.reservation is not None:
            self.reservation.release()

    def _request(self, source: Path) -> FinishRequest:
        return FinishRequest(source, self.output, self.upscale, self.interpolate, self.device, source_kept=False)
