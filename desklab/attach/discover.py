"""Which modules of a user's model are measured, and what they are.

By default: every leaf module that owns parameters (Linear, Conv, BatchNorm...) and
every activation module (ReLU, GELU, Tanh...). ``layers=`` picks others by module path
(``"features.0"``) or by type (``nn.ReLU``). The first forward pass shows each one's
output shape and how many times it is called per forward: torchvision's ResNet calls
one ReLU twice per block. A module called several times is measured at its FIRST call
of each probed forward (activation and dL/dh of that same call); the module tree says
how many calls there were.
"""

from __future__ import annotations

import torch
from torch import nn

from ..design.catalog import ACTIVATIONS
from ..engine.build import ProbePoint

# torch class name -> catalog activation (histogram range, bounds for saturation)
_BY_TORCH_CLASS = {e.meta["torch"]: e.name for e in ACTIVATIONS}
ACTIVATION_TYPES = tuple(getattr(nn, name) for name in _BY_TORCH_CLASS
                         if isinstance(getattr(nn, name, None), type) and name != "Identity")


def unwrap(model: nn.Module) -> nn.Module:
    """The user's module inside DistributedDataParallel / DataParallel wrappers."""
    while isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        model = model.module
    return model


def candidates(model: nn.Module, layers=None) -> list[tuple[str, nn.Module]]:
    """(path, module) of the modules to measure, in registration order."""
    picked = []
    for name, module in model.named_modules():
        if not name:
            continue
        if layers is None:
            own = any(True for _ in module.parameters(recurse=False))
            leaf = not any(True for _ in module.children())
            take = leaf and (own or isinstance(module, ACTIVATION_TYPES))
        else:
            take = any(name == sel if isinstance(sel, str) else isinstance(module, sel)
                       for sel in layers)
        if take:
            picked.append((name, module))
    return picked


class Discovery:
    """Forward hooks for the first forward: output shape and calls per module."""

    def __init__(self, picked: list[tuple[str, nn.Module]]):
        self.picked = picked
        self.seen: dict[str, dict] = {}
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in picked]

    def _hook(self, name):
        def hook(module, inputs, output):
            info = self.seen.setdefault(name, {"calls": 0})
            info["calls"] += 1
            if info["calls"] == 1 and isinstance(output, torch.Tensor):
                info["shape"] = tuple(output.shape[1:])
                info["float"] = output.is_floating_point()
        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def points(self) -> list[ProbePoint]:
        """Probe points for the modules that gave a floating-point tensor."""
        points = []
        for name, module in self.picked:
            info = self.seen.get(name)
            if not info or not info.get("float"):
                continue  # never called, or not a float tensor (indices, tuples)
            act = _BY_TORCH_CLASS.get(type(module).__name__, "identity")
            entry = ACTIVATIONS[act]
            weight = getattr(module, "weight", None)
            points.append(ProbePoint(
                name, type(module).__name__, act, module,
                weight if isinstance(weight, nn.Parameter) else None,
                entry.meta["hist"], entry.meta["bounds"], info["shape"],
                sum(p.numel() for p in module.parameters(recurse=False))))
        return points

    def tree(self, model: nn.Module) -> list[dict]:
        """The whole module tree, read-only, for the app's Network panel."""
        rows = []
        for name, module in model.named_modules():
            info = self.seen.get(name, {})
            rows.append({"name": name or "(model)", "type": type(module).__name__,
                         "params": sum(p.numel() for p in module.parameters(recurse=False)),
                         "out_shape": list(info["shape"]) if "shape" in info else None,
                         "calls": info.get("calls", 0),
                         "depth": name.count(".") + 1 if name else 0})
        return rows
