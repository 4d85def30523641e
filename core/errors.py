"""Errors the engine raises on purpose: each carries a plain-words message and the advice that fits.

Callers (the CLI, the GUI worker) show `message` and `advice` to the user; anything else that escapes the
engine is a bug and is reported with its traceback.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error meant for the user's eyes."""

    kind = "error"

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice

    def __str__(self) -> str:
        return self.message if not self.advice else f"{self.message} {self.advice}"


class InvalidRequestError(StudioError):
    """A job parameter is out of range or inconsistent."""

    kind = "invalid-request"


class ModelFolderError(StudioError):
    """The model folder is missing, incomplete or unreadable."""

    kind = "model-folder"


class DeviceUnavailableError(StudioError):
    """The device, dtype or memory mode asked for does not exist on this machine."""

    kind = "device"


class OutOfMemoryError(StudioError):
    """The GPU (or host) ran out of memory during a job."""

    kind = "out-of-memory"


class OutputError(StudioError):
    """The output file cannot be written where asked."""

    kind = "output"


class JobCancelled(StudioError):
    """The user cancelled the job; nothing was written."""

    kind = "cancelled"

    def __init__(self, message: str = "The job was cancelled; nothing was written.") -> None:
        super().__init__(message)
