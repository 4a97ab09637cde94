"""The Runs dock: this session's runs, to reopen, compare / replay or delete, the
run store (every recorded run, also from scripts under desklab.watch), to open or follow
live, and, once File > Open remote run connected to one, a `desklab serve`'s runs."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMessageBox, QPushButton, QVBoxLayout, QWidget,
)

from ...errors import DeskLabError
from ...runs import list_runs

from ..controllers.runs import RunList, RunRecord
from .compare_curves import MAX_RUNS
from .enter_key import on_enter


MAX_LISTED = 200  # run store lines listed at once (the newest; the filter finds others)


class RunPanel(QWidget):
    """List of runs; select one to reopen, one to replay, several to compare."""

    open_requested = Signal(object)  # RunRecord
    compare_requested = Signal(object)  # [RunRecord, ...]
    follow_requested = Signal(object)  # Path of a run in the run store
    landscape_requested = Signal(object)  # RunRecord: the surface where it ended
    follow_remote_requested = Signal(object)  # a run (dict) of a server's listing

    def __init__(self, runs: RunList, parent=None):
        super().__init__(parent)
        self.runs = runs
        self.setObjectName("run_panel")
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setWordWrap(True)
        self.list.setToolTip(f"Runs of this session. Select one to reopen it, one to replay "
                             f"its snapshots, two to {MAX_RUNS} to compare them.")
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
        on_enter(self.list, self._open)
        buttons = QGridLayout()  # two by two: four in a row made the dock 380 px wide
        for i, b in enumerate((self.open_button, self.compare_button, self.landscape_button,
                               self.delete_button)):
            buttons.addWidget(b, i // 2, i % 2)
        self.stored = QListWidget()
        self.stored.setObjectName("storedRuns")
        self.stored.setToolTip("Every recorded run (the app, desklab train, your scripts "
                               "under desklab.watch). Double-click or Enter to open; a running one "
                               "is followed live.")
        self.stored.itemDoubleClicked.connect(self._follow)
        on_enter(self.stored, self._follow_current)
        self.stored.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.stored_filter = QLineEdit()  # a sweep among hundreds of runs, in a few keys
        self.stored_filter.setObjectName("storedFilter")
        self.stored_filter.setPlaceholderText("filter: words of a name, source, status")
        self.stored_filter.setToolTip("Every recorded run, also from other programs: the "
                                      "runs whose line holds every word typed "
                                      f"(the newest {MAX_LISTED} of them); Ctrl+A in the "
                                      "list then chooses them all")
        self.stored_filter.setClearButtonEnabled(True)
        self.stored_filter.textChanged.connect(self.refresh_store)
        self.stored_open = QPushButton("Open / follow")
        self.stored_compare = QPushButton("Compare / replay")
        self.stored_compare.setObjectName("storedCompare")
        self.stored_open.clicked.connect(self._follow_current)
        self.stored_compare.clicked.connect(self._compare_stored)
        self.stored.itemSelectionChanged.connect(self._enable_stored)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        store_row = QHBoxLayout()  # one row: on a line of its own the filter took the
        store_row.addWidget(QLabel("Run store:"))  # list's room at 1280 x 720
        store_row.addWidget(self.stored_filter, 1)
        layout.addLayout(store_row)
        layout.addWidget(self.stored)
        stored_buttons = QHBoxLayout()
        stored_buttons.addWidget(self.stored_open)
        stored_buttons.addWidget(self.stored_compare)
        layout.addLayout(stored_buttons)
        self._enable_stored()
        self._make_remote(layout)
        self.store_timer = QTimer(self)  # a script may start a run at any time
        self.store_timer.setInterval(3000)
        self.store_timer.timeout.connect(self._poll_store)
        self.store_timer.start()
        self.refresh_store()
        runs.changed.connect(self.refresh)
        runs.changed.connect(self.refresh_store)  # a run of this window, listed at once
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
        _enable_compare(self.compare_button, n)
        self.delete_button.setEnabled(n >= 1)
        self.landscape_button.setEnabled(n == 1 and bool(
            self.selected()[0].extra.get("weights_path")))

    def _open(self) -> None:
        if len(self.selected()) == 1:
            self.open_requested.emit(self.selected()[0])

    def _compare(self) -> None:
        chosen = self.selected()
        if chosen:  # A, B, C... as the list shows them: newest first
            self.compare_requested.emit(chosen[::-1][:MAX_RUNS])

    def _delete(self) -> None:
        for record in self.selected():
            self.runs.remove(record)

    def tab_shown(self, shown: bool) -> None:
        """The dock's tab brought forward (its ``visibilityChanged``): the store as it
        is now, not as of up to a poll before (behind another tab it does not poll)."""
        if shown:
            self.refresh_store()

    def _poll_store(self) -> None:
        """The poll's refresh, skipped while the panel is hidden, a dock tab behind
        another included (Qt keeps that one "visible"): it is read when it shows."""
        if (not self.isVisible() or self.visibleRegion().isEmpty()) and self.stored.count():
            return
        self.refresh_store()

    def refresh_store(self) -> None:
        """List the run store, newest first (those the filter's words all name, the
        newest ``MAX_LISTED`` of them); live runs marked."""
        selected = {item.data(Qt.UserRole) for item in self.stored.selectedItems()}
        words = self.stored_filter.text().lower().split()
        lines = []  # (text, tooltip, unreadable, path) of each run the words all name
        for info in list_runs():
            if info.status == "unreadable":  # listed, so it is not a silent gap
                line = (f"{info.name} · unreadable", f"{info.path}\n{info.problem}", True)
            else:
                when = time.strftime("%m-%d %H:%M", time.localtime(info.started))
                line = (_run_line(info.name, info.source, info.status, info.steps, when),
                        str(info.path) + (f"\n{info.status}: {info.cause}" if info.cause
                                          else ""), False)
            if all(word in f"{line[0]} {info.path.name}".lower() for word in words):
                lines.append((*line, str(info.path)))
        self.stored.clear()
        for text, tip, unreadable, path in lines[:MAX_LISTED]:
            item = QListWidgetItem(text)
            item.setToolTip(tip)
            if unreadable:
                item.setForeground(QColor("#a03030"))
            item.setData(Qt.UserRole, path)
            self.stored.addItem(item)
            item.setSelected(path in selected)
        more = len(lines) - MAX_LISTED
        if more > 0 or not lines:  # said in the list, never chosen
            note = QListWidgetItem(f"… and {more} older: type words of a name to find them"
                                   if more > 0 else "No run holds every word typed"
                                   if words else "No runs recorded yet")
            note.setFlags(Qt.NoItemFlags)
            self.stored.addItem(note)

    def _make_remote(self, layout: QVBoxLayout) -> None:
        """The remote section: hidden until a server is connected."""
        self.remote_label = QLabel()
        self.remote_label.setObjectName("remote_status")
        self.remote_label.setWordWrap(True)
        self.remote = QListWidget()
        self.remote.setObjectName("remoteRuns")
        self.remote.setWordWrap(True)
        self.remote.setToolTip("The runs of the server File > Open remote run connected "
                               "to. Double-click to follow one live.")
        self.remote.itemDoubleClicked.connect(self._follow_remote)
        on_enter(self.remote, self._follow_remote_current)
        self.remote_follow = QPushButton("Follow remote run")
        self.remote_follow.setObjectName("remote_follow")
        self.remote_follow.clicked.connect(lambda: self._follow_remote(
            self.remote.currentItem()))
        self.remote.currentItemChanged.connect(
            lambda item, _old: self.remote_follow.setEnabled(item is not None))
        for widget in (self.remote_label, self.remote, self.remote_follow):
            layout.addWidget(widget)
            widget.hide()

    def show_remote(self, url: str, runs: list[dict] | None, problem: str = "") -> None:
        """A server's listing (newest first), or ``problem`` when it did not answer (the
        last listing stays, so a run can still be chosen when it is back)."""
        for widget in (self.remote_label, self.remote, self.remote_follow):
            widget.show()
        if runs is None:
            self.remote_label.setText(f"Remote {url}: {problem}")
            self.remote_label.setStyleSheet("color: #a03030")
            return
        self.remote_label.setText(f"Remote {url}: {len(runs)} run"
                                  f"{'' if len(runs) == 1 else 's'}")
        self.remote_label.setStyleSheet("")
        current = self.remote.currentItem()
        chosen = current.data(Qt.UserRole)["id"] if current is not None else None
        self.remote.clear()
        for run in runs[:200]:
            # the listing is another machine's word: only its numbers used as numbers
            started, steps = run.get("started"), run.get("steps")
            when = time.strftime("%m-%d %H:%M", time.localtime(started)) if isinstance(
                started, (int, float)) and 0 <= started < 2 ** 40 else "?"
            item = QListWidgetItem(_run_line(
                run["name"][:80], str(run.get("source"))[:20], str(run.get("status"))[:20],
                steps if isinstance(steps, int) else 0, when))
            item.setData(Qt.UserRole, run)
            item.setToolTip(str(run.get("problem") or f"{url} · {run['id'][:12]}")[:300])
            self.remote.addItem(item)
            if run["id"] == chosen:
                self.remote.setCurrentItem(item)
        self.remote_follow.setEnabled(self.remote.currentItem() is not None)

    def _follow_remote(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.follow_remote_requested.emit(item.data(Qt.UserRole))

    def _follow_current(self) -> None:  # (Enter: a bound method, see enter_key)
        self._follow(self.stored.currentItem())

    def _follow_remote_current(self) -> None:
        self._follow_remote(self.remote.currentItem())

    def _follow(self, item: QListWidgetItem | None) -> None:
        if item is not None and item.data(Qt.UserRole):  # (not the list's last note)
            self.follow_requested.emit(Path(item.data(Qt.UserRole)))

    def _enable_stored(self) -> None:
        n = len(self.stored.selectedItems())
        self.stored_open.setEnabled(n == 1)
        _enable_compare(self.stored_compare, n)

    def _compare_stored(self) -> None:
        """Recorded runs, designed or watched, compared (in the list's order)."""
        from ..controllers.runs import stored_record
        records = []
        for item in sorted(self.stored.selectedItems(), key=self.stored.row)[:MAX_RUNS]:
            try:
                records.append(stored_record(item.data(Qt.UserRole)))
            except (DeskLabError, ValueError, OSError, KeyError) as exc:
                QMessageBox.warning(self, "Cannot open the run", str(exc))
                return
        if records:
            self.compare_requested.emit(records)


def _run_line(name: str, source: str, status: str, steps: int, when: str) -> str:
    """One run's line in the run store's and a server's lists; a live run marked."""
    live = "● live · " if status == "running" else ""
    return f"{live}{name} · {source} · {status} · {steps:,} steps · {when}"


def _enable_compare(button: QPushButton, selected: int) -> None:
    """Compare takes one run (replayed) up to ``MAX_RUNS`` (overlaid); with more selected
    it says why it is greyed out rather than taking some of them at random."""
    button.setEnabled(1 <= selected <= MAX_RUNS)
    button.setToolTip(f"Replay the selected run, or compare two to {MAX_RUNS}: their curves "
                      f"overlaid, two side by side in detail" if selected <= MAX_RUNS
                      else f"Compare overlays up to {MAX_RUNS} runs: {selected} are selected")
