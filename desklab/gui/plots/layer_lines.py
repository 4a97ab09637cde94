"""One family of per-layer curves (say, every layer's |dL/dh| over time) in a plot,
drawn as a few items instead of one item per layer.

Painting, not `setData`, was the live view's cost: with 50 layers a plot held 50
curve items and each paint walked all of them (per-paint p99 of the Unit health
panel, 150 items, was 23-39 ms). Here the layers are split into at most
``MAX_ITEMS`` depth bands, each band is one `PlotCurveItem` whose path holds all
its layers (a ``connect`` array breaks the line between layers), coloured by the
band's middle layer on the same input-to-output gradient. The hovered layer is
drawn once more on top, thick and in its own colour. With few layers every layer
is its own band, so nothing changes there.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

MAX_ITEMS = 8  # depth bands per family: enough to read depth from colour


class LayerLines:
    """Per-layer curves of one plot; see the module docstring.

    Parameters
    ----------
    plot : pyqtgraph PlotItem
        Where the curves go.
    style : Qt.PenStyle
        Solid or dashed, for every curve of the family.
    quantity : str
        What the curves are, as a hovered curve's value is told ("mean |dL/dh|").
    log : bool
        The plot is log-scaled in y: rows hold log10 values.
    """

    def __init__(self, plot, style=Qt.SolidLine, quantity: str = "", log: bool = False):
        self.plot = plot
        self.style = style
        self.quantity, self.log = quantity, log
        self.layers: list[int] = []  # the layer index of each row given to set_data
        self.colors: list = []  # one QColor per layer of the whole layout
        self.highlighted = -1
        self._bands: list[tuple[pg.PlotCurveItem, list[int]]] = []  # (item, rows)
        self._pool: list[pg.PlotCurveItem] = []  # band items in the plot, shown or not
        self._data: list[tuple[np.ndarray, np.ndarray]] = []  # per row: (x, y)
        self._top = pg.PlotCurveItem(skipFiniteCheck=True)
        self._top.setZValue(10)
        self._top.setVisible(False)
        plot.addItem(self._top)
        # a row of one point is no line: the first probe of a run (and all of a run
        # that diverged before its second) drew nothing in the time plots
        self._dots = pg.ScatterPlotItem(size=5, pen=None)
        plot.addItem(self._dots)

    def set_layers(self, layers: list[int], colors: list) -> None:
        """Draw rows for ``layers`` (indices into ``colors``, one colour per layer).

        Band items are kept for the next run and only re-coloured: adding and removing
        items in a pyqtgraph plot cost 10-25 ms a panel at each run's start."""
        self.layers, self.colors, self._data = list(layers), list(colors), []
        self._dots.setData([])
        n = len(self.layers)
        bands = min(n, MAX_ITEMS)
        while len(self._pool) < bands:
            item = pg.PlotCurveItem(skipFiniteCheck=True)
            self.plot.addItem(item)
            self._pool.append(item)
        self._bands = []
        for b, item in enumerate(self._pool):
            if b >= bands:
                item.setData([], [])
                item.setVisible(False)
                continue
            rows = [r for r in range(n) if r * bands // n == b]  # contiguous in depth
            middle = self.layers[rows[len(rows) // 2]]
            item.setPen(pg.mkPen(self.colors[middle], width=1, style=self.style))
            item.setData([], [])
            item.setVisible(True)
            self._bands.append((item, rows))
        self._draw_top()

    def __len__(self) -> int:
        return len(self.layers)

    def set_data(self, xs, ys) -> None:
        """Row r of ``ys`` is layer ``layers[r]``; ``xs`` is one array for all rows or
        one per row. Non-finite values must be filtered by the caller."""
        self._data = [(np.asarray(xs[r] if isinstance(xs, (list, tuple)) else xs, float),
                       np.asarray(ys[r], float)) for r in range(len(self.layers))]
        for item, rows in self._bands:
            parts = [self._data[r] for r in rows if len(self._data[r][0])]
            if not parts:
                item.setData([], [])
                continue
            x = np.concatenate([p[0] for p in parts])
            y = np.concatenate([p[1] for p in parts])
            connect = np.ones(len(x), dtype=np.int32)  # 0: no line to the next point
            connect[np.cumsum([len(p[0]) for p in parts]) - 1] = 0
            item.setData(x, y, connect=connect, skipFiniteCheck=True)
            item.getPath()  # built now, in the redraw tick, not in the paint that follows:
            # two blocks of the GUI thread half as long as one (the event loop's p99)
        single = [r for r, (x, _) in enumerate(self._data) if len(x) == 1]
        if single or len(self._dots.data):  # most redraws have none, and had none
            self._dots.setData([{"pos": (self._data[r][0][0], self._data[r][1][0]),
                                 "brush": self.colors[self.layers[r]]} for r in single])
        self._draw_top()

    def layer_data(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """What is drawn for ``layer`` (empty arrays if it is not in this family)."""
        if layer in self.layers and self._data:
            return self._data[self.layers.index(layer)]
        return np.array([]), np.array([])

    def highlight(self, layer: int) -> None:
        """Draw ``layer`` thick on top (-1: none)."""
        if layer != self.highlighted:
            self.highlighted = layer
            self._draw_top()

    def _draw_top(self) -> None:
        shown = self.highlighted in self.layers and bool(self._data)
        self._top.setVisible(shown)
        if shown:
            x, y = self.layer_data(self.highlighted)
            self._top.setPen(pg.mkPen(self.colors[self.highlighted], width=3,
                                      style=self.style))
            self._top.setData(x, y, skipFiniteCheck=True)

    def remove(self) -> None:
        """Take every item out of the plot (before the family is dropped)."""
        for item in self._pool:
            self.plot.removeItem(item)
        self.plot.removeItem(self._top)
        self.plot.removeItem(self._dots)
        self._pool, self._bands, self.layers, self._data = [], [], [], []
