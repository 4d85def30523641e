"""What sets compared clips apart: each job's parameters in words, and only those whose values are not all the
same (the compare view's table and its pane captions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication

from core.history import JobRecord
from gui.jobs.history_panel import PLACEMENT_TEXT, option_text
from gui.support.i18n import QT_TRANSLATE_NOOP

CONTEXT = "CompareView"
LETTERS = "ABCD"


@dataclass(frozen=True)
class Difference:
    name: str  # the parameter, in words
    values: list[str]  # one per clip, in the clips' order


def _tr(text: str) -> str:
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
        (m.vae_slicing, QT_TRANSLATE_NOOP(CONTEXT, "VAE slicing")),
        (m.vae_tiling, QT_TRANSLATE_NOOP(CONTEXT, "VAE tiling")),
        (m.attention_slicing, QT_TRANSLATE_NOOP(CONTEXT, "attention slicing")),
        (m.text_encoders_off_gpu, QT_TRANSLATE_NOOP(CONTEXT, "text encoders off the GPU")),
    ):
        if on:
            parts.append(_tr(name))
    return ", ".join(parts)


def _attention(record: JobRecord) -> str:
    ran = _ran(record).get("attention_backend")
    return str(ran) if ran else option_text(record.request.speed.attention_backend)


# The parameters compared, in the table's order: (name, the value of one job in words).
PARAMETERS: list[tuple[str, Callable[[JobRecord], str]]] = [
    (QT_TRANSLATE_NOOP(CONTEXT, "Seed"), lambda r: str(r.request.seed)),
    (QT_TRANSLATE_NOOP(CONTEXT, "Steps"), lambda r: str(r.request.steps)),
    (QT_TRANSLATE_NOOP(CONTEXT, "Guidance"), lambda r: f"{r.request.guidance:g}"),
    (QT_TRANSLATE_NOOP(CONTEXT, "Size"), lambda r: f"{r.request.width} × {r.request.height}"),
    (QT_TRANSLATE_NOOP(CONTEXT, "Frames"), lambda r: str(r.frames_generated or r.request.effective_frames)),
    (QT_TRANSLATE_NOOP(CONTEXT, "Frame rate"), lambda r: f"{r.request.fps} fps"),
    (QT_TRANSLATE_NOOP(CONTEXT, "Step cache"), lambda r: option_text(r.request.speed.step_cache.value)),
    (QT_TRANSLATE_NOOP(CONTEXT, "Attention kernel"), _attention),
    (QT_TRANSLATE_NOOP(CONTEXT, "Guidance batching"), lambda r: option_text(r.request.speed.guidance_batching.value)),
    (QT_TRANSLATE_NOOP(CONTEXT, "Compiled"), lambda r: _tr("yes") if r.request.speed.compile else _tr("no")),
    (QT_TRANSLATE_NOOP(CONTEXT, "Memory mode"), _memory_mode),
    (QT_TRANSLATE_NOOP(CONTEXT, "Precision"), lambda r: option_text(r.request.memory.dtype)),
    (QT_TRANSLATE_NOOP(CONTEXT, "8-bit weights"), lambda r: option_text(r.request.memory.quantization.value)),
    (QT_TRANSLATE_NOOP(CONTEXT, "Prompt"), lambda r: r.request.prompt),
    (QT_TRANSLATE_NOOP(CONTEXT, "Negative prompt"), lambda r: r.request.negative_prompt or _tr("(none)")),
    (QT_TRANSLATE_NOOP(CONTEXT, "Model folder"), lambda r: r.model_dir),
    (QT_TRANSLATE_NOOP(CONTEXT, "Device"), lambda r: r.device or option_text(r.request.memory.device)),
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
    """"A · seed 11 · Steps 30": the letter, the seed, and up to two more of what sets this clip apart."""
    parts = [LETTERS[index], _tr("seed {seed}").format(seed=record.request.seed)]
    seed_name, long_names = _tr("Seed"), {_tr(name) for name in LONG_VALUES}
    for difference in found:
        if len(parts) >= 4:
            break
        if difference.name != seed_name and difference.name not in long_names:
            parts.append(f"{difference.name} {difference.values[index]}")
    return " · ".join(parts)
