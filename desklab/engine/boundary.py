"""What a model does over its inputs: the decision boundary of a 2-D classifier (class
probabilities on a grid), or the curve of a regression of one input."""

from __future__ import annotations

import numpy as np
import torch

GRID = 80  # points per side


def drawn_over(data) -> bool:
    """Whether a run's data has a drawing over its inputs: 2-D points (the decision
    boundary), or one input to one target (the regression's curve through the data)."""
    x, y = data.x_train, data.y_train
    one_d = data.task == "regression" and y.dim() == 2 and y.shape[1] == 1 \
        and x.dim() == 2 and x.shape[1] == 1
    return x.dim() == 2 and (x.shape[1] == 2 or one_d)


def over_inputs(model, x_train: torch.Tensor) -> dict | None:
    """The decision grid of 2-D inputs, else the curve of one input (see drawn_over)."""
    draw = decision_grid if x_train.shape[1] == 2 else fit_curve
    return draw(model, x_train)


@torch.no_grad()
def decision_grid(model, x_train: torch.Tensor, grid: int = GRID) -> dict | None:
    """Predicted class and its probability over the data's bounding box (2-D inputs only).

    Returns ``{"extent": (x0, x1, y0, y1), "label": (grid, grid) int, "prob": (grid, grid)}``
    with rows along y, or None for inputs that are not 2-D points.
    """
    if x_train.dim() != 2 or x_train.shape[1] != 2:
        return None
    lo = x_train.min(0).values.cpu().numpy() - 0.5
    hi = x_train.max(0).values.cpu().numpy() + 0.5
    xs = np.linspace(lo[0], hi[0], grid, dtype=np.float32)
    ys = np.linspace(lo[1], hi[1], grid, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)  # (grid, grid), rows along y
    points = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1)).to(x_train.device)
    out = _in_eval_mode(model, points)
    if out.shape[1] == 1:  # regression: show the output value
        value = out[:, 0].cpu().numpy().reshape(grid, grid)
        return {"extent": (lo[0], hi[0], lo[1], hi[1]), "label": np.zeros_like(value, int),
                "prob": value}
    prob = torch.softmax(out, 1)
    best = prob.max(1)
    return {"extent": (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])),
            "label": best.indices.cpu().numpy().reshape(grid, grid),
            "prob": best.values.cpu().numpy().reshape(grid, grid)}


CURVE_POINTS = 200  # inputs along a 1-D regression's curve


@torch.no_grad()
def fit_curve(model, x_train: torch.Tensor, points: int = CURVE_POINTS) -> dict | None:
    """The model's output along its one input, over the data's range and a margin.

    Returns ``{"curve": (x (P,), y (P,))}`` for (N, 1) inputs and one output, else None.
    """
    if x_train.dim() != 2 or x_train.shape[1] != 1:
        return None
    lo, hi = float(x_train.min()), float(x_train.max())
    margin = 0.05 * (hi - lo)
    xs = torch.linspace(lo - margin, hi + margin, points, device=x_train.device)[:, None]
    out = _in_eval_mode(model, xs)  # (P, 1)
    if out.dim() != 2 or out.shape[1] != 1:
        return None
    return {"curve": (xs[:, 0].cpu().numpy(), out[:, 0].cpu().numpy())}


def _in_eval_mode(model, inputs: torch.Tensor) -> torch.Tensor:
    """The model's outputs for ``inputs`` in eval mode (BatchNorm's running statistics,
    no dropout), its training mode restored after, whatever happens."""
    was_training = model.training
    model.eval()
    try:
        return model(inputs)
    finally:
        model.train(was_training)
