"""The gradient through time under `desklab.watch` (issue 28): a user's nn.LSTM / nn.GRU
records ||dL/dh_t|| at every t equal to `torch.autograd.grad` of the loss w.r.t. each
h_t of the test's own loop over the module's weights, on the probed step; ``time_dim``
records the gradient arriving at each position of another module's output, equal to
the test's own retained output's gradient. rel 1e-5."""

import numpy as np
import pytest
import torch
from torch import nn

import desklab
from desklab.runs import RunReader

PROBE_AT = 2


class Classifier(nn.Module):
    """A sequence classifier on h_T: (B, T, 4) -> LSTM or GRU -> Linear."""

    def __init__(self, kind, batch_first=True, **options):
        super().__init__()
        self.rnn = getattr(nn, kind)(4, 8, batch_first=batch_first, **options)
        self.head = nn.Linear(8, 3)
        self.batch_first = batch_first

    def forward(self, x, h0=None):  # x (B, T, 4)
        seq = self.rnn(x if self.batch_first else x.transpose(0, 1), h0)[0]
        last = seq[:, -1] if self.batch_first else seq[-1]
        return self.head(last)


def own_time_grads(rnn, head, x, y, h0=None):
    """||dL/dh_t|| over the batch from a plain loop over ``rnn``'s weights, every h_t
    retained (PyTorch's gate order: LSTM i, f, g, o; GRU r, z, n)."""
    w_ih, w_hh = rnn.weight_ih_l0, rnn.weight_hh_l0
    b_ih, b_hh = (rnn.bias_ih_l0, rnn.bias_hh_l0) if rnn.bias else (0.0, 0.0)
    h = torch.zeros(x.shape[0], 8) if h0 is None else h0[0]
    c = torch.zeros_like(h)
    hs = []
    for t in range(x.shape[1]):
        gx, gh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if isinstance(rnn, nn.LSTM):
            i, f, g, o = (gx + gh).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        elif isinstance(rnn, nn.RNN):
            h = (torch.relu if rnn.nonlinearity == "relu" else torch.tanh)(gx + gh)
        else:
            (rx, zx, nx), (rh, zh, nh) = gx.chunk(3, 1), gh.chunk(3, 1)
            r, z = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
            h = (1 - z) * torch.tanh(nx + r * nh) + z * h
        hs.append(h)
    loss = nn.functional.cross_entropy(head(hs[-1]), y)
    return np.array([g.norm().item() for g in torch.autograd.grad(loss, hs)])


def train(model, tmp_path, batches, **watch_kwargs):
    """4 steps under watch(every=2); returns the run's snapshot at PROBE_AT and what the
    test computed itself on that step, before it."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "r", **watch_kwargs)
    expected = None
    for step, (x, y, h0) in enumerate(batches):
        if step == PROBE_AT:
            expected = own_time_grads(model.rnn, model.head, x, y, h0)
        loss = nn.functional.cross_entropy(model(x, h0), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watcher.log(loss=loss)
    watcher.close()
    history = RunReader(watcher.path).history()
    return next(s for s in history.snapshots if s.step == PROBE_AT), expected


def batches(n=4, h0=False):
    torch.manual_seed(0)
    return [(torch.randn(6, 11, 4), torch.randint(0, 3, (6,)),
             torch.randn(1, 6, 8) if h0 else None) for _ in range(n)]


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_users_recurrent_layer_gets_its_gradient_through_time(tmp_path, kind):
    model = Classifier(kind)
    snap, expected = train(model, tmp_path, batches())
    row = snap.layout.time_layers.index(snap.layout.names.index("rnn"))
    np.testing.assert_allclose(snap.time_grad[row], expected, rtol=1e-5)
    assert expected[0] < expected[-1]  # a fading profile, not a flat one
    assert "forward" not in vars(model.rnn)  # the module's own forward is back


@pytest.mark.parametrize("kind,options", [
    ("RNN", {"nonlinearity": "relu"}), ("LSTM", {"num_layers": 2}),
    ("GRU", {"num_layers": 3, "bias": False})])
def test_the_layer_computes_the_same_while_measured(tmp_path, kind, options):
    """A ReLU RNN stays ReLU on a probed step (it ran tanh), a bias-free layer runs (it
    raised inside the user's forward), a stacked one runs its lower layers fused: the
    watched model trains exactly as an unwatched copy does, and the top layer's gradient
    through time is the test's own, computed on a one-layer copy of that layer fed the
    output of the layers below."""
    import copy
    model = Classifier(kind, **options)
    twin = copy.deepcopy(model)
    data = batches()
    snap, _ = train(model, tmp_path, data)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    for step, (x, y, _) in enumerate(data):
        if step == PROBE_AT:
            layers = options.get("num_layers", 1)
            top = getattr(nn, kind)(8 if layers > 1 else 4, 8, batch_first=True,
                                    **{k: v for k, v in options.items() if k != "num_layers"})
            below = x
            if layers > 1:
                lower = getattr(nn, kind)(4, 8, layers - 1, batch_first=True,
                                          bias=options.get("bias", True))
                lower.load_state_dict({k: v for k, v in twin.rnn.state_dict().items()
                                       if not k.endswith(f"_l{layers - 1}")})
                below = lower(x)[0]
            top.load_state_dict({k.replace(f"_l{layers - 1}", "_l0"): v
                                 for k, v in twin.rnn.state_dict().items()
                                 if k.endswith(f"_l{layers - 1}")})
            expected = own_time_grads(top, twin.head, below, y)
        loss = nn.functional.cross_entropy(twin(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for mine, theirs in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(snap.time_grad[0], expected, rtol=1e-5)


def test_time_first_layout_and_an_initial_state(tmp_path):
    model = Classifier("GRU", batch_first=False)
    snap, expected = train(model, tmp_path, batches(h0=True))
    np.testing.assert_allclose(snap.time_grad[0], expected, rtol=1e-5)


def test_time_dim_records_the_gradient_at_each_position(tmp_path):
    """A transformer block's output (B, T, 16): ||dL/d out[:, t]|| over batch and
    features, against the gradient of the test's own retained output."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0,
                                                     batch_first=True))
    head = nn.Linear(16, 3)
    optimizer = torch.optim.SGD(list(model.parameters()) + list(head.parameters()), lr=0.05)
    watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "t", time_dim=1,
                            layers=["0"])
    expected = None
    for step in range(4):
        x, y = torch.randn(5, 9, 16), torch.randint(0, 3, (5,))
        out = model(x)
        if step == PROBE_AT:
            out.retain_grad()
        loss = nn.functional.cross_entropy(head(out[:, 0]), y)  # the first position only
        optimizer.zero_grad()
        loss.backward()
        if step == PROBE_AT:
            expected = out.grad.norm(dim=(0, 2)).numpy()
        optimizer.step()
        watcher.log(loss=loss)
    watcher.close()
    snap = next(s for s in RunReader(watcher.path).history().snapshots if s.step == PROBE_AT)
    np.testing.assert_allclose(snap.time_grad[0], expected, rtol=1e-5)
    assert expected[0] > 0 and (expected[1:] == 0).all()  # only position 0 is read


def test_a_bad_time_dim_is_refused():
    model = Classifier("LSTM")
    with pytest.raises(ValueError, match="time_dim"):
        desklab.watch(model, torch.optim.SGD(model.parameters(), lr=0.1), time_dim=0)


def test_a_fault_while_unrolling_runs_the_layer_fused(tmp_path, monkeypatch):
    """The unrolled forward replaces the user's LSTM forward on probed steps: a fault in
    it (made on purpose) runs the module's own forward instead, so the model trains
    exactly as an unwatched copy, and the watcher stops with one warning naming it."""
    import copy
    import warnings

    def fault(*args, **kwargs):
        raise ZeroDivisionError("a fault made on purpose")
    model = Classifier("LSTM")
    twin = copy.deepcopy(model)
    data = batches()
    monkeypatch.setattr("desklab.attach.through_time.unrolled", fault)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watcher = desklab.watch(model, every=2, run=tmp_path / "r")
        for which in (model, twin):
            optimizer = torch.optim.SGD(which.parameters(), lr=0.1)
            for x, y, _ in data:
                loss = nn.functional.cross_entropy(which(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if which is model:
                    watcher.log(loss=loss)
        watcher.close()
    for mine, theirs in zip(model.parameters(), twin.parameters()):
        assert torch.equal(mine, theirs)
    ours = [str(w.message) for w in caught if "stopped recording" in str(w.message)]
    assert len(ours) == 1 and "a fault made on purpose" in ours[0], ours
    assert "forward" not in vars(model.rnn)  # the module's own forward is back
