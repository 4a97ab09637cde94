"""The loss landscape of a design: train (or load weights), then measure its surface.

`landscape_report` is what ``desklab landscape`` prints and writes as JSON: the 2-D
surface over two filter-normalised random directions, the 1-D slice through its
centre, the interpolation from the initial to the current weights, and the numbers
that say how smooth it is (local-minima share, roughness, |lambda_min / lambda_max|).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..design import NetworkDesign
from .landscape import (hessian_extremes, interpolate, local_minima_share, random_directions,
                        roughness, surface, weighted_params)
from .optim import task_loss
from .trainer import Trainer
from .weights import apply_weights

EVAL_BATCH = 512  # examples in the fixed evaluation batch


def landscape_report(design: NetworkDesign, steps: int | None = None,
                     weights: dict[str, torch.Tensor] | None = None, grid: int = 21,
                     span: float = 1.0, seed: int = 0,
                     progress: Callable[[int, int], bool] | None = None) -> dict:
    """Train ``design`` for ``steps`` (its own setting by default; 0 = at init) or load
    ``weights``, then measure the landscape at the weights reached."""
    design = design.copy()
    design.train.probe_every = 0
    design.train.steps = max(1, design.train.steps if steps is None else steps)
    trainer = Trainer(design)
    initial = [p.detach().clone() for p in weighted_params(trainer.model)]
    if weights is not None:
        apply_weights(trainer.model, weights, "the weights")
        trained = "loaded weights"
    elif steps == 0:
        trained = "at init"
    else:
        trainer.run()
        trained = f"after {trainer.step} steps ({trainer.state})"
    model, data = trainer.model, trainer.data
    x = data.eval_batch(data.x_train[:EVAL_BATCH].to(trainer.device))
    y = data.y_train[:EVAL_BATCH].to(trainer.device)

    def loss_fn(m):
        return task_loss(m(x), y, data.task)

    d1, d2 = random_directions(model, seed)
    grid_result = surface(model, loss_fn, d1, d2, grid, span, progress)
    losses = grid_result["loss"]
    current = [p.detach().clone() for p in weighted_params(model)]
    line = interpolate(model, loss_fn, initial, current)
    lam_max, lam_min = hessian_extremes(model, loss_fn, seed=seed)
    return {
        "format": "desklab.landscape/1", "design": design.name, "weights": trained,
        "grid": grid, "span": span, "seed": seed,
        "a": grid_result["a"].tolist(), "b": grid_result["b"].tolist(),
        "loss": [[_num(v) for v in row] for row in losses],
        "slice_a": [_num(v) for v in losses[grid // 2]],  # the row through the centre
        "interpolation": {"t": line["t"].tolist(), "loss": [_num(v) for v in line["loss"]]},
        # null where not a number (a diverged run's surface): JSON has no NaN
        "summary": {"centre_loss": _num(grid_result["centre_loss"]),
                    "local_minima_share": local_minima_share(losses)
                    if np.isfinite(losses[1:-1, 1:-1]).any() else None,
                    "roughness": _num(roughness(losses)),
                    "lambda_max": _num(lam_max), "lambda_min": _num(lam_min),
                    "abs_min_over_max": _num(abs(lam_min / lam_max))
                    if lam_max and np.isfinite(lam_max) else None},
    }


def summary_text(value, spec: str, missing: str = "not a number") -> str:
    """A summary number as text; ``missing`` for null (not finite)."""
    return missing if value is None else format(value, spec)


def _num(v) -> float | None:
    return float(v) if np.isfinite(v) else None
