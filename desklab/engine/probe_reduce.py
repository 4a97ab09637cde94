"""Batched probe reductions: same-shaped layers are reduced together, on their device.

On a probed step every layer's activation, dL/dh and weight is reduced to a few
numbers. Done layer by layer that is ~40 small tensor operations per layer, and on
bench-mlp (tensors of 64k values) each operation costs more in dispatch than in
arithmetic. Deep nets are mostly runs of identical layers, so the layers are grouped
by tensor shape, each group is stacked into one (L, ...) tensor and every statistic
is one operation over the group. No compilation, nothing paid at start-up.

Shapes below: L layers in a group, B batch rows, C units (features or channels),
S positions per unit (H * W for images, 1 for dense layers).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple

import torch

from ..metrics import N_BINS

N_ACT = 6  # act_mean, act_std, frac_zero, frac_dead, frac_saturated, unit_spread
N_GRAD = 2  # grad_norm, grad_mean_abs
N_WEIGHT = 3  # weight_std, weight_grad_norm, update_ratio
N_COUNTS = N_BINS + 2  # underflow, N_BINS bins, overflow


def group_by_shape(tensors: list[torch.Tensor | None], tags: list[object] | None = None,
                   by_shape: bool = True) -> list[list[int]]:
    """Indices of the present tensors, grouped by (shape, dtype, device, tag), in order;
    ``by_shape=False`` leaves the shape out (for multi-tensor operations)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, t in enumerate(tensors):
        if t is not None:
            tag = tags[i] if tags is not None else None
            shape = tuple(t.shape) if by_shape else None
            groups[(shape, t.dtype, t.device, tag)].append(i)
    return list(groups.values())


def as_units(stacked: torch.Tensor) -> torch.Tensor:
    """(L, B, C, *spatial) -> (L, B, C, S); a view where the memory allows."""
    if stacked.dim() == 2:  # (L, B): one value per row, a single unit
        return stacked.reshape(stacked.shape[0], stacked.shape[1], 1, 1)
    return stacked.reshape(stacked.shape[0], stacked.shape[1], stacked.shape[2], -1)


def hist_rows(a: torch.Tensor, hist_sample: int | None) -> int | None:
    """Rows of the batch the histogram uses: at least one, up to ``hist_sample`` values."""
    if hist_sample is None:
        return None
    return max(1, hist_sample // max(1, a[0].numel()))


class ActConstants:
    """Per-layer histogram ranges and bounds of one group, as (L,) device tensors."""

    def __init__(self, lo, hi, bounds):
        self.lo, self.hi, self.bounds = lo, hi, bounds

    @classmethod
    def of(cls, ranges, bounds, device) -> ActConstants:
        lo, hi = torch.tensor(ranges, dtype=torch.float32, device=device).unbind(1)
        if all(b is None for b in bounds):
            return cls(lo, hi, None)
        inf = math.inf
        edges = [b if b is not None else (-inf, inf) for b in bounds]
        blo, bhi = torch.tensor(edges, dtype=torch.float32, device=device).unbind(1)
        return cls(lo, hi, (blo, bhi))


def reduce_activations(acts: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
                       bounds: tuple[torch.Tensor, torch.Tensor] | None,
                       hist_rows: int | None = None,
                       work: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stats (L, N_ACT) and counts (L, N_COUNTS) of L same-shaped activations.

    Parameters
    ----------
    acts : Tensor, shape (L, B, C, S)
        float32, contiguous; see `as_units`.
    lo, hi : Tensor, shape (L,)
        Each layer's histogram range.
    bounds : (Tensor, Tensor), each shape (L,), optional
        Each layer's activation bounds (-inf, inf where unbounded): a value within 1%
        of a bound counts as saturated. None when no layer of the group is bounded
        (ReLU nets), which skips the pass.
    hist_rows : int, optional
        The histogram and the unit spread (per-sample views) use only the first rows
        of the batch; counts are scaled to the whole batch. Mean, std, zeros, dead
        units and saturation always use the whole batch.
    work : Tensor, optional
        Scratch space shaped like ``acts``. Whole-batch temporaries go there: a fresh
        megabyte-sized tensor per statistic costs more in first-touch page faults on
        the CPU than the arithmetic does (measured: abs of 2 MB, 24 us on reused
        memory, 400 us on fresh).
    """
    n_layers, batch = acts.shape[0], acts.shape[1]
    work = torch.empty_like(acts) if work is None else work
    flat, scratch = acts.view(n_layers, -1), work.view(n_layers, -1)  # (L, N)
    mean = flat.mean(1)
    # two passes: no cancellation when |mean| >> std (a saturated sigmoid); the norm of
    # the centred values reads them once (square + mean would write them again)
    centred = torch.sub(flat, mean[:, None], out=scratch)
    std = torch.linalg.vector_norm(centred, dim=1).mul_(flat.shape[1] ** -0.5)
    magnitude = torch.abs(acts, out=work)  # (L, B, C, S)
    peak = magnitude.amax(dim=(1, 3))  # (L, C): largest |a| of each unit over the batch
    frac_dead = peak.eq(0).float().mean(1)  # units that are 0 for every input
    # |a| > 0 as 1.0 via sign: a float pass, ~3x cheaper here than a bool compare + count
    frac_zero = 1.0 - scratch.sign_().mean(1)
    if bounds is not None:
        frac_saturated = _saturated(flat, *bounds, scratch)
    else:
        frac_saturated = torch.zeros_like(mean)
    rows = batch if hist_rows is None else max(1, min(batch, hist_rows))
    sample = acts[:, :rows]  # (L, rows, C, S): a view
    if acts.shape[2] > 1:  # std across units per sample and position: 0 if units identical
        spread = ((sample - sample.mean(2, keepdim=True)).square_().mean(2).sqrt_()
                  .reshape(n_layers, -1).mean(1))
    else:
        spread = torch.zeros_like(mean)
    counts = histograms(sample.reshape(n_layers, -1), lo, hi)
    if rows < batch:
        counts = counts * (batch / rows)
    stats = torch.stack([mean, std, frac_zero, frac_dead, frac_saturated, spread], dim=1)
    return stats, counts


def _saturated(flat: torch.Tensor, bound_lo: torch.Tensor, bound_hi: torch.Tensor,
               scratch: torch.Tensor) -> torch.Tensor:
    """(L,) fraction of values within 1% (of the larger |bound|) of either bound."""
    bounded = torch.isfinite(bound_lo) & torch.isfinite(bound_hi)  # (L,)
    safe_lo = torch.where(bounded, bound_lo, torch.zeros_like(bound_lo))
    safe_hi = torch.where(bounded, bound_hi, torch.zeros_like(bound_hi))
    tol = 0.01 * torch.maximum(safe_lo.abs(), safe_hi.abs())
    centre, half = (safe_lo + safe_hi) / 2, (safe_hi - safe_lo) / 2
    # a <= lo + tol or a >= hi - tol  <=>  |a - centre| >= half - tol
    distance = torch.sub(flat, centre[:, None], out=scratch).abs_()
    hit = distance >= (half - tol)[:, None]
    return torch.where(bounded, hit.sum(1) / flat.shape[1], torch.zeros_like(bound_lo))


def histograms(values: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Counts (L, N_COUNTS) of each row of ``values`` (L, N) over its own [lo, hi].

    Bins as numpy's: bin k + 1 holds [lo + k w, lo + (k + 1) w), the last bin also
    holds hi itself (a saturated sigmoid's 1.0). NaN counts as underflow, +inf as
    overflow. All rows share one counting pass: each row's bins are offset by
    row * N_COUNTS. On the CPU a bincount is the fastest exact count; on a GPU bincount
    would wait for the device (its output size depends on the data), so a fixed-size
    scatter_add is used there.
    """
    n_layers = values.shape[0]
    scale = (N_BINS / (hi - lo))[:, None]  # (L, 1)
    pos = torch.addcmul(1.0 - lo[:, None] * scale, values, scale)  # one pass: (v - lo) s + 1
    pos.masked_fill_(values == hi[:, None], N_BINS + 0.5)  # hi: last bin, not overflow
    pos = pos.nan_to_num_(nan=0.0).clamp_(0.0, N_BINS + 1.0)
    offset = torch.arange(0, n_layers * N_COUNTS, N_COUNTS, device=values.device,
                          dtype=pos.dtype)[:, None]  # exact in float32 up to 2**24 bins
    # truncation to int32: bincount is fastest on 32-bit indices
    index = pos.add_(offset).to(torch.int32).view(-1)
    if values.device.type == "cpu":
        counts = torch.bincount(index, minlength=n_layers * N_COUNTS).float()
    else:
        counts = torch.zeros(n_layers * N_COUNTS, device=values.device)
        counts.scatter_add_(0, index.long(), torch.ones_like(index, dtype=counts.dtype))
    return counts.view(n_layers, N_COUNTS)


def gradient_stats(grads: torch.Tensor, work: torch.Tensor | None = None) -> torch.Tensor:
    """(L, N_GRAD): L2 norm and mean |g| of L same-shaped dL/dh, flattened to (L, N);
    ``work`` (optional, same shape) is scratch space, as in `reduce_activations`."""
    work = torch.empty_like(grads) if work is None else work
    norm = torch.linalg.vector_norm(grads, dim=1)
    return torch.stack([norm, torch.abs(grads, out=work).mean(1)], dim=1)


EXACT_STD_MAX = 16384  # weights up to this size get a two-pass std (see weight_stats)


class WeightConstants:
    """A weight group's sizes (L,) and the positions of its small weights, as device
    tensors made once (a CUDA graph cannot copy from the host while it is captured)."""

    def __init__(self, sizes: torch.Tensor, small: list[int], small_index: torch.Tensor):
        self.sizes, self.small, self.small_index = sizes, small, small_index

    @classmethod
    def of(cls, weights: list[torch.Tensor]) -> WeightConstants:
        device = weights[0].device
        small = [i for i, w in enumerate(weights) if w.numel() <= EXACT_STD_MAX]
        return cls(torch.tensor([float(w.numel()) for w in weights], device=device), small,
                   torch.tensor(small, dtype=torch.long, device=device))


def weight_stats(weights: list[torch.Tensor], grads: list[torch.Tensor] | None,
                 before: list[torch.Tensor] | None,
                 consts: WeightConstants | None = None) -> torch.Tensor:
    """(L, N_WEIGHT): std, gradient norm and update ratio |W - W_before| / |W_before|.

    Lists of L float32 tensors of any shapes; a missing gradient or earlier copy
    gives NaN. ``before`` is overwritten (with W_before - W): it is the caller's
    scratch copy. Weights differ in shape from layer to layer, so the norms use the
    multi-tensor `torch._foreach_norm` (as `clip_grad_norm_` does): one call, no copies.
    ``consts`` (`WeightConstants.of(weights)`) may be made once and passed in.
    """
    n = len(weights)
    consts = WeightConstants.of(weights) if consts is None else consts
    # one multi-tensor call for every norm this needs: W, its gradient and W_before
    norms = torch.stack(torch._foreach_norm(weights + (grads or []) + (before or [])))
    norm = norms[:n]
    means = torch.stack([w.mean() for w in weights])
    sizes = consts.sizes
    # std from the norm and the mean: conv and linear weights are near zero-mean, so this
    # one-pass form has no cancellation problem and is 3x cheaper than a two-pass std.
    # Small weights such as BatchNorm's gamma (about 1 +- 0.01) would lose three digits
    # to cancellation: they get the exact two-pass std, which costs nothing at their size.
    std = (norm.square() / sizes - means.square()).clamp_min(0).sqrt()
    if consts.small:
        exact = torch.stack([weights[i].std(correction=0) for i in consts.small])
        std = std.index_copy(0, consts.small_index, exact.to(std.dtype))
    nan = torch.full_like(norm, float("nan"))
    grad_norm = norms[n:2 * n] if grads is not None else nan
    if before is not None:
        old_norm = norms[-n:].clamp_min(1e-12)
        torch._foreach_sub_(before, weights)  # in place: no new megabytes
        ratio = torch.stack(torch._foreach_norm(before)) / old_norm
    else:
        ratio = nan
    return torch.stack([std, grad_norm, ratio], dim=1)


class Reduced:
    """A layer's rows already reduced in its hook (stats, and counts for activations)."""

    def __init__(self, stats: torch.Tensor, counts: torch.Tensor | None = None):
        self.stats, self.counts = stats, counts
        self.device = stats.device


class StashReduced(NamedTuple):
    """A probed step's numbers on its device, before packing: stats (n, N_ACT + N_GRAD
    + N_WEIGHT), counts (n, N_COUNTS), and ||dL/dh_t|| (R, T) of its recurrent layers."""

    stats: torch.Tensor
    hist: torch.Tensor
    time: torch.Tensor | None


def reduce_activation(a: torch.Tensor, lo: float, hi: float,
                      bounds: tuple[float, float] | None,
                      hist_sample: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stats (N_ACT,) and histogram (N_BINS + 2,) of one layer's output, on its device.

    ``a`` is (B, F) or (B, C, H, W); units are features or channels (dim 1). With
    ``hist_sample`` the histogram and the unit spread use only the first rows of the
    batch, up to that many values (see `reduce_activations`).
    """
    stats, counts = reduce_one(a, ActConstants.of([(lo, hi)], [bounds], a.device),
                               hist_sample)
    return stats[0], counts[0]


def reduce_one(a: torch.Tensor, consts, hist_sample: int | None,
               work: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer through `reduce_activations`: (1, N_ACT) stats, (1, N_COUNTS) counts."""
    units = as_units(a.detach().float().contiguous()[None])  # channels_last: a copy
    return reduce_activations(units, consts.lo, consts.hi, consts.bounds,
                              hist_rows(a, hist_sample),
                              None if work is None else as_units(work))
