"""The live plots. Items are created once per run layout and updated with
setData / setImage from the latest data; nothing here runs per training step.

Every panel has ``update(history)``, ``set_layout(layout)`` and
``highlight(index)`` (a layer hovered anywhere is drawn thicker everywhere).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..design.catalog import saturating_activations
from ..metrics import ProbeLayout, RunHistory
from . import log_axis
from .layer_lines import LayerLines

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
_SMALL = None  # set on first use: a QFont needs a QGuiApplication

RECENT = 60  # snapshots that set the y range of time plots ("recent values")
MAX_POINTS = 200  # time series are thinned to this many points for drawing
MAX_STEP_POINTS = 1500  # per-step loss: enough to see the noise, cheap to paint
CLASS_COLORS = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                         (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                         (188, 189, 34), (23, 190, 207)], float) / 255


def depth_colors(n: int) -> list:
    """One colour per layer, input (dark blue) to output (yellow)."""
    cmap = pg.colormap.get("viridis")
    return [cmap.map(i / max(n - 1, 1), mode="qcolor") for i in range(n)]


def _thin(steps: np.ndarray, values: np.ndarray, limit: int = MAX_POINTS):
    stride = max(1, len(steps) // limit)
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


def legend_title(title: str, entries: list[tuple[str, str, str]]) -> str:
    """A title with its legend beside it, outside the data: (label, colour, dash)."""
    keys = " ".join(f"<span style='color:{color}'>{'┄┄' if dash else '━━'}</span>&nbsp;{label}"
                    for label, color, dash in entries)
    return f"{title}<br><span style='font-size:7pt'>{keys}</span>"


def layer_ticks(names: list[str], pixels: float, per_label: float) -> list:
    """Tick labels for a layer axis that never overlap: every k-th name, k chosen so
    each label gets ``per_label`` pixels of the ``pixels`` the axis has."""
    fits = max(1, int(pixels // max(per_label, 1)))
    k = max(1, -(-len(names) // fits))
    return [[(i, names[i]) for i in range(0, len(names), k)]]


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
        from PySide6.QtWidgets import QLabel
        self._hint = QLabel(f"<b>{title}</b><br><br>{self.HINT}", self)
        self._hint.setObjectName("plot_hint")
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignCenter)
        self._hint.setStyleSheet("color: #555555; background: white")
        self._hint.hide()
        self._hinting = False

    HINT = "Press <b>Train</b> (F5) to see this plot fill in as the network trains."

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
        plot = self.addPlot(axisItems=log_axis.axes())
        _titled(plot, title)
        for axis in ("left", "bottom"):
            ax = plot.getAxis(axis)
            ax.setStyle(tickFont=_SMALL, autoExpandTextSpace=True)
            ax.enableAutoSIPrefix(False)  # "(x0.001)" next to a label reads as noise
            ax.setTickDensity(0.7)  # fewer, readable ticks: log decades never pile up
        plot.showAxes(True, showValues=(True, False, False, True))
        plot.setMenuEnabled(False)  # the panel's own menu saves PNG / SVG
        return plot

    def _show_hint(self, visible: bool) -> None:
        """Before the first data: a short hint instead of empty axes."""
        if visible == self._hinting:
            return
        self._hinting = visible
        self._hint.setVisible(visible)  # an opaque card over the (empty) plots

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_hint"):  # pyqtgraph resizes once inside its __init__
            self._hint.setGeometry(self.rect().adjusted(12, 12, -12, -12))
            self._tick_layers()

    def _tick_layers(self) -> None:
        """Re-thin the layer tick labels for the current size (panels with a layer axis)."""

    def set_layout(self, layout: ProbeLayout) -> None:
        self.layout_ = layout
        self.colors = depth_colors(len(layout))
        self._styled, self._drawn_step = self.highlighted, None

    def reset(self) -> None:
        """Forget the run: remove per-layer items and empty the fixed ones."""
        self.set_layout(ProbeLayout(()))
        for item in self._fixed_items():
            item.setData([], [])
        self._show_hint(True)

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
        self.ridge = self._plot("Histograms (now)")
        self.ridge.disableAutoRange()  # ranges are set from the layout
        self.ridge.setLabel("left", "layer")
        self.ridge.setLabel("bottom", "activation")
        self.nextRow()
        self.heat_plot = self._plot("")
        self.heat_plot.setLabel("left", "layer")
        self.heat_plot.setLabel("bottom", "step")
        self.heat = pg.ImageItem()
        cmap = pg.colormap.get("inferno")
        self.heat.setColorMap(cmap)
        self.heat_plot.addItem(self.heat)
        # the scale of the colours, with the statistic's fixed levels
        self.color_bar = pg.ColorBarItem(values=self.STATS["act_std"][2], colorMap=cmap,
                                         interactive=False, width=10)
        self.color_bar.setImageItem(self.heat, insert_in=self.heat_plot)
        self.color_bar.getAxis("right").setStyle(tickFont=_SMALL)
        self.set_stat("act_std")
        self.curves: list[pg.PlotCurveItem] = []
        self._hover_on(self.ridge, "y")
        self._hover_on(self.heat_plot, "y")

    def reset(self) -> None:
        super().reset()
        self.heat.clear()
        self.color_bar.setLevels(self.STATS[self.stat][2])

    def set_stat(self, stat: str) -> None:
        self.stat = stat
        label, log, levels = self.STATS[stat]
        self.heat_plot.setTitle(
            label.replace(" (log10)", "") + " over time<br><span style='font-size:7pt'>"
            f"colour scale: {'log10 of the value' if log else 'share, 0 to 1'}</span>",
            size="9pt")
        self.color_bar.setLevels(levels)

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
        self._tick_layers()
        hidden = [m.hist_range for m in layout.layers if m.kind != "output"] or [(-4.0, 4.0)]
        self.ridge.setXRange(min(r[0] for r in hidden), max(r[1] for r in hidden))
        self.ridge.setYRange(-0.2, len(layout) + 0.2)

    def _tick_layers(self) -> None:
        if self.layout_ is None:
            return
        names = self.layout_.names
        for plot in (self.ridge, self.heat_plot):  # vertical: one text line per label
            plot.getAxis("left").setTicks(layer_ticks(
                names, plot.vb.height() or self.height() / 2, 14))

    def update(self, history: RunHistory) -> None:
        snap = history.latest
        if snap is None or not self.curves:
            return
        self._show_hint(False)
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
        self.depth = self._plot(legend_title(
            "Gradient by depth (now)", [("mean |dL/dh|", "#d1495b", False),
                                        ("‖dW‖", "#2e4057", False),
                                        ("× = 0", "#b71c1c", False)]))
        self.depth.setLogMode(y=True)
        self.depth.setLabel("bottom", "layer (input → output)")
        self.grad_out = self.depth.plot(pen=pg.mkPen("#d1495b", width=1), symbol="o",
                                        symbolSize=5, symbolBrush="#d1495b")
        self.grad_w = self.depth.plot(pen=pg.mkPen("#2e4057", width=1), symbol="s",
                                      symbolSize=5, symbolBrush="#2e4057")
        # a layer whose gradient is exactly 0 has no place on a log axis: drawn at the
        # floor of the plot with a cross and a tooltip, never silently dropped
        self.zeros = pg.ScatterPlotItem(symbol="x", size=10, pen=pg.mkPen("#b71c1c", width=2),
                                        brush=None, hoverable=True,
                                        tip=lambda x, y, data: f"{data}: exactly 0")
        self.depth.addItem(self.zeros)
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#999999", style=Qt.DashLine))
        self.depth.addItem(self.marker)
        self.nextRow()
        self.time = self._plot("mean |dL/dh| per layer")
        self.time.setLogMode(y=True)
        self.time.setLabel("bottom", "step")
        self.time.disableAutoRange()
        self.lines = LayerLines(self.time)
        self._hover_on(self.depth, "x")

    def _fixed_items(self) -> list:
        return [self.grad_out, self.grad_w]

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        self.lines.set_layers(list(range(len(layout))), self.colors)
        self._tick_layers()

    def _tick_layers(self) -> None:
        if self.layout_ is None:
            return
        names = self.layout_.names
        longest = max((len(n) for n in names), default=4)
        self.depth.getAxis("bottom").setTicks(layer_ticks(
            names, self.depth.vb.width() or self.width(), 7 * longest + 10))

    def update(self, history: RunHistory) -> None:
        snap = history.latest
        if snap is None or not self.lines:
            return
        self._show_hint(False)
        x = np.arange(len(snap.layout))
        zero_x, shown = [], []
        for curve, stat in ((self.grad_out, "grad_mean_abs"), (self.grad_w, "weight_grad_norm")):
            v = snap.stat(stat)
            keep = np.isfinite(v) & (v > 0)
            curve.setData(x[keep], v[keep])
            zero_x += [int(i) for i in x[v == 0]]
            shown.append(v[keep])
        positive = np.concatenate(shown)
        floor = np.floor(np.log10(positive.min())) - 0.5 if positive.size else -12.0
        names = snap.layout.names
        self.zeros.setData([float(i) for i in zero_x], [floor] * len(zero_x),
                           data=[names[i] for i in zero_x])
        self.marker.setVisible(self.highlighted >= 0)
        self.marker.setValue(max(self.highlighted, 0))
        self.lines.highlight(self.highlighted)
        if not self._new_step(history):
            return
        steps, values = history.stat_series("grad_mean_abs")
        steps, values = _thin(steps, values)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(values)  # the curves are in a log-mode plot: give log values
        keep = np.isfinite(logs)
        self.lines.set_data([steps[k] for k in keep], [row[k] for row, k in zip(logs, keep)])
        _step_range(self.time, steps)
        _log_range(self.time, values[:, -RECENT:])


class LossPanel(Panel):
    """Loss and accuracy: every training step's batch values (thin lines), validation at
    evaluations (markers), top-5 only when there are more than 5 classes."""

    HINT = ("Press <b>Train</b> (F5): the loss of every training step and the validation "
            "loss at each evaluation appear here, with the accuracy below.")
    TRAIN, VAL = "#1e64c8", "#e07b00"

    def __init__(self, parent=None):
        super().__init__("Loss and accuracy", parent)
        self.setObjectName("lossPlot")
        self.loss = self._plot("")
        self.loss.setLogMode(y=True)
        self.loss.setLabel("left", "loss")
        self.train_loss = self.loss.plot(pen=pg.mkPen(self.TRAIN, width=1))
        self.val_loss = self.loss.plot(pen=pg.mkPen(self.VAL, width=1.5), symbol="o",
                                       symbolSize=4, symbolBrush=self.VAL, symbolPen=None)
        self.nextRow()
        self.acc = self._plot("")
        self.acc.setYRange(0, 1.02, padding=0)
        self.acc.setLabel("bottom", "step")
        self.acc.setLabel("left", "accuracy")
        self.train_acc = self.acc.plot(pen=pg.mkPen(self.TRAIN, width=1))
        self.val_acc = self.acc.plot(pen=pg.mkPen(self.VAL, width=1.5), symbol="o",
                                     symbolSize=4, symbolBrush=self.VAL, symbolPen=None)
        self.train_top5 = self.acc.plot(pen=pg.mkPen(self.TRAIN, width=1, style=Qt.DashLine))
        self.val_top5 = self.acc.plot(pen=pg.mkPen(self.VAL, width=1.5, style=Qt.DashLine))
        self._set_titles(False)

    def _set_titles(self, top5: bool) -> None:
        self._top5 = top5
        self.loss.setTitle(legend_title("Loss", [("train", self.TRAIN, False),
                                                 ("validation", self.VAL, False)]), size="9pt")
        entries = [("train", self.TRAIN, False), ("validation", self.VAL, False)]
        if top5:
            entries += [("top-5", "#555555", True)]
        self.acc.setTitle(legend_title("Accuracy" + (" (top-1, top-5)" if top5 else ""),
                                       entries), size="9pt")
        self.train_top5.setVisible(top5)
        self.val_top5.setVisible(top5)

    def _fixed_items(self) -> list:
        return [self.train_loss, self.val_loss, self.train_acc, self.val_acc,
                self.train_top5, self.val_top5]

    def update(self, history: RunHistory) -> None:
        steps, loss = history.step_series("loss")
        if not len(steps) and not len(history.metrics):
            return
        self._show_hint(False)
        _, acc = history.step_series("train_acc")
        steps, values = _thin(steps, np.stack([loss, acc]), MAX_STEP_POINTS)
        positive = np.isfinite(values[0]) & (values[0] > 0)
        self.train_loss.setData(steps[positive], values[0][positive])
        finite = np.isfinite(values[1])
        self.train_acc.setData(steps[finite], values[1][finite])
        evaluated = history.metrics.steps
        for curve, name in ((self.val_loss, "val_loss"), (self.val_acc, "val_acc"),
                            (self.train_top5, "train_top5"), (self.val_top5, "val_top5")):
            v = history.metric(name) if len(evaluated) else np.zeros(0)
            keep = np.isfinite(v) & ((v > 0) if "loss" in name else True)
            curve.setData(evaluated[keep], v[keep])
        top5 = bool(len(evaluated)) and bool(np.isfinite(history.metric("val_top5")).any() or
                                             np.isfinite(history.metric("train_top5")).any())
        if top5 != self._top5:
            self._set_titles(top5)


class HealthPanel(Panel):
    """Dead and saturated shares per layer over time; update / weight ratio with 1e-3."""

    def __init__(self, parent=None):
        super().__init__("Unit health", parent)
        self.frac = self._plot(legend_title("Unit shares", [("dead", "#444444", False),
                                                            ("saturated", "#444444", True)]))
        self.frac.disableAutoRange()
        self.frac.setYRange(0, 1.02)
        self.nextRow()
        self.ratio = self._plot(legend_title("Update / weight ratio",
                                             [("healthy ≈ 1e-3", "#2e7d32", True)]))
        self.ratio.setLogMode(y=True)
        self.ratio.setLabel("bottom", "step")
        self.ratio.disableAutoRange()
        guide = pg.InfiniteLine(pos=-3, angle=0, pen=pg.mkPen("#2e7d32", style=Qt.DashLine))
        self.ratio.addItem(guide)
        self.dead = LayerLines(self.frac)
        self.sat = LayerLines(self.frac, Qt.DashLine)
        self.sat_index: list[int] = []
        self.ratios = LayerLines(self.ratio)

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        everyone = list(range(len(layout)))
        self.dead.set_layers(everyone, self.colors)
        # saturation only means something for layers that have bounds (sigmoid, tanh)
        bounded = saturating_activations()
        self.sat_index = [i for i, m in enumerate(layout.layers) if m.activation in bounded]
        self.sat.set_layers(self.sat_index, self.colors)
        self.ratios.set_layers(everyone, self.colors)

    def update(self, history: RunHistory) -> None:
        if history.latest is None or not self.dead:
            return
        self._show_hint(False)
        for family in (self.dead, self.sat, self.ratios):
            family.highlight(self.highlighted)
        if not self._new_step(history):
            return
        steps, dead = _thin(*history.stat_series("frac_dead"))
        _, sat = _thin(*history.stat_series("frac_saturated"))
        rsteps, ratio = _thin(*history.stat_series("update_ratio"))
        dead, sat = np.nan_to_num(dead), np.nan_to_num(sat)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(ratio)  # a log-mode plot: curves take log values
        self.dead.set_data(steps, dead)
        keep = np.isfinite(logs)
        self.ratios.set_data([rsteps[k] for k in keep], [row[k] for row, k in zip(logs, keep)])
        self.sat.set_data(steps, sat[self.sat_index])
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
        self._show_hint(True)

    def set_data_points(self, points) -> None:
        self.has_points = points is not None
        self._show_hint(points is None)
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

    HINT = ("For data with two input features (moons, circles, spiral...): the decision "
            "regions appear here while the network trains.")

    def update_grid(self, grid) -> None:
        """Draw a `decision_grid` result; ``{"error": text}`` says why there is none."""
        if grid is not None and "error" in grid:
            _titled(self.plot, f"Decision boundary unavailable: {grid['error']}")
            return
        if grid is None or not np.isfinite(grid["prob"]).any():
            return  # a diverged model has no boundary: keep the last one drawn
        self._show_hint(False)
        label = grid["label"]
        prob = np.clip(np.nan_to_num(grid["prob"], nan=0.0), 0.0, 1.0)
        base = CLASS_COLORS[label % len(CLASS_COLORS)]  # (G, G, 3)
        alpha = (0.35 + 0.65 * prob)[..., None]
        rgb = (1.0 - alpha) * 1.0 + alpha * base  # blend with white by confidence
        self.image.setImage((rgb * 255).astype(np.uint8), levels=(0, 255))
        x0, x1, y0, y1 = grid["extent"]
        self.image.setRect(x0, y0, x1 - x0, y1 - y0)

