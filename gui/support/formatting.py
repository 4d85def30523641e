"""How the window writes sizes, durations and play positions: one place, so every part says them the same way."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def format_bytes(n: int) -> str:
    """Decimal units, as disks and download pages count them: "950 bytes", "12 KB", "4.2 GB"."""
    if n < 1000:
        return QCoreApplication.translate("format_bytes", "{count} bytes").format(count=n)
    value = n / 1000
    for unit in ("KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "KB" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def clock(seconds: float) -> str:
    """A duration to read at a glance: "42 s", "3:05", "1:02:03"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{sec:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}"


def format_ms(ms: int) -> str:
    """A play position to a tenth of a second: "0:03.4"."""
    seconds = max(0, ms) / 1000
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"
