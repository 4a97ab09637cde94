"""The live plots. Items are created once per run layout and updated with
setData / setImage from the latest data; nothing here runs per training step.

Every panel has ``update(history)``, ``set_layout(layout)`` and
``highlight(index)`` (a layer hovered anywhere is drawn thicker everywhere).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..metrics import ProbeLayout, RunHistory

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
_SMALL = None  # set on first use: a QFont needs a QGuiApplication

RECENT = 60  # snapshots that set the y range of time plots ("recent values")
MAX_POINTS = 200  # time series are thinned to this many points for drawing
CLASS_COLORS = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                         (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                         (188, 189, 34), (23, 190, 207)], float) / 255


def depth_colors(n: int) -> list:
    """One colour per layer, input (dark blue) to output (yellow)."""
    cmap = pg.colormap.get("viridis")
    return [cmap.map(i / max(n - 1, 1), mode="qcolor") for i in range(n)]


def _thin(steps: np.ndarray, values: np.ndarray):
    stride = max(1, len(steps) // MAX_POINTS)
    return steps[::stride], values[..., ::stride]


def nice_ceiling(x: float) -> float:
    """The next of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above x: the range
    grows in steps of at most 25%, so it changes rarely but leaves little empty space."""
    if x <= 1:
        return 1.0
    power = 10 ** np.floor(np.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * power >= x:
            return float(m * power)
    return float(10 * power)


def _set_range(plot, axis: str, lo: float, hi: float) -> None:
    """Change a range only when it really changed: every change makes each curve recompute
    its bounds at the next paint, which with 50+ curves was most of the GUI's time."""
    key = f"_range_{axis}"
    if getattr(plot, key, None) == (lo, hi):
        return
    setattr(plot, key, (lo, hi))
    (plot.setXRange if axis == "x" else plot.setYRange)(lo, hi, padding=0)


def _step_range(plot, steps: np.ndarray) -> None:
    """x spans the run up to a "nice" limit, so it moves only now and then."""
    if len(steps):
        _set_range(plot, "x", float(steps[0]), nice_ceiling(float(steps[-1]) + 1))


def _log_range(plot, values: np.ndarray) -> None:
    """Fit a log y axis to recent finite positive values (not all-time extremes), snapped
    to whole decades so it changes only when the data moves by a decade."""
    v = values[np.isfinite(values) & (values > 0)]
    if v.size:
        lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
        _set_range(plot, "y", float(lo), float(max(hi, lo + 1)))


def _titled(plot, title: str) -> None:
    plot.setTitle(title, size="9pt")


class Panel(pg.GraphicsLayoutWidget):
    """Base: a titled group of plots over the layers of one run."""

    hovered = Signal(int)  # layer index under the mouse, -1 for none

    def __init__(self, title: str, parent=None):
        global _SMALL
        if _SMALL is None:
            from PySide6.QtGui import QFont
            _SMALL = QFont()
            _SMALL.setPointSize(8)
        super().__init__(parent)
        self.setBackground("w")
        self.title = title
        self._install_save_actions()
        self.layout_ = None
        self.colors: list = []
        self.highlighted = -1
        self._styled = None  # the highlight the pens were last set for
        self._drawn_step = None  # the latest snapshot step the time series show

    def _install_save_actions(self) -> None:
        """The right-click menu saves the panel as PNG or SVG. pyqtgraph's own SVG
        exporter fails on every plot with this Qt (a path-format change), so the panel
        is rendered with Qt's QSvgGenerator instead."""
        from PySide6.QtGui import QAction
        actions = []
        for fmt in ("PNG", "SVG"):
            action = QAction(f"Save plot as {fmt}…", self)
            action.triggered.connect(lambda _=False, f=fmt: self._ask_and_save(f))
            actions.append(action)
        self.scene().contextMenu = actions

    def _ask_and_save(self, fmt: str) -> None:
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self, f"Save {self.title}",
                                              f"{self.title}.{fmt.lower()}",
                                              f"{fmt} (*.{fmt.lower()})")
        if path:
            self.save_image(path)

    def save_image(self, path: str) -> None:
        """Write the panel to ``path``: SVG (vector) or, for any other suffix, PNG."""
        if str(path).lower().endswith(".svg"):
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(self.width(), self.height()))
            generator.setViewBox(QRect(0, 0, self.width(), self.height()))
            generator.setTitle(self.title)
            painter = QPainter(generator)
            self.render(painter)
            painter.end()
        elif not self.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")

    def _plot(self, title: str):
        plot = self.addPlot()
        _titled(plot, title)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setStyle(tickFont=_SMALL)
        return plot

    def set_layout(self, layout: ProbeLayout) -> None:
        self.layout_ = layout
        self.colors = depth_colors(len(layout))
        self._styled, self._drawn_step = self.highlighted, None

    def reset(self) -> None:
        """Forget the run: remove per-layer items and empty the fixed ones."""
        self.set_layout(ProbeLayout(()))
        for item in self._fixed_items():
            item.setData([], [])

    def _fixed_items(self) -> list:
        return []

    def _pen(self, i: int, style=Qt.SolidLine):
        width = 3 if i == self.highlighted else 1
        return pg.mkPen(self.colors[i], width=width, style=style)

    def highlight(self, index: int) -> None:
        self.highlighted = index

    def _restyle(self, items: list, style=Qt.SolidLine) -> None:
        """Set per-layer pens, only when the highlighted layer changed (setPen is costly)."""
        for i, item in enumerate(items):
            item.setPen(self._pen(i, style))

    def _needs_restyle(self) -> bool:
        if self._styled == self.highlighted:
            return False
        self._styled = self.highlighted
        return True

    def _new_step(self, history: RunHistory) -> bool:
        """True when a snapshot arrived since the time series were last drawn."""
        step = history.latest.step if history.latest is not None else None
        if step == self._drawn_step:
            return False
        self._drawn_step = step
        return True

    def _line(self, plot, i: int, style=Qt.SolidLine) -> pg.PlotCurveItem:
        """A light per-layer curve (PlotCurveItem: no per-call dataset bookkeeping)."""
        curve = pg.PlotCurveItem(pen=self._pen(i, style), skipFiniteCheck=True)
        plot.addItem(curve)
        return curve

    def _hover_on(self, plot, axis: str) -> None:
        """Report the layer under the mouse: x or y (rounded) is the layer index."""
        def moved(pos):
            if not plot.sceneBoundingRect().contains(pos) or self.layout_ is None:
                self.hovered.emit(-1)
                return
            point = plot.vb.mapSceneToView(pos)
            i = int(round(point.x() if axis == "x" else point.y()))
            self.hovered.emit(i if 0 <= i < len(self.layout_) else -1)
        self.scene().sigMouseMoved.connect(moved)


class ActivationPanel(Panel):
    """Ridgeline of per-layer histograms now, and a layer x time heatmap of one stat."""

    STATS = {"act_std": ("activation std (log10)", True, (-4.0, 1.0)),
             "frac_zero": ("share of zeros", False, (0.0, 1.0)),
             "frac_saturated": ("share saturated", False, (0.0, 1.0)),
             "frac_dead": ("share of dead units", False, (0.0, 1.0)),
             "grad_mean_abs": ("mean |dL/dh| (log10)", True, (-9.0, 0.0))}

    def __init__(self, parent=None):
        super().__init__("Activations", parent)
        self.ridge = self._plot("Histograms by layer (now)")
        self.ridge.disableAutoRange()  # ranges are set from the layout
        self.ridge.setLabel("left", "layer")
        self.ridge.setLabel("bottom", "activation")
        self.nextRow()
        self.heat_plot = self._plot("activation std (log10) over time")
        self.heat_plot.setLabel("left", "layer")
        self.heat_plot.setLabel("bottom", "step")
        self.heat = pg.ImageItem()
        self.heat.setColorMap(pg.colormap.get("inferno"))
        self.heat_plot.addItem(self.heat)
        self.stat = "act_std"
        self.curves: list[pg.PlotCurveItem] = []
        self._hover_on(self.ridge, "y")
        self._hover_on(self.heat_plot, "y")

    def reset(self) -> None:
        super().reset()
        self.heat.clear()

    def set_stat(self, stat: str) -> None:
        self.stat = stat
        _titled(self.heat_plot, f"{self.STATS[stat][0]} over time")

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        for c in self.curves:
            self.ridge.removeItem(c)
        self.curves = []
        for i in range(len(layout)):
            color = self.colors[i]
            fill = pg.mkColor(color)
            fill.setAlpha(90)
            curve = pg.PlotCurveItem(pen=self._pen(i), fillLevel=i, brush=fill)
            self.ridge.addItem(curve)
            self.curves.append(curve)
        names = layout.names
        step = max(1, len(names) // 12)
        ticks = [[(i, names[i]) for i in range(0, len(names), step)]]
        self.ridge.getAxis("left").setTicks(ticks)
        hidden = [m.hist_range for m in layout.layers if m.kind != "output"] or [(-4.0, 4.0)]
        self.ridge.setXRange(min(r[0] for r in hidden), max(r[1] for r in hidden))
        self.ridge.setYRange(-0.2, len(layout) + 0.2)
        self.heat_plot.getAxis("left").setTicks(ticks)

    def update(self, history: RunHistory) -> None:
        snap = history.latest
        if snap is None or not self.curves:
            return
        for i, meta in enumerate(snap.layout.layers):
            counts = snap.hist[i, 1:-1]
            total = snap.hist[i].sum()
            if not np.isfinite(total) or total <= 0:
                continue
            density = counts / max(counts.max(), 1e-12) * 0.9
            edges = meta.hist_edges
            x = np.repeat(edges, 2)[1:-1]  # step outline
            y = i + np.repeat(density, 2)
            self.curves[i].setData(x, y, skipFiniteCheck=True)
        if self._needs_restyle():
            self._restyle(self.curves)
        steps, values = history.stat_series(self.stat)
        if len(steps) < 1:
            return
        steps, values = _thin(steps, values)
        label, log, levels = self.STATS[self.stat]
        image = np.log10(np.maximum(values, 1e-12)) if log else values
        image = np.nan_to_num(image.astype(np.float32), nan=levels[0])  # (L, T) row-major
        self.heat.setImage(image, levels=levels, autoLevels=False)
        span = max(float(steps[-1] - steps[0]), 1.0)
        self.heat.setRect(float(steps[0]), -0.5, span, float(image.shape[0]))


class GradientPanel(Panel):
    """|dL/dh| and |dW| against depth now, and per-layer |dL/dh| over time (log)."""

    def __init__(self, parent=None):
        super().__init__("Gradient flow", parent)
        self.depth = self._plot("Gradient flow by depth (now)")
        self.depth.setLogMode(y=True)
        self.depth.addLegend(offset=(5, 5))
        self.depth.setLabel("bottom", "layer (input → output)")
        self.grad_out = self.depth.plot(pen=pg.mkPen("#d1495b", width=1), symbol="o",
                                        symbolSize=5, symbolBrush="#d1495b",
                                        name="mean |dL/dh|")
        self.grad_w = self.depth.plot(pen=pg.mkPen("#2e4057", width=1), symbol="s",
                                      symbolSize=5, symbolBrush="#2e4057", name="|dW|")
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#999999", style=Qt.DashLine))
        self.depth.addItem(self.marker)
        self.nextRow()
        self.time = self._plot("mean |dL/dh| per layer over time")
        self.time.setLogMode(y=True)
        self.time.setLabel("bottom", "step")
        self.time.disableAutoRange()
        self.lines: list[pg.PlotDataItem] = []
        self._hover_on(self.depth, "x")

    def _fixed_items(self) -> list:
        return [self.grad_out, self.grad_w]

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        for line in self.lines:
            self.time.removeItem(line)
        self.lines = [self._line(self.time, i) for i in range(len(layout))]
        names = layout.names
        step = max(1, len(names) // 12)
        self.depth.getAxis("bottom").setTicks([[(i, names[i])
                                               for i in range(0, len(names), step)]])

    def update(self, history: RunHistory) -> None:
        snap = history.latest
        if snap is None or not self.lines:
            return
        x = np.arange(len(snap.layout))
        for curve, stat in ((self.grad_out, "grad_mean_abs"), (self.grad_w, "weight_grad_norm")):
            v = snap.stat(stat)
            keep = np.isfinite(v) & (v > 0)
            curve.setData(x[keep], v[keep])
        self.marker.setVisible(self.highlighted >= 0)
        self.marker.setValue(max(self.highlighted, 0))
        if self._needs_restyle():
            self._restyle(self.lines)
        if not self._new_step(history):
            return
        steps, values = history.stat_series("grad_mean_abs")
        steps, values = _thin(steps, values)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(values)  # the curves are in a log-mode plot: give log values
        for i, line in enumerate(self.lines):
            keep = np.isfinite(logs[i])
            line.setData(steps[keep], logs[i][keep])
        _step_range(self.time, steps)
        _log_range(self.time, values[:, -RECENT:])


class LossPanel(Panel):
    """Loss and accuracy (top-1, and top-5 when it applies), train and validation."""

    def __init__(self, parent=None):
        super().__init__("Loss and accuracy", parent)
        self.setObjectName("lossPlot")
        self.loss = self._plot("Loss")
        self.loss.addLegend(offset=(5, 5))
        self.loss.setLogMode(y=True)
        self.train_loss = self.loss.plot(pen=pg.mkPen("#1e64c8", width=1), name="train")
        self.val_loss = self.loss.plot(pen=pg.mkPen("#e07b00", width=1), name="validation")
        self.nextRow()
        self.acc = self._plot("Accuracy")
        self.acc.addLegend(offset=(5, 5))
        self.acc.setYRange(0, 1.02)
        self.acc.setLabel("bottom", "step")
        self.train_acc = self.acc.plot(pen=pg.mkPen("#1e64c8", width=1), name="train top-1")
        self.val_acc = self.acc.plot(pen=pg.mkPen("#e07b00", width=1), name="val top-1")
        self.train_top5 = self.acc.plot(pen=pg.mkPen("#1e64c8", width=1, style=Qt.DashLine),
                                        name="train top-5")
        self.val_top5 = self.acc.plot(pen=pg.mkPen("#e07b00", width=1, style=Qt.DashLine),
                                      name="val top-5")

    def _fixed_items(self) -> list:
        return [self.train_loss, self.val_loss, self.train_acc, self.val_acc,
                self.train_top5, self.val_top5]

    def update(self, history: RunHistory) -> None:
        if not len(history.metrics):
            return
        steps = history.metrics.steps
        for curve, name in ((self.train_loss, "loss"), (self.val_loss, "val_loss"),
                            (self.train_acc, "train_acc"), (self.val_acc, "val_acc"),
                            (self.train_top5, "train_top5"), (self.val_top5, "val_top5")):
            v = history.metric(name)
            keep = np.isfinite(v) & ((v > 0) if "loss" in name else True)
            curve.setData(steps[keep], v[keep])


class HealthPanel(Panel):
    """Dead and saturated shares per layer over time; update / weight ratio with 1e-3."""

    def __init__(self, parent=None):
        super().__init__("Unit health", parent)
        self.frac = self._plot("Dead units (solid), saturated (dashed)")
        self.frac.disableAutoRange()
        self.frac.setYRange(0, 1.02)
        self.nextRow()
        self.ratio = self._plot("Update / weight ratio per layer")
        self.ratio.setLogMode(y=True)
        self.ratio.setLabel("bottom", "step")
        self.ratio.disableAutoRange()
        guide = pg.InfiniteLine(pos=-3, angle=0, pen=pg.mkPen("#2e7d32", style=Qt.DashLine),
                                label="1e-3", labelOpts={"position": 0.05, "color": "#2e7d32"})
        self.ratio.addItem(guide)
        self.dead: list = []
        self.sat: list = []
        self.sat_index: list[int] = []
        self.ratios: list = []

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        for item in self.dead + self.sat:
            self.frac.removeItem(item)
        for item in self.ratios:
            self.ratio.removeItem(item)
        n = len(layout)
        self.dead = [self._line(self.frac, i) for i in range(n)]
        # saturation only means something for layers that have bounds (sigmoid, tanh)
        self.sat_index = [i for i, m in enumerate(layout.layers)
                          if m.activation in ("sigmoid", "tanh")]
        self.sat = [self._line(self.frac, i, Qt.DashLine) for i in self.sat_index]
        self.ratios = [self._line(self.ratio, i) for i in range(n)]

    def update(self, history: RunHistory) -> None:
        if history.latest is None or not self.dead:
            return
        if self._needs_restyle():
            self._restyle(self.dead)
            self._restyle(self.ratios)
            for item, i in zip(self.sat, self.sat_index):
                item.setPen(self._pen(i, Qt.DashLine))
        if not self._new_step(history):
            return
        steps, dead = _thin(*history.stat_series("frac_dead"))
        _, sat = _thin(*history.stat_series("frac_saturated"))
        rsteps, ratio = _thin(*history.stat_series("update_ratio"))
        dead, sat = np.nan_to_num(dead), np.nan_to_num(sat)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(ratio)  # a log-mode plot: curves take log values
        for i, line in enumerate(self.dead):
            line.setData(steps, dead[i])
            keep = np.isfinite(logs[i])
            self.ratios[i].setData(rsteps[keep], logs[i][keep])
        for item, i in zip(self.sat, self.sat_index):
            item.setData(steps, sat[i])
        _step_range(self.frac, steps)
        _step_range(self.ratio, rsteps)
        recent = ratio[:, -RECENT:]
        _log_range(self.ratio, np.concatenate([recent.ravel(), [1e-3]]))


class BoundaryPanel(Panel):
    """Decision regions (colour = class, brightness = confidence) with the data points."""

    MAX_POINTS = 1500

    def __init__(self, parent=None):
        super().__init__("Decision boundary", parent)
        self.plot = self._plot("Decision boundary")
        self.plot.setAspectLocked(False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=4, pen=pg.mkPen("k", width=0.5))
        self.plot.addItem(self.points)
        self.has_points = False

    def reset(self) -> None:
        self.image.clear()
        self.points.clear()

    def set_data_points(self, points) -> None:
        self.has_points = points is not None
        if points is None:
            self.points.clear()
            _titled(self.plot, "Decision boundary (2-D datasets only)")
            return
        x, y = points
        keep = slice(None, None, max(1, len(x) // self.MAX_POINTS))
        colors = (CLASS_COLORS[np.asarray(y[keep]) % len(CLASS_COLORS)] * 255).astype(int)
        self.points.setData(x[keep, 0], x[keep, 1],
                            brush=[pg.mkBrush(*c) for c in colors])
        _titled(self.plot, "Decision boundary")

    def update_grid(self, grid) -> None:
        if grid is None or not np.isfinite(grid["prob"]).any():
            return  # a diverged model has no boundary: keep the last one drawn
        label = grid["label"]
        prob = np.clip(np.nan_to_num(grid["prob"], nan=0.0), 0.0, 1.0)
        base = CLASS_COLORS[label % len(CLASS_COLORS)]  # (G, G, 3)
        alpha = (0.35 + 0.65 * prob)[..., None]
        rgb = (1.0 - alpha) * 1.0 + alpha * base  # blend with white by confidence
        self.image.setImage((rgb * 255).astype(np.uint8), levels=(0, 255))
        x0, x1, y0, y1 = grid["extent"]
        self.image.setRect(x0, y0, x1 - x0, y1 - y0)

