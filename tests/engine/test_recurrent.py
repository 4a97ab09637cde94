"""Recurrent layers (RNN, LSTM, GRU): shapes and parameter counts against PyTorch's own
modules, the step-by-step forward against PyTorch's fused kernel, the gradient through
time against `torch.autograd.grad` of each retained h_t, the recurrent inits, export,
and the two sequence tasks against what they are defined to hold."""

import itertools

import numpy as np
import pytest
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec, analyze
from desklab.design.catalog import RECURRENT_KINDS
from desklab.engine import build
from desklab.engine.datasets import generate
from desklab.engine.export import export_pytorch
from desklab.engine.probe import Prober

VARIANTS = list(itertools.product(RECURRENT_KINDS, (1, 2), (False, True), ("last", "sequence")))


def net(kind, num_layers=1, bidirectional=False, returns="last", length=12, **layer):
    layers = [LayerSpec.make(kind, hidden=7, num_layers=num_layers, returns=returns,
                             bidirectional=bidirectional, **layer)]
    if returns == "sequence":
        layers.append(LayerSpec.make("flatten"))
    return NetworkDesign(input=InputSpec("adding", {"length": length, "samples": 256},
                                         preprocess="none"),
                         layers=layers, output=OutputSpec("regression"))


@pytest.mark.parametrize("kind,num_layers,bidirectional,returns", VARIANTS)
def test_shapes_and_parameters_are_pytorchs(kind, num_layers, bidirectional, returns):
    design = net(kind, num_layers, bidirectional, returns)
    analysis = analyze(design)
    assert analysis.ok, analysis.problems
    model = build(design)
    block = model.blocks[f"{kind}1"]
    # PyTorch's own module with the same settings: its parameter count and output shape
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    ref = cls(2, 7, num_layers, batch_first=True, bidirectional=bidirectional)
    assert analysis.layers[0].params == sum(p.numel() for p in ref.parameters())
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    x = torch.rand(3, 12, 2)
    seq, h_n = ref(x)
    assert tuple(block(x).shape[1:]) == analysis.layers[0].out_shape
    if returns == "last":  # h_T of the top layer: PyTorch's h_n, both directions
        h_n = h_n[0] if kind == "lstm" else h_n
        block.op.load_state_dict(ref.state_dict())
        top = h_n[-2:] if bidirectional else h_n[-1:]
        torch.testing.assert_close(block(x), torch.cat(list(top), 1))


@pytest.mark.parametrize("kind,num_layers,bidirectional,returns", VARIANTS)
def test_step_by_step_forward_is_the_fused_kernel(kind, num_layers, bidirectional, returns):
    from desklab.engine.modules import unrolled
    op = build(net(kind, num_layers, bidirectional, returns)).blocks[f"{kind}1"].op
    x = torch.randn(4, 12, 2)
    torch.testing.assert_close(unrolled(op, x), op(x)[0], rtol=1e-5, atol=1e-6)
    # tapped (a measured step): the layers under the top one run fused, the top one
    # step by step; the same output and the same h_n / c_n, in PyTorch's order
    seq, state = op(x)
    finals = []
    tap = torch.zeros(4, 12, seq.shape[2])
    torch.testing.assert_close(unrolled(op, x, tap, finals), seq, rtol=1e-5, atol=1e-6)
    h_n = state[0] if kind == "lstm" else state
    torch.testing.assert_close(torch.stack([h for h, _ in finals]), h_n, rtol=1e-5,
                               atol=1e-6)
    if kind == "lstm":
        torch.testing.assert_close(torch.stack([c for _, c in finals]), state[1],
                                   rtol=1e-5, atol=1e-6)


def _independent_time_grads(model, kind, x, y):
    """||dL/dh_t|| by retaining every h_t of a plain loop over the model's own weights."""
    op = model.blocks[f"{kind}1"].op
    w_ih, w_hh, b_ih, b_hh = op.weight_ih_l0, op.weight_hh_l0, op.bias_ih_l0, op.bias_hh_l0
    h = torch.zeros(x.shape[0], op.hidden_size)
    c = torch.zeros_like(h)
    hs = []
    for t in range(x.shape[1]):
        gates = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        if kind == "rnn":
            h = torch.tanh(gates)
        elif kind == "lstm":
            i, f, g, o = gates.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:  # GRU: the reset gate scales W_hn h + b_hn, as PyTorch defines it
            (rx, zx, nx), (rh, zh, nh) = (x[:, t] @ w_ih.T + b_ih).chunk(3, 1), \
                (h @ w_hh.T + b_hh).chunk(3, 1)
            r, z = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
            h = (1 - z) * torch.tanh(nx + r * nh) + z * h
        hs.append(h)
    loss = ((model.head(hs[-1]) - y) ** 2).mean()
    return torch.stack([g.norm() for g in torch.autograd.grad(loss, hs)]).double()


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
@pytest.mark.parametrize("path", ["cpu kernel", "tensor"])
def test_gradient_through_time_is_autograds(kind, path, monkeypatch):
    if path == "tensor":
        monkeypatch.setattr("desklab.engine.probe.CpuReducer.create", lambda points: None)
    model = build(net(kind, length=30))
    prober = Prober(model)
    x, y = torch.rand(16, 30, 2), torch.rand(16, 1)
    prober.active = True
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    snap = prober.collect(1, loss, 0.1)
    prober.active = False
    assert snap.layout.time_layers == [0] and snap.time_grad.shape == (1, 30)
    expected = _independent_time_grads(model, kind, x, y).numpy()
    np.testing.assert_allclose(snap.time_grad[0], expected, rtol=1e-5, atol=0)
    # the layer's dL/dh statistic is still the output sequence's (only h_T is used)
    assert snap.stat("grad_norm")[0] == pytest.approx(expected[-1], rel=1e-5)
    # and an unprobed step runs PyTorch's fused kernel again, with no hook left behind
    assert model.blocks[f"{kind}1"].time_hook is None


def test_recurrent_inits():
    design = net("lstm", 2, recurrent_init="orthogonal", recurrent_gain=1.5, forget_bias=2.0)
    op = build(design).blocks["lstm1"].op
    for name in ("weight_hh_l0", "weight_hh_l1"):
        for block in getattr(op, name).detach().split(7, 0):  # per gate: 1.5 x orthogonal
            np.testing.assert_allclose(torch.linalg.svdvals(block).numpy(), 1.5, rtol=1e-5)
    b = op.bias_ih_l0.detach()
    assert torch.equal(b[7:14], torch.full((7,), 2.0)) and torch.count_nonzero(b[:7]) == 0
    gauss = build(net("rnn", recurrent_init="gaussian", recurrent_gain=1.0)).blocks["rnn1"]
    w = gauss.op.weight_hh_l0.detach()
    assert w.std().item() == pytest.approx(1 / np.sqrt(7), rel=0.35)
    assert torch.linalg.svdvals(w).min() < 0.5 < 1.5 < torch.linalg.svdvals(w).max() + 1


def test_exported_file_is_the_same_network():
    design = net("lstm", 2, True, "sequence", init="xavier_normal")
    namespace = {}
    exec(compile(export_pytorch(design), "exported.py", "exec"), namespace)
    exported, ours = namespace["build_model"](), build(design)
    exported.load_state_dict(ours.state_dict(), strict=True)
    x = torch.rand(3, 12, 2)
    torch.testing.assert_close(exported(x), ours(x))


def test_sequence_validation_names_the_problem():
    flat = NetworkDesign(input=InputSpec("moons"), layers=[LayerSpec.make("lstm")])
    assert "needs a sequence input" in str(analyze(flat).problems[0])
    dense_after = NetworkDesign(input=InputSpec("adding"), layers=[
        LayerSpec.make("rnn", returns="sequence"), LayerSpec.make("dense")],
        output=OutputSpec("regression"))
    assert "add a flatten layer" in str(analyze(dense_after).problems[0])


def test_adding_and_copy_tasks_hold_what_they_say():
    x, y = generate("adding", {"length": 40, "samples": 500}, seed=3)
    assert x.shape == (500, 40, 2)
    marks = x[:, :, 1]
    assert (marks.sum(1) == 2).all()
    assert (marks[:, :20].sum(1) == 1).all()  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * marks).sum(1), rtol=1e-6)
    x, y = generate("copy", {"length": 15, "samples": 300, "symbols": 3}, seed=3)
    assert x.shape == (300, 15, 7) and (x.sum(2) == 1).all()
    assert (x[:, 0, :3].argmax(1) == y).all()  # the class is the first symbol
    assert (x[:, 1:-1, 3:6].sum(2) == 1).all() and (x[:, -1, 6] == 1).all()


def test_gradient_through_time_is_stored_and_a_damaged_row_is_named(tmp_path):
    import sqlite3

    from desklab.runs import RunReader, RunWriter
    from desklab.runs.checks import RunFileError
    model = build(net("rnn", length=8))
    prober = Prober(model)
    prober.active = True
    loss = model(torch.rand(4, 8, 2)).pow(2).mean()
    loss.backward()
    snap = prober.collect(3, loss, 0.1)
    prober.active = False
    path = tmp_path / "r.desklab-run"
    writer = RunWriter(path, {"name": "r"})
    writer.record("snapshot", snap)
    writer.close()
    back = RunReader(path).history()
    np.testing.assert_array_equal(back.latest.time_grad, snap.time_grad)
    assert back.layout.layers[0].time_steps == 8
    with sqlite3.connect(path) as db:  # a blob one step short
        db.execute("UPDATE time_grads SET data = ?", (b"\0" * 56,))
    with pytest.raises(RunFileError, match="r.desklab-run: the gradient through time at "
                                           "step 3"):
        RunReader(path).history()


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
def test_onnx_export_runs_the_same_numbers(kind, tmp_path):
    """The ONNX file (PyTorch's exporter) evaluated by onnx's own reference runtime."""
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    from desklab.engine.onnx_export import export_onnx
    design = net(kind, length=10)
    path = tmp_path / "m.onnx"
    export_onnx(design, path)
    onnx.checker.check_model(onnx.load(str(path)))
    assert kind.upper() in {n.op_type for n in onnx.load(str(path)).graph.node}
    x = np.random.default_rng(0).random((1, 10, 2), dtype=np.float32)
    (got,) = ReferenceEvaluator(str(path)).run(None, {"x": x})
    with torch.no_grad():
        expected = build(design)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
