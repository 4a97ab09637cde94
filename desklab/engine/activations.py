"""Activation modules built from catalog entries, plus the two torch lacks."""

from __future__ import annotations

import torch
from torch import nn

from ..design.catalog import ACTIVATIONS


class BinaryStep(nn.Module):
    """f(x) = 1 where x > 0, else 0. Its derivative is 0 everywhere (and undefined at 0),
    so no gradient flows back through it: the point of the lesson."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Multiplying by zero keeps the graph connected so the backward pass runs and
        # reports exact zeros instead of "does not require grad".
        return (x > 0).to(x.dtype) + 0.0 * x


class Maxout(nn.Module):
    """Max over ``k`` pieces: (B, C*k, ...) -> (B, C, ...), keeping the largest of each group."""

    def __init__(self, k: int = 2):
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, ck = x.shape[:2]
        pieces = x.view(b, ck // self.k, self.k, *x.shape[2:])  # (B, C, k, ...)
        return pieces.amax(dim=2)

    def extra_repr(self) -> str:
        return f"k={self.k}"


CUSTOM = {"BinaryStep": BinaryStep, "Maxout": Maxout}


def make_activation(name: str, params: dict | None = None) -> nn.Module:
    """The module for catalog activation ``name`` with its settings.

    The entry's ``meta["torch"]`` names a ``torch.nn`` class (or one above) and
    ``meta["args"]`` maps catalog setting names to constructor keywords.
    """
    entry = ACTIVATIONS[name]
    values = entry.resolve(params)
    cls = CUSTOM.get(entry.meta["torch"]) or getattr(nn, entry.meta["torch"])
    kwargs = {kw: values[key] for key, kw in entry.meta.get("args", {}).items()}
    return cls(**kwargs)
