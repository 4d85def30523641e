"""Group core/'s flat modules into folders, one folder per part of the engine, the way diffusers groups `models/`,
`pipelines/`, `hooks/` and `schedulers/`: a reader finds the part from the folder names.

    python scripts/regroup_core.py [--dry-run]

What a run does, from the repository root it lives in:
1. Refuses (exit 1, nothing changed) when core/ holds a top-level module that MODULES below does not place: an
   unplaced newcomer must be given a room first.
2. `git mv`s each module to its room (history follows) and writes each room's `__init__.py` (one docstring line).
   A module already at its new place is skipped; a module in MODULES that does not exist yet is skipped too, so
   the same script runs before and after other branches add their modules.
3. Rewrites every reference in the repository's tracked text files (Python, spec, toml, Markdown, text, shell,
   workflows): `from core.X import`, `import core.X [as Y]`, `core.X.attr`, `"core.X…"` strings (monkeypatch
   targets, logger names), `from core import X` (split per room, aliased where a module got a new name) and
   `core/X.py` paths in prose. Names match whole (`core.cli` never touches `core.cli_finish`).
4. Regenerates the `core/` part of README.md's "Project layout" from the folders as they now are.
5. Breaks a docstring or comment line that a longer path pushed past 120 characters, then sorts the imports and
   formats the Python files it changed (ruff), since a moved import sorts elsewhere.
Not touched: resources/ (the .ts catalogues keep no source locations), tests/data/, JSON files. The core strings'
order changes with the file order, so a string not yet in the catalogue lands elsewhere: refresh the catalogues
(`scripts/update_translations.py`) before or after the move; a catalogue that was current stays current.

Running it twice changes nothing the second time. `--dry-run` says what would move and which files would change,
and writes nothing.

`core.engine` is the one old name that is also a new one (the room holding the engine's parts; the `Engine` class
moves to `core/engine/runner.py`). A dotted use followed by a room member (`core.engine.pipeline`) is new and
kept; followed by anything else (`core.engine.Engine`) it is old and rewritten; `import core.engine` and
`from core.engine import Engine` are old; a bare `"core.engine"` string is rewritten only by the run that moves
the module.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"
SELF = Path(__file__).resolve()

# Each room: its folder under core/ and the one line its __init__.py says.
ROOMS: dict[str, str] = {
    "engine": "The engine: the loaded pipeline across jobs (runner.py), the transformer, its speed and memory.",
    "parallel": "One clip over several GPUs or processes: the ranks, their layout and the split of the work.",
    "model": "The model folder: checking, loading, downloading and naming a ContentV model; the tiny demo model.",
    "job": "A job: its typed request and result, progress and previews, time left, a clip's settings read back.",
    "output": "A finished clip: the mp4 and its parameters, exports, PNG frames, frame rates, decoding, fidelity.",
    "store": "What outlives the process: the job history, the job journal, durable writes, state folders.",
}

# Every module of core/ (by its current name) → its new dotted path. A module that stays at the top maps to itself.
# `context_parallel`, `ranks` and `parallel_plan` are being written on other branches; they are placed here ahead.
MODULES: dict[str, str] = {
    # the top: the command line, the estimator, errors and the translation marker
    "cli": "core.cli",
    "cli_finish": "core.cli_finish",
    "cli_history": "core.cli_history",
    "estimate": "core.estimate",
    "errors": "core.errors",
    "i18n": "core.i18n",
    # core/engine/
    "engine": "core.engine.runner",
    "pipeline": "core.engine.pipeline",
    "transformer": "core.engine.transformer",
    "attention": "core.engine.attention",
    "feed_forward": "core.engine.feed_forward",
    "step_cache": "core.engine.step_cache",
    "compile": "core.engine.compile",
    "speed": "core.engine.speed",
    "quantize": "core.engine.quantize",
    "memory": "core.engine.memory",
    "memtrack": "core.engine.memtrack",
    "devices": "core.engine.devices",
    # core/parallel/
    "rank_context": "core.parallel.rank_context",
    "ranks": "core.parallel.ranks",
    "context_parallel": "core.parallel.sequence_split",
    "parallel_plan": "core.parallel.plan",
    # core/model/
    "checkpoint": "core.model.checkpoint",
    "weights_loader": "core.model.weights_loader",
    "model_sizes": "core.model.sizes",
    "model_identity": "core.model.identity",
    "download": "core.model.download",
    "demo_model": "core.model.demo",
    # core/job/
    "request": "core.job.request",
    "progress": "core.job.progress",
    "preview": "core.job.preview",
    "time_left": "core.job.time_left",
    "clip_settings": "core.job.clip_settings",
    # core/output/
    "video": "core.output.video",
    "export": "core.output.export",
    "png_frames": "core.output.png_frames",
    "frame_rate": "core.output.frame_rate",
    "h264_levels": "core.output.h264_levels",
    "clip_frames": "core.output.clip_frames",
    "quality": "core.output.quality",
    # core/store/
    "history": "core.store.history",
    "history_recovery": "core.store.history_recovery",
    "journal": "core.store.journal",
    "durable": "core.store.durable",
    "state_dirs": "core.store.state_dirs",
}

# Packages under core/ that stay where they are (already a room of their own).
KEPT_PACKAGES = ("finish",)

# README.md's layout: what each module holds, by its new path (README.md's wording). A module missing here is
# described by the first sentence of its own docstring.
DESCRIPTIONS: dict[str, str] = {
    "core.cli": "the command line",
    "core.cli_finish": "the `upscale` and `interpolate` commands",
    "core.cli_history": "a `generate` job recorded in the window's history",
    "core.estimate": "predicted GPU memory per stage, host RAM and time of a job, and the per-card `recommend()`",
    "core.errors": "errors with advice and exit kinds",
    "core.i18n": "the marker for user-facing engine strings",
    "core.engine.runner": "`Engine`, one loaded pipeline across jobs",
    "core.engine.pipeline": "encode, denoise, decode",
    "core.engine.transformer": "the 3D MMDiT",
    "core.engine.attention": "joint attention on the chosen kernel, slicing",
    "core.engine.feed_forward": "the blocks' feed-forward a slice of 8192 tokens at a time",
    "core.engine.step_cache": "the off/fast/faster step caches and MagCache's per-model calibration",
    "core.engine.compile": "regional `torch.compile` of the repeated blocks and its measured compile time",
    "core.engine.speed": "applies a job's speed options — kernel, step cache, compile — and reports what ran",
    "core.engine.quantize": "int8/fp8 weight storage",
    "core.engine.memory": "placements and switches",
    "core.engine.memtrack": "peak tensor memory on any device",
    "core.engine.devices": "what this machine can run",
    "core.parallel.rank_context": "a rank's place in the split's layout and the process groups it talks over",
    "core.parallel.ranks": "`ParallelEngine`: the rank processes a split job runs on",
    "core.parallel.sequence_split": "diffusers' context parallelism, Ulysses or ring, on the transformer",
    "core.parallel.plan": "which split a job runs with, and why",
    "core.model.checkpoint": "validation, loading",
    "core.model.weights_loader": "safetensors to the final dtype, int8 or pinned form, tensor by tensor",
    "core.model.sizes": "the shapes each component must have, checked before loading",
    "core.model.identity": "a model folder's identity — name, hub id, config hash — and finding it again by it",
    "core.model.download": "downloading ContentV-8B from the Hugging Face Hub",
    "core.model.demo": "a tiny random-weight model in the official layout",
    "core.job.request": "the typed job request and result",
    "core.job.progress": "stages, progress and cancelling",
    "core.job.preview": "cheap RGB previews of the latents while they denoise",
    "core.job.time_left": "the time left of a job and the queue, from this machine's past jobs",
    "core.job.clip_settings": "a clip's or an export's parameters read back, and what of them this machine can run",
    "core.output.video": "the mp4, BT.709-tagged, with its parameters",
    "core.output.export": "WebM, GIF and PNG-frame exports of a finished clip",
    "core.output.png_frames": "the folder of PNG frames with the parameters",
    "core.output.frame_rate": "exact frame rates: 24, 24000/1001",
    "core.output.h264_levels": "the H.264 level table and the bitrate cap a clip is encoded within",
    "core.output.clip_frames": "a clip decoded once, scaled to fit, for the compare view",
    "core.output.quality": "PSNR and SSIM of frames against a reference clip",
    "core.store.history": "the SQLite job history",
    "core.store.history_recovery": "opening a damaged or locked job history without losing anything",
    "core.store.journal": "each job's crash-safe journal that `resume` continues from",
    "core.store.durable": "fsync of files and folders, and whether a recorded process still runs",
    "core.store.state_dirs": "the user data folder the CLI and the window share",
}
FINISH_DESCRIPTION = (
    "upscaling and frame interpolation of a finished clip (`clip.py`: `FinishRequest` → `finish_clip` → "
    "`FinishResult`; `upscale.py`, `interpolate.py`, `networks.py`, `models.py`)"
)

# Which tracked files are text to rewrite.
TEXT_SUFFIXES = {".py", ".spec", ".toml", ".md", ".txt", ".sh", ".yml", ".yaml", ".cfg", ".ini", ".iss"}
TEXT_NAMES = {".ci/run", "packaging/linux/AppRun"}

README_START = re.compile(r"^- `core/` — .*$", re.M)
README_END = re.compile(r"^- `gui/` — ", re.M)


def fail(message: str) -> None:
    print(f"regroup_core: {message}", file=sys.stderr)
    raise SystemExit(1)


def module_path(dotted: str, root: Path = ROOT) -> Path:
    return root.joinpath(*dotted.split(".")).with_suffix(".py")


def room_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) == 3 else None


def room_members(room: str, root: Path = ROOT) -> set[str]:
    """The names a room's package holds: those MODULES places there and whatever is in its folder already."""
    members = {new.rsplit(".", 1)[1] for new in MODULES.values() if room_of(new) == room}
    folder = root / "core" / room
    if folder.is_dir():
        members |= {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
        members |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
    return members


# ---- what moves ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    old: str  # module name under core/
    new: str  # new dotted path
    state: str  # "move", "moved" (already there) or "absent" (not written yet)

    @property
    def source(self) -> Path:
        return ROOT / "core" / f"{self.old}.py"

    @property
    def target(self) -> Path:
        return module_path(self.new)


def unplaced_modules(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (root / "core").glob("*.py") if p.stem != "__init__" and p.stem not in MODULES)


def plan_moves(root: Path = ROOT) -> list[Move]:
    moves = []
    for old, new in MODULES.items():
        if new == f"core.{old}":
            continue
        source, target = root / "core" / f"{old}.py", module_path(new, root)
        if source.exists() and target.exists():
            fail(f"both core/{old}.py and {target.relative_to(root)} exist: merge them by hand, then run again")
        state = "move" if source.exists() else "moved" if target.exists() else "absent"
        moves.append(Move(old, new, state))
    return moves


def is_tracked(path: Path) -> bool:
    done = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=ROOT, capture_output=True)
    return done.returncode == 0


def apply_moves(moves: list[Move]) -> list[Path]:
    """Moves the files and writes the rooms' __init__.py; returns the new files git should know."""
    added = []
    rooms_needed = {room_of(m.new) for m in moves if m.state in ("move", "moved")}
    for room in sorted(r for r in rooms_needed if r):
        init = ROOT / "core" / room / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(f'"""{ROOMS[room]}"""\n', encoding="utf-8")
            added.append(init)
    for move in moves:
        if move.state != "move":
            continue
        if is_tracked(move.source):
            subprocess.run(["git", "mv", str(move.source), str(move.target)], cwd=ROOT, check=True)
        else:  # not committed yet: move it all the same, and say so
            shutil.move(move.source, move.target)
            print(f"note: core/{move.old}.py was not tracked by git; moved without `git mv`")
    return added


# ---- rewriting references --------------------------------------------------------------------------------------


class Rewriter:
    """Rewrites old module references in a text. `moving` holds the old names this run moves (see the module
    docstring on `core.engine`)."""

    def __init__(self, moving: set[str], root: Path = ROOT):
        self.changed = {old: new for old, new in MODULES.items() if new != f"core.{old}"}
        # An old name that is also a room (core.engine): its uses need a closer look.
        self.ambiguous = {old: room_members(old, root) for old in self.changed if old in ROOMS}
        self.moving = moving
        self.counts: dict[str, int] = {}  # references rewritten, by old name
        names = "|".join(sorted(map(re.escape, self.changed), key=len, reverse=True))
        self.dotted = re.compile(rf"(?<![\w.])core\.({names})(?!\w)")
        self.path = re.compile(rf"(?<![\w.-])core/({names})\.py(?!\w)")
        self.from_core = re.compile(
            r"^(?P<indent>[ \t]*)from[ \t]+core[ \t]+import[ \t]+"
            r"(?P<names>\([^)]*\)|[^\n#(]+?)(?P<comment>[ \t]*#[^\n]*)?[ \t]*$",
            re.M,
        )

    def rewrite(self, text: str) -> str:
        text = self.dotted.sub(lambda m: self._counted(m.group(1), self._dotted(m, text), m.group(0)), text)
        text = self.path.sub(lambda m: self._counted(m.group(1), self._path(m.group(1)), m.group(0)), text)
        return self.from_core.sub(self._from_core, text)

    def _counted(self, old: str, new: str, was: str) -> str:
        if new != was:
            self.counts[old] = self.counts.get(old, 0) + 1
        return new

    def _path(self, old: str) -> str:
        return "/".join(self.changed[old].split(".")) + ".py"

    def _dotted(self, match: re.Match[str], text: str) -> str:
        old = match.group(1)
        new = self.changed[old]
        if old not in self.ambiguous:
            return new
        members = self.ambiguous[old]
        after = text[match.end() :]
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()]
        attribute = re.match(r"\.(\w+)", after)
        if attribute:  # core.engine.X: new when X is a room member
            return match.group(0) if attribute.group(1) in members else new
        if re.search(r"\bfrom\s+$", before):  # from core.engine import …
            imported = re.match(r"\s+import\s+(\([^)]*\)|[^\n#]+)", after)
            if imported:
                names = {n.split()[0] for n in imported.group(1).strip("()").replace("\n", " ").split(",") if n.strip()}
                return match.group(0) if names and names <= members else new
        if re.search(r"\bimport\s+$", before):  # import core.engine [as x]: the package alone is never meant
            return new
        return new if old in self.moving else match.group(0)

    def _from_core(self, match: re.Match[str]) -> str:
        names = [n.strip() for n in match.group("names").strip("()").replace("\n", " ").split(",") if n.strip()]
        kept: list[str] = []
        by_package: dict[str, list[str]] = {}
        for name in names:
            parts = name.split()
            module, binding = parts[0], parts[-1]  # "x" or "x as y"
            if module not in self.changed:
                kept.append(name)
                continue
            package, leaf = self.changed[module].rsplit(".", 1)
            self.counts[module] = self.counts.get(module, 0) + 1
            by_package.setdefault(package, []).append(leaf if leaf == binding else f"{leaf} as {binding}")
        if not by_package:
            return match.group(0)
        indent, comment = match.group("indent"), (match.group("comment") or "")
        lines = ([f"from core import {', '.join(kept)}"] if kept else []) + [
            f"from {package} import {', '.join(leaves)}" for package, leaves in by_package.items()
        ]
        lines[0] += comment
        return "\n".join(indent + line for line in lines)


def text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = []
    for name in listed.decode("utf-8").split("\0"):
        path = ROOT / name
        if not name or path.resolve() == SELF or not path.is_file():
            continue
        if name.startswith(("resources/", "tests/data/")):
            continue
        if path.suffix in TEXT_SUFFIXES or name in TEXT_NAMES:
            files.append(path)
    return files


LINE_LIMIT = 120  # pyproject.toml's [tool.ruff] line-length
NEW_REFERENCE = re.compile(r"core[./](?:" + "|".join(ROOMS) + r")[./]")


def wrap_long_lines(text: str) -> str:
    """A longer path made a docstring or comment line too long for ruff (which formats code, not prose): break it
    at the last space that fits. Code lines are left to `ruff format`."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    prose = set()  # line numbers inside docstrings and other bare string statements
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            prose |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = text.split("\n")
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        comment = re.match(r"^(\s*)# ", line)
        while len(line) > LINE_LIMIT and NEW_REFERENCE.search(line) and (number in prose or comment):
            indent = re.match(r"\s*", line).group(0) + ("# " if comment else "")
            cut = line.rfind(" ", len(indent) + 1, LINE_LIMIT + 1)
            if cut <= len(indent):
                break
            out.append(line[:cut])
            line = indent + line[cut + 1 :]
        out.append(line)
    return "\n".join(out)


# ---- README.md's layout ----------------------------------------------------------------------------------------


def first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    sentence = re.split(r"(?<=[.:])\s", " ".join(doc.split()), maxsplit=1)[0].rstrip(".:")
    return sentence[:1].lower() + sentence[1:]


def describe(dotted: str, root: Path = ROOT) -> str:
    return DESCRIPTIONS.get(dotted) or first_sentence(module_path(dotted, root))


def present_modules(folder: Path, dotted_prefix: str) -> list[str]:
    """The modules a folder holds, in MODULES' order, then any others by name."""
    here = {f"{dotted_prefix}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    ordered = [new for new in MODULES.values() if new in here]
    return ordered + sorted(here - set(ordered))


def readme_layout(root: Path = ROOT) -> str:
    def bullet(head: str, body: str, indent: str = "  ") -> str:
        return textwrap.fill(
            f"{head}{body}",
            width=117,
            initial_indent=f"{indent}- ",
            subsequent_indent=f"{indent}  ",
            break_on_hyphens=False,
        )

    def listing(modules: list[str]) -> str:
        return "; ".join(f"`{m.rsplit('.', 1)[1]}.py` ({describe(m, root)})" for m in modules)

    head = (
        "- `core/` — the engine, no Qt, one folder per part (`core/__init__.py` holds `__version__`); at the top "
        "the command line, the estimator and what every part uses:"
    )
    lines = [textwrap.fill(head, width=117, subsequent_indent="  ")]
    top = present_modules(root / "core", "core")
    lines.append(bullet("", listing(top) + ";"))
    for room in ROOMS:
        folder = root / "core" / room
        if not folder.is_dir():
            continue
        modules = present_modules(folder, f"core.{room}")
        packages = sorted(p.name for p in folder.iterdir() if (p / "__init__.py").is_file())
        body = listing(modules) + "".join(f"; `{p}/`" for p in packages)
        summary = ROOMS[room].split(":", 1)[0].rstrip(".")
        lines.append(bullet(f"`{room}/` — {summary[:1].lower() + summary[1:]}: ", body + ";"))
    for package in KEPT_PACKAGES:
        if (root / "core" / package / "__init__.py").is_file():
            lines.append(bullet(f"`{package}/` — ", FINISH_DESCRIPTION + "."))
    return "\n".join(lines) + "\n"


def rewrite_readme(text: str, root: Path = ROOT) -> str:
    start, end = README_START.search(text), README_END.search(text)
    if not start or not end or end.start() < start.start():
        print("note: README.md's layout section was not found; update it by hand")
        return text
    return text[: start.start()] + readme_layout(root) + text[end.start() :]


# ---- the run ---------------------------------------------------------------------------------------------------


def ruff(paths: list[Path]) -> None:
    tool = ROOT / ".venv" / "bin" / "ruff"
    exe = str(tool) if tool.exists() else shutil.which("ruff")
    if exe is None:
        print("note: ruff not found; run `ruff check --select I --fix . && ruff format .` yourself")
        return
    names = [str(p) for p in paths]
    subprocess.run([exe, "check", "--select", "I", "--fix", "--quiet", *names], cwd=ROOT, check=False)
    subprocess.run([exe, "format", "--quiet", *names], cwd=ROOT, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    args = parser.parse_args(argv)

    unplaced = unplaced_modules()
    if unplaced:
        fail(
            "core/ holds modules MODULES does not place: "
            + ", ".join(f"core/{n}.py" for n in unplaced)
            + ". Add each to MODULES in scripts/regroup_core.py (its room or the top), then run again."
        )
    for folder in sorted(p for p in CORE.iterdir() if (p / "__init__.py").is_file()):
        if folder.name not in ROOMS and folder.name not in KEPT_PACKAGES:
            print(f"note: core/{folder.name}/ is a package this script does not know; it stays where it is")

    moves = plan_moves()
    for move in moves:
        where = f"core/{move.old}.py → {move.target.relative_to(ROOT)}"
        print(
            {"move": f"move {where}", "moved": f"already moved: {where}", "absent": f"not here yet: {where}"}[
                move.state
            ]
        )
    moving = {m.old for m in moves if m.state == "move"}

    if args.dry_run:
        # The rewrite as the moves would leave it: room members as they will be.
        rewriter = Rewriter(moving)
        would = [p for p in text_files() if rewriter.rewrite(p.read_text(encoding="utf-8")) != p.read_text("utf-8")]
        print(f"dry run: {len(moving)} module(s) would move; {len(would)} file(s) would be rewritten:")
        for path in would:
            print(f"  {path.relative_to(ROOT)}")
        return 0

    added = apply_moves(moves)
    rewriter = Rewriter(moving)
    changed: list[Path] = []
    for path in text_files():
        before = path.read_text(encoding="utf-8")
        after = rewriter.rewrite(before)
        if path.suffix == ".py" and after != before:
            after = wrap_long_lines(after)
        if path.name == "README.md" and path.parent == ROOT:
            after = rewrite_readme(after)
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    python = [p for p in [*changed, *added] if p.suffix == ".py"]
    if python:
        ruff(python)
    if added:
        subprocess.run(["git", "add", *map(str, added)], cwd=ROOT, check=True)
    total = sum(rewriter.counts.values())
    print(f"moved {len(moving)} module(s); rewrote {total} reference(s) in {len(changed)} file(s):")
    for old, count in sorted(rewriter.counts.items(), key=lambda item: -item[1]):
        print(f"  {count:4d}  core.{old} → {MODULES[old]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
