"""A calm dark theme (Fusion + palette + a short style sheet): video tools are used for long stretches and a
dark frame keeps the eye on the clip."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

ACCENT = "#6d5ae6"
ACCENT_HOVER = "#7d6cf0"

_COLOURS = {
    QPalette.ColorRole.Window: "#1e2027",
    QPalette.ColorRole.WindowText: "#e4e6ec",
    QPalette.ColorRole.Base: "#16181d",
    QPalette.ColorRole.AlternateBase: "#252833",
    QPalette.ColorRole.ToolTipBase: "#2b2e38",
    QPalette.ColorRole.ToolTipText: "#e4e6ec",
    QPalette.ColorRole.PlaceholderText: "#7b8190",
    QPalette.ColorRole.Text: "#e4e6ec",
    QPalette.ColorRole.Button: "#2a2d37",
    QPalette.ColorRole.ButtonText: "#e4e6ec",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#4a3fb0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#9d8cff",
    QPalette.ColorRole.Light: "#3a3e4a",
    QPalette.ColorRole.Midlight: "#30333e",
    QPalette.ColorRole.Mid: "#262932",
    QPalette.ColorRole.Dark: "#121317",
    QPalette.ColorRole.Shadow: "#000000",
}

STYLE_SHEET = f"""
QGroupBox {{
    border: 1px solid #2f3340; border-radius: 8px; margin-top: 14px; padding: 10px 10px 8px 10px;
    background: #22252d;
}}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #aab0c0; font-weight: 600; }}
QLabel[role="heading"] {{ font-weight: 600; font-size: 11pt; }}
QLabel[role="subheading"] {{ color: #aab0c0; font-weight: 600; margin-top: 4px; }}
QLabel[role="hint"] {{ color: #8a90a0; }}
QLabel[role="note"] {{ color: #e0b35a; }}
QLabel[role="advice"] {{ background: #262a35; border-left: 3px solid {ACCENT}; padding: 6px 8px; }}
QLabel#modelStatusLabel[state="ok"] {{ color: #5fcf97; }}
QLabel#modelStatusLabel[state="error"] {{ color: #f07a7c; }}
QLabel#modelStatusLabel[state="hint"], QLabel#modelStatusLabel[state="busy"] {{ color: #8a90a0; }}
QLabel#problemsLabel {{ color: #f0a35a; }}
QLabel#videoPlaceholder {{ color: #6f7585; font-size: 12pt; background: #111216; border-radius: 8px; }}
QStackedWidget#videoStack {{ background: #0c0d10; border-radius: 8px; }}
QPushButton {{ padding: 5px 12px; border-radius: 5px; border: 1px solid #3a3e4a; background: #2a2d37; }}
QPushButton:hover {{ background: #323644; }}
QPushButton:disabled {{ color: #666b78; background: #23252d; border-color: #2c2f38; }}
QPushButton#generateButton {{
    background: {ACCENT}; border: 1px solid {ACCENT}; color: white; font-weight: 600; padding: 8px 18px;
}}
QPushButton#generateButton:hover {{ background: {ACCENT_HOVER}; }}
QPushButton#generateButton:disabled {{ background: #3a3757; border-color: #3a3757; color: #9a98b0; }}
QPushButton#cancelButton {{ padding: 8px 14px; }}
QPushButton#resetNegativeButton {{ border: none; background: transparent; color: #9d8cff; padding: 0 2px; }}
QPushButton#resetNegativeButton:hover {{ text-decoration: underline; }}
QProgressBar {{
    border: 1px solid #30333e; border-radius: 5px; background: #16181d; text-align: center; min-height: 16px;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QProgressBar#vramBar, QProgressBar#ramBar {{ min-height: 8px; max-height: 10px; border-radius: 4px; }}
QProgressBar#vramBar::chunk, QProgressBar#ramBar::chunk {{ background: #3fb07f; border-radius: 3px; }}
QProgressBar[level="mid"]::chunk {{ background: #d9a23f; }}
QProgressBar[level="high"]::chunk {{ background: #e0585b; }}
QWidget#historyPanel QPushButton {{ padding: 4px 8px; }}
QPushButton#makeDemoModelButton {{ border: none; background: transparent; color: #9d8cff; padding: 2px 0; }}
QPushButton#makeDemoModelButton:hover {{ text-decoration: underline; }}
QPushButton#makeDemoModelButton:disabled {{ color: #666b78; background: transparent; }}
QListView#historyList {{ border: 1px solid #2a2d37; border-radius: 6px; background: #181a20; }}
QScrollArea#leftScroll {{ border: none; }}
QSplitter::handle {{ background: #1a1c22; }}
QSplitter::handle:horizontal {{ width: 6px; }}
QStatusBar {{ background: #191b21; border-top: 1px solid #2a2d37; }}
QStatusBar::item {{ border: none; }}
QToolTip {{ border: 1px solid #3a3e4a; padding: 4px; }}
"""


def apply_theme(app: QApplication) -> None:
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    palette = QPalette()
    for role, colour in _COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b707c"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
