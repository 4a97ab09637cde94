"""The loss landscape around a network's weights: 1-D and 2-D slices, and its curvature.

- `interpolate`: the loss along the straight line from one set of weights to another
  (Goodfellow, Vinyals & Saxe 2015: from the initial to the trained weights).
- `random_directions` + `surface`: the loss on a grid ``w + a d1 + b d2`` over two random
  directions with **filter normalisation** (Li et al. 2018): each filter (an output unit's
  incoming weights) of a direction is rescaled to the norm of the same filter of ``w``,
  and biases and normalisation parameters get no direction (held fixed, as Li et al.
  do), so surfaces of different networks are comparable.
- `hessian_extremes`: the largest and smallest Hessian eigenvalue at ``w`` by power
  iteration on Hessian-vector products; Li et al. read convexity off |lambda_min /
  lambda_max| (near 0: locally convex; large: saddle-like, chaotic).

Every loss is measured on one fixed evaluation batch, with no gradient, in train mode
(BatchNorm uses the batch's statistics) with the running statistics restored after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

Loss = Callable[[nn.Module], torch.Tensor]  # the model -> its loss on the fixed batch


def weighted_params(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that get a direction: weights of 2 or more dimensions (filters)."""
    return [p for p in model.parameters() if p.dim() >= 2]


@contextmanager
def _probing(model: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Keep the weights and the BatchNorm running statistics as they were."""
    params = weighted_params(model)
    saved = [p.detach().clone() for p in params]
    buffers = [b.detach().clone() for b in model.buffers()]
    try:
        yield saved
    finally:
        with torch.no_grad():
            for p, w in zip(params, saved):
                p.copy_(w)
            for b, v in zip(model.buffers(), buffers):
                b.copy_(v)


def random_directions(model: nn.Module, seed: int = 0,
                      normalise: bool = True) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Two random directions over `weighted_params`, filter-normalised (Li et al. 2018)."""
    gen = torch.Generator().manual_seed(seed)
    directions = []
    for _ in range(2):
        d = []
        for p in weighted_params(model):
            r = torch.randn(p.shape, generator=gen).to(p.device, p.dtype)
            if normalise:  # per filter: dim 0 indexes the output units
                w_norm = p.detach().flatten(1).norm(dim=1)
                r_norm = r.flatten(1).norm(dim=1).clamp_min(1e-12)
                r = r * (w_norm / r_norm).view(-1, *([1] * (p.dim() - 1)))
            d.append(r)
        directions.append(d)
    return directions[0], directions[1]


@torch.no_grad()
def surface(model: nn.Module, loss_fn: Loss, d1: list[torch.Tensor], d2: list[torch.Tensor],
            grid: int = 21, span: float = 1.0,
            progress: Callable[[int, int], bool] | None = None) -> dict:
    """Loss on a ``grid`` x ``grid`` lattice of ``w + a d1 + b d2``, a, b in [-span, span].

    ``progress(done, total)`` is called after each row; returning False cancels (the
    rows done so far are returned, the rest NaN). Returns the axes, the (grid, grid)
    losses (row = b, column = a) and the centre's loss.
    """
    axis = np.linspace(-span, span, grid)
    losses = np.full((grid, grid), np.nan)
    model.train()
    with _probing(model) as w0:
        params = weighted_params(model)
        for row, b in enumerate(axis):
            for col, a in enumerate(axis):
                for p, w, u, v in zip(params, w0, d1, d2):
                    torch.add(w, u, alpha=float(a), out=p)
                    p.add_(v, alpha=float(b))
                losses[row, col] = float(loss_fn(model))
            if progress is not None and progress((row + 1) * grid, grid * grid) is False:
                break
    centre = losses[grid // 2, grid // 2] if grid % 2 else float("nan")
    return {"a": axis, "b": axis, "loss": losses, "centre_loss": centre}


@torch.no_grad()
def interpolate(model: nn.Module, loss_fn: Loss, start: list[torch.Tensor],
                end: list[torch.Tensor], points: int = 41, margin: float = 0.25) -> dict:
    """Loss at ``(1 - t) start + t end`` for t in [-margin, 1 + margin] (weighted params;
    the rest as the model has them)."""
    ts = np.linspace(-margin, 1.0 + margin, points)
    losses = np.empty(points)
    model.train()
    with _probing(model):
        params = weighted_params(model)
        for i, t in enumerate(ts):
            for p, w0, w1 in zip(params, start, end):
                torch.lerp(w0, w1, float(t), out=p)
            losses[i] = float(loss_fn(model))
    return {"t": ts, "loss": losses}


def hessian_extremes(model: nn.Module, loss_fn: Loss, iterations: int = 30,
                     seed: int = 0) -> tuple[float, float]:
    """(lambda_max, lambda_min) of the loss Hessian over `weighted_params`, at ``w``.

    Power iteration gives the eigenvalue of largest magnitude; a second one on
    ``H - lambda_max I`` gives the other end of the spectrum.
    """
    params = weighted_params(model)
    model.train()
    with _probing(model):
        loss = loss_fn(model)
        grads = torch.autograd.grad(loss, params, create_graph=True)

        def hvp(v: list[torch.Tensor]) -> list[torch.Tensor]:
            dot = sum((g * x).sum() for g, x in zip(grads, v))
            return [h.detach() for h in torch.autograd.grad(dot, params, retain_graph=True)]

        def power(shift: float) -> float:
            gen = torch.Generator().manual_seed(seed)
            v = [torch.randn(p.shape, generator=gen).to(p.device) for p in params]
            value = 0.0
            for _ in range(iterations):
                norm = torch.sqrt(sum((x * x).sum() for x in v))
                v = [x / norm for x in v]
                hv = [h - shift * x for h, x in zip(hvp(v), v)]
                value = float(sum((h * x).sum() for h, x in zip(hv, v)))  # Rayleigh
                v = hv
            return value + shift

        top = power(0.0)
        other = power(top)
    return (top, other) if top >= other else (other, top)


def local_minima_share(losses: np.ndarray) -> float:
    """Share of interior grid points lower than all 8 neighbours (a chaotic surface has
    many; a smooth bowl has one)."""
    inner = losses[1:-1, 1:-1]
    lower = np.ones_like(inner, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                neighbour = losses[1 + dy:losses.shape[0] - 1 + dy,
                                   1 + dx:losses.shape[1] - 1 + dx]
                lower &= inner < neighbour
    return float(lower.mean())


def roughness(losses: np.ndarray) -> float:
    """Mean |discrete Laplacian| of the surface over its loss range: about 0.1 for a
    smooth bowl on a 21 x 21 grid, twice that and more for a chaotic one."""
    inner = (losses[2:, 1:-1] + losses[:-2, 1:-1] + losses[1:-1, 2:] + losses[1:-1, :-2]
             - 4 * losses[1:-1, 1:-1])
    finite = np.abs(inner[np.isfinite(inner)])  # a cancelled grid has NaN rows
    if finite.size == 0:
        return float("nan")
    span = float(np.nanmax(losses) - np.nanmin(losses))
    return float(finite.mean() / span) if span > 0 else 0.0
