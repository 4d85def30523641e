"""A no-op marker for user-facing engine strings that are not an error's own message.

core/ never imports Qt, so it cannot translate. Its user-facing sentences stay plain English here and are
translated where they are shown (gui.i18n.core_text looks them up in the "core" context of the Qt catalogue).
scripts/update_translations.py extracts, from core/*.py, the plain string literals passed to `_t(...)` and to
the constructors of the project's errors (`...Error(...)`, not Python's own ValueError and the like), plus module
constants named `*_ADVICE`. Messages built with f-strings carry run-time values and stay English; to translate
one, split the fixed sentence off and mark it with `_t`.
"""

from __future__ import annotations


def _t(text: str) -> str:
    """Return `text` unchanged: it only marks the string for extraction into the translation catalogue."""
    return text
