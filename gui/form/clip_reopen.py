"""The way back from a clip to the form: a clip (mp4, WebM, GIF, PNG frames) or its sidecar `.json`, dropped on the
window or opened from File ▸ Open clip's settings…, fills the form with the parameters it was made with.

core/job/clip_settings.py reads and checks them. Options this machine cannot run are swapped for the nearest it can and
named, with the reason. The clip names its model by identity (core/model/identity.py): it is looked for among the
model folders this window knows (the current one, the recent ones, the data folder's models/, and the path the clip
recorded, if any) and used when found, even after the folder was moved or renamed; a note says when it was not
found. A file without this app's parameters gets one line and leaves the form as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Signal

from core.job.clip_settings import ClipSettingsError, NoteKind, read_clip_settings, runnable_request, settings_notes
from gui.form.form_model import FormModel
from gui.form.model_picker import ModelPicker
from gui.support.i18n import core_text, error_text

# What File ▸ Open clip's settings… lists (the reader also takes a PNG frame folder, by dropping it).
CLIP_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".gif", ".png", ".json")

StatusCallback = Callable[[str, int], None]


def dropped_path(mime: QMimeData) -> Path | None:
    """The one local file or folder being dragged, or None (text, several files, a remote URL)."""
    if not mime.hasUrls():
        return None
    urls = [url for url in mime.urls() if url.isLocalFile()]
    if len(urls) != 1 or len(mime.urls()) != 1:
        return None
    return Path(urls[0].toLocalFile())


class ClipReopener(QObject):
    # The notes on the clip just opened (translated, one line each); empty when there is nothing to say.
    notesChanged = Signal(list)

    def __init__(
        self,
        form: FormModel,
        model_picker: ModelPicker,
        capabilities: Callable[[], object | None],
        status: StatusCallback,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.form = form
        self.model_picker = model_picker
        self.capabilities = capabilities  # None until the engine has looked at the machine
        self.status = status
        self.notes: list[str] = []

    def open(self, path: str | Path) -> bool:
        """Fill the form from the clip at `path`; False (the form untouched, one line in the status bar) when it
        holds no parameters of this app."""
        path = Path(path)
        try:
            settings = read_clip_settings(path, self.model_picker.known_folders())
        except ClipSettingsError as exc:
            self.status(error_text(exc), 10000)
            return False
        caps = self.capabilities()
        notes: list[str] = []
        request = settings.request
        if caps is not None:
            request = runnable_request(settings, caps)  # type: ignore[arg-type]
            found = settings_notes(settings, self.model_picker.path() or None, caps)  # type: ignore[arg-type]
        else:  # the engine is still starting: the form's own check names what cannot run once it knows
            found = []
        folder = Path(settings.model_dir) if settings.model_dir else None  # found among the known folders
        current = self.model_picker.path()
        switch = folder is not None and not (current and Path(current).expanduser().resolve() == folder)
        said_below = switch  # where the model was found is said below, as what was done
        for note in found:
            if note.kind is NoteKind.MODEL_FOLDER and said_below:
                said_below = False  # the next one (an inexact match) is still worth saying
                continue
            notes.append(core_text(note.message))
        self.form.apply_request(request, lock_seed=True)
        if switch and folder is not None:
            self.model_picker.set_path(folder)
            notes.insert(
                0, self.tr("Model folder set to {folder}, where the clip's model was found.").format(folder=folder)
            )
        self.notes = notes
        self.notesChanged.emit(notes)
        self.status(
            self.tr("Loaded the settings of {name} (seed locked: Generate makes the same clip).").format(
                name=settings.source.name
            ),
            8000,
        )
        return True

    def clear_notes(self) -> None:
        if self.notes:
            self.notes = []
            self.notesChanged.emit([])
