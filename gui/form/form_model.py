"""The form's state in one observable object (as krita-ai-diffusion's DocumentModel): the panels write their
fields into it and follow its `changed(field)` signal; the window asks it for the `GenerationRequest`.

The fields are the request's own dictionary (`GenerationRequest.to_dict()`), so a field added to the request
is a field of the form without being listed again here; only the form's own state (the seed lock) is extra.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QObject, Signal

from core.finish.spec import FinishSpec
from core.job.request import GenerationRequest, MemoryOptions, ParallelOptions, SpeedOptions, random_seed

SEED_LOCKED = "seed_locked"  # the form's own field: keep the seed at Generate instead of drawing a new one


def default_request() -> GenerationRequest:
    return GenerationRequest(prompt="", seed=random_seed())


class FormModel(QObject):
    """Field values keyed by the request's dictionary names ("width", "steps", "memory", …)."""

    changed = Signal(str)  # the field's name, after its value changed

    def __init__(self, request: GenerationRequest | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._values: dict[str, Any] = (request or default_request()).to_dict()
        self._values.setdefault("finish", None)  # stored only when set; the form always has the field
        self._values["parallel"] = (request or default_request()).parallel.to_dict()  # likewise
        self._values[SEED_LOCKED] = False

    # ---- fields -----------------------------------------------------------------------------------------------
    def fields(self) -> list[str]:
        return list(self._values)

    def get(self, name: str) -> Any:
        return copy.deepcopy(self._values[name])

    def set(self, name: str, value: Any) -> bool:
        """Store a value; emits `changed(name)` only when it differs. Returns whether it changed."""
        if name not in self._values:
            raise KeyError(f"the form has no field {name!r}")
        if self._values[name] == value:
            return False
        self._values[name] = copy.deepcopy(value)
        self.changed.emit(name)
        return True

    def update(self, values: dict[str, Any]) -> list[str]:
        """Several fields at once; returns the names that changed."""
        return [name for name, value in values.items() if self.set(name, value)]

    # ---- the request ------------------------------------------------------------------------------------------
    def request(self, seed: int | None = None) -> GenerationRequest:
        data = {k: v for k, v in self._values.items() if k != SEED_LOCKED}
        if seed is not None:
            data["seed"] = seed
        return GenerationRequest.from_dict(data)

    def apply_request(self, request: GenerationRequest, lock_seed: bool | None = None) -> None:
        """Fill the form from a request (a history entry or the saved settings). A request without a seed keeps
        the form's seed."""
        values = request.to_dict()
        values["parallel"] = request.parallel.to_dict()  # a one-GPU job stores none: it ran on one
        if values.get("seed") is None:
            values.pop("seed", None)
        # Whether a job is a draft (or whose final) is its button's choice, not a field of the form: a loaded
        # draft fills the form with its settings, and Generate makes an ordinary job of them.
        values.pop("draft", None)
        values.pop("final_of", None)
        # A finish of an existing clip loads as the job that made that clip: Generate makes it again, unfinished.
        if values.pop("finish_source", None) is not None:
            values["finish"] = None
        values.pop("finish_of", None)
        self.update(values)
        if lock_seed is not None:
            self.set(SEED_LOCKED, lock_seed)

    # ---- conveniences -----------------------------------------------------------------------------------------
    @property
    def seed_locked(self) -> bool:
        return bool(self._values[SEED_LOCKED])

    def memory(self) -> MemoryOptions:
        return MemoryOptions.from_dict(self._values["memory"])

    def set_memory(self, options: MemoryOptions) -> None:
        self.set("memory", options.to_dict())

    def speed(self) -> SpeedOptions:
        return SpeedOptions.from_dict(self._values["speed"])

    def set_speed(self, options: SpeedOptions) -> None:
        self.set("speed", options.to_dict())

    def parallel(self) -> ParallelOptions:
        return ParallelOptions.from_dict(self._values["parallel"])

    def set_parallel(self, options: ParallelOptions) -> None:
        self.set("parallel", options.to_dict())

    def finish(self) -> FinishSpec | None:
        value = self._values["finish"]
        return FinishSpec.from_dict(value) if isinstance(value, dict) else None

    def set_finish(self, spec: FinishSpec | None) -> None:
        self.set("finish", spec.to_dict() if spec is not None else None)


def bind_memory_panel(model: FormModel, panel: Any) -> None:
    """The memory panel (options()/set_options()/changed) follows and writes the model's `memory` field."""
    syncing = False

    def from_panel() -> None:
        nonlocal syncing
        if not syncing:
            model.set_memory(panel.options())

    def to_panel(name: str) -> None:
        nonlocal syncing
        if name != "memory" or panel.options() == model.memory():
            return
        syncing = True
        try:
            panel.set_options(model.memory())
        finally:
            syncing = False

    panel.changed.connect(from_panel)
    model.changed.connect(to_panel)
    if panel.options() != model.memory():
        panel.set_options(model.memory())


def bind_speed_panel(model: FormModel, panel: Any) -> None:
    """The speed panel (options()/set_options()/changed) follows and writes the model's `speed` field."""
    syncing = False

    def from_panel() -> None:
        nonlocal syncing
        if not syncing:
            model.set_speed(panel.options())

    def to_panel(name: str) -> None:
        nonlocal syncing
        if name != "speed" or panel.options() == model.speed():
            return
        syncing = True
        try:
            panel.set_options(model.speed())
        finally:
            syncing = False
        # A kernel this machine cannot run came back as Auto: the request must say so too.
        model.set_speed(panel.options())

    panel.changed.connect(from_panel)
    model.changed.connect(to_panel)
    if panel.options() != model.speed():
        panel.set_options(model.speed())


def bind_parallel_panel(model: FormModel, panel: Any) -> None:
    """The GPUs choice (options()/set_options()/changed) follows and writes the model's `parallel` field."""

    def to_panel(name: str) -> None:
        if name == "parallel" and panel.options() != model.parallel():
            panel.set_options(model.parallel())
            # More GPUs than this machine has came back as all of them: the request must say so too.
            model.set_parallel(panel.options())

    panel.changed.connect(lambda: model.set_parallel(panel.options()))
    model.changed.connect(to_panel)
    if panel.options() != model.parallel():
        panel.set_options(model.parallel())


def bind_finish_panel(model: FormModel, panel: Any) -> None:
    """The Finish group (options()/set_options()/changed) follows and writes the model's `finish` field."""

    def to_panel(name: str) -> None:
        if name == "finish" and panel.options() != model.finish():
            panel.set_options(model.finish())

    panel.changed.connect(lambda: model.set_finish(panel.options()))
    model.changed.connect(to_panel)
    if panel.options() != model.finish():
        panel.set_options(model.finish())
