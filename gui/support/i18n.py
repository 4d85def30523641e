"""The window's language: choosing it, installing Qt's translators before any widget exists, and the Language menu.

How strings are translated
- Every visible string in gui/ goes through Qt: `self.tr("…")` inside QObject classes (the context is the class
  name), `QCoreApplication.translate("Context", "…")` in plain functions, and `QT_TRANSLATE_NOOP("Context", "…")`
  for tables built at import time, translated where they are shown. Values go in with `str.format` and named
  fields (`self.tr("{used} of {total} GB").format(…)`), so a translator can move them within the sentence.
- Engine strings from core/ (which never imports Qt) are plain English. They are translated where they are shown,
  by their English text, in the "core" context: `core_text(message)` (`error_text(error)` for a StudioError's
  message and advice). scripts/update_translations.py extracts them from core/ (see core/i18n.py for which ones).
  A message filled in from a `_t("… {name} …")` template is recognised and translated by its template; one built
  with an f-string, or without a translation, is shown in English.
- tests/gui/test_i18n.py builds the whole window in Chinese and fails on any English word left in it, and on any
  extracted string without a finished translation.
- Sources: resources/translations/contentv_studio_<language>.ts (Qt Linguist XML), compiled to the .qm next to it
  by scripts/update_translations.py (pyside6-lupdate then pyside6-lrelease). The .qm files are committed, and a
  test checks that they match their .ts. English is the source language and needs no catalogue.

Which language: `--language` for this run, else the choice saved from the Language menu, else the system's (on
Linux and macOS the POSIX variables LC_ALL, LC_MESSAGES and LANG, read here because QLocale.system() only knows
locales that are installed; elsewhere QLocale.system()). A language we have no catalogue for gets English. A change
in the menu applies at the next start: every widget sets its texts once, when it is built.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from core.errors import StudioError
from core.i18n import match_template

logger = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"
# Each language is named in its own language in the menu, so anyone can find theirs.
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
SUPPORTED_LANGUAGES = tuple(LANGUAGE_NAMES)
TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "translations"
CATALOGUE_PREFIX = "contentv_studio"
CORE_CONTEXT = "core"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Marks `text` for extraction into `context` and returns it unchanged: lupdate looks for this name. Qt's own
    returns `object` in PySide6's stubs; this one keeps tables typed as str."""
    return text


# Shown in the language just chosen, which is not installed yet: looked up by hand, so marked for extraction here.
RESTART_TITLE = QT_TRANSLATE_NOOP("LanguageMenu", "Language")
RESTART_NOTE = QT_TRANSLATE_NOOP("LanguageMenu", "The new language is used the next time ContentV Studio starts.")

_installed: list[QTranslator] = []  # kept alive here: QCoreApplication does not own installed translators
_active_language = SOURCE_LANGUAGE
_system_locale: QLocale | None = None  # the default locale before the first install_language


def catalogue_path(language: str, suffix: str = ".qm") -> Path:
    return TRANSLATIONS_DIR / f"{CATALOGUE_PREFIX}_{language}{suffix}"


def normalize_language(value: str | None) -> str | None:
    """'zh_CN.UTF-8', 'zh-Hans-CN', 'zh_SG', 'en_GB@euro' … → a supported language; None for anything else,
    including the C/POSIX locale and languages we have no catalogue for."""
    if not value:
        return None
    tag = value.split(".")[0].split("@")[0].replace("-", "_").strip()
    if not tag or tag in ("C", "POSIX"):
        return None
    parts = tag.split("_")
    language = parts[0].lower()
    if language == "en":
        return "en"
    if language == "zh":
        # Traditional-script regions read Simplified Chinese more easily than English; there is no zh_TW catalogue.
        return "zh_CN"
    return None


def language_from_environment(env: Mapping[str, str]) -> str | None:
    """The language the POSIX locale variables ask for: the first set one of LC_ALL, LC_MESSAGES, LANG decides
    (C/POSIX or an unsupported language mean English); LANGUAGE, a preference list, goes first unless that locale
    is C, as in GNU gettext. None when none of them is set (Windows, a bare macOS session)."""
    locale_value = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    if locale_value.split(".")[0] not in ("C", "POSIX"):
        for item in env.get("LANGUAGE", "").split(":"):
            found = normalize_language(item)
            if found:
                return found
    if not locale_value:
        return None
    return normalize_language(locale_value) or SOURCE_LANGUAGE


def system_language(env: Mapping[str, str] | None = None) -> str:
    from_env = language_from_environment(os.environ if env is None else env)
    if from_env is not None:
        return from_env
    for tag in QLocale.system().uiLanguages():
        found = normalize_language(tag)
        if found:
            return found
    return SOURCE_LANGUAGE


def choose_language(cli_language: str | None, saved_language: str = "", env: Mapping[str, str] | None = None) -> str:
    """`--language` for this run, else the saved menu choice ('' follows the system), else the system's."""
    for explicit in (cli_language, saved_language):
        found = normalize_language(explicit)
        if found:
            return found
    return system_language(env)


def active_language() -> str:
    return _active_language


def install_language(app: QCoreApplication, language: str) -> str:
    """Install the translators for `language` (replacing earlier ones); returns the language now in effect, which
    is English when the catalogue is missing. Call before the first widget is built: texts are set once."""
    global _active_language
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    language = normalize_language(language) or SOURCE_LANGUAGE
    if isinstance(app, QApplication) and app.topLevelWidgets():
        logger.warning("Language installed after widgets were built; those keep their texts until restarted")
    if language != SOURCE_LANGUAGE:
        ours = QTranslator(app)
        if not ours.load(str(catalogue_path(language))):
            logger.warning("No translation catalogue at %s; the window stays in English", catalogue_path(language))
            language = SOURCE_LANGUAGE
        else:
            app.installTranslator(ours)
            _installed.append(ours)
            # Qt's own texts: standard buttons (Cancel, Close), file dialogs, context menus of text fields.
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            qtbase = QTranslator(app)
            if qtbase.load(f"qtbase_{language}", qt_dir):
                app.installTranslator(qtbase)
                _installed.append(qtbase)
            else:
                logger.info("Qt's own %s catalogue was not found in %s", language, qt_dir)
    # Numbers and Qt's own dialogs follow the language; English keeps the system's formats (a German user who
    # picks English still gets decimal commas).
    global _system_locale
    if _system_locale is None:
        _system_locale = QLocale()
    QLocale.setDefault(QLocale(language) if language != SOURCE_LANGUAGE else _system_locale)
    _active_language = language
    logger.info("Interface language: %s", language)
    return language


def core_text(text: str) -> str:
    """An engine (core/) message in the interface language; the English text when it has no translation.

    A message filled in from a `_t("… {name} …")` template (core/i18n.py) is translated by its template, and the
    same values are put into the translation."""
    if not text or active_language() == SOURCE_LANGUAGE:
        return text
    translated = QCoreApplication.translate(CORE_CONTEXT, text)
    if translated != text:
        return translated
    found = match_template(text)
    if found is None:
        return text
    template, values = found
    translated_template = QCoreApplication.translate(CORE_CONTEXT, template)
    if translated_template == template:
        return text
    # A field that is itself an engine word ("width") is translated too; paths and numbers stay as they are.
    values = {name: core_text(value) for name, value in values.items()}
    try:
        return translated_template.format(**values)
    except (KeyError, IndexError, ValueError):  # a translation with broken fields: English beats a crash
        logger.warning("Translation of %r has fields that do not match; shown in English", template)
        return text


def error_text(error: StudioError) -> str:
    """A project error's message and advice, translated, as one text (what `str(error)` is in English)."""
    return " ".join(part for part in (core_text(error.message), core_text(error.advice)) if part)


def _translate_into(language: str, context: str, text: str) -> str:
    """`text` in a language that is not installed (the restart note speaks the language just chosen)."""
    if language == active_language():
        return QCoreApplication.translate(context, text)
    if language == SOURCE_LANGUAGE:
        return text
    translator = QTranslator()
    if translator.load(str(catalogue_path(language))):
        return translator.translate(context, text) or text
    return text


class LanguageMenu(QMenu):
    """Language → Follow the system / English / 简体中文. The choice is saved through `save` and takes effect at
    the next start, which a note says in the chosen language."""

    def __init__(self, saved_language: str, save: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("&Language"))
        self.setObjectName("languageMenu")
        self._save = save
        self.note: QMessageBox | None = None
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self.actions_by_language: dict[str, QAction] = {}
        choices = [("", self.tr("Follow the system"))] + [(code, name) for code, name in LANGUAGE_NAMES.items()]
        current = normalize_language(saved_language) or ""
        for code, label in choices:
            action = QAction(label, self)
            action.setCheckable(True)
            action.setChecked(code == current)
            action.setData(code)
            action.setObjectName(f"languageAction_{code or 'system'}")
            self._group.addAction(action)
            self.addAction(action)
            self.actions_by_language[code] = action
        self._group.triggered.connect(self._chosen)

    def _chosen(self, action: QAction) -> None:
        code = str(action.data() or "")
        self._save(code)
        effective = code or system_language()
        if effective == active_language():
            return
        title = _translate_into(effective, "LanguageMenu", RESTART_TITLE)
        text = _translate_into(effective, "LanguageMenu", RESTART_NOTE)
        self.note = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self.window())
        self.note.setObjectName("languageRestartNote")
        self.note.open()  # not exec(): a note must not block the window (or a test)
