"""Edits on a design as pure functions: what the editor's undo commands apply.

Paths address layers: ``(i,)`` is top-level layer i, ``(i, j)`` inner layer j of
residual block i. A destination is ``(parent, index)``: ``parent`` is ``()`` for
the top level or ``(i,)`` for block i's inner list. Field names are those that
`analyze` reports problems under (``units``, ``activation.slope``, ``init.std``,
``input.noise``, ``train.lr``...), so the inspector can show each problem next
to its field.
"""

from __future__ import annotations

from typing import Any

from .catalog import DATASETS, LAYER_KINDS
from .model import LayerSpec, NetworkDesign


def _siblings(design: NetworkDesign, parent: tuple) -> list[LayerSpec]:
    return design.layers if parent == () else design.layer_at(parent).layers


def can_move(design: NetworkDesign, path: tuple, delta: int) -> bool:
    """Whether the layer at ``path`` can move ``delta`` places within its own list."""
    return 0 <= path[-1] + delta < len(_siblings(design, path[:-1]))


def insert_layer(design: NetworkDesign, parent: tuple, index: int, layer: LayerSpec) -> tuple:
    """Insert ``layer`` at ``index`` of ``parent``'s list; returns its path."""
    if parent and layer.kind == "residual":
        raise ValueError("residual blocks cannot be nested")
    siblings = _siblings(design, parent)
    index = max(0, min(index, len(siblings)))
    siblings.insert(index, layer)
    return parent + (index,)


def remove_layers(design: NetworkDesign, paths: list[tuple]) -> list[LayerSpec]:
    """Remove the layers at ``paths`` (inner layers of removed blocks go with them)."""
    paths = _outermost(paths)
    removed = []
    for path in sorted(paths, reverse=True):  # deepest / last first keeps indices valid
        siblings = _siblings(design, path[:-1])
        removed.append(siblings.pop(path[-1]))
    return removed[::-1]


def _outermost(paths: list[tuple]) -> list[tuple]:
    """Drop paths inside a block that is itself in ``paths``."""
    chosen = set(paths)
    return [p for p in dict.fromkeys(paths) if not (len(p) == 2 and (p[0],) in chosen)]


def move_layers(design: NetworkDesign, paths: list[tuple], parent: tuple,
                index: int) -> list[tuple]:
    """Move the layers at ``paths`` to ``index`` in ``parent``'s list, keeping their order.

    ``index`` counts positions in the list before the move. Returns the new paths.
    """
    paths = sorted(_outermost(paths))
    if parent and any(design.layer_at(p).kind == "residual" for p in paths):
        raise ValueError("residual blocks cannot be nested")
    if parent and parent in paths:
        raise ValueError("a block cannot be moved into itself")
    # positions before the target in the same list shift the index down when removed
    shift = sum(1 for p in paths if p[:-1] == parent and p[-1] < index)
    moved = remove_layers(design, paths)
    if parent:  # the block itself may have moved up after removals at the top level
        parent = (parent[0] - sum(1 for p in paths if len(p) == 1 and p[0] < parent[0]),)
    start = index - shift
    siblings = _siblings(design, parent)
    start = max(0, min(start, len(siblings)))
    siblings[start:start] = moved
    return [parent + (start + k,) for k in range(len(moved))]


def duplicate_layers(design: NetworkDesign, paths: list[tuple]) -> list[tuple]:
    """Copy each layer right after the last of ``paths``; returns the copies' paths."""
    paths = sorted(_outermost(paths))
    if not paths:
        return []
    copies = [design.layer_at(p).copy() for p in paths]
    for c in copies:
        c.name = ""  # a copied name would clash
    last = paths[-1]
    siblings = _siblings(design, last[:-1])
    at = last[-1] + 1
    siblings[at:at] = copies
    return [last[:-1] + (at + k,) for k in range(len(copies))]


def get_field(design: NetworkDesign, path: tuple, name: str) -> Any:
    """The current value of field ``name`` at ``path`` (see the module docstring)."""
    target, key = _locate(design, path, name)
    if isinstance(target, dict):
        if key in target:
            return target[key]
        return _default(design, path, name)
    return getattr(target, key)


def set_field(design: NetworkDesign, path: tuple, name: str, value: Any) -> None:
    """Set field ``name`` at ``path``. Choosing another activation, init or dataset resets
    its settings to that entry's defaults (old settings would not fit)."""
    target, key = _locate(design, path, name)
    if isinstance(target, dict):
        target[key] = value
        return
    setattr(target, key, value)
    if key == "activation" and isinstance(target, LayerSpec):
        target.activation_params = {}
    elif key == "init":
        target.init_params = {}
    elif key == "dataset":
        target.params = {}


def _locate(design: NetworkDesign, path: tuple, name: str):
    if path == ():
        if name in ("name", "description"):
            return design, name
        section, _, key = name.partition(".")
        if section == "input":
            if key in ("dataset", "val_fraction", "preprocess"):
                return design.input, key
            return design.input.params, key
        if section == "train":
            return design.train, key
        raise KeyError(name)
    if path == ("output",):
        head, _, key = name.partition(".")
        if head == "init" and key:
            return design.output.init_params, key
        return design.output, name
    layer = design.layer_at(path)
    head, _, key = name.partition(".")
    if head == "activation" and key:
        return layer.activation_params, key
    if head == "init" and key:
        return layer.init_params, key
    if name in {p.name for p in LAYER_KINDS[layer.kind].params}:
        return layer.params, name
    return layer, name


def _default(design: NetworkDesign, path: tuple, name: str) -> Any:
    from .catalog import ACTIVATIONS, INITS
    head, _, key = name.partition(".")
    if path == ():
        return DATASETS[design.input.dataset].param(key).default
    if path == ("output",):
        return INITS[design.output.init].param(key).default
    layer = design.layer_at(path)
    if head == "activation":
        return ACTIVATIONS[layer.activation].param(key).default
    if head == "init":
        return INITS[layer.init].param(key).default
    return LAYER_KINDS[layer.kind].param(name).default
