"""Checking a ContentV-8B folder before loading it, and loading it component by component.

The check reads only small files (configs, tokenizer files, safetensors headers), so it is fast enough to run
the moment a user picks a folder. Every problem is collected and reported in one message.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ModelFolderError
from core.i18n import _t
from core.job.request import Quantization
from core.model.sizes import config_problems

WEIGHT_SUFFIXES = (".safetensors", ".bin")
# Present while core.model.download fills a folder; a folder holding it is never taken for a complete model.
DOWNLOAD_MARKER = ".download-incomplete"

# component -> (the config file it needs, whether it holds weights)
COMPONENTS: dict[str, tuple[str, bool]] = {
    "transformer": ("config.json", True),
    "vae": ("config.json", True),
    "text_encoder": ("config.json", True),
    "text_encoder_2": ("config.json", True),
    "text_encoder_3": ("config.json", True),
    "scheduler": ("scheduler_config.json", False),
}
TOKENIZER_FILES: dict[str, tuple[tuple[str, ...], ...]] = {
    # each inner tuple: alternatives, one of which must exist
    "tokenizer": (("vocab.json",), ("merges.txt",)),
    "tokenizer_2": (("vocab.json",), ("merges.txt",)),
    "tokenizer_3": (("spiece.model", "tokenizer.json"),),
}
COMPONENT_TITLES = {
    "transformer": "transformer (3D MMDiT)",
    "vae": "vae (Wan2.1 VAE)",
    "text_encoder": "text_encoder (CLIP-L)",
    "text_encoder_2": "text_encoder_2 (CLIP-G)",
    "text_encoder_3": "text_encoder_3 (T5-XXL)",
    "tokenizer": "tokenizer (CLIP-L)",
    "tokenizer_2": "tokenizer_2 (CLIP-G)",
    "tokenizer_3": "tokenizer_3 (T5)",
    "scheduler": "scheduler",
}


@dataclass(frozen=True)
class ModelFolderReport:
    path: Path
    problems: tuple[str, ...] = ()
    weight_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_weight_bytes(self) -> int:
        return sum(self.weight_bytes.values())

    def message(self) -> str:
        if self.ok:
            return _t("{path} is a complete ContentV model folder.").format(path=self.path)
        listed = "; ".join(self.problems)
        return _t("{path} is not a usable ContentV model folder: {problems}.").format(path=self.path, problems=listed)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


# Bytes per element of each safetensors dtype, to check a header's offsets against its shapes without torch.
SAFETENSORS_ITEM_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}  # fmt: skip


def read_safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]] | None:
    """The tensor shapes a safetensors file's header lists (reading only the header: a little-endian u64 length, then
    JSON), or None when the file is truncated or the header is not a consistent one."""
    try:
        with path.open("rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                return None
            (length,) = struct.unpack("<Q", raw)
            if length <= 0 or length > 100_000_000:
                return None
            header = json.loads(f.read(length))
    except PermissionError:
        raise
    except (OSError, ValueError):
        return None
    if not isinstance(header, dict):
        return None
    size = path.stat().st_size
    shapes: dict[str, tuple[int, ...]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = (int(x) for x in entry["data_offsets"])
            shape = tuple(int(d) for d in entry["shape"])
            item = SAFETENSORS_ITEM_BYTES[entry["dtype"]]
        except (KeyError, TypeError, ValueError):
            return None
        if any(d < 0 for d in shape) or end - start != item * _product(shape):
            return None  # a header whose shape and byte range disagree
        if 8 + length + end > size:
            return None  # truncated download
        shapes[name] = shape
    return shapes


def _product(shape: tuple[int, ...]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _safetensors_header_ok(path: Path) -> bool:
    return read_safetensors_shapes(path) is not None


def component_shapes(files: list[Path]) -> dict[str, tuple[int, ...]] | None:
    """Every tensor's shape across a component's safetensors files (headers only; files already checked readable),
    or None where a weight file is not safetensors (a pickle has no header to read without loading it)."""
    if not files or any(file.suffix != ".safetensors" for file in files):
        return None
    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        shapes.update(read_safetensors_shapes(file) or {})
    return shapes


def _weights(folder: Path, part: str) -> tuple[list[Path], str | None]:
    """The weight files of a component, or why they are unusable (a whole sentence about `part`)."""
    index_files = sorted(folder.glob("*.safetensors.index.json"))
    if index_files:
        index = _read_json(index_files[0])
        if index is None or not isinstance(index.get("weight_map"), dict):
            return [], _t("{part}'s weight index {file} is unreadable").format(part=part, file=index_files[0].name)
        shards = sorted({folder / name for name in index["weight_map"].values()})
        missing = [s.name for s in shards if not s.is_file()]
        if missing:
            return [], _t("{part} weight shards are missing ({files})").format(part=part, files=", ".join(missing[:3]))
        files = shards
    else:
        files = sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
        if not files:
            return [], _t("{part} has no weight file (*.safetensors)").format(part=part)
    try:
        broken = [f.name for f in files if f.suffix == ".safetensors" and not _safetensors_header_ok(f)]
    except PermissionError as exc:
        return files, _t("{part} weight file {file} is unreadable (permission denied)").format(
            part=part, file=Path(str(exc.filename)).name
        )
    if broken:
        return files, _t("{part} weight file {file} is truncated or corrupt").format(part=part, file=broken[0])
    return files, None


def _unreadable(path: Path) -> bool:
    """A folder that cannot be listed or a file that cannot be opened (is_file() alone says "missing")."""
    try:
        if path.is_dir():
            os.listdir(path)
        elif path.exists():
            with path.open("rb") as f:
                f.read(1)
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def inspect_model_folder(path: str | Path) -> ModelFolderReport:
    """Every problem of a model folder in plain words; never raises for a folder it cannot read."""
    root = Path(path).expanduser()
    try:
        return _inspect(root)
    except OSError as exc:  # a folder that changes or turns unreadable while it is read
        reason = _t("permission denied") if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        problem = _t("{path} cannot be read ({reason})").format(path=exc.filename or root, reason=reason)
        return ModelFolderReport(root, (problem,))


def _inspect(root: Path) -> ModelFolderReport:
    if not root.exists():
        return ModelFolderReport(root, (_t("the folder does not exist"),))
    if not root.is_dir():
        return ModelFolderReport(root, (_t("it is a file, not a folder"),))
    if _unreadable(root):
        return ModelFolderReport(root, (_t("the folder is unreadable (permission denied)"),))
    problems: list[str] = []
    sizes: dict[str, int] = {}
    if (root / DOWNLOAD_MARKER).exists():
        problems.append(_t("a download into it has not finished (run it again to resume)"))
    if not (root / "model_index.json").is_file():
        problems.append(_t("model_index.json is missing"))
    elif _read_json(root / "model_index.json") is None:
        problems.append(_t("model_index.json is unreadable"))

    for name, (config_name, has_weights) in COMPONENTS.items():
        title = COMPONENT_TITLES[name]
        folder = root / name
        if _unreadable(folder):
            problems.append(_t("{part}'s folder is unreadable (permission denied)").format(part=title))
            continue
        if not folder.is_dir():
            problems.append(_t("{part} is missing").format(part=title))
            continue
        config = folder / config_name
        if _unreadable(config):
            problems.append(
                _t("{part}'s {file} is unreadable (permission denied)").format(part=title, file=config_name)
            )
        elif not config.is_file():
            problems.append(_t("{part} has no {file}").format(part=title, file=config_name))
        elif _read_json(config) is None:
            problems.append(_t("{part}'s {file} is unreadable").format(part=title, file=config_name))
        if has_weights:
            files, problem = _weights(folder, title)
            if problem:
                problems.append(problem)
            else:
                sizes[name] = sum(f.stat().st_size for f in files)
                settings = _read_json(config) if config.is_file() else None
                if settings is not None:  # sizes absurd or contradicted by the weights: refused before any load
                    problems.extend(config_problems(name, settings, component_shapes(files)))

    for name, groups in TOKENIZER_FILES.items():
        title = COMPONENT_TITLES[name]
        folder = root / name
        if _unreadable(folder):
            problems.append(_t("{part}'s folder is unreadable (permission denied)").format(part=title))
            continue
        if not folder.is_dir():
            problems.append(_t("{part} is missing").format(part=title))
            continue
        for alternatives in groups:
            if not any((folder / a).is_file() for a in alternatives):
                if len(alternatives) == 2:
                    first, second = alternatives
                    problems.append(
                        _t("{part} has no {first} or {second}").format(part=title, first=first, second=second)
                    )
                else:
                    problems.append(_t("{part} has no {file}").format(part=title, file=" or ".join(alternatives)))

    return ModelFolderReport(root, tuple(problems), sizes)


def check_model_folder(path: str | Path) -> ModelFolderReport:
    report = inspect_model_folder(path)
    if not report.ok:
        raise ModelFolderError(
            report.message(),
            "Download ContentV-8B (all of its folders) again, or pick the folder that holds model_index.json.",
        )
    return report


# (folder, its configs' and weights' sizes and times) of the last folder whose shapes checked out
_shapes_checked: set[tuple[Any, ...]] = set()


def check_model_shapes(path: str | Path) -> None:
    """Refuse a folder whose configs describe models the weights do not fit: each component is built on the meta
    device (no memory; bounded by `check_model_folder`'s checks, which must have passed) and every tensor's shape
    compared with the safetensors headers. Imports torch and the model libraries; takes well under a second on
    ContentV-8B once they are imported, and a folder that checked out is not checked again until its files change."""
    from core.model.sizes import model_classes, shape_problems

    root = Path(path).expanduser()
    check_model_folder(root)  # bounds every size first: the models built below stay small
    fingerprint: list[Any] = [str(root.resolve())]
    files_by_component: dict[str, list[Path]] = {}
    for name, (config_name, has_weights) in COMPONENTS.items():
        if not has_weights:
            continue
        files_by_component[name] = files = _weights(root / name, name)[0]
        for file in [root / name / config_name, *files]:
            stat = file.stat()
            fingerprint.append((str(file), stat.st_size, stat.st_mtime_ns))
    key = tuple(fingerprint)
    if key in _shapes_checked:
        return
    problems: list[str] = []
    for name, cls in model_classes().items():
        shapes = component_shapes(files_by_component[name])
        if shapes is not None:  # pickled weights are refused by the loader itself (core.model.weights_loader)
            problems.extend(shape_problems(name, root / name, shapes, cls))
    if problems:
        report = ModelFolderReport(root, tuple(problems))
        raise ModelFolderError(
            report.message(), "The config.json files do not describe these weights; download the folder again."
        )
    _shapes_checked.add(key)


@dataclass
class LoadedComponents:
    transformer: object
    vae: object
    text_encoder: object
    text_encoder_2: object
    text_encoder_3: object
    tokenizer: object
    tokenizer_2: object
    tokenizer_3: object
    scheduler: object


PrepareHook = Callable[[str, Any], Any]


def _is_pickle_refusal(exc: BaseException) -> bool:
    """torch.load(weights_only=True) refused a pickle, perhaps wrapped by transformers or diffusers."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, pickle.UnpicklingError) or "weights_only" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def load_components(
    root: Path,
    dtype_name: str,
    prepare: PrepareHook | None = None,
    *,
    quantization: Quantization = Quantization.NONE,
    pinned: frozenset[str] = frozenset(),
    devices: dict[str, str] | None = None,
) -> LoadedComponents:
    """Load each component with an explicit class (model_index.json names a transformer module that is not in
    diffusers). Weights land on the CPU in the compute dtype; the VAE stays float32.

    Each model is read tensor by tensor straight into its final form (core.model.weights_loader): the transformer's
    and T5's Linear weights quantized as they arrive when `quantization` asks for it, and the components named in
    `pinned` read into page-locked memory (streamed offload), so no component ever exists twice in host RAM.

    `prepare(name, module)` runs on each model right after it is loaded (move it to the GPU), so host memory
    holds one unprepared component at a time rather than all 27 GB of ContentV-8B at once.
    """
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler
    from transformers import (
        CLIPTextModelWithProjection,
        CLIPTokenizer,
        T5EncoderModel,
        T5TokenizerFast,  # pyright: ignore[reportAttributeAccessIssue] - a lazy export
    )

    from core.engine.quantize import QUANTIZED_PREFIXES
    from core.engine.transformer import ContentVTransformer3DModel
    from core.model.weights_loader import load_model

    dtype = getattr(torch, dtype_name)

    def model(name: str, cls: Any, model_dtype: Any) -> Any:
        prefixes = QUANTIZED_PREFIXES.get(name)
        loaded = load_model(
            cls,
            root / name,
            model_dtype,
            quantization if prefixes is not None else Quantization.NONE,
            prefixes or ("",),
            pin_memory=name in pinned,
            device=(devices or {}).get(name),
        )
        return prepare(name, loaded) if prepare is not None else loaded

    try:
        return LoadedComponents(
            transformer=model("transformer", ContentVTransformer3DModel, dtype),
            vae=model("vae", AutoencoderKLWan, torch.float32),
            text_encoder=model("text_encoder", CLIPTextModelWithProjection, dtype),
            text_encoder_2=model("text_encoder_2", CLIPTextModelWithProjection, dtype),
            text_encoder_3=model("text_encoder_3", T5EncoderModel, dtype),
            tokenizer=CLIPTokenizer.from_pretrained(root / "tokenizer", local_files_only=True),
            tokenizer_2=CLIPTokenizer.from_pretrained(root / "tokenizer_2", local_files_only=True),
            tokenizer_3=T5TokenizerFast.from_pretrained(root / "tokenizer_3", local_files_only=True),
            scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(root / "scheduler", local_files_only=True),
        )
    except (OSError, ValueError, KeyError, RuntimeError, pickle.UnpicklingError) as exc:
        if _is_pickle_refusal(exc):
            raise ModelFolderError(
                _t(
                    "A weight file in {folder} is a pickle that holds more than plain weights; it was refused because "
                    "loading it could run code."
                ).format(folder=root),
                "Use the model's .safetensors files (download the folder again from its official source).",
            ) from exc
        raise ModelFolderError(
            _t("Loading the model from {folder} failed: {error}").format(
                folder=root, error=(str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            ),
            "The folder looked complete but a component could not be read; download it again.",
        ) from exc
