"""The job queue as an observable model, apart from any widget (as krita-ai-diffusion keeps its state in models
the views bind to): the jobs waiting to run, in the order they will run, and whether the queue is paused.

It holds no history and starts nothing: the job controller owns it, takes the next job from its head, and
writes its order to the history database when it changes. Views (the queue list, the progress line, the window
title) listen to `changed`; the list view edits it by drag and drop through `moveRows` / `dropMimeData`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from core.job.request import GenerationRequest

_MIME = "application/x-contentv-queue-rows"
_ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class QueueEntry:
    job_id: int  # the history record
    request: GenerationRequest  # seed already chosen
    model_dir: str
    resume_step: int = 0  # the step its journal reached when it was interrupted (0: it starts from the beginning)
    start_over: bool = False  # drop its journal and run from step 0
    decode_on_cpu: bool = False  # its latents are denoised: decode them on the CPU (the last resort)

    @property
    def latent_pixels(self) -> int:
        _, _, frames, height, width = self.request.latent_shape
        return frames * height * width


def describe(entry: QueueEntry) -> str:
    r = entry.request
    prompt = " ".join(r.prompt.split())
    if len(prompt) > 70:
        prompt = prompt[:69] + "…"
    # A literal translate() call: lupdate extracts only those (a helper's argument is invisible to it).
    details = QCoreApplication.translate("QueueModel", "{w}×{h}, {frames} frames, {steps} steps, seed {seed}").format(
        w=r.width, h=r.height, frames=r.effective_frames, steps=r.steps, seed=r.seed
    )
    if r.finish is not None and r.finishes_only:  # no generation: what it does to which clip
        details = QCoreApplication.translate("QueueModel", "Finish #{job} → {what}").format(
            job=r.finish_of if r.finish_of is not None else "?", what=r.finish.short()
        )
    elif r.finish is not None:
        details += f"  →  {r.finish.short()}"
    if r.draft:
        details = QCoreApplication.translate("QueueModel", "Draft") + "  ·  " + details
    elif r.final_of is not None:
        details = QCoreApplication.translate("QueueModel", "Final of #{job}").format(job=r.final_of) + "  ·  " + details
    if entry.resume_step > 0 and not entry.start_over:
        details += "  ·  " + QCoreApplication.translate("QueueModel", "interrupted at step {step} of {steps}").format(
            step=entry.resume_step, steps=r.steps
        )
    return f"{prompt}\n{details}"


class QueueModel(QAbstractListModel):
    JobIdRole = Qt.ItemDataRole.UserRole + 1

    changed = Signal()  # anything: a job added, removed, moved; the queue paused or resumed
    orderChanged = Signal(list)  # job ids in their new order, after a move (to be written to the history)
    pausedChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[QueueEntry] = []
        self._paused = False

    # ---- reading ------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> list[QueueEntry]:
        return list(self._entries)

    @property
    def job_ids(self) -> list[int]:
        return [e.job_id for e in self._entries]

    @property
    def paused(self) -> bool:
        return self._paused

    def row_of(self, job_id: int) -> int:
        return next((i for i, e in enumerate(self._entries) if e.job_id == job_id), -1)

    def entry(self, job_id: int) -> QueueEntry | None:
        row = self.row_of(job_id)
        return self._entries[row] if row >= 0 else None

    # ---- editing ------------------------------------------------------------------------------------------------
    def append(self, entries: list[QueueEntry]) -> None:
        if not entries:
            return
        first = len(self._entries)
        self.beginInsertRows(QModelIndex(), first, first + len(entries) - 1)
        self._entries.extend(entries)
        self.endInsertRows()
        self.changed.emit()

    def replace(self, entry: QueueEntry) -> bool:
        """Put `entry` in place of the waiting job with its id (same row); False when that job is not waiting."""
        row = self.row_of(entry.job_id)
        if row < 0:
            return False
        self._entries[row] = entry
        self.dataChanged.emit(self.index(row), self.index(row))
        self.changed.emit()
        return True

    def take_first(self) -> QueueEntry | None:
        if not self._entries:
            return None
        return self.remove(self._entries[0].job_id)

    def remove(self, job_id: int) -> QueueEntry | None:
        row = self.row_of(job_id)
        if row < 0:
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        entry = self._entries.pop(row)
        self.endRemoveRows()
        self._renumber()
        self.changed.emit()
        return entry

    def clear(self) -> list[QueueEntry]:
        removed = self._entries
        if not removed:
            return []
        self.beginResetModel()
        self._entries = []
        self.endResetModel()
        self.changed.emit()
        return removed

    def move(self, job_id: int, to_row: int) -> bool:
        """Move a job to `to_row` (its index after the move, clamped to the queue)."""
        row = self.row_of(job_id)
        if row < 0:
            return False
        to_row = max(0, min(to_row, len(self._entries) - 1))
        if to_row == row:
            return False
        return self.moveRows(QModelIndex(), row, 1, QModelIndex(), to_row + 1 if to_row > row else to_row)

    def set_paused(self, paused: bool) -> None:
        if paused != self._paused:
            self._paused = paused
            self.pausedChanged.emit(paused)
            self.changed.emit()

    # ---- Qt model API ----------------------------------------------------------------------------------------
    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row() + 1}. {describe(entry)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.request.prompt
        if role == self.JobIdRole:
            return entry.job_id
        return None

    def flags(self, index: _ModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled  # drops land between rows, never onto one

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data.setData(_MIME, QByteArray(",".join(str(self._entries[r].job_id) for r in rows).encode()))
        return data

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _ModelIndex) -> bool:
        if action != Qt.DropAction.MoveAction or not data.hasFormat(_MIME):
            return False
        try:
            ids = [int(x) for x in bytes(data.data(_MIME).data()).decode().split(",") if x]
        except ValueError:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._entries)
        moving = [e for e in self._entries if e.job_id in ids]
        if not moving:
            return False
        before = sum(1 for e in self._entries[:row] if e.job_id in ids)
        rest = [e for e in self._entries if e.job_id not in ids]
        target = row - before
        new_order = rest[:target] + moving + rest[target:]
        if new_order == self._entries:
            return False
        self.beginResetModel()
        self._entries = new_order
        self.endResetModel()
        self._order_changed()
        return False  # the move is done here: the view must not also remove the dragged rows

    def moveRows(
        self, source_parent: _ModelIndex, source_row: int, count: int, destination_parent: _ModelIndex, destination: int
    ) -> bool:
        if source_parent.isValid() or destination_parent.isValid() or count < 1:
            return False
        if source_row < 0 or source_row + count > len(self._entries) or not 0 <= destination <= len(self._entries):
            return False
        if source_row <= destination <= source_row + count:
            return False  # onto itself
        if not self.beginMoveRows(source_parent, source_row, source_row + count - 1, destination_parent, destination):
            return False
        block = self._entries[source_row : source_row + count]
        del self._entries[source_row : source_row + count]
        insert_at = destination - count if destination > source_row else destination
        self._entries[insert_at:insert_at] = block
        self.endMoveRows()
        self._order_changed()
        return True

    def _renumber(self) -> None:
        if self._entries:  # the rows show their place in the queue
            self.dataChanged.emit(self.index(0), self.index(len(self._entries) - 1))

    def _order_changed(self) -> None:
        self._renumber()
        self.orderChanged.emit(self.job_ids)
        self.changed.emit()
