"""Activations: a ridgeline of per-layer histograms now, and a layer x time heatmap."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QFontMetrics

from ...metrics import ProbeLayout, RunHistory
from .base import (Panel, _set_range, _step_range, _thin, layer_ticks, short_layer_name,
                   small_font)
from .colour_image import colour_image
from .hover import format_value
from .thinning import probe_gap, probe_under
from .ridge import RidgeBands


class ActivationPanel(Panel):
    """Ridgeline of per-layer histograms now, and a layer x time heatmap of one stat."""

    STATS = {"act_std": ("activation std (log10)", True, (-4.0, 1.0)),
             "frac_zero": ("share of zeros", False, (0.0, 1.0)),
             "frac_saturated": ("share saturated", False, (0.0, 1.0)),
             "frac_dead": ("share of dead units", False, (0.0, 1.0)),
             "grad_mean_abs": ("mean |dL/dh| (log10)", True, (-9.0, 0.0))}

    def __init__(self, parent=None):
        super().__init__("Activations", parent)
        self.setObjectName("activationPlot")
        self.ridge = self._plot("Histograms (now)")
        self.ridge.disableAutoRange()  # ranges are set from the layout
        self.ridge.setLabel("left", "layer")
        self.ridge.setLabel("bottom", "activation")
        self.nextRow()
        self.heat_plot = self._plot("")
        self.heat_plot.setLabel("left", "layer")
        self.heat_plot.setLabel("bottom", "step")
        # the scale of the colours, with the statistic's fixed levels
        self.heat, self.color_bar = colour_image(self.heat_plot, "inferno",
                                                 self.STATS["act_std"][2])
        self.set_stat("act_std")
        self.ridges = RidgeBands(self.ridge)
        self._snap = None  # the snapshot the histograms show
        self._heat = None  # (steps (T,), values (L, T)) the heatmap shows, not in log10
        self.hover.on_axis(self.ridge, "y", self._bin_under)
        self.hover.on_axis(self.heat_plot, "y", self._cell_under)

    def reset(self) -> None:
        super().reset()
        self.heat.clear()
        self.color_bar.setLevels(self.STATS[self.stat][2])

    def set_stat(self, stat: str) -> None:
        self.stat = stat
        label, log, levels = self.STATS[stat]
        self.heat_plot.setTitle(
            label.replace(" (log10)", "") + " over time<br><span style='font-size:7pt'>"
            f"colour: {'log10' if log else 'share, 0 to 1'}</span>",  # short: it wraps
            size="9pt")
        self.color_bar.setLevels(levels)

    def set_layout(self, layout: ProbeLayout) -> None:
        super().set_layout(layout)
        self.ridges.set_layers(self.colors)
        self._tick_layers()
        hidden = [m.hist_range for m in layout.layers if m.kind != "output"] or [(-4.0, 4.0)]
        _set_range(self.ridge, "x", min(r[0] for r in hidden), max(r[1] for r in hidden),
                   padding=None)
        _set_range(self.ridge, "y", -0.2, len(layout) + 0.2, padding=None)

    def _tick_layers(self) -> None:
        if self.layout_ is None:
            return
        names = [short_layer_name(n) for n in self.layout_.names]
        # the labels sit left of the plots: at most a third of the panel's width, else
        # the plots were squeezed and cut off (a BERT's "b.e.l.3.output.LayerNorm" took
        # 160 of 290 px); too long, the layers are numbered (the hover names them)
        metrics = QFontMetrics(small_font())
        if max((metrics.horizontalAdvance(n) for n in names), default=0) > self.width() / 3:
            names = [str(i) for i in range(len(names))]
        for plot in (self.ridge, self.heat_plot):  # vertical: one text line per label
            plot.getAxis("left").setTicks(layer_ticks(
                names, plot.vb.height() or self.height() / 2, 14))

    def update(self, history: RunHistory) -> None:
        snap = history.latest
        if snap is None or not len(self.ridges):
            return
        self._show_hint(False)
        self._snap = snap
        for i, meta in enumerate(snap.layout.layers):
            counts = snap.hist[i, 1:-1]
            total = snap.hist[i].sum()
            if not np.isfinite(total) or total <= 0:
                continue
            density = counts / max(counts.max(), 1e-12) * 0.9
            edges = meta.hist_edges
            x = np.repeat(edges, 2)[1:-1]  # step outline
            y = i + np.repeat(density, 2)
            self.ridges.set_row(i, x, y)
        self.ridges.highlight(self.highlighted)
        self.ridges.refresh()
        steps, values = history.stat_series(self.stat)
        if len(steps) < 1:
            return
        steps, values = _thin(steps, values, latest=False)  # image columns: even
        self._heat = (steps, values)
        label, log, levels = self.STATS[self.stat]
        image = np.log10(np.maximum(values, 1e-12)) if log else values
        image = np.nan_to_num(image.astype(np.float32), nan=levels[0])  # (L, T) row-major
        self.heat.setImage(image, levels=levels, autoLevels=False)
        # each column reaches to the next probe (spread over the first to the last step,
        # each sat up to a gap left of its step)
        self.heat.setRect(float(steps[0]), -0.5, len(steps) * probe_gap(steps),
                          float(image.shape[0]))
        # ranges set, not followed: an autoranged axis redraws its ticks at every paint
        _step_range(self.heat_plot, steps, self.planned_steps, ran=self.ran_steps)
        _set_range(self.heat_plot, "y", -0.5, image.shape[0] - 0.5)

    def _bin_under(self, layer: int, x: float, _y: float) -> str:
        """The share of ``layer``'s activations in the histogram bin under the mouse."""
        snap = self._snap
        if snap is None or layer >= len(snap.layout):
            return ""
        edges, counts = snap.layout.layers[layer].hist_edges, snap.hist[layer]
        total = counts.sum()
        if not (np.isfinite(total) and total > 0 and edges[0] <= x < edges[-1]):
            return f"step {snap.step}"
        k = int(np.searchsorted(edges, x, side="right")) - 1  # counts[0]: below the range
        share = counts[1 + k] / total
        return (f"step {snap.step} · {'<1%' if 0 < share < 0.005 else f'{share:.0%}'} of "
                f"its values in [{edges[k]:.3g}, {edges[k + 1]:.3g})")

    def _cell_under(self, layer: int, x: float, _y: float) -> str:
        """The heatmap cell's step and value (each column reaches to the next probe)."""
        if self._heat is None or layer >= self._heat[1].shape[0]:
            return ""
        steps, values = self._heat
        k = probe_under(steps, x)
        label, log, _ = self.STATS[self.stat]
        return f"step {steps[k]} · {label.replace(' (log10)', '')} " \
               f"{format_value(values[layer, k], log)}"
