"""Stable names for layers: the probe points, module names and report keys.

A layer's name is its own ``name`` when set, else a short kind prefix and its
1-based position (``fc1``, ``conv2``, ``res3``; inner layers ``res3.fc1``).
Position-based names keep checkpoints and reports readable and unique.
"""

from __future__ import annotations

from .model import NetworkDesign

PREFIX = {"dense": "fc", "conv2d": "conv", "maxpool": "maxpool", "avgpool": "avgpool",
          "flatten": "flatten", "residual": "res", "rnn": "rnn", "lstm": "lstm", "gru": "gru"}


def auto_name(kind: str, index: int) -> str:
    """The automatic name of a layer of ``kind`` at 0-based ``index``."""
    return f"{PREFIX.get(kind, 'layer')}{index + 1}"


def layer_names(design: NetworkDesign) -> dict[tuple, str]:
    """Map every layer path ``(i,)`` / ``(i, j)`` to its (dotted) name."""
    names: dict[tuple, str] = {}
    for i, layer in enumerate(design.layers):
        outer = layer.name if isinstance(layer.name, str) and layer.name else auto_name(
            layer.kind, i)
        names[(i,)] = outer
        for j, sub in enumerate(layer.layers):
            inner = sub.name if isinstance(sub.name, str) and sub.name else auto_name(sub.kind, j)
            names[(i, j)] = f"{outer}.{inner}"
    return names


def duplicate_names(design: NetworkDesign) -> list[tuple]:
    """Paths whose name repeats an earlier one."""
    seen, dups = set(), []
    for path, name in layer_names(design).items():
        if name in seen or name == "head":
            dups.append(path)
        seen.add(name)
    return dups
