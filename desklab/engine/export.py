"""Export a design as a standalone PyTorch file (imports only torch).

The generated modules use the same attribute names as DeskLab's builder
(``blocks.<name>.op``, ``.norm``, ``.act``; residual ``.inner`` and
``.shortcut``; ``head.linear``), so state_dict keys and parameter counts are
identical and ``desklab train --save-weights`` files load with strict=True.
"""

from __future__ import annotations

import math

from ..design import ACTIVATIONS, INITS, LAYER_KINDS, NetworkDesign, analyze, fmt_shape
from ..design.shapes import projection, weight_fans, width_multiplier
from ..design.model import LayerSpec

# The user's text (name, description, dataset) enters the generated file only as repr()
# string literals: pasted into a docstring, a name holding """ would run as code.
HEADER = '''"""A network exported from DeskLab (its name and description are below).

Input: (B, {shape}); output: {outputs} {task}.
Load trained weights with:
    model.load_state_dict(torch.load("weights.pt", weights_only=True))
"""

import torch
from torch import nn

DESIGN_NAME = {name}
DESCRIPTION = {description}
DATASET = {dataset}
'''

CUSTOM = {
    "BinaryStep": '''

class BinaryStep(nn.Module):
    """1 where x > 0, else 0; its gradient is 0 everywhere."""

    def forward(self, x):
        return (x > 0).to(x.dtype) + 0.0 * x
''',
    "Maxout": '''

class Maxout(nn.Module):
    """Max over k pieces: (B, C*k, ...) -> (B, C, ...)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        b, ck = x.shape[:2]
        return x.view(b, ck // self.k, self.k, *x.shape[2:]).amax(dim=2)
''',
}

MODULES = '''

class Block(nn.Module):
    """op -> [norm before] -> activation -> [norm after] -> dropout."""

    def __init__(self, op, act=None, norm=None, norm_before=True, dropout=0.0):
        super().__init__()
        self.op = op
        self.norm = norm
        self.norm_before = norm_before
        self.act = act if act is not None else nn.Identity()
        self.drop = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x):
        h = self.op(x)
        if self.norm is not None and self.norm_before:
            h = self.norm(h)
        h = self.act(h)
        if self.norm is not None and not self.norm_before:
            h = self.norm(h)
        return self.drop(h) if self.drop is not None else h


class Residual(nn.Module):
    """act(inner(x) + shortcut(x))."""

    def __init__(self, inner, shortcut, act):
        super().__init__()
        self.inner = nn.ModuleDict(inner)
        self.shortcut = shortcut
        self.act = act

    def forward(self, x):
        h = x
        for block in self.inner.values():
            h = block(h)
        return self.act(h + self.shortcut(x))


class Head(nn.Module):
    """Flatten if needed, then a linear map to the outputs."""

    def __init__(self, in_features, outputs, flatten):
        super().__init__()
        self.flatten = flatten
        self.linear = nn.Linear(in_features, outputs)

    def forward(self, x):
        return self.linear(x.flatten(1) if self.flatten else x)


class Net(nn.Module):
    def __init__(self, blocks, head):
        super().__init__()
        self.blocks = nn.ModuleDict(blocks)
        self.head = head

    def forward(self, x):
        for block in self.blocks.values():
            x = block(x)
        return self.head(x)
'''

FOOTER = '''

if __name__ == "__main__":
    model = build_model()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
'''


def _activation(name: str, params: dict) -> str:
    entry = ACTIVATIONS[name]
    values = entry.resolve(params)
    args = ", ".join(f"{kw}={values[key]!r}" for key, kw in entry.meta.get("args", {}).items())
    cls = entry.meta["torch"]
    return f"{cls if cls in CUSTOM else 'nn.' + cls}({args})"


def _init_lines(target: str, weight_shape_fans: tuple[int, int], name: str, params: dict,
                bias: bool) -> list[str]:
    entry = INITS[name]
    fn = entry.meta["torch"]
    if fn is None:
        return []
    p = entry.resolve(params)
    w = f"{target}.weight"
    call = {
        "zeros_": f"nn.init.zeros_({w})",
        "constant_": f"nn.init.constant_({w}, {p.get('value')!r})",
        "normal_": f"nn.init.normal_({w}, 0.0, {p.get('std')!r})",
        "uniform_": f"nn.init.uniform_({w}, -{p.get('a')!r}, {p.get('a')!r})",
        "xavier_normal_": f"nn.init.xavier_normal_({w}, gain={p.get('gain')!r})",
        "xavier_uniform_": f"nn.init.xavier_uniform_({w}, gain={p.get('gain')!r})",
        "kaiming_normal_": f"nn.init.kaiming_normal_({w}, mode={p.get('mode')!r}, "
                           f"nonlinearity=\"relu\")",
        "kaiming_uniform_": f"nn.init.kaiming_uniform_({w}, mode={p.get('mode')!r}, "
                            f"nonlinearity=\"relu\")",
        "lecun_normal_": f"nn.init.normal_({w}, 0.0, "
                         f"{math.sqrt(1.0 / weight_shape_fans[0])!r})  # sqrt(1 / fan_in)",
        "orthogonal_": f"nn.init.orthogonal_({w}, gain={p.get('gain')!r})",
    }[fn]
    lines = [call]
    if bias:
        lines.append(f"nn.init.zeros_({target}.bias)")
    return lines


def _block(layer: LayerSpec, info, target: str) -> tuple[list[str], set[str]]:
    """Code lines constructing one layer into ``target`` and the custom classes it needs."""
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    weighted = LAYER_KINDS[layer.kind].meta["weighted"]
    shape = f"  # -> (B, {fmt_shape(info.out_shape).replace('x', ', ')})"
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
        norm = {("batchnorm", False): f"nn.BatchNorm1d({features})",
                ("batchnorm", True): f"nn.BatchNorm2d({features})",
                ("layernorm", False): f"nn.LayerNorm({features})",
                ("layernorm", True): f"nn.GroupNorm(1, {features})"}[(layer.norm, image)]
        args += [f"norm={norm}", f"norm_before={layer.norm_position == 'before'}"]
    if layer.dropout > 0:
        args.append(f"dropout={layer.dropout!r}")
    lines = [f"{target} = Block({', '.join(args)}){shape}"]
    lines += _init_lines(f"{target}.op", weight_fans(layer, info), layer.init,
                         layer.init_params, layer.bias)
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
        mode = LAYER_KINDS["residual"].resolve(layer.params)["shortcut"]
        if mode == "identity" or (mode == "auto" and info.in_shape == info.out_shape):
            shortcut = "nn.Identity()"
        elif len(info.in_shape) == 1:
            shortcut = f"nn.Linear({info.in_shape[0]}, {info.out_shape[0]}, bias=False)"
        else:
            stride, _ = projection(info.in_shape, info.out_shape)
            shortcut = (f"nn.Conv2d({info.in_shape[0]}, {info.out_shape[0]}, 1, "
                        f"stride={stride}, bias=False)")
        act_entry = ACTIVATIONS[layer.activation]
        custom |= {act_entry.meta["torch"]} & set(CUSTOM)
        body.append(f"{key} = Residual(inner, {shortcut}, "
                    f"{_activation(layer.activation, layer.activation_params)})"
                    f"  # -> (B, {fmt_shape(info.out_shape).replace('x', ', ')})")
        if shortcut != "nn.Identity()":
            body += _init_lines(f"{key}.shortcut", weight_fans(layer, info), layer.init,
                                layer.init_params, False)
    head = infos[("output",)]
    features = math.prod(head.in_shape)
    body.append(f"head = Head({features}, {head.out_shape[0]}, "
                f"flatten={len(head.in_shape) > 1})")
    body += _init_lines("head.linear", (features, head.out_shape[0]), design.output.init,
                        design.output.init_params, True)
    inp = design.input
    text = HEADER.format(name=repr(str(design.name)),
                         description=repr(str(design.description or "")),
                         shape=fmt_shape(inp.shape).replace("x", ", "),
                         dataset=repr(str(inp.dataset)),
                         outputs=design.output_size(),
                         task="classes" if design.output.task == "classes" else "targets")
    for cls in sorted(custom):
        text += CUSTOM[cls]
    text += MODULES
    text += "\n\ndef build_model():\n"
    text += f'    """The network of DESIGN_NAME: {analysis.total_params:,} parameters."""\n'
    text += "    blocks = {}\n"
    text += "".join(f"    {line}\n" for line in body)
    text += "    return Net(blocks, head)\n"
    return text + FOOTER
