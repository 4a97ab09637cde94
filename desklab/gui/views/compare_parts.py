"""Small pieces of the compare window: a head-row button with its shortcut, a run's
colour swatch, a run's name as rich text that wraps around it."""

from __future__ import annotations

import html

from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QPushButton

from ..icons import icon


def head_button(icon_name: str, text: str, name: str, keys: str, tip: str, slot) -> QPushButton:
    """A head-row button with its shortcut (said in its tooltip)."""
    button = QPushButton(icon(icon_name), text)
    button.setObjectName(name)
    button.setShortcut(keys)
    button.setToolTip(f"{tip} ({keys})")
    button.clicked.connect(slot)
    return button


def swatch(color: str) -> QIcon:
    """A small square of a run's colour, for its entry in a side's chooser."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def unbroken(name: str) -> str:
    """``name`` as rich text that a wrapped title breaks around, not inside (Qt breaks
    at hyphens, and ignores a span's white-space: nowrap)."""
    return html.escape(name).replace("-", "\u2011").replace(" ", "&nbsp;")
