"""Loss landscape: numbers against a hand computation, filter normalisation, and the
plain / residual lesson in the direction Li et al. 2018 report."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from desklab.cli import main
from desklab.engine.landscape import (hessian_extremes, interpolate, local_minima_share,
                                      random_directions, roughness, surface)
from desklab.engine.landscape_run import landscape_report
from desklab.lessons import get_preset


def linear_problem():
    """y = X w + noise with MSE: the loss along any direction is a quadratic in closed
    form, and the Hessian is 2 X^T X / n."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 3, generator=g, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 0.1 * torch.randn(
        50, 1, generator=g, dtype=torch.float64)
    model = nn.Linear(3, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.3, 0.1, -0.4]], dtype=torch.float64))
    return model, x, y, (lambda m: ((m(x) - y) ** 2).mean())


def test_surface_interpolation_and_hessian_equal_a_hand_computation():
    model, x, y, loss_fn = linear_problem()
    w = model.weight.detach().numpy().copy()
    d1 = [torch.tensor([[1.0, 0.0, 2.0]], dtype=torch.float64)]
    d2 = [torch.tensor([[0.0, -1.0, 0.5]], dtype=torch.float64)]
    result = surface(model, loss_fn, d1, d2, grid=7, span=0.5)
    X, Y = x.numpy(), y.numpy()
    for row, b in enumerate(result["b"]):
        for col, a in enumerate(result["a"]):
            wa = w + a * d1[0].numpy() + b * d2[0].numpy()
            want = np.mean((X @ wa.T - Y) ** 2)
            assert result["loss"][row, col] == pytest.approx(want, rel=1e-10)
    assert np.array_equal(model.weight.detach().numpy(), w)  # restored exactly
    end = [torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)]
    line = interpolate(model, loss_fn, [model.weight.detach().clone()], end, points=5)
    for t, got in zip(line["t"], line["loss"]):
        wt = (1 - t) * w + t * end[0].numpy()
        assert got == pytest.approx(np.mean((X @ wt.T - Y) ** 2), rel=1e-10)
    eig = np.linalg.eigvalsh(2 * X.T @ X / len(X))
    lam_max, lam_min = hessian_extremes(model, loss_fn, iterations=200)
    assert lam_max == pytest.approx(eig[-1], rel=1e-6)
    assert lam_min == pytest.approx(eig[0], rel=1e-4)


def test_directions_are_filter_normalised_and_skip_biases_and_norms():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 5))
    d1, d2 = random_directions(model, seed=1)
    weights = [model[0].weight, model[4].weight]  # no bias, no BatchNorm gamma / beta
    assert [d.shape for d in d1] == [w.shape for w in weights]
    for d, w in zip(d1 + d2, weights + weights):
        np.testing.assert_allclose(d.flatten(1).norm(dim=1).numpy(),
                                   w.detach().flatten(1).norm(dim=1).numpy(), rtol=1e-5)
    assert not torch.allclose(d1[0], d2[0])


def test_minima_share_and_roughness_tell_a_bowl_from_a_rough_surface():
    a = np.linspace(-1, 1, 21)
    bowl = a[None, :] ** 2 + a[:, None] ** 2
    assert local_minima_share(bowl) == pytest.approx(1 / 19**2)
    rough = bowl + 0.3 * np.random.default_rng(0).standard_normal(bowl.shape)
    assert local_minima_share(rough) > 10 * local_minima_share(bowl)
    assert roughness(rough) > 3 * roughness(bowl)


def test_plain_deep_net_is_rougher_than_residual_as_li_et_al_report():
    plain = landscape_report(get_preset("landscape-plain"), steps=300)["summary"]
    residual = landscape_report(get_preset("landscape-residual"), steps=300)["summary"]
    assert plain["local_minima_share"] > 2 * residual["local_minima_share"]
    assert plain["roughness"] > 1.5 * residual["roughness"]
    assert residual["centre_loss"] < plain["centre_loss"]  # and it trained far better


def test_cli_writes_the_grid_and_refuses_a_bad_one(tmp_path, capsys):
    out = tmp_path / "l.json"
    assert main(["landscape", "--preset", "bench-mlp", "--steps", "20", "--grid", "5",
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["format"] == "desklab.landscape/1"
    assert len(report["loss"]) == 5 and all(len(row) == 5 for row in report["loss"])
    assert report["slice_a"] == report["loss"][2]
    assert len(report["interpolation"]["t"]) == len(report["interpolation"]["loss"]) == 41
    assert "local minima" in capsys.readouterr().out
    assert main(["landscape", "--preset", "bench-mlp", "--grid", "1"]) == 2
    assert capsys.readouterr().err.strip().startswith("desklab: --grid")
