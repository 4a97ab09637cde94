"""Unit health: dead and saturated shares over time, and the update / weight ratio."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...design.catalog import saturating_activations
from ...metrics import ProbeLayout, RunHistory
from .layer_lines import LayerLines
from .base import (Panel, _log_range, _set_range, _step_range, _thin, layer_points,
                   legend_title)


class HealthPanel(Panel):
    """Dead and saturated shares per layer over time; update / weight ratio with 1e-3."""

    def __init__(self, parent=None):
        super().__init__("Unit health", parent)
        self.setObjectName("healthPlot")
        self.frac = self._plot(legend_title("Unit shares", [("dead", "#444444", False),
                                                            ("saturated", "#444444", True)]))
        self.frac.disableAutoRange()
        _set_range(self.frac, "y", 0, 1.02, padding=None)
        self.nextRow()
        self.ratio = self._plot(legend_title("Update / weight ratio",
                                             [("healthy ≈ 1e-3", "#2e7d32", True)]))
        self.ratio.setLogMode(y=True)
        self.ratio.setLabel("bottom", "step")
        self.ratio.disableAutoRange()
        guide = pg.InfiniteLine(pos=-3, angle=0, pen=pg.mkPen("#2e7d32", style=Qt.DashLine))
        self.ratio.addItem(guide)
        self.dead = LayerLines(self.frac, quantity="dead")
        self.sat = LayerLines(self.frac, Qt.DashLine, quantity="saturated")
        self.sat_index: list[int] = []
        self.ratios = LayerLines(self.ratio, quantity="update / weight", log=True)
        self.hover.on_curves(self.frac, [self.dead, self.sat])
        self.hover.on_curves(self.ratio, [self.ratios])

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
        points = layer_points(len(self.dead))
        steps, dead = _thin(*history.stat_series("frac_dead"), points)
        _, sat = _thin(*history.stat_series("frac_saturated"), points)
        rsteps, ratio = _thin(*history.stat_series("update_ratio"), points)
        dead, sat = np.nan_to_num(dead), np.nan_to_num(sat)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(ratio)  # a log-mode plot: curves take log values
        self.dead.set_data(steps, dead)
        keep = np.isfinite(logs)
        self.ratios.set_data([rsteps[k] for k in keep], [row[k] for row, k in zip(logs, keep)])
        self.sat.set_data(steps, sat[self.sat_index])
        _step_range(self.frac, steps, self.planned_steps, ran=self.ran_steps)
        _step_range(self.ratio, rsteps, self.planned_steps, ran=self.ran_steps)
        _log_range(self.ratio, np.concatenate([ratio.ravel(), [1e-3]]))  # the whole run
