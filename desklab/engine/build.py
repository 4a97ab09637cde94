"""Design -> nn.Module, with one named probe point per layer.

Every layer becomes a ``modules.Block`` (op -> [norm] -> activation -> [norm] ->
probe -> dropout), residual blocks a ``modules.Residual``, the output a ``modules.Head``.
This file only reads the design and the catalog; the torch code itself lives in
``modules.py``, which the exporter copies verbatim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from ..design import LAYER_KINDS, NetworkDesign, analyze
from ..design.shapes import shortcut_module, width_multiplier
from ..design.catalog import ACTIVATIONS, RECURRENT_KINDS
from ..design.model import LayerSpec
from ..errors import DeskLabError
from .activations import make_activation
from .init import apply_init
from .modules import Block, Head, Net, Recurrent, Residual, init_recurrent_, make_norm
from .rng import RngStream


class DesignInvalidError(DeskLabError, ValueError):
    """The design has validation problems and cannot be built."""


@dataclass(frozen=True)
class ProbePoint:
    """Where a layer is measured: its probe module and the weight it owns (if any)."""

    name: str
    kind: str
    activation: str
    module: nn.Module  # the nn.Identity whose output is the layer's activation
    weight: nn.Parameter | None
    hist_range: tuple[float, float]
    bounds: tuple[float, float] | None
    out_shape: tuple
    params: int
    init: str = ""  # the layer's init scheme ("" when unknown: a user's own model)
    units_last: bool = False  # a sequence (…, features): units are the last axis
    time_steps: int = 0  # T of a recurrent layer whose dL/dh_t is measured (else 0)
    recurrent: object | None = None  # what takes the time hook (modules.Recurrent...)
    time_dim: int | None = None  # else: dL/d(output) per position along this axis
    # DeskLab's own identity: `modules.probed` hands it the output directly while the
    # prober measures (a module hook, attached and removed each probe, cost ~4 us a layer)
    tappable: bool = False


def _recurrent(layer: LayerSpec, in_shape: tuple) -> Recurrent:
    """A recurrent layer over (T, F) inputs: W_ih by the layer's init, W_hh by its own."""
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    op = getattr(nn, LAYER_KINDS[layer.kind].meta["torch"])(
        in_shape[-1], p["hidden"], p["num_layers"], batch_first=True,
        bidirectional=p["bidirectional"])
    for name, param in op.named_parameters():
        if name.startswith("weight_ih"):
            apply_init(param, None, layer.init, layer.init_params)
    init_recurrent_(op, p["recurrent_init"], p["recurrent_gain"], p.get("forget_bias"))
    return Recurrent(op, p["returns"] == "last")


def _block(layer: LayerSpec, in_shape: tuple) -> Block:
    """The module of one (non-residual) layer, initialised by its catalog scheme."""
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    if layer.kind in RECURRENT_KINDS:
        return _recurrent(layer, in_shape)
    if not LAYER_KINDS[layer.kind].meta["weighted"]:
        op = {"maxpool": lambda: nn.MaxPool2d(p["window"], p["stride"]),
              "avgpool": lambda: nn.AvgPool2d(p["window"], p["stride"]),
              "flatten": nn.Flatten}[layer.kind]()
        return Block(op)
    mult = width_multiplier(layer)
    image = layer.kind == "conv2d"
    if image:
        width = p["filters"] * mult
        op = nn.Conv2d(in_shape[0], width, p["kernel"], p["stride"], p["padding"],
                       bias=layer.bias)
    else:
        width = p["units"] * mult
        op = nn.Linear(in_shape[0], width, bias=layer.bias)
    norm = None
    if layer.norm != "none":
        # after a maxout activation there are width / k features left to normalise
        features = width if layer.norm_position == "before" else width // mult
        norm = make_norm(layer.norm, features, image)
    block = Block(op, make_activation(layer.activation, layer.activation_params), norm,
                  layer.norm_position == "before", layer.dropout)
    apply_init(op.weight, op.bias, layer.init, layer.init_params)
    return block


def _residual(layer: LayerSpec, inner: dict[str, Block], in_shape: tuple,
              out_shape: tuple) -> Residual:
    spec = shortcut_module(layer, in_shape, out_shape)
    if spec is None:
        shortcut = nn.Identity()
    else:
        cls, args = spec
        shortcut = getattr(nn, cls)(*args, bias=False)
        apply_init(shortcut.weight, None, layer.init, layer.init_params)
    return Residual(inner, shortcut, make_activation(layer.activation, layer.activation_params))


class DeskNet(Net):
    """The module for a design. ``probe_points`` lists layers in network order."""

    def __init__(self, design: NetworkDesign):
        analysis = analyze(design)
        if not analysis.ok:
            raise DesignInvalidError(str(analysis.problems[0]))
        infos = {info.path: info for info in analysis.layers}
        blocks: dict[str, nn.Module] = {}
        points: list[ProbePoint] = []
        for i, layer in enumerate(design.layers):
            info = infos[(i,)]
            if layer.kind == "residual":
                inner = {}
                for j, sub in enumerate(layer.layers):
                    sub_info = infos[(i, j)]
                    inner[sub_info.name.split(".")[-1]] = block = _block(sub, sub_info.in_shape)
                    points.append(_point(sub_info, sub, block))
                module = _residual(layer, inner, info.in_shape, info.out_shape)
            else:
                module = _block(layer, info.in_shape)
            blocks[info.name] = module
            points.append(_point(info, layer, module))
        head_info = infos[("output",)]
        head = Head(math.prod(head_info.in_shape), head_info.out_shape[0],
                    flatten=len(head_info.in_shape) > 1)
        apply_init(head.linear.weight, head.linear.bias, design.output.init,
                   design.output.init_params)
        super().__init__(blocks, head)
        points.append(ProbePoint("head", "output", "identity", head.probe, head.weight,
                                 (-4.0, 4.0), None, head_info.out_shape, head_info.params,
                                 tappable=True))
        self.probe_points = points
        self.task = design.output.task
        self.total_params = analysis.total_params


def _point(info, layer: LayerSpec, module: nn.Module) -> ProbePoint:
    if isinstance(module, Recurrent):  # measured on its whole output sequence (B, T, H·dirs)
        act, p = ACTIVATIONS["tanh"], LAYER_KINDS[layer.kind].resolve(layer.params)
        width = p["hidden"] * (2 if p["bidirectional"] else 1)
        return ProbePoint(info.name, layer.kind, act.name, module.probe, module.weight,
                          act.meta["hist"], act.meta["bounds"], (info.in_shape[0], width),
                          info.params, p["recurrent_init"], units_last=True,
                          time_steps=info.in_shape[0], recurrent=module, tappable=True)
    weighted = LAYER_KINDS[layer.kind].meta["weighted"] or layer.kind == "residual"
    act = ACTIVATIONS[layer.activation if weighted else "identity"]
    return ProbePoint(info.name, layer.kind, act.name, module.probe, module.weight,
                      act.meta["hist"], act.meta["bounds"], info.out_shape, info.params,
                      layer.init if weighted else "", tappable=True)


def build(design: NetworkDesign, seed: int | None = None) -> DeskNet:
    """Build the module for ``design`` with seeded init (the design's seed by default).

    The global torch RNG is left as it was.
    """
    seed = design.train.seed if seed is None else seed
    with RngStream(seed).active():  # inits draw on the CPU
        return DeskNet(design)
