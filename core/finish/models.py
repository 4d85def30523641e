"""The named default finishing models: where each comes from, its pinned SHA-256, and its resumable download into
the app's data folder (`<data>/finish-models/`).

Both come from cccv's model zoo (the GitHub release its model configs download from) with the SHA-256 that cccv
0.1.0's own configs pin for those exact files, so the address and the hash are one source's pair. A file is
fetched into `<name>.part` (an interrupted download resumes from its last byte with an HTTP Range request, in the
same run after a dropped connection and in a later run after a cancel or a crash) and moves to its final name only
once its hash matches. Nothing is downloaded unless asked for (`--model default`, or an upscale step of
`generate --finish`); the tests serve the files from 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidRequestError
from core.i18n import _t
from core.job.progress import CancelToken
from core.model.download import DownloadCancelled, DownloadError, DownloadProgress, _bar_class
from core.store.state_dirs import state_dir

MODELS_DIR_NAME = "finish-models"
ZOO = "https://github.com/EutropicAI/cccv/releases/download/model_zoo/"
DEFAULT = "default"


@dataclass(frozen=True)
class NamedModel:
    name: str  # what --model takes
    kind: str  # "upscale" or "interpolate"
    filename: str
    url: str
    sha256: str
    about: str  # one line: what it is and where it comes from

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "file": self.filename, "sha256": self.sha256, "url": self.url}


NAMED_MODELS: dict[str, NamedModel] = {
    m.name: m
    for m in (
        # The upscaling default: ContentV's clips are photographic, and the usual wish is exactly 2× (768×432 →
        # 1536×864): Real-ESRGAN's x2plus is a native 2× net trained on real-world degradations, so no resampling
        # after it; the compact anime-video model flattens photographic texture.
        NamedModel(
            "realesrgan-x2plus",
            "upscale",
            "RealESRGAN_RealESRGAN_x2plus_2x.pth",
            ZOO + "RealESRGAN_RealESRGAN_x2plus_2x.pth",
            "49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
            "Real-ESRGAN x2plus (RRDB, 2×, xinntao/Real-ESRGAN), from cccv's model zoo",
        ),
        # The fast alternative: Real-ESRGAN's compact (SRVGG) model made for video, 4×, about 40× lighter.
        NamedModel(
            "realesr-animevideov3",
            "upscale",
            "RealESRGAN_realesr_animevideov3_4x.pth",
            ZOO + "RealESRGAN_realesr_animevideov3_4x.pth",
            "b8a8376811077954d82ca3fcf476f1ac3da3e8a68a4f4d71363008000a18b75d",
            "Real-ESRGAN realesr-animevideov3 (compact SRVGG, 4×, made for video), from cccv's model zoo",
        ),
        NamedModel(
            "rife-4.26",
            "interpolate",
            "RIFE_IFNet_v426_heavy.pth",
            ZOO + "RIFE_IFNet_v426_heavy.pth",
            "4cc518e172156ad6207b9c7a43364f518832d83a4325d484240493a9e2980537",
            "RIFE 4.26 IFNet (hzwer/Practical-RIFE), from cccv's model zoo",
        ),
    )
}
DEFAULT_MODELS = {"upscale": "realesrgan-x2plus", "interpolate": "rife-4.26"}


def models_dir() -> Path:
    """Where named models are kept: the app's data folder (`--data-dir` or the window's), `finish-models/`."""
    return state_dir(MODELS_DIR_NAME)


def named_model(spec: str, kind: str) -> NamedModel | None:
    """The named model `spec` stands for ("default" is the kind's default), or None for a file path."""
    name = DEFAULT_MODELS[kind] if spec == DEFAULT else spec
    model = NAMED_MODELS.get(name)
    if model is not None and model.kind != kind:
        raise InvalidRequestError(
            _t("{name} is a model for another step, not for {kind}.").format(name=name, kind=kind)
        )
    return model


def local_path(model: NamedModel, folder: Path | None = None) -> Path:
    return (folder or models_dir()) / model.filename


def is_downloaded(model: NamedModel, folder: Path | None = None) -> bool:
    """Present under its final name (it got there only after its hash was checked)."""
    return local_path(model, folder).is_file()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def download_named_model(
    model: NamedModel,
    folder: Path | None = None,
    progress: Callable[[DownloadProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Fetch `model` (resuming a part file), check its pinned SHA-256, and move it into place; its final path.

    Raises DownloadCancelled when `cancel` is tripped (the part stays for a resume) and DownloadError when it cannot be
    fetched or arrives with another hash (the part is removed: a resume would only repeat the damage)."""
    from huggingface_hub.file_download import http_get

    folder = folder or models_dir()
    final = folder / model.filename
    if final.is_file():
        return final
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{model.filename}.part"
    stop = cancel or CancelToken()
    resume = part.stat().st_size if part.is_file() else 0
    if resume and file_sha256(part) == model.sha256:  # fetched whole, then stopped before it was moved
        os.replace(part, final)
        return final
    done = resume

    def on_bytes(n: float) -> None:
        nonlocal done
        done += int(n)
        if progress is not None:
            progress(DownloadProgress(done, 0, model.filename, 0, 1, 0.0))
        if stop.cancelled:
            raise DownloadCancelled()

    if stop.cancelled:
        raise DownloadCancelled()
    try:
        with part.open("ab") as sink:
            # No Hugging Face headers (and never its token): this is not the hub.
            http_get(model.url, sink, resume_size=resume, headers={"user-agent": "contentv-studio"},
                     tqdm_class=_bar_class(on_bytes))  # fmt: skip
    except DownloadCancelled:
        raise
    except Exception as exc:  # HTTP errors, a dropped connection after the retries, a full disk
        raise DownloadError(
            _t("Downloading {file} failed: {error}").format(file=model.filename, error=exc),
            "Run it again; the download resumes where it stopped.",
        ) from exc
    got = file_sha256(part)
    if got != model.sha256:
        part.unlink(missing_ok=True)
        raise DownloadError(
            _t("{file} arrived damaged (SHA-256 {got}, expected {expected}) and was removed.").format(
                file=model.filename, got=got, expected=model.sha256
            )
        )
    os.replace(part, final)
    return final
