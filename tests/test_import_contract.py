"""`core/` is the engine without a window: it never imports Qt (PySide6, shiboken6) or `gui/`.

Checked twice: statically (every import statement in every core module, also those inside functions) and by
importing every core module in a fresh interpreter in which any attempt to import Qt or gui fails."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
FORBIDDEN = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "qtpy", "gui")


def core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def forbidden_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        found += [f"{path.relative_to(root)}:{node.lineno}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def test_the_static_walk_catches_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from PySide6.QtCore import QObject\n    import gui.app\n    import json\n")
    assert len(forbidden_imports(sample, tmp_path)) == 2


def test_no_core_module_imports_qt_or_gui_statically():
    problems = [p for module in core_modules() for p in forbidden_imports(module)]
    assert core_modules(), "no core modules found"
    assert problems == [], "core/ must not import Qt or gui/:\n" + "\n".join(problems)


BLOCKER = """
import importlib, importlib.abc, pkgutil, sys
FORBIDDEN = {forbidden!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"core imported {{name}}")
        return None

for name in list(sys.modules):
    if name.split(".")[0] in FORBIDDEN:
        del sys.modules[name]
sys.meta_path.insert(0, Block())
import core
failed = []
for info in pkgutil.walk_packages(core.__path__, "core."):
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        failed.append(f"{{info.name}}: {{exc}}")
loaded = sorted(n for n in sys.modules if n.split(".")[0] in FORBIDDEN)
print("FAILED", failed)
print("LOADED", loaded)
sys.exit(1 if failed or loaded else 0)
"""


def test_every_core_module_imports_with_qt_blocked():
    code = BLOCKER.format(forbidden=set(FORBIDDEN))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
