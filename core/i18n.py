"""A no-op marker for user-facing engine strings that are not an error's own message.

core/ never imports Qt, so it cannot translate. Its user-facing sentences stay plain English here and are
translated where they are shown (gui.support.i18n.core_text looks them up in the "core" context of the Qt catalogue).
scripts/update_translations.py extracts, from core/**/*.py, the plain string literals passed to `_t(...)` and to
the constructors of the project's errors (`...Error(...)`, not Python's own ValueError and the like), plus module
constants named `*_ADVICE`.

A message with run-time values is written as a template with named fields, `_t("… {path} …").format(path=…)`:
`_t` remembers the template, so the window can recognise the filled-in message, translate the template and fill
the same values into the translation (see `match_template`). f-string messages cannot be translated.
"""

from __future__ import annotations

import re
import threading

_templates: dict[str, re.Pattern[str]] = {}  # template → a pattern that matches it filled in
_lock = threading.Lock()
_FIELD = re.compile(r"\{(\w+)\}")


def _t(text: str) -> str:
    """Return `text` unchanged: it marks the string for extraction into the translation catalogue, and a template
    with `{name}` fields is remembered so that its filled-in form can be translated where it is shown."""
    if "{" in text and text not in _templates:
        pattern = _template_pattern(text)
        if pattern is not None:
            with _lock:
                _templates[text] = pattern
    return text


def _template_pattern(template: str) -> re.Pattern[str] | None:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for field in _FIELD.finditer(template):
        parts.append(re.escape(template[position : field.start()]))
        name = field.group(1)
        # A field used twice must hold the same value both times.
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        position = field.end()
    if not seen:
        return None
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)


def match_template(message: str) -> tuple[str, dict[str, str]] | None:
    """The remembered template that `message` is a filled-in form of, with the values of its fields; None when
    no template fits. The longest fitting template wins (the most fixed text, the least left to fields)."""
    with _lock:
        candidates = list(_templates.items())
    best: tuple[str, dict[str, str]] | None = None
    for template, pattern in candidates:
        found = pattern.fullmatch(message)
        if found is not None and (best is None or len(template) > len(best[0])):
            best = (template, found.groupdict())
    return best
