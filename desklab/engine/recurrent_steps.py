"""A recurrent layer one time step at a time: what DeskLab runs on a measured step to
record the gradient through time (see ``unrolled``).

Copied verbatim into exported files, as ``modules.py`` is, under the same rules: it
imports only ``torch`` and ``nn``.
"""

from __future__ import annotations

import torch
from torch import nn


def _affine(bias: torch.Tensor | None, a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """a W^T + b; without b where the module has ``bias=False``."""
    return a @ w.t() if bias is None else torch.addmm(bias, a, w.t())


def _cell(mode: str, xt: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None,
          w_hh: torch.Tensor, b_hh: torch.Tensor | None):
    """One time step of PyTorch's RNN / LSTM / GRU; ``xt`` is W_ih x_t + b_ih, (B, G·H)."""
    gh = _affine(b_hh, h, w_hh)  # (B, G·H)
    if mode == "LSTM":
        i, f, g, o = (xt + gh).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if mode == "GRU":
        (rx, zx, nx), (rh, zh, nh) = xt.chunk(3, 1), gh.chunk(3, 1)
        r, z = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
        n = torch.tanh(nx + r * nh)
        return (1 - z) * n + z * h, c
    return (torch.relu if mode == "RNN_RELU" else torch.tanh)(xt + gh), c


def _fused_below(op: nn.RNNBase, x: torch.Tensor, finals: list | None,
                 state: tuple | None) -> torch.Tensor:
    """The layers under ``op``'s top one through PyTorch's fused kernel (the call
    ``op.forward`` makes, with their share of its weights): (B, T, F) -> (B, T, H·dirs),
    with the dropout PyTorch puts after each layer but the top; their last (h, c) into
    ``finals``."""
    below, dirs = op.num_layers - 1, 2 if op.bidirectional else 1
    weights = op._flat_weights[:below * (len(op._flat_weights) // op.num_layers)]
    n = below * dirs
    h0 = x.new_zeros(n, x.shape[0], op.hidden_size) if state is None else state[0][:n]
    args = (weights, op.bias, below, float(op.dropout), op.training, op.bidirectional, True)
    if op.mode == "LSTM":
        c0 = torch.zeros_like(h0) if state is None else state[1][:n]
        seq, h_n, c_n = torch._VF.lstm(x, (h0, c0), *args)
        last = list(zip(h_n, c_n))
    else:
        run = {"GRU": torch._VF.gru, "RNN_TANH": torch._VF.rnn_tanh,
               "RNN_RELU": torch._VF.rnn_relu}[op.mode]
        seq, h_n = run(x, h0, *args)
        last = [(h, None) for h in h_n]
    if finals is not None:
        finals.extend(last)
    if op.dropout and op.training:
        seq = nn.functional.dropout(seq, op.dropout, True)
    return seq


def unrolled(op: nn.RNNBase, x: torch.Tensor, tap: torch.Tensor | None = None,
             finals: list | None = None, state: tuple | None = None) -> torch.Tensor:
    """``op(x)[0]`` computed one step at a time (B, T, F) -> (B, T, H·dirs). ``tap``
    (B, T, H·dirs) of zeros is added to every h_t of the top layer as it is made, so
    its gradient is dL/dh_t through time: through the output and every later step.
    ``finals`` gets each layer and direction's last (h, c), in PyTorch's h_n order;
    ``state``: (h_0, c_0), each (layers·dirs, B, H), as PyTorch takes them (c_0 None
    but for an LSTM)."""
    b, steps, _ = x.shape
    hidden, dirs = op.hidden_size, 2 if op.bidirectional else 1
    seq, first = x, 0
    if tap is not None and op.num_layers > 1:
        # only the top layer's h_t are tapped: the layers below run fused (a 2-layer
        # LSTM's probed step took twice as long unrolled whole)
        seq, first = _fused_below(op, x, finals, state), op.num_layers - 1
    for layer in range(first, op.num_layers):
        if layer > first and op.dropout and op.training:  # between layers, as PyTorch
            seq = nn.functional.dropout(seq, op.dropout, True)
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            xp = _affine(getattr(op, "bias_ih" + sfx, None), seq.flatten(0, 1),
                         getattr(op, "weight_ih" + sfx)).view(b, steps, -1)
            w_hh, b_hh = getattr(op, "weight_hh" + sfx), getattr(op, "bias_hh" + sfx, None)
            h = x.new_zeros(b, hidden) if state is None else state[0][layer * dirs + d]
            c = None if op.mode != "LSTM" else \
                x.new_zeros(b, hidden) if state is None else state[1][layer * dirs + d]
            hs = [h] * steps
            for t in (range(steps) if d == 0 else reversed(range(steps))):
                h, c = _cell(op.mode, xp[:, t], h, c, w_hh, b_hh)
                if tap is not None and layer == op.num_layers - 1:
                    h = h + tap[:, t, d * hidden:(d + 1) * hidden]
                hs[t] = h
            if finals is not None:
                finals.append((h, c))
            outs.append(torch.stack(hs, 1))  # (B, T, H)
        seq = torch.cat(outs, 2) if dirs == 2 else outs[0]
    return seq
