"""The on-device reductions equal the same statistics computed in numpy."""

import numpy as np
import pytest
import torch

from desklab.engine import reduce_activation
from desklab.metrics import N_BINS


def numpy_stats(a, lo, hi, bounds):
    units = np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)
    dead = np.mean([not np.any(u != 0) for u in units])
    sat = 0.0
    if bounds:
        tol = 0.01 * max(abs(bounds[0]), abs(bounds[1]))
        sat = np.mean((a <= bounds[0] + tol) | (a >= bounds[1] - tol))
    spread = units.std(axis=0).mean()
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=N_BINS, range=(lo, hi))
    hist = np.concatenate([[np.sum(a < lo)], counts, [np.sum(a > hi)]])
    return [a.mean(), a.std(), np.mean(a == 0), dead, sat, spread], hist


@pytest.mark.parametrize("shape", [(64, 10), (8, 3, 5, 5)])
@pytest.mark.parametrize("case", ["relu", "tanh", "sigmoid"])
def test_reduce_matches_numpy(shape, case):
    rng = np.random.default_rng(0)
    raw = rng.standard_normal(shape).astype(np.float32) * 3
    if case == "relu":
        a, lo, hi, bounds = np.maximum(raw, 0), 0.0, 4.0, None
        a[:, 1] = 0  # one dead unit
    elif case == "tanh":
        a, lo, hi, bounds = np.tanh(raw), -1.0, 1.0, (-1.0, 1.0)
    else:
        a, lo, hi, bounds = 1 / (1 + np.exp(-raw)), 0.0, 1.0, (0.0, 1.0)
    stats, hist = reduce_activation(torch.from_numpy(a), lo, hi, bounds)
    want_stats, want_hist = numpy_stats(a.astype(np.float64), lo, hi, bounds)
    np.testing.assert_allclose(stats.numpy(), want_stats, rtol=1e-4, atol=1e-6)
    assert hist.sum().item() == a.size
    # float32 vs float64 may move a value sitting exactly on an edge by one bin
    assert np.abs(hist.numpy() - want_hist).sum() <= 2
    if case == "relu":
        assert stats[3].item() == pytest.approx(1 / shape[1])


def test_identical_units_have_zero_spread():
    for seed in range(8):
        torch.manual_seed(seed)
        value = torch.randn(1, 1)
        a = torch.ones(16, 1) * value * torch.ones(1, 32)  # every unit the same
        stats, _ = reduce_activation(a, -4, 4, None)
        assert stats[5].item() <= 1e-6 * abs(value.item())  # zero up to float rounding


def test_values_on_a_bin_edge_follow_numpy():
    """Bins are [a, b), the last [a, hi]: exact zeros of a ReLU seen through an identity
    layer (range -4..4) land in [0, 0.2), not below it; 1.0 of a sigmoid in the last bin."""
    _, hist = reduce_activation(torch.zeros(4, 3), -4, 4, None)
    assert hist[1 + N_BINS // 2].item() == 12
    _, hist = reduce_activation(torch.ones(4, 3), 0, 1, (0.0, 1.0))
    assert hist[N_BINS].item() == 12 and hist[N_BINS + 1].item() == 0
