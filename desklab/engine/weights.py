"""Saving and loading weights: state_dicts only, never arbitrary pickles."""

from __future__ import annotations

import os

import torch
from torch import nn

from ..design.fileformat import atomic_path


def save_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """``torch.save`` of the state_dict (on the CPU), atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a state_dict with ``weights_only=True``: tensors only, no code runs."""
    return torch.load(path, map_location="cpu", weights_only=True)
