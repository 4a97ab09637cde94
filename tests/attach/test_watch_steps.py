"""Which forward a probed step of desklab.watch is measured on, and how steps are
counted (issue 27): in a GAN each watcher records the forward its own optimizer's
step used (the discriminator's D(real), not D(G(z)) of the generator's update run
right after its step); under gradient accumulation a step is an optimizer step; a
torch.compile'd model is measured (its probed steps run eagerly). Each number against
the test's own hooks and ``p.grad`` on the same step (rel 1e-5)."""

import numpy as np
import pytest
import torch
from torch import nn

import desklab
from desklab.metrics import STAT_INDEX
from desklab.runs import RunReader

PROBE_AT = 4  # every=2: steps 2 and 4 are probed


def recorded(path, module, step=PROBE_AT):
    reader = RunReader(path)
    try:
        history = reader.history()
    finally:
        reader.close()
    snap = next(s for s in history.snapshots if s.step == step)
    row = snap.layout.names.index(module)
    return {k: snap.stats[row, j] for k, j in STAT_INDEX.items()}, history


class Capture:
    """The test's own record of one module's forward: output, dL/dh, calls seen."""

    def __init__(self, module):
        self.outputs, self.grads, self.on = [], [], False
        module.register_forward_hook(self._forward)

    def _forward(self, module, inputs, out):
        if self.on:
            self.outputs.append(out.detach().double().numpy().copy())
            slot = len(self.grads)
            self.grads.append(None)
            out.register_hook(lambda g: self.grads.__setitem__(
                slot, g.detach().double().numpy().copy()))


def zero_at_the_top(style: str, model, optimizer) -> None:
    """Zero a phase's gradients as the style does before its forward ("frozen D" zeroes
    after its step instead)."""
    if style == "dcgan":
        model.zero_grad()
    elif style == "zero first":
        optimizer.zero_grad()


def gan(style: str, tmp_path):
    """Train a tiny GAN 6 iterations with one watcher per model; return what was
    recorded at PROBE_AT and the test's own capture of the forwards that belong to it.

    "zero first": zero_grad at the top of each phase, log right after each step.
    "dcgan": netD.zero_grad() / netG.zero_grad() (the model's), G's forward once per
    iteration (detached in D's phase), both logs at the end of the iteration.
    "frozen D": zero_grad after step, D frozen during G's update, G run again there."""
    torch.manual_seed(0)
    gen = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))
    disc = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    opt_g = torch.optim.SGD(gen.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(disc.parameters(), lr=0.05)
    wg = desklab.watch(gen, opt_g, every=2, run=tmp_path / "g")
    wd = desklab.watch(disc, opt_d, every=2, run=tmp_path / "d")
    bce = nn.functional.binary_cross_entropy_with_logits
    own_d, own_g = Capture(disc[0]), Capture(gen[0])
    seen = {}
    for step in range(6):
        real, z = torch.randn(32, 2) + 3, torch.randn(32, 4)
        ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
        probed = step == PROBE_AT
        # --- the discriminator's phase
        own_d.on = own_g.on = probed
        zero_at_the_top(style, disc, opt_d)
        fake = gen(z)
        own_g.on = probed and style != "frozen D"  # "frozen D": G's step forward is later
        loss_d = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
        loss_d.backward()
        own_d.on = False
        if probed:
            seen["d_wgrad"] = disc[0].weight.grad.double().numpy().copy()
        opt_d.step()
        if style == "frozen D":
            opt_d.zero_grad()
        if style != "dcgan":
            wd.log(loss=loss_d)
        # --- the generator's phase
        zero_at_the_top(style, gen, opt_g)
        if style == "frozen D":
            disc.requires_grad_(False)
            own_g.on = probed
            fake = gen(z)
            own_g.on = False
        loss_g = bce(disc(fake), ones)
        loss_g.backward()
        own_g.on = False
        if probed:
            seen["g_wgrad"] = gen[0].weight.grad.double().numpy().copy()
        opt_g.step()
        if style == "frozen D":
            opt_g.zero_grad()
            disc.requires_grad_(True)
        if style == "dcgan":
            wd.log(loss=loss_d)
        wg.log(loss=loss_g)
    wg.close()
    wd.close()
    return recorded(wd.path, "0")[0], recorded(wg.path, "0")[0], own_d, own_g, seen


@pytest.mark.parametrize("style", ["zero first", "dcgan", "frozen D"])
def test_each_gan_watcher_records_its_own_steps_forward(tmp_path, style):
    d, g, own_d, own_g, seen = gan(style, tmp_path)
    # the discriminator: D(real), the first forward of its own phase
    real_out, real_grad = own_d.outputs[0], own_d.grads[0]
    assert d["act_std"] == pytest.approx(real_out.std(), rel=1e-5)
    assert d["act_mean"] == pytest.approx(real_out.mean(), rel=1e-5)
    assert d["grad_norm"] == pytest.approx(np.linalg.norm(real_grad), rel=1e-5)
    assert d["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["d_wgrad"]), rel=1e-5)
    # the generator: the forward whose backward its step used (G's phase)
    g_out, g_grad = own_g.outputs[-1], own_g.grads[-1]
    assert g_grad is not None
    assert g["act_std"] == pytest.approx(g_out.std(), rel=1e-5)
    assert g["grad_norm"] == pytest.approx(np.linalg.norm(g_grad), rel=1e-5)
    assert g["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["g_wgrad"]), rel=1e-5)


def test_under_gradient_accumulation_a_step_is_an_optimizer_step(tmp_path):
    """4 micro-batches per optimizer step, log() once per optimizer step: 6 steps
    recorded from 24 batches; the probed step's activation and dL/dh are its first
    micro-batch's, the weight gradient is the accumulated one the step used."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "r")
    own = Capture(model[0])
    seen = {}
    for batch in range(24):
        own.on = batch // 4 == PROBE_AT
        x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
        loss = nn.functional.cross_entropy(model(x), y) / 4
        loss.backward()
        if batch % 4 == 3:
            if own.on:
                seen["wgrad"] = model[0].weight.grad.double().numpy().copy()
            optimizer.step()
            optimizer.zero_grad()
            watcher.log(loss=loss * 4)
    watcher.close()
    got, history = recorded(watcher.path, "0")
    assert len(own.outputs) == 4
    assert list(history.steps.steps) == [0, 1, 2, 3, 4, 5]
    assert got["act_std"] == pytest.approx(own.outputs[0].std(), rel=1e-5)
    assert got["grad_norm"] == pytest.approx(np.linalg.norm(own.grads[0]), rel=1e-5)
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)


@pytest.mark.parametrize("order", ["compile, then watch", "watch, then compile"])
def test_a_compiled_model_is_measured(tmp_path, order):
    """Measured on its probed steps (run eagerly), every step's loss recorded, no
    warning (warnings are errors here)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    own = Capture(model[0])  # registered before compiling: traced into the graph
    if order.startswith("compile"):
        run = torch.compile(model, backend="eager")
        watcher = desklab.watch(run, optimizer, every=2, run=tmp_path / "r")
    else:
        watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "r")
        run = torch.compile(model, backend="eager")
    seen = {}
    for step in range(8):
        own.on = step == PROBE_AT
        loss = nn.functional.cross_entropy(run(torch.randn(16, 4)), torch.randint(0, 3, (16,)))
        optimizer.zero_grad()
        loss.backward()
        own.on = False
        if step == PROBE_AT:
            seen["wgrad"] = model[0].weight.grad.double().numpy().copy()
        optimizer.step()
        watcher.log(loss=loss)
    watcher.close()
    got, history = recorded(watcher.path, "0")
    assert [s.step for s in history.snapshots] == [2, 4, 6]
    assert got["act_std"] == pytest.approx(own.outputs[0].std(), rel=1e-5)
    assert got["grad_norm"] == pytest.approx(np.linalg.norm(own.grads[0]), rel=1e-5)
    assert got["weight_grad_norm"] == pytest.approx(np.linalg.norm(seen["wgrad"]), rel=1e-5)
    from torch._dynamo.eval_frame import _stance
    assert _stance.stance == "default"  # the user's stance back after close()
