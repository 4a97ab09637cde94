"""Every catalog entry builds, runs forward and backward; shapes and parameter
counts from the pure-Python analysis equal what PyTorch actually has."""

import math

import pytest
import torch

from desklab.design import (
    ACTIVATIONS, INITS, LAYER_KINDS, NORMS, InputSpec, LayerSpec, NetworkDesign, analyze,
)
from desklab.design.catalog import RECURRENT_KINDS
from desklab.engine import build, probe_at_init


def run_and_check(design: NetworkDesign):
    analysis = analyze(design)
    assert analysis.ok, analysis.problems
    model = build(design)
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    shapes = {}
    hooks = [pt.module.register_forward_hook(
        lambda m, i, o, name=pt.name: shapes.__setitem__(name, tuple(o.shape[1:])))
        for pt in model.probe_points]
    x = torch.randn(4, *design.input.shape, requires_grad=True)
    out = model(x)
    out.sum().backward()
    for h in hooks:
        h.remove()
    for info in analysis.layers:
        assert shapes[info.name] == info.out_shape, info.name
    for pt in model.probe_points:  # per-layer parameter counts too
        info = next(i for i in analysis.layers if i.name == pt.name)
        assert info.params == pt.params
    return model


def dense_net(**layer):
    return NetworkDesign(input=InputSpec("moons"), layers=[
        LayerSpec.make("dense", units=8, **layer), LayerSpec.make("dense", units=6, **layer)])


@pytest.mark.parametrize("activation", ACTIVATIONS.names())
def test_every_activation_builds_and_backprops(activation):
    model = run_and_check(dense_net(activation=activation))
    if activation == "step":  # zero gradient everywhere: nothing reaches the first layer
        first = model.blocks["fc1"].op.weight.grad
        assert first is not None and torch.count_nonzero(first) == 0


@pytest.mark.parametrize("init", INITS.names())
def test_every_init_builds_with_expected_std(init):
    layer = LayerSpec.make("dense", units=400, activation="tanh", init=init)
    design = NetworkDesign(input=InputSpec("gaussian", {"dim": 300}), layers=[layer])
    model = run_and_check(design)
    weight = model.blocks["fc1"].op.weight
    entry = INITS[init]
    expected = entry.meta["std"](300, 400, entry.defaults())
    assert weight.std(correction=0).item() == pytest.approx(expected, rel=0.05, abs=1e-9)
    if init != "default":  # named schemes start biases at zero
        assert torch.count_nonzero(model.blocks["fc1"].op.bias) == 0


@pytest.mark.parametrize("norm", NORMS.names())
@pytest.mark.parametrize("position", ["before", "after"])
def test_every_norm_dense_and_conv(norm, position):
    run_and_check(dense_net(norm=norm, norm_position=position, activation="maxout"))
    conv = NetworkDesign(input=InputSpec("digits"), layers=[
        LayerSpec.make("conv2d", filters=4, kernel=3, padding=1, norm=norm,
                       norm_position=position, activation="maxout",
                       activation_params={"k": 3})])
    run_and_check(conv)


def test_every_kind_in_one_cnn_with_overlapping_pool():
    design = NetworkDesign(input=InputSpec("digits"), layers=[
        LayerSpec.make("conv2d", filters=6, kernel=3, stride=1, padding=1),
        LayerSpec.make("maxpool", window=3, stride=2),  # 8 -> 3, windows overlap
        LayerSpec.make("residual", layers=[
            LayerSpec.make("conv2d", filters=6, kernel=3, padding=1)]),
        LayerSpec.make("residual", layers=[
            LayerSpec.make("conv2d", filters=10, kernel=3, padding=1, stride=2)]),
        LayerSpec.make("avgpool", window=2, stride=1),
        LayerSpec.make("flatten"),
        LayerSpec.make("dense", units=12, dropout=0.5),
        LayerSpec.make("residual", layers=[LayerSpec.make("dense", units=12)]),
        LayerSpec.make("residual", layers=[LayerSpec.make("dense", units=5)]),
    ])
    # every kind but the recurrent ones (which need a sequence: tests/engine/test_recurrent.py)
    assert {l.kind for l in design.layers} == set(LAYER_KINDS.names()) - set(RECURRENT_KINDS)
    model = run_and_check(design)
    info = {i.name: i for i in analyze(design).layers}
    assert info["maxpool2"].out_shape == (6, 3, 3)  # (8 - 3) / 2 + 1 = 3
    assert info["res4"].out_shape == (10, 2, 2)  # stride-2 conv: projection shortcut
    assert isinstance(model.blocks["res4"].shortcut, torch.nn.Conv2d)
    assert isinstance(model.blocks["res3"].shortcut, torch.nn.Identity)


def test_conv_formula_against_pytorch():
    for size, f, s, p in [(8, 3, 1, 1), (8, 5, 2, 0), (8, 2, 2, 0), (8, 3, 3, 2)]:
        design = NetworkDesign(input=InputSpec("digits"), layers=[
            LayerSpec.make("conv2d", filters=7, kernel=f, stride=s, padding=p)])
        info = analyze(design).layers[0]
        assert info.out_shape[1] == (size - f + 2 * p) // s + 1
        assert info.params == f * f * 1 * 7 + 7
        conv = torch.nn.Conv2d(1, 7, f, s, p)
        assert conv(torch.zeros(1, 1, 8, 8)).shape[1:] == info.out_shape
        assert sum(t.numel() for t in conv.parameters()) == info.params


def test_residual_really_adds_the_shortcut():
    design = NetworkDesign(input=InputSpec("gaussian", {"dim": 5}), layers=[
        LayerSpec.make("residual", layers=[
            LayerSpec.make("dense", units=5, activation="identity", init="zeros")])])
    model = build(design)
    x = torch.randn(3, 5)
    # inner layer outputs 0 (zero weights, zero bias): the block must return x itself
    assert torch.equal(model.blocks["res1"](x), x)


def test_binary_step_and_maxout_modules():
    from desklab.engine.activations import BinaryStep, Maxout
    x = torch.tensor([[-1.0, 0.0, 2.0, 3.0]], requires_grad=True)
    y = BinaryStep()(x)
    assert y.tolist() == [[0.0, 0.0, 1.0, 1.0]]
    y.sum().backward()
    assert torch.count_nonzero(x.grad) == 0
    assert Maxout(2)(torch.tensor([[1.0, 5.0, -2.0, -3.0]])).tolist() == [[5.0, -2.0]]


def test_init_is_seeded_and_leaves_global_rng_alone():
    design = dense_net(init="gaussian", init_params={"std": 0.5})
    torch.manual_seed(7)
    before = torch.rand(1)
    torch.manual_seed(7)
    a, b = build(design, seed=3), build(design, seed=3)
    assert torch.equal(torch.rand(1), before)
    assert torch.equal(a.blocks["fc1"].op.weight, b.blocks["fc1"].op.weight)
    c = build(design, seed=4)
    assert not torch.equal(a.blocks["fc1"].op.weight, c.blocks["fc1"].op.weight)


def test_prelu_and_layernorm_param_counts():
    design = dense_net(activation="prelu", norm="layernorm")
    analysis = analyze(design)
    assert analysis.layers[0].params == 2 * 8 + 8 + 2 * 8 + 1
    assert math.isclose(analysis.total_params,
                        sum(p.numel() for p in build(design).parameters()))


def test_probe_runs_for_every_kind():
    design = NetworkDesign(input=InputSpec("digits", {"samples": 64}), layers=[
        LayerSpec.make("conv2d", filters=4), LayerSpec.make("maxpool"),
        LayerSpec.make("flatten"), LayerSpec.make("dense", units=8)])
    design.train.batch_size = 32
    snap = probe_at_init(design)[0]
    assert snap.stats.shape == (5, 11)
    assert torch.isfinite(torch.tensor(snap.stat("act_std"))).all()


def test_weight_fans_equal_pytorchs():
    from desklab.design.shapes import weight_fans
    design = NetworkDesign(input=InputSpec("digits"), layers=[
        LayerSpec.make("conv2d", filters=5, kernel=3, activation="maxout",
                       activation_params={"k": 3}),
        LayerSpec.make("residual", layers=[LayerSpec.make("conv2d", filters=7, stride=2)]),
        LayerSpec.make("flatten"),
        LayerSpec.make("dense", units=9, activation="maxout")])
    model = build(design)
    infos = {i.path: i for i in analyze(design).layers}
    for i, layer in enumerate(design.layers):
        fans = weight_fans(layer, infos[(i,)])
        weight = model.probe_points[[p.name for p in model.probe_points].index(
            infos[(i,)].name)].weight
        if weight is None:
            assert fans is None
        else:
            assert fans == torch.nn.init._calculate_fan_in_and_fan_out(weight)
