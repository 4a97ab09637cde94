"""Which modules of a user's model are measured, and what they are.

By default: every module that owns parameters (Linear, Conv, BatchNorm, LSTM,
MultiheadAttention...) and every activation module (ReLU, GELU, Tanh...). What a module
returns is measured as `engine.outputs` says: its first floating tensor (an LSTM's
output sequence, the attention output), with a sequence's features as the units.
``layers=`` picks others by exact module path (``"features.0"``) or by type
(``nn.ReLU``); an entry that matches nothing is refused. The first forward shows each one's
output shape and how many times it is called per forward: torchvision's ResNet calls
one ReLU twice per block. A module called several times is measured at its FIRST call
of each probed forward (activation and dL/dh of that same call); the module tree says
how many calls there were.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..design.catalog import ACTIVATIONS
from ..engine.build import ProbePoint
from ..engine.outputs import first_float
from .compiled import is_compiled
from .shield import Shield
from .through_time import TimeTap

# torch class name -> catalog activation (histogram range, bounds for saturation)
_BY_TORCH_CLASS = {e.meta["torch"]: e.name for e in ACTIVATIONS}
ACTIVATION_TYPES = tuple(getattr(nn, name) for name in _BY_TORCH_CLASS
                         if isinstance(getattr(nn, name, None), type) and name != "Identity")


def unwrap(model: nn.Module) -> tuple[nn.Module, bool]:
    """The user's module inside DistributedDataParallel / DataParallel and
    ``torch.compile`` wrappers, and whether one of them was a compile."""
    compiled = False
    while True:
        if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            model = model.module
        elif is_compiled(model):
            model, compiled = model._orig_mod, True
        else:
            return model, compiled


def candidates(model: nn.Module, layers=None) -> list[tuple[str, nn.Module]]:
    """(path, module) of the modules to measure, in registration order.

    A ``layers`` entry that matches no module (a typo, a prefix, a glob) is a
    ValueError naming it and the nearest module paths: it would record nothing."""
    picked, used = [], set()
    for name, module in model.named_modules():
        if not name:
            continue
        if layers is None:
            own = any(True for _ in own_parameters(module))
            leaf = not any(True for _ in module.children())
            # every module owning parameters, leaf or not (MultiheadAttention owns
            # in_proj_weight beside its out_proj child), and leaf activations; not a
            # parametrization's list (weight_norm's, spectral_norm's): it computes
            # its module's weight, which is no activation
            take = (own and not isinstance(module, parametrize.ParametrizationList)) or (
                leaf and isinstance(module, ACTIVATION_TYPES))
        else:
            hits = [i for i, sel in enumerate(layers) if (name == sel if isinstance(sel, str)
                                                          else isinstance(module, sel))]
            used.update(hits)
            take = bool(hits)
        if take:
            picked.append((name, module))
    unmatched = [sel for i, sel in enumerate(layers or ()) if i not in used]
    if unmatched:
        import difflib
        names = [n for n, _ in model.named_modules() if n]
        first = unmatched[0]
        near = difflib.get_close_matches(str(first), names, n=3, cutoff=0.4) if isinstance(
            first, str) else []
        raise ValueError(f"layers={first!r} matches no module of the model (module paths "
                         f"are exact, like {', '.join(near or names[:3])!s})")
    return picked


# modules whose 3-D output is (batch, channels, length): their units are the channels
_CHANNELS_FIRST = (nn.Conv1d, nn.ConvTranspose1d, nn.BatchNorm1d, nn.InstanceNorm1d,
                   nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d)


def own_parameters(module: nn.Module):
    """(name, parameter) the module owns: its own, and those its parametrizations keep
    for it (weight_norm's ``parametrizations.weight.original0/1``)."""
    yield from module.named_parameters(recurse=False)
    if parametrize.is_parametrized(module):
        yield from module.parametrizations.named_parameters(prefix="parametrizations")


def _weight_of(module: nn.Module) -> tuple[str, nn.Parameter | None]:
    """The parameter measured as the module's weight: ``weight``; for recurrent layers
    the first layer's recurrent matrix ``weight_hh_l0`` (the one backpropagation through
    time multiplies by at every step); a parametrized weight's largest original (the
    trained one: spectral_norm's unnormalized matrix, weight_norm's direction v); else
    the module's largest own parameter (MultiheadAttention: ``in_proj_weight``)."""
    if parametrize.is_parametrized(module, "weight"):
        originals = module.parametrizations.weight.named_parameters(
            prefix="parametrizations.weight")
        return max(originals, key=lambda item: item[1].numel())
    weight = getattr(module, "weight", None)
    if isinstance(weight, nn.Parameter):
        return "weight", weight
    if isinstance(module, nn.RNNBase):
        return "weight_hh_l0", module.weight_hh_l0
    own = list(own_parameters(module))
    if not own:
        return "", None
    name, param = max(own, key=lambda item: item[1].numel())
    return name, param


class Discovery:
    """Forward hooks for the first forward: output shape and calls per module."""

    def __init__(self, picked: list[tuple[str, nn.Module]], time_dim: int | None,
                 shield: Shield):
        self.picked = picked
        self.shield = shield  # the hooks run inside the user's first step
        self.time_dim = time_dim  # measure other sequence modules' dL/d(output) by position
        self.seen: dict[str, dict] = {}
        self._last_layout: tuple[tuple, bool] | None = None  # the previous output's
        self._handles = [m.register_forward_hook(self.shield.guard(self._hook(name)))
                         for name, m in picked]

    def _hook(self, name):
        def hook(module, inputs, output):
            info = self.seen.setdefault(name, {"calls": 0})
            info["calls"] += 1
            if info["calls"] != 1:
                return
            found, where = first_float(output)
            # a scalar (a penalty or a loss a module returns) has no units to measure
            info["float"] = found is not None and found.dim() >= 1
            if not info["float"]:
                return
            info["shape"], info["part"] = tuple(found.shape[1:]), where
            info["units_last"] = self._units_last(module, found)
            if isinstance(module, nn.RNNBase) and found.dim() == 3:  # (B, T, H) or (T, B, H)
                info["time_steps"] = found.shape[1 if module.batch_first else 0]
            elif self.time_dim is not None and found.dim() > max(self.time_dim, 2):
                info["time_steps"] = found.shape[self.time_dim]
            self._last_layout = (tuple(found.shape), info["units_last"])
        return hook

    def _units_last(self, module: nn.Module, t: torch.Tensor) -> bool:
        """A 3-D output is a sequence (features last) unless its module is channels-first;
        a parameter-free module (an activation) keeps the layout of the output before it
        when it has the same shape (a ReLU after a Conv1d measures channels)."""
        if t.dim() != 3 or isinstance(module, _CHANNELS_FIRST):
            return False
        if not any(True for _ in module.parameters(recurse=False)) and \
                self._last_layout is not None and self._last_layout[0] == tuple(t.shape):
            return self._last_layout[1]
        return True

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def points(self) -> list[ProbePoint]:
        """Probe points for the modules that gave a floating-point tensor, input to
        output: in the order of their first call (a ReLU made once, last in
        ``__init__``, and called after each layer sat after the head: the depth plots
        and the vanishing / exploding rules read the rows in this order)."""
        points, called = [], {name: i for i, name in enumerate(self.seen)}
        for name, module in sorted(self.picked, key=lambda item: called.get(item[0], -1)):
            info = self.seen.get(name)
            if not info or not info.get("float"):
                continue  # never called, or not a float tensor (indices, tuples)
            act = _BY_TORCH_CLASS.get(type(module).__name__, "identity")
            entry = ACTIVATIONS[act]
            steps, rnn = info.get("time_steps", 0), isinstance(module, nn.RNNBase)
            points.append(ProbePoint(
                name, type(module).__name__, act, module, _weight_of(module)[1],
                entry.meta["hist"], entry.meta["bounds"], info["shape"],
                sum(p.numel() for _, p in own_parameters(module)),
                units_last=info["units_last"], time_steps=steps,
                recurrent=TimeTap(module, self.shield) if steps and rnn else None,
                time_dim=self.time_dim if steps and not rnn else None))
        return points

    def tree(self, model: nn.Module) -> list[dict]:
        """The whole module tree, read-only, for the app's Network panel."""
        rows = []
        for name, module in model.named_modules():
            info = self.seen.get(name, {})
            rows.append({"name": name or "(model)", "type": type(module).__name__,
                         "params": sum(p.numel() for p in module.parameters(recurse=False)),
                         "out_shape": list(info["shape"]) if "shape" in info else None,
                         # what was measured: output part, units axis, the weight taken
                         "measured": {"output": f"output{info['part']}",
                                      "units": "last axis" if info["units_last"] else
                                      "axis 1", "weight": _weight_of(module)[0]}
                         if "part" in info else None,
                         "calls": info.get("calls", 0),
                         "depth": name.count(".") + 1 if name else 0})
        return rows


class ProbePoints:
    """What `Prober` needs of a model: its probe points."""

    def __init__(self, points):
        self.probe_points = points
