"""The window's left column: the model folder, the prompt, the video's parameters, memory and speed, in a scrolling
form, and below it the run bar that stays in view (Generate, Draft, Cancel, batch, progress, what the job is doing).

The column only lays the panels out and binds them to the FormModel; what Generate does is the window's."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.form.finish_panel import FinishPanel
from gui.form.form_model import (
    FormModel,
    bind_finish_panel,
    bind_memory_panel,
    bind_parallel_panel,
    bind_speed_panel,
)
from gui.form.gpus_panel import GpusPanel
from gui.form.memory_panel import MemoryPanel
from gui.form.model_picker import ModelPicker
from gui.form.parameter_form import ParameterForm
from gui.form.prompt_editor import PromptEditor
from gui.form.speed_panel import SpeedPanel
from gui.jobs.queue_panel import BatchControls
from gui.support.i18n import core_text
from gui.widgets.group_box import titled
from gui.widgets.wheel_guard import guard_wheel


class FormColumn(QWidget):
    def __init__(self, form: FormModel, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("leftColumn")
        self.model_picker = ModelPicker(models_dir)
        self.prompt_editor = PromptEditor()
        self.parameter_form = ParameterForm()
        self.memory_panel = MemoryPanel()
        self.speed_panel = SpeedPanel()
        self.finish_panel = FinishPanel()
        self.gpus_panel = GpusPanel()
        self.prompt_editor.bind(form)
        self.parameter_form.bind(form)
        bind_memory_panel(form, self.memory_panel)
        bind_speed_panel(form, self.speed_panel)
        bind_finish_panel(form, self.finish_panel)
        bind_parallel_panel(form, self.gpus_panel)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 4, 10, 10)
        layout.setSpacing(4)
        layout.addWidget(titled(self.tr("Model"), self.model_picker))
        layout.addWidget(titled(self.tr("&Prompt"), self.prompt_editor), 1)
        layout.addWidget(titled(self.tr("Video"), self.parameter_form))
        layout.addWidget(titled(self.tr("Memory and device"), self.memory_panel))
        self.gpus_group = titled(self.tr("GPUs"), self.gpus_panel)
        self.gpus_group.setObjectName("gpusGroup")
        self.gpus_group.hide()  # until this machine is known to have more than one GPU
        layout.addWidget(self.gpus_group)
        layout.addWidget(titled(self.tr("Speed"), self.speed_panel))
        layout.addWidget(titled(self.tr("Finish"), self.finish_panel))
        layout.addStretch(0)
        scroll = QScrollArea()
        scroll.setObjectName("leftScroll")
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        guard_wheel(content)  # the wheel scrolls the form; it changes a field only once that has focus

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(scroll, 1)
        column.addWidget(self._build_run_bar())
        # As narrow as the form allows (its widest row plus the scroll bar), so the window fits small screens.
        self.setMinimumWidth(content.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)

    def set_gpu_count(self, devices: int) -> None:
        """The GPUs choice appears only where there is one to make: more than one CUDA GPU."""
        self.gpus_panel.set_device_count(devices)
        self.gpus_group.setVisible(self.gpus_panel.available)

    def show_readiness(self, model_problem: str, problems: list[str], has_prompt: bool, busy: bool) -> bool:
        """List what stops the form from running above Generate and say it in Generate's tooltip; True when
        nothing does (an empty prompt lists nothing: it only keeps Generate off)."""
        shown = [model_problem, *problems] if model_problem else problems
        if shown:
            self.problems_label.setText("\n".join(f"• {core_text(p)}" for p in shown))
        self.problems_label.setVisible(bool(shown))
        if model_problem:
            tip = model_problem
        elif not has_prompt:
            tip = self.tr("Write a prompt first.")
        elif problems:
            tip = self.tr("Fix the settings listed above first.")
        else:
            tip = (
                self.tr("Add this job to the queue (Ctrl+Enter).")
                if busy
                else self.tr("Generate the clip (Ctrl+Enter).")
            )
        self.generate_button.setToolTip(tip)
        return not shown and has_prompt

    def show_clip_notes(self, notes: list[str]) -> None:
        """What a reopened clip's settings could not keep (another model folder, an option this machine lacks)."""
        self.clip_notes_label.setText("\n".join(f"• {note}" for note in notes))
        self.clip_notes_label.setVisible(bool(notes))

    def _build_run_bar(self) -> QWidget:
        self.clip_notes_label = QLabel()
        self.clip_notes_label.setObjectName("clipNotesLabel")
        self.clip_notes_label.setProperty("role", "hint")
        self.clip_notes_label.setWordWrap(True)
        self.clip_notes_label.hide()
        self.problems_label = QLabel()
        self.problems_label.setObjectName("problemsLabel")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setToolTip(self.tr("Generate the clip (Ctrl+Enter)."))
        self.generate_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.draft_button = QPushButton(self.tr("Draft"))
        self.draft_button.setObjectName("draftButton")
        self.draft_button.setToolTip(
            self.tr(
                "A quick look first: the same seed at fewer steps with the fastest step cache (Ctrl+Shift+Enter). "
                "Final on the draft in the history then makes it at full quality."
            )
        )
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip(self.tr("Stop the running job after the current step; nothing is written (Esc)."))
        self.cancel_button.setEnabled(False)
        self.batch_controls = BatchControls()
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.draft_button)
        buttons.addWidget(self.cancel_button)
        batch_row = QHBoxLayout()
        batch_row.addWidget(self.batch_controls)
        batch_row.addStretch(1)
        self.stage_label = QLabel()
        self.stage_label.setObjectName("stageLabel")
        self.stage_label.setProperty("role", "hint")
        self.stage_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setAccessibleName(self.tr("Job progress"))
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("")
        run_bar = QWidget()
        run_bar.setObjectName("runBar")
        layout = QVBoxLayout(run_bar)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(self.clip_notes_label)
        layout.addWidget(self.problems_label)
        layout.addLayout(buttons)
        layout.addLayout(batch_row)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.stage_label)
        return run_bar
