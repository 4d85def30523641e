"""A progress bar over a line of status text: the row the export and download dialogs both show while they work."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget


class ProgressRow(QWidget):
    """`bar_name` and `label_name` become the objectNames of the bar and the label (tests and styles find them)."""

    def __init__(self, bar_name: str, label_name: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setObjectName(bar_name)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label = QLabel(text)
        self.label.setObjectName(label_name)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # errors can be copied
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label)

    def busy(self, text: str) -> None:
        """Working, with no count yet: the bar moves without a value."""
        self.bar.setRange(0, 0)
        self.label.setText(text)

    def show_progress(self, done: int, total: int, text: str | None = None) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        if text is not None:
            self.label.setText(text)

    def finish(self, text: str) -> None:
        """Done: a full bar."""
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.label.setText(text)

    def stop(self, text: str, keep_progress: bool = False) -> None:
        """Stopped, cancelled or failed: an empty bar, unless what was done still counts (a paused download)."""
        if not keep_progress:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
        self.label.setText(text)

    def set_text(self, text: str) -> None:
        self.label.setText(text)
