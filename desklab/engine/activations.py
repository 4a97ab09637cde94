"""Activation modules built from catalog entries (the two torch lacks are in modules.py)."""

from __future__ import annotations

from torch import nn

from ..design.catalog import ACTIVATIONS
from .modules import BinaryStep, Maxout


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
