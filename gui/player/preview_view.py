"""The live preview: the latents of the running job, projected to colour (core.job.preview), looping as a small
moving picture so a clip that is going wrong can be cancelled early. Each latent frame stands for four video
frames, so the loop plays at a quarter of the clip's frame rate."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

FRAMES_PER_LATENT = 4


class PreviewView(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewView")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(160, 90))
        # Ignored: the scaled pixmap must not feed back into the layout's size.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAccessibleName(self.tr("Live preview"))
        self.setToolTip(self.tr("What the clip looks like so far (a rough colour preview of the denoising)."))
        self._images: list[QImage] = []
        self._index = 0
        self.step: int | None = None  # the step the shown latents were taken at
        self.updates = 0  # previews received since the last clear (for the status line and tests)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._advance)
        self.clear()

    @property
    def frame_count(self) -> int:
        return len(self._images)

    def show_frames(self, frames: object, step: int, fps: float = 24) -> None:
        """`frames`: (T, h, w, 3) uint8 numpy array (C-contiguous)."""
        import numpy as np

        array = np.ascontiguousarray(frames, dtype=np.uint8)
        count, height, width, _ = array.shape
        # copy(): the QImage must own its pixels once the array is gone.
        self._images = [
            QImage(array[t].data, width, height, 3 * width, QImage.Format.Format_RGB888).copy() for t in range(count)
        ]
        self.step = step
        self.updates += 1
        self._index = min(self._index, count - 1)
        self._render()
        if count > 1:
            self._timer.start(max(40, round(1000 * FRAMES_PER_LATENT / max(1, fps))))
        else:
            self._timer.stop()

    def clear(self) -> None:
        self._timer.stop()
        self._images = []
        self._index = 0
        self.step = None
        self.updates = 0
        self.setPixmap(QPixmap())
        self.setText(self.tr("The preview appears while the clip is denoised."))

    def _advance(self) -> None:
        if self._images:
            self._index = (self._index + 1) % len(self._images)
            self._render()

    def _render(self) -> None:
        if not self._images:
            return
        pixmap = QPixmap.fromImage(self._images[self._index])
        self.setPixmap(
            pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._render()


class PreviewPanel(QWidget):
    """The preview and its one setting: how many steps between previews (0 turns them off)."""

    everyChanged = Signal(int)

    def __init__(self, every: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = PreviewView()
        self.every_spin = QSpinBox()
        self.every_spin.setObjectName("previewEverySpin")
        self.every_spin.setRange(0, 100)
        self.every_spin.setValue(max(0, every))
        self.every_spin.setSpecialValueText(self.tr("off"))
        self.every_spin.setToolTip(
            self.tr("Show the clip as it forms every this many denoising steps (0: no preview; costs under 2 %).")
        )
        self.every_spin.valueChanged.connect(self.everyChanged)
        self.caption = QLabel(self.tr("Preview every"))
        self.caption.setBuddy(self.every_spin)
        self.steps_label = QLabel(self.tr("steps"))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.caption)
        row.addWidget(self.every_spin)
        row.addWidget(self.steps_label)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)

    @property
    def every(self) -> int:
        return self.every_spin.value()
