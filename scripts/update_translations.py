"""Refresh the translation catalogues: extract every translatable string, merge into the .ts files, compile the .qm.

    python scripts/update_translations.py [--check]

1. pyside6-lupdate reads gui/**/*.py and main.py (self.tr, QCoreApplication.translate, QT_TRANSLATE_NOOP) plus the
   engine's user-facing strings from core/ (see core/i18n.py: literals passed to `_t(...)` and to error
   constructors, and `*_ADVICE` constants; a `_t("… {name} …")` template is extracted as the template), which
   this script lists in a temporary file as `QCoreApplication.translate("core", "...")` calls. Existing
   translations are kept; strings no longer in the code are dropped (-no-obsolete); no source locations are
   stored, so the .ts only changes when strings do.
2. pyside6-lrelease compiles each .ts to the .qm beside it (the app loads the .qm; both are committed).

Running it twice changes nothing the second time. `--check` exits 1 when a .ts or .qm would change (for CI).
`--untranslated` prints what still lacks a translation as JSON ({"context": {"source": ""}}); fill it in and pass
it back with `--apply FILE.json --language zh_CN` to write the translations without Qt Linguist.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS_DIR = ROOT / "resources" / "translations"
CATALOGUE_PREFIX = "contentv_studio"
LANGUAGES = ("zh_CN",)  # English is the source language: no catalogue
CORE_CONTEXT = "core"


def qt_tool(name: str) -> str:
    """pyside6-lupdate / pyside6-lrelease: beside this Python first (the venv), then on PATH."""
    for folder in (Path(sys.executable).parent, Path(sys.executable).resolve().parent):
        for candidate in (folder / name, folder / f"{name}.exe"):
            if candidate.exists():
                return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6 (it ships the tool) into this Python's environment")
    return found


def catalogue(language: str, suffix: str) -> Path:
    return TRANSLATIONS_DIR / f"{CATALOGUE_PREFIX}_{language}{suffix}"


def _callee_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value else None


def core_strings(core_dir: Path = ROOT / "core") -> list[str]:
    """The engine's user-facing strings, in file order without repeats (see core/i18n.py for the rules)."""
    found: dict[str, None] = {}
    for path in sorted(core_dir.rglob("*.py")):  # core/finish/ and any other package too
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _callee_name(node)
                # The project's errors (core/errors.py), not Python's own (ValueError: a programming error).
                if name == "_t" or (name.endswith("Error") and not hasattr(builtins, name)):
                    for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                        text = _literal(arg)
                        if text is not None:
                            found[text] = None
            elif isinstance(node, ast.Assign) and node in tree.body:
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                text = _literal(node.value)
                if text is not None and any(t.isupper() and t.endswith("_ADVICE") for t in targets):
                    found[text] = None
    return list(found)


def write_core_source(strings: list[str], folder: Path) -> Path:
    path = folder / "core_strings.py"
    lines = ["from PySide6.QtCore import QCoreApplication", ""]
    lines += [f"QCoreApplication.translate({CORE_CONTEXT!r}, {text!r})" for text in strings]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def source_files() -> list[Path]:
    return [*sorted((ROOT / "gui").rglob("*.py")), ROOT / "main.py"]


def update(check: bool = False) -> bool:
    """Refresh every catalogue; returns True when something changed (with check=True, nothing is written)."""
    lupdate, lrelease = qt_tool("pyside6-lupdate"), qt_tool("pyside6-lrelease")
    TRANSLATIONS_DIR.mkdir(parents=True, exist_ok=True)
    changed = False
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        sources = [*source_files(), write_core_source(core_strings(), tmp_dir)]
        for language in LANGUAGES:
            ts, qm = catalogue(language, ".ts"), catalogue(language, ".qm")
            work_ts, work_qm = tmp_dir / ts.name, tmp_dir / qm.name
            if ts.exists():
                shutil.copyfile(ts, work_ts)
            run = [lupdate, *map(str, sources), "-locations", "none", "-no-obsolete", "-target-language", language]
            subprocess.run([*run, "-ts", str(work_ts)], check=True, capture_output=True, text=True)
            subprocess.run([lrelease, str(work_ts), "-qm", str(work_qm)], check=True, capture_output=True, text=True)
            for new, old in ((work_ts, ts), (work_qm, qm)):
                if old.exists() and old.read_bytes() == new.read_bytes():
                    continue
                changed = True
                print(f"{'would change' if check else 'updated'}: {old.relative_to(ROOT)}")
                if not check:
                    shutil.copyfile(new, old)
            print(f"{language}: {unfinished_count(work_ts)} string(s) without a translation")
    return changed


def unfinished_count(ts: Path) -> int:
    return sum(1 for t in ET.parse(ts).iter("translation") if t.get("type") == "unfinished")


def _messages(tree: ET.ElementTree) -> Iterator[tuple[str, str, ET.Element]]:
    """(context, source, <translation> element) for each message of a parsed .ts."""
    for context in tree.getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is not None:
                yield context.findtext("name", ""), message.findtext("source", ""), translation


def untranslated(language: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for context, source, translation in _messages(ET.parse(catalogue(language, ".ts"))):
        if translation.get("type") == "unfinished" or not translation.text:
            found.setdefault(context, {})[source] = ""
    return found


def apply_translations(language: str, table: dict[str, dict[str, str]]) -> int:
    """Write {context: {source: translation}} into the .ts (empty translations are skipped); returns how many."""
    ts = catalogue(language, ".ts")
    tree = ET.parse(ts)
    applied = 0
    for context, source, translation in _messages(tree):
        text = table.get(context, {}).get(source, "")
        if text:
            forms = translation.findall("numerusform")
            for form in forms:  # a %n message: Chinese has one plural form, so every form reads the same
                form.text = text
            if not forms:
                translation.text = text
            translation.attrib.pop("type", None)
            applied += 1
    if applied:
        tree.write(ts, encoding="utf-8", xml_declaration=True)  # lupdate rewrites it in its own layout next
    return applied


def main(argv: list[str] | None = None) -> int:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when an update is due")
    parser.add_argument("--untranslated", action="store_true", help="print the strings without a translation (JSON)")
    parser.add_argument("--apply", metavar="FILE.json", help="write translations from FILE.json, then update")
    parser.add_argument("--language", default=LANGUAGES[0], choices=LANGUAGES)
    args = parser.parse_args(argv)
    if args.untranslated:
        print(json.dumps(untranslated(args.language), ensure_ascii=False, indent=1))
        return 0
    if args.apply:
        table = json.loads(Path(args.apply).read_text(encoding="utf-8"))
        print(f"{apply_translations(args.language, table)} translation(s) written")
    changed = update(check=args.check)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
