"""The gradient through time: a rule on a recurrent layer's ||dL/dh_t|| across t.

Backpropagation through time multiplies the gradient by the recurrent Jacobian
dh_t / dh_(t-1) once per step back; over T steps the product shrinks or grows
geometrically (Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013), so
the first steps of a long sequence get almost no gradient, or an enormous one.
"""

from __future__ import annotations

import numpy as np

from .records import Finding, said
from .snapshot import Snapshot

TIME_DECADES = 3.0  # ||dL/dh_1|| this many decades below (above) ||dL/dh_T||: a finding


def time_ratio(snap: Snapshot) -> list[tuple[int, float]]:
    """(layer position, ||dL/dh_1|| / ||dL/dh_T||) of each recurrent layer measured."""
    if snap.time_grad is None:
        return []
    out = []
    for row, i in enumerate(snap.layout.time_layers):
        g = snap.time_grad[row, :snap.layout.layers[i].time_steps]
        if g.size >= 2 and np.isfinite(g[[0, -1]]).all() and g[-1] > 0:
            out.append((i, float(g[0] / g[-1])))
    return out


def through_time(snap: Snapshot) -> list[Finding]:
    """A vanishing- or exploding-through-time finding per recurrent layer."""
    found = []
    for i, ratio in time_ratio(snap):
        meta = snap.layout.layers[i]
        steps, decades = meta.time_steps, abs(np.log10(ratio)) if ratio > 0 else np.inf
        if decades < TIME_DECADES:
            continue
        if ratio < 1:
            found.append(Finding(
                "vanishing_time", meta.name, snap.step,
                f"Vanishing gradient through time in {said(meta.name)}: the gradient reaching its "
                f"first time step is {ratio:.0e} of the one at its last (over {steps} steps, "
                f"{decades:.1f} decades). Each step back multiplies it by the recurrent "
                "weights and tanh's slope, so what happened early in the sequence barely "
                "changes the weights: the net cannot learn long-range dependencies.",
                "Use an LSTM or GRU (its gated cell passes the gradient back almost "
                "unchanged), initialise W_hh orthogonally, or shorten the sequences."))
        else:
            found.append(Finding(
                "exploding_time", meta.name, snap.step,
                f"Exploding gradient through time in {said(meta.name)}: the gradient at its "
                f"first time step is {ratio:.0e} times the one at its last (over {steps} "
                "steps). The recurrent weights' largest singular value is above 1, so each "
                "step back multiplies the gradient up; updates become huge and the loss "
                "jumps.",
                "Clip the gradient norm (Train > grad clip, Pascanu et al. 2013), lower the "
                "recurrent gain to 1 with an orthogonal init, or lower the learning rate."))
    return found
