"""Small pieces for state that must survive a kill or a power cut: flushing files and folders to disk, and telling
whether the process that wrote a marker still runs. Shared by the outputs (core/output/video.py), the history
(core/store/history.py) and the job journal (core/store/journal.py). No torch, no Qt."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def fsync_file(path: Path) -> None:
    # Windows flushes only through a handle opened for writing.
    fd = os.open(path, os.O_RDWR if sys.platform == "win32" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    if sys.platform == "win32":  # directories cannot be opened for fsync there; NTFS journals the rename
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def process_start(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), or None when there is no such process."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def process_alive(pid: int, started: float | None) -> bool:
    """Whether process `pid` still runs; with `started` (as process_start gave it then), a reused PID whose process
    started at another time does not count."""
    now_started = process_start(pid)
    if now_started is None:
        return False
    return started is None or abs(now_started - started) < 1.0
