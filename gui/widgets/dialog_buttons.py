"""The button row of a dialog that does one long thing: its action (the default button) and Close, on the right."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QHBoxLayout, QPushButton


def action_row(
    action_text: str, action_name: str, on_action: Callable[[], object], close_name: str, on_close: Callable[[], object]
) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """The row, its action button and its Close button (which the dialog may also use to pause or cancel)."""
    action = QPushButton(action_text)
    action.setObjectName(action_name)
    action.setDefault(True)
    action.clicked.connect(on_action)
    close = QPushButton(QCoreApplication.translate("action_row", "Close"))
    close.setObjectName(close_name)
    close.clicked.connect(on_close)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(action)
    row.addWidget(close)
    return row, action, close
