"""Design -> nn.Module, with one named probe point per layer.

Every layer becomes a `Block`:

    op (Linear / Conv2d / pool / flatten) -> [norm before] -> activation
        -> [norm after] -> probe -> dropout

``probe`` is an ``nn.Identity`` whose forward hook sees the layer's output
after its activation and before dropout (so dropout's zeros are not counted
as dead units). Residual blocks add their shortcut before their own
activation and probe. The head flattens if needed and maps to the outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..design import LAYER_KINDS, NetworkDesign, analyze
from ..design.shapes import projection, width_multiplier
from ..design.catalog import ACTIVATIONS
from ..design.model import LayerSpec
from ..errors import DeskLabError
from .activations import make_activation
from .init import apply_init
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


class Block(nn.Module):
    """One layer: op -> [norm] -> activation -> [norm] -> probe -> dropout."""

    def __init__(self, layer: LayerSpec, in_shape: tuple, out_shape: tuple):
        super().__init__()
        p = LAYER_KINDS[layer.kind].resolve(layer.params)
        weighted = LAYER_KINDS[layer.kind].meta["weighted"]
        mult = width_multiplier(layer) if weighted else 1
        if layer.kind == "dense":
            width = p["units"] * mult
            self.op = nn.Linear(in_shape[0], width, bias=layer.bias)
        elif layer.kind == "conv2d":
            width = p["filters"] * mult
            self.op = nn.Conv2d(in_shape[0], width, p["kernel"], p["stride"], p["padding"],
                                bias=layer.bias)
        elif layer.kind == "maxpool":
            self.op = nn.MaxPool2d(p["window"], p["stride"])
        elif layer.kind == "avgpool":
            self.op = nn.AvgPool2d(p["window"], p["stride"])
        else:  # flatten
            self.op = nn.Flatten()
        image = layer.kind == "conv2d"
        norm_width = None
        if weighted and layer.norm != "none":
            norm_width = width if layer.norm_position == "before" else width // mult
        self.norm_before = layer.norm_position == "before"
        self.norm = _norm(layer.norm, norm_width, image) if norm_width else None
        self.act = make_activation(layer.activation, layer.activation_params) if weighted \
            else nn.Identity()
        self.probe = nn.Identity()
        self.drop = nn.Dropout(layer.dropout) if weighted and layer.dropout > 0 else None
        if weighted:
            apply_init(self.op.weight, self.op.bias, layer.init, layer.init_params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.op(x)
        if self.norm is not None and self.norm_before:
            h = self.norm(h)
        h = self.act(h)
        if self.norm is not None and not self.norm_before:
            h = self.norm(h)
        h = self.probe(h)
        return self.drop(h) if self.drop is not None else h

    @property
    def weight(self) -> nn.Parameter | None:
        return getattr(self.op, "weight", None)


def _norm(name: str, width: int, image: bool) -> nn.Module:
    if name == "batchnorm":
        return nn.BatchNorm2d(width) if image else nn.BatchNorm1d(width)
    # LayerNorm over (C, H, W) with a per-channel affine is GroupNorm with one group.
    return nn.GroupNorm(1, width) if image else nn.LayerNorm(width)


class ResidualBlock(nn.Module):
    """act(inner(x) + shortcut(x)); the shortcut is identity or a bias-free projection."""

    def __init__(self, layer: LayerSpec, blocks: dict[str, Block], in_shape: tuple,
                 out_shape: tuple):
        super().__init__()
        self.inner = nn.ModuleDict(blocks)
        mode = LAYER_KINDS["residual"].resolve(layer.params)["shortcut"]
        if mode == "identity" or (mode == "auto" and in_shape == out_shape):
            self.shortcut = nn.Identity()
        else:
            stride, _ = projection(in_shape, out_shape)
            if len(in_shape) == 1:
                self.shortcut = nn.Linear(in_shape[0], out_shape[0], bias=False)
            else:
                self.shortcut = nn.Conv2d(in_shape[0], out_shape[0], 1, stride, bias=False)
            apply_init(self.shortcut.weight, None, layer.init, layer.init_params)
        self.act = make_activation(layer.activation, layer.activation_params)
        self.probe = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for block in self.inner.values():
            h = block(h)
        return self.probe(self.act(h + self.shortcut(x)))

    @property
    def weight(self) -> nn.Parameter | None:
        return getattr(self.shortcut, "weight", None)


class Head(nn.Module):
    """Flatten (if the last layer gives an image) and map to the outputs."""

    def __init__(self, in_shape: tuple, size: int):
        super().__init__()
        self.flatten = len(in_shape) > 1
        self.linear = nn.Linear(math.prod(in_shape), size)
        self.probe = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flatten:
            x = x.flatten(1)
        return self.probe(self.linear(x))

    @property
    def weight(self) -> nn.Parameter:
        return self.linear.weight


class DeskNet(nn.Module):
    """The module for a design. ``probe_points`` lists layers in network order."""

    def __init__(self, design: NetworkDesign):
        super().__init__()
        analysis = analyze(design)
        if not analysis.ok:
            raise DesignInvalidError(str(analysis.problems[0]))
        infos = {info.path: info for info in analysis.layers}
        self.blocks = nn.ModuleDict()
        self.probe_points: list[ProbePoint] = []
        for i, layer in enumerate(design.layers):
            info = infos[(i,)]
            if layer.kind == "residual":
                inner = {}
                for j, sub in enumerate(layer.layers):
                    sub_info = infos[(i, j)]
                    inner[sub_info.name.split(".")[-1]] = block = Block(
                        sub, sub_info.in_shape, sub_info.out_shape)
                    self._point(sub_info, sub, block)
                module = ResidualBlock(layer, inner, info.in_shape, info.out_shape)
            else:
                module = Block(layer, info.in_shape, info.out_shape)
            self.blocks[info.name] = module
            self._point(info, layer, module)
        head_info = infos[("output",)]
        self.head = Head(head_info.in_shape, head_info.out_shape[0])
        apply_init(self.head.linear.weight, self.head.linear.bias, design.output.init,
                   design.output.init_params)
        self.probe_points.append(ProbePoint("head", "output", "identity", self.head.probe,
                                            self.head.weight, (-4.0, 4.0), None,
                                            head_info.out_shape, head_info.params))
        self.task = design.output.task
        self.total_params = analysis.total_params

    def _point(self, info, layer: LayerSpec, module: nn.Module) -> None:
        weighted = LAYER_KINDS[layer.kind].meta["weighted"] or layer.kind == "residual"
        act = ACTIVATIONS[layer.activation if weighted else "identity"]
        self.probe_points.append(ProbePoint(
            info.name, layer.kind, act.name, module.probe, module.weight,
            act.meta["hist"], act.meta["bounds"], info.out_shape, info.params))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks.values():
            x = block(x)
        return self.head(x)


def build(design: NetworkDesign, seed: int | None = None) -> DeskNet:
    """Build the module for ``design`` with seeded init (the design's seed by default).

    The global torch RNG is left as it was.
    """
    seed = design.train.seed if seed is None else seed
    with RngStream(seed).active():  # inits draw on the CPU
        return DeskNet(design)
