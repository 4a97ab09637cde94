"""Diagnostics: rules that turn a run's history into findings in plain words.

Each rule reads the history (numbers only) and returns findings that explain
the concept behind what is seen. Rules are stateless: `diagnose` re-derives
the current findings from the latest measurements, so a problem that goes away
(a saturation at init that training fixes) disappears from the list.
Thresholds are the named constants below.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..design.catalog import ACTIVATIONS, dying_activations, saturating_activations
from .records import Finding, said
from .babysitting import initial_loss, overfitting
from .layout_cache import per_layout
from .snapshot import Snapshot
from .through_time import through_time
from .update_size import loss_left, starved_by, update_ratio

if TYPE_CHECKING:  # for annotations only: history imports this module
    from .history import RunHistory

VANISHING_RATIO = 1e-3  # first layer's mean |dL/dh| below the last hidden layer's by this
EXPLODING_DEPTH_RATIO = 1e3  # first layer's mean |dL/dh| above the last's by this
EXPLODING_GROWTH = 100.0  # largest weight-gradient norm grew this much since the start
SATURATED_FRAC = 0.5  # share of a sigmoid / tanh layer's outputs within 1% of a bound
DEAD_FRAC = 0.5  # share of a layer's units that are 0 for the whole batch
COLLAPSED_STD = 1e-2  # activation std below this carries almost no signal
SYMMETRIC_SPREAD = 1e-5  # std across units (relative to |mean|) below this: identical units
# (float32 rounding leaves ~1e-7 relative spread between truly identical units)
MIN_DEPTH = 3  # depth-ratio rules need at least this many hidden layers


def diagnose(history: RunHistory) -> list[Finding]:
    """Every rule's findings for the history's latest measurements."""
    found: list[Finding] = []
    snap = history.latest
    if snap is not None:
        for rule in (vanishing, exploding_depth, saturated, dead_units, collapsed, symmetric,
                     through_time):
            found.extend(rule(snap))
        # read after the others: a finding that starves the gradients explains small steps
        found.extend(update_ratio(snap, loss_left(history), starved_by(found)))
        found.extend(exploding_growth(history))
    found.extend(overfitting(history))
    found.extend(initial_loss(history))
    return found


def _fraction(x: float) -> str:
    """0.25 as "1/4": how the slope bounds are taught."""
    return str(Fraction(x).limit_denominator(64))


def _hidden(snap: Snapshot) -> list[int]:
    """Indices of the probe points that are layers (not the output head)."""
    return [i for i, m in enumerate(snap.layout.layers) if m.kind != "output"]


def _name(snap: Snapshot, i: int) -> str:
    return snap.layout.layers[i].name


def _said(snap: Snapshot, i: int) -> str:
    return said(snap.layout.layers[i].name)


def _about_layers(kind: str, snap: Snapshot, idx: list[int], message: str,
                  advice: str) -> list[Finding]:
    """One finding naming the first affected layer and listing them all."""
    return [Finding(kind, _name(snap, idx[0]), snap.step, message, advice,
                    layers=tuple(_name(snap, j) for j in idx))]


def _symmetric_candidates(layout) -> np.ndarray:
    """Layers that own a weight and have several units (not residual sums)."""
    return per_layout(layout, "symmetric", lambda lo: np.array(
        [i for i, m in enumerate(lo.layers) if m.kind not in ("output", "residual")
         and m.has_weight and m.out_shape[0] >= 2], dtype=int))


def _output_sizes(layout) -> np.ndarray:
    return per_layout(layout, "sizes", lambda lo: np.array(
        [math.prod(m.out_shape) for m in lo.layers], float))


def layer_gradient(snap: Snapshot) -> np.ndarray:
    """|dL/dh| summed over each layer's outputs (per example): mean |dL/dh| x outputs.

    The depth rules compare this, not the mean: average pooling and flatten spread a
    gradient over more outputs without shrinking it (a global 8x8 pool divides each
    element's share by 64 and keeps the sum), so comparing means across layers of
    different sizes would call any CNN with pooling "vanishing"."""
    return snap.stat("grad_mean_abs") * _output_sizes(snap.layout)


def _depth_ratio(snap: Snapshot) -> tuple[int, int, float] | None:
    g = layer_gradient(snap)
    idx = [i for i in _hidden(snap) if np.isfinite(g[i])]
    if len(idx) < MIN_DEPTH:
        return None
    first, last = idx[0], idx[-1]
    if g[last] <= 0:
        return None
    return first, last, g[first] / g[last]


def vanishing(snap: Snapshot) -> list[Finding]:
    found = _depth_ratio(snap)
    if found is None or not found[2] < VANISHING_RATIO:
        return []
    first, last, ratio = found
    acts = sorted({snap.layout.layers[i].activation for i in _hidden(snap)})
    slopes = [(a, ACTIVATIONS[a].meta["max_slope"]) for a in acts
              if a in ACTIVATIONS and ACTIVATIONS[a].meta.get("max_slope")]
    why = "".join(f"{a}'s slope is at most {_fraction(m)}, so every {a} layer shrinks the "
                  f"gradient by {1 / m:g}x or more; " for a, m in slopes)
    advice = ("Use ReLU-family activations with He init, add BatchNorm, or add residual "
              "connections so the gradient has a short path back.")
    small = collapsed(snap)  # the same small weights shrink the signal both ways: one
    if small:  # cause, one fix (init-tanh-0.01 was told "use ReLU" here, "Xavier" there)
        why += (f"here the weights are too small: the activations collapse from "
                f"{said(small[0].layer)} on, and the backward pass "
                "multiplies the gradient by the same small weights; ")
        advice = small[0].advice + " The collapse and the vanishing have that one cause."
    return [Finding(
        "vanishing", _name(snap, first), snap.step,
        f"Vanishing gradients: the gradient reaching {_said(snap, first)} (|dL/dh| summed "
        f"over its outputs: {layer_gradient(snap)[first]:.1e}) is {ratio:.0e} of the one at "
        f"{_said(snap, last)}. Backpropagation multiplies the gradient by each layer's "
        f"weights and activation slope; {why}over many layers the product becomes tiny, so "
        "the first layers barely learn.", advice)]


def exploding_depth(snap: Snapshot) -> list[Finding]:
    found = _depth_ratio(snap)
    if found is None or not found[2] > EXPLODING_DEPTH_RATIO:
        return []
    first, last, ratio = found
    return [Finding(
        "exploding", _name(snap, first), snap.step,
        f"Exploding gradients: the gradient at {_said(snap, first)} is {ratio:.0e} times the "
        f"one at {_said(snap, last)}. Each layer multiplies it by weights that are too large, "
        "so it grows layer by layer toward the input and updates there are huge.",
        "Use a smaller init (Xavier / He), add normalization, clip gradients or lower the "
        "learning rate.")]


def exploding_growth(history: RunHistory) -> list[Finding]:
    steps, values = history.stat_series("weight_grad_norm")
    if values.size == 0 or values.shape[1] < 4:
        return []
    peak = np.nanmax(np.where(np.isfinite(values), values, np.nan), axis=0)  # (T,)
    early = np.nanmedian(peak[: max(2, len(peak) // 10)])
    latest, before = peak[-1], peak[-2]
    # growth that built up, not one batch's spike: the snapshot before must already be
    # well above the start (rules run on every snapshot, so a lone spike would otherwise
    # read as "exploding" for one step)
    if not (np.isfinite(latest) and early > 0 and latest > EXPLODING_GROWTH * early
            and before >= np.sqrt(EXPLODING_GROWTH) * early):
        return []
    return [Finding(
        "exploding", None, int(steps[-1]),
        f"Exploding gradients: the largest weight-gradient norm has grown from "
        f"{early:.2g} to {latest:.2g} ({latest / early:.0f}x) since the start of the run. "
        "Large steps make the weights grow, which makes the gradients grow: a feedback loop "
        "that ends in NaN.",
        "Lower the learning rate or clip gradients by norm.")]


def _over(snap: Snapshot, stat: str, activations: tuple, threshold: float):
    """Hidden layers with one of ``activations`` whose ``stat`` exceeds ``threshold``,
    and the worst of them (None when there are none)."""
    values = snap.stat(stat)
    idx = [i for i in _hidden(snap) if snap.layout.layers[i].activation in activations
           and values[i] > threshold]
    return idx, (max(idx, key=lambda j: values[j]) if idx else None)


def saturated(snap: Snapshot) -> list[Finding]:
    idx, i = _over(snap, "frac_saturated", saturating_activations(), SATURATED_FRAC)
    if not idx:
        return []
    act = snap.layout.layers[i].activation
    low, high = ACTIVATIONS[act].meta["bounds"]
    bounds = f"{low:+g} or {high:+g}" if low < 0 else f"{low:g} or {high:g}"
    peak = ACTIVATIONS[act].meta.get("max_slope")
    slope = f"{act}'s slope peaks at {_fraction(peak)} and" if peak else f"{act}'s slope"
    share = snap.stat("frac_saturated")
    first = idx[0]  # the finding's layer (its header); the worst is named too
    worst = f"; the most in {_said(snap, i)}, {share[i]:.0%}" if i != first else ""
    xavier = all(snap.layout.layers[j].init.startswith("xavier") for j in idx)
    return _about_layers(
        "saturated", snap, idx,
        f"Saturated {act}: in {_said(snap, first)} {share[first]:.0%} of the outputs sit "
        f"within 1% of {bounds} ({len(idx)} layer(s) affected{worst}). There {slope} is "
        "almost 0, so almost no gradient passes and these units stop learning.",
        ("These layers already use Xavier init: standardise the inputs, add BatchNorm, "
         "lower the learning rate, or switch to ReLU." if xavier else
         "Use smaller initial weights (Xavier), standardise the inputs, add BatchNorm, or "
         "switch to ReLU."))


def dead_units(snap: Snapshot) -> list[Finding]:
    idx, i = _over(snap, "frac_dead", dying_activations(), DEAD_FRAC)
    if not idx:
        return []
    dead, first = snap.stat("frac_dead"), idx[0]  # the header's layer, then the worst
    worst = f"; the most in {_said(snap, i)}, {dead[i]:.0%}" if i != first else ""
    return _about_layers(
        "dead_relu", snap, idx,
        f"Dead units: {dead[first]:.0%} of the units in {_said(snap, first)} output 0 "
        f"for the whole batch ({len(idx)} layer(s) affected{worst}). A ReLU that is 0 for "
        "every input has zero gradient, so nothing can revive it.",
        "Lower the learning rate, use He init, or use Leaky ReLU / ELU whose slope is never 0.")


def collapsed(snap: Snapshot) -> list[Finding]:
    std = snap.stat("act_std")
    idx = [i for i in _hidden(snap) if np.isfinite(std[i]) and std[i] < COLLAPSED_STD]
    if not idx:
        return []
    return _about_layers(
        "collapsed", snap, idx,
        f"Collapsed activations: from {_said(snap, idx[0])} on, activations have std "
        f"{std[idx[0]]:.1e} or less ({len(idx)} layer(s)). Weights that are too small shrink the "
        "signal at every layer, so deep layers output almost the same value for every input "
        "and carry no information.",
        "Use Xavier (tanh) or He (ReLU) init, or add BatchNorm.")


def symmetric(snap: Snapshot) -> list[Finding]:
    # vectorised over layers: the rules run on every snapshot, 200 layers included
    rows = _symmetric_candidates(snap.layout)
    spread, mean = snap.stat("unit_spread")[rows], snap.stat("act_mean")[rows]
    wstd = snap.stat("weight_std")[rows]
    with np.errstate(invalid="ignore"):
        same = (np.isfinite(wstd) & (wstd == 0)) | (
            np.isfinite(spread) & (spread <= SYMMETRIC_SPREAD * np.maximum(np.abs(mean), 1e-12))
            & (np.abs(mean) > 0))
    idx = [int(i) for i in rows[same]]
    if not idx:
        return []
    return _about_layers(
        "symmetric", snap, idx,
        f"Identical units in {_said(snap, idx[0])} ({len(idx)} layer(s)): every unit computes "
        "the same function and receives the same gradient, so they can never become "
        "different. This is what zero or constant init does: the layer is as good as one unit.",
        "Initialise weights randomly (Xavier / He) to break the symmetry.")
