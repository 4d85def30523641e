"""What sets compared clips apart: each job's parameters in words, and only those whose values are not all the
same (the compare view's table and its pane captions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication

from core.output.frame_rate import frame_rate_text
from core.store.history import JobRecord
from gui.jobs.history_panel import PLACEMENT_TEXT, option_text
from gui.support.i18n import QT_TRANSLATE_NOOP

CONTEXT = "CompareView"
LETTERS = "ABCD"


@dataclass(frozen=True)
class Difference:
    name: str  # the parameter, in words
    values: list[str]  # one per clip, in the clips' order


def _tr(text: str) -> str:
    """A name from a QT_TRANSLATE_NOOP table, translated (lupdate reads the literal contexts in the tables)."""
    return QCoreApplication.translate(CONTEXT, text)


def _ran(record: JobRecord) -> dict[str, Any]:
    """What the clip's sidecar says ran (the attention kernel); empty without a sidecar."""
    if record.video is None:
        return {}
    try:
        speed = json.loads(record.video.with_suffix(".json").read_text(encoding="utf-8")).get("speed")
    except (OSError, ValueError, AttributeError):
        return {}
    return speed if isinstance(speed, dict) else {}


def _memory_mode(record: JobRecord) -> str:
    m = record.request.memory
    parts = [QCoreApplication.translate("HistoryPanel", PLACEMENT_TEXT[m.placement])]
    for on, name in (
        (m.vae_slicing, QT_TRANSLATE_NOOP("CompareView", "VAE slicing")),
        (m.vae_tiling, QT_TRANSLATE_NOOP("CompareView", "VAE tiling")),
        (m.attention_slicing, QT_TRANSLATE_NOOP("CompareView", "attention slicing")),
        (m.text_encoders_off_gpu, QT_TRANSLATE_NOOP("CompareView", "text encoders off the GPU")),
    ):
        if on:
            parts.append(_tr(name))
    return ", ".join(parts)


def _compiled(record: JobRecord) -> str:
    if record.request.speed.compile:
        return QCoreApplication.translate("CompareView", "yes")
    return QCoreApplication.translate("CompareView", "no")


def _negative_prompt(record: JobRecord) -> str:
    return record.request.negative_prompt or QCoreApplication.translate("CompareView", "(none)")


def _attention(record: JobRecord) -> str:
    ran = _ran(record).get("attention_backend")
    return str(ran) if ran else option_text(record.request.speed.attention_backend)


# The parameters compared, in the table's order: (name, the value of one job in words).
PARAMETERS: list[tuple[str, Callable[[JobRecord], str]]] = [
    (QT_TRANSLATE_NOOP("CompareView", "Seed"), lambda r: str(r.request.seed)),
    (QT_TRANSLATE_NOOP("CompareView", "Steps"), lambda r: str(r.request.steps)),
    (QT_TRANSLATE_NOOP("CompareView", "Guidance"), lambda r: f"{r.request.guidance:g}"),
    (QT_TRANSLATE_NOOP("CompareView", "Size"), lambda r: f"{r.request.width} × {r.request.height}"),
    (QT_TRANSLATE_NOOP("CompareView", "Frames"), lambda r: str(r.frames_generated or r.request.effective_frames)),
    (QT_TRANSLATE_NOOP("CompareView", "Frame rate"), lambda r: f"{frame_rate_text(r.request.fps)} fps"),
    (QT_TRANSLATE_NOOP("CompareView", "Step cache"), lambda r: option_text(r.request.speed.step_cache.value)),
    (QT_TRANSLATE_NOOP("CompareView", "Attention kernel"), _attention),
    (
        QT_TRANSLATE_NOOP("CompareView", "Guidance batching"),
        lambda r: option_text(r.request.speed.guidance_batching.value),
    ),
    (QT_TRANSLATE_NOOP("CompareView", "Compiled"), _compiled),
    (QT_TRANSLATE_NOOP("CompareView", "Memory mode"), _memory_mode),
    (QT_TRANSLATE_NOOP("CompareView", "Precision"), lambda r: option_text(r.request.memory.dtype)),
    (QT_TRANSLATE_NOOP("CompareView", "8-bit weights"), lambda r: option_text(r.request.memory.quantization.value)),
    (QT_TRANSLATE_NOOP("CompareView", "Prompt"), lambda r: r.request.prompt),
    (QT_TRANSLATE_NOOP("CompareView", "Negative prompt"), _negative_prompt),
    (QT_TRANSLATE_NOOP("CompareView", "Model folder"), lambda r: r.model_dir),
    (QT_TRANSLATE_NOOP("CompareView", "Device"), lambda r: r.device or option_text(r.request.memory.device)),
]
# Values too long for a pane's caption: they stay in the table.
LONG_VALUES = {"Prompt", "Negative prompt", "Model folder"}


def differences(records: list[JobRecord]) -> list[Difference]:
    """The parameters whose values are not the same for every record, in the table's order."""
    found: list[Difference] = []
    for name, value_of in PARAMETERS:
        values = [value_of(record) for record in records]
        if len(set(values)) > 1:
            found.append(Difference(_tr(name), values))
    return found


def pane_caption(index: int, record: JobRecord, found: list[Difference]) -> str:
    """ "A · seed 11 · Steps 30": the letter, the seed, and up to two more of what sets this clip apart."""
    seed = QCoreApplication.translate("CompareView", "seed {seed}").format(seed=record.request.seed)
    parts = [LETTERS[index], seed]
    seed_name, long_names = _tr("Seed"), {_tr(name) for name in LONG_VALUES}
    for difference in found:
        if len(parts) >= 4:
            break
        if difference.name != seed_name and difference.name not in long_names:
            parts.append(f"{difference.name} {difference.values[index]}")
    return " · ".join(parts)
