"""The app icon: an SVG (the source) and a 256 px PNG rendered from it (for platforms and packagers that want a
bitmap). Frozen builds keep `resources/` beside the code (sys._MEIPASS)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_NAME = "contentv-studio"


def resources_dir() -> Path:
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / "resources" if base else Path(__file__).resolve().parents[2] / "resources"


def icon_path(suffix: str = ".svg") -> Path:
    return resources_dir() / "icons" / f"{ICON_NAME}{suffix}"


def app_icon() -> QIcon:
    icon = QIcon()
    for suffix in (".svg", ".png"):
        path = icon_path(suffix)
        if path.is_file():
            icon.addFile(str(path))
    return icon


def render_icon_png(size: int = 256, target: Path | None = None) -> Path:
    """Render the SVG to a PNG (needs a QGuiApplication; works offscreen). Run after editing the SVG:
    QT_QPA_PLATFORM=offscreen python -c "from PySide6.QtGui import QGuiApplication as A; a=A([]);
    from gui.support.resources import render_icon_png; render_icon_png()" """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(icon_path(".svg")))
    if not renderer.isValid():
        raise ValueError(f"{icon_path('.svg')} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    target = target or icon_path(".png")
    if not image.save(str(target)):
        raise OSError(f"Could not write {target}")
    return target


def ui_icon(name: str) -> QIcon:
    """A small interface icon from resources/icons (SVG), e.g. "dice", "lock", "lock-open"."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))
