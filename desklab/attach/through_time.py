"""The gradient through time of a user's nn.RNN / nn.LSTM / nn.GRU under `watch`.

PyTorch's fused recurrent kernel keeps every h_t inside one op, so the gradient reaching
the output sequence is only what flows in from above, not what flows back through
the later steps. On a probed step a `TimeTap` runs the module's own weights one step at
a time (`engine.modules.unrolled`, the app's recurrent layers do the same), with a zero
tensor added to each h_t of its top layer whose gradient is dL/dh_t through time; every
other step runs the module untouched. What the tap cannot unroll (a PackedSequence,
``proj_size``, an unbatched input) runs fused and is not measured through time, with one
warning.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ..engine.modules import unrolled
from .shield import Shield


class TimeTap:
    """Set ``time_hook`` to measure ``module``'s next forwards through time; None: off.

    The same attribute a designed `modules.Recurrent` has, so the prober treats both
    alike. The module's ``forward`` is replaced on the instance only while it is set."""

    def __init__(self, module: nn.RNNBase, shield: Shield):
        self.module = module
        self.shield = shield
        self._hook = None
        self._warned = False

    @property
    def time_hook(self):
        return self._hook

    @time_hook.setter
    def time_hook(self, hook) -> None:
        if hook is not None and self._hook is None:
            self.module.forward = self._forward  # an instance attribute: the class's stays
        elif hook is None and self._hook is not None:
            del self.module.forward
        self._hook = hook

    def _forward(self, input, hx=None):
        op = type(self.module).forward.__get__(self.module)  # the module's own forward
        if self._hook is None or not torch.is_grad_enabled():
            return op(input, hx)
        why = self._cannot(input, hx)
        if why:
            if not self._warned:
                self._warned = True
                warnings.warn(f"desklab.watch: the gradient through time of "
                              f"{type(self.module).__name__} is not measured: {why}",
                              RuntimeWarning, stacklevel=3)
            return op(input, hx)
        if self.shield.error is not None:
            return op(input, hx)
        try:
            return self._unrolled(input, hx)
        except Exception as exc:  # noqa: BLE001 - the module's own forward instead
            self.shield.error = exc  # (the user's own mistake raises again in op)
            return op(input, hx)

    def _unrolled(self, input, hx):
        """The module's forward, its top layer one step at a time through the tap."""
        m = self.module
        x = input if m.batch_first else input.transpose(0, 1)  # (B, T, F)
        tap = x.new_zeros(x.shape[0], x.shape[1], m.hidden_size * (2 if m.bidirectional
                                                                    else 1),
                          requires_grad=True)
        tap.register_hook(self._hook)
        finals: list = []
        state = None if hx is None else (hx if m.mode == "LSTM" else (hx, None))
        seq = unrolled(m, x, tap, finals, state)  # (B, T, H·dirs)
        h_n = torch.stack([h for h, _ in finals])  # (layers·dirs, B, H)
        out = seq if m.batch_first else seq.transpose(0, 1)
        if m.mode == "LSTM":
            return out, (h_n, torch.stack([c for _, c in finals]))
        return out, h_n

    def _cannot(self, input, hx) -> str:
        """Why this call cannot be unrolled ("" when it can)."""
        if isinstance(input, nn.utils.rnn.PackedSequence):
            return "it is given a PackedSequence"
        if getattr(self.module, "proj_size", 0):
            return "it has proj_size"
        if input.dim() != 3:
            return "its input is unbatched"
        return ""
