"""The mouse wheel scrolls the form unless a field has focus.

Qt's spin boxes, combo boxes and sliders take wheel events under the pointer even without focus, so scrolling
down the form changed the frame rate, size or steps it passed over. Guarded fields take focus only by click or
Tab (StrongFocus) and hand the wheel on to the scroll area until they have it.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox, QWidget

GUARDED_TYPES: tuple[type[QWidget], ...] = (QAbstractSpinBox, QComboBox, QAbstractSlider)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is not None:
            # Handed to the scroll area directly (Qt propagates only spontaneous wheel events to parents).
            QCoreApplication.sendEvent(area.viewport(), event.clone())
        else:
            event.ignore()  # filtered and ignored: Qt passes it on to the parents
        return True


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
