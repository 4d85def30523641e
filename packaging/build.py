"""Build ContentV Studio as a standalone application with PyInstaller.

    python packaging/build.py                 build dist/ContentVStudio/ and the platform's package
    python packaging/build.py --if-stale      reuse dist/ when nothing that goes into it changed
    python packaging/build.py --no-excludes   build without the exclusions (to measure what they save)

On Linux this writes dist/ContentVStudio-<version>-linux-x86_64[-cpu].tar.gz and dist/AppDir/ (packed into an
AppImage when appimagetool is on PATH); on Windows it compiles the Inno Setup installer when ISCC.exe is found.
PyInstaller's log goes to build/pyinstaller.log; the console gets a summary. dist/build-info.json records what
was built (version, flavor, sizes, the inputs' fingerprint) for --if-stale, the tests and the release workflow.

This file is also the single source of the bundle's names and exclusions: ContentVStudio.spec and
tests/test_packaging.py load it by path. Keep its top level free of third-party imports. (Never add an
__init__.py to packaging/: the folder would then shadow the `packaging` library that transformers imports.)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

APP_NAME = "ContentVStudio"  # bundle folder, executable, archive and installer prefix
DISPLAY_NAME = "ContentV Studio"
DESKTOP_ID = "contentv-studio"  # .desktop file and icon name (freedesktop)
CONTENTS_DIR = "_internal"  # PyInstaller's contents folder inside the bundle
ICON_SVG = ROOT / "resources" / "icons" / f"{DESKTOP_ID}.svg"
ICON_PNG = ROOT / "resources" / "icons" / f"{DESKTOP_ID}.png"
SPEC = HERE / f"{APP_NAME}.spec"
ISS = HERE / "windows" / f"{APP_NAME}.iss"
LINUX_DIR = HERE / "linux"
BUILD_INFO = "build-info.json"
# Windows: a bundle larger than this is spanned over Setup.exe plus .bin slices (see the .iss).
SPAN_DISKS_ABOVE = 2 * 2**30

# Python modules the app never uses. Qt's Python modules take their Qt libraries, plugins and QML with them.
QT_EXCLUDES = [
    f"PySide6.{m}"
    for m in [
        "QtWebEngineCore",
        "QtWebEngineWidgets",
        "QtWebEngineQuick",
        "QtWebChannel",
        "QtWebSockets",
        "QtWebView",
        "QtHttpServer",
        "Qt3DCore",
        "Qt3DRender",
        "Qt3DInput",
        "Qt3DLogic",
        "Qt3DAnimation",
        "Qt3DExtras",
        "QtQuick3D",
        "QtDesigner",
        "QtUiTools",
        "QtHelp",
        "QtCharts",
        "QtDataVisualization",
        "QtGraphs",
        "QtGraphsWidgets",
        "QtBluetooth",
        "QtNfc",
        "QtPositioning",
        "QtLocation",
        "QtSensors",
        "QtSerialPort",
        "QtSerialBus",
        "QtRemoteObjects",
        "QtScxml",
        "QtStateMachine",
        "QtTextToSpeech",
        "QtSql",
        "QtTest",
        "QtPdf",
        "QtPdfWidgets",
        "QtNetworkAuth",
        "QtSpatialAudio",
        "QtAxContainer",
        "QtCanvasPainter",
    ]
]
PY_EXCLUDES = [
    # GUI toolkits, notebooks and test/build tools that optional imports in the libraries could drag in.
    "tkinter",
    "_tkinter",
    "matplotlib",
    "IPython",
    "ipykernel",
    "jupyter_client",
    "notebook",
    "pytest",
    "_pytest",
    "pytestqt",
    "PyInstaller",
    "pip",
    "ruff",
    # Other Qt bindings (optional in some libraries); the app is PySide6 only.
    "PyQt5",
    "PyQt6",
    "PySide2",
    # torch extras the engine never calls: TensorBoard, ONNX export, the test suites. Triton (CUDA builds) is
    # only for torch.compile's inductor code generation: the frozen app runs eager (`--compile` is a from-source
    # feature, see packaging/README.md "torch.compile"), so its 889 MiB CUDA toolchain stays out.
    "torch.utils.tensorboard",
    "tensorboard",
    "onnx",
    "onnxruntime",
    "onnxscript",
    "triton",
    # Xet storage client of huggingface_hub: core/model/download.py fetches every file over plain HTTP(S) with resume
    # (huggingface_hub's http_get on /resolve/ URLs), never through Xet; without hf_xet's metadata in the bundle
    # huggingface_hub reports Xet as unavailable and never tries it.
    "hf_xet",
    # Command-line front ends of the libraries (the app has its own): transformers' and huggingface_hub's CLIs and
    # what only they import. httpx2's CLI and accelerate's rich tracebacks import these lazily, behind checks.
    "transformers.cli",
    "huggingface_hub.cli",
    "huggingface_hub.inference._mcp",
    "typer",
    "click",
    "rich",
    "pygments",
    "shellingham",
    # Other ML frameworks transformers/diffusers probe for.
    "tensorflow",
    "jax",
    "jaxlib",
    "flax",
    "keras",
]
EXCLUDES = QT_EXCLUDES + PY_EXCLUDES

# Files the hooks collect that the app never opens, by their path in the bundle (fnmatch, "/" separators):
# torch's C++ test programs, test libraries and protoc (torch's hook takes every non-Python file in the
# package), and Qt's virtual keyboard (an input-method plugin for touch screens without a keyboard). QtQuick and
# QtQml stay: Qt Multimedia's FFmpeg plugin links them (verify_bundle.py's link check catches such a need).
PRUNE_PATTERNS = [
    "torch/test/*",
    "torch/bin/*",  # but see PRUNE_KEEP: torch_shm_manager serves shared-memory tensors between processes
    "torch/lib/libtorchbind_test.so",
    "torch/lib/libjitbackend_test.so",
    "torch/lib/libbackend_with_compiler.so",
    "torch/lib/libaoti_custom_ops.so",
    "torch/include/*",
    "torch/share/cmake/*",
    "PySide6/Qt/plugins/platforminputcontexts/*qtvirtualkeyboard*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "libQt6VirtualKeyboard*",
]
PRUNE_KEEP = ["torch/bin/torch_shm_manager"]

# Linux: shared libraries the bundle takes from the user's system, never from the build machine. They belong to
# the host's C/C++ runtime, graphics drivers, fonts and desktop: a build machine's copy is older than what the
# host's GPU driver (Mesa links a newer libstdc++), GTK theme or fontconfig files expect, which is the classic
# "GLIBCXX_3.4.3x not found" or missing-fonts failure of frozen apps. Every desktop distribution ships them;
# PyInstaller already leaves glibc, libGL/EGL, libxcb and libwayland to the host the same way. (libxcb-* helpers,
# libxkbcommon, ICU, OpenSSL, libffi and the Python runtime's own libraries stay bundled: hosts often lack those.)
LINUX_HOST_LIBS = [
    r"libstdc\+\+\.so.*",
    r"libgcc_s\.so.*",
    r"libmvec\.so.*",
    r"libX11\.so.*",
    r"libX11-xcb\.so.*",
    r"libfontconfig\.so.*",
    r"libfreetype\.so.*",
    r"libharfbuzz\.so.*",
    r"libglib-2\.0\.so.*",
    r"libgobject-2\.0\.so.*",
    r"libgio-2\.0\.so.*",
    r"libgmodule-2\.0\.so.*",
    r"libgthread-2\.0\.so.*",
    r"libgtk-3\.so.*",
    r"libgdk-3\.so.*",
    r"libgdk_pixbuf-2\.0\.so.*",
    r"libcairo\.so.*",
    r"libcairo-gobject\.so.*",
    r"libpango-1\.0\.so.*",
    r"libpangocairo-1\.0\.so.*",
    r"libpangoft2-1\.0\.so.*",
    r"libatk-1\.0\.so.*",
    # The CUDA runtime of a toolkit installed on the build machine (transformers' ctypes probe names it);
    # a CUDA build of torch brings its own, versioned, from the nvidia-* wheels.
    r"libcudart\.so",
]


def prune_reason(dest: str, src: str | None, typecode: str) -> str | None:
    """Why a TOC entry (PyInstaller's (dest, src, typecode)) is left out of the bundle, or None to keep it."""
    import fnmatch

    path = dest.replace("\\", "/")
    if typecode == "SYMLINK" and src:  # a link to a pruned file goes with it
        target = src.replace("\\", "/")
        reason = prune_reason(target, None, "BINARY")
        if reason:
            return reason
    if path in PRUNE_KEEP:
        return None
    for pattern in PRUNE_PATTERNS:
        if fnmatch.fnmatchcase(path, pattern):
            return f"unused ({pattern})"
    if sys.platform.startswith("linux") and "/" not in path:
        for pattern in LINUX_HOST_LIBS:
            if re.fullmatch(pattern, path):
                return "taken from the host system"
    return None


def prune(toc: list, removed: list | None = None) -> list:
    kept = []
    for entry in toc:
        reason = prune_reason(entry[0], entry[1], entry[2])
        if reason is None:
            kept.append(entry)
        elif removed is not None:
            removed.append((entry[0], reason))
    return kept


# Modules imported only at run time (lazy imports, plugins) that analysis cannot see. gui/ and core/ are added
# whole by the spec.
HIDDEN_IMPORTS = [
    "PySide6.QtMultimedia",  # the clip player; its FFmpeg backend plugin comes with it
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtSvg",  # the SVG icon
    # `download` (core/model/download.py imports these inside functions) and huggingface_hub's HTTP client.
    "huggingface_hub.hf_api",
    "huggingface_hub.file_download",
    "huggingface_hub.errors",
    "huggingface_hub.utils",
    "httpx2",
    # Step caching (core/engine/step_cache.py) and group offloading use diffusers' hooks; hooks/hook-diffusers.py
    # collects every diffusers.hooks submodule, this names the package the app imports by name.
    "diffusers.hooks",
    # `export`: the GIF and PNG writers Pillow registers lazily.
    "PIL.GifImagePlugin",
    "PIL.PngImagePlugin",
    # `upscale`, `interpolate`, `generate --finish` (core/finish imports cccv inside a function). Its package
    # imports every architecture module statically, so analysis follows from here; the submodules cannot be named
    # one by one: finding them imports cccv, which needs torchvision (core/finish/networks.py lends a stand-in).
    "cccv",
]

# Distributions whose metadata the frozen app must carry: diffusers and transformers check versions and
# availability with importlib.metadata; missing metadata makes them think torch (etc.) is not installed.
METADATA = [
    "diffusers",
    "transformers",
    "torch",
    "tokenizers",
    "safetensors",
    "huggingface_hub",
    "accelerate",
    "numpy",
    "tqdm",
    "regex",
    "requests",
    "filelock",
    "packaging",
    "pyyaml",
    "sentencepiece",
    "protobuf",
    "imageio",
    "imageio-ffmpeg",
    "pillow",
    "psutil",
    "platformdirs",
    "nvidia-ml-py",
    "PySide6-Essentials",
    "PySide6-Addons",
    "shiboken6",
    "jinja2",
    "fsspec",
    "typing_extensions",
    "sympy",
    "networkx",
    "importlib_metadata",
    # huggingface_hub's HTTP stack (`download`): it checks what is installed through importlib.metadata.
    "httpx2",
    "httpcore2",
    "anyio",
    "h11",
    "idna",
    "certifi",
    "truststore",
    # cccv (core/finish) and what it imports when it is imported: its model configs are pydantic models.
    "cccv",
    "opencv-python",
    "einops",
    "tenacity",
    "pydantic",
    "pydantic_core",
    "annotated-types",
    "typing-inspection",
]

# What goes into the bundle: a change to any of these makes dist/ stale.
INPUTS = ["main.py", "core", "gui", "resources", "packaging", "requirements.txt", "requirements-build.txt"]
INPUT_DISTS = [
    "torch",
    "diffusers",
    "transformers",
    "PySide6-Essentials",
    "PySide6-Addons",
    "pyinstaller",
    "pyinstaller-hooks-contrib",
    "imageio-ffmpeg",
    "accelerate",
    "tokenizers",
    "safetensors",
]


# ---- facts about this build ---------------------------------------------------------------------------------------
def version() -> str:
    text = (ROOT / "core" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M)
    if not match:
        raise SystemExit("core/__init__.py has no __version__")
    return match.group(1)


def is_windows() -> bool:
    return sys.platform == "win32"


def exe_name() -> str:
    return APP_NAME + (".exe" if is_windows() else "")


def machine() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(m, m)


def torch_flavor() -> tuple[str, str | None, str]:
    """('cuda', '12.8', torch version) or ('cpu', None, torch version) for the torch this Python has."""
    out = (
        subprocess.run(
            [sys.executable, "-c", "import json, torch; print(json.dumps([torch.version.cuda, torch.__version__]))"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    cuda, torch_version = json.loads(out)
    return ("cpu" if cuda is None else "cuda"), cuda, torch_version


def flavor_suffix(flavor: str) -> str:
    """A CPU build says so in its name; the CUDA build is the default and carries no suffix."""
    return "-cpu" if flavor == "cpu" else ""


def os_tag() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def package_basename(ver: str, flavor: str) -> str:
    return f"{APP_NAME}-{ver}-{os_tag()}-{machine()}{flavor_suffix(flavor)}"


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def inputs_fingerprint(no_excludes: bool) -> str:
    """A hash of every file that goes into the bundle, the key packages' versions and the Python used."""
    from importlib import metadata

    h = hashlib.sha256()
    h.update(f"{sys.version}|{sys.platform}|{machine()}|no_excludes={no_excludes}".encode())
    for dist in INPUT_DISTS:
        try:
            h.update(f"{dist}=={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist} missing".encode())
    for name in INPUTS:
        base = ROOT / name
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []
        for f in files:
            if "__pycache__" in f.parts or f.suffix in {".pyc", ".md"}:  # docs do not go into the bundle
                continue
            h.update(f.relative_to(ROOT).as_posix().encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def source_date_epoch() -> int:
    """Timestamps in the archive: SOURCE_DATE_EPOCH, else the last commit's time, else now (reproducible archives
    from the same commit)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        return int(out)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return int(time.time())


# ---- steps --------------------------------------------------------------------------------------------------------
def run_pyinstaller(dist: Path, work: Path, log: Path, no_excludes: bool, clean: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(SPEC),
        "--noconfirm",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        "--log-level",
        "INFO",
    ]
    if clean:
        cmd.append("--clean")
    env = dict(os.environ)
    env["CONTENTV_BUILD_NO_EXCLUDES"] = "1" if no_excludes else "0"
    env.setdefault("PYTHONHASHSEED", "0")  # PyInstaller's advice for reproducible builds
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"PyInstaller failed (exit {proc.returncode}); the whole log is in {log}")


def icon_files() -> list[Path]:
    return [p for p in (ICON_PNG, ICON_SVG) if p.exists()]


def desktop_entry(exec_line: str) -> str:
    template = (LINUX_DIR / f"{DESKTOP_ID}.desktop").read_text(encoding="utf-8")
    return template.replace("Exec=ContentVStudio", f"Exec={exec_line}", 1)


def add_linux_files(bundle: Path) -> None:
    """The .desktop entry, the icon and install.sh sit beside the executable (the archive's top folder)."""
    shutil.copy2(LINUX_DIR / f"{DESKTOP_ID}.desktop", bundle / f"{DESKTOP_ID}.desktop")
    for icon in icon_files():
        shutil.copy2(icon, bundle / icon.name)
    shutil.copy2(LINUX_DIR / "install.sh", bundle / "install.sh")
    (bundle / "install.sh").chmod(0o755)


def make_tarball(bundle: Path, archive: Path) -> None:
    """A deterministic tar.gz of the bundle under one top folder named like the bundle: sorted entries, fixed
    times and owners. Uses pigz (parallel) when present."""
    mtime = source_date_epoch()

    def norm(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = mtime
        if info.isfile() or info.isdir():
            info.mode = 0o755 if (info.isdir() or info.mode & 0o111) else 0o644
        return info

    tmp = archive.with_name(archive.name + ".partial")
    pigz = shutil.which("pigz")
    if pigz:
        with tmp.open("wb") as out:
            proc = subprocess.Popen([pigz, "-6", "-n", "-c"], stdin=subprocess.PIPE, stdout=out)
            assert proc.stdin is not None
            with tarfile.open(fileobj=proc.stdin, mode="w|", format=tarfile.GNU_FORMAT) as tar:
                _add_sorted(tar, bundle, norm)
            proc.stdin.close()
            if proc.wait() != 0:
                raise SystemExit("pigz failed")
    else:
        with (
            tmp.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT) as tar,
        ):
            _add_sorted(tar, bundle, norm)
    os.replace(tmp, archive)


def _add_sorted(tar: tarfile.TarFile, bundle: Path, norm) -> None:
    top = bundle.name
    tar.add(bundle, arcname=top, recursive=False, filter=norm)
    for path in sorted(bundle.rglob("*"), key=lambda p: p.relative_to(bundle).as_posix()):
        tar.add(path, arcname=f"{top}/{path.relative_to(bundle).as_posix()}", recursive=False, filter=norm)


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a tree with hard links where the file system allows (the AppDir costs no extra space)."""

    def link_or_copy(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, symlinks=True, copy_function=link_or_copy)


def make_appdir(bundle: Path, appdir: Path) -> None:
    """AppDir layout (see packaging/linux/README section in packaging/README.md):
    AppRun, <id>.desktop, <id>.png, .DirIcon, usr/lib/ContentVStudio/ (the bundle),
    usr/share/applications/<id>.desktop, usr/share/icons/hicolor/{256x256,scalable}/apps/<id>.{png,svg}."""
    if appdir.exists():
        shutil.rmtree(appdir)
    lib = appdir / "usr" / "lib" / APP_NAME
    lib.parent.mkdir(parents=True)
    _link_tree(bundle, lib)
    for extra in ("install.sh", f"{DESKTOP_ID}.desktop"):  # the archive's helpers make no sense inside an AppImage
        (lib / extra).unlink(missing_ok=True)
    shutil.copy2(LINUX_DIR / "AppRun", appdir / "AppRun")
    (appdir / "AppRun").chmod(0o755)
    entry = desktop_entry(APP_NAME)
    (appdir / f"{DESKTOP_ID}.desktop").write_text(entry, encoding="utf-8")
    apps = appdir / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / f"{DESKTOP_ID}.desktop").write_text(entry, encoding="utf-8")
    if ICON_PNG.exists():
        shutil.copy2(ICON_PNG, appdir / ICON_PNG.name)
        (appdir / ".DirIcon").symlink_to(ICON_PNG.name)
        png_dir = appdir / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
        png_dir.mkdir(parents=True)
        shutil.copy2(ICON_PNG, png_dir / ICON_PNG.name)
    if ICON_SVG.exists():
        svg_dir = appdir / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
        svg_dir.mkdir(parents=True)
        shutil.copy2(ICON_SVG, svg_dir / ICON_SVG.name)


def make_appimage(appdir: Path, target: Path, log: Path) -> Path | None:
    tool = shutil.which("appimagetool") or shutil.which("appimagetool-x86_64.AppImage")
    if not tool:
        return None
    env = dict(os.environ, ARCH=machine())
    with log.open("a", encoding="utf-8") as fh:
        proc = subprocess.run(
            [tool, "--no-appstream", str(appdir), str(target)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    if proc.returncode != 0:
        raise SystemExit(f"appimagetool failed (exit {proc.returncode}); see {log}")
    return target


def windows_icon(work: Path) -> Path | None:
    """An .ico for the executable and the installer, made from the PNG with Pillow."""
    if not ICON_PNG.exists():
        return None
    from PIL import Image

    ico = work / f"{DESKTOP_ID}.ico"
    ico.parent.mkdir(parents=True, exist_ok=True)
    Image.open(ICON_PNG).convert("RGBA").save(
        ico, sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
    )
    return ico


def find_iscc() -> str | None:
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return found
    for base in (
        os.environ.get("PROGRAMFILES(X86)"),
        os.environ.get("PROGRAMFILES"),
        os.path.join(os.environ.get("LOCALAPPDATA", ""), "Programs"),
    ):
        if base:
            candidate = Path(base) / "Inno Setup 6" / "ISCC.exe"
            if candidate.exists():
                return str(candidate)
    return None


def make_installer(dist: Path, ver: str, flavor: str, icon: Path | None, log: Path) -> list[Path]:
    iscc = find_iscc()
    if not iscc:
        return []
    base = f"{package_basename(ver, flavor)}-setup"
    cmd = [
        iscc,
        "/Qp",
        f"/DAppVersion={ver}",
        f"/DBundleDir={dist / APP_NAME}",
        f"/DOutputDir={dist}",
        f"/DOutputBaseName={base}",
        f"/DFlavor={flavor}",
    ]
    if icon:
        cmd.append(f"/DSetupIcon={icon}")
    if tree_size(dist / APP_NAME) > SPAN_DISKS_ABOVE:
        cmd.append("/DSpanDisks=1")
    cmd.append(str(ISS))
    with log.open("a", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"Inno Setup failed (exit {proc.returncode}); see {log}")
    return sorted(p for p in dist.iterdir() if p.name.startswith(base))


def largest_parts(bundle: Path, count: int = 8) -> list[tuple[str, int]]:
    internal = bundle / CONTENTS_DIR
    if not internal.is_dir():
        return []
    parts = [(p.name, tree_size(p)) for p in internal.iterdir() if not p.is_symlink()]  # links repeat a file
    return sorted(parts, key=lambda x: -x[1])[:count]


# ---- main ---------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller's work folder (build/)")
    parser.add_argument(
        "--if-stale", action="store_true", help="skip the build when dist/build-info.json matches the current inputs"
    )
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--no-excludes", action="store_true", help="build without the exclusions (measuring)")
    parser.add_argument("--no-package", action="store_true", help="the bundle only: no archive, AppDir, installer")
    args = parser.parse_args(argv)

    dist: Path = args.dist.resolve()
    work: Path = args.work.resolve()
    ver = version()
    flavor, cuda, torch_version = torch_flavor()
    fingerprint = inputs_fingerprint(args.no_excludes)
    info_path = dist / BUILD_INFO
    bundle = dist / APP_NAME

    if args.if_stale and info_path.exists() and (bundle / exe_name()).exists():
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if info.get("fingerprint") == fingerprint and (args.no_package or info.get("packaged")):
            print(f"{bundle} is up to date ({info.get('bundle_bytes', 0) / 2**20:.0f} MiB); nothing to do.")
            return 0

    log = work / "pyinstaller.log"
    start = time.perf_counter()
    print(
        f"Building {DISPLAY_NAME} {ver} ({flavor} build, torch {torch_version}"
        f"{', CUDA ' + cuda if cuda else ''}) into {bundle} — PyInstaller's log: {log}",
        flush=True,
    )
    info_path.unlink(missing_ok=True)
    if is_windows():
        icon = windows_icon(work)
        if icon:
            os.environ["CONTENTV_BUILD_ICON"] = str(icon)
    else:
        icon = None
    run_pyinstaller(dist, work / "pyinstaller", log, args.no_excludes, args.clean)
    pyinstaller_s = time.perf_counter() - start
    if not (bundle / exe_name()).exists():
        raise SystemExit(f"PyInstaller finished but {bundle / exe_name()} is missing; see {log}")
    bundle_bytes = tree_size(bundle)

    info: dict = {
        "app": APP_NAME,
        "version": ver,
        "flavor": flavor,
        "cuda": cuda,
        "torch": torch_version,
        "platform": f"{os_tag()}-{machine()}",
        "bundle": str(bundle),
        "executable": str(bundle / exe_name()),
        "bundle_bytes": bundle_bytes,
        "excludes": not args.no_excludes,
        "fingerprint": fingerprint,
        "pyinstaller_s": round(pyinstaller_s, 1),
        "artifacts": [],
        "packaged": False,
    }
    notes: list[str] = []
    if not args.no_package:
        if sys.platform.startswith("linux"):
            add_linux_files(bundle)
            info["bundle_bytes"] = bundle_bytes = tree_size(bundle)
            archive = dist / f"{package_basename(ver, flavor)}.tar.gz"
            t0 = time.perf_counter()
            make_tarball(bundle, archive)
            info["archive_s"] = round(time.perf_counter() - t0, 1)
            info["artifacts"].append(str(archive))
            info["archive"] = str(archive)
            info["archive_bytes"] = archive.stat().st_size
            appdir = dist / "AppDir"
            make_appdir(bundle, appdir)
            info["appdir"] = str(appdir)
            appimage = make_appimage(appdir, dist / f"{package_basename(ver, flavor)}.AppImage", log)
            if appimage:
                info["artifacts"].append(str(appimage))
                info["appimage"] = str(appimage)
                info["appimage_bytes"] = appimage.stat().st_size
            else:
                notes.append(
                    f"appimagetool is not on PATH: {appdir} is ready, but no AppImage was packed "
                    f"(appimagetool {appdir} {package_basename(ver, flavor)}.AppImage packs it)."
                )
        elif is_windows():
            installer = make_installer(dist, ver, flavor, icon, log)
            if installer:
                info["artifacts"] += [str(p) for p in installer]
                info["installer"] = [str(p) for p in installer]
                info["installer_bytes"] = sum(p.stat().st_size for p in installer)
            else:
                notes.append(
                    "Inno Setup's ISCC.exe was not found: no installer was compiled "
                    f"(iscc {ISS.relative_to(ROOT)} compiles it)."
                )
        info["packaged"] = True
    info["total_s"] = round(time.perf_counter() - start, 1)
    info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    print(f"  bundle    {bundle}  {human(bundle_bytes)}")
    for name, size in largest_parts(bundle):
        print(f"              {CONTENTS_DIR}/{name:<28} {human(size):>10}")
    if "archive" in info:
        print(f"  archive   {info['archive']}  {human(info['archive_bytes'])}")
    if "appimage" in info:
        print(f"  AppImage  {info['appimage']}  {human(info['appimage_bytes'])}")
    if "installer" in info:
        print(f"  installer {', '.join(info['installer'])}  {human(info['installer_bytes'])}")
    for note in notes:
        print(f"  note: {note}")
    print(f"  time      {info['total_s']:.0f} s (PyInstaller {pyinstaller_s:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
