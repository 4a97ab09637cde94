"""Weight init schemes from the catalog, applied to a weight tensor."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..design.catalog import INITS


def _uniform_sym(w: torch.Tensor, a: float) -> torch.Tensor:
    return nn.init.uniform_(w, -a, a)


def _normal(w: torch.Tensor, std: float) -> torch.Tensor:
    return nn.init.normal_(w, 0.0, std)


def lecun_normal_(w: torch.Tensor) -> torch.Tensor:
    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(w)
    return nn.init.normal_(w, 0.0, math.sqrt(1.0 / fan_in))


def _kaiming(fn):
    # He init assumes ReLU (gain √2), as in He et al. 2015 and the cs231n table.
    return lambda w, mode="fan_in": fn(w, mode=mode, nonlinearity="relu")


FUNCTIONS = {
    "zeros_": nn.init.zeros_,
    "constant_": nn.init.constant_,
    "normal_": _normal,
    "uniform_": _uniform_sym,
    "xavier_normal_": nn.init.xavier_normal_,
    "xavier_uniform_": nn.init.xavier_uniform_,
    "kaiming_normal_": _kaiming(nn.init.kaiming_normal_),
    "kaiming_uniform_": _kaiming(nn.init.kaiming_uniform_),
    "lecun_normal_": lecun_normal_,
    "orthogonal_": nn.init.orthogonal_,
}


@torch.no_grad()
def apply_init(weight: torch.Tensor, bias: torch.Tensor | None, name: str,
               params: dict | None = None) -> None:
    """Initialise ``weight`` by catalog scheme ``name``; named schemes zero the bias.

    ``default`` leaves PyTorch's own initialisation of both untouched.
    """
    entry = INITS[name]
    fn_name = entry.meta["torch"]
    if fn_name is None:
        return
    values = entry.resolve(params)
    kwargs = {kw: values[key] for key, kw in entry.meta.get("args", {}).items()}
    FUNCTIONS[fn_name](weight, **kwargs)
    if bias is not None:
        nn.init.zeros_(bias)
