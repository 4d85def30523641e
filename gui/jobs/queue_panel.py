"""The queue's widgets: the list of waiting jobs (drag to reorder, or the up/down buttons), remove and clear,
resume for a queue restored paused from the last session; and the batch controls beside Generate (a count of
seeds, one job per prompt line). They bind to the controller's `QueueModel`; no state lives here."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.jobs.controller import JobController

MAX_BATCH = 100


class QueuePanel(QWidget):
    def __init__(self, controller: JobController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = controller.queue

        self.title = QLabel()
        self.title.setObjectName("queueTitle")
        self.current_label = QLabel()
        self.current_label.setObjectName("queueCurrentLabel")
        self.current_label.setProperty("role", "hint")
        self.current_label.setWordWrap(True)
        self.list_view = QListView()
        self.list_view.setObjectName("queueList")
        self.list_view.setAccessibleName(self.tr("Waiting jobs"))
        self.list_view.setModel(self.model)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list_view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list_view.setDragEnabled(True)
        self.list_view.setAcceptDrops(True)
        self.list_view.setDropIndicatorShown(True)
        self.list_view.setWordWrap(True)
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setMinimumHeight(70)
        self.list_view.setMaximumHeight(180)

        self.up_button = self._button("queueUpButton", self.tr("Up"), self.tr("Run the selected job earlier."))
        self.down_button = self._button("queueDownButton", self.tr("Down"), self.tr("Run the selected job later."))
        self.remove_button = self._button(
            "queueRemoveButton", self.tr("Remove"), self.tr("Take the selected job out of the queue (Delete).")
        )
        self.clear_button = self._button(
            "queueClearButton", self.tr("Clear"), self.tr("Take every waiting job out of the queue.")
        )
        self.start_over_button = self._button(
            "queueStartOverButton",
            self.tr("Start over"),
            self.tr("Run the selected interrupted job from the beginning instead of where it stopped (same seed)."),
        )
        self.resume_button = self._button(
            "resumeQueueButton", self.tr("Resume"), self.tr("Run the waiting jobs (the queue is paused).")
        )
        self.resume_button.setProperty("role", "primary")
        self.pause_button = self._button(
            "pauseQueueButton", self.tr("Pause"), self.tr("Let the running job finish, then start no other.")
        )

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.up_button, self.down_button, self.remove_button, self.clear_button, self.start_over_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.resume_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.current_label)
        layout.addWidget(self.list_view)
        layout.addLayout(buttons)

        self.up_button.clicked.connect(lambda: self._move_selected(-1))
        self.down_button.clicked.connect(lambda: self._move_selected(+1))
        self.remove_button.clicked.connect(self.remove_selected)
        self.start_over_button.clicked.connect(self._start_over_selected)
        self.clear_button.clicked.connect(self.controller.clear_queue)
        self.resume_button.clicked.connect(self.controller.resume)
        self.pause_button.clicked.connect(self.controller.pause)
        self.list_view.installEventFilter(self)  # Delete removes the selected job
        self.model.changed.connect(self._refresh)
        controller.jobStarted.connect(lambda _job: self._refresh())
        controller.jobEnded.connect(lambda _job: self._refresh())
        selection = self.list_view.selectionModel()
        selection.selectionChanged.connect(lambda *_: self._refresh())
        self._refresh()

    @staticmethod
    def _button(name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        return button

    # ---- selection ----------------------------------------------------------------------------------------------
    def selected_job(self) -> int | None:
        rows = self.list_view.selectionModel().selectedRows()
        if not rows:
            return None
        value = self.model.data(rows[0], self.model.JobIdRole)
        return int(value) if isinstance(value, int) else None

    def select_job(self, job_id: int) -> None:
        row = self.model.row_of(job_id)
        if row >= 0:
            self.list_view.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        is_delete = (
            watched is self.list_view
            and isinstance(event, QKeyEvent)
            and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            and event.key() == Qt.Key.Key_Delete
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        )
        if not is_delete:
            return super().eventFilter(watched, event)
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # the list's Delete, not a window-wide one (the history's)
        else:
            self.remove_selected()
        return True

    # ---- actions ------------------------------------------------------------------------------------------------
    def _move_selected(self, delta: int) -> None:
        job_id = self.selected_job()
        if job_id is None:
            return
        if self.controller.move(job_id, self.model.row_of(job_id) + delta):
            self.select_job(job_id)

    def _start_over_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.controller.start_over(job_id)

    def remove_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.controller.remove(job_id)

    def _refresh(self) -> None:
        count = len(self.model)
        if self.model.paused and count:
            self.title.setText(self.tr("Queue: %n job(s) waiting, paused", "", count))
        elif count:
            self.title.setText(self.tr("Queue: %n job(s) waiting", "", count))
        else:
            self.title.setText(self.tr("Queue: empty"))
        running = self.controller.running_entry
        if running is not None:
            prompt = " ".join(running.request.prompt.split())
            self.current_label.setText(
                self.tr("Running: {prompt} (seed {seed})").format(
                    prompt=prompt if len(prompt) <= 60 else prompt[:59] + "…", seed=running.request.seed
                )
            )
        self.current_label.setVisible(running is not None)
        job_id = self.selected_job()
        row = self.model.row_of(job_id) if job_id is not None else -1
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < count - 1)
        self.remove_button.setEnabled(row >= 0)
        self.clear_button.setEnabled(count > 0)
        entry = self.model.entry(job_id) if job_id is not None else None
        self.start_over_button.setVisible(entry is not None and entry.resume_step > 0 and not entry.start_over)
        self.resume_button.setVisible(self.model.paused)
        self.pause_button.setVisible(not self.model.paused and count > 0)
        self.resume_button.setEnabled(self.model.paused and count > 0)


class BatchControls(QWidget):
    """How many jobs one Generate makes: `count` seeds (seed, seed + 1, …) for each prompt, and optionally one
    prompt per non-empty line of the prompt box."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count_spin = QSpinBox()
        self.count_spin.setObjectName("batchSpin")
        self.count_spin.setRange(1, MAX_BATCH)
        self.count_spin.setPrefix("× ")
        self.count_spin.setToolTip(self.tr("Jobs per prompt, with seeds seed, seed + 1, …"))
        self.count_spin.setAccessibleName(self.tr("Seeds per prompt"))
        self.lines_check = QCheckBox(self.tr("One job per line"))
        self.lines_check.setObjectName("promptPerLineCheck")
        self.lines_check.setToolTip(self.tr("Each non-empty line of the prompt becomes a job of its own."))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.count_spin)
        layout.addWidget(self.lines_check)
        self.count_spin.valueChanged.connect(self.changed)
        self.lines_check.toggled.connect(self.changed)

    @property
    def count(self) -> int:
        return self.count_spin.value()

    @property
    def prompt_per_line(self) -> bool:
        return self.lines_check.isChecked()

    def prompts(self, text: str) -> list[str]:
        if not self.prompt_per_line:
            return [text]
        return [line.strip() for line in text.splitlines() if line.strip()]
