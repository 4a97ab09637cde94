"""A run's history as it was at an earlier step: what the compare window's replay slider
shows (the per-layer views at the newest snapshot up to it, the series cut there)."""

from __future__ import annotations

import bisect


class AtStep:
    """A run's history as it was at ``step``: what the replay slider shows."""

    def __init__(self, history, step: int | None):
        self.history, self.step = history, step

    @property
    def layout(self):
        return self.history.layout

    @property
    def latest(self):
        snaps = list(self.history.snapshots)
        if self.step is None or not snaps:
            return self.history.latest
        i = bisect.bisect_right([s.step for s in snaps], self.step)
        return snaps[max(i - 1, 0)]

    def stat_series(self, name: str):
        steps, values = self.history.stat_series(name)
        if self.step is None:
            return steps, values
        keep = steps <= self.step
        return steps[keep], values[:, keep]
