"""Small helpers the window tests share: finding widgets by their stable objectName, filling the form, waiting
for the engine and for a job's end."""

from __future__ import annotations

from typing import Any, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox

T = TypeVar("T", bound=QObject)

# Small jobs keep the whole GUI suite well under two minutes on two CPU cores.
SMALL = {"width": 80, "height": 48, "num_frames": 9, "steps": 3}


def find(window: QObject, cls: type[T], name: str) -> T:
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name!r}"
    return widget


def wait_ready(qtbot: Any, window: Any, timeout: int = 60_000) -> None:
    """The engine imported torch and probed the machine, and the model folder check finished."""
    qtbot.waitUntil(lambda: window.controller.engine_ready, timeout=timeout)
    qtbot.waitUntil(lambda: not window.model_picker.checking, timeout=timeout)


def set_spin(window: Any, name: str, value: float) -> None:
    spin = window.findChild(QAbstractSpinBox, name)
    assert spin is not None, name
    if isinstance(spin, (QSpinBox, QDoubleSpinBox)):
        spin.setValue(value)
    else:
        spin.setValue(int(value))


def fill_small(
    window: Any, prompt: str = "a red fox trots through snow", seed: int | None = 1234, **overrides: int
) -> None:
    """A tiny job: 80x48, 9 frames, 3 steps (unless overridden); a locked seed when one is given."""
    from PySide6.QtWidgets import QPlainTextEdit

    values = {**SMALL, **overrides}
    find(window, QPlainTextEdit, "promptEdit").setPlainText(prompt)
    set_spin(window, "widthSpin", values["width"])
    set_spin(window, "heightSpin", values["height"])
    set_spin(window, "framesSpin", values["num_frames"])
    set_spin(window, "stepsSpin", values["steps"])
    if seed is not None:
        set_spin(window, "seedSpin", seed)
        window.parameter_form.set_seed_locked(True)


class JobWatcher:
    """Records a window's job signals: stages, steps, and how each job ended."""

    def __init__(self, window: Any) -> None:
        self.stages: list[tuple[int, str]] = []
        self.steps: list[tuple[int, int, int]] = []
        self.finished: dict[int, Any] = {}
        self.failed: dict[int, tuple[str, str, str]] = {}
        self.cancelled: list[int] = []
        c = window.controller
        c.stageChanged.connect(lambda job, stage: self.stages.append((job, stage)))
        c.stepped.connect(lambda job, step, total, _e, _eta: self.steps.append((job, step, total)))
        c.jobFinished.connect(lambda job, outcome: self.finished.__setitem__(job, outcome))
        c.jobFailed.connect(lambda job, *info: self.failed.__setitem__(job, info))
        c.jobCancelled.connect(self.cancelled.append)

    def ended(self, job_id: int) -> bool:
        return job_id in self.finished or job_id in self.failed or job_id in self.cancelled

    def wait(self, qtbot: Any, job_id: int, timeout: int = 90_000) -> None:
        qtbot.waitUntil(lambda: self.ended(job_id), timeout=timeout)
