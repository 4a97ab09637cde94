"""The search window: learning rate x L2 random search, the cs231n picture, live.

The scatter shows every trial at its (lr, L2) on log axes, coloured by validation
accuracy, or validation loss for a regression (a colour bar gives the scale; pruned
trials are hollow, the best is starred; `search_scatter`); the table lists them
(sortable, the best in bold); choosing a trial in either marks it in the other, and a
double-click on a row opens the trial's run in the main window. A progress bar counts
finished trials; Cancel stops every process at its next evaluation; "Apply best" puts
the best trial's values into the design (undoable); "Compare best" opens the best
trials' runs in one compare window.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QSpinBox, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from ...design.edit import set_field
from ...errors import DeskLabError
from ...experiments.score import ACCURACY, score_of
from ...experiments.search import DEFAULT_SPACE, OPTIONAL_SPACE
from ..controllers.search import COMPARE_BEST, SearchController, best_trials, search_summary
from .search_scatter import SearchScatter
from .enter_key import on_enter
from .screen_fit import fit_to_screen

SPACES = DEFAULT_SPACE + OPTIONAL_SPACE


class SearchWindow(QWidget):
    """Opened from Train ▸ Search learning rate and L2…"""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.setObjectName("searchWindow")
        self.setWindowTitle("Hyperparameter search - DeskLab")
        fit_to_screen(self, (1200, 700))
        self.window = window
        self.result = None
        self.score = ACCURACY  # what the trials are ranked by: set from the design
        self.controller = SearchController(self)
        self.controller.rows.connect(self.show_rows)
        self.controller.done.connect(self._done)
        self.controller.failed.connect(self._failed)
        self.trials = QSpinBox()
        self.trials.setRange(1, 500)
        self.trials.setValue(12)
        self.trials.setObjectName("searchTrials")
        self.jobs = QSpinBox()
        self.jobs.setRange(1, max(1, os.cpu_count() or 1))
        self.jobs.setValue(min(4, os.cpu_count() or 1))
        self.jobs.setObjectName("searchJobs")
        self.jobs.setToolTip("Parallel processes (at most the number of cores)")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("searchStart")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.apply_button = QPushButton("Apply best to the design")
        self.apply_button.setEnabled(False)
        self.compare_button = QPushButton("Compare best")
        self.compare_button.setObjectName("searchCompare")
        self.compare_button.setToolTip(f"The {COMPARE_BEST} best trials' runs overlaid, the best A")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self.compare_best)
        self._rows: list = []  # the latest trials
        self.bar = QProgressBar()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.apply_button.clicked.connect(self.apply_best)
        controls = QHBoxLayout()
        for label, widget in (("trials", self.trials), ("processes", self.jobs)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        for widget in (self.start_button, self.cancel_button, self.apply_button,
                       self.compare_button):
            controls.addWidget(widget)
        controls.addWidget(self.bar, 1)
        # which settings to search: lr and L2 (the notes' pair) ticked, others on offer
        self.ticks = {}
        ticks = QHBoxLayout()
        ticks.addWidget(QLabel("search:"))
        for space in SPACES:
            box = QCheckBox(f"{space.name} {space.low:g}..{space.high:g}"
                            + (" (log)" if space.log else ""))
            box.setChecked(space in DEFAULT_SPACE)
            box.setObjectName(f"search_{space.name}")
            box.toggled.connect(self._ticked)
            self.ticks[space.name] = box
            ticks.addWidget(box)
        ticks.addStretch(1)
        self.plot = SearchScatter()
        self.plot.trial_clicked.connect(self._select_trial)
        self.scatter = self.plot.scatter
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("searchTable")
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()  # the "#" column numbers the trials
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setToolTip("Double-click a trial to open its run in the main window")
        self.table.itemSelectionChanged.connect(self._row_chosen)
        self.table.itemDoubleClicked.connect(self._open_trial)
        on_enter(self.table, self._open_current)
        self._runs: dict[int, str] = {}  # trial number -> its run file
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setSizes([650, 450])
        self.summary = QLabel("Random search, log-uniform over lr 1e-5..1e-1 and L2 "
                              "1e-6..1e-1, then a finer stage around the best (cs231n).")
        self.summary.setObjectName("searchSummary")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(ticks)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)

    def chosen(self) -> tuple:
        return tuple(s for s in SPACES if self.ticks[s.name].isChecked())

    def start(self) -> None:
        spaces = self.chosen()
        if not spaces:
            self.summary.setText("Tick at least one setting to search.")
            return
        analysis = self.window.doc.analysis
        if not analysis.ok:  # every trial would fail on it: say so before any process
            self.summary.setText(f"<b>The design has a problem:</b> "
                                 f"{html.escape(str(analysis.problems[0]))}. "
                                 "Fix it (its card says where), then search.")
            return
        design = self.window.doc.design.copy()
        self.result = None
        self._frame()
        self.table.setRowCount(0)
        self.controller.start(design, self.trials.value(), self.jobs.value(), spaces)
        self.bar.setRange(0, self.trials.value())
        self.bar.setValue(0)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.apply_button.setEnabled(False)
        self.compare_button.setEnabled(False)
        self._rows = []
        self.summary.setText(f"Searching {design.name}: {self.trials.value()} trials in "
                             f"{self.jobs.value()} process(es)…")

    def _frame(self) -> None:
        """Axes, title and colour scale for the ticked settings and the design's score,
        before the first trial too: the axes span the settings' ranges (the trials fall
        inside), not pyqtgraph's empty 1..10."""
        spaces = self.chosen() or DEFAULT_SPACE
        self.score = score_of(self.window.doc.design)
        self.names = [s.name for s in spaces]
        self.plot.frame(spaces, self.score)
        self.table.setColumnCount(len(self.names) + 4)
        self.table.setHorizontalHeaderLabels(["#", "stage", *self.names, self.score.label,
                                              "state"])

    def _ticked(self, _checked: bool = False) -> None:
        if self.controller.running:  # a running search keeps its own axes
            return
        self._frame()
        spaces = self.chosen()
        self.summary.setText(
            "Random search over " + ", ".join(
                f"{s.name} {s.low:g}..{s.high:g}{' (log-uniform)' if s.log else ''}"
                for s in spaces) + ", then a finer stage around the best (cs231n)."
            if spaces else "Tick at least one setting to search.")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        if not self.controller.running:  # the design may have changed (a regression now)
            self._frame()

    def show_rows(self, rows: list) -> None:
        done = [r for r in rows if r["state"] in ("complete", "pruned")]
        self.bar.setValue(len(done))
        best = self._best(rows)
        self.plot.show_trials(rows, best)
        names = getattr(self, "names", ["lr", "l2"])
        chosen = self._chosen_number()
        self._runs = {r["number"]: r["run"] for r in rows if r.get("run")}
        self._rows = rows
        self.compare_button.setEnabled(sum(r["state"] == "complete" for r in done) >= 2)
        bold = QFont(self.table.font())
        bold.setBold(True)
        with QSignalBlocker(self.table):  # refilled: the choice is put back below
            self.table.setSortingEnabled(False)
            self.table.setRowCount(len(rows))
            for i, r in enumerate(rows):
                values = (r["number"], r["stage"] or "",
                          *(float(r["params"].get(n, np.nan)) for n in names),
                          r["value"] if r["value"] is not None else np.nan, r["state"])
                for j, v in enumerate(values):
                    item = QTableWidgetItem()
                    item.setData(Qt.DisplayRole,
                                 float(f"{v:.4g}") if isinstance(v, float) else v)
                    if r["number"] == best:
                        item.setFont(bold)
                        item.setToolTip("The best trial so far")
                    self.table.setItem(i, j, item)
            self.table.setSortingEnabled(True)
            self._select_row(chosen)

    def _best(self, rows: list) -> int | None:
        """The number of the best complete trial (what "Apply best" would take)."""
        if self.result is not None and self.result.get("best") is not None:
            return self.result["best"]["number"]
        complete = [r for r in rows if r["state"] == "complete" and r["value"] is not None]
        if not complete:
            return None
        return min(complete, key=lambda r: self.score.order(r["value"]))["number"]

    def _chosen_number(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), 0) if rows else None
        return int(item.data(Qt.DisplayRole)) if item is not None else None

    def _select_row(self, number: int | None) -> None:
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if number is not None and item is not None and item.data(Qt.DisplayRole) == number:
                self.table.selectRow(i)
                self.table.scrollToItem(item)
                return
        self.table.clearSelection()

    def _select_trial(self, number: int) -> None:
        """A trial clicked on the scatter: its row chosen (and so its ring)."""
        self._select_row(number)
        self.plot.choose(number)

    def _row_chosen(self) -> None:
        self.plot.choose(self._chosen_number())

    def _open_current(self) -> None:
        if self.table.currentItem() is not None:
            self._open_trial(self.table.currentItem())

    def _open_trial(self, item: QTableWidgetItem) -> None:
        """Double-click or Enter: the trial's run in the main window (live while it
        trains)."""
        number = self.table.item(item.row(), 0).data(Qt.DisplayRole)
        run = self._runs.get(number)
        if run is None:
            self.summary.setText(f"Trial {number} has no run yet.")
            return
        if self.window.follow_run(Path(run)):
            self.window.raise_()
            self.window.activateWindow()

    def _done(self, result: dict) -> None:
        self.result = result
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.apply_button.setEnabled(result["best"] is not None)
        self.summary.setText(search_summary(result, self.score.label))

    def compare_best(self) -> None:
        """The best trials' runs (best first) in one compare window."""
        try:
            records = best_trials(self._rows, self.score.order)
        except (DeskLabError, ValueError, OSError, KeyError) as exc:
            self.summary.setText(f"<b>Cannot open a trial's run:</b> {html.escape(str(exc))}")
            return
        if records:
            self.window.compare_runs(records)

    def _failed(self, message: str) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.summary.setText(f"<b>The search failed:</b> {html.escape(message)}")

    def apply_best(self) -> None:
        best = self.result["best"] if self.result else None
        if best is None:
            return
        params = dict(best["params"])

        def mutate(design):
            for name, value in params.items():
                whole = isinstance(getattr(design.train, name), int)  # batch_size
                set_field(design, (), f"train.{name}", int(round(value)) if whole else value)
        self.window.doc.edit(f"Apply search trial {best['number']}", mutate)

    def closeEvent(self, event) -> None:
        self.controller.shutdown()
        super().closeEvent(event)

