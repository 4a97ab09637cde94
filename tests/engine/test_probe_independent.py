"""The Prober's per-layer numbers equal an independent measurement of one training step:
plain PyTorch hooks capture each layer's activation and dL/dh, the weights are copied
by hand around an SGD step, and every statistic is recomputed in numpy (float64).

The designs mix widths and activations so that the batched reduction has several
groups, groups with different histogram ranges and bounds, and a lone layer."""

import numpy as np
import pytest
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign
from desklab.engine import Prober, build, cpu_kernel, make_dataset, task_loss
from desklab.lessons import get_preset
from desklab.metrics import N_BINS, STAT_INDEX


def mixed_mlp() -> NetworkDesign:
    layers = [LayerSpec.make("dense", units=16, activation="tanh", init="gaussian"),
              LayerSpec.make("dense", units=16, activation="relu"),
              LayerSpec.make("dense", units=16, activation="sigmoid"),
              LayerSpec.make("dense", units=16, activation="relu"),
              LayerSpec.make("dense", units=7, activation="leaky_relu")]
    design = NetworkDesign(input=InputSpec("moons"), layers=layers)
    design.train.batch_size = 64
    return design


def expected_activation(a: np.ndarray, point) -> dict:
    """Whole-batch statistics of one layer's output (B, F) or (B, C, H, W)."""
    units = np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)  # (C, B * H * W)
    want = {"act_mean": a.mean(), "act_std": a.std(), "frac_zero": np.mean(a == 0),
            "frac_dead": np.mean([not np.any(u != 0) for u in units]),
            "unit_spread": a.std(axis=1).mean() if a.shape[1] > 1 else 0.0}
    if point.bounds is not None:
        lo, hi = point.bounds
        tol = 0.01 * max(abs(lo), abs(hi))
        want["frac_saturated"] = np.mean((a <= lo + tol) | (a >= hi - tol))
    else:
        want["frac_saturated"] = 0.0
    return want


CUDA = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                     reason="no CUDA device here"))


@pytest.fixture(params=["kernel", "tensor-ops"])
def reducer(request, monkeypatch):
    """On the CPU the probe reduces with the fused C kernel where one can be built, else
    with tensor operations (as on a GPU): both are held to the same numbers."""
    if request.param == "kernel":
        if cpu_kernel.load() is None:
            pytest.skip("no C compiler here: the probe uses tensor operations")
    else:
        monkeypatch.setattr("desklab.engine.probe.CpuReducer.create", lambda points: None)
    return request.param


@pytest.mark.parametrize("at_once", [False, True], ids=["batched", "in-hook"])
@pytest.mark.parametrize("device", ["cpu", CUDA])
@pytest.mark.parametrize("make", [mixed_mlp, lambda: get_preset("cnn-digits")],
                         ids=["mixed-mlp", "cnn-digits"])
def test_probe_equals_plain_hooks_and_numpy(make, device, at_once, reducer, monkeypatch):
    """On a GPU the histogram takes another path (scatter_add, no host sync). Large
    layers are reduced in their own hooks (``REDUCE_AT_ONCE``): forced here for all."""
    if device == "cuda" and reducer == "kernel":
        pytest.skip("the kernel is for the CPU")
    if at_once:
        monkeypatch.setattr("desklab.engine.probe.REDUCE_AT_ONCE", 1)
    design = make()
    model = build(design, seed=3).to(device)
    data = make_dataset(design, seed=3)
    x = data.x_train[:design.train.batch_size].to(device)
    y = data.y_train[:design.train.batch_size].to(device)
    points = model.probe_points
    outputs, grads = {}, {}

    def capture(name):
        def hook(module, inputs, output):
            outputs[name] = output.detach().double().cpu().numpy()
            output.register_hook(lambda g: grads.__setitem__(name, g.double().cpu().numpy()))
        return hook

    handles = [p.module.register_forward_hook(capture(p.name)) for p in points]
    prober = Prober(model, hist_sample=None)
    prober.active = True
    model.train()
    torch.manual_seed(0)
    loss = task_loss(model(x), y, data.task)
    model.zero_grad()
    loss.backward()
    prober.active = False
    weighted = [p for p in points if p.weight is not None]
    w_before = {p.name: p.weight.detach().double().cpu().numpy() for p in weighted}
    w_grad = {p.name: p.weight.grad.double().cpu().numpy() for p in weighted}
    before = prober.weights_before()
    torch.optim.SGD(model.parameters(), lr=0.5).step()
    snapshot = prober.collect(1, loss, 0.5, before)
    for h in handles:
        h.remove()
    prober.remove()

    assert len(points) >= 4
    for i, point in enumerate(points):
        got = {name: snapshot.stats[i, j] for name, j in STAT_INDEX.items()}
        a, g = outputs[point.name], grads[point.name]
        want = expected_activation(a, point)
        want["grad_norm"] = np.linalg.norm(g.ravel())
        want["grad_mean_abs"] = np.abs(g).mean()
        if point.weight is not None:
            w0, w1 = w_before[point.name], point.weight.detach().double().cpu().numpy()
            want["weight_std"] = w1.std()
            want["weight_grad_norm"] = np.linalg.norm(w_grad[point.name].ravel())
            want["update_ratio"] = np.linalg.norm((w1 - w0).ravel()) / np.linalg.norm(
                w0.ravel())
            assert want["update_ratio"] > 1e-7  # the step moved the weights
        for name, value in want.items():
            assert got[name] == pytest.approx(value, rel=2e-4, abs=1e-6), (point.name, name)
        lo, hi = point.hist_range
        counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=N_BINS, range=(lo, hi))
        want_hist = np.concatenate([[np.sum(a < lo)], counts, [np.sum(a > hi)]])
        assert snapshot.hist[i].sum() == a.size
        # float32 vs float64 may move a value sitting exactly on an edge by one bin
        assert np.abs(snapshot.hist[i] - want_hist).sum() <= 2, point.name
    # the designs really exercise the grouping: several shapes, one layer on its own
    shapes = [tuple(outputs[p.name].shape) for p in points]
    assert len(set(shapes)) >= 2 and any(shapes.count(s) == 1 for s in shapes)
