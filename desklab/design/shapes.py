"""Shape and size arithmetic of layers: output sizes, parameter counts, weight fans,
the residual projection. Pure functions of a layer and its shapes; `analysis` uses
them to infer and validate a whole design, the builder and exporter to agree with it.

Shapes are tuples: ``(D,)`` flat, ``(T, F)`` a sequence of T steps of F features, or
``(C, H, W)`` image; a size that could not be inferred is ``"?"``.
"""

from __future__ import annotations

from .catalog import ACTIVATIONS, LAYER_KINDS, RECURRENT_KINDS
from .model import LayerSpec

Shape = tuple  # (D,) flat, (T, F) sequence or (C, H, W) image


def fmt_shape(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    return "x".join(str(s) for s in shape)


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output size of a convolution or pool: (W - F + 2P) / S + 1, floored."""
    return (size - kernel + 2 * padding) // stride + 1


def width_multiplier(layer: LayerSpec) -> int:
    """Maxout computes k pieces per unit: the layer before it is k times wider (else 1)."""
    act = ACTIVATIONS.get(layer.activation)
    if act is None or "width_multiplier" not in act.meta:
        return 1
    value = act.resolve(layer.activation_params).get(act.meta["width_multiplier"])
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 1


def weight_fans(layer: LayerSpec, info) -> tuple[int, int] | None:
    """(fan_in, fan_out) of the layer's weight as PyTorch computes them (what the init
    formulas use), or None for layers without weights or with unknown shapes. A residual
    block's weight is its bias-free projection (linear, or 1x1 conv)."""
    if not (known(info.in_shape) and known(info.out_shape)):
        return None
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    if layer.kind == "dense":
        return info.in_shape[0], p["units"] * width_multiplier(layer)
    if layer.kind == "conv2d":
        area = p["kernel"] ** 2
        return info.in_shape[0] * area, p["filters"] * width_multiplier(layer) * area
    if layer.kind == "residual":
        return info.in_shape[0], info.out_shape[0]
    if layer.kind in RECURRENT_KINDS:  # W_ih of the first layer, per gate
        return info.in_shape[-1], p["hidden"]
    return None


def recurrent_params(kind: str, p: dict, features: int) -> int:
    """Weights and biases of a recurrent layer over ``features`` inputs, as PyTorch
    counts them: per layer and direction gates·H·(inputs + H) + 2·gates·H."""
    gates, hidden = LAYER_KINDS[kind].meta["gates"], p["hidden"]
    dirs = 2 if p["bidirectional"] else 1
    total, inputs = 0, features
    for _ in range(p["num_layers"]):
        total += dirs * (gates * hidden * (inputs + hidden) + 2 * gates * hidden)
        inputs = dirs * hidden
    return total


def activation_params(layer: LayerSpec) -> int:
    act = ACTIVATIONS.get(layer.activation)
    return int(act.meta.get("learnable", 0)) if act else 0


def known(shape: Shape | None) -> bool:
    """True when every size in ``shape`` is known (a broken layer leaves ``"?"`` sizes)."""
    return shape is not None and all(isinstance(d, int) for d in shape)


def param_count(layer: LayerSpec, p: dict, shape: Shape | None, out: Shape | None) -> int:
    if not known(shape) or not known(out):
        return 0
    mult = width_multiplier(layer)
    if layer.kind == "dense":
        width = p["units"] * mult
        n = shape[0] * width + (width if layer.bias else 0)
    elif layer.kind == "conv2d":
        width = p["filters"] * mult
        n = p["kernel"] ** 2 * shape[0] * width + (width if layer.bias else 0)
    elif layer.kind in RECURRENT_KINDS:
        return recurrent_params(layer.kind, p, shape[-1])
    else:
        return 0
    if layer.norm in ("batchnorm", "layernorm"):
        n += 2 * (width if layer.norm_position == "before" else width // mult)
    return n + activation_params(layer)


def projection(shape_in: Shape, shape_out: Shape) -> tuple[int, int] | None:
    """(stride, params) of the bias-free linear / 1x1-conv shortcut, or None if impossible."""
    if len(shape_in) != len(shape_out):
        return None
    if len(shape_in) == 1:
        return 1, shape_in[0] * shape_out[0]
    (c_in, h, w), (c_out, h2, w2) = shape_in, shape_out
    for stride in range(1, max(h, w) + 1):
        if conv_out(h, 1, stride, 0) == h2 and conv_out(w, 1, stride, 0) == w2:
            return stride, c_in * c_out
    return None


def shortcut_module(layer: LayerSpec, shape_in: Shape, shape_out: Shape) -> tuple | None:
    """The torch module of a valid residual block's shortcut: None for the identity,
    else (class name in ``torch.nn``, positional args); it never has a bias. The builder
    constructs it and the exporter writes it from this one answer."""
    mode = LAYER_KINDS["residual"].resolve(layer.params)["shortcut"]
    if mode == "identity" or (mode == "auto" and shape_in == shape_out):
        return None
    if len(shape_in) == 1:
        return "Linear", (shape_in[0], shape_out[0])
    stride, _ = projection(shape_in, shape_out)
    return "Conv2d", (shape_in[0], shape_out[0], 1, stride)
