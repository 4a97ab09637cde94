"""The search window's scatter: each trial at its first two settings on log axes,
coloured by its score (a colour bar gives the scale), pruned trials hollow, the best
trial starred, the trial chosen in the table ringed; pointing at a trial names it."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Signal

from ...experiments.score import ACCURACY, Score
from ..plots import log_axis
from ..plots.colour_image import thinning_axis

BEST, CHOSEN = "#d62728", "#222222"  # the star's and the ring's pens
# the star named in a word: symbols outside the fonts a desktop is sure to have draw as
# boxes (tests/gui/test_glyphs)
KEY = ("<br><span style='font-size:8pt; color:#555'>● complete &nbsp; ○ pruned (stopped "
       "early) &nbsp; <span style='color:%s'>star</span>: the best</span>" % BEST)


class SearchScatter(pg.PlotWidget):
    """The trials of a search; ``trial_clicked(number)`` when one is clicked."""

    trial_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, axisItems=log_axis.axes(), background="w")
        self.setObjectName("searchScatter")
        self.setLogMode(x=True, y=True)
        for side in ("bottom", "left"):  # values as they are (1e-4), never "(x0.001)"
            self.getAxis(side).enableAutoSIPrefix(False)
        self.score: Score = ACCURACY
        self.names = ("lr", "l2")
        self.scatter = pg.ScatterPlotItem(size=11, hoverable=True, tip=self._tip,
                                          hoverPen=pg.mkPen(CHOSEN, width=2))
        self.scatter.sigClicked.connect(self._clicked)
        self.best = pg.ScatterPlotItem(size=22, symbol="star", brush=None,
                                       pen=pg.mkPen(BEST, width=2))
        self.chosen = pg.ScatterPlotItem(size=20, symbol="o", brush=None,
                                         pen=pg.mkPen(CHOSEN, width=2))
        for item in (self.scatter, self.best, self.chosen):
            self.addItem(item)
        self.best.setZValue(2)
        self.chosen.setZValue(3)
        self.cmap = pg.colormap.get("viridis")
        self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.cmap,
                                         interactive=False, width=12, label="val acc")
        self.color_bar.setImageItem(pg.ImageItem(), insert_in=self.getPlotItem())
        thinning_axis(self.color_bar)
        self._rows: dict[int, dict] = {}  # number -> row, the trials shown
        self._chosen: int | None = None  # the trial ringed (the table's selection)

    def frame(self, spaces, score: Score) -> None:
        """Axes, title, key and colour scale for ``spaces`` (the first two are the axes)
        and ``score``, before any trial: the axes span the settings' ranges."""
        self.score = score
        x, y = (tuple(spaces) * 2)[:2]
        self.names = (x.name, y.name)
        self.setLabel("bottom", x.name)
        self.setLabel("left", y.name)
        self.setTitle(f"{score.title} by {x.name} and {y.name}{KEY}", size="10pt")
        self.setXRange(axis(x.low), axis(x.high), padding=0.05)
        self.setYRange(axis(y.low), axis(y.high), padding=0.05)
        # a loss spans decades and lower is better: log10, and the colours reversed so
        # the best trial is the bright one either way
        loss = score.direction == "minimize"
        self.cmap = pg.colormap.get("viridis")
        if loss:
            self.cmap.reverse()
        self.color_bar.setColorMap(self.cmap)
        self.color_bar.getAxis("left").setLabel(score.label + (" (log10)" if loss else ""))
        self.show_trials([], None)

    def shade(self, value: float) -> float:
        """What a trial's colour stands for: its accuracy, or log10 of its loss."""
        if self.score.direction == "minimize":
            return math.log10(max(value, 1e-12))
        return value

    def show_trials(self, rows: list[dict], best: int | None) -> None:
        """The finished trials among ``rows`` that have both axes' settings; ``best``:
        the number of the trial to star."""
        x_name, y_name = self.names
        shown = [r for r in rows if r["state"] in ("complete", "pruned")
                 and x_name in r["params"] and y_name in r["params"]]
        values = [self.shade(r["value"]) for r in shown if r["value"] is not None]
        # the colours span the values seen, so 0.72 and 0.85 look different
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.05, hi + 0.05
        self.color_bar.setLevels((lo, hi))
        spots = []
        for r in shown:
            level = self.shade(r["value"]) if r["value"] is not None else lo
            color = self.cmap.map(min(max((level - lo) / (hi - lo), 0.0), 1.0), mode="qcolor")
            pruned = r["state"] == "pruned"
            spots.append({"pos": self._position(r), "data": r["number"],
                          "brush": None if pruned else pg.mkBrush(color),
                          "pen": pg.mkPen(color, width=2) if pruned else pg.mkPen("k")})
        self.scatter.setData(spots)
        self._rows = {r["number"]: r for r in shown}
        starred = self._rows.get(best)
        self.best.setData([{"pos": self._position(starred)}] if starred else [])
        self.choose(self._chosen)

    def choose(self, number: int | None) -> None:
        """Ring trial ``number`` (the table's selection); None: no ring."""
        self._chosen = number
        row = self._rows.get(number) if number is not None else None
        self.chosen.setData([{"pos": self._position(row)}] if row else [])

    def trial_positions(self) -> dict[int, tuple[float, float]]:
        """Each trial shown, at its place in the view (log10 of its settings)."""
        return {number: self._position(row) for number, row in self._rows.items()}

    def _position(self, row: dict) -> tuple[float, float]:
        return axis(row["params"][self.names[0]]), axis(row["params"][self.names[1]])

    def _tip(self, x: float, y: float, data) -> str:
        """The text shown when pointing at a trial."""
        row = self._rows.get(data)
        if row is None:
            return ""
        settings = ", ".join(f"{name} {value:.3g}" for name, value in row["params"].items())
        value = "-" if row["value"] is None else f"{row['value']:.4g}"
        return f"trial {data} ({row['state']}): {settings}; {self.score.label} {value}"

    def _clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.trial_clicked.emit(int(points[0].data()))


def axis(value: float) -> float:
    """Position on the scatter's log axes (pyqtgraph's log mode takes log10)."""
    return math.log10(max(float(value), 1e-12))
