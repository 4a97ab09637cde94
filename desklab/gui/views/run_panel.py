"""The Runs dock: this session's runs, to reopen, compare / replay or delete, and the
run store (every recorded run, also from scripts under desklab.watch), to open or follow
live."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox,
    QPushButton, QVBoxLayout, QWidget,
)

from ...errors import DeskLabError
from ...runs import list_runs

from ..controllers.runs import RunList, RunRecord


class RunPanel(QWidget):
    """List of runs; select one to reopen, one or two to compare and replay."""

    open_requested = Signal(object)  # RunRecord
    compare_requested = Signal(list)  # [RunRecord, ...]
    follow_requested = Signal(object)  # Path of a run in the run store
    landscape_requested = Signal(object)  # RunRecord: the surface where it ended

    def __init__(self, runs: RunList, parent=None):
        super().__init__(parent)
        self.runs = runs
        self.setObjectName("run_panel")
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setWordWrap(True)
        self.list.setToolTip("Runs of this session. Select one to reopen it, one or two to "
                             "compare and replay their snapshots.")
        self.open_button = QPushButton("Open")
        self.compare_button = QPushButton("Compare / replay")
        self.delete_button = QPushButton("Delete")
        self.landscape_button = QPushButton("Landscape")
        self.landscape_button.setToolTip("The loss landscape where this run ended")
        self.landscape_button.clicked.connect(
            lambda: self.selected() and self.landscape_requested.emit(self.selected()[0]))
        self.open_button.clicked.connect(self._open)
        self.compare_button.clicked.connect(self._compare)
        self.delete_button.clicked.connect(self._delete)
        self.list.itemDoubleClicked.connect(lambda _item: self._open())
        buttons = QGridLayout()  # two by two: four in a row made the dock 380 px wide
        for i, b in enumerate((self.open_button, self.compare_button, self.landscape_button,
                               self.delete_button)):
            buttons.addWidget(b, i // 2, i % 2)
        self.stored = QListWidget()
        self.stored.setObjectName("storedRuns")
        self.stored.setToolTip("Every recorded run (the app, desklab train, your scripts "
                               "under desklab.watch). Double-click to open; a running one "
                               "is followed live.")
        self.stored.itemDoubleClicked.connect(self._follow)
        self.stored.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.stored_open = QPushButton("Open / follow")
        self.stored_compare = QPushButton("Compare / replay")
        self.stored_open.clicked.connect(lambda: self._follow(self.stored.currentItem()))
        self.stored_compare.clicked.connect(self._compare_stored)
        self.stored.itemSelectionChanged.connect(self._enable_stored)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        store_label = QLabel("Run store (also from other programs):")
        store_label.setWordWrap(True)
        layout.addWidget(store_label)
        layout.addWidget(self.stored)
        stored_buttons = QHBoxLayout()
        stored_buttons.addWidget(self.stored_open)
        stored_buttons.addWidget(self.stored_compare)
        layout.addLayout(stored_buttons)
        self._enable_stored()
        self.store_timer = QTimer(self)  # a script may start a run at any time
        self.store_timer.setInterval(3000)
        self.store_timer.timeout.connect(self.refresh_store)
        self.store_timer.start()
        self.refresh_store()
        runs.changed.connect(self.refresh)
        self.list.itemSelectionChanged.connect(self._enable)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for record in reversed(self.runs.records):
            item = QListWidgetItem(record.summary())
            item.setData(Qt.UserRole, record.number)
            self.list.addItem(item)
        self._enable()

    def selected(self) -> list[RunRecord]:
        numbers = {item.data(Qt.UserRole) for item in self.list.selectedItems()}
        return [r for r in self.runs.records if r.number in numbers]

    def _enable(self) -> None:
        n = len(self.selected())
        self.open_button.setEnabled(n == 1)
        self.compare_button.setEnabled(n in (1, 2))
        self.delete_button.setEnabled(n >= 1)
        self.landscape_button.setEnabled(n == 1 and bool(
            self.selected()[0].extra.get("weights_path")))

    def _open(self) -> None:
        if len(self.selected()) == 1:
            self.open_requested.emit(self.selected()[0])

    def _compare(self) -> None:
        if self.selected():
            self.compare_requested.emit(self.selected()[:2])

    def _delete(self) -> None:
        for record in self.selected():
            self.runs.remove(record)

    def refresh_store(self) -> None:
        """List the run store, newest first; live runs marked (skipped while hidden)."""
        if not self.isVisible() and self.stored.count():
            return
        selected = {item.data(Qt.UserRole) for item in self.stored.selectedItems()}
        self.stored.clear()
        for info in list_runs()[:200]:
            if info.status == "unreadable":  # listed, so it is not a silent gap
                item = QListWidgetItem(f"{info.name} · unreadable")
                item.setForeground(QColor("#a03030"))
                item.setToolTip(f"{info.path}\n{info.problem}")
            else:
                when = time.strftime("%m-%d %H:%M", time.localtime(info.started))
                live = "● live · " if info.status == "running" else ""
                item = QListWidgetItem(f"{live}{info.name} · {info.source} · {info.status}"
                                       f" · {info.steps:,} steps · {when}")
                item.setToolTip(str(info.path))
            item.setData(Qt.UserRole, str(info.path))
            self.stored.addItem(item)
            item.setSelected(str(info.path) in selected)

    def _follow(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.follow_requested.emit(Path(item.data(Qt.UserRole)))

    def _enable_stored(self) -> None:
        n = len(self.stored.selectedItems())
        self.stored_open.setEnabled(n == 1)
        self.stored_compare.setEnabled(n in (1, 2))

    def _compare_stored(self) -> None:
        """Any one or two recorded runs, designed or watched, side by side."""
        from ..controllers.runs import stored_record
        records = []
        for item in self.stored.selectedItems()[:2]:
            try:
                records.append(stored_record(item.data(Qt.UserRole)))
            except (DeskLabError, ValueError, OSError, KeyError) as exc:
                QMessageBox.warning(self, "Cannot open the run", str(exc))
                return
        if records:
            self.compare_requested.emit(records)
