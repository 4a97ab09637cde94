"""What the network does over its inputs: the decision boundary of a 2-D classifier
with the data points, or for a regression of one input its curve through the data."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .base import CLASS_COLORS, Panel, _titled


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
        self.has_points = False

    def reset(self) -> None:
        self.image.clear()
        self.points.clear()
        self.curve.setData([], [])
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
        if x.shape[1] == 1:  # one input, one target: the data as (input, target) points
            self.points.setData(x[keep, 0], y[keep, 0], brush=pg.mkBrush("#9e9e9e"),
                                pen=None, size=3)
            self.plot.setLabel("bottom", "input")
            self.plot.setLabel("left", "target")
            _titled(self.plot, "Fit: the network's output (red) over the data")
            return
        self.plot.setLabel("bottom", "")
        self.plot.setLabel("left", "")
        # one brush per class, shared: a brush per point took 200 ms for 1500 points
        # (pyqtgraph caches a symbol per distinct brush), a block the window felt
        brushes = [pg.mkBrush(*(c * 255).astype(int)) for c in CLASS_COLORS]
        self.points.setData(x[keep, 0], x[keep, 1], brush=[
            brushes[k] for k in np.asarray(y[keep]) % len(CLASS_COLORS)])
        _titled(self.plot, "Decision boundary")

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
