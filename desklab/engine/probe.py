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

import numpy as np
import torch
import torch.nn.functional as F

from ..design import NetworkDesign
from ..metrics import N_BINS, LayerMeta, ProbeLayout, Snapshot
from .build import DeskNet, build
from .datasets import make_dataset
from .device import resolve_device
from .rng import GLOBAL_RNG_LOCK

N_ACT = 6  # act_mean, act_std, frac_zero, frac_dead, frac_saturated, unit_spread
N_GRAD = 2  # grad_norm, grad_mean_abs
N_WEIGHT = 3  # weight_std, weight_grad_norm, update_ratio


HIST_SAMPLE = 8192  # during training, histogram at most this many values per layer


def histogram(a: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Counts (N_BINS + 2,): underflow, N_BINS equal bins over [lo, hi], overflow.

    On the CPU a truncating int32 bincount is the fastest exact way (histc is ~2x
    slower). On a GPU bincount would wait for the device (its output size depends
    on the data), so histc plus two sums are used there. NaN counts as underflow.
    """
    if a.device.type != "cpu":
        inside = torch.histc(a, bins=N_BINS, min=lo, max=hi)
        return torch.cat([a.lt(lo).sum().reshape(1).float(), inside,
                          a.gt(hi).sum().reshape(1).float()])
    # bin k + 1 for [lo + k w, lo + (k + 1) w); the scale is shrunk by 1e-6 so a value
    # exactly at hi (a saturated sigmoid's 1.0) lands in the last bin, as with histc
    pos = (a - lo).mul_(N_BINS / (hi - lo) * (1.0 - 1e-6)).add_(1.0)
    pos.nan_to_num_(nan=0.0).clamp_(0.0, N_BINS + 1.0)
    return torch.bincount(pos.to(torch.int32).view(-1), minlength=N_BINS + 2).float()


def reduce_activation(a: torch.Tensor, lo: float, hi: float,
                      bounds: tuple[float, float] | None,
                      hist_sample: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stats (N_ACT,) and histogram (N_BINS + 2,) of one layer's output, on its device.

    ``a`` is (B, F) or (B, C, H, W); units are features or channels (dim 1). With
    ``hist_sample`` the histogram and the unit spread (both per-sample views) use only
    the first rows of the batch (at least one), up to that many values; histogram
    counts are scaled to the whole batch. Mean, std, zeros, dead units and saturation
    always use the whole batch.
    Each statistic is one or two passes over the tensor: on small tensors the
    passes, not the arithmetic, are the cost.
    """
    a = a.detach().float()
    mean = a.mean()
    std = (a - mean).square_().mean().sqrt_()  # two passes: no cancellation
    frac_zero = 1.0 - torch.count_nonzero(a).float() / a.numel()
    peak = a.abs().amax(dim=0)  # (U,) or (C, H, W): largest |a| of each unit over the batch
    if peak.dim() > 1:
        peak = peak.flatten(1).amax(dim=1)  # (C,)
    frac_dead = peak.eq(0).float().mean()  # units that are 0 for every input
    if bounds is not None:
        tol = 0.01 * max(abs(bounds[0]), abs(bounds[1]))  # "within 1% of a bound"
        saturated = ((a <= bounds[0] + tol) | (a >= bounds[1] - tol)).float().mean()
    else:
        saturated = a.new_zeros(())
    rows = a.shape[0]
    if hist_sample is not None:
        rows = min(rows, max(1, hist_sample // max(1, a[0].numel())))
    sample = a[:rows]  # a view: the first rows of the batch
    if a.shape[1] > 1:  # std across units per sample (and position): 0 if units identical
        spread = (sample - sample.mean(1, keepdim=True)).square_().mean(1).sqrt_().mean()
    else:
        spread = a.new_zeros(())
    stats = torch.stack([mean, std, frac_zero, frac_dead, saturated, spread])
    hist = histogram(sample, lo, hi)
    if rows < a.shape[0]:
        hist = hist * (a.shape[0] / rows)
    return stats, hist


def task_loss(output: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """Mean cross-entropy for classes, mean squared error for regression."""
    if task == "classes":
        return F.cross_entropy(output, target)
    return F.mse_loss(output, target)


class Prober:
    """Per-layer measurement hooks on a `DeskNet`; see the module docstring."""

    def __init__(self, model: DeskNet, hist_sample: int | None = HIST_SAMPLE):
        self.points = model.probe_points
        self.hist_sample = hist_sample  # None: exact histograms over the whole batch
        self.layout = ProbeLayout(tuple(
            LayerMeta(p.name, p.kind, p.activation, tuple(p.out_shape), p.params,
                      p.hist_range, p.weight is not None) for p in self.points))
        self.active = False
        n = len(self.points)
        self._act: list[torch.Tensor | None] = [None] * n
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
        self._act[index] = output.detach()  # a reference: reduced in collect()
        if output.requires_grad:
            output.register_hook(partial(self._on_grad, index))

    def _on_grad(self, index: int, grad: torch.Tensor) -> None:
        self._grad[index] = grad.detach()

    def weights_before(self) -> list[torch.Tensor | None]:
        """Copies of the probed weights, taken just before the optimizer step."""
        return [p.weight.detach().clone() if p.weight is not None else None
                for p in self.points]

    def collect(self, step: int, loss: torch.Tensor | None, lr: float,
                before: list[torch.Tensor | None] | None = None) -> Snapshot:
        """Reduce this step's stashed tensors into a Snapshot (one host transfer)."""
        return self.collect_with(step, loss, lr, before, None)[0]

    def collect_with(self, step: int, loss: torch.Tensor | None, lr: float,
                     before: list[torch.Tensor | None] | None,
                     extra: torch.Tensor | None) -> tuple[Snapshot, np.ndarray]:
        """As `collect`, and bring the 1-D device tensor ``extra`` (the trainer's
        per-step log) over in the same transfer; returns (snapshot, extra on the host)."""
        n = len(self.points)
        device = next(t for t in self._act if t is not None).device
        nan = torch.full((1,), math.nan, device=device)
        rows, hists = [], []
        for i, point in enumerate(self.points):
            act, grad = self._act[i], self._grad[i]
            if act is not None:
                act_stats, hist = reduce_activation(act, point.hist_range[0],
                                                    point.hist_range[1], point.bounds,
                                                    self.hist_sample)
            else:
                act_stats, hist = nan.expand(N_ACT), nan.expand(N_BINS + 2)
            if grad is not None:
                grad = grad.float()
                grad_stats = torch.stack([torch.linalg.vector_norm(grad), grad.abs().mean()])
            else:
                grad_stats = nan.expand(N_GRAD)
            rows.append(torch.cat([act_stats, grad_stats,
                                   _weight_stats(point.weight, before, i, nan)]))
            hists.append(hist)
        stats, hist = torch.stack(rows), torch.stack(hists)  # (L, N_STATS), (L, N_BINS + 2)
        loss_t = loss.detach().float().reshape(1) if loss is not None else nan
        tail = extra.detach().double().reshape(-1) if extra is not None else nan[:0].double()
        packed = torch.cat([stats.flatten().double(), hist.flatten().double(),
                            loss_t.double(), tail]).cpu().numpy()
        self._act, self._grad = [None] * n, [None] * n
        split, end = stats.numel(), stats.numel() + hist.numel()
        snapshot = Snapshot(step, self.layout, packed[:split].reshape(stats.shape).copy(),
                            packed[split:end].reshape(hist.shape).copy(), float(packed[end]),
                            lr)
        return snapshot, packed[end + 1:].copy()


def _weight_stats(weight, before, index: int, nan: torch.Tensor) -> torch.Tensor:
    """(std, grad norm, update ratio) of one weight tensor; NaN where not measured."""
    if weight is None:
        return nan.expand(N_WEIGHT)
    w = weight.detach().float()
    norm = torch.linalg.vector_norm(w)
    # std from the norm and the mean: weights are near zero-mean, so this one-pass
    # form has no cancellation problem and is 3x cheaper than a two-pass std
    std = (norm.square() / w.numel() - w.mean().square()).clamp_min(0).sqrt()
    grad_norm = (torch.linalg.vector_norm(weight.grad.detach().float())
                 if weight.grad is not None else nan[0])
    if before is not None and before[index] is not None:
        old = before[index].float()
        ratio = torch.linalg.vector_norm(w - old) / torch.linalg.vector_norm(old).clamp_min(
            1e-12)
    else:
        ratio = nan[0]
    return torch.stack([std, grad_norm, ratio])


def probe_at_init(design: NetworkDesign, seed: int | None = None, device: str = "cpu",
                  max_batch: int | None = None) -> tuple[Snapshot, DeskNet, torch.device]:
    """One forward + backward of the design's loss on its first batch, every layer probed.

    Returns the step-0 snapshot, the module and the device it ran on. The model is in
    train mode (BatchNorm uses batch statistics, as training will). ``max_batch`` caps
    the batch (the editor's live preview uses 256: the statistics barely move and it
    is 4x faster than the init experiment's 1000).
    """
    seed = design.train.seed if seed is None else seed
    dev = resolve_device(device)
    model = build(design, seed).to(dev)
    data = make_dataset(design, seed)
    batch = min(design.train.batch_size, len(data.x_train), max_batch or len(data.x_train))
    x, y = data.x_train[:batch].to(dev), data.y_train[:batch].to(dev)
    prober = Prober(model, hist_sample=None)  # one-off: exact histograms
    prober.active = True
    model.train()
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)  # dropout masks are part of the measurement
        loss = task_loss(model(x), y, data.task)
        loss.backward()
    snapshot = prober.collect(0, loss, design.train.lr)
    prober.remove()
    return snapshot, model, dev
