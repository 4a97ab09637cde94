"""The loss-landscape window: the surface around the weights, its slice and its numbers.

Left: the loss over two filter-normalised random directions as a heatmap (log10 of the
loss, fixed levels, a colour bar), with isolines and the current weights marked at the
centre. Right: the 1-D slice through the centre and the interpolation from the initial
to the current weights. Below: local-minima share, roughness, Hessian extremes. The
computation runs on its own thread with a progress bar and Cancel.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from ...engine.landscape_run import summary_text
from ..controllers.landscape import LandscapeController
from ..plots import log_axis
from ..plots.colour_image import colour_image
from ..plots.titles import wrap_title
from ..plots.base import _log_range
from .screen_fit import fit_to_screen

PENDING = "pending"  # a paused run's weights, asked for and not saved yet


class LandscapeWindow(QWidget):
    """Opened from Train ▸ Loss landscape… on the current design."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.setObjectName("landscapeWindow")
        self.setWindowTitle("Loss landscape - DeskLab")
        fit_to_screen(self, (1200, 700))
        self.window = window
        self.controller = LandscapeController(self)
        self.controller.progress.connect(self._progress)
        self.controller.done.connect(self.show_report)
        self.controller.failed.connect(self._failed)
        window.training.controller.acknowledged.connect(self._weights_saved)
        self.weights = QComboBox()
        self.weights.setToolTip("At init, or the weights a run ended with (or a paused "
                                "run holds now)")
        self.grid = QSpinBox()
        self.grid.setRange(5, 101)
        self.grid.setValue(21)
        self.grid.setToolTip("Points per direction: grid x grid forward passes")
        self.span = QDoubleSpinBox()
        self.span.setRange(0.05, 10.0)
        self.span.setValue(1.0)
        self.span.setToolTip("Each direction is scaled from -span to span (filter norms)")
        self.compute = QPushButton("Compute")
        self.compute.setObjectName("landscapeCompute")
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.bar = QProgressBar()
        self.compute.clicked.connect(self.start)
        self.weights.currentIndexChanged.connect(self._choice_changed)
        self.cancel.clicked.connect(self.controller.cancel)
        controls = QHBoxLayout()
        for label, widget in (("weights", self.weights), ("grid", self.grid),
                              ("span", self.span)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.compute)
        controls.addWidget(self.cancel)
        controls.addWidget(self.bar, 1)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.surface = self.plots.addPlot()
        self.surface.setLabel("bottom", "direction 1 (a)")
        self.surface.setLabel("left", "direction 2 (b)")
        self.image, self.color_bar = colour_image(self.surface, "viridis", (-2, 1), width=12)
        # made once and updated (setData / setLevel): never re-created per result
        self.isolines = [pg.IsocurveItem(pen=pg.mkPen("w", width=1)) for _ in range(6)]
        for iso in self.isolines:
            iso.setParentItem(self.image)
        self.centre = pg.ScatterPlotItem(size=12, symbol="x", pen=pg.mkPen("r", width=3))
        self.surface.addItem(self.centre)
        self.lines = self.plots.addPlot(axisItems=log_axis.axes())
        for plot, title in ((self.surface, "Loss surface (log10 loss)"),
                            (self.lines, "Slice through the centre (a, b = 0) and "
                                         "interpolation from init")):
            wrap_title(plot)  # a narrow window wraps it instead of cutting the plot off
            plot.setTitle(title)
        self.lines.setLogMode(y=True)
        self.lines.disableAutoRange(axis="y")  # whole decades, labelled (see _show)
        self.lines.setYRange(-1.15, 1.15, padding=0)
        self.surface.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)  # before any
        # result: the span's own units, not pyqtgraph's default (0..1) scaled to mU
        for plot in (self.surface, self.lines):
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        self.lines.setLabel("bottom", "a  |  t (0 = init, 1 = current)")
        self.lines.setLabel("left", "loss")
        self.lines.addLegend(offset=(-10, 10))
        self.slice_curve = self.lines.plot(pen=pg.mkPen("#1565c0", width=2), name="slice (a)")
        self.line_curve = self.lines.plot(pen=pg.mkPen("#c62828", width=2, style=Qt.DashLine),
                                          name="init -> current (t)")
        self.summary = QLabel("Press Compute: grid x grid forward passes of one fixed batch.")
        self.summary.setObjectName("landscapeSummary")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.summary)
        self.refresh_choices()

    def refresh_choices(self, select=None) -> None:
        """Weights to measure: the current design at init, where the last run ended, and
        where each run of the Runs dock ended (``select``: that run's record). Weights
        are files the trainer process saved; a paused run is asked to save them now."""
        self.weights.clear()
        self.weights.addItem("current design, at init", (None, None))
        controller = self.window.training.controller
        ended = controller.ended_info
        if controller.state == "paused" and controller.design is not None:
            controller.request_weights()  # acknowledged with the file: `_weights_saved`
            self.weights.addItem(f"the paused run, at step {controller.step} (saving…)",
                                 (controller.design, PENDING))
            self.weights.setCurrentIndex(1)
        elif not controller.running and ended is not None and ended.weights_path:
            self.weights.addItem(f"the last run, at step {ended.step}",
                                 (controller.design, ended.weights_path))
            self.weights.setCurrentIndex(1)
        for record in reversed(self.window.runs.records):
            if record.extra.get("weights_path"):
                self.weights.addItem(f"run #{record.number} {record.name} ({record.state}, "
                                     f"{record.steps} steps)",
                                     (record.design, record.extra["weights_path"]))
                if record is select:
                    self.weights.setCurrentIndex(self.weights.count() - 1)
        self._choice_changed()

    def _weights_saved(self, name: str, path) -> None:
        """The paused run's weights are on disk: its entry can be measured."""
        if name != "weights":
            return
        for i in range(self.weights.count()):
            design, weights = self.weights.itemData(i)
            if weights is PENDING:
                if path:
                    self.weights.setItemData(i, (design, path))
                    self.weights.setItemText(i, self.weights.itemText(i).replace(
                        " (saving…)", ""))
                else:
                    self.weights.removeItem(i)
                break
        self._choice_changed()

    def _choice_changed(self, _index: int = 0) -> None:
        data = self.weights.currentData()
        waiting = data is not None and data[1] is PENDING
        self.compute.setEnabled(not waiting and not self.cancel.isEnabled())

    def start(self) -> None:
        design, weights = self.weights.currentData()
        design = (design or self.window.doc.design).copy()
        self.controller.start(design, weights, self.grid.value(), self.span.value())
        self.compute.setEnabled(False)
        self.cancel.setEnabled(True)
        self.bar.setValue(0)
        self.summary.setText("Computing…")

    def _failed(self, message: str) -> None:
        self.compute.setEnabled(True)
        self.cancel.setEnabled(False)
        self.summary.setText(f"<b>Could not compute the landscape:</b> {message}")

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    def show_report(self, report: dict) -> None:
        self.compute.setEnabled(True)
        self.cancel.setEnabled(False)
        a, b = np.array(report["a"]), np.array(report["b"])
        loss = np.array([[np.nan if v is None else v for v in row] for row in report["loss"]])
        z = np.log10(np.clip(loss, 1e-6, None)).astype(np.float32)  # (b, a) rows
        finite = z[np.isfinite(z)]
        levels = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if levels[0] == levels[1]:
            levels = (levels[0] - 0.5, levels[1] + 0.5)
        self.image.setImage(np.nan_to_num(z.T, nan=levels[1]), levels=levels)
        step = a[1] - a[0]
        self.image.setRect(a[0] - step / 2, b[0] - step / 2, step * len(a), step * len(b))
        self.surface.setRange(xRange=(a[0] - step / 2, a[-1] + step / 2),
                              yRange=(b[0] - step / 2, b[-1] + step / 2), padding=0)
        self.color_bar.setLevels(levels)
        filled = np.nan_to_num(z.T, nan=levels[1])
        for iso, level in zip(self.isolines, np.linspace(*levels, 8)[1:-1]):
            iso.setData(filled, level=float(level))
        self.centre.setData([0.0], [0.0])
        cut = np.array([np.nan if v is None else v for v in report["slice_a"]], dtype=float)
        self.slice_curve.setData(a, np.clip(np.nan_to_num(cut, nan=1e-6), 1e-6, None))
        line = report["interpolation"]
        along = np.clip(np.array([np.nan if v is None else v for v in line["loss"]],
                                 dtype=float), 1e-6, None)
        self.line_curve.setData(np.array(line["t"]), along)
        # whole decades of both curves: a slice within one decade keeps its labels
        _log_range(self.lines, np.concatenate([cut[np.isfinite(cut)], along]))
        s = report["summary"]
        ratio = s["abs_min_over_max"]
        cancelled = " (cancelled: the rows computed are shown)" if report.get("cancelled") \
            else ""

        def number(key: str, spec: str) -> str:
            return summary_text(s[key], spec, "–")
        self.summary.setText(
            f"<b>{report['design']}</b>, {report['weights']}{cancelled}: centre loss "
            f"{number('centre_loss', '.4g')} · local minima "
            f"{number('local_minima_share', '.1%')} of the grid · roughness "
            f"{number('roughness', '.3f')} · Hessian λmax {number('lambda_max', '.3g')}, "
            f"λmin {number('lambda_min', '.3g')}" + (f", |λmin/λmax| {ratio:.3g}"
                                                    if ratio is not None else "")
            + ". A smooth bowl has one minimum and "
            "roughness near 0.1; skip connections make deep nets' surfaces smooth (Li et al. "
            "2018).")

    def closeEvent(self, event) -> None:
        self.controller.shutdown()
        super().closeEvent(event)
