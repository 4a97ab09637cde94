"""The compare window's smoothing against TensorBoard's own loop (its scalar dashboard's
`smooth`: last = last * w + (1 - w) * x; shown last / (1 - w^count); a non-finite value
shown as it is, not counted)."""

import math

import numpy as np
import pytest

from desklab.metrics.smoothing import ema


def tensorboard_smooth(values, weight):
    last, count, out = 0.0, 0, []
    for x in values:
        if not math.isfinite(x):
            out.append(x)
            continue
        last = last * weight + (1 - weight) * x
        count += 1
        out.append(last / (1 - weight ** count))
    return out


@pytest.mark.parametrize("weight", [0.3, 0.6, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("n", [1, 2, 127, 128, 129, 1000, 5003])
def test_equals_tensorboards_loop(weight, n):
    rng = np.random.default_rng(n)
    values = np.exp(rng.normal(0, 1, n))
    values[rng.random(n) < 0.05] = np.nan  # skipped steps
    if n > 10:
        values[7] = np.inf  # a diverged step
    np.testing.assert_allclose(ema(values, weight), tensorboard_smooth(values, weight),
                               rtol=1e-9, equal_nan=True)


def test_no_smoothing_and_no_values():
    values = np.array([3.0, np.nan, 1.0])
    np.testing.assert_array_equal(ema(values, 0.0), values)
    assert ema(np.zeros(0), 0.6).shape == (0,)
    assert ema([np.nan, np.nan], 0.6).tolist() == pytest.approx([np.nan, np.nan], nan_ok=True)
    # the first point is the point itself (debiased), a constant stays constant
    assert ema([5.0], 0.9)[0] == pytest.approx(5.0)
    np.testing.assert_allclose(ema(np.full(300, 2.5), 0.99), 2.5)


@pytest.mark.parametrize("weight", [0.5, 0.9, 0.99])
def test_each_point_is_a_weighted_mean_of_those_before(weight):
    """Debiased, point n is the mean of points 1..n weighted w^(n - i): another way to
    the same number, with no running average."""
    x = np.random.default_rng(0).normal(size=60)
    smoothed = ema(x, weight)
    for n in (1, 2, 10, 60):
        assert smoothed[n - 1] == pytest.approx(
            np.average(x[:n], weights=weight ** np.arange(n - 1, -1, -1)), rel=1e-9)


def test_a_growing_curve_is_smoothed_as_a_whole_one():
    """A live run's losses arrive a few steps at a time: averaging only the new ones
    gives what smoothing the whole curve gives; another run starts again."""
    from desklab.metrics.smoothing import RunningEma
    rng = np.random.default_rng(1)
    values = np.exp(rng.normal(size=500))
    values[rng.random(500) < 0.05] = np.nan
    running, steps = RunningEma(0.9), np.arange(500)
    for end in (1, 2, 30, 31, 200, 500, 500):
        np.testing.assert_allclose(running(steps[:end], values[:end]),
                                   tensorboard_smooth(values[:end], 0.9), equal_nan=True)
    other = values[::-1].copy()  # another run, from step 0 too: not this one grown
    np.testing.assert_allclose(running(np.arange(600), np.r_[other, other[:100]]),
                               tensorboard_smooth(np.r_[other, other[:100]], 0.9),
                               equal_nan=True)
    np.testing.assert_allclose(running(steps[:10], other[:10]),  # shorter: anew
                               tensorboard_smooth(other[:10], 0.9), equal_nan=True)
