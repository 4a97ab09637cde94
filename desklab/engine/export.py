"""Export a design as a standalone PyTorch file (imports only torch).

The generated modules use the same attribute names as DeskLab's builder
(``blocks.<name>.op``, ``.norm``, ``.act``; residual ``.inner`` and
``.shortcut``; ``head.linear``), so state_dict keys and parameter counts are
identical and ``desklab train --save-weights`` files load with strict=True.
"""

from __future__ import annotations

import inspect
import math

from ..design import ACTIVATIONS, INITS, LAYER_KINDS, NetworkDesign, analyze, fmt_shape
from ..design.model import LayerSpec
from ..design.catalog import RECURRENT_KINDS
from ..design.shapes import shortcut_module, width_multiplier
from .modules import (BinaryStep, Block, Head, Maxout, Net, Recurrent, Residual, init_,
                      init_recurrent_, make_norm, probed)
from .recurrent_steps import _affine, _cell, _fused_below, unrolled

# The user's text (name, description, dataset) enters the generated file only as repr()
# string literals: pasted into a docstring, a name holding """ would run as code.
HEADER = '''"""A network exported from DeskLab (its name and description are below).

Input: (B, {shape}); output: {outputs} {task}.
The modules below are DeskLab's own (desklab/engine/modules.py), copied verbatim.
Load trained weights with:
    model.load_state_dict(torch.load("weights.pt", weights_only=True))
"""

from __future__ import annotations

import math

import torch
from torch import nn

DESIGN_NAME = {name}
DESCRIPTION = {description}
DATASET = {dataset}
'''

# The torch code is engine/modules.py's own source, so the exported network is the one
# DeskLab trains by construction. Custom activations are copied only when used.
COMMON = (make_norm, init_, probed, Block, Residual, Head, Net)
CUSTOM = {"BinaryStep": BinaryStep, "Maxout": Maxout}
# only when a design has one
RECURRENT_CODE = (init_recurrent_, _affine, _cell, _fused_below, unrolled, Recurrent)

FOOTER = '''

if __name__ == "__main__":
    model = build_model()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
'''


def _source(obj) -> str:
    return "\n\n" + inspect.getsource(obj)


def _activation(name: str, params: dict) -> str:
    entry = ACTIVATIONS[name]
    values = entry.resolve(params)
    args = ", ".join(f"{kw}={values[key]!r}" for key, kw in entry.meta.get("args", {}).items())
    cls = entry.meta["torch"]
    return f"{cls if cls in CUSTOM else 'nn.' + cls}({args})"


def _init_lines(target: str, name: str, params: dict, bias: bool) -> list[str]:
    entry = INITS[name]
    if entry.meta["torch"] is None:  # PyTorch's own default init
        return []
    values = entry.resolve(params)
    args = [f"{target}.weight", f"{target}.bias" if bias else "None", repr(entry.meta["torch"])]
    args += [f"{kw}={values[key]!r}" for key, kw in entry.meta.get("args", {}).items()]
    return [f"init_({', '.join(args)})"]


def _recurrent(layer: LayerSpec, info, target: str, shape: str) -> list[str]:
    """Code lines for a recurrent layer: PyTorch's module, W_ih by the layer's init,
    W_hh (and the forget-gate bias) by `init_recurrent_`."""
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    op = (f"nn.{LAYER_KINDS[layer.kind].meta['torch']}({info.in_shape[-1]}, {p['hidden']}, "
          f"{p['num_layers']}, batch_first=True, bidirectional={p['bidirectional']})")
    lines = [f"{target} = Recurrent({op}, last={p['returns'] == 'last'}){shape}"]
    init = _init_lines("W", layer.init, layer.init_params, False)
    if init:
        lines += [f"for name, W in {target}.op.named_parameters():",
                  "    if name.startswith('weight_ih'):",
                  "        " + init[0].replace("W.weight", "W")]
    lines.append(f"init_recurrent_({target}.op, {p['recurrent_init']!r}, "
                 f"{p['recurrent_gain']!r}, {p.get('forget_bias')!r})")
    return lines


def _block(layer: LayerSpec, info, target: str) -> tuple[list[str], set[str]]:
    """Code lines constructing one layer into ``target`` and the custom classes it needs."""
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    weighted = LAYER_KINDS[layer.kind].meta["weighted"]
    shape = f"  # -> (B, {fmt_shape(info.out_shape).replace('x', ', ')})"
    if layer.kind in RECURRENT_KINDS:
        return _recurrent(layer, info, target, shape), {"recurrent"}
    if not weighted:
        op = {"maxpool": f"nn.MaxPool2d({p.get('window')}, {p.get('stride')})",
              "avgpool": f"nn.AvgPool2d({p.get('window')}, {p.get('stride')})",
              "flatten": "nn.Flatten()"}[layer.kind]
        return [f"{target} = Block({op}){shape}"], set()
    entry = ACTIVATIONS[layer.activation]
    mult = width_multiplier(layer)
    image = layer.kind == "conv2d"
    if not image:
        width = p["units"] * mult
        op = f"nn.Linear({info.in_shape[0]}, {width}, bias={layer.bias})"
    else:
        width = p["filters"] * mult
        op = (f"nn.Conv2d({info.in_shape[0]}, {width}, {p['kernel']}, stride={p['stride']}, "
              f"padding={p['padding']}, bias={layer.bias})")
    args = [op, f"act={_activation(layer.activation, layer.activation_params)}"]
    if layer.norm != "none":
        features = width if layer.norm_position == "before" else width // mult
        args += [f"norm=make_norm({layer.norm!r}, {features}, {image})",
                 f"norm_before={layer.norm_position == 'before'}"]
    if layer.dropout > 0:
        args.append(f"dropout={layer.dropout!r}")
    lines = [f"{target} = Block({', '.join(args)}){shape}"]
    lines += _init_lines(f"{target}.op", layer.init, layer.init_params, layer.bias)
    custom = {entry.meta["torch"]} & set(CUSTOM)
    return lines, custom


def export_pytorch(design: NetworkDesign) -> str:
    """The source of a standalone PyTorch file for ``design`` (which must be valid)."""
    analysis = analyze(design)
    if not analysis.ok:
        raise ValueError(f"invalid design: {analysis.problems[0]}")
    infos = {i.path: i for i in analysis.layers}
    body, custom = [], set()
    for i, layer in enumerate(design.layers):
        info = infos[(i,)]
        key = f"blocks[{info.name!r}]"
        if layer.kind != "residual":
            lines, need = _block(layer, info, key)
            body += lines
            custom |= need
            continue
        body.append(f"inner = {{}}  # residual block {info.name!r}")
        for j, sub in enumerate(layer.layers):
            sub_info = infos[(i, j)]
            lines, need = _block(sub, sub_info, f"inner[{sub_info.name.split('.')[-1]!r}]")
            body += lines
            custom |= need
        spec = shortcut_module(layer, info.in_shape, info.out_shape)
        shortcut = "nn.Identity()" if spec is None else \
            f"nn.{spec[0]}({', '.join(map(repr, spec[1]))}, bias=False)"
        act_entry = ACTIVATIONS[layer.activation]
        custom |= {act_entry.meta["torch"]} & set(CUSTOM)
        body.append(f"{key} = Residual(inner, {shortcut}, "
                    f"{_activation(layer.activation, layer.activation_params)})"
                    f"  # -> (B, {fmt_shape(info.out_shape).replace('x', ', ')})")
        if shortcut != "nn.Identity()":
            body += _init_lines(f"{key}.shortcut", layer.init, layer.init_params, False)
    head = infos[("output",)]
    features = math.prod(head.in_shape)
    body.append(f"head = Head({features}, {head.out_shape[0]}, "
                f"flatten={len(head.in_shape) > 1})")
    body += _init_lines("head.linear", design.output.init, design.output.init_params, True)
    inp = design.input
    text = HEADER.format(name=repr(str(design.name)),
                         description=repr(str(design.description or "")),
                         shape=fmt_shape(inp.shape).replace("x", ", "),
                         dataset=repr(str(inp.dataset)),
                         outputs=design.output_size(),
                         task="classes" if design.output.task == "classes" else "targets")
    for cls in sorted(custom - {"recurrent"}):
        text += _source(CUSTOM[cls])
    if "recurrent" in custom:
        text += "".join(_source(obj) for obj in RECURRENT_CODE)
    text += "".join(_source(obj) for obj in COMMON)
    text += "\n\ndef build_model():\n"
    text += f'    """The network of DESIGN_NAME: {analysis.total_params:,} parameters."""\n'
    text += "    blocks = {}\n"
    text += "".join(f"    {line}\n" for line in body)
    text += "    return Net(blocks, head)\n"
    return text + FOOTER
