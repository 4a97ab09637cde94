"""An axis whose labels never pile up on a short plot.

pyqtgraph labels every minor tick (2..9 x 10^k) of a log axis once fewer than three
decades show, whatever the axis length; on the live view's small panels the labels
of the update-ratio and loss axes were drawn over each other. Here decades are
always labelled, 2 and 5 only with room for them, the rest only on a tall axis. On
a linear axis too, a label that would touch the one before is left out (a narrow
step axis drew "500 10001500"). Ticks themselves are unchanged.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

ROOM_FOR_2_AND_5 = 60  # pixels per decade
ROOM_FOR_ALL = 160


def axes() -> dict:
    """``axisItems`` for a PlotItem / PlotWidget: left and bottom as `LogAxis`."""
    return {"left": LogAxis("left"), "bottom": LogAxis("bottom")}


class LogAxis(pg.AxisItem):
    """A pyqtgraph AxisItem; outside log mode it is the plain one."""

    _per_decade = 0.0  # pixels per axis unit (a decade in log mode)
    drawn_labels: tuple = ()  # the tick labels of the last drawing (the UI map reads them)

    def generateDrawSpecs(self, p):  # noqa: N802 (Qt naming)
        specs = super().generateDrawSpecs(p)
        if specs is not None:
            self.drawn_labels = tuple(text for _, _, text in specs[2] if text)
        return specs

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (Qt naming)
        if not self.logMode:
            self._per_decade = size / max(maxVal - minVal, 1e-300)
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        strings = super().tickStrings(values, scale, spacing)
        return strings if self.logMode else self._spaced(values, strings)

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802 (Qt naming)
        self._per_decade = size / max(maxVal - minVal, 1e-9)
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        majors = {round(v, 9) for spacing, level in ticks if spacing is not None
                  for v in level}
        # the minor level repeats each decade (mantissa 1): drop it, not label it twice
        return [(spacing, level if spacing is not None else
                 [v for v in level if round(v, 9) not in majors]) for spacing, level in ticks]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        strings = super().logTickStrings(values, scale, spacing)
        if self._per_decade < ROOM_FOR_ALL:
            shown = {1, 2, 5} if self._per_decade >= ROOM_FOR_2_AND_5 else {1}
            strings = [text if _mantissa(v) in shown else "" for v, text in
                       zip(values, strings)]
        return self._spaced(values, strings)

    def _spaced(self, values, strings) -> list[str]:
        """Drop labels that would touch the one before (a sub-decade range on a small
        plot drew "0.0040.0050.006"): each needs its text's width (height on a
        vertical axis) in pixels."""
        vertical = self.orientation in ("left", "right")
        kept, last = [], None
        for v, text in sorted(zip(values, strings), key=lambda p: p[0]):
            if not text:
                continue
            need = 14 if vertical else 7 * len(text) + 8
            if last is None or (v - last) * self._per_decade >= need:
                kept.append(v)
                last = v
        keep = set(kept)
        return [text if v in keep else "" for v, text in zip(values, strings)]


def _mantissa(log_value: float) -> int:
    """1..9: the leading digit of 10 ** log_value (log ticks sit on whole mantissas)."""
    return int(round(10 ** (log_value - math.floor(log_value + 1e-9))))
