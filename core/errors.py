"""Errors the engine raises on purpose: each carries a plain-words message, the advice that fits, and a
`FailureKind` that decides the command line's exit status.

Callers (the CLI, the GUI worker) show `message` and `advice` to the user; anything else that escapes the
engine is a bug and is reported with its traceback in the log.
"""

from __future__ import annotations

from enum import Enum


class FailureKind(str, Enum):
    """Why a job ended without a clip. The value is what the history stores and the GUI shows."""

    BAD_INPUT = "bad-input"  # a parameter or a path refused before anything loads
    MODEL_FOLDER = "model-folder"  # the model folder is incomplete, unreadable, or a component fails to load
    DEVICE = "device"  # the device, dtype or memory mode asked for does not exist here
    OUT_OF_MEMORY = "out-of-memory"
    NON_FINITE = "non-finite"  # NaN/inf in the latents or the frames: damaged weights or fp16 overflow
    OUTPUT = "output"  # the clip could not be written (disk full, permissions, name taken)
    CANCELLED = "cancelled"
    RESUME = "resume"  # an interrupted job's journal does not match the job any more (model or settings changed)
    NETWORK = "network"  # a download could not reach the model hub
    RANK = "rank"  # one process of a job split over several GPUs died or failed; the others were stopped
    INTERNAL = "internal"  # a bug: anything not raised on purpose

    # Behave as the plain string everywhere (dict keys, f-strings, SQLite, Qt signals): "bad-input" == kind.
    def __str__(self) -> str:
        return self.value

    def __hash__(self) -> int:
        return str.__hash__(self.value)


# Exit status of `main.py generate` for each kind; documented in the README's "Exit codes" table.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_MODEL = 3
EXIT_OUT_OF_MEMORY = 4
EXIT_OUTPUT = 5
EXIT_RANK = 6
EXIT_CANCELLED = 130

EXIT_CODES: dict[FailureKind, int] = {
    FailureKind.BAD_INPUT: EXIT_BAD_INPUT,
    FailureKind.DEVICE: EXIT_BAD_INPUT,  # refused before loading, like any other bad option
    FailureKind.MODEL_FOLDER: EXIT_MODEL,
    FailureKind.NON_FINITE: EXIT_MODEL,  # the weights (or their precision) produced no usable numbers
    FailureKind.OUT_OF_MEMORY: EXIT_OUT_OF_MEMORY,
    FailureKind.OUTPUT: EXIT_OUTPUT,
    FailureKind.CANCELLED: EXIT_CANCELLED,
    FailureKind.RESUME: EXIT_BAD_INPUT,  # refused before anything runs, like bad input
    FailureKind.NETWORK: EXIT_INTERNAL,
    FailureKind.RANK: EXIT_RANK,
    FailureKind.INTERNAL: EXIT_INTERNAL,
}


def exit_code(kind: FailureKind) -> int:
    return EXIT_CODES.get(kind, EXIT_INTERNAL)


class StudioError(Exception):
    """Base of every error meant for the user's eyes."""

    kind: FailureKind = FailureKind.INTERNAL

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice

    def __str__(self) -> str:
        return self.message if not self.advice else f"{self.message} {self.advice}"


class InvalidRequestError(StudioError):
    """A job parameter is out of range or inconsistent."""

    kind = FailureKind.BAD_INPUT


class ModelFolderError(StudioError):
    """The model folder is missing, incomplete or unreadable."""

    kind = FailureKind.MODEL_FOLDER


class DeviceUnavailableError(StudioError):
    """The device, dtype or memory mode asked for does not exist on this machine."""

    kind = FailureKind.DEVICE


class OutOfMemoryError(StudioError):
    """The GPU (or host) ran out of memory during a job."""

    kind = FailureKind.OUT_OF_MEMORY


class NonFiniteError(StudioError):
    """The latents or the decoded frames hold NaN or infinity; nothing was written."""

    kind = FailureKind.NON_FINITE


class OutputError(StudioError):
    """The output file cannot be written where asked."""

    kind = FailureKind.OUTPUT


class OutputTakenError(OutputError):
    """A name the job would publish already exists: refused before any work, like other bad input."""

    kind = FailureKind.BAD_INPUT


class OutputNameTakenError(OutputTakenError):
    """The very name is taken (a file, its sidecar, or another job's reservation): another name would do."""


class JobCancelled(StudioError):
    """The user cancelled the job; nothing was written."""

    kind = FailureKind.CANCELLED

    def __init__(self, message: str = "The job was cancelled; nothing was written.") -> None:
        super().__init__(message)


class RankFailedError(StudioError):
    """A rank process of a split job died or raised; every rank was stopped and nothing was written."""

    kind = FailureKind.RANK

    def __init__(self, message: str, advice: str = "", rank: int = 0, exit_status: int | None = None) -> None:
        super().__init__(message, advice)
        self.rank = rank
        self.exit_status = exit_status  # the process's exit code (negative: the signal that ended it)
