"""Languages: choosing one (environment, --language, the menu), the catalogues (complete, compiled, current), the
real window in Simplified Chinese with no English left in it, and output names that keep any script's letters."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from core.job.request import Placement
from gui.support import i18n
from gui.support.i18n import (
    catalogue_path,
    choose_language,
    install_language,
    language_from_environment,
    normalize_language,
)
from gui.support.paths import SLUG_MAX_BYTES, slugify, unique_output_path

ROOT = Path(__file__).resolve().parents[2]
ZH_TS = catalogue_path("zh_CN", ".ts")
ZH_QM = catalogue_path("zh_CN", ".qm")

# ASCII words a Chinese interface keeps: the product, units, hardware and library names, number formats, and
# language names (each shown in its own language so anyone can find theirs).
ALLOWED_WORDS = set(
    [
        "ContentV",
        "ContentV-8B",
        "Studio",
        "GPU",
        "CPU",
        "VRAM",
        "RAM",
        "NVIDIA",
        "NVML",
        "CUDA",
        "Apple",
        "MPS",
        "PyTorch",
        "PCIe",
        "RTX",
        "GB",
        "MB",
        "KB",
        "TB",
        "fps",
        "ms",
        "px",
        "s",
        "fp8",
        "int8",
        "bf16",
        "bfloat16",
        "float16",
        "float32",
        "VAE",
        "T5",
        "T5-XXL",
        "CLIP",
        "Transformer",
        "diffusers",
        "ffmpeg",
        "SQLite",
        "mp4",
        "webm",
        "gif",
        "png",
        "H.264",
        "Ctrl",
        "Shift",
        "Alt",
        "Enter",
        "Esc",
        "Del",
        "English",
        "WebM",
        "GIF",
        "PNG",
        "VP9",
        "VP8",
        "NaN",
        # attention kernels and step-cache methods go by their names, as in papers and package names
        "math",
        "Flash",
        "FlashAttention-2",
        "cuDNN",
        "flash-attn",
        "FA2",
        "FA3",
        "SageAttention",
        "MagCache",
        "First-Block",
        "TaylorSeer",
        "H100",
        # several GPUs: the link, the splits and the unit they divide, by the names their papers and NCCL use
        "NVLink",
        "Ulysses",
        "all-to-all",
        "token",
        # key names, as printed on keys and in shortcuts ("Ctrl+Enter" is checked key by key)
        "Delete",
        "Space",
        "Backspace",
    ]
)
# Names of more than one word, taken out before the words are checked.
ALLOWED_PHRASES = ("Hugging Face Hub", "Hugging Face")
QUOTED_NAME = re.compile(r"[“‘'\"][\w\-.]+[”’'\"]")
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-.+*/]*")


def english_words(text: str) -> list[str]:
    """ASCII words in a visible text that are neither allowed names nor file or folder names."""
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    # A Chinese label's accelerator, 语言(&L), and the tooltip Qt makes from it, 语言(L).
    plain = re.sub(r"\(&?\w\)", "", plain)
    plain = plain.replace("&&", "").replace("&", "")
    plain = QUOTED_NAME.sub(" ", plain)  # a quoted identifier is a value, not a word: “flash”, 'sdpa'
    for phrase in ALLOWED_PHRASES:
        plain = plain.replace(phrase, " ")
    words = []
    for word in ASCII_WORD.findall(plain):
        if any(mark in word.rstrip(".") for mark in "._/*"):  # file and folder names: model_index.json, vae/
            continue
        word = word.rstrip(".-")
        # Shortcuts go key by key (Ctrl+Enter); a single letter is a key (F) or a symbol (4k + 1).
        if any(len(part) > 1 and part not in ALLOWED_WORDS for part in word.split("+")):
            words.append(word)
    return words


def _in_combo(widget: QWidget) -> bool:
    """A combo box's own popup list (its items are read from the combo itself)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox):
            return True
        parent = parent.parentWidget()
    return False


def visible_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every string a person can see or hear in `root` and its children, menus included."""
    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        where = f"{type(widget).__name__}#{widget.objectName()}"
        if widget.isWindow() and widget.windowTitle():
            yield f"{where} title", widget.windowTitle()
        for label, text in (("tooltip", widget.toolTip()), ("accessible name", widget.accessibleName())):
            if text:
                yield f"{where} {label}", text
        if isinstance(widget, (QLabel, QAbstractButton)):
            yield where, widget.text()
        elif isinstance(widget, QLineEdit):
            yield f"{where} placeholder", widget.placeholderText()
        elif isinstance(widget, QComboBox):
            for i in range(widget.count()):
                yield f"{where} item {i}", widget.itemText(i)
                tip = widget.itemData(i, Qt.ItemDataRole.ToolTipRole)
                if isinstance(tip, str):
                    yield f"{where} item {i} tooltip", tip
        elif isinstance(widget, QGroupBox):
            yield f"{where} title", widget.title()
        elif isinstance(widget, QAbstractSpinBox):  # "125 frames": the unit is part of what is shown
            yield f"{where} text", widget.text()
            yield f"{where} special value", widget.specialValueText()
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None and not _in_combo(widget):
            model = widget.model()
            for row in range(model.rowCount()):
                index = model.index(row, 0)
                for role, label in ((Qt.ItemDataRole.DisplayRole, "row"), (Qt.ItemDataRole.ToolTipRole, "row tip")):
                    value = index.data(role)
                    if isinstance(value, str):
                        yield f"{where} {label} {row}", value
        elif isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                yield f"{where} tab {i}", widget.tabText(i)
        elif isinstance(widget, QMenu):
            yield f"{where} title", widget.title()
        for action in widget.actions():
            for label, text in (("action", action.text()), ("action tooltip", action.toolTip())):
                if text:
                    yield f"{where} {label}", text


def untranslated(root: QWidget) -> list[str]:
    return [f"{where}: {text!r}" for where, text in visible_texts(root) if text and english_words(text)]


@pytest.fixture
def language(qapp: QApplication) -> Iterator[object]:
    """language("zh_CN") installs a language for the widgets built afterwards; English again at the end."""
    yield lambda code: install_language(qapp, code)
    install_language(qapp, "en")


# ---- choosing the language ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_SG.UTF-8"}, "zh_CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),  # no French catalogue: English, not the system's other choice
        ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LC_MESSAGES": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LANGUAGE": "zh_CN", "LC_ALL": "C"}, "en"),  # gettext ignores LANGUAGE under the C locale
        ({}, None),  # nothing set: QLocale.system() decides (Windows, macOS)
    ],
)
def test_language_from_environment(env: dict[str, str], expected: str | None):
    assert language_from_environment(env) == expected


def test_the_command_line_beats_the_saved_choice_which_beats_the_system():
    zh_env = {"LANG": "zh_CN.UTF-8"}
    assert choose_language(None, "", zh_env) == "zh_CN"
    assert choose_language("en", "", zh_env) == "en"
    assert choose_language("en", "zh_CN", zh_env) == "en"
    assert choose_language(None, "en", zh_env) == "en"
    assert choose_language(None, "zh_CN", {"LANG": "en_US.UTF-8"}) == "zh_CN"
    assert normalize_language("zh-Hans-CN") == "zh_CN"
    assert normalize_language("de_DE") is None


def test_language_option_is_parsed_and_checked():
    from gui.app import build_parser

    assert build_parser().parse_args(["--language", "zh_CN"]).language == "zh_CN"
    assert build_parser().parse_args([]).language is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--language", "klingon"])


# ---- the catalogues -------------------------------------------------------------------------------------------
def _messages() -> list[tuple[str, str, ET.Element]]:
    root = ET.parse(ZH_TS).getroot()
    return [
        (context.findtext("name", ""), message.findtext("source", ""), message.find("translation"))  # type: ignore[misc]
        for context in root.iter("context")
        for message in context.iter("message")
    ]


def _finished(translation: ET.Element) -> bool:
    """A translation that is done: not marked unfinished, with text (every plural form, for a %n message)."""
    if translation.get("type") is not None:  # "unfinished", "obsolete", "vanished"
        return False
    forms = translation.findall("numerusform")
    return all((form.text or "").strip() for form in forms) if forms else bool((translation.text or "").strip())


def test_catalogue_has_no_unfinished_entries():
    unfinished = [
        f"{context}: {source!r}" for context, source, translation in _messages() if not _finished(translation)
    ]
    assert not unfinished, "\n".join(unfinished)
    contexts = {context for context, _, _ in _messages()}
    assert {"MemoryPanel", "ErrorDialog", "VramGauge", "ModelPicker", "core"} <= contexts


def _update_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import update_translations
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return update_translations


def test_every_string_in_the_window_is_in_the_catalogue(tmp_path: Path):
    """Extract afresh with lupdate from every gui/*.py file, main.py and the engine's strings (as
    scripts/update_translations.py does) and look each string up in the committed catalogue: a string wrapped after
    the last update, or left untranslated, fails here."""
    script = _update_script()
    sources = [str(path) for path in script.source_files()]
    assert {Path(s).name for s in sources} >= {"main_window.py", "queue_panel.py", "export_dialog.py", "main.py"}
    sources.append(str(script.write_core_source(script.core_strings(), tmp_path)))
    fresh = tmp_path / "fresh_zh_CN.ts"
    subprocess.run(
        [script.qt_tool("pyside6-lupdate"), *sources, "-locations", "none", "-ts", str(fresh)],
        check=True,
        capture_output=True,
    )
    extracted = {
        (context.findtext("name", ""), message.findtext("source", ""))
        for context in ET.parse(fresh).getroot().iter("context")
        for message in context.iter("message")
    }
    assert len(extracted) > 400
    translated = {(context, source) for context, source, t in _messages() if _finished(t)}
    missing = sorted(extracted - translated)
    assert not missing, "run scripts/update_translations.py and translate:\n" + "\n".join(map(str, missing))


def test_translations_keep_placeholders_and_accelerators():
    for context, source, translation in _messages():
        text = translation.text or ""
        if not text:
            continue
        assert sorted(re.findall(r"\{\w*\}", text)) == sorted(re.findall(r"\{\w*\}", source)), (context, source)
        assert ("&" in source.replace("&&", "")) == ("&" in text.replace("&&", "")), (context, source)


def test_catalogue_is_up_to_date_with_the_sources():
    """What scripts/update_translations.py --check does in CI: extracting again changes neither the .ts nor the
    .qm (no string added, changed or dropped since the last update)."""
    assert _update_script().update(check=True) is False


def test_compiled_catalogue_matches_its_source(tmp_path: Path):
    """The committed .qm is what pyside6-lrelease makes of the committed .ts (run scripts/update_translations.py)."""
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    if not lrelease.exists():
        lrelease = Path(sys.executable).resolve().parent / "pyside6-lrelease"
    fresh = tmp_path / ZH_QM.name
    subprocess.run([str(lrelease), str(ZH_TS), "-qm", str(fresh)], check=True, capture_output=True)
    assert ZH_QM.read_bytes() == fresh.read_bytes(), "stale .qm: run scripts/update_translations.py"


def test_engine_strings_are_extracted_and_translated():
    from core.engine.runner import OOM_ADVICE

    strings = _update_script().core_strings()
    assert OOM_ADVICE in strings  # a *_ADVICE constant
    assert "Needs a GPU; this machine has none." in strings  # marked with _t()
    assert "A CUDA GPU was asked for, but PyTorch sees none on this machine." in strings  # an error's message
    assert "query_chunk must be at least 1" not in strings  # a ValueError: a programming error, not for users
    translated = {source for context, source, t in _messages() if context == "core" and t.text}
    assert set(strings) <= translated


def test_packaging_collects_the_catalogues():
    spec = (ROOT / "packaging" / "ContentVStudio.spec").read_text(encoding="utf-8")
    assert '(str(ROOT / "resources"), "resources")' in spec  # resources/translations/ travels with the app
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import build
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    assert build.prune_reason("resources/translations/contentv_studio_zh_CN.qm", None, "DATA") is None
    assert build.prune_reason("PySide6/Qt/translations/qtbase_zh_CN.qm", None, "DATA") is None


# ---- the window in Chinese ------------------------------------------------------------------------------------
def test_translated_parts_of_the_window_have_no_english_left(language, open_window, qtbot):
    assert language("zh_CN") == "zh_CN"
    window = open_window()
    qtbot.waitUntil(lambda: window.controller.engine_ready, timeout=60_000)  # capabilities → reasons shown
    qtbot.waitUntil(lambda: "…" not in window.vram_gauge.text())  # a first memory sample
    parts = [window.memory_panel, window.model_picker, window.vram_gauge, window.findChild(QMenu, "languageMenu")]
    problems = [line for part in parts for line in untranslated(part)]
    assert not problems, "\n".join(problems)
    # The engine's reason (core/) is shown translated, and so is the gauge's sample.
    assert window.memory_panel.placement_reasons[Placement.MODEL].text() == "需要 GPU；本机没有。"
    assert "显存" in window.memory_panel.vae_tiling.toolTip()
    assert window.vram_gauge.ram_label.text().startswith("内存 ")


def test_engine_messages_with_values_are_translated_by_their_template(language, tmp_path: Path):
    """core/ fills `_t("… {name} …")` templates in English; the window recognises the filled-in message, translates
    the template and puts the same values (themselves translated when they are engine words) into it."""
    from core.i18n import _t, match_template
    from core.job.request import GenerationRequest
    from core.model.checkpoint import inspect_model_folder
    from gui.support.i18n import core_text

    request = GenerationRequest(prompt="一只猫", width=100, steps=0)
    problems = request.problems()
    assert "The width must be a multiple of 16 (got 100; try 96)." in problems  # English stays as it was
    language("zh_CN")
    shown = [core_text(p) for p in problems]
    assert "宽度必须是 16 的倍数（当前为 100；可试 96）。" in shown
    assert "步数至少为 1（当前为 0）。" in shown
    assert not [text for text in shown if english_words(text)], shown

    report = inspect_model_folder(tmp_path)  # an empty folder: every part is missing
    # Each is translated; the parts keep their folder and model names ("transformer (3D MMDiT)").
    assert report.problems and all(core_text(p) != p for p in report.problems), report.problems
    assert match_template("transformer (3D MMDiT) is missing") == (
        "{part} is missing",
        {"part": "transformer (3D MMDiT)"},
    )
    assert core_text("transformer (3D MMDiT) is missing") == "缺少 transformer (3D MMDiT)"
    # A field that is itself a whole engine sentence is translated as well.
    from core.engine.devices import ResolvedDevice
    from core.engine.runner import _refuse_non_finite
    from core.errors import NonFiniteError

    with pytest.raises(NonFiniteError) as raised:
        _refuse_non_finite(False, "decoded frames", ResolvedDevice(device="cuda", dtype_name="float16"))
    assert raised.value.message.startswith("The decoded frames hold NaN or infinity: float16 overflowed")
    assert core_text(raised.value.message) == (
        "解码后的帧含有 NaN 或无穷大：float16 溢出（请选择 bfloat16 或 float32），"
        "或模型权重已损坏（请重新下载 transformer 和 VAE）。未写入任何内容。"
    )
    # A message no template fits, or whose template has no translation, is shown as it is.
    assert core_text(inspect_model_folder(tmp_path / "nothing-here").message()).endswith(
        "不是可用的 ContentV 模型文件夹：文件夹不存在。"
    )
    assert core_text("Something the engine never said.") == "Something the engine never said."
    _t("An untranslated template about {thing}.")
    assert core_text("An untranslated template about cats.") == "An untranslated template about cats."


def test_output_and_download_refusals_are_translated(language, tmp_path: Path):
    """Output names taken, folders missing, a download target in the way: the window shows them in Chinese."""
    from core.errors import StudioError
    from core.model.download import check_target
    from core.output.video import check_output_path
    from gui.support.i18n import core_text

    taken = tmp_path / "clip.mp4"
    taken.write_bytes(b"")
    messages = []
    for attempt in (
        lambda: check_output_path(taken),
        lambda: check_output_path(tmp_path / "missing" / "x.mp4"),
        lambda: check_output_path(tmp_path / "x.webm"),
        lambda: check_target(taken),
    ):
        with pytest.raises(StudioError) as raised:
            attempt()
        messages.append(raised.value.message)
    language("zh_CN")
    shown = [core_text(m) for m in messages]
    assert shown[0] == f"{taken} 已存在；不会覆盖它。", shown
    assert shown[1] == f"文件夹 {tmp_path / 'missing'} 不存在。"
    assert shown[2] == "输出必须是 .mp4 文件（当前为“x.webm”）。"
    assert shown[3] == f"{taken} 是一个文件，不是文件夹。"


def _assert_chinese(message: str) -> str:
    """`message` (English, as core/ filled it in) translated with the zh_CN catalogue installed: the sentence is
    Chinese and only the values filled into it (paths, option names, ffmpeg's own words) are left as they were."""
    from core.i18n import match_template
    from gui.support.i18n import core_text

    shown = core_text(message)
    assert shown != message, f"not translated: {message!r}"
    found = match_template(message)
    rest = shown
    for value in sorted((found[1] if found else {}).values(), key=len, reverse=True):
        rest = rest.replace(core_text(value), " ").replace(value, " ")
    assert not english_words(rest), (message, shown)
    assert re.search(r"[\u4e00-\u9fff]", rest), (message, shown)
    return shown


class _FailingFfmpeg:
    """An ffmpeg process that takes every frame and then fails, as a full disk or a broken encoder makes it."""

    def __init__(self, cmd: list[str], stdin: object, stderr: object) -> None:
        import io

        self.stdin = io.BytesIO()
        self.returncode: int | None = None

    def communicate(self) -> tuple[None, bytes]:
        self.returncode = 1
        return None, b"Error writing trailer: No space left on device"

    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        self.returncode = -9

    def wait(self) -> int | None:
        return self.returncode


def test_option_export_and_demo_model_refusals_are_translated(language, tmp_path: Path, monkeypatch):
    """Unknown options, refused or failed exports and a taken demo-model folder: each message, filled in by the
    engine with real values, is shown in Chinese with no English sentence left."""
    import dataclasses
    import types

    from core.errors import InvalidRequestError, OutputTakenError, StudioError
    from core.job.request import MemoryOptions, SpeedOptions
    from core.model.demo import make_demo_model
    from core.output import export, png_frames
    from core.output.export import ExportFormat, ExportRequest
    from core.store.history_recovery import database_problem
    from gui.support.i18n import error_text

    messages: list[str] = []

    def refused(attempt, kind: type[BaseException] = StudioError) -> BaseException:
        with pytest.raises(kind) as raised:
            attempt()
        if isinstance(raised.value, StudioError):
            messages.extend(part for part in (raised.value.message, raised.value.advice) if part)
        return raised.value

    # Options: device, dtype, offload mode, quantization (with the choices as advice), kernel, step cache, batching.
    for options in (
        MemoryOptions(device="tpu"),
        MemoryOptions(dtype="int4"),
        MemoryOptions(placement="disk"),  # type: ignore[arg-type]
        MemoryOptions(quantization="int2"),  # type: ignore[arg-type]
    ):
        refused(options.validate, InvalidRequestError)
    speed = SpeedOptions(attention_backend="xformers", step_cache="fastest", guidance_batching="parallel")  # type: ignore[arg-type]
    assert len(speed.problems()) == 3
    messages.extend(speed.problems())

    # Exports: a target with the wrong extension, a source that is no video, or one with no frames.
    clip = _write_clip(tmp_path)
    refused(lambda: export.check_export(ExportRequest(clip, ExportFormat.GIF, tmp_path / "clip.mp4")))
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video", encoding="utf-8")
    refused(lambda: export.read_source(not_video))
    import imageio_ffmpeg

    with monkeypatch.context() as patch:  # a stream ffmpeg opens but holds no frame
        patch.setattr(imageio_ffmpeg, "read_frames", lambda *a, **k: iter([{"size": (80, 48), "fps": 24.0}]))
        refused(lambda: export.read_source(clip))

    # Writes that fail or lose frames: nothing is kept, and each says why.
    with monkeypatch.context() as patch:
        patch.setattr(export, "webm_codec", lambda: "vp9")
        patch.setattr(export, "subprocess", types.SimpleNamespace(Popen=_FailingFfmpeg, PIPE=subprocess.PIPE))
        refused(lambda: export.export_clip(ExportRequest(clip, ExportFormat.WEBM, tmp_path / "a.webm")))
    with monkeypatch.context() as patch:
        patch.setattr(export, "webm_codec", lambda: "vp9")
        patch.setattr(export, "_count_frames", lambda path: 3)
        refused(lambda: export.export_clip(ExportRequest(clip, ExportFormat.WEBM, tmp_path / "b.webm")))
    with monkeypatch.context() as patch:
        real_gif = export._gif_bytes
        patch.setattr(export, "_gif_bytes", lambda c, *a: real_gif(dataclasses.replace(c, frames=c.frames[:1]), *a))
        refused(lambda: export.export_clip(ExportRequest(clip, ExportFormat.GIF, tmp_path / "c.gif")))
    with monkeypatch.context() as patch:  # every frame saved under one name: only one is there to count
        patch.setattr(png_frames, "FRAME_NAME", "frame_same.png")
        refused(lambda: export.export_clip(ExportRequest(clip, ExportFormat.PNG, tmp_path / "frames")))
    assert not [p.name for p in tmp_path.iterdir() if p.name not in {"clip.mp4", "clip.json", "notes.mp4"}]

    # The demo model's folder: a file, or a folder that holds something. Still FileExistsError for callers.
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep", encoding="utf-8")
    for target in (tmp_path / "notes.mp4", tmp_path / "taken"):
        error = refused(lambda target=target: make_demo_model(target), FileExistsError)
        assert isinstance(error, OutputTakenError)
    assert (tmp_path / "taken" / "mine.txt").read_text(encoding="utf-8") == "keep"

    # A history database that is not one (the reason goes inside the window's notice).
    problem = database_problem(not_video)
    assert problem is not None
    messages.append(problem)

    assert len(messages) == 19, messages
    language("zh_CN")
    shown = [_assert_chinese(m) for m in messages]
    assert shown[0] == "未知的设备“tpu”。"
    assert shown[1] == "请从以下选项中选择：auto, cuda, mps, cpu。"
    assert "GIF 导出文件必须以 .gif 结尾（当前为“clip.mp4”）。" in shown
    assert f"{tmp_path / 'taken'} 已存在且不是空的；请选择一个空文件夹。" in shown
    assert "WebM 文件只有 3 帧，而不是 5 帧；未保留该文件。" in shown
    with pytest.raises(FileExistsError) as raised:
        make_demo_model(tmp_path / "notes.mp4")
    assert isinstance(raised.value, StudioError)
    assert error_text(raised.value) == f"{tmp_path / 'notes.mp4'} 已存在且不是文件夹；请为演示模型另选位置。"


def test_error_dialog_speaks_chinese_engine_messages_included(language, qtbot):
    from core.engine.runner import OOM_ADVICE
    from gui.dialogs.error_dialogs import ErrorDialog

    language("zh_CN")
    engine_message = "A CUDA GPU was asked for, but PyTorch sees none on this machine."
    dialog = ErrorDialog("out-of-memory", engine_message, OOM_ADVICE)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "内存不足"
    assert dialog.message_label.text() == "选择了 CUDA GPU，但 PyTorch 在本机上找不到。"
    assert dialog.advice_label.text().startswith("请依次尝试")
    assert not untranslated(dialog), untranslated(dialog)  # Qt's own Close button comes from qtbase_zh_CN.qm


def _write_clip(folder: Path) -> Path:
    import numpy as np

    from core.output.video import write_mp4, write_sidecar

    pixels = np.random.default_rng(5).uniform(0, 1, size=(5, 48, 80, 3)).astype(np.float32)
    path = folder / "clip.mp4"
    write_mp4(pixels, path, 24, {"prompt": "一只小猫", "seed": 7})
    write_sidecar(path, {"prompt": "一只小猫", "seed": 7})
    return path


def test_whole_window_has_no_english_left(language, open_window, qtbot, monkeypatch, tmp_path, gui_tiny_model):
    """The real window under LANG=zh_CN.UTF-8 and `--language zh_CN`, walked widget by widget (menus included),
    with everything a person can open without running a job: jobs in the queue, a played clip with its export
    dialog, the download dialog, an error dialog with an engine message, the close confirmation and the memory
    advice. Any English word left (other than names and units) fails, with where it is."""
    from huggingface_hub import constants

    from core.engine.runner import OOM_ADVICE
    from gui.app import build_parser
    from tests.gui.helpers import fill_small, wait_ready

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # the download dialog must not reach the network
    args = build_parser().parse_args(["--language", "zh_CN"])
    assert language(choose_language(args.language, "")) == "zh_CN"
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    qtbot.waitUntil(lambda: "…" not in window.vram_gauge.text())

    # Jobs waiting in a paused queue (nothing runs: every text stays put while it is read).
    window.controller.pause()
    fill_small(window, prompt="一只小猫在窗台上睡觉", seed=11)
    window.batch_controls.count_spin.setValue(3)
    window.generate()
    qtbot.waitUntil(lambda: len(window.controller.waiting_jobs) == 3)

    # A clip in the player, and its export dialog.
    clip = _write_clip(tmp_path)
    window.player.load(clip, autoplay=False)
    export_dialog = window.export_clip(str(clip))
    # The download dialog, which says (offline) why it cannot size the download.
    window.model_picker.get_model()
    download_dialog = window.model_picker.download_dialog
    assert download_dialog is not None
    qtbot.waitUntil(lambda: not download_dialog.planning)
    assert "HF_HUB_OFFLINE" in download_dialog.size_label.text()
    # An error with the engine's own message and advice.
    window.show_error("out-of-memory", "A CUDA GPU was asked for, but PyTorch sees none on this machine.", OOM_ADVICE)
    # Closing with jobs waiting asks first.
    window.close()
    qtbot.waitUntil(lambda: window._close_dialog is not None and window._close_dialog.isVisible())

    assert window.memory_panel.advice_label.text()
    assert window.queue_panel.findChild(QLabel, "queueTitle").text().startswith("队列")
    problems = [
        line
        for part in (window, export_dialog, download_dialog, window.error_dialog, window._close_dialog)
        for line in untranslated(part)
    ]
    # What is shown outside widgets' own texts: the status bar's message, the window's title, and the line the
    # history's delegate paints under each prompt (status, date, size, steps).
    from gui.jobs.history_panel import describe, status_text, when

    shown = [("status bar", window.statusBar().currentMessage()), ("title", window.windowTitle())]
    for record in window.store.list_jobs("", limit=10):
        shown.append(
            (f"history row {record.id}", f"{status_text(record.status)} {when(record, now=0)} {describe(record)}")
        )
    for where, text in shown:
        if english_words(text):
            problems.append(f"{where}: {text!r}")
    assert not problems, f"{len(problems)} untranslated:\n" + "\n".join(dict.fromkeys(problems))

    window._close_dialog.reject()  # stay open; the fixture cancels the jobs and closes
    export_dialog.close()
    download_dialog.close()


def test_language_option_gives_english_under_a_chinese_locale(language, open_window, monkeypatch, qtbot):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    assert choose_language(None, "") == "zh_CN"
    assert language(choose_language("en", "")) == "en"
    window = open_window(start_engine=False)
    assert window.memory_panel.vae_tiling.text() == "VAE tiling"
    assert window.model_picker.browse_button.text() == "Choose…"


def test_language_menu_saves_the_choice_and_says_when_it_applies(language, open_window, qtbot, tmp_path):
    from gui.support.settings import Settings

    language("zh_CN")
    window = open_window(tmp_path / "data", start_engine=False)
    menu = window.findChild(QMenu, "languageMenu")
    assert menu is not None and menu.title() == "语言(&L)"
    assert [a.text() for a in menu.actions()] == ["跟随系统", "English", "简体中文"]
    menu.actions_by_language["en"].trigger()
    assert Settings.load(window.paths.settings_file).language == "en"
    note = menu.note
    assert isinstance(note, QMessageBox) and note.isVisible()
    assert note.text() == "The new language is used the next time ContentV Studio starts."  # in the new language
    note.close()
    menu.actions_by_language["zh_CN"].trigger()  # back to the language in use: nothing to restart for
    assert Settings.load(window.paths.settings_file).language == "zh_CN"
    assert not note.isVisible() and menu.note is note


def test_missing_catalogue_falls_back_to_english(language, monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    assert language("zh_CN") == "en"
    assert QCoreApplication.translate("MemoryPanel", "VAE tiling") == "VAE tiling"


# ---- output names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("一只小猫在窗台上睡觉", "一只小猫在窗台上睡觉"),
        ("Кошка спит на окне", "кошка-спит-на-окне"),
        ("قطة تنام على النافذة", "قطة-تنام-على-النافذة"),
        ("नमस्ते दुनिया", "नमस्ते-दुनिया"),  # vowel signs (combining marks) stay with their letters
        ("ｆｕｌｌ-width ＦＯＸ", "full-width-fox"),
        ('a<b>c:d"e/f\\g|h?i*j', "a-b-c-d-e-f-g-h-i-j"),  # nothing Windows forbids
        ("CON", "con-clip"),  # a reserved device name on Windows
        ("com1", "com1-clip"),
        ("\u202eevil\u200b", "evil"),  # invisible formatting characters go
        ("!!! ...", "clip"),
    ],
)
def test_slug_keeps_letters_of_any_script(prompt: str, slug: str):
    assert slugify(prompt) == slug


def test_long_prompts_are_cut_within_limits():
    chinese = "一只小猫在阳光明媚的窗台上睡觉旁边放着一盆花镜头缓缓推进电影感高清细节丰富的画面" * 3
    assert slugify(chinese) == chinese[:40]
    devanagari = "नमस्ते" * 30
    cut = slugify(devanagari, max_len=40)
    assert devanagari.startswith(cut) and len(cut) <= 40
    assert unicodedata.category(devanagari[len(cut)])[0] != "M"  # never between a letter and its vowel sign
    for prompt in (chinese, devanagari, "𠀀" * 200):  # 4-byte characters too
        assert len(slugify(prompt).encode("utf-8")) <= SLUG_MAX_BYTES


def test_output_files_with_non_latin_names_can_be_written(tmp_path: Path):
    now = 1_700_000_000.0
    for prompt in ("一只小猫在窗台上睡觉", "Кошка спит", "قطة تنام"):
        path = unique_output_path(tmp_path, prompt, now)
        assert path.name.endswith(f"-{slugify(prompt)}.mp4")
        path.write_bytes(b"x")
        assert unique_output_path(tmp_path, prompt, now).name == f"{path.stem}-2.mp4"


def test_the_english_detector_flags_words_and_spares_names(qtbot):
    assert english_words("Generate") == ["Generate"]
    assert english_words("生成(&G) · 显存 1.2 / 24.0 GB · ContentV-8B") == []
    assert english_words("包含 <i>model_index.json</i> 的文件夹：transformer/、vae/") == []
    assert english_words("Choose folder…") == ["Choose", "folder"]
    widget = QWidget()
    qtbot.addWidget(widget)
    QLabel("帧率", widget)
    QComboBox(widget).addItem("Automatic")
    assert untranslated(widget) == ["QComboBox# item 0: 'Automatic'"]


def test_memory_gauge_with_a_gpu_in_chinese(language, qtbot):
    from gui.support.system_monitor import GpuSample, SystemSample
    from gui.widgets.vram_gauge import GIB, VramGauge

    language("zh_CN")
    gauge = VramGauge()
    qtbot.addWidget(gauge)
    sample = SystemSample(GpuSample("Test GPU", 6 * GIB, 24 * GIB), "", 8 * GIB, 32 * GIB)
    gauge.update_sample(sample)
    gauge.begin_job()
    assert gauge.gpu_label.text() == "显存 6.0 / 24.0 GB · 峰值 6.0"
    gauge.end_job(torch_peak_bytes=5 * GIB)
    assert gauge.gpu_label.text() == "显存 6.0 / 24.0 GB · 峰值 6.0（上个任务）"
    assert gauge.gpu_label.toolTip() == (
        "Test GPU：已用 6.0 GB，共 24.0 GB（所有程序）。\n上个任务期间最高：6.0 GB。\n"
        "上个任务中 PyTorch 自身分配的峰值：5.0 GB。"
    )
    assert gauge.ram_label.text() == "内存 8.0 / 32.0 GB"


def test_update_script_lists_and_applies_missing_translations(tmp_path: Path, monkeypatch):
    script = _update_script()
    monkeypatch.setattr(script, "TRANSLATIONS_DIR", tmp_path)
    ts = tmp_path / ZH_TS.name
    unfinished = '<translation type="unfinished"></translation>'
    source = ZH_TS.read_text(encoding="utf-8")
    panel = source.index("<name>MemoryPanel</name>")  # only the panel's entry ("VAE tiling" is in other contexts too)
    text = source[:panel] + source[panel:].replace("<translation>VAE 分块</translation>", unfinished, 1)
    ts.write_text(text, encoding="utf-8")
    assert script.untranslated("zh_CN") == {"MemoryPanel": {"VAE tiling": ""}}
    assert script.apply_translations("zh_CN", {"MemoryPanel": {"VAE tiling": "VAE 分块"}}) == 1
    assert script.untranslated("zh_CN") == {}
