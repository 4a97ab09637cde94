"""The ridgeline of per-layer histograms, drawn as a few filled paths instead of one
filled curve item per layer.

With 50 layers the ridge held 50 `PlotCurveItem`s with ``fillLevel``, and pyqtgraph
builds each fill path again at every paint (`_construct_finite_segment_FillPathList`):
the activation panel's paint took 10-40 ms, the longest block of the GUI thread during
a run. Here each depth band (at most ``MAX_ITEMS``, as `layer_lines`) is one
`QGraphicsPathItem` whose path holds every layer of the band as a closed polygon
(baseline at the layer's row, the histogram's step outline above it), built once per
update; Qt fills and strokes it in one call. The hovered layer is drawn again on top,
thick, in its own colour.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsPathItem

from .layer_lines import MAX_ITEMS


class RidgeBands:
    """Filled per-layer outlines in ``plot``; row ``i`` of the ridge sits at y = i."""

    def __init__(self, plot):
        self.plot = plot
        self.colors: list = []
        self.highlighted = -1
        self._bands: list[tuple[QGraphicsPathItem, list[int]]] = []
        self._data: list[tuple[np.ndarray, np.ndarray]] = []
        self._top = pg.PlotCurveItem(skipFiniteCheck=True)
        self._top.setZValue(10)
        self._top.setVisible(False)
        plot.addItem(self._top)

    def set_layers(self, colors: list) -> None:
        """One row per colour (input to output)."""
        self.remove()
        self.colors = list(colors)
        n = len(colors)
        bands = min(n, MAX_ITEMS)
        for b in range(bands):
            rows = [r for r in range(n) if r * bands // n == b]
            color = pg.mkColor(self.colors[rows[len(rows) // 2]])
            fill = pg.mkColor(color)
            fill.setAlpha(90)
            pen = pg.mkPen(color, width=1)
            pen.setCosmetic(True)  # one pixel wide whatever the view's scale
            item = QGraphicsPathItem()
            item.setPen(pen)
            item.setBrush(pg.mkBrush(fill))
            self.plot.addItem(item)
            self._bands.append((item, rows))
        self._data = [(np.zeros(0), np.zeros(0)) for _ in range(n)]

    def __len__(self) -> int:
        return len(self.colors)

    def set_row(self, row: int, x: np.ndarray, y: np.ndarray) -> None:
        """The outline of ``row`` (drawn at the next `refresh`)."""
        self._data[row] = (np.asarray(x, float), np.asarray(y, float))

    def refresh(self) -> None:
        """Rebuild each band's path from the rows' outlines."""
        for item, rows in self._bands:
            parts = [(self._data[r], r) for r in rows if len(self._data[r][0])]
            if not parts:
                item.setPath(pg.arrayToQPath(np.zeros(0), np.zeros(0)))
                continue
            # each polygon: the baseline's left end, the outline, the baseline's right end
            xs = [np.concatenate([[x[0]], x, [x[-1]]]) for (x, _), _r in parts]
            ys = [np.concatenate([[r], y, [r]]) for (_, y), r in parts]
            connect = np.ones(sum(len(x) for x in xs), dtype=np.int32)
            connect[np.cumsum([len(x) for x in xs]) - 1] = 0  # a new polygon after each
            item.setPath(pg.arrayToQPath(np.concatenate(xs), np.concatenate(ys), connect))
        self._draw_top()

    def layer_data(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The outline drawn for ``row`` (empty before any data)."""
        if 0 <= row < len(self._data):
            return self._data[row]
        return np.zeros(0), np.zeros(0)

    def highlight(self, row: int) -> None:
        if row != self.highlighted:
            self.highlighted = row
            self._draw_top()

    def _draw_top(self) -> None:
        x, y = self.layer_data(self.highlighted)
        shown = len(x) > 0
        self._top.setVisible(shown)
        if shown:
            self._top.setPen(pg.mkPen(self.colors[self.highlighted], width=3))
            self._top.setData(x, y, skipFiniteCheck=True)

    def remove(self) -> None:
        for item, _ in self._bands:
            self.plot.removeItem(item)
        self._bands, self._data, self.colors = [], [], []
