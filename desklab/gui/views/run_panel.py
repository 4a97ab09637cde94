"""The Runs dock: this session's runs, to reopen, compare / replay or delete."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
    QWidget,
)

from ..controllers.runs import RunList, RunRecord


class RunPanel(QWidget):
    """List of runs; select one to reopen, one or two to compare and replay."""

    open_requested = Signal(object)  # RunRecord
    compare_requested = Signal(list)  # [RunRecord, ...]

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
        self.open_button.clicked.connect(self._open)
        self.compare_button.clicked.connect(self._compare)
        self.delete_button.clicked.connect(self._delete)
        self.list.itemDoubleClicked.connect(lambda _item: self._open())
        buttons = QHBoxLayout()
        for b in (self.open_button, self.compare_button, self.delete_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
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

    def _open(self) -> None:
        if len(self.selected()) == 1:
            self.open_requested.emit(self.selected()[0])

    def _compare(self) -> None:
        if self.selected():
            self.compare_requested.emit(self.selected()[:2])

    def _delete(self) -> None:
        for record in self.selected():
            self.runs.remove(record)
