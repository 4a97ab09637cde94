"""The plots' axis ranges: set only when they really change, and kept, so that a
double-click brings a plot the user zoomed or panned back to them."""

from __future__ import annotations

import numpy as np

MIN_STEPS = 10  # the narrowest step axis
LOG_PAD = 0.15  # decades shown beyond a log axis' whole decades, so both end labels fit


def nice_ceiling(x: float) -> float:
    """The next of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above x: the range
    grows in steps of at most 25%, so it changes rarely but leaves little empty space."""
    if x <= 1:
        return 1.0
    power = 10 ** np.floor(np.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * power >= x:
            return float(m * power)
    return float(10 * power)


def _set_range(plot, axis: str, lo: float, hi: float, padding: float | None = 0.0) -> None:
    """Change a range only when it really changed: every change makes each curve recompute
    its bounds at the next paint, which with 50+ curves was most of the GUI's time. The
    range is kept: a double-click puts it back after the user zoomed (`Panel`).
    ``padding`` None: pyqtgraph's own margin."""
    key = f"_range_{axis}"
    if getattr(plot, key, None) == (lo, hi, padding):
        return
    setattr(plot, key, (lo, hi, padding))
    (plot.setXRange if axis == "x" else plot.setYRange)(lo, hi, padding=padding)


def _forget_range(plot, axis: str) -> None:
    """The next `_set_range` on ``axis`` starts afresh (a new run's "grow" axis)."""
    setattr(plot, f"_range_{axis}", None)


def _step_range(plot, steps: np.ndarray, planned: int = 0, axis: str = "x",
                ran: int = 0) -> None:
    """x spans a running run's planned steps (``planned``), so it never moves while the
    plot fills from left to right; otherwise the data and the steps the run took
    (``ran``: a diverged run's time plots, probed at step 0 only, were 0..1, ticked 0.2,
    0.4...) up to a "nice" limit, so it moves only now and then and a curve's end is
    not on the frame. Each move makes every axis of the plot work out its ticks again
    (3 ms an axis), which was most of the live view's slow paints."""
    if len(steps):
        first, last = float(np.min(steps)), max(float(np.max(steps)), float(ran))
        end = planned if planned > last else nice_ceiling(last + 1)
        # at least MIN_STEPS wide: steps are whole, a 0..1 axis ticked 0.2, 0.4...
        _set_range(plot, axis, first, float(max(end, first + MIN_STEPS)))


def _log_range(plot, values: np.ndarray, grow: bool = False) -> None:
    """Fit a log y axis to the finite positive ``values``, snapped to whole decades: it
    changes only when the data crosses a decade, and every decade is labelled. Callers
    pass the whole run, so a vanishing phase early on stays in view after it recovers.
    ``grow``: never narrower than the range already shown (a "now" plot whose values
    move up and down keeps a steady axis until the next reset)."""
    v = values[np.isfinite(values) & (values > 0)]
    if v.size:
        lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
        hi = max(hi, lo + 1)
        shown = getattr(plot, "_range_y", None)
        if grow and shown is not None:
            lo, hi = min(lo, shown[0] + LOG_PAD), max(hi, shown[1] - LOG_PAD)
        # a little past the decades: a label exactly at the edge is not drawn, and a
        # range of one decade was left with a single label
        _set_range(plot, "y", float(lo) - LOG_PAD, float(hi) + LOG_PAD)


def restore_ranges(plot) -> None:
    """Put back the ranges `_set_range` last gave ``plot`` (after a zoom or a pan); an
    axis the app leaves free fits its data again."""
    for axis, set_range in (("x", plot.setXRange), ("y", plot.setYRange)):
        kept = getattr(plot, f"_range_{axis}", None)
        if kept is not None:
            set_range(kept[0], kept[1], padding=kept[2])
        else:
            plot.enableAutoRange(axis)
