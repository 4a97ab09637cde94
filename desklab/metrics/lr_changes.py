"""Findings and the learning rate: a finding first found soon after the learning rate
was changed says so, and its advice starts from that change.

A user who raised the learning rate and then saw units saturate was told to "raise the
learning rate" or to "use Xavier init" by rules that look at one snapshot; the change
is in the run's per-step learning rates, so the history applies this to what the
rules found (`RunHistory.update_diagnosis`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .records import Finding

if TYPE_CHECKING:  # for annotations only: history imports this module
    from .history import RunHistory

LR_CHANGE_RATIO = 1.5  # a learning rate that moved by this factor or more was changed
LR_CHANGE_RECENT = 300  # steps: a finding this soon after a change says so
ANNEALED = 0.1  # a schedule that took the learning rate below this share of its peak
JUMP = 0.3  # ...smoothly: no one step moved it by more than this share of the peak


def lr_change(history: RunHistory) -> tuple[int, float, float] | None:
    """The run's latest learning-rate change: (step, before, after), or None."""
    steps, lr = history.step_series("lr")
    ok = np.isfinite(lr) & (lr > 0)
    steps, lr = steps[ok], lr[ok]
    if len(lr) < 2:
        return None
    moved = np.nonzero(np.abs(np.log(lr[1:] / lr[:-1])) >= np.log(LR_CHANGE_RATIO))[0]
    if not moved.size:
        return None
    k = int(moved[-1])
    return int(steps[k + 1]), float(lr[k]), float(lr[k + 1])


LR_SENSITIVE = {"saturated", "dead_relu", "exploding", "diverged", "update_ratio"}


def after_lr_change(finding: Finding, change: tuple[int, float, float]) -> Finding:
    """A finding first found soon after the learning rate was changed (``change``, from
    `lr_change`) says so, and its advice starts from that change (never "raise the
    learning rate" right after a raise)."""
    step, before, after = change
    if finding.kind not in LR_SENSITIVE or not 0 <= finding.step - step <= LR_CHANGE_RECENT:
        return finding
    raised = after > before
    note = (f" The learning rate was {'raised' if raised else 'lowered'} from {before:.3g} to "
            f"{after:.3g} at step {step}, {finding.step - step} steps before this.")
    advice = finding.advice
    if raised and "raise the learning rate" in advice.lower():
        advice = (f"The learning rate was just raised to {after:.3g}: give it a few hundred "
                  "steps before raising it again.")
    elif raised:
        advice = f"Go back to the learning rate before the change ({before:.3g}). " + advice
    return replace(finding, message=finding.message + note, advice=advice)


def annealed(history: RunHistory) -> tuple[float, float] | None:
    """(peak, now) when a schedule has decayed the run's learning rate smoothly (cosine,
    linear) below `ANNEALED` of its peak so far, else None. A jump (a step schedule,
    the slider) is `lr_change`'s."""
    _, lr = history.step_series("lr")
    lr = lr[np.isfinite(lr) & (lr > 0)]
    if len(lr) < 2 or lr[-1] > ANNEALED * lr.max():
        return None
    since_peak = lr[int(np.argmax(lr)):]
    if np.any(np.abs(np.diff(since_peak)) > JUMP * lr.max()):  # not a ratio: a linear
        return None  # decay's last steps to 0 change by several times their size
    return float(lr.max()), float(lr[-1])


def when_annealed(finding: Finding, peak_now: tuple[float, float]) -> Finding:
    """"Updates are too small: raise the learning rate" at the end of a decaying
    schedule (a Hugging Face run's linear decay to 0) asked to undo what the schedule
    does on purpose: it says so, and what to check instead."""
    if finding.kind != "update_ratio" or "raise the learning rate" not in \
            finding.advice.lower():
        return finding
    peak, now = peak_now
    return replace(finding, message=finding.message + (
        f" The schedule has lowered the learning rate to {now:.3g} from its peak of "
        f"{peak:.3g}: small updates are what it asks for as it ends."),
        advice="Nothing to do if the loss had flattened before the decay; if it was still "
               "falling, train longer or decay later.")
