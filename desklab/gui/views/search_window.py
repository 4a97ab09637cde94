"""The search window: learning rate x L2 random search, the cs231n picture, live.

The scatter shows every trial at its (lr, L2) on log axes, coloured by validation
accuracy, or validation loss for a regression (a colour bar gives the scale; pruned
trials are hollow); the table lists them
(sortable); a progress bar counts finished trials; Cancel stops every process at its
next evaluation; "Apply best" puts the best trial's values into the design (undoable).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QSplitter,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from ...design.edit import set_field
from ...experiments.score import ACCURACY, score_of
from ...experiments.search import DEFAULT_SPACE, OPTIONAL_SPACE
from ..controllers.search import SearchController
from ..plots import log_axis
from ..plots.base import small_font

SPACES = DEFAULT_SPACE + OPTIONAL_SPACE


class SearchWindow(QWidget):
    """Opened from Train ▸ Search learning rate and L2…"""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.setObjectName("searchWindow")
        self.setWindowTitle("Hyperparameter search - DeskLab")
        self.resize(1200, 700)
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
        self.jobs = QSpinBox()
        self.jobs.setRange(1, max(1, os.cpu_count() or 1))
        self.jobs.setValue(min(4, os.cpu_count() or 1))
        self.jobs.setToolTip("Parallel processes (at most the number of cores)")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("searchStart")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.apply_button = QPushButton("Apply best to the design")
        self.apply_button.setEnabled(False)
        self.bar = QProgressBar()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.apply_button.clicked.connect(self.apply_best)
        controls = QHBoxLayout()
        for label, widget in (("trials", self.trials), ("processes", self.jobs)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        for widget in (self.start_button, self.cancel_button, self.apply_button):
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
        self.plot = pg.PlotWidget(axisItems=log_axis.axes(), background="w")
        self.plot.setLogMode(x=True, y=True)
        for side in ("bottom", "left"):  # values as they are (1e-4), never "(x0.001)"
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "L2 (regularisation)")
        self.plot.setTitle("Validation accuracy by learning rate and L2", size="10pt")
        self.scatter = pg.ScatterPlotItem(size=11)
        self.plot.addItem(self.scatter)
        self.cmap = pg.colormap.get("viridis")
        self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.cmap,
                                         interactive=False, width=12, label="val acc")
        self.color_bar.setImageItem(pg.ImageItem(), insert_in=self.plot.getPlotItem())
        self.color_bar.getAxis("right").setStyle(tickFont=small_font())
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("searchTable")
        self.table.setSortingEnabled(True)
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
        self.summary.setText(f"Searching {design.name}: {self.trials.value()} trials in "
                             f"{self.jobs.value()} process(es)…")

    def _frame(self) -> None:
        """Axes, title and colour scale for the ticked settings and the design's score,
        before the first trial too: the axes span the settings' ranges (the trials fall
        inside), not pyqtgraph's empty 1..10."""
        spaces = self.chosen() or DEFAULT_SPACE
        self.score = score_of(self.window.doc.design)
        self.names = [s.name for s in spaces]
        (x, y) = (spaces + spaces)[:2]  # the scatter: the first two settings
        self.plot.setLabel("bottom", x.name)
        self.plot.setLabel("left", y.name)
        self.plot.setTitle(f"{self.score.title} by {x.name} and {y.name}", size="10pt")
        self.plot.setXRange(_axis(x.low), _axis(x.high), padding=0.05)
        self.plot.setYRange(_axis(y.low), _axis(y.high), padding=0.05)
        # a loss spans decades and lower is better: log10, and the colours reversed so
        # the best trial is the bright one either way
        loss = self.score.direction == "minimize"
        self.cmap = pg.colormap.get("viridis")
        if loss:
            self.cmap.reverse()
        self.color_bar.setColorMap(self.cmap)
        self.color_bar.getAxis("left").setLabel(self.score.label + (" (log10)" if loss
                                                                    else ""))
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
        names = getattr(self, "names", ["lr", "l2"])
        x_name, y_name = (names + names)[:2]
        shown = [r for r in done if x_name in r["params"] and y_name in r["params"]]
        values = [self._shade(r["value"]) for r in shown if r["value"] is not None]
        # the colours span the values seen, so 0.72 and 0.85 look different
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.05, hi + 0.05
        self.color_bar.setLevels((lo, hi))
        spots = []
        for r in shown:
            acc = self._shade(r["value"]) if r["value"] is not None else lo
            color = self.cmap.map(min(max((acc - lo) / (hi - lo), 0.0), 1.0), mode="qcolor")
            pruned = r["state"] == "pruned"
            spots.append({"pos": (_axis(r["params"][x_name]), _axis(r["params"][y_name])),
                          "brush": None if pruned else pg.mkBrush(color),
                          "pen": pg.mkPen(color, width=2) if pruned else pg.mkPen("k"),
                          "data": r["number"]})
        self.scatter.setData(spots)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            values = (r["number"], r["stage"] or "",
                      *(float(r["params"].get(n, np.nan)) for n in names),
                      r["value"] if r["value"] is not None else np.nan, r["state"])
            for j, v in enumerate(values):
                item = QTableWidgetItem()
                item.setData(Qt.DisplayRole, float(f"{v:.4g}") if isinstance(v, float) else v)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()

    def _shade(self, value: float) -> float:
        """What a trial's colour stands for: its accuracy, or log10 of its loss."""
        if self.score.direction == "minimize":
            return math.log10(max(value, 1e-12))
        return value

    def _done(self, result: dict) -> None:
        self.result = result
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        best, base = result["best"], result["baseline"]
        if result.get("cancelled"):
            text = "Cancelled."
        elif best is None:
            text = "No trial finished."
        else:
            verdict = "beats" if result["beats_baseline"] else "could not beat"
            values = ", ".join(f"{k} {v:.3g}" for k, v in best["params"].items())
            own = (f"{self.score.label} {base['value']:.4g}" if base["value"] is not None
                   else "it diverged")
            text = (f"Best: trial {best['number']}, {values}: {self.score.label} "
                    f"{best['value']:.4g}; the search {verdict} the design's own setting "
                    f"({own}).")
        if best is not None:
            self.apply_button.setEnabled(True)
        self.summary.setText(text + " Every trial is a run in the Runs dock's run store.")

    def _failed(self, message: str) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.summary.setText(f"<b>The search failed:</b> {message}")

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


def _axis(value: float) -> float:
    """Position on the scatter's log axes (pyqtgraph's log mode takes log10)."""
    return math.log10(max(float(value), 1e-12))
