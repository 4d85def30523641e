"""The job's typed boundary: what a caller asks for (`GenerationRequest`) and what it gets back
(`GenerationResult`). Validation lives here so the CLI and the GUI explain bad input the same way,
before anything heavy is loaded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from core.errors import InvalidRequestError
from core.finish.spec import FinishSpec
from core.i18n import _t
from core.output.frame_rate import FrameRate, frame_rate_json, is_frame_rate, parse_frame_rate

# The official demo's negative prompt (bytedance/ContentV demo.py).
OFFICIAL_NEGATIVE_PROMPT = (
    "overexposed, low quality, deformation, a poor composition, bad hands, bad teeth, bad eyes, bad limbs, distortion"
)

DEFAULT_WIDTH = 768
DEFAULT_HEIGHT = 432
DEFAULT_FRAMES = 125
DEFAULT_FPS = 24
DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 6.0

SIZE_MULTIPLE = 16  # VAE /8, then patch 2
VAE_TEMPORAL_FACTOR = 4
MAX_SEED = 2**63 - 1
MAX_SIDE = 4096
MAX_FRAMES = 1025


class Placement(str, Enum):
    """Where the weights live while a job runs; exactly one applies."""

    GPU = "none"  # everything resident on the accelerator
    MODEL = "model"  # whole components move to the GPU in turn (diffusers model CPU offload)
    SEQUENTIAL = "sequential"  # every submodule moves in just before it runs (lowest VRAM, slowest)
    STREAMED = "streamed"  # transformer blocks stream from pinned RAM on a side CUDA stream, prefetched


class Quantization(str, Enum):
    NONE = "none"
    INT8 = "int8"  # int8 weight-only, per-output-channel scales
    FP8 = "fp8"  # float8_e4m3fn storage, compute in bf16/fp16


class StepCache(str, Enum):
    """How much of the transformer's work is reused between denoising steps (core/engine/step_cache.py)."""

    OFF = "off"
    FAST = "fast"
    FASTER = "faster"


class GuidanceBatching(str, Enum):
    """How the two classifier-free-guidance branches run."""

    SEQUENTIAL = "sequential"  # one after the other: the official bf16 numerics bit for bit, half the activations
    BATCHED = "batched"  # as one batch of two
    AUTO = "auto"  # sequential unless batching was measured faster on this device


class Split(str, Enum):
    """How one job is divided over several GPUs (core/parallel/plan.py resolves AUTO)."""

    AUTO = "auto"  # chosen from the GPUs present, the job and the link between them
    GUIDANCE = "guidance"  # the conditional and unconditional branches on different GPUs
    ULYSSES = "ulysses"  # the tokens split across GPUs, attention heads exchanged all-to-all (diffusers' Ulysses)
    RING = "ring"  # the tokens split across GPUs, keys and values passed around a ring (diffusers' ring attention)


MAX_PARALLEL = 8


@dataclass(frozen=True)
class ParallelOptions:
    """How many GPUs (on the CPU: processes) one job runs on, and how it is divided between them."""

    gpus: int = 1
    split: Split = Split.AUTO

    @property
    def enabled(self) -> bool:
        return self.gpus > 1

    def problems(self) -> list[str]:
        found: list[str] = []
        if not isinstance(self.gpus, int) or not 1 <= self.gpus <= MAX_PARALLEL:
            found.append(
                _t("The number of GPUs must be between 1 and {most} (got {value}).").format(
                    most=MAX_PARALLEL, value=self.gpus
                )
            )
        if not isinstance(self.split, Split):
            found.append(_t("Unknown split '{split}'.").format(split=self.split))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"gpus": self.gpus, "split": self.split.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParallelOptions:
        return cls(gpus=int(data.get("gpus", 1)), split=Split(data.get("split", Split.AUTO.value)))


ATTENTION_BACKENDS = ("auto", "math", "efficient", "flash", "cudnn", "flash-attn", "sage")


@dataclass(frozen=True)
class SpeedOptions:
    attention_backend: str = "auto"
    step_cache: StepCache = StepCache.OFF
    # Sequential by default: the H100 measurement shows batching buys nothing at ContentV-8B's size
    # (4.53 vs 4.49 s/step) and costs ~2.5 GiB plus bit-exactness in bf16. AUTO is there to opt into measuring.
    guidance_batching: GuidanceBatching = GuidanceBatching.SEQUENTIAL
    compile: bool = False

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.attention_backend not in ATTENTION_BACKENDS:
            found.append(
                _t("Unknown attention kernel '{kernel}'; choose one of: {choices}.").format(
                    kernel=self.attention_backend, choices=", ".join(ATTENTION_BACKENDS)
                )
            )
        if not isinstance(self.step_cache, StepCache):
            found.append(_t("Unknown step cache level '{level}'.").format(level=self.step_cache))
        if not isinstance(self.guidance_batching, GuidanceBatching):
            found.append(_t("Unknown guidance batching '{mode}'.").format(mode=self.guidance_batching))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "attention_backend": self.attention_backend,
            "step_cache": self.step_cache.value,
            "guidance_batching": self.guidance_batching.value,
            "compile": self.compile,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeedOptions:
        # Old history rows have no speed section, or only some keys: the defaults fill the rest.
        return cls(
            attention_backend=str(data.get("attention_backend", "auto")),
            step_cache=StepCache(data.get("step_cache", StepCache.OFF.value)),
            guidance_batching=GuidanceBatching(data.get("guidance_batching", GuidanceBatching.SEQUENTIAL.value)),
            compile=bool(data.get("compile", False)),
        )


DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass(frozen=True)
class MemoryOptions:
    device: str = "auto"
    dtype: str = "auto"
    placement: Placement = Placement.GPU
    vae_slicing: bool = False
    vae_tiling: bool = False
    attention_slicing: bool = False
    quantization: Quantization = Quantization.NONE
    # Move the text encoders to the CPU once the prompts are encoded (frees ~11 GB on the 8B model).
    text_encoders_off_gpu: bool = False

    def validate(self) -> None:
        # Templates (_t), so the window can translate them filled in (core/i18n.py).
        choose = _t("Choose one of: {choices}.")
        if self.device not in DEVICES:
            raise InvalidRequestError(
                _t("Unknown device '{device}'.").format(device=self.device), choose.format(choices=", ".join(DEVICES))
            )
        if self.dtype not in DTYPES:
            raise InvalidRequestError(
                _t("Unknown dtype '{dtype}'.").format(dtype=self.dtype), choose.format(choices=", ".join(DTYPES))
            )
        if not isinstance(self.placement, Placement):
            raise InvalidRequestError(_t("Unknown offload mode '{mode}'.").format(mode=self.placement))
        if not isinstance(self.quantization, Quantization):
            raise InvalidRequestError(_t("Unknown quantization '{kind}'.").format(kind=self.quantization))

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "dtype": self.dtype,
            "offload": self.placement.value,
            "vae_slicing": self.vae_slicing,
            "vae_tiling": self.vae_tiling,
            "attention_slicing": self.attention_slicing,
            "quantize": self.quantization.value,
            "text_encoders_off_gpu": self.text_encoders_off_gpu,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryOptions:
        return cls(
            device=str(data.get("device", "auto")),
            dtype=str(data.get("dtype", "auto")),
            placement=Placement(data.get("offload", Placement.GPU.value)),
            vae_slicing=bool(data.get("vae_slicing", False)),
            vae_tiling=bool(data.get("vae_tiling", False)),
            attention_slicing=bool(data.get("attention_slicing", False)),
            quantization=Quantization(data.get("quantize", Quantization.NONE.value)),
            text_encoders_off_gpu=bool(data.get("text_encoders_off_gpu", False)),
        )


def snap_frames(num_frames: int) -> int:
    """The frame count the official ContentV pipeline generates: a 4k+1 count is kept, any other becomes
    `n // 4 * 4 + 1` (so 12 -> 13, 14 -> 13, 16 -> 17), as the Wan VAE needs 4k+1 frames."""
    if num_frames < 1:
        return num_frames
    if num_frames % VAE_TEMPORAL_FACTOR == 1:
        return num_frames
    return num_frames // VAE_TEMPORAL_FACTOR * VAE_TEMPORAL_FACTOR + 1


def snap_size(value: int) -> int:
    """Nearest multiple of 16, at least 16."""
    return max(SIZE_MULTIPLE, round(value / SIZE_MULTIPLE) * SIZE_MULTIPLE)


def _is_whole(value: object) -> bool:
    """A real whole number: an int, not a bool, not a float (NaN and infinity included)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# C0 control characters other than tab, line feed and carriage return: invisible, never meant, and NUL cannot even be
# passed to the video encoder's command line (the prompt goes into the clip's comment tag).
_CONTROL_CHARACTERS = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


def text_problem(name: str, text: object) -> str:
    """Why `text` cannot be a prompt (empty when it can): it must be a string of real Unicode characters.

    Bytes that are not UTF-8 reach Python as lone surrogates (the command line's surrogateescape, a JSON "\\udcff"
    escape in a history row or a sidecar): the tokenizers, the sidecar and the history database all refuse them, so
    they are refused here, before anything runs. The message names the character by its code point, never the text
    itself, which cannot be printed."""
    if not isinstance(text, str):
        return _t("The {name} must be text (got {kind}).").format(name=name, kind=type(text).__name__)
    for position, char in enumerate(text, start=1):
        if "\ud800" <= char <= "\udfff":
            return _t(
                "The {name} is not valid text: character {position} is a byte that is not UTF-8 (U+{code}); "
                "retype it or save it as UTF-8."
            ).format(name=name, position=position, code=f"{ord(char):04X}")
        if char in _CONTROL_CHARACTERS:
            return _t("The {name} holds a control character (U+{code} at character {position}); remove it.").format(
                name=name, position=position, code=f"{ord(char):04X}"
            )
    return ""


def _stored_frame_rate(value: object) -> FrameRate:
    """A stored rate: 24, 23.976 or "24000/1001" exact; one out of range still loads (as before, validation says
    what is wrong with it), only one that is no number at all raises ValueError."""
    try:
        return parse_frame_rate(value)
    except ValueError:
        return int(value)  # type: ignore[call-overload]


def random_seed() -> int:
    return random.SystemRandom().randrange(0, 2**32)


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    negative_prompt: str = OFFICIAL_NEGATIVE_PROMPT
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    num_frames: int = DEFAULT_FRAMES
    fps: FrameRate = DEFAULT_FPS  # an int, or an exact Fraction such as 24000/1001 (core/output/frame_rate.py)
    steps: int = DEFAULT_STEPS
    guidance: float = DEFAULT_GUIDANCE
    seed: int | None = None  # None: a random seed is drawn, recorded and reported
    memory: MemoryOptions = field(default_factory=MemoryOptions)
    max_sequence_length: int = 256
    speed: SpeedOptions = field(default_factory=SpeedOptions)
    # How the job is divided over several GPUs; stored (history, sidecar, journal) only when it uses more than one,
    # so one-GPU jobs' dictionaries are as they were. It changes how fast, never the frames beyond float rounding.
    parallel: ParallelOptions = field(default_factory=ParallelOptions)
    # Labels, not settings: a draft is a quick look (fewer steps, the fastest step cache) at a job meant to be made
    # again at full quality; `final_of` is the history id of the draft a final job finishes. Stored with the
    # request (history, sidecar, journal) only when set, so ordinary jobs' dictionaries are as they were.
    draft: bool = False
    final_of: int | None = None
    # Finishing (core/finish/), stored the same way, only when set: `finish` is what the job ends with (upscaled,
    # interpolated); `finish_source` the clip a finish-only job finishes (None: generate first, then finish), and
    # `finish_of` the history entry that clip came from.
    finish: FinishSpec | None = None
    finish_source: str | None = None
    finish_of: int | None = None

    @property
    def finishes_only(self) -> bool:
        """A job that finishes an existing clip and generates nothing."""
        return self.finish is not None and self.finish_source is not None

    def __post_init__(self) -> None:
        # A rate given as a float or text (23.976, "24000/1001") is held as the exact rate it names; one that names
        # none is kept as given, for problems() to explain.
        if not is_frame_rate(self.fps):
            with contextlib.suppress(ValueError):
                object.__setattr__(self, "fps", parse_frame_rate(self.fps))

    def problems(self) -> list[str]:
        """Every reason this request cannot run, in plain words (empty when it is fine)."""
        found: list[str] = []
        for name, text in ((_t("prompt"), self.prompt), (_t("negative prompt"), self.negative_prompt)):
            problem = text_problem(name, text)
            if problem:
                found.append(problem)
        if isinstance(self.prompt, str) and not self.prompt.strip():
            found.append(_t("The prompt is empty: describe the video you want."))
        # Templates with named fields (_t), so the window can translate them filled in (core/i18n.py).
        for name, value in ((_t("width"), self.width), (_t("height"), self.height)):
            if not _is_whole(value) or value <= 0:
                found.append(
                    _t("The {name} must be a positive whole number of pixels (got {value}).").format(
                        name=name, value=value
                    )
                )
            elif value % SIZE_MULTIPLE:
                found.append(
                    _t("The {name} must be a multiple of {multiple} (got {value}; try {snapped}).").format(
                        name=name, multiple=SIZE_MULTIPLE, value=value, snapped=snap_size(value)
                    )
                )
            elif value > MAX_SIDE:
                found.append(
                    _t("The {name} is at most {limit} pixels (got {value}).").format(
                        name=name, limit=MAX_SIDE, value=value
                    )
                )
        if not _is_whole(self.num_frames) or self.num_frames < 1:
            found.append(_t("The number of frames must be at least 1 (got {value}).").format(value=self.num_frames))
        elif self.num_frames > MAX_FRAMES:
            found.append(
                _t("The number of frames is at most {limit} (got {value}).").format(
                    limit=MAX_FRAMES, value=self.num_frames
                )
            )
        if not is_frame_rate(self.fps):
            try:
                parse_frame_rate(self.fps)
            except ValueError as exc:
                found.append(str(exc))
        if not _is_whole(self.steps) or self.steps < 1:
            found.append(_t("The number of steps must be at least 1 (got {value}).").format(value=self.steps))
        elif self.steps > 1000:
            found.append(_t("The number of steps is at most 1000 (got {value}).").format(value=self.steps))
        if not _is_number(self.guidance) or not math.isfinite(self.guidance):
            found.append(_t("The guidance scale must be a finite number (got {value}).").format(value=self.guidance))
        elif self.guidance < 0:
            found.append(_t("The guidance scale cannot be negative (got {value}).").format(value=self.guidance))
        if self.seed is not None and (not _is_whole(self.seed) or not 0 <= self.seed <= MAX_SEED):
            found.append(
                _t("The seed must be a whole number from 0 to {limit} (got {value}).").format(
                    limit=MAX_SEED, value=self.seed
                )
            )
        if not _is_whole(self.max_sequence_length) or not 1 <= self.max_sequence_length <= 512:
            found.append(_t("The T5 sequence length must be between 1 and 512 tokens."))
        if self.final_of is not None and (not _is_whole(self.final_of) or self.final_of < 1):
            found.append(
                _t("The draft a final job finishes must be a history entry's number (got {value}).").format(
                    value=self.final_of
                )
            )
        found.extend(self.speed.problems())
        found.extend(self.parallel.problems())
        found.extend(self.finish_problems())
        return found

    def finish_problems(self) -> list[str]:
        if self.finish is None:
            return [_t("A finish job needs a finish (an upscale or an interpolation).")] if self.finish_source else []
        if self.finish.empty:
            return [_t("Nothing to do: ask for an upscale, an interpolation or both.")]
        found = self.finish.problems()
        if self.finish_source is not None and not Path(self.finish_source).is_file():
            found.append(_t("The clip {path} does not exist.").format(path=self.finish_source))
        return found

    def validate(self) -> None:
        self.memory.validate()
        found = self.problems()
        if found:
            raise InvalidRequestError(" ".join(found))

    @property
    def effective_frames(self) -> int:
        return snap_frames(self.num_frames)

    @property
    def frames_note(self) -> str:
        """What the engine will change about the frame count, for the user; empty when nothing."""
        snapped = self.effective_frames
        if snapped == self.num_frames:
            return ""
        return _t(
            "{frames} frames is not of the form 4k+1 that the video VAE needs; "
            "generating {snapped} frames instead, as the official pipeline does."
        ).format(frames=self.num_frames, snapped=snapped)

    @property
    def latent_shape(self) -> tuple[int, int, int, int, int]:
        return (1, 16, (self.effective_frames - 1) // VAE_TEMPORAL_FACTOR + 1, self.height // 8, self.width // 8)

    def with_seed(self, seed: int) -> GenerationRequest:
        return dataclasses.replace(self, seed=seed)

    def as_draft(self, steps: int) -> GenerationRequest:
        """The same job as a draft: at most `steps` denoising steps (never more than this job asks for) and the
        fastest step cache; the seed and everything else kept, so that its final looks like it. The other speed
        options stay as they are: they change how fast, not what (the attention kernel is chosen as asked, and
        compiling would only slow a short job down)."""
        return dataclasses.replace(
            self,
            steps=max(1, min(steps, self.steps)),
            speed=dataclasses.replace(self.speed, step_cache=StepCache.FASTER),
            draft=True,
            final_of=None,
        )

    def as_final(self, draft_id: int | None, steps: int, step_cache: StepCache) -> GenerationRequest:
        """A draft made at full quality: its prompt, size, frames, seed and other settings with `steps` and
        `step_cache` (the form's), linked to the draft's history entry."""
        return dataclasses.replace(
            self,
            steps=steps,
            speed=dataclasses.replace(self.speed, step_cache=step_cache),
            draft=False,
            final_of=draft_id,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "width": self.width,
            "height": self.height,
            "num_frames": self.num_frames,
            "fps": frame_rate_json(self.fps),
            "steps": self.steps,
            "guidance": self.guidance,
            "seed": self.seed,
            "max_sequence_length": self.max_sequence_length,
            "memory": self.memory.to_dict(),
            "speed": self.speed.to_dict(),
        }
        if self.parallel.enabled:
            data["parallel"] = self.parallel.to_dict()
        if self.draft:
            data["draft"] = True
        if self.final_of is not None:
            data["final_of"] = self.final_of
        if self.finish is not None:
            data["finish"] = self.finish.to_dict()
        if self.finish_source is not None:
            data["finish_source"] = self.finish_source
        if self.finish_of is not None:
            data["finish_of"] = self.finish_of
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        return cls(
            prompt=str(data["prompt"]),
            negative_prompt=str(data.get("negative_prompt", "")),
            width=int(data.get("width", DEFAULT_WIDTH)),
            height=int(data.get("height", DEFAULT_HEIGHT)),
            num_frames=int(data.get("num_frames", DEFAULT_FRAMES)),
            fps=_stored_frame_rate(data.get("fps", DEFAULT_FPS)),
            steps=int(data.get("steps", DEFAULT_STEPS)),
            guidance=float(data.get("guidance", DEFAULT_GUIDANCE)),
            seed=None if data.get("seed") is None else int(data["seed"]),
            memory=MemoryOptions.from_dict(data.get("memory", {})),
            max_sequence_length=int(data.get("max_sequence_length", 256)),
            speed=SpeedOptions.from_dict(data.get("speed", {})),
            parallel=ParallelOptions.from_dict(data["parallel"])
            if isinstance(data.get("parallel"), dict)
            else ParallelOptions(),
            draft=bool(data.get("draft", False)),
            final_of=None if data.get("final_of") is None else int(data["final_of"]),
            finish=FinishSpec.from_dict(data["finish"]) if isinstance(data.get("finish"), dict) else None,
            finish_source=None if data.get("finish_source") is None else str(data["finish_source"]),
            finish_of=None if data.get("finish_of") is None else int(data["finish_of"]),
        )


@dataclass(frozen=True)
class OutputOptions:
    video_path: Path
    frames_dir: Path | None = None  # lossless PNG frames, one per frame
    write_sidecar: bool = True
    job_id: int | None = None  # the history's job, recorded in the sidecar so a restart can reconcile it
    # The clip names its model by identity only (core/model/identity.py); True adds the model folder's absolute
    # path, for a person's own archive (`generate --keep-model-path`, the window's `include_model_path`).
    keep_model_path: bool = False


@dataclass(frozen=True)
class StageTimings:
    loading_s: float = 0.0
    encoding_s: float = 0.0
    denoising_s: float = 0.0
    decoding_s: float = 0.0
    saving_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.loading_s + self.encoding_s + self.denoising_s + self.decoding_s + self.saving_s

    def to_dict(self) -> dict[str, float]:
        data = {k: round(v, 3) for k, v in dataclasses.asdict(self).items()}
        data["total_s"] = round(self.total_s, 3)
        return data


@dataclass(frozen=True)
class GenerationResult:
    request: GenerationRequest  # with the seed actually used
    video_path: Path
    sidecar_path: Path | None
    frames_dir: Path | None
    num_frames: int  # frames actually generated (after 4k+1 snapping)
    timings: StageTimings
    peak_vram_bytes: int | None  # None where no accelerator measured it
    device: str
    notes: tuple[str, ...] = ()
    attention_backend: str = ""  # the attention kernel the transformer actually used
    compile_s: float | None = None  # seconds spent compiling the transformer's blocks (None: not compiled)

    @property
    def seed(self) -> int:
        assert self.request.seed is not None
        return self.request.seed
