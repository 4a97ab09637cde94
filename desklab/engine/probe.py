"""Probes: hooks that reduce each layer's tensors to a few numbers ON the device.

A `Prober` hooks every probe point once. While ``active`` is False the hooks
return immediately (no device work, no host sync). On a probed step they
reduce the activation to stats + histogram, hook the gradient dL/dh, and
`collect` packs everything into one tensor that crosses to the CPU in a single
transfer (a few hundred floats per layer).
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F

from ..design import NetworkDesign
from ..metrics import N_BINS, LayerMeta, ProbeLayout, Snapshot
from .build import DeskNet, build
from .datasets import make_dataset
from .device import resolve_device

N_ACT = 6  # act_mean, act_std, frac_zero, frac_dead, frac_saturated, unit_spread
N_GRAD = 2  # grad_norm, grad_mean_abs
N_WEIGHT = 3  # weight_std, weight_grad_norm, update_ratio


def reduce_activation(a: torch.Tensor, lo: float, hi: float,
                      bounds: tuple[float, float] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stats (N_ACT,) and histogram (N_BINS + 2,) of one layer's output, on its device.

    ``a`` is (B, F) or (B, C, H, W); units are features or channels (dim 1).
    """
    a = a.detach().float()
    units = a.transpose(0, 1).reshape(a.shape[1], -1)  # (U, B*H*W)
    frac_dead = (~units.ne(0).any(dim=1)).float().mean()
    if bounds is not None:
        tol = 0.01 * max(abs(bounds[0]), abs(bounds[1]))  # "within 1% of a bound"
        saturated = ((a <= bounds[0] + tol) | (a >= bounds[1] - tol)).float().mean()
    else:
        saturated = a.new_zeros(())
    spread = units.std(dim=0, correction=0).mean() if units.shape[0] > 1 else a.new_zeros(())
    stats = torch.stack([a.mean(), a.std(correction=0), a.eq(0).float().mean(), frac_dead,
                         saturated, spread])
    inside = torch.histc(a, bins=N_BINS, min=lo, max=hi)
    hist = torch.cat([a.lt(lo).sum().reshape(1).float(), inside,
                      a.gt(hi).sum().reshape(1).float()])
    return stats, hist


def task_loss(output: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """Mean cross-entropy for classes, mean squared error for regression."""
    if task == "classes":
        return F.cross_entropy(output, target)
    return F.mse_loss(output, target)


class Prober:
    """Per-layer measurement hooks on a `DeskNet`; see the module docstring."""

    def __init__(self, model: DeskNet):
        self.points = model.probe_points
        self.layout = ProbeLayout(tuple(
            LayerMeta(p.name, p.kind, p.activation, tuple(p.out_shape), p.params,
                      p.hist_range, p.weight is not None) for p in self.points))
        self.active = False
        n = len(self.points)
        self._act: list[torch.Tensor | None] = [None] * n
        self._hist: list[torch.Tensor | None] = [None] * n
        self._grad: list[torch.Tensor | None] = [None] * n
        self._handles = [p.module.register_forward_hook(partial(self._on_forward, i))
                         for i, p in enumerate(self.points)]

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _on_forward(self, index: int, module, inputs, output: torch.Tensor) -> None:
        if not self.active:
            return
        point = self.points[index]
        self._act[index], self._hist[index] = reduce_activation(
            output, point.hist_range[0], point.hist_range[1], point.bounds)
        if output.requires_grad:
            output.register_hook(partial(self._on_grad, index))

    def _on_grad(self, index: int, grad: torch.Tensor) -> None:
        g = grad.detach().float()
        self._grad[index] = torch.stack([g.norm(), g.abs().mean()])

    def weights_before(self) -> list[torch.Tensor | None]:
        """Copies of the probed weights, taken just before the optimizer step."""
        return [p.weight.detach().clone() if p.weight is not None else None
                for p in self.points]

    def collect(self, step: int, loss: torch.Tensor | None, lr: float,
                before: list[torch.Tensor | None] | None = None) -> Snapshot:
        """Pack this step's measurements into a Snapshot (the one host transfer)."""
        device = next(t for t in self._act if t is not None).device
        nan = torch.full((1,), math.nan, device=device)
        rows = []
        for i, point in enumerate(self.points):
            act = self._act[i] if self._act[i] is not None else nan.expand(N_ACT)
            grad = self._grad[i] if self._grad[i] is not None else nan.expand(N_GRAD)
            rows.append(torch.cat([act, grad, self._weight_stats(point, i, before, nan)]))
        stats = torch.stack(rows)  # (L, N_STATS)
        hist = torch.stack([h if h is not None else nan.expand(N_BINS + 2)
                            for h in self._hist])  # (L, N_BINS + 2)
        loss_t = loss.detach().float().reshape(1) if loss is not None else nan
        packed = torch.cat([stats.flatten(), hist.flatten(), loss_t]).double().cpu().numpy()
        n = len(self.points)
        self._act, self._hist, self._grad = [None] * n, [None] * n, [None] * n
        split = stats.numel()
        return Snapshot(step, self.layout, packed[:split].reshape(stats.shape).copy(),
                        packed[split:-1].reshape(hist.shape).copy(), float(packed[-1]), lr)

    @staticmethod
    def _weight_stats(point, index, before, nan) -> torch.Tensor:
        w = point.weight
        if w is None:
            return nan.expand(N_WEIGHT)
        wd = w.detach().float()
        grad_norm = w.grad.detach().float().norm().reshape(1) if w.grad is not None else nan
        ratio = nan
        if before is not None and before[index] is not None:
            old = before[index].float()
            ratio = ((wd - old).norm() / old.norm().clamp_min(1e-12)).reshape(1)
        return torch.cat([wd.std(correction=0).reshape(1), grad_norm, ratio])


def probe_at_init(design: NetworkDesign, seed: int | None = None,
                  device: str = "cpu") -> tuple[Snapshot, DeskNet, torch.device]:
    """One forward + backward of the design's loss on its first batch, every layer probed.

    Returns the step-0 snapshot, the module and the device it ran on. The model is in
    train mode (BatchNorm uses batch statistics, as training will).
    """
    seed = design.train.seed if seed is None else seed
    dev = resolve_device(device)
    model = build(design, seed).to(dev)
    data = make_dataset(design, seed)
    batch = min(design.train.batch_size, len(data.x_train))
    x, y = data.x_train[:batch].to(dev), data.y_train[:batch].to(dev)
    prober = Prober(model)
    prober.active = True
    model.train()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)  # dropout masks are part of the measurement
        loss = task_loss(model(x), y, data.task)
        loss.backward()
    snapshot = prober.collect(0, loss, design.train.lr)
    prober.remove()
    return snapshot, model, dev
