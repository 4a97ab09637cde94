"""Which forward pass a probed optimizer step is measured on.

The in-app trainer runs one forward per step. A user's loop may run several between
two steps of the watched optimizer, and only some take part in it:

- a GAN's generator update runs the discriminator forward (and backward) right after
  the discriminator's own step; the discriminator's next step zeroes those gradients
  and uses D(real) and D(fake) of its own phase;
- DCGAN's generator forward runs in the discriminator's phase (detached there), and its
  backward only in the generator's phase, after the generator's gradients were zeroed;
- gradient accumulation runs several micro-batches into one step.

`StepProber` keeps every training forward of a probed window and, when the optimizer
steps, takes for each module the earliest forward whose backward ran since the
gradients were last zeroed (`gradients_zeroed`, called from the watched optimizer's
and model's ``zero_grad``): the forwards that step's gradients came from. A forward
while the watched parameters are frozen (``requires_grad_(False)``, as GAN loops do to
the discriminator during the generator's update) is not the step's. When no forward
had a backward since the zeroing, the earliest forward since then is taken, else the
latest one.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import torch

from ..engine.probe import Prober
from ..metrics import STAT_INDEX
from .shield import Shield

GRAD_COLUMNS = [STAT_INDEX["grad_norm"], STAT_INDEX["grad_mean_abs"]]  # linear in dL/dh
WEIGHT_GRAD = STAT_INDEX["weight_grad_norm"]


class _Forward:
    """One forward of one module: its activation, dL/dh, and when each came."""

    __slots__ = ("act", "grad", "epoch", "used")

    def __init__(self, act, epoch: int):
        self.act, self.grad, self.epoch, self.used = act, None, epoch, -1


class StepProber(Prober):
    """A `Prober` that measures the forward the optimizer step used; module docstring."""

    def __init__(self, model, trainable: torch.nn.Parameter | None, shield: Shield):
        super().__init__(model)
        self.shield = shield  # every hook below runs inside the user's step
        self.trainable = trainable  # a parameter the watched optimizer updates
        self._epoch = 0  # bumped when the gradients are zeroed
        self._forwards: list[list[_Forward]] = [[] for _ in self.points]
        self._chosen = False  # the step was taken: later forwards are the next step's
        self._norms, self._scale = None, 1.0  # see step_taken

    def _wanted(self, index: int) -> bool:
        return (self.active and not self._chosen and torch.is_grad_enabled()
                and (self.trainable is None or self.trainable.requires_grad))

    def _keep(self, index: int, a, out: torch.Tensor) -> None:
        if isinstance(a, torch.Tensor):  # small: kept for collect(), as a copy, since
            # the user's next op may change it in place (torchvision's ReLU(inplace=True)
            # after every BatchNorm: the BN layer was recorded with half its outputs 0)
            a = self._reduce_act(index, a) if a.is_cpu else a.clone()
        forward = _Forward(a, self._epoch)
        self._forwards[index].append(forward)
        if out.requires_grad:
            out.register_hook(self.shield.guard(partial(self._on_step_grad, index, forward)))
            self._hook_time(index, out)

    def _on_forward(self, *args):
        return self.shield.run(super()._on_forward, *args)

    def _on_time_grad(self, *args, **kwargs):
        return self.shield.run(super()._on_time_grad, *args, **kwargs)

    def _on_step_grad(self, index: int, forward: _Forward, grad: torch.Tensor) -> None:
        forward.grad = self._reduced_grad(index, grad)
        forward.used = self._epoch

    def gradients_zeroed(self) -> None:
        """The loop zeroed the gradients: backwards from now on are the step's (the
        gradient through time too: the first backward after this)."""
        if self.active:
            self._epoch += 1
            if not self._chosen:
                self._time = {}

    def choose(self) -> None:
        """At the optimizer step: each module's forward (see the module docstring)."""
        if self._chosen:
            return
        for i, forwards in enumerate(self._forwards):
            if not forwards:
                continue
            now = self._epoch
            pick = next((f for f in forwards if f.used == now), None) \
                or next((f for f in forwards if f.epoch == now), None) or forwards[-1]
            self._act[i], self._grad[i] = pick.act, pick.grad
        self._forwards = [[] for _ in self.points]
        self._chosen = True

    def step_taken(self, scale: float = 1.0) -> None:
        """The optimizer step ran (its post-step hook): the forward it used, and the norms
        of the weight gradients it used, taken now on the device (before log(), HF
        scripts and accumulation loops zero them, and a GAN's next update adds to them).
        ``scale``: GradScaler's scale of the backward, by which dL/dh is divided."""
        self.choose()
        self._norms, self._scale = weight_grad_norms(self.points), scale

    def captured(self) -> bool:
        self.choose()
        if super().captured():
            return True
        self._chosen = False  # nothing ran: the next step is probed instead
        return False

    def collect_with(self, step, loss, lr, before, extra):
        """As `Prober.collect_with`, with the step's gradient norms (same transfer) and
        dL/dh unscaled."""
        self.choose()
        norms, scale, self._norms, self._scale = self._norms, self._scale, None, 1.0
        if norms is None:  # no optimizer hook ran: the gradients as they are now
            norms = weight_grad_norms(self.points)
        try:
            if norms is None:  # no weight has a gradient
                snapshot, host = super().collect_with(step, loss, lr, before, extra)
            else:
                rows, values = norms
                with no_weight_grads(self.points):
                    snapshot, host = super().collect_with(
                        step, loss, lr, before, torch.cat([extra, values.double()]))
                stats = snapshot.stats.copy()  # (a Snapshot's arrays are read-only)
                stats[rows, WEIGHT_GRAD] = host[extra.numel():]
                snapshot, host = replace(snapshot, stats=stats), host[:extra.numel()]
        finally:
            self._chosen = False
        if scale != 1.0:  # dL/dh came from the scaled backward
            stats = snapshot.stats.copy()
            stats[:, GRAD_COLUMNS] /= scale
            time = None if snapshot.time_grad is None else snapshot.time_grad / scale
            snapshot = replace(snapshot, stats=stats, time_grad=time)
        return snapshot, host


class ZeroGradHooks:
    """Calls ``callback`` whenever one of ``owners`` (the watched optimizer, the model
    and its DDP wrapper) zeroes its gradients; `remove` puts their ``zero_grad`` back.

    Neither torch.optim.Optimizer nor nn.Module has a zero_grad hook; the method is
    wrapped on the instance (as LR schedulers wrap ``optimizer.step``)."""

    def __init__(self, owners, callback):
        self._wrapped = []
        for owner in dict.fromkeys(o for o in owners if o is not None):  # each once
            original = owner.zero_grad

            def zero_grad(*args, _original=original, **kwargs):
                callback()
                return _original(*args, **kwargs)
            owner.zero_grad = zero_grad
            self._wrapped.append((owner, zero_grad))

    def remove(self) -> None:
        for owner, ours in self._wrapped:
            if owner.__dict__.get("zero_grad") is ours:  # not re-wrapped by someone since
                del owner.zero_grad
        self._wrapped = []


def weight_grad_norms(points) -> tuple[list[int], torch.Tensor] | None:
    """(rows, (n,) float32 device tensor): the L2 norm of each point's weight gradient,
    one multi-tensor call, no host sync; None when no point has a gradient."""
    rows = [i for i, p in enumerate(points) if p.weight is not None and p.weight.grad is not None]
    if not rows:
        return None
    norms = torch._foreach_norm([_values(points[i].weight.grad.detach()) for i in rows])
    return rows, torch.stack(norms).float()  # (stack promotes mixed precisions)


def _values(grad: torch.Tensor) -> torch.Tensor:
    """A tensor with ``grad``'s norm: ``grad`` itself, or the values of a sparse one
    (``nn.Embedding(sparse=True)``: each row it touched once rows are summed)."""
    if grad.is_sparse:
        return grad.coalesce().values()
    return grad if grad.layout == torch.strided else grad.to_dense()


@contextmanager
def no_weight_grads(points):
    """The points' weights without gradients for a while (their norms came earlier)."""
    held = [(p.weight, p.weight.grad) for p in points if p.weight is not None]
    try:
        for w, _ in held:
            w.grad = None
        yield
    finally:
        for w, g in held:
            w.grad = g
