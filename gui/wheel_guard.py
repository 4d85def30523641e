"""The mouse wheel scrolls the form unless a field has focus.

Qt's spin boxes, combo boxes and sliders take wheel events under the pointer even without focus, so scrolling
down the form changed the frame rate, size or steps it passed over. Guarded fields take focus only by click or
Tab (StrongFocus) and hand the wheel on to the scroll area until they have it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QWidget

GUARDED_TYPES: tuple[type[QWidget], ...] = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            # Ignored and filtered: Qt passes the wheel on to the parents, and the scroll area scrolls.
            event.ignore()
            return True
        return False


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every spin box, combo box and slider under root (call again after adding fields)."""
    guard = root.findChild(WheelGuard, "wheelGuard")
    if guard is None:
        guard = WheelGuard(root)
        guard.setObjectName("wheelGuard")
    for widget in root.findChildren(QWidget):
        if isinstance(widget, GUARDED_TYPES) and not widget.property("wheelGuarded"):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(guard)
            widget.setProperty("wheelGuarded", True)
    return guard
