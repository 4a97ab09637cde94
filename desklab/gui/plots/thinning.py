"""How many points of a run's time series are drawn, and which."""

from __future__ import annotations

import numpy as np

MAX_POINTS = 200  # time series are thinned to this many points for drawing
LINE_POINTS = 3000  # points per family of per-layer lines: with 50 layers a family was
# 10000 points whose paths took the Unit health panel 5-10 ms to build each redraw


def _thin(steps: np.ndarray, values: np.ndarray, limit: int = MAX_POINTS,
          latest: bool = True):
    """Every k-th point (from the first, so drawn points stay put as a run grows), and
    with ``latest`` the last one too: a curve ends at "now", not up to k - 1 probes
    before it. Images pass ``latest=False``: their columns must be evenly spaced."""
    stride = max(1, len(steps) // limit)
    keep = np.arange(0, len(steps), stride)
    if latest and len(steps) and keep[-1] != len(steps) - 1:
        keep = np.append(keep, len(steps) - 1)
    return steps[keep], values[..., keep]


def layer_points(layers: int) -> int:
    """Points per layer's line when a plot holds ``layers`` of them (`LINE_POINTS`)."""
    return max(60, min(MAX_POINTS, LINE_POINTS // max(layers, 1)))


def probe_gap(steps: np.ndarray) -> float:
    """The width of a heatmap's column (or row) over evenly thinned probes: each reaches
    from its probe to the next, so T columns span (T - 1) gaps and one more."""
    return float(steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else 1.0


def probe_under(steps: np.ndarray, at: float) -> int:
    """The index of the column (or row) drawn over step ``at`` (see `probe_gap`)."""
    return int(np.clip((at - steps[0]) // probe_gap(steps), 0, len(steps) - 1))
