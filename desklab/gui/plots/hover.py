"""Which layer the mouse points at in a panel, and what the plot shows there.

Two kinds of plot name a layer under the mouse. In a plot with a layer axis (the
histograms' rows, the heatmap's rows, gradient by depth) the rounded coordinate is
the layer, and the panel says what it shows there (the share of the layer's values
in the bin under the mouse, the heatmap cell's value, the gradients at that depth).
In a plot of per-layer curves over time (mean |dL/dh| per layer, unit shares,
update / weight ratio) it is the curve nearest the mouse, within ``NEAR_PX``
pixels, with its value at the nearest recorded step: those plots have no legend (50
layers would not fit one), so pointing is how a line is named.

A panel has one handler for all its plots: pyqtgraph's scene sends every move to
every handler, and with one handler per plot the plot the mouse was *not* in
answered "none" right after the one it was in answered its layer, so a hovered
histogram row was never drawn thick.
"""

from __future__ import annotations

import numpy as np

NEAR_PX = 6  # how close to a curve the mouse must be for the curve to count (pixels)


def format_value(value: float, log: bool) -> str:
    """A curve's value as the status bar shows it: 2.1e-06 on a log axis, 35% for a
    share."""
    return f"{value:.2g}" if log else f"{value:.0%}"


def read_curves(x: float, curves) -> str:
    """Each of ``curves`` ((label, PlotDataItem) pairs) at its drawn point nearest step
    ``x``, for the status bar: a loss as 4 digits, anything else as a share (a curve
    keeps the values it was given, not their log10)."""
    parts = []
    for label, curve in curves:
        steps, values = curve.xData, curve.yData  # None: nothing drawn
        if steps is not None and len(steps):
            k = int(np.argmin(np.abs(steps - x)))
            value = f"{values[k]:.4g}" if "loss" in label else f"{values[k]:.1%}"
            parts.append(f"{label} {value} at step {int(steps[k])}")
    return " · ".join(parts)


class PanelHover:
    """The mouse-move handler of one panel; see the module docstring.

    Parameters
    ----------
    panel : Panel
        Emits ``hovered(layer)`` (-1 for none) and ``hover_detail(text)``.
    """

    def __init__(self, panel):
        self.panel = panel
        self.axes: list[tuple] = []  # (plot, "x" | "y", describe or None)
        self.curves: list[tuple[object, list]] = []  # (plot, [LayerLines])
        self.plots: list[tuple] = []  # (plot, describe(x, y))
        self._told = False  # a detail is in the status bar (cleared when off every curve)
        panel.scene().sigMouseMoved.connect(self.moved)

    def on_axis(self, plot, axis: str, describe=None) -> None:
        """In ``plot``, the rounded ``axis`` coordinate ("x" or "y") is the layer;
        ``describe(layer, x, y)`` says what the plot shows there ("" for nothing)."""
        self.axes.append((plot, axis, describe))

    def on_plot(self, plot, describe) -> None:
        """In ``plot`` (not a layer per row or curve: loss, the gradient through time),
        ``describe(x, y)`` reads what is drawn at the mouse."""
        self.plots.append((plot, describe))

    def on_curves(self, plot, families: list) -> None:
        """In ``plot``, the nearest curve of ``families`` (LayerLines) is the layer."""
        self.curves.append((plot, families))

    def moved(self, pos) -> None:
        layer, detail = self.at(pos)
        self.panel.hovered.emit(layer)
        if detail or self._told:
            self.panel.hover_detail.emit(detail)
            self._told = bool(detail)

    def left(self) -> None:
        """The mouse left the panel: no layer is pointed at."""
        if self.panel.highlighted != -1:
            self.panel.hovered.emit(-1)
        if self._told:
            self.panel.hover_detail.emit("")
            self._told = False

    def at(self, pos) -> tuple[int, str]:
        """(layer, detail) under scene position ``pos``; (-1, "") for none."""
        for plot, describe in self.plots:  # no layer: the readout needs no layout
            if plot.vb.sceneBoundingRect().contains(pos):
                point = plot.vb.mapSceneToView(pos)
                return -1, describe(point.x(), point.y())
        layout = self.panel.layout_
        if layout is None or not len(layout):
            return -1, ""
        for plot, axis, describe in self.axes:
            if plot.sceneBoundingRect().contains(pos):
                point = plot.vb.mapSceneToView(pos)
                i = int(round(point.x() if axis == "x" else point.y()))
                if not 0 <= i < len(layout):
                    return -1, ""
                text = describe(i, point.x(), point.y()) if describe is not None else ""
                return i, f"layer {layout.names[i]} · {text}" if text else ""
        for plot, families in self.curves:
            if plot.vb.sceneBoundingRect().contains(pos):
                return self._nearest(plot, families, pos)
        return -1, ""

    def _nearest(self, plot, families: list, pos) -> tuple[int, str]:
        point = plot.vb.mapSceneToView(pos)
        px_w, px_h = plot.vb.viewPixelSize()  # view units per pixel
        mx, my = point.x(), point.y()
        near = []  # (distance in pixels, order, family, layer, step, value)
        for family in families:
            for layer in family.layers:
                xs, ys = family.layer_data(layer)
                if not len(xs) or mx < xs[0] - NEAR_PX * px_w or mx > xs[-1] + NEAR_PX * px_w:
                    continue
                gap = abs(float(np.interp(mx, xs, ys)) - my) / px_h
                if gap <= NEAR_PX:
                    k = int(np.argmin(np.abs(xs - mx)))  # the recorded step told
                    near.append((gap, len(near), family, layer, xs[k], ys[k]))
        if not near:
            return -1, ""
        gap, _, family, layer, step, value = min(near)  # a tie: the first family's, shallowest
        shown = 10.0 ** value if family.log else value  # log plots hold log10 values
        name = self.panel.layout_.names[layer]
        text = (f"layer {name} · step {int(round(step))} · {family.quantity} "
                f"{format_value(shown, family.log)}")
        alike = sum(1 for other in near if other[0] <= gap + 1) - 1  # drawn over each other
        return layer, text + (f" (and {alike} more curves here)" if alike else "")
