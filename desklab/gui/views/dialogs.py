"""Small dialogs: choosing a lesson, keyboard shortcuts, about."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QTextBrowser, QVBoxLayout,
)

from ...lessons import GROUPS, PRESETS


def _searched(preset) -> str:
    """The text the lessons filter searches: title, summary, slug and what to look
    for, lower case, each CamelCase word also in its parts ("BatchNorm": "norm")."""
    text = f"{preset.title} {preset.summary} {preset.slug} {preset.look_for}"
    return f"{text} {re.sub(r'(?<=[a-z])(?=[A-Z])', ' ', text)}".lower()


class LessonDialog(QDialog):
    """The lessons browser: the lessons in sections (a filter narrows them), and the
    chosen one's explanation, what to look for, its data and length; open one, or run
    a lesson and its pair side by side."""

    run_both = Signal(str)  # the selected lesson's slug

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New from lesson")
        self.resize(860, 480)
        self.filter = QLineEdit()
        self.filter.setObjectName("lessonFilter")
        self.filter.setPlaceholderText("Filter: relu, batchnorm, lstm, cifar…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.list = QListWidget()
        self.list.setObjectName("lessonList")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.ElideRight)  # a long title ends in "…" (tooltip whole)
        self.list.setMinimumWidth(300)
        bold = QFont(self.list.font())
        bold.setBold(True)
        for group, slugs in GROUPS.items():
            header = QListWidgetItem(group)
            header.setFlags(Qt.NoItemFlags)  # a section title: not a lesson to pick
            header.setFont(bold)
            header.setForeground(self.palette().windowText())  # not greyed like a disabled item
            self.list.addItem(header)
            for slug in slugs:
                preset = PRESETS[slug]
                item = QListWidgetItem("    " + preset.title)
                item.setData(Qt.UserRole, slug)
                item.setToolTip(f"{preset.title}: {preset.summary}")
                self.list.addItem(item)
        self.text = QTextBrowser()
        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.open_button = buttons.button(QDialogButtonBox.Open)
        self.both = buttons.addButton("Run both side by side", QDialogButtonBox.ActionRole)
        self.both.setToolTip("Train this lesson and the one it is paired with, same seed and "
                             "batches, in a comparison window")
        self.both.clicked.connect(self._run_both)
        left = QVBoxLayout()
        left.addWidget(self.filter)
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addLayout(left, 2)
        row.addWidget(self.text, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.list.currentItemChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(1)  # the first lesson (row 0 is its section's title)
        self.filter.installEventFilter(self)  # Up / Down move through the list from there
        self.filter.setFocus()  # type to narrow, arrows to choose, Enter to open

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt naming)
        if watched is self.filter and event.type() == QEvent.KeyPress and event.key() in (
                Qt.Key_Up, Qt.Key_Down, Qt.Key_PageUp, Qt.Key_PageDown):
            QApplication.sendEvent(self.list, event)
            return True
        return super().eventFilter(watched, event)

    def _filter(self, text: str) -> None:
        """Show the lessons whose title, summary, slug or what to look for has a word
        starting with each word typed, with their sections; the choice moves to the
        first shown when it was hidden."""
        # each word typed starts a word of the text ("low" is not "below": "too low"
        # listed the LSTM lesson, whose gradient "fades too" to "below" the last step's)
        words = [re.compile(rf"(?<![a-z0-9]){re.escape(w)}") for w in text.lower().split()]
        header = None
        shown_in_group = False
        for i in range(self.list.count()):
            item = self.list.item(i)
            slug = item.data(Qt.UserRole)
            if slug is None:  # a section: shown when one of its lessons is
                if header is not None:
                    header.setHidden(not shown_in_group)
                header, shown_in_group = item, False
                continue
            hidden = not all(pattern.search(_searched(PRESETS[slug])) for pattern in words)
            item.setHidden(hidden)
            shown_in_group |= not hidden
        if header is not None:
            header.setHidden(not shown_in_group)
        current = self.list.currentItem()
        if current is None or current.isHidden():
            first = next((self.list.item(i) for i in range(self.list.count())
                          if self.list.item(i).data(Qt.UserRole) is not None
                          and not self.list.item(i).isHidden()), None)
            self.list.setCurrentItem(first)
            if first is None:
                self._show(None)

    def _run_both(self) -> None:
        if self.slug and PRESETS[self.slug].pair:
            self.run_both.emit(self.slug)
            self.reject()

    def _show(self, item) -> None:
        slug = item.data(Qt.UserRole) if item is not None else None
        self.open_button.setEnabled(slug is not None)
        if slug is None:
            self.both.setEnabled(False)
            self.text.setHtml("<p>No lesson matches the filter.</p>" if item is None else "")
            return
        p = PRESETS[slug]
        self.both.setEnabled(bool(p.pair))
        e = html.escape  # lesson text is plain text: "f' <= 1/4" must show in full
        pair = f"<p><i>Compare with:</i> {e(PRESETS[p.pair].title)}</p>" if p.pair else ""
        self.text.setHtml(f"<h3>{e(p.title)}</h3><p>{e(p.summary)}</p><p><b>Look for:</b> "
                          f"{e(p.look_for)}</p><p><b>Expected:</b> {e(p.expected)}</p>{pair}"
                          f"<p><small>{e(_facts(p))} · preset <code>{e(p.slug)}</code>"
                          f"</small></p>")

    def accept(self) -> None:
        if self.slug is not None:  # Enter on a section title opens nothing
            super().accept()

    @property
    def slug(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item else None


def _facts(preset) -> str:
    """The lesson's data and length: '10 000 sequences of Adding problem · 2500 steps'."""
    from ...design import DATASETS
    design = preset.design()
    entry = DATASETS.get(design.input.dataset)
    label = entry.label if entry is not None else design.input.dataset
    facts = [f"data: {label}", f"{design.train.steps:,} steps".replace(",", " ")]
    real = entry.meta.get("real") if entry is not None else None
    if real is not None:
        facts.append(f"needs {real.label}: a {real.megabytes} MB download, offered when "
                     "you train")
    return " · ".join(facts)


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
