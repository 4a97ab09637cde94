"""The compare window's top row: every run's loss and accuracy overlaid (up to six, one
colour and letter each), and their mean |dL/dh| by depth (or, for recurrent runs,
||dL/dh_t|| by time step) at the slider.

Pointing at a plot reads it: the status bar gets each run's curves at the step (or
layer, or time step) under the mouse, as the live view's loss panel does. The layer
names under the depth plot are thinned for the room the plot has, again whenever it is
resized (they were thinned once, for the size the window opened at).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..plots import MAX_STEP_POINTS, _thin, draw_trend, legend_title, show_item
from ..plots import log_axis
from ..plots.layer_names import depth_ticks, overhanging_names
from ..plots.ranges import _forget_range, _set_range
from ...metrics.comparison import letter
from ...metrics.smoothing import RunningEma
from ..plots.titles import wrap_title

# runs A, B, C...: blue and orange first (a pair reads as it always did), then colours
# that stay apart from them and from each other on white
COLORS = ("#1e64c8", "#e07b00", "#2a9d3a", "#c8323c", "#7b4fc0", "#12a4b4")
MAX_RUNS = len(COLORS)  # an overlay of more is a tangle: the Runs dock says so
LETTERS = [letter(k) for k in range(MAX_RUNS)]  # as `desklab runs compare` letters them
DIVERGED = 100  # a loss this many times the runs' highest first loss is off the top
KEYS = [("train", "#555555", False), ("validation", "#555555", True)]  # solid, dashed
DEPTH_TITLE = "mean |dL/dh| by depth (at the slider)"
TIME_TITLE = "‖dL/dh_t‖ by time step (at the slider)"
LABELS = {"loss": "train loss", "val_loss": "validation loss",
          "train_acc": "train accuracy", "val_acc": "validation accuracy"}


class CompareCurves(pg.GraphicsLayoutWidget):
    """Loss, accuracy and depth plots of up to ``MAX_RUNS`` runs; see the module
    docstring."""

    readout = Signal(str)  # what is under the mouse ("" once it left every curve)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.loss = self.addPlot(axisItems=log_axis.axes())
        self.loss.setLogMode(y=True)
        self.step_marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#555555", style=Qt.DotLine))
        self.step_marker.hide()  # the replay slider's step on the loss curves
        self.loss.addItem(self.step_marker)
        self.acc = self.addPlot()
        self.acc.setYRange(0, 1.02)
        for plot in (self.loss, self.acc):
            plot.setLabel("bottom", "step")
        self.depth = self.addPlot(axisItems=log_axis.axes())
        self.depth.setLogMode(y=True)
        self.depth.setLabel("bottom", "layer (input → output)")
        overhanging_names(self.depth.getAxis("bottom"))
        for plot, title in ((self.loss, legend_title("Loss", KEYS)),
                            (self.acc, legend_title("Accuracy", KEYS)),
                            (self.depth, DEPTH_TITLE)):
            wrap_title(plot)  # a narrow window wraps the titles instead of cutting plots off
            plot.setTitle(title, size="9pt")
        for col in range(3):  # equal shares, whatever each title would like
            self.ci.layout.setColumnStretchFactor(col, 1)
        self.layer_names: list[str] = []  # the depth plot's ticks, when the runs share them
        self.lines = {}
        for k, color in enumerate(COLORS):
            solid, dash = pg.mkPen(color, width=1), pg.mkPen(color, width=1, style=Qt.DashLine)
            self.lines[k] = {"loss": self.loss.plot(pen=solid), "val_loss": self.loss.plot(
                pen=dash), "train_acc": self.acc.plot(pen=solid), "val_acc": self.acc.plot(
                pen=dash), "depth": self.depth.plot(pen=solid, symbol="o", symbolSize=5,
                                                    symbolBrush=color)}
            for key, plot in (("loss", self.loss), ("train_acc", self.acc)):  # its trend
                self.lines[k][f"{key}_smooth"] = plot.plot(pen=pg.mkPen(color, width=1.5))
            for item in self.lines[k].values():  # run A drawn over the others
                item.setZValue(-k)
        self.smoothing = 0.0  # TensorBoard's weight (`set_smoothing`); 0: the raw curves
        self._trends: dict = {}  # (run, key) -> its RunningEma (new points only, live)
        self.runs = 0  # how many runs are drawn
        self.hidden: set[int] = set()  # runs whose curves the user hid (the title's links)
        self._told = False  # a readout is in the status bar
        self.depth.vb.sigResized.connect(self._retick)
        self._short_acc = False  # the accuracy axis ticked 0, 0.5, 1 (`_acc_ticks`)
        self.acc.vb.sigResized.connect(self._acc_ticks)
        self.scene().sigMouseMoved.connect(self._moved)

    def show_curves(self, histories: list, at: int | None) -> None:
        """Each run's loss and accuracy (every step thinned, evaluations), the slider's
        step marked; the accuracy plot leaves the row when no run has one."""
        self.runs = len(histories)
        for k in range(self.runs, MAX_RUNS):  # no run there (any more): nothing drawn
            for item in self.lines[k].values():
                item.setData([], [])
            self._trends.pop((k, "loss"), None)
            self._trends.pop((k, "train_acc"), None)
        has_loss = has_accuracy = False  # a point to draw, in any run
        losses = []  # every run's drawn losses (train, validation)
        for k, h in enumerate(histories):
            for item in self.lines[k].values():
                item.setVisible(k not in self.hidden)
            for key in ("loss", "val_loss", "train_acc", "val_acc"):
                if key.startswith("val"):  # at evaluations
                    x, v = h.metrics.steps, h.metric(key) if len(h.metrics) else np.zeros(0)
                else:  # every training step, thinned for drawing
                    x, v = _thin(*h.step_series(key), MAX_STEP_POINTS)
                    self._show_smoothed(k, key, h)
                ok = np.isfinite(v) & ((v > 0) if "loss" in key else True)
                self.lines[k][key].setData(x[ok], v[ok])
                if "loss" in key and k not in self.hidden:  # (a hidden one sets no cap)
                    losses.append((k, v[ok]))
                has_loss |= key.endswith("loss") and bool(ok.any())
                has_accuracy |= key.endswith("acc") and bool(ok.any())
        self.step_marker.setVisible(at is not None)
        if at is not None:
            self.step_marker.setValue(at)
        self._cap_loss([h for k, h in enumerate(histories) if k not in self.hidden], losses)
        # runs with no accuracy (regressions, scripts that report none): no empty plot
        shown = has_accuracy or not has_loss
        if show_item(self.ci, self.acc, shown, row=0, col=1):  # its share goes too
            self.ci.layout.setColumnStretchFactor(1, int(shown))

    def set_smoothing(self, weight: float) -> None:
        """Smooth the training curves (loss, accuracy) with ``weight`` (TensorBoard's,
        `metrics.smoothing`; 0: off):
        each run's smoothed curve solid, its raw one faint behind it."""
        self.smoothing, self._trends = weight, {}
        for k, color in enumerate(COLORS):
            faint = pg.mkColor(color)
            faint.setAlpha(60 if weight else 255)
            for key in ("loss", "train_acc"):
                self.lines[k][key].setPen(pg.mkPen(faint, width=1))

    def _show_smoothed(self, k: int, key: str, history) -> None:
        """Run ``k``'s smoothed ``key`` curve: only its new steps averaged (a live run
        redrawn ten times a second; a replay slider's move redraws every run)."""
        steps, values = history.step_series(key)
        trend = self.smoothing > 0 and self._trends.setdefault((k, key),
                                                               RunningEma(self.smoothing))
        draw_trend(self.lines[k][f"{key}_smooth"], trend, steps, values, key == "loss")

    def _cap_loss(self, histories: list, losses: list) -> None:
        """A run whose loss went over ``DIVERGED`` times the highest first loss (one that
        diverged: 1e17 just before NaN) leaves the loss plot at its top, which the title
        says; the others keep the plot's height, not a flat line along its floor."""
        firsts = [v[np.isfinite(v) & (v > 0)][:1] for v in
                  (h.step_series("loss")[1] for h in histories)]
        firsts = np.concatenate(firsts) if firsts else np.zeros(0)
        cap = DIVERGED * float(firsts.max()) if firsts.size else np.inf
        over = sorted({LETTERS[k] for k, v in losses if v.size and v.max() > cap})
        kept = np.concatenate([v[v <= cap] for _, v in losses] or [np.zeros(0)])
        if over and kept.size:
            lo, hi = np.log10(kept.min()), np.log10(cap)
            _set_range(self.loss, "y", lo - 0.05 * (hi - lo), hi, padding=0.0)
        elif getattr(self.loss, "_range_y", None) is not None:  # no run over: fitted again
            _forget_range(self.loss, "y")
            self.loss.enableAutoRange("y")
        note = f"{', '.join(over)} off the top (over {DIVERGED}x the first loss)" \
            if over and kept.size else ""
        title = legend_title("Loss" + (f" · {note}" if note else ""), KEYS)
        if self.loss.titleLabel.text != title:
            self.loss.setTitle(title, size="9pt")

    def show_depth(self, k: int, snap, layouts: list, timed: bool) -> None:
        """Run ``k``'s mean |dL/dh| by depth at the slider; when every run is recurrent
        (``timed``), its ||dL/dh_t|| by time step instead (RNN against LSTM: the lesson's
        picture). ``layouts``: every shown run's layer names (numbers when they differ)."""
        title = TIME_TITLE if timed else DEPTH_TITLE
        if self.depth.titleLabel.text != title:
            self.depth.setTitle(title, size="9pt")
            self.depth.setLabel("bottom", "time step t" if timed else "layer (input → output)")
            self.depth.getAxis("bottom").setTicks(None)  # time steps: numbers, as they come
            self.layer_names = []
        if timed:
            grad = snap.time_grad[0]
            x = np.arange(1, len(grad) + 1)
        else:
            names = snap.layout.names
            if any(other != names for other in layouts):
                names = [str(i) for i in range(max(len(n) for n in layouts))]
            if names != self.layer_names:
                self.layer_names = names
                self._retick()
            grad = snap.stat("grad_mean_abs")
            x = np.arange(len(grad))
        ok = np.isfinite(grad) & (grad > 0)
        self.lines[k]["depth"].setData(x[ok], grad[ok])

    def _acc_ticks(self, *_) -> None:
        """0, 0.5, 1 on a short accuracy axis: pyqtgraph always draws its major ticks,
        and 0.2 apart their labels overlapped below 90 px (a small window, six runs'
        names over it)."""
        short = self.acc.vb.height() < 90
        if short != self._short_acc:
            self._short_acc = short
            self.acc.getAxis("left").setTickSpacing(*((0.5, 0.25) if short else ()))

    def _retick(self, *_) -> None:
        """Layer names under the depth plot (whole layers, not 0.5 steps), as many as
        fit its width now."""
        if self.layer_names:
            self.depth.getAxis("bottom").setTicks(
                depth_ticks(self.layer_names, self.depth.vb.width() or 300))

    def _moved(self, pos) -> None:
        text = self.read_at(pos)
        if text or self._told:
            self.readout.emit(text)
            self._told = bool(text)

    def read_at(self, pos) -> str:
        """The curves under scene position ``pos``, each with every run's value as drawn
        (smoothed, when it is): "train loss (smoothed 0.9) at step 40: A 0.31 · B 0.27 |
        validation loss at step 39: A 0.35 · B 0.3"."""
        for plot, keys in ((self.loss, ("loss", "val_loss")),
                           (self.acc, ("train_acc", "val_acc"))):
            if plot in self.ci.items and plot.vb.sceneBoundingRect().contains(pos):
                x = plot.vb.mapSceneToView(pos).x()
                return " | ".join(text for key in keys if (text := self._values_at(x, key)))
        if self.depth.vb.sceneBoundingRect().contains(pos):
            return self._depth_at(self.depth.vb.mapSceneToView(pos).x())
        return ""

    def _values_at(self, x: float, key: str) -> str:
        """Every run's ``key`` curve at its drawn point nearest step ``x``; where runs'
        nearest points are at different steps, each value says its own."""
        found = []  # (letter, step, value as text)
        smoothed = self.smoothing and not key.startswith("val")  # what is drawn solid
        label = f"{LABELS[key]} (smoothed {self.smoothing:g})" if smoothed else LABELS[key]
        for k in (k for k in range(self.runs) if k not in self.hidden):
            line = self.lines[k][f"{key}_smooth" if smoothed else key]
            steps, values = line.xData, line.yData
            if steps is not None and len(steps):
                i = int(np.argmin(np.abs(steps - x)))
                value = f"{values[i]:.4g}" if "loss" in key else f"{values[i]:.1%}"
                found.append((LETTERS[k], int(steps[i]), value))
        if not found:
            return ""
        if len({step for _, step, _ in found}) == 1:
            return f"{label} at step {found[0][1]}: " + " · ".join(
                f"{letter} {value}" for letter, _, value in found)
        return f"{label}: " + " · ".join(
            f"{letter} {value} at step {step}" for letter, step, value in found)

    def _depth_at(self, x: float) -> str:
        """The depth plot's values at the layer (or time step) nearest ``x``."""
        timed = self.depth.titleLabel.text == TIME_TITLE
        i = int(round(x))
        if timed:
            where = f"t {i}"
        elif 0 <= i < len(self.layer_names):
            where = f"layer {self.layer_names[i]}"
        else:
            return ""
        parts = []
        for k in (k for k in range(self.runs) if k not in self.hidden):
            steps, values = self.lines[k]["depth"].xData, self.lines[k]["depth"].yData
            if steps is not None and i in steps:
                parts.append(f"{LETTERS[k]} {values[list(steps).index(i)]:.2g}")
        what = "‖dL/dh_t‖" if timed else "mean |dL/dh|"
        return f"{where} · {what} " + ", ".join(parts) if parts else ""
