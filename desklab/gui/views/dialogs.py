"""Small dialogs: choosing a lesson, keyboard shortcuts, about."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QTextBrowser,
    QVBoxLayout,
)

from ...lessons import PRESETS


class LessonDialog(QDialog):
    """The lessons browser: title, explanation, what to look for; open one, or run a
    lesson and its pair side by side."""

    run_both = Signal(str)  # the selected lesson's slug

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New from lesson")
        self.resize(760, 420)
        self.list = QListWidget()
        for slug, preset in PRESETS.items():
            item = QListWidgetItem(preset.title)
            item.setData(Qt.UserRole, slug)
            item.setToolTip(preset.summary)
            self.list.addItem(item)
        self.text = QTextBrowser()
        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.both = buttons.addButton("Run both side by side", QDialogButtonBox.ActionRole)
        self.both.setToolTip("Train this lesson and the one it is paired with, same seed and "
                             "batches, in a comparison window")
        self.both.clicked.connect(self._run_both)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addWidget(self.text, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.list.currentItemChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(0)

    def _run_both(self) -> None:
        if self.slug and PRESETS[self.slug].pair:
            self.run_both.emit(self.slug)
            self.reject()

    def _show(self, item) -> None:
        if item is None:
            return
        p = PRESETS[item.data(Qt.UserRole)]
        self.both.setEnabled(bool(p.pair))
        e = html.escape  # lesson text is plain text: "f' <= 1/4" must show in full
        pair = f"<p><i>Compare with:</i> {e(PRESETS[p.pair].title)}</p>" if p.pair else ""
        self.text.setHtml(f"<h3>{e(p.title)}</h3><p>{e(p.summary)}</p><p><b>Look for:</b> "
                          f"{e(p.look_for)}</p><p><b>Expected:</b> {e(p.expected)}</p>{pair}"
                          f"<p><small>preset <code>{e(p.slug)}</code></small></p>")

    @property
    def slug(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item else None


def shortcuts_dialog(parent, actions) -> QDialog:
    """A table of every action that has a shortcut."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keyboard shortcuts")
    seen, rows = set(), []
    for a in actions:
        keys = ", ".join(k.toString(QKeySequence.NativeText) for k in a.shortcuts())
        text = a.text().replace("&", "")
        if keys and (keys, text) not in seen:
            seen.add((keys, text))
            rows.append(f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(text)}"
                        "</td></tr>")
    rows = "".join(rows)
    label = QLabel(f"<table cellpadding='4'>{rows}</table>"
                   "<p>In the network: drag cards to reorder; drop on the middle of a "
                   "residual block to put a layer inside it.</p>")
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(label)
    layout.addWidget(buttons)
    return dialog
