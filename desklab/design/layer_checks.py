"""Checks of one layer (and a residual block's inner layers) while the shape flows through.

`check_layer` checks a layer's kind, name, settings, activation, init and norm, records
its `LayerInfo` and returns its output shape. After a broken layer the rank is still
known and unknown sizes become "?", so later layers are still checked field by field.
"""

from __future__ import annotations

import math
import re

from .catalog import ACTIVATIONS, COMMON, INITS, LAYER_KINDS, NORMS, RECURRENT_KINDS
from .model import LayerSpec
from .problems import Analysis, LayerInfo, Shape
from .problems import add_problem as _add
from .shapes import (
    activation_params, conv_out, fmt_shape, known, param_count, projection, width_multiplier,
)


def check_init(name: str, params: dict, path: tuple, result: Analysis, where: str = ""):
    entry = INITS.get(name)
    if entry is None:
        _add(result, path, "init", f"unknown init {name!r}", where)
        return
    for key, msg in entry.problems(params):
        _add(result, path, f"init.{key}", msg, where)


def _check_common(layer: LayerSpec, path: tuple, where: str, result: Analysis) -> None:
    common = LAYER_KINDS[layer.kind].meta["common"]
    if "activation" in common:
        act = ACTIVATIONS.get(layer.activation)
        if act is None:
            _add(result, path, "activation", f"unknown activation {layer.activation!r}", where)
        else:
            for key, msg in act.problems(layer.activation_params):
                _add(result, path, f"activation.{key}", msg, where)
    if "init" in common:
        check_init(layer.init, layer.init_params, path, result, where)
    if "norm" in common:
        if layer.norm not in NORMS:
            _add(result, path, "norm", f"unknown norm {layer.norm!r}", where)
        msg = COMMON["norm_position"].problem(layer.norm_position)
        if msg:
            _add(result, path, "norm_position", msg, where)
    for key in ("dropout", "bias"):
        if key in common:
            msg = COMMON[key].problem(getattr(layer, key))
            if msg:
                _add(result, path, key, msg, where)


_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def check_layer(layer: LayerSpec, path: tuple, shape: Shape | None, names: dict, result: Analysis,
           inside_block: bool) -> Shape | None:
    """Check one layer, record its LayerInfo, return its output shape (None if unknown)."""
    entry = LAYER_KINDS.get(layer.kind)
    name = names.get(path, "?")
    where = f"layer {'.'.join(str(i + 1) for i in path)} ({name})"
    if entry is None:
        _add(result, path, "kind", f"unknown layer kind {layer.kind!r}", where)
        return None
    if layer.name and (not isinstance(layer.name, str) or not _NAME_RE.match(layer.name)):
        _add(result, path, "name", "name must start with a letter and use only letters, "
             "digits and _ (at most 40)", where)
    bad = entry.problems(layer.params)
    for key, msg in bad:
        _add(result, path, key, msg, where)
    _check_common(layer, path, where, result)
    if layer.layers and layer.kind != "residual":
        _add(result, path, "layers", "only residual blocks hold inner layers", where)
    p = entry.resolve(layer.params)
    if bad:
        out = None
    elif layer.kind == "residual":
        return _residual(layer, path, shape, names, result, inside_block, where, name)
    else:
        out = _shape_of(layer, p, shape, path, where, result)
    result.layers.append(LayerInfo(path, name, layer.kind, layer.activation, shape, out,
                                   param_count(layer, p, shape, out)))
    return out


def _shape_of(layer, p, shape, path, where, result) -> Shape | None:
    """Output shape; after a broken layer the rank is still known, sizes become "?"."""
    if shape is None:
        return None
    kind, flat = layer.kind, len(shape) == 1
    what = "sequence" if len(shape) == 2 else "image"
    if kind == "dense":
        if not flat:
            _add(result, path, "kind", f"dense needs a flat input but gets a "
                 f"{fmt_shape(shape)} {what}: add a flatten layer first" +
                 (" (or let the recurrent layer return its last step)"
                  if what == "sequence" else ""), where)
        return (p["units"],)
    if kind == "flatten":
        return (math.prod(shape),) if known(shape) else ("?",)
    if kind in RECURRENT_KINDS:
        return _recurrent_shape(p, shape, path, where, result)
    if len(shape) == 2:
        _add(result, path, "kind", f"{kind} needs an image input (C, H, W) but gets a "
             f"{fmt_shape(shape)} sequence", where)
        return (p["filters"] if kind == "conv2d" else "?", "?", "?")
    if flat:
        _add(result, path, "kind", f"{kind} after flatten needs an image input"
             if _after_flatten(result) else
             f"{kind} needs an image input (C, H, W) but gets a flat {fmt_shape(shape)}",
             where)
        return (p["filters"] if kind == "conv2d" else "?", "?", "?")
    c, h, w = shape
    if kind == "conv2d":
        k, s, pad, field_name, channels = (p["kernel"], p["stride"], p["padding"], "kernel",
                                           p["filters"])
    else:
        k, s, pad, field_name, channels = p["window"], p["stride"], 0, "window", c
    if not known((h, w)):
        return (channels, "?", "?")
    if k > min(h, w) + 2 * pad:
        _add(result, path, field_name, f"{field_name} {k} is larger than the {h}x{w} input"
             + (f" (with padding {pad})" if pad else ""), where)
        return (channels, "?", "?")
    if kind == "conv2d" and pad >= k:
        _add(result, path, "padding", f"padding {pad} must be smaller than kernel {k}", where)
        return (channels, "?", "?")
    return (channels, conv_out(h, k, s, pad), conv_out(w, k, s, pad))


def _recurrent_shape(p, shape, path, where, result) -> Shape:
    """(T, H·dirs) when it returns every step, else (H·dirs,)."""
    width = p["hidden"] * (2 if p["bidirectional"] else 1)
    if len(shape) != 2:
        _add(result, path, "kind", f"a recurrent layer needs a sequence input (T, features) "
             f"but gets {'a flat' if len(shape) == 1 else 'an image'} {fmt_shape(shape)}",
             where)
        return (width,) if p["returns"] == "last" else ("?", width)
    return (width,) if p["returns"] == "last" else (shape[0], width)


def _after_flatten(result: Analysis) -> bool:
    return any(info.kind == "flatten" for info in result.layers)


def _residual(layer, path, shape, names, result, inside_block, where, name) -> Shape | None:
    if inside_block:
        _add(result, path, "kind", "residual blocks cannot be nested", where)
    if width_multiplier(layer) > 1:
        _add(result, path, "activation", f"{layer.activation} cannot be a residual block's "
             "activation: it needs a layer computing k pieces per unit; put it on an inner "
             "layer instead", where)
    if not layer.layers:
        _add(result, path, "layers", "a residual block needs at least one inner layer", where)
    inner = shape
    for j, sub in enumerate(layer.layers):
        inner = check_layer(sub, path + (j,), inner, names, result, inside_block=True)
    out, params = inner, 0
    mode = LAYER_KINDS["residual"].resolve(layer.params)["shortcut"]
    if known(shape) and known(inner) and layer.layers:
        proj = projection(shape, inner)
        if len(shape) != len(inner):
            _add(result, path, "layers", "the inner layers turn an image into a flat vector; "
                 "a shortcut cannot bridge that (put flatten before the block)", where)
            out = None
        elif mode == "identity" and shape != inner:
            _add(result, path, "shortcut", f"an identity shortcut needs the inner layers to "
                 f"keep the shape {fmt_shape(shape)}, but they give {fmt_shape(inner)}", where)
            out = None
        elif (mode == "projection" or shape != inner) and proj is None:
            _add(result, path, "shortcut", f"no 1x1 projection maps {fmt_shape(shape)} to "
                 f"{fmt_shape(inner)}", where)
            out = None
        elif mode == "projection" or shape != inner:
            params = proj[1]
    result.layers.append(LayerInfo(path, name, "residual", layer.activation, shape, out,
                                   params + activation_params(layer)))
    return out
