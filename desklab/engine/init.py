"""Weight init schemes from the catalog, applied to a weight tensor."""

from __future__ import annotations

import torch

from ..design.catalog import INITS
from .modules import init_


def apply_init(weight: torch.Tensor, bias: torch.Tensor | None, name: str,
               params: dict | None = None) -> None:
    """Initialise ``weight`` by catalog scheme ``name``; named schemes zero the bias.

    ``default`` leaves PyTorch's own initialisation of both untouched.
    """
    entry = INITS[name]
    if entry.meta["torch"] is None:
        return
    values = entry.resolve(params)
    init_(weight, bias, entry.meta["torch"],
          **{kw: values[key] for key, kw in entry.meta.get("args", {}).items()})
