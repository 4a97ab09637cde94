"""The babysitting checks of cs231n's notes: is the start of a run what it should be?

`initial_loss`: with C classes, small random weights and no bias toward any class, the
softmax is near uniform at step 0, so the cross-entropy should be about ln C (2.30 for
10 classes). Far above it, the initial weights are too large (the net is confidently
wrong before it learned anything); far below, the labels leak into the inputs or the
loss is not what it seems. The "overfit a tiny subset first" check is the app's
Train ▸ Sanity check.

`overfitting`: later, the validation loss rising while the training loss falls (or a
wide train / validation accuracy gap): the net memorises its examples.
"""

from __future__ import annotations

import math

import numpy as np

from .records import Finding

HIGH = 1.5  # loss at step 0 above HIGH x ln C (+ 0.1): initial weights too large
LOW = 0.5  # below LOW x ln C: suspiciously good before any learning
OVERFIT_MIN_EVALS = 5  # evaluations needed before judging overfitting
OVERFIT_RISE = 0.10  # validation loss this far above its best while training loss falls
OVERFIT_GAP = 0.15  # train accuracy minus validation accuracy
OVERFIT_MARGIN = 0.05  # validation loss must also exceed training loss by this much
OVERFIT_ACC_MARGIN = 0.02  # ...and training accuracy beat validation accuracy by this much


def initial_loss(history) -> list[Finding]:
    layout = history.layout
    if layout is None or not len(history.steps):
        return []
    steps, loss = history.step_series("loss")
    _, acc = history.step_series("train_acc")
    head = [m for m in layout.layers if m.kind == "output"]
    if steps[0] != 0 or not head or not np.isfinite(acc[0]) or not np.isfinite(loss[0]):
        return []  # not from step 0, a watched script, or regression (no accuracy)
    classes = head[0].out_shape[0]
    if classes < 2:
        return []
    expected = math.log(classes)
    first = float(loss[0])
    if first > HIGH * expected + 0.1:
        why = ("the outputs are already large and confident at init: the initial weights "
               "are too big (or the inputs are not normalised)")
        advice = ("Use Xavier / He init (or a smaller std) and standardise the inputs; "
                  "then the first loss is close to ln C.")
    elif first < LOW * expected:
        why = ("the net is right before it learned anything: the labels may leak into the "
               "inputs, or the task is easier than it looks")
        advice = "Check the data: shuffle the labels and the loss should rise to ln C."
    else:
        return []
    return [Finding(
        "initial_loss", head[0].name, 0,
        f"The loss at step 0 is {first:.3g}; with {classes} classes and small random "
        f"weights it should be about ln {classes} = {expected:.3g} (the softmax is near "
        f"uniform before training, cs231n's first sanity check). Here {why}.",
        advice, "info")]


def init_loss_note(loss: float, classes: int) -> str:
    """One line for the at-init preview: the loss before training against ln C."""
    if classes < 2 or not math.isfinite(loss):
        return ""
    expected = math.log(classes)
    if loss > HIGH * expected + 0.1:
        return (f"Loss at init {loss:.3g}, far above ln {classes} = {expected:.3g}: "
                f"the initial weights are too large.")
    if loss < LOW * expected:
        return (f"Loss at init {loss:.3g}, far below ln {classes} = {expected:.3g}: check "
                f"the labels.")
    return f"Loss at init {loss:.3g} ≈ ln {classes} = {expected:.3g}, as it should be."


def overfitting(history) -> list[Finding]:
    if len(history.metrics) < OVERFIT_MIN_EVALS:
        return []
    steps = history.metrics.steps
    val, loss = history.metric("val_loss"), history.metric("loss")
    tacc, vacc = history.metric("train_acc"), history.metric("val_acc")
    ok = np.isfinite(val) & np.isfinite(loss)
    if ok.sum() < OVERFIT_MIN_EVALS:
        return []
    val, loss, steps_ok = val[ok], loss[ok], steps[ok]
    best = int(np.argmin(val))
    recent = float(np.mean(val[-3:]))  # sustained, not one noisy evaluation
    rising = (best < len(val) - 3 and recent > val[best] * (1 + OVERFIT_RISE)
              and recent - val[best] > OVERFIT_MARGIN  # not noise on a tiny loss
              and loss[-1] < loss[best] and val[-1] - loss[-1] > OVERFIT_MARGIN)
    gap = tacc[-1] - vacc[-1] if np.isfinite(tacc[-1]) and np.isfinite(vacc[-1]) else None
    if rising and gap is not None and gap <= OVERFIT_ACC_MARGIN:
        rising = False  # validation does as well as training: noise, not memorising
    gap = gap or 0.0
    if not rising and gap <= OVERFIT_GAP:
        return []
    what = (f"the validation loss has risen {recent / val[best] - 1:.0%} above its best "
            f"(step {int(steps_ok[best])}) while the training loss keeps falling" if rising else
            f"training accuracy is {tacc[-1]:.0%} but validation accuracy only {vacc[-1]:.0%}")
    return [Finding(
        "overfitting", None, int(steps[-1]),
        f"Overfitting: {what}. The network is memorising the training examples instead of "
        "learning what generalises.",
        "Add dropout or an L2 penalty, stop early, use more data or a smaller network.")]
