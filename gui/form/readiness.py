"""Whether the form can run, and why not, in plain words: the request's own problems, a device this machine
lacks, and a model folder that is missing, still being checked or unusable. The run bar shows them (FormColumn)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from core.errors import DeviceUnavailableError, StudioError
from core.job.request import GenerationRequest
from gui.form.model_picker import ModelPicker

EMPTY_PROMPT = "The prompt is empty"  # a hint (Generate stays off), not a problem to list


def request_problems(request: GenerationRequest, capabilities: object | None) -> list[str]:
    """What stops the request from running here (untranslated: core's words; the run bar translates them)."""
    found = [p for p in request.problems() if not p.startswith(EMPTY_PROMPT)]
    if capabilities is not None:
        from core.engine.devices import resolve_device

        try:
            resolve_device(request.memory, capabilities)  # type: ignore[arg-type]
        except DeviceUnavailableError as exc:
            found.append(exc.message)
        if request.parallel.enabled and not found:
            from core.parallel.plan import resolve_split

            try:  # a split that cannot run with these memory settings, or on this machine's GPUs
                resolve_split(request, capabilities)  # type: ignore[arg-type]
            except StudioError as exc:
                found.append(exc.message)
    return found


def model_problem(picker: ModelPicker) -> str:
    """Why the chosen model folder cannot run a job yet ("" when it can)."""
    if not picker.path():
        return QCoreApplication.translate("readiness", "Choose a model folder first (File ▸ Choose model folder…).")
    if picker.checking or picker.report is None:
        return QCoreApplication.translate("readiness", "Checking the model folder…")
    if not picker.is_valid:
        return QCoreApplication.translate("readiness", "The model folder cannot be used: {problems}").format(
            problems="; ".join(picker.report.problems)
            or QCoreApplication.translate("readiness", "see the note under it")
        )
    return ""
