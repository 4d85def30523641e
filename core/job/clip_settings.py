"""The way back from a clip to the parameters that made it, and what of them this machine can run.

Every clip this app writes carries its parameters (`Engine.clip_metadata`): the mp4's `comment` tag and its
sidecar `NAME.json`; exports carry the same dict (the WebM's `COMMENT` tag and `NAME.webm.json`, the GIF's comment
extension and `NAME.gif.json`, each PNG's tEXt chunk `parameters` and the folder's `parameters.json`).
`read_clip_settings` finds them in any of those — the file's own tag first, the sidecar beside it when the tag is
missing — and refuses anything else (a foreign or damaged file, another app's JSON, a newer format, values out of
range) with one `ClipSettingsError` line.

The model is recorded by its identity (core/model/identity.py: name, hub id and revision, a hash of its configs;
its absolute path only when the user kept it; older clips hold a plain path): `read_clip_settings` looks for it
among the model folders this app knows, and `ClipSettings.model_dir` is the folder found ("" when none).

`settings_notes` says what differs on this machine (where the model was found or that it was not, a device, kernel
or mode it cannot run, more GPUs than it has)
and `runnable_request` swaps each option that cannot run here for the nearest one that can, so a form can be filled
with something that runs. Both reuse the checks a job itself runs (core/engine/devices.py, core/engine/speed.py,
core/engine/compile.py):
nothing here decides on its own what a machine can do. No Qt; torch only inside the availability checks.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from core import __version__
from core.engine.devices import Capabilities, resolve_device
from core.errors import DeviceUnavailableError, FailureKind, StudioError
from core.i18n import _t
from core.job.request import GenerationRequest, MemoryOptions, ParallelOptions, Placement, Split
from core.model.identity import MatchKind, ModelIdentity, find_model
from core.output.export import PNG_SIDECAR_NAME, PNG_TEXT_KEY

APP_NAME = "ContentV Studio"  # the "app" marker in every clip's parameters (core/engine/runner.py writes it)
# The layout of the parameters dict. Clips written before the field existed are format 1; a reader meeting a larger
# number refuses the clip instead of guessing what its fields mean.
CLIP_FORMAT_VERSION = 1
MAX_PARAMETERS_BYTES = 1 << 20  # a sidecar is a few kB; a bigger "JSON" is not ours (and is not read whole)


class ClipSettingsError(StudioError):
    """The file holds no parameters this version can use (exit status 2, like any other bad input)."""

    kind = FailureKind.BAD_INPUT


@dataclass(frozen=True)
class ClipSettings:
    """A clip's parameters as recorded, with where they were found."""

    request: GenerationRequest  # the seed included
    model_dir: str  # the model folder found here for the clip's model ("" when none of the known folders is it)
    app_version: str
    device: str  # what the job ran on ("cuda", "mps", "cpu")
    dtype: str  # its compute dtype
    frames_generated: int | None
    source: Path  # the path that was opened
    found_in: str  # which tag or file held the parameters, in words ("the comment tag of clip.mp4")
    found_path: Path  # the file that held them (the source itself, or its sidecar)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the whole recorded dict
    model: ModelIdentity = field(default_factory=ModelIdentity)  # the model as the clip recorded it
    model_match: MatchKind | None = None  # how `model_dir` was found to be that model

    @property
    def attention_used(self) -> str:
        """The attention kernel the job actually ran ("" when not recorded)."""
        speed = self.raw.get("speed")
        return str(speed.get("attention_backend", "")) if isinstance(speed, dict) else ""

    def to_json(self) -> dict[str, Any]:
        """The parameters in the sidecar's own layout (so the output can be read back as a sidecar), plus where
        they were found. Keys are stable; `request` is complete (every field, defaults filled in)."""
        return {
            "app": APP_NAME,
            "app_version": self.app_version,
            "format_version": CLIP_FORMAT_VERSION,
            "model": self.model.to_dict(),  # as recorded: never the folder found here
            "request": self.request.to_dict(),
            "frames_generated": self.frames_generated,
            "device": self.device,
            "dtype": self.dtype,
            "speed": self.raw.get("speed") if isinstance(self.raw.get("speed"), dict) else {},
            "source": str(self.source),
            "found_in": self.found_in,
        }


# ---- reading ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Place:
    """One place parameters may be: a tag inside the file, or a JSON file."""

    found_in: str
    path: Path
    kind: str  # "tag", "gif", "png" or "json"


def read_clip_settings(path: str | Path, model_folders: Iterable[str | Path] = ()) -> ClipSettings:
    """The parameters of the clip, export, sidecar or PNG frame folder at `path`; ClipSettingsError (one line) when
    it holds none this version can use. The clip's model is looked for among `model_folders` (the folders this app
    knows, preferred first: core.model.identity.known_model_folders) and the path it recorded, if any."""
    source = Path(path).expanduser()
    if not source.exists():
        raise ClipSettingsError(_t("{path} does not exist.").format(path=source))
    places = _places(source)
    for place in places:
        data = _load(place)
        if _is_ours(data):
            assert data is not None
            return locate_model(_settings(data, source, place), model_folders)
    sidecars = [p.path.name for p in places if p.kind == "json" and p.path != source]
    if source.is_file() and sidecars and not any(p.path.is_file() for p in places if p.kind == "json"):
        raise ClipSettingsError(
            _t("{path} holds no ContentV Studio parameters, and there is no {sidecar} beside it.").format(
                path=source, sidecar=sidecars[0]
            )
        )
    raise ClipSettingsError(_t("{path} holds no ContentV Studio parameters.").format(path=source))


def _places(source: Path) -> list[_Place]:
    """Where to look, best first: the file's own tag, then the sidecars an export or a clip has beside it."""

    def sidecar(p: Path) -> _Place:
        return _Place(_t("the sidecar {name}").format(name=p.name), p, "json")

    if source.is_dir():  # a PNG frames export: its parameters.json, else a frame's text chunk
        places = [_Place(_t("the file {name}").format(name=PNG_SIDECAR_NAME), source / PNG_SIDECAR_NAME, "json")]
        frames = sorted(source.glob("frame_*.png"))[:1]
        return places + [_Place(_t("the text chunk of {name}").format(name=f.name), f, "png") for f in frames]
    suffix = source.suffix.lower()
    if suffix == ".json":
        return [_Place(_t("the file {name}").format(name=source.name), source, "json")]
    # An export's sidecar is NAME.EXT.json; a clip's is NAME.json (an export beside its clip shares that one).
    beside = [sidecar(source.with_name(source.name + ".json")), sidecar(source.with_suffix(".json"))]
    if suffix == ".png":
        return [
            _Place(_t("the text chunk of {name}").format(name=source.name), source, "png"),
            sidecar(source.with_name(PNG_SIDECAR_NAME)),
        ]
    if suffix == ".gif":
        return [_Place(_t("the GIF comment of {name}").format(name=source.name), source, "gif"), *beside]
    if suffix == ".mp4":
        beside.reverse()  # the app writes clip.json beside clip.mp4
    # .mp4, .mov, .mkv, .webm, or any other suffix: ffmpeg reads the comment tag of whatever container it is.
    return [_Place(_t("the comment tag of {name}").format(name=source.name), source, "tag"), *beside]


def _load(place: _Place) -> dict[str, Any] | None:
    """The JSON object at `place`, or None when there is none (missing, unreadable, damaged, not an object)."""
    text: str | bytes | None = None
    if place.kind == "json":
        text = _read_small(place.path)
    elif place.kind == "tag":
        from core.output.video import read_comment_tag

        if not place.path.is_file():
            return None
        data = read_comment_tag(place.path)
        return data if isinstance(data, dict) else None
    else:
        text = _image_text(place.path, place.kind)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or absurdly nested
        return None
    return data if isinstance(data, dict) else None


def _read_small(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PARAMETERS_BYTES + 1)
    except OSError:
        return None
    return None if len(data) > MAX_PARAMETERS_BYTES else data


def _image_text(path: Path, kind: str) -> bytes | str | None:
    """The GIF's comment or the PNG's `parameters` text chunk."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if kind == "gif":
                comment = image.info.get("comment")
                return comment if isinstance(comment, (bytes, str)) else None
            text = image.info.get(PNG_TEXT_KEY)
            if text is None:
                text = getattr(image, "text", {}).get(PNG_TEXT_KEY)  # chunks after the image data
            return text if isinstance(text, str) else None
    except Exception:  # a damaged or foreign image raises many kinds of errors; each means: no parameters here
        return None


def _is_ours(data: dict[str, Any] | None) -> bool:
    return isinstance(data, dict) and data.get("app") == APP_NAME and isinstance(data.get("request"), dict)


def _settings(data: dict[str, Any], source: Path, place: _Place) -> ClipSettings:
    version = str(data.get("app_version") or "?")
    fmt = data.get("format_version", 1)
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > CLIP_FORMAT_VERSION:
        raise ClipSettingsError(
            _t(
                "{path} was written by ContentV Studio {version} in a newer format that this version ({ours}) "
                "cannot read; update ContentV Studio to open it."
            ).format(path=source, version=version, ours=__version__)
        )
    try:
        request = GenerationRequest.from_dict(data["request"])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ClipSettingsError(
            _t("{path} holds ContentV Studio parameters this version cannot read ({detail}).").format(
                path=source, detail=_one_line(_describe(exc))
            )
        ) from None
    # The same checks a job runs before it starts: a value out of range is refused, never clamped.
    problems = request.problems()
    try:
        request.memory.validate()
    except StudioError as exc:
        problems.insert(0, exc.message)
    if problems:
        raise ClipSettingsError(
            _t("{path} holds parameters that cannot run: {problems}").format(path=source, problems=" ".join(problems))
        )
    if request.seed is None:
        raise ClipSettingsError(_t("{path} records no seed, so its clip cannot be made again.").format(path=source))
    frames = data.get("frames_generated")
    return ClipSettings(
        request=request,
        model_dir="",  # found by locate_model
        model=ModelIdentity.from_recorded(data.get("model")),
        app_version=version,
        device=str(data.get("device") or ""),
        dtype=str(data.get("dtype") or ""),
        frames_generated=frames if isinstance(frames, int) and not isinstance(frames, bool) else None,
        source=source,
        found_in=place.found_in,
        found_path=place.path,
        raw=dict(data),
    )


def locate_model(settings: ClipSettings, model_folders: Iterable[str | Path]) -> ClipSettings:
    """`settings` with `model_dir` set to the folder among `model_folders` (or the recorded path) that holds its
    model, by core.model.identity.find_model; "" when none does."""
    match = find_model(settings.model, model_folders) if settings.model.known else None
    if match is None:
        return dataclasses.replace(settings, model_dir="", model_match=None)
    return dataclasses.replace(settings, model_dir=match.folder, model_match=match.kind)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return _t("no {key}").format(key=exc.args[0] if exc.args else "?")
    return str(exc)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


# ---- what this machine can run ----------------------------------------------------------------------------------
class NoteKind(str, Enum):
    MODEL_FOLDER = "model-folder"  # made with another model folder, or one this computer does not have
    UNAVAILABLE = "unavailable"  # an option this machine cannot run; `fallback` is what runnable_request uses
    OTHER_DEVICE = "other-device"  # runs on another device or dtype than the clip did: the frames will differ

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SettingNote:
    kind: NoteKind
    option: str  # "model", or the command line's name of the option: device, dtype, offload, attention, compile
    recorded: str  # the clip's value
    message: str  # one line, for the user
    fallback: str | None = None  # UNAVAILABLE: the value `runnable_request` puts in its place

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "option": self.option,
            "recorded": self.recorded,
            "message": self.message,
            "fallback": self.fallback,
        }


# The nearest placements to one that cannot run here, nearest first (lowest GPU memory kept lowest).
_PLACEMENT_FALLBACKS: dict[Placement, tuple[Placement, ...]] = {
    Placement.STREAMED: (Placement.SEQUENTIAL, Placement.MODEL, Placement.GPU),
    Placement.SEQUENTIAL: (Placement.MODEL, Placement.GPU),
    Placement.MODEL: (Placement.SEQUENTIAL, Placement.GPU),
    Placement.GPU: (),
}
_DTYPE_FALLBACKS: dict[str, tuple[str, ...]] = {"bfloat16": ("float16", "auto"), "float16": ("auto",)}


def settings_notes(
    settings: ClipSettings, current_model_dir: str | Path | None, caps: Capabilities, name_folders: bool = True
) -> list[SettingNote]:
    """What the user should know before running the clip's settings here: where its model was found when that is
    not the current model folder (or that it was not found), each option this machine cannot run with the reason
    and what `runnable_request` uses instead, and whether the job runs on another device or dtype than the clip did.
    `name_folders=False` leaves folder paths out of the notes (for output that may be shared: `info --json`)."""
    notes = _model_notes(settings, current_model_dir, name_folders)
    runnable, swaps = make_runnable(settings.request, caps)
    notes += swaps
    try:
        here = resolve_device(runnable.memory, caps)
    except DeviceUnavailableError:  # pragma: no cover - make_runnable leaves only what resolves
        return notes
    if settings.device and (settings.device, settings.dtype) != (here.device, here.dtype_name):
        notes.append(
            SettingNote(
                NoteKind.OTHER_DEVICE,
                "device",
                f"{settings.device} {settings.dtype}".strip(),
                _t(
                    "Made on {device} in {dtype}; here it runs on {here_device} in {here_dtype}, so the frames will "
                    "not match the clip exactly."
                ).format(
                    device=settings.device,
                    dtype=settings.dtype or "?",
                    here_device=here.device,
                    here_dtype=here.dtype_name,
                ),
            )
        )
    return notes


def runnable_request(settings: ClipSettings, caps: Capabilities) -> GenerationRequest:
    """The clip's request with every option this machine cannot run swapped for the nearest one it can (each swap
    is an UNAVAILABLE note of `settings_notes`)."""
    return make_runnable(settings.request, caps)[0]


def make_runnable(
    request: GenerationRequest, caps: Capabilities, keep: frozenset[str] | set[str] = frozenset()
) -> tuple[GenerationRequest, list[SettingNote]]:
    """`request` with each option this machine cannot run swapped for the nearest that it can, and a note per swap.
    Options named in `keep` (device, dtype, offload, attention, compile, parallel: given explicitly by the user) are
    left as they are, for the job's own check to refuse with its usual message."""
    notes: list[SettingNote] = []
    memory = request.memory

    def swap(option: str, recorded: str, reason: str, fallback: str) -> None:
        notes.append(
            SettingNote(
                NoteKind.UNAVAILABLE,
                option,
                recorded,
                _t("{reason} Runs with {option} {fallback} instead.").format(
                    reason=reason, option=option, fallback=fallback
                ),
                fallback,
            )
        )

    # One field at a time, each checked by resolve_device with only the fields settled so far (and only once those
    # resolve), so the error it raises is about that field alone.
    reason = _device_problem(MemoryOptions(device=memory.device), caps)
    if reason and "device" not in keep:
        here = caps.accelerator or "cpu"
        swap("device", memory.device, reason, _t("auto ({device} here)").format(device=here))
        memory = dataclasses.replace(memory, device="auto")
    device_ok = _device_problem(MemoryOptions(device=memory.device), caps) is None
    reason = _device_problem(MemoryOptions(device=memory.device, placement=memory.placement), caps)
    if device_ok and reason and "offload" not in keep:
        fallback = next(
            (
                p
                for p in _PLACEMENT_FALLBACKS[memory.placement]
                if _device_problem(MemoryOptions(device=memory.device, placement=p), caps) is None
            ),
            Placement.GPU,
        )
        swap("offload", memory.placement.value, reason, fallback.value)
        memory = dataclasses.replace(memory, placement=fallback)
    placement_ok = _device_problem(dataclasses.replace(memory, dtype="auto"), caps) is None
    reason = _device_problem(memory, caps)
    if placement_ok and reason and "dtype" not in keep:
        fallback_dtype = next(
            (
                d
                for d in _DTYPE_FALLBACKS.get(memory.dtype, ())
                if _device_problem(dataclasses.replace(memory, dtype=d), caps) is None
            ),
            "auto",
        )
        swap("dtype", memory.dtype, reason, fallback_dtype)
        memory = dataclasses.replace(memory, dtype=fallback_dtype)
    request = dataclasses.replace(request, memory=memory)
    try:
        resolved = resolve_device(memory, caps)
    except DeviceUnavailableError:
        return request, notes  # a kept option cannot run: the job's check refuses it

    speed = request.speed
    if speed.attention_backend != "auto" and "attention" not in keep:
        from core.engine.speed import check_attention_request  # torch: only when a kernel is forced

        try:
            check_attention_request(request, resolved.device, resolved.dtype_name)
        except DeviceUnavailableError as exc:
            swap("attention", speed.attention_backend, exc.message, "auto")
            speed = dataclasses.replace(speed, attention_backend="auto")
    if speed.compile and "compile" not in keep:
        from core.engine.compile import check_compile_available

        try:
            check_compile_available()
        except DeviceUnavailableError as exc:
            swap("compile", "on", exc.message, "off")
            speed = dataclasses.replace(speed, compile=False)
    request = dataclasses.replace(request, speed=speed)

    parallel = request.parallel
    present = _processes_possible(request, resolved.device, caps)
    if parallel.gpus > present and "parallel" not in keep:
        lowered = _fewer_gpus(request, present, caps)
        if caps.cuda_devices:
            reason = _t("Made on {gpus} GPUs; this machine has {present}.").format(
                gpus=parallel.gpus, present=caps.cuda_devices
            )
        else:
            reason = _t("Made on {gpus} GPUs; this machine has no CUDA GPU.").format(gpus=parallel.gpus)
        if lowered.gpus > 1 and lowered.split is not parallel.split:
            reason += " " + _t("The {split} split cannot run on {gpus}, so the split is chosen automatically.").format(
                split=parallel.split.value, gpus=lowered.gpus
            )
        swap("parallel", str(parallel.gpus), reason, str(lowered.gpus))
        request = dataclasses.replace(request, parallel=lowered)
    return request, notes


def _processes_possible(request: GenerationRequest, device: str, caps: Capabilities) -> int:
    """How many ranks the request can have here: the CUDA GPUs present; on a CPU asked for by name, any count (the
    processes share its cores, as the tests run them); otherwise one."""
    if device == "cuda":
        return max(1, caps.cuda_devices)
    if device == "cpu" and request.memory.device == "cpu":
        return request.parallel.gpus
    return 1


def _fewer_gpus(request: GenerationRequest, gpus: int, caps: Capabilities) -> ParallelOptions:
    """`gpus` with the recorded split where it still applies there (the guidance split needs an even count), else
    auto; one GPU splits nothing."""
    if gpus <= 1:
        return ParallelOptions()
    from core.parallel.plan import resolve_split

    kept = ParallelOptions(gpus, request.parallel.split)
    try:
        resolve_split(dataclasses.replace(request, parallel=kept), caps)
    except StudioError:
        return ParallelOptions(gpus, Split.AUTO)
    return kept


def _device_problem(options: MemoryOptions, caps: Capabilities) -> str | None:
    try:
        resolve_device(options, caps)
    except DeviceUnavailableError as exc:
        return exc.message
    return None


# Said beside "found at …" when the folder found is not the clip's model by its configuration hash.
_INEXACT_MATCH = {
    MatchKind.HUB_REVISION: _t(
        "Matched by its hub id and revision only: the folder's configuration differs from the clip's."
    ),
    MatchKind.HUB: _t("Matched by its hub id only: the folder's configuration differs from the clip's."),
    MatchKind.PATH: _t("Matched by the folder the clip recorded only: its configuration differs from the clip's."),
    MatchKind.NAME: _t("Matched by its folder name only: the folder's configuration differs from the clip's."),
}


def _model_notes(settings: ClipSettings, current: str | Path | None, name_folders: bool) -> list[SettingNote]:
    identity = settings.model
    if not identity.known:
        return []
    model = identity.describe()
    if not settings.model_dir:
        message = _t("Made with {model}, not found among the model folders this app knows.").format(model=model)
        return [SettingNote(NoteKind.MODEL_FOLDER, "model", model, message)]
    found = Path(settings.model_dir)
    is_current = bool(current) and _resolved(found) == _resolved(Path(str(current)).expanduser())
    # An old clip records no configuration hash: its path or name is all there is to match.
    inexact = settings.model_match is not MatchKind.CONFIG and bool(identity.config_hash)
    if is_current and not inexact:
        return []
    if name_folders:
        message = _t("Made with {model}, found at {folder}.").format(model=model, folder=found)
    else:
        message = _t("Made with {model}, found among the model folders this app knows.").format(model=model)
    notes = [SettingNote(NoteKind.MODEL_FOLDER, "model", model, message)]
    if inexact and settings.model_match is not None:
        notes.append(SettingNote(NoteKind.MODEL_FOLDER, "model", model, _INEXACT_MATCH[settings.model_match]))
    return notes


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, an unreachable drive
        return path.absolute()
