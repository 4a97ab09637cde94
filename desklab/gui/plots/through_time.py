"""Gradient through time: ||dL/dh_t|| of a recurrent layer across its time steps.

Top: a time step x training step heatmap of log10(||dL/dh_t|| / ||dL/dh_T||), decades
below (blue) or above (red) the last step, on fixed levels; bottom: the latest curve
and the first one on a log axis. It takes the boundary panel's place when a run has
recurrent layers (a sequence has no 2-D decision boundary to draw).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...metrics import ProbeLayout, RunHistory
from .base import (Panel, _forget_range, _log_range, _set_range, _step_range, _thin,
                   legend_title)
from .colour_image import colour_image
from .thinning import probe_gap, probe_under
from .titles import no_break

LEVELS = (-6.0, 6.0)  # decades relative to the last step: symmetric, white = no change


class ThroughTimePanel(Panel):
    """The gradient through time of one recurrent layer: the first, or the last one
    pointed at (see module doc)."""

    HINT = ("Press <b>Train</b> (F5): for a recurrent layer this shows how the gradient "
            "shrinks or grows on its way back through the time steps.")

    def __init__(self, parent=None):
        super().__init__("Gradient through time", parent)
        self.setObjectName("throughTimePlot")
        self.heat_plot = self._plot("")
        self.heat_plot.setLabel("bottom", "time step t")
        self.heat_plot.setLabel("left", "training step")
        # diverging: blue below the last step, red above
        self.heat, self.color_bar = colour_image(self.heat_plot, "CET-D1", LEVELS)
        self.nextRow()
        self.curve_plot = self._plot(legend_title(
            "‖dL/dh_t‖", [("now", "#d1495b", False), ("first", "#7a7a7a", True)]))
        self.curve_plot.setLogMode(y=True)
        self.curve_plot.disableAutoRange()
        self.curve_plot.setLabel("bottom", "time step t")
        self.now = self.curve_plot.plot(pen=pg.mkPen("#d1495b", width=2))
        self.first = self.curve_plot.plot(pen=pg.mkPen("#7a7a7a", width=1,
                                                       style=Qt.DashLine))
        self.row = 0  # which recurrent layer (row of Snapshot.time_grad) is shown
        self._image = None  # (training steps (N,), decades (N, T)) the heatmap shows
        self._curves = None  # (now (T,), its step, first (T,), its step) as drawn
        self.hover.on_plot(self.heat_plot, self._cell_under)
        self.hover.on_plot(self.curve_plot, self._curves_at)

    def _fixed_items(self) -> list:
        return [self.now, self.first]

    def reset(self) -> None:
        super().reset()
        self.heat.clear()

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        _forget_range(self.curve_plot, "y")
        self.row = 0
        if layout.time_layers:
            self._show_row()

    def highlight(self, index: int) -> None:
        """A recurrent layer pointed at anywhere (the other plots, the findings) is the
        one shown, until another is; pointing elsewhere keeps it."""
        super().highlight(index)
        timed = self.layout_.time_layers if self.layout_ is not None else []
        if index in timed and timed.index(index) != self.row:
            self.row = timed.index(index)
            self._show_row()
            self._drawn_step = None  # the heatmap again, for this layer

    def _show_row(self) -> None:
        meta = self.layout_.layers[self.layout_.time_layers[self.row]]
        self.heat_plot.setTitle(
            f"{meta.name}: {no_break('‖dL/dh_t‖ / ‖dL/dh_T‖')}<br><span style='font-size:"
            "7pt'>log10 · blue:&nbsp;vanished · red:&nbsp;exploded</span>", size="9pt")
        for plot in (self.heat_plot, self.curve_plot):
            _set_range(plot, "x", 0.5, meta.time_steps + 0.5)

    def update(self, history: RunHistory) -> None:
        snap, series = history.latest, history.time_grads
        if snap is None or snap.time_grad is None or series is None or not len(series):
            return
        self._show_hint(False)
        steps_t = snap.layout.layers[snap.layout.time_layers[self.row]].time_steps
        t = np.arange(1, steps_t + 1, dtype=float)
        for curve, row in ((self.now, snap.time_grad[self.row]),
                           (self.first, history.first.time_grad[self.row]
                            if history.first is not None and history.first.time_grad
                            is not None else np.full(steps_t, np.nan))):
            keep = np.isfinite(row[:steps_t]) & (row[:steps_t] > 0)
            curve.setData(t[keep], row[:steps_t][keep])
        first = history.first
        self._curves = (snap.time_grad[self.row][:steps_t], snap.step, None if first is None
                        or first.time_grad is None else first.time_grad[self.row][:steps_t],
                        first.step if first is not None else 0)
        if not self._new_step(history):
            return
        steps, values = _thin(series.steps, np.moveaxis(series.values, 0, -1),  # (R, T, N)
                              latest=False)  # image rows: evenly spaced
        rows = values[self.row, :steps_t].T  # (N, T): one training step per image row
        _log_range(self.curve_plot, rows, grow=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            decades = np.log10(rows / rows[:, -1:])
        image = np.nan_to_num(decades, nan=0.0, posinf=LEVELS[1], neginf=LEVELS[0])
        self.heat.setImage(image.astype(np.float32), levels=LEVELS, autoLevels=False)
        self._image = (steps, decades)
        # each row reaches to the next probe
        self.heat.setRect(0.5, float(steps[0]), float(steps_t), len(steps) * probe_gap(steps))
        _step_range(self.heat_plot, steps, self.planned_steps, axis="y",  # vertical here
                    ran=self.ran_steps)

    def _layer_name(self) -> str:
        return self.layout_.names[self.layout_.time_layers[self.row]]

    def _cell_under(self, x: float, y: float) -> str:
        """The heatmap cell under the mouse: how many decades ||dL/dh_t|| lies from the
        last time step's, at that training step (each row reaches to the next probe)."""
        if self._image is None or self.layout_ is None or not self.layout_.time_layers:
            return ""
        steps, decades = self._image
        k = probe_under(steps, y)
        t = int(np.clip(round(x), 1, decades.shape[1]))
        d = decades[k, t - 1]
        told = f"{d:+.1f} decades from" if np.isfinite(d) else "not comparable with"
        return (f"layer {self._layer_name()} · step {steps[k]} · ‖dL/dh_t‖ at t {t} is "
                f"{told} t {decades.shape[1]}'s")

    def _curves_at(self, x: float, _y: float) -> str:
        """Both curves' ||dL/dh_t|| at the time step under the mouse."""
        if self._curves is None or self.layout_ is None or not self.layout_.time_layers:
            return ""
        now, step, first, first_step = self._curves
        t = int(np.clip(round(x), 1, len(now)))
        text = f"layer {self._layer_name()} · t {t} · ‖dL/dh_t‖ {now[t - 1]:.2g} at step {step}"
        if first is not None:
            text += f", {first[t - 1]:.2g} at step {first_step}"
        return text
