"""Gradient flow: |dL/dh| and |dW| against depth now, and per layer over time."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...metrics import ProbeLayout, RunHistory
from .layer_lines import LayerLines
from .base import (
    Panel, _forget_range, _log_range, _set_range, _step_range, _thin, layer_points, legend_title,
)
from .layer_names import depth_ticks, overhanging_names


class GradientPanel(Panel):
    """|dL/dh| and |dW| against depth now, and per-layer |dL/dh| over time (log)."""

    def __init__(self, parent=None):
        super().__init__("Gradient flow", parent)
        self.setObjectName("gradientPlot")
        self.depth = self._plot(legend_title(
            "Gradient by depth (now)", [("mean |dL/dh|", "#d1495b", False),
                                        ("‖dW‖", "#2e4057", False),
                                        ("× = 0", "#b71c1c", False)]))
        self.depth.setLogMode(y=True)
        self.depth.disableAutoRange()  # ranges set in update: an axis works out its ticks
        # again whenever its range changes, the cost of most paints when it followed data
        self.depth.setLabel("bottom", "layer (input → output)")
        overhanging_names(self.depth.getAxis("bottom"))
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
        self.lines = LayerLines(self.time, quantity="mean |dL/dh|", log=True)
        self._snap = None  # the snapshot "now" shows
        self.hover.on_axis(self.depth, "x", self._gradients_at)
        self.hover.on_curves(self.time, [self.lines])

    def _fixed_items(self) -> list:
        return [self.grad_out, self.grad_w]

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        _forget_range(self.depth, "y")  # a new run: the "now" axis starts from its data
        self.lines.set_layers(list(range(len(layout))), self.colors)
        if len(layout):
            _set_range(self.depth, "x", -0.5, len(layout) - 0.5)
        self._tick_layers()

    def _tick_layers(self) -> None:
        if self.layout_ is None:
            return
        self.depth.getAxis("bottom").setTicks(
            depth_ticks(self.layout_.names, self.depth.vb.width() or self.width()))

    def update(self, history: RunHistory) -> None:
        snap = history.latest
        if snap is None or not self.lines:
            return
        self._show_hint(False)
        self._snap = snap
        x = np.arange(len(snap.layout))
        zero_x, shown = [], []
        for curve, stat in ((self.grad_out, "grad_mean_abs"), (self.grad_w, "weight_grad_norm")):
            v = snap.stat(stat)
            keep = np.isfinite(v) & (v > 0)
            curve.setData(x[keep], v[keep])
            zero_x += [int(i) for i in x[v == 0]]
            shown.append(v[keep])
        positive = np.concatenate(shown)
        _log_range(self.depth, positive, grow=True)
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
        steps, values = _thin(steps, values, layer_points(len(self.lines)))
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(values)  # the curves are in a log-mode plot: give log values
        keep = np.isfinite(logs)
        self.lines.set_data([steps[k] for k in keep], [row[k] for row, k in zip(logs, keep)])
        _step_range(self.time, steps, self.planned_steps, ran=self.ran_steps)
        _log_range(self.time, values)  # the whole run: a vanishing phase stays in view

    def _gradients_at(self, layer: int, _x: float, _y: float) -> str:
        """Both gradients of ``layer`` now (a layer without weights has no ‖dW‖)."""
        snap = self._snap
        if snap is None or layer >= len(snap.layout):
            return ""
        grad, weight = snap.stat("grad_mean_abs")[layer], snap.stat("weight_grad_norm")[layer]
        return f"step {snap.step} · mean |dL/dh| {grad:.2g}" + (
            f" · ‖dW‖ {weight:.2g}" if np.isfinite(weight) else "")
