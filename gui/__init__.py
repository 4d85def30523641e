"""ContentV Studio's desktop window (PySide6). It imports `core/`; `core/` never imports it.

torch, diffusers and transformers are imported only inside functions that run on the generation worker's
thread, so the window appears before those heavy imports finish.
"""

import os as _os

# Qt Multimedia lists every optional library it could not load (PipeWire, VA-API…) and FFmpeg's stream dump on
# stderr; that is noise for users (playback errors still arrive through QMediaPlayer.errorOccurred). It must be
# set before QtMultimedia is first imported, hence here.
_os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
