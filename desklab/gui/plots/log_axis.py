"""An axis whose labels never pile up on a short plot.

pyqtgraph labels every minor tick (2..9 x 10^k) of a log axis once fewer than three
decades show, whatever the axis length; on the live view's small panels the labels
of the update-ratio and loss axes were drawn over each other. Here decades are
always labelled, 2 and 5 only with room for them, the rest only on a tall axis. On
a linear axis a level is labelled evenly (every tick, every 2nd or every 5th...) where
its labels fit, and a finer level only where all of its labels fit between them (a
narrow step axis drew "500 10001500", then "50  20050": each level thinned on its own).
No label touches another, of any level. Ticks themselves are unchanged.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

ROOM_FOR_2_AND_5 = 60  # pixels per decade
ROOM_FOR_ALL = 160
GAP = 8  # pixels between two labels of a horizontal axis
ROW = 14  # pixels a label of a vertical axis needs
STRIDES = (1, 2, 5, 10, 20, 50, 100)  # every n-th tick of a level labelled


def axes() -> dict:
    """``axisItems`` for a PlotItem / PlotWidget: left and bottom as `LogAxis`."""
    return {"left": LogAxis("left"), "bottom": LogAxis("bottom")}


class LogAxis(pg.AxisItem):
    """A pyqtgraph AxisItem; outside log mode it is the plain one."""

    _per_decade = 0.0  # pixels per axis unit (a decade in log mode)
    _fine_step: float | None = None  # a sub-decade log axis' linear step (see fine_ticks)
    drawn_labels: tuple = ()  # the tick labels of the last drawing (the UI map reads them)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (value, half its label's extent in px) labelled so far in this drawing: pyqtgraph
        # works out the tick values once a drawing, then each level's strings, coarsest first
        self._kept: list[tuple[float, float]] = []
        self._range = (0.0, 1.0)  # the axis' range in its last drawing

    def _keep_title_on_plot(self) -> None:
        """pyqtgraph centres the axis title under the axis; one wider than the axis
        (a narrow panel's "layer (input → output)") ran past the plot's right edge and
        was cut off. It is moved left as far as it must, never past the plot's left.
        (At paint time: in a resize, during a scene's teardown, the plot may be gone.)"""
        plot = self.parentItem()
        if self.label is None or self._vertical() or plot is None:
            return
        width = self.label.boundingRect().width()
        left = self.mapFromParent(plot.boundingRect().topLeft()).x()
        right = self.mapFromParent(plot.boundingRect().topRight()).x()
        centred = self.size().width() / 2 - width / 2  # where pyqtgraph puts it
        x = max(min(centred, right - width), left)
        if abs(x - self.label.pos().x()) > 0.5:
            self.label.setX(x)

    def generateDrawSpecs(self, p):  # noqa: N802 (Qt naming)
        self._keep_title_on_plot()
        specs = super().generateDrawSpecs(p)
        if specs is not None:
            self.drawn_labels = tuple(text for _, _, text in specs[2] if text)
        return specs

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (Qt naming)
        self._kept = []
        self._range = (minVal, maxVal)
        if not self.logMode:
            self._per_decade = size / max(maxVal - minVal, 1e-300)
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        strings = super().tickStrings(values, scale, spacing)
        return strings if self.logMode else self._even(values, strings, spacing)

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802 (Qt naming)
        self._per_decade = size / max(maxVal - minVal, 1e-9)
        self._kept = []
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        majors = {round(v, 9) for spacing, level in ticks if spacing is not None
                  for v in level}
        # the minor level repeats each decade (mantissa 1): drop it, not label it twice
        ticks = [(spacing, level if spacing is not None else
                  [v for v in level if round(v, 9) not in majors]) for spacing, level in ticks]
        self._fine_step = None
        if sum(minVal <= v <= maxVal for _, level in ticks for v in level) < 2:
            # less than a decade with at most one of 1..9 x 10^k in it (two losses around
            # 1.6 on the compare window: an axis without a number)
            self._fine_step, fine = fine_ticks(minVal, maxVal, size / (ROW * 3 if
                                                                       self._vertical() else 60))
            if fine:
                return [(None, fine)]
        return ticks

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        if self._fine_step is not None:  # 1.5, 1.6, 1.7: as many decimals as the step has
            decimals = max(0, -math.floor(math.log10(self._fine_step) + 1e-9))
            return self._spaced(values, [f"{10 ** v * scale:.{decimals}f}" for v in values])
        strings = super().logTickStrings(values, scale, spacing)
        if self._per_decade < ROOM_FOR_ALL:
            shown = {1, 2, 5} if self._per_decade >= ROOM_FOR_2_AND_5 else {1}
            strings = [text if _mantissa(v) in shown else "" for v, text in
                       zip(values, strings)]
        return self._spaced(values, strings)

    def _even(self, values, strings, spacing) -> list[str]:
        """A linear level's labels: the coarsest level every n-th tick (the fewest n whose
        labels fit; of the n ways to pick them, the one that draws the most, since a label
        that would stick out past an end of the axis is not drawn, counting from 0 on a
        tie: 0, 200, 400 rather than 100, 300), a finer level all of its ticks or none."""
        if not values:
            return strings
        pixels = spacing * self._per_decade  # between two ticks of this level
        need = max(self._extent(text) for text in strings) + (
            0 if self._vertical() else GAP)
        index = [round(v / spacing) for v in values]
        stride = next((n for n in (STRIDES if not self._kept else (1,)) if n * pixels >= need),
                      None)
        if stride is None:
            return ["" for _ in strings]
        picks = [[t if (k - phase) % stride == 0 else "" for k, t in zip(index, strings)]
                 for phase in range(stride)]
        chosen = max(picks, key=lambda pick: sum(self._inside(v, t) for v, t in zip(values, pick)
                                                 if t))  # the first of equals: phase 0
        labelled = [(v, t) for v, t in zip(values, chosen) if t]
        if any(not self._clear(v, t) for v, t in labelled):
            return ["" for _ in strings]  # a finer level between the kept labels: all or none
        self._kept += [(v, self._extent(t) / 2) for v, t in labelled]
        return chosen

    def _inside(self, value: float, text: str) -> bool:
        """Whether ``text`` centred at ``value`` stays within the axis and the overhang
        pyqtgraph allows past its ends (none on a horizontal axis, 15 px on a vertical
        one, by default): it leaves out a label that would not."""
        lo, hi = self._range
        hide = self.style["hideOverlappingLabels"]
        overhang = 0 if hide is True else 15 if hide is False else int(hide)
        half = self._extent(text) / 2
        return min(value - lo, hi - value) * self._per_decade + overhang >= half

    def _spaced(self, values, strings) -> list[str]:
        """Drop labels that would touch one already labelled (a sub-decade range on a
        small plot drew "0.0040.0050.006")."""
        out = []
        for v, text in zip(values, strings):
            if text and self._clear(v, text):
                self._kept.append((v, self._extent(text) / 2))
                out.append(text)
            else:
                out.append("")
        return out

    def _clear(self, value: float, text: str) -> bool:
        """Whether ``text`` at ``value`` leaves room to every label kept so far."""
        half = self._extent(text) / 2
        gap = 0 if self._vertical() else GAP
        return all(abs(value - v) * self._per_decade >= half + h + gap for v, h in self._kept)

    def _vertical(self) -> bool:
        return self.orientation in ("left", "right")

    def _extent(self, text: str) -> float:
        """Pixels ``text`` takes along the axis in the tick font."""
        if self._vertical():
            return ROW
        font = self.style.get("tickFont")
        return QFontMetricsF(font).horizontalAdvance(text) if font is not None \
            else 7.0 * len(text)


def fine_ticks(lo: float, hi: float, count: float) -> tuple[float, list[float]]:
    """(step, log10 of its multiples from 10^lo to 10^hi): about ``count`` (at least 2)
    evenly spaced values, step 1, 2 or 5 x 10^k, for a log axis spanning less than the
    distance between two of its usual ticks."""
    low, high = 10.0 ** lo, 10.0 ** hi
    raw = (high - low) / max(count, 2.0)
    if not (math.isfinite(raw) and raw > 0):
        return 1.0, []
    magnitude = 10.0 ** math.floor(math.log10(raw))
    steps = [m * magnitude for m in (10, 5, 2, 1, 0.5, 0.2, 0.1)]  # coarse to fine
    steps = [m for m in steps if m <= raw * (1 + 1e-9)] or steps[-1:]
    for step in steps:  # the coarsest that puts two values on the axis
        first = math.ceil(low / step - 1e-9)
        values = [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]
        if len(values) >= 2:
            break
    return step, [math.log10(v) for v in values if v > 0]


def _mantissa(log_value: float) -> int:
    """1..9: the leading digit of 10 ** log_value (log ticks sit on whole mantissas)."""
    return int(round(10 ** (log_value - math.floor(log_value + 1e-9))))
