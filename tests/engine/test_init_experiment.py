"""The cs231n init experiment, checked against an independent numpy forward pass.

The numpy code below draws its own inputs and weights (different random numbers
from DeskLab's) and applies the textbook formulas, so agreement means DeskLab
builds, initialises and measures the network the way the literature describes.
"""

import numpy as np
import pytest

from desklab.engine import probe_at_init
from desklab.lessons import get_preset

DEPTH, WIDTH, N = 10, 500, 1000


def numpy_layer_stds(activation, weight_std, seed=123):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((N, WIDTH))
    stds = []
    for _ in range(DEPTH):
        fan_in = h.shape[1]
        w = rng.standard_normal((fan_in, WIDTH)) * weight_std(fan_in, WIDTH)
        h = activation(h @ w)
        stds.append(h.std())
    return np.array(stds)


tanh = np.tanh
relu = lambda x: np.maximum(x, 0)  # noqa: E731
CASES = {
    "init-tanh-0.01": (tanh, lambda fi, fo: 0.01),
    "init-tanh-1.0": (tanh, lambda fi, fo: 1.0),
    "init-tanh-xavier": (tanh, lambda fi, fo: np.sqrt(2.0 / (fi + fo))),
    "init-relu-xavier": (relu, lambda fi, fo: np.sqrt(2.0 / (fi + fo))),
    "init-relu-he": (relu, lambda fi, fo: np.sqrt(2.0 / fi)),
}


@pytest.fixture(scope="module")
def probes():
    return {slug: probe_at_init(get_preset(slug))[0] for slug in CASES}


@pytest.mark.parametrize("slug", list(CASES))
def test_layer_std_matches_numpy(slug, probes):
    expected = numpy_layer_stds(*CASES[slug])
    got = probes[slug].stat("act_std")[:DEPTH]
    # Log-space agreement: the collapse spans 6 orders of magnitude for 0.01.
    np.testing.assert_allclose(np.log(got), np.log(expected), atol=np.log(1.25))


def test_literature_shapes(probes):
    s001 = probes["init-tanh-0.01"].stat("act_std")[:DEPTH]
    assert 0.19 < s001[0] < 0.24  # 0.01 * sqrt(500) = 0.224 before tanh
    ratios = s001[1:] / s001[:-1]
    assert np.all((ratios > 0.18) & (ratios < 0.28))  # ~4x smaller every layer

    s1 = probes["init-tanh-1.0"]
    assert np.all(np.abs(s1.stat("act_std")[:DEPTH] - 0.98) < 0.01)
    assert np.all(s1.stat("frac_saturated")[:DEPTH] > 0.85)

    sx = probes["init-tanh-xavier"].stat("act_std")[:DEPTH]
    assert np.all(np.diff(sx) < 0) and sx[-1] > 0.15  # decays slowly

    rx = probes["init-relu-xavier"].stat("act_std")[:DEPTH]
    assert rx[-1] / rx[0] < 0.1  # collapses under Xavier
    rh = probes["init-relu-he"].stat("act_std")[:DEPTH]
    assert np.all((rh > 0.6) & (rh < 1.3))  # holds under He


def test_tanh_001_grad_out_vanishes_but_weight_grads_do_not(probes):
    snap = probes["init-tanh-0.01"]
    grad_out = snap.stat("grad_norm")[:DEPTH]
    weight_grad = snap.stat("weight_grad_norm")[:DEPTH]
    assert grad_out[-1] / grad_out[0] > 1e5  # dL/dh vanishes toward the input
    assert weight_grad.max() / weight_grad.min() < 1.5  # while |dW| stays level


def test_deep_sigmoid_weight_grads_shrink_by_orders_of_magnitude():
    snap = probe_at_init(get_preset("deep-sigmoid"))[0]
    weight_grad = snap.stat("weight_grad_norm")[:10]
    assert weight_grad[-1] / weight_grad[0] > 1e4
    grad_out = snap.stat("grad_norm")[:10]
    per_layer = grad_out[1:] / grad_out[:-1]
    # sigmoid' <= 1/4 and Xavier weights keep the rest near 1: about 4x per layer
    assert np.all((per_layer > 3.0) & (per_layer < 6.0))


def test_tanh_1_saturates_yet_its_gradient_grows_toward_the_input(probes):
    """Saturated tanh passes almost no gradient through 90% of its units, but the rest
    multiply it by N(0, 1) weights over 500 inputs: numpy's own backward pass (a random
    gradient at the last layer, dL/dh_{l-1} = (dL/dh_l * (1 - h_l^2)) @ W_l^T) grows it
    about 3.5x per layer toward the input, and so does DeskLab's probe (the lesson's
    text says so; both its saturated and exploding findings hold at init)."""
    rng = np.random.default_rng(5)
    h, outs, weights = rng.standard_normal((N, WIDTH)), [], []
    for _ in range(DEPTH):
        weights.append(rng.standard_normal((WIDTH, WIDTH)))
        h = np.tanh(h @ weights[-1])
        outs.append(h)
    g, norms = rng.standard_normal((N, WIDTH)), []
    for layer in range(DEPTH - 1, 0, -1):
        norms.append(np.linalg.norm(g))
        g = (g * (1 - outs[layer] ** 2)) @ weights[layer].T
    norms.append(np.linalg.norm(g))
    numpy_growth = np.array(norms[1:]) / np.array(norms[:-1])  # (9,) output -> input
    grad_out = probes["init-tanh-1.0"].stat("grad_norm")[:DEPTH]
    growth = grad_out[:-1][::-1] / grad_out[1:][::-1]
    assert np.all(np.abs(numpy_growth - 3.5) < 0.3), numpy_growth
    np.testing.assert_allclose(growth, numpy_growth, rtol=0.05)
