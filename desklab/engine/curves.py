"""Curves of activations for the inspector: f(x) and f'(x) from the real modules."""

from __future__ import annotations

import numpy as np
import torch

from .activations import make_activation


def activation_curve(name: str, params: dict | None = None, lo: float = -5.0, hi: float = 5.0,
                     points: int = 201) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, f(x) and f'(x) of catalog activation ``name``, by autograd on the module itself.

    Maxout has no scalar form: it is shown for k pieces of slopes 1 and -1 (|x|-like,
    the max of the pieces), which is what a unit can represent with two pieces.
    """
    module = make_activation(name, params)
    x = torch.linspace(lo, hi, points, requires_grad=True)
    if name == "maxout":
        k = module.k
        slopes = torch.linspace(1.0, -1.0, k)
        y = module((x[:, None] * slopes[None, :]).reshape(points, k))[:, 0]
    else:
        y = module(x[:, None])[:, 0]
    (grad,) = torch.autograd.grad(y.sum(), x)
    return x.detach().numpy(), y.detach().numpy(), grad.numpy()
