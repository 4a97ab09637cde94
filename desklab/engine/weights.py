"""Saving and loading weights: state_dicts only, never arbitrary pickles."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from ..design.fileformat import atomic_replace


def save_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """``torch.save`` of the state_dict (on the CPU), atomically."""
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        atomic_replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a state_dict with ``weights_only=True``: tensors only, no code runs."""
    return torch.load(path, map_location="cpu", weights_only=True)
