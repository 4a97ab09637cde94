"""The torch modules every DeskLab network is made of: the single source of its torch code.

The builder (``build.py``) assembles these from a design, and the PyTorch exporter
(``export.py``) copies their source verbatim (``inspect.getsource``) into the file it
writes, so the two can never drift apart. Hence the rules for this file: it imports only
``torch`` and ``nn`` (and ``recurrent_steps.py``, under the same rules), and its
constructors take plain numbers and modules, never a DeskLab design object.

Attribute names are part of the state_dict keys (``blocks.<name>.op.weight``,
``.inner.<name>``, ``.shortcut``, ``head.linear``): weights saved by ``desklab train``
load into an exported file with ``strict=True``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .recurrent_steps import unrolled


class BinaryStep(nn.Module):
    """f(x) = 1 where x > 0, else 0. Its derivative is 0 everywhere (and undefined at 0),
    so no gradient flows back through it: the point of the lesson."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Multiplying by zero keeps the graph connected so the backward pass runs and
        # reports exact zeros instead of "does not require grad".
        return (x > 0).to(x.dtype) + 0.0 * x


class Maxout(nn.Module):
    """Max over ``k`` pieces: (B, C*k, ...) -> (B, C, ...), keeping the largest of each group."""

    def __init__(self, k: int = 2):
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, ck = x.shape[:2]
        pieces = x.view(b, ck // self.k, self.k, *x.shape[2:])  # (B, C, k, ...)
        return pieces.amax(dim=2)

    def extra_repr(self) -> str:
        return f"k={self.k}"


def make_norm(kind: str, width: int, image: bool) -> nn.Module:
    """``batchnorm`` or ``layernorm`` over ``width`` features (channels when ``image``)."""
    if kind == "batchnorm":
        return nn.BatchNorm2d(width) if image else nn.BatchNorm1d(width)
    # LayerNorm over (C, H, W) with a per-channel affine is GroupNorm with one group.
    return nn.GroupNorm(1, width) if image else nn.LayerNorm(width)


@torch.no_grad()
def init_(weight: torch.Tensor, bias: torch.Tensor | None, scheme: str, **kwargs) -> None:
    """Initialise ``weight`` by a ``torch.nn.init`` scheme name and zero ``bias``.

    ``normal_`` takes ``std`` (mean 0) and ``uniform_`` takes ``a`` (range -a..a); the He
    (kaiming) schemes assume ReLU (gain sqrt(2)), as in He et al. 2015 and the cs231n
    table; ``lecun_normal_`` is N(0, 1 / fan_in).
    """
    if scheme == "lecun_normal_":
        fan_in = weight[0].numel()  # (out, in, *kernel): everything feeding one unit
        nn.init.normal_(weight, 0.0, math.sqrt(1.0 / fan_in))
    elif scheme == "normal_":
        nn.init.normal_(weight, 0.0, kwargs["std"])
    elif scheme == "uniform_":
        nn.init.uniform_(weight, -kwargs["a"], kwargs["a"])
    elif scheme.startswith("kaiming"):
        getattr(nn.init, scheme)(weight, nonlinearity="relu", **kwargs)
    else:
        getattr(nn.init, scheme)(weight, **kwargs)
    if bias is not None:
        nn.init.zeros_(bias)


def probed(probe: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """``h`` through the identity ``probe``: a module call only while a hook is attached
    to it, and handed to its ``tap`` while DeskLab's prober measures (`Prober.active`).
    Other steps skip the module call (~1 us a layer; a launch-bound GPU step of
    bench-mlp is ~3 ms, and every layer's costs add up)."""
    if probe._forward_hooks:
        h = probe(h)
    tap = probe.__dict__.get("tap")
    if tap is not None:
        tap(h)
    return h


class Block(nn.Module):
    """One layer: op -> [norm before] -> activation -> [norm after] -> probe -> dropout.

    ``probe`` is an identity whose forward hook sees the layer's output after its
    activation and before dropout (so dropout's zeros are not counted as dead units).
    """

    def __init__(self, op: nn.Module, act: nn.Module | None = None,
                 norm: nn.Module | None = None, norm_before: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.op = op
        self.norm = norm
        self.norm_before = norm_before
        self.act = act if act is not None else nn.Identity()
        self.probe = nn.Identity()
        self.drop = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.op(x)
        if self.norm is not None and self.norm_before:
            h = self.norm(h)
        h = self.act(h)
        if self.norm is not None and not self.norm_before:
            h = self.norm(h)
        h = probed(self.probe, h)
        return self.drop(h) if self.drop is not None else h

    @property
    def weight(self) -> nn.Parameter | None:
        return getattr(self.op, "weight", None)


class Residual(nn.Module):
    """act(inner(x) + shortcut(x)); the shortcut is an identity or a bias-free projection."""

    def __init__(self, inner: dict[str, nn.Module], shortcut: nn.Module, act: nn.Module):
        super().__init__()
        self.inner = nn.ModuleDict(inner)
        self.shortcut = shortcut
        self.act = act
        self.probe = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for block in self.inner.values():
            h = block(h)
        return probed(self.probe, self.act(h + self.shortcut(x)))

    @property
    def weight(self) -> nn.Parameter | None:
        return getattr(self.shortcut, "weight", None)


@torch.no_grad()
def init_recurrent_(op: nn.RNNBase, hh: str, gain: float, forget_bias: float | None) -> None:
    """Initialise the hidden-to-hidden matrices of ``op`` gate by gate and its biases.

    ``hh``: ``orthogonal`` (each (H, H) gate block ``gain``·Q: every singular value is the
    gain), ``gaussian`` (N(0, gain² / H): a random matrix's spectral radius is about the
    gain, its singular values spread from 0 to 2·gain) or ``default`` (PyTorch's own,
    biases too). Named schemes zero the biases; ``forget_bias`` (LSTM) sets the forget
    gate's (the second quarter of ``bias_ih``, as PyTorch orders i, f, g, o).
    """
    hidden = op.hidden_size
    for name, param in op.named_parameters():
        if name.startswith("weight_hh") and hh != "default":
            for block in param.split(hidden, 0):  # (H, H) per gate
                if hh == "orthogonal":
                    nn.init.orthogonal_(block, gain)
                else:
                    nn.init.normal_(block, 0.0, gain / math.sqrt(hidden))
        elif name.startswith("bias") and hh != "default":
            nn.init.zeros_(param)
        if name.startswith("bias_ih") and forget_bias is not None:
            param[hidden:2 * hidden] = forget_bias


class Recurrent(nn.Module):
    """An RNN (tanh), LSTM or GRU over a (B, T, F) sequence: every h_t, or the last.

    ``op`` is PyTorch's module (``batch_first``). With ``time_hook`` set (DeskLab does
    on a measured step) the same weights run one step at a time and ``time_hook`` gets
    dL/dh_t for every t, (B, T, H·dirs), in the backward pass: the gradient through time
    (Bengio et al. 1994). Unset, PyTorch's fused kernel runs: the same numbers, faster.
    """

    def __init__(self, op: nn.RNNBase, last: bool):
        super().__init__()
        self.op = op
        self.last = last
        self.probe = nn.Identity()
        self.time_hook = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, F)
        if self.time_hook is None or not torch.is_grad_enabled():
            seq = self.op(x)[0]  # (B, T, H·dirs)
        else:
            tap = x.new_zeros(x.shape[0], x.shape[1], self.op.hidden_size *
                              (2 if self.op.bidirectional else 1), requires_grad=True)
            tap.register_hook(self.time_hook)
            seq = unrolled(self.op, x, tap)
        seq = probed(self.probe, seq)
        if not self.last:
            return seq
        hidden = self.op.hidden_size  # h_T: a backward direction ends at t = 0
        if self.op.bidirectional:
            return torch.cat((seq[:, -1, :hidden], seq[:, 0, hidden:]), 1)  # (B, 2H)
        return seq[:, -1]  # (B, H)

    @property
    def weight(self) -> nn.Parameter:
        return self.op.weight_hh_l0  # the matrix the gradient meets at every step back


class Head(nn.Module):
    """Flatten (if the last layer gives an image), then a linear map to the outputs."""

    def __init__(self, in_features: int, outputs: int, flatten: bool):
        super().__init__()
        self.flatten = flatten
        self.linear = nn.Linear(in_features, outputs)
        self.probe = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flatten:
            x = x.flatten(1)
        return probed(self.probe, self.linear(x))

    @property
    def weight(self) -> nn.Parameter:
        return self.linear.weight


class Net(nn.Module):
    """The layers in order, then the head."""

    def __init__(self, blocks: dict[str, nn.Module], head: Head):
        super().__init__()
        self.blocks = nn.ModuleDict(blocks)
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks.values():
            x = block(x)
        return self.head(x)
