"""What a module's output is measured as: its first floating tensor, feature axis last.

A Linear or a ReLU returns a tensor; an LSTM returns ``(output, (h, c))``, a
MultiheadAttention ``(attention output, weights)``, an RNN fed a `PackedSequence`
returns one. The activation measured is the first floating tensor found depth-first
(the output sequence, the attention output; a PackedSequence's ``data``). For
sequences, ``(batch, time, features)`` or ``(time, batch, features)``, the units are
the features (the last axis), not the time steps: such outputs are measured as
``(rows, features)``, every position a row.
"""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence


def first_float(output) -> tuple[torch.Tensor | None, str]:
    """(the tensor measured, where it was found: "" for the output itself, "[0]",
    "[0].data"...), or (None, "") when the output holds no floating tensor."""
    if isinstance(output, torch.Tensor):
        return (output, "") if output.is_floating_point() else (None, "")
    if isinstance(output, PackedSequence):
        return (output.data, ".data") if output.data.is_floating_point() else (None, "")
    if isinstance(output, (tuple, list)):
        for i, part in enumerate(output):
            found, where = first_float(part)
            if found is not None:
                return found, f"[{i}]{where}"
    return None, ""


def as_rows(t: torch.Tensor) -> torch.Tensor:
    """A sequence output (…, features) as (rows, features): its units are the last axis."""
    return t.reshape(-1, t.shape[-1])
