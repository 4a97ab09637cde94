"""What the network does over its inputs: the decision boundary of a 2-D classifier
with the data points, for a regression of two inputs its output over the plane (the
points coloured by their targets, one colour bar), or for a regression of one input
its curve through the data."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .base import CLASS_COLORS, Panel, _titled
from .colour_image import colour_image

VALUE_SHADES = 12  # a regression's points take one of this many colours (one brush each)


class BoundaryPanel(Panel):
    """Decision regions (colour = class, brightness = confidence) with the data points;
    for a 1-D regression the network's output as a line over the (input, target) points."""

    MAX_POINTS = 1500

    def __init__(self, parent=None):
        super().__init__("Decision boundary", parent)
        self.setObjectName("boundaryPlot")
        self.plot = self._plot("Decision boundary")
        self.plot.setAspectLocked(False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=4, pen=pg.mkPen("k", width=0.5))
        self.plot.addItem(self.points)
        self.curve = self.plot.plot(pen=pg.mkPen("#d1495b", width=2))  # a 1-D regression's
        # a regression of two inputs: its output over the plane, levels = the targets' range
        self.surface, self.surface_bar = colour_image(self.plot, "viridis", (0.0, 1.0),
                                                      width=10, label="output")
        self.surface.setZValue(-1)  # under the points
        self.surface_bar.hide()
        self.points.setZValue(1)
        self.levels: tuple[float, float] | None = None  # set: a regression of two inputs
        self.note = ""  # after the title (the compare window: which moment it shows)
        self.has_points = False
        self._drawn = None  # the grid or curve drawn, for the readout under the mouse
        self.hover.on_plot(self.plot, self._at)

    def reset(self) -> None:
        self._drawn = None
        self.image.clear()
        self.surface.clear()
        self.points.clear()
        self.curve.setData([], [])
        self._show_hint(True)

    def set_data_points(self, points) -> None:
        self.has_points = points is not None
        self._show_hint(points is None)
        self.levels = None  # (a regression of two inputs sets them below)
        self.surface_bar.hide()
        if points is None:
            self.points.clear()
            _titled(self.plot, "Decision boundary (2-D datasets only)")
            return
        x, y = points
        keep = slice(None, None, max(1, len(x) // self.MAX_POINTS))
        if x.shape[1] == 1:  # one input, one target: the data as (input, target) points
            self.points.setData(x[keep, 0], y[keep, 0], brush=pg.mkBrush("#9e9e9e"),
                                pen=None, size=3)
            self.plot.setLabel("bottom", "input")
            self.plot.setLabel("left", "target")
            _titled(self.plot, "Fit: the network's output (red) over the data" + self.note)
            return
        self.plot.setLabel("bottom", "")
        self.plot.setLabel("left", "")
        regression = np.asarray(y).dtype.kind == "f"  # (N, 1) targets, not class labels
        self.surface_bar.setVisible(regression)
        self.levels = _levels(np.asarray(y)[:, 0]) if regression else None
        if regression:  # the targets in shades of the surface's colour map
            self.surface_bar.setLevels(self.levels)
            cmap = pg.colormap.get("viridis")
            brushes = [pg.mkBrush(cmap.map(v, mode="qcolor"))
                       for v in np.linspace(0, 1, VALUE_SHADES)]
            lo, hi = self.levels
            shade = np.clip((np.asarray(y[keep])[:, 0] - lo) / (hi - lo), 0, 1)
            kinds = np.rint(shade * (VALUE_SHADES - 1)).astype(int)
            _titled(self.plot, "Output over the inputs (points: targets)" + self.note)
        else:
            # one brush per class, shared: a brush per point took 200 ms for 1500 points
            # (pyqtgraph caches a symbol per distinct brush), a block the window felt
            brushes = [pg.mkBrush(*(c * 255).astype(int)) for c in CLASS_COLORS]
            kinds = np.asarray(y[keep]) % len(CLASS_COLORS)
            _titled(self.plot, "Decision boundary" + self.note)
        self.points.setData(x[keep, 0], x[keep, 1], brush=[brushes[k] for k in kinds])

    HINT = ("For data with two input features (moons, circles, spiral...): the decision "
            "regions appear here while the network trains.")

    def update_grid(self, grid) -> None:
        """Draw a `decision_grid` result; ``{"error": text}`` says why there is none."""
        if grid is not None and "error" in grid:
            _titled(self.plot, f"Decision boundary unavailable: {grid['error']}")
            return
        if grid is not None and "curve" in grid:  # a 1-D regression's fit
            xs, ys = grid["curve"]
            if np.isfinite(ys).all():  # a diverged model: keep the last curve drawn
                self._show_hint(False)
                self.curve.setData(xs, ys)
                self._drawn = grid
            return
        if grid is None or not np.isfinite(grid["prob"]).any():
            return  # a diverged model has no boundary: keep the last one drawn
        self._show_hint(False)
        self._drawn = grid
        x0, x1, y0, y1 = grid["extent"]
        if self.levels is not None:  # a regression: "prob" holds the output's value
            self.surface.setImage(np.nan_to_num(grid["prob"]).astype(np.float32),
                                  levels=self.levels, autoLevels=False)
            self.surface.setRect(x0, y0, x1 - x0, y1 - y0)
            return
        label = grid["label"]
        prob = np.clip(np.nan_to_num(grid["prob"], nan=0.0), 0.0, 1.0)
        base = CLASS_COLORS[label % len(CLASS_COLORS)]  # (G, G, 3)
        alpha = (0.35 + 0.65 * prob)[..., None]
        rgb = (1.0 - alpha) * 1.0 + alpha * base  # blend with white by confidence
        self.image.setImage((rgb * 255).astype(np.uint8), levels=(0, 255))
        self.image.setRect(x0, y0, x1 - x0, y1 - y0)

    def _at(self, x: float, y: float) -> str:
        """What the network gives at the point under the mouse: the grid cell drawn
        there (its class and probability, or a regression's output), or on a 1-D fit
        the curve at that input."""
        drawn = self._drawn
        if drawn is None:
            return ""
        if "curve" in drawn:
            xs, ys = drawn["curve"]
            if not xs[0] <= x <= xs[-1]:
                return ""
            return f"input {x:.3g}: the network gives {np.interp(x, xs, ys):.3g}"
        x0, x1, y0, y1 = drawn["extent"]
        rows, cols = drawn["prob"].shape  # rows along the second input
        if not (x0 <= x < x1 and y0 <= y < y1):
            return ""
        i, j = int((y - y0) / (y1 - y0) * rows), int((x - x0) / (x1 - x0) * cols)
        where = f"at ({x:.2f}, {y:.2f}): "
        if self.levels is not None:
            return where + f"output {drawn['prob'][i, j]:.3g}"
        return where + f"class {drawn['label'][i, j]} with p {drawn['prob'][i, j]:.2f}"


def _levels(targets: np.ndarray) -> tuple[float, float]:
    """The colour levels of a regression's output: its targets' range (never empty)."""
    lo, hi = float(np.nanmin(targets)), float(np.nanmax(targets))
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)
