"""desklab.watch on models whose modules return tuples or sequences (issue 27, part 1):
LSTM and GRU (also fed a PackedSequence) and MultiheadAttention are recorded, their
activation the first floating tensor of the output and their weight the recurrent
matrix / the input projection; a (batch, time, features) output's units are the
features; gradients are the step's own when zero_grad() comes before log(); a layers=
entry that matches nothing is refused. Each number against the test's own hooks on
the same step (numpy, rel 1e-5)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import desklab
from desklab.metrics import STAT_INDEX
from desklab.runs import RunReader

PROBE_AT = 4


class Recurrent(nn.Module):
    def __init__(self, kind, packed=False):
        super().__init__()
        self.embed = nn.Embedding(30, 12)
        self.rnn = getattr(nn, kind)(12, 16, num_layers=2, batch_first=True)
        self.head = nn.Linear(16, 3)
        self.packed = packed

    def forward(self, tokens):
        h = self.embed(tokens)  # (B, T, 12)
        if self.packed:
            lengths = torch.full((tokens.shape[0],), tokens.shape[1])
            lengths[::2] -= 2  # ragged: half the sequences are shorter
            h = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out = self.rnn(h)[0]
        if self.packed:
            out = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)[0]
        return self.head(out[:, -1])


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens):
        h = self.embed(tokens)
        return self.head(self.attn(h, h, h)[0].mean(1))


class DeadFeatures(nn.Module):
    """(B, T, 8) -> Linear -> ReLU: half the 16 features dead at every position."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.act = nn.ReLU()
        self.head = nn.Linear(16, 3)
        with torch.no_grad():
            self.fc.bias[8:] = -100.0

    def forward(self, x):
        return self.head(self.act(self.fc(x)).mean(1))


def run_and_capture(model, batch, tmp_path, module_name, weight_name=None,
                    zero_before_log=False, before_probe=None, watch_optimizer=True,
                    **watch_kwargs):
    """Train 6 steps under watch(every=2); the test's own hooks read step PROBE_AT
    (``before_probe()`` runs just before that step's forward)."""
    torch.manual_seed(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    watcher = desklab.watch(model, optimizer if watch_optimizer else None, every=2,
                            run=tmp_path / "r", **watch_kwargs)
    module = dict(model.named_modules())[module_name]
    weight = dict(module.named_parameters())[weight_name] if weight_name else None
    seen = {}
    for step in range(6):
        x, y = batch()
        handle = None
        if step == PROBE_AT:
            if before_probe is not None:
                before_probe()

            def hook(m, i, out):
                t = out[0] if isinstance(out, tuple) else out
                t = t.data if isinstance(t, nn.utils.rnn.PackedSequence) else t
                seen["act"] = t.detach().double().numpy()
            handle = module.register_forward_hook(hook)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        if step == PROBE_AT and weight is not None:
            seen["wgrad"] = weight.grad.detach().to_dense().double().numpy().copy()
        optimizer.step()
        if zero_before_log:
            optimizer.zero_grad(set_to_none=zero_before_log != "in place")  # as HF does
        watcher.log(loss=loss)
        if handle is not None:
            handle.remove()
    watcher.close()
    reader = RunReader(watcher.path)
    snap = next(s for s in reader.history().snapshots if s.step == PROBE_AT)
    reader.close()
    row = snap.layout.names.index(module_name)
    return {k: snap.stats[row, j] for k, j in STAT_INDEX.items()}, seen


def tokens(batch=8, length=7):
    return lambda: (torch.randint(0, 30, (batch, length)), torch.randint(0, 3, (batch,)))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
def test_recurrent_layers_are_recorded(tmp_path, kind, packed):
    got, seen = run_and_capture(Recurrent(kind, packed), tokens(), tmp_path, "rnn",
                                "weight_hh_l0")
    a = seen["act"]  # (B, T, 16), or (sum of lengths, 16) when packed
    assert got["act_std"] == pytest.approx(a.std(), rel=1e-5)
    assert got["act_mean"] == pytest.approx(a.mean(), rel=1e-5, abs=1e-7)
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)
    assert np.isfinite(got["grad_norm"]) and got["grad_norm"] > 0


def test_multihead_attention_is_recorded(tmp_path):
    got, seen = run_and_capture(Attention(), tokens(), tmp_path, "attn", "in_proj_weight")
    assert got["act_std"] == pytest.approx(seen["act"].std(), rel=1e-5)
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)


class SparseBag(nn.Module):
    """A bag of embeddings whose gradient is sparse: one row per token, a repeated
    token's rows summed only when the gradient is coalesced."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 12, sparse=True)
        self.head = nn.Linear(12, 3)

    def forward(self, tokens):
        return self.head(self.embed(tokens).sum(1))


@pytest.mark.parametrize("optimizer", [True, False], ids=["sgd", "no-optimizer"])
def test_a_sparse_embedding_gradient_is_recorded(tmp_path, optimizer):
    """The norm of the dense gradient (8 x 7 tokens of 30: rows repeat), with the
    optimizer's post-step hook and without an optimizer given to watch()."""
    got, seen = run_and_capture(SparseBag(), tokens(), tmp_path, "embed", "weight",
                                watch_optimizer=optimizer)
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)
    assert got["act_std"] == pytest.approx(seen["act"].std(), rel=1e-5)


@pytest.mark.parametrize("norm, original", [("weight_norm", "original1"),
                                            ("spectral_norm", "original")])
def test_a_parametrized_weight_is_measured_as_the_layers_weight(tmp_path, norm, original):
    """weight_norm / spectral_norm (as GAN discriminators use it) move a Linear's weight
    into ``parametrizations.weight``: the Linear is one measured layer, its weight the
    trained original, its parameters all it trains; the list that computes the weight
    is no layer (its "activation" was the weight matrix itself)."""
    wrap = getattr(nn.utils.parametrizations, norm)
    model = nn.Sequential(wrap(nn.Linear(6, 8)), nn.Tanh(), nn.Linear(8, 3))
    got, seen = run_and_capture(model, lambda: (torch.randn(16, 6), torch.randint(0, 3, (16,))),
                                tmp_path, "0", f"parametrizations.weight.{original}")
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)
    assert got["act_std"] == pytest.approx(seen["act"].std(), rel=1e-5)
    reader = RunReader(tmp_path / "r.desklab-run")
    layout = reader.history().snapshots[-1].layout
    reader.close()
    assert list(layout.names) == ["0", "1", "2"]
    assert layout.layers[0].params == sum(p.numel() for p in model[0].parameters())


def test_sequence_units_are_the_features(tmp_path):
    """Half of the 16 features are 0 at every position: dead 0.5 (per feature), not 0
    (per time step, as when axis 1 was taken for the units)."""
    def batch():
        return torch.randn(8, 5, 8), torch.randint(0, 3, (8,))
    got, seen = run_and_capture(DeadFeatures(), batch, tmp_path, "act")
    a = seen["act"]  # (B, T, 16)
    dead_per_feature = np.mean(np.all(a.reshape(-1, a.shape[-1]) == 0, axis=0))
    assert dead_per_feature == 0.5
    assert got["frac_dead"] == pytest.approx(dead_per_feature)


def test_zero_grad_before_log_still_records_the_steps_gradients(tmp_path):
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    got, seen = run_and_capture(model, lambda: (torch.randn(16, 6), torch.randint(0, 3, (16,))),
                                tmp_path, "0", "weight", zero_before_log=True)
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)


def test_zero_grad_in_place_before_log_still_records_the_steps_gradients(tmp_path):
    """zero_grad(set_to_none=False) zeroes the gradients in place before log(): their
    norms were taken at the optimizer step, so the step's values, never zeros."""
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    got, seen = run_and_capture(model, lambda: (torch.randn(16, 6), torch.randint(0, 3, (16,))),
                                tmp_path, "0", "weight", zero_before_log="in place")
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)


@pytest.mark.parametrize("layers", [["lstm"], ["rnn.weight"], ["rn*"], ["embed", "haed"]])
def test_a_layer_filter_that_matches_nothing_is_refused(tmp_path, layers):
    model = Recurrent("LSTM")
    with pytest.raises(ValueError, match="matches no module"):
        desklab.watch(model, torch.optim.SGD(model.parameters(), lr=0.1), layers=layers,
                      run=tmp_path / "r")
    assert not list(tmp_path.iterdir())


def test_an_evaluation_pass_between_steps_is_not_recorded(tmp_path):
    """model.eval() + no_grad() forward right before the probed step: the recorded
    activation is the training forward's, and its dL/dh is there."""
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))

    def evaluate():
        model.eval()
        with torch.no_grad():
            model(torch.randn(64, 6) * 10)  # a different batch, far larger values
        model.train()
    got, seen = run_and_capture(model, lambda: (torch.randn(16, 6),
                                                torch.randint(0, 3, (16,))),
                                tmp_path, "1", before_probe=evaluate)
    assert got["act_std"] == pytest.approx(seen["act"].std(), rel=1e-5)
    assert np.isfinite(got["grad_norm"])


class SharedActivation(nn.Module):
    """One ReLU, made last in __init__ and called after each layer; a layer that only
    later steps run (a branch)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 8)
        self.late = nn.Linear(8, 8)
        self.head = nn.Linear(8, 3)
        self.act = nn.ReLU()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        h = self.act(self.a(x))
        if self.calls > 1:
            h = self.act(self.late(h))
        return self.head(h)


def test_layers_are_in_the_order_the_forward_runs_them(tmp_path, capsys):
    """The depth plots and the vanishing / exploding rules read the layers input to
    output; the shared ReLU (made last) came after the head. A module the first step
    did not run is not measured, and the module tree says it had no call."""
    model = SharedActivation()
    run_and_capture(model, lambda: (torch.randn(16, 6), torch.randint(0, 3, (16,))),
                    tmp_path, "a")
    reader = RunReader(tmp_path / "r.desklab-run")
    names = list(reader.history().snapshots[-1].layout.names)
    rows = {row["name"]: row for row in reader.meta["modules"]}
    reader.close()
    assert names == ["a", "act", "head"]
    assert rows["late"]["calls"] == 0 and rows["act"]["calls"] == 1  # (the first step's)
    from desklab.cli import main
    assert main(["runs", "show", str(tmp_path / "r.desklab-run")]) == 0
    assert "not measured (the first step did not run them): late\n" in capsys.readouterr().out


class WithPenalty(nn.Module):
    """A module with weights that returns a scalar (a penalty added to the loss)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 3)
        self.penalty = Penalty()

    def forward(self, x):
        return self.a(x) + 0.0 * self.penalty()


class Penalty(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(5))

    def forward(self):
        return (self.w ** 2).sum()  # () : no batch, no units


def test_a_module_that_returns_a_scalar_is_left_out(tmp_path, recwarn):
    """Its 0-dim output reached the probe's reduction, which raised: the watcher gave up
    at the first probe ("IndexError: tuple index out of range") and recorded nothing.
    Now the scalar module is not measured and the rest of the model is."""
    got, seen = run_and_capture(WithPenalty(), lambda: (torch.randn(16, 6),
                                                        torch.randint(0, 3, (16,))),
                                tmp_path, "a", "weight")
    assert got["act_std"] == pytest.approx(seen["act"].std(), rel=1e-5)
    reader = RunReader(tmp_path / "r.desklab-run")
    assert list(reader.history().snapshots[-1].layout.names) == ["a"]
    assert reader.meta["status"] == "finished"
    reader.close()
    assert not [w for w in recwarn if "desklab" in str(w.message)]


@pytest.mark.parametrize("name", ["1", "0"])
def test_a_layer_before_an_in_place_relu_is_recorded_as_it_output(tmp_path, name):
    """torchvision's pattern: Conv / Linear -> BatchNorm -> ReLU(inplace=True). The
    probe kept a reference to each small output until the step's collect(); the ReLU
    then zeroed it in place, so the BatchNorm layer was recorded with half its outputs 0
    (mean 0.22, 53% zero, against -0.03 and none in the test's own copy)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(inplace=True),
                          nn.Linear(16, 3))
    got, seen = run_and_capture(model, lambda: (torch.randn(16, 6),
                                                torch.randint(0, 3, (16,))), tmp_path, name)
    a = seen["act"]  # the test's own copy, taken in its hook before the ReLU ran
    assert got["act_mean"] == pytest.approx(a.mean(), rel=1e-5, abs=1e-7)
    assert got["act_std"] == pytest.approx(a.std(), rel=1e-5)
    assert got["frac_zero"] == pytest.approx(np.mean(a == 0)) and np.mean(a == 0) < 0.1


class BasicBlock(nn.Module):
    """torchvision's ResNet block: one ReLU(inplace=True) twice, and `out += x`."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x  # bn2's output, changed in place
        return self.relu(out)


def test_a_residual_blocks_batchnorm_is_recorded_before_the_sum(tmp_path):
    """bn2's output is added to in place, then the ReLU zeroes it in place: it was
    recorded as mean 0.53 with 42% zeros (the test's own copy: -0.003 and none)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
                          BasicBlock(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 3))
    got, seen = run_and_capture(model, lambda: (torch.randn(8, 3, 12, 12),
                                                torch.randint(0, 3, (8,))), tmp_path, "2.bn2")
    a = seen["act"]
    assert got["act_mean"] == pytest.approx(a.mean(), rel=1e-4, abs=1e-6)
    assert got["act_std"] == pytest.approx(a.std(), rel=1e-5)
    assert got["frac_zero"] == pytest.approx(np.mean(a == 0)) and np.mean(a == 0) < 0.1
