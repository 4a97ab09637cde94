"""Steps too large or too small: the update / weight ratio, read with the loss and with
the findings that starve the gradients.

cs231n's guide: each step should change the weights by about 1e-3 of their size. The
ratio alone cannot tell a crawl from the end of a run: a net that has learned
(deep-relu late in training, 4e-5 to 1e-4) takes small steps too, so "too small" also
reads how much of the loss is left (`loss_left`). And where the gradients vanish, the
units die or saturate, the learning rate is not what keeps the steps small: raising it
would only push the layers that still get gradients past healthy (deep-sigmoid at step
1000: fc1 1e-9, fc10 5e-5, the head 4e-3), so the finding names the cause instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .records import Finding
from .snapshot import Snapshot

if TYPE_CHECKING:  # for annotations only
    from .history import RunHistory

UPDATE_RATIO_LOW = 1e-5  # median ||dW|| / ||W|| per step below this: learning crawls
UPDATE_RATIO_SLOW = 1e-4  # below this while the loss is still high (below): crawls too
UPDATE_RATIO_HIGH = 3e-2  # above this: steps too large (about 1e-3 is healthy)
LOSS_STILL_HIGH = 0.4  # recent loss at least this share of the first: little learned yet
LOSS_CONVERGED = 0.05  # below this share: small updates are a run that has converged
LOSS_WINDOW = 10  # steps averaged at each end of the loss curve for those shares
STARVING = {  # findings that keep the gradients, so the steps, small: how they are said
    "vanishing": "the gradients vanish before they reach the first layers",
    "collapsed": "the activations have collapsed toward 0",
    "saturated": "units are saturated (their slope is near 0)",
    "dead_relu": "units are dead (they pass no gradient)",
    "symmetric": "the units are identical",
    "vanishing_time": "the gradient vanishes through time",
}


def loss_left(history: RunHistory) -> float | None:
    """The recent training loss as a share of the first (mean of LOSS_WINDOW steps at
    each end): 1 learned nothing yet, 0.05 learned most of it. None with fewer than
    four steps, no finite loss at an end (a script that reports none), or a first loss
    that is not positive (a share means nothing then)."""
    _, loss = history.step_series("loss")  # (T,); read at its two ends only: this runs
    window = min(LOSS_WINDOW, len(loss) // 2)  # at every probe of runs of 100k steps
    if window < 2:
        return None
    head, tail = loss[:window], loss[-window:]
    head, tail = head[np.isfinite(head)], tail[np.isfinite(tail)]
    if not head.size or not tail.size or head.mean() <= 0:
        return None
    return float(tail.mean() / head.mean())


def starved_by(found: list[Finding]) -> list[str]:
    """The kinds among ``found`` that starve the gradients (`STARVING`), in order."""
    return list(dict.fromkeys(f.kind for f in found if f.kind in STARVING))


def update_ratio(snap: Snapshot, left: float | None = None,
                 starved: list[str] = ()) -> list[Finding]:
    """Steps too large, or too small: below UPDATE_RATIO_LOW, or below UPDATE_RATIO_SLOW
    while the loss is still LOSS_STILL_HIGH of its start (``left``, `loss_left`); never
    "too small" once the loss is down to LOSS_CONVERGED of its start. With ``starved``
    (`starved_by`), small steps are said to follow from those findings."""
    ratios = snap.stat("update_ratio")
    finite = ratios[np.isfinite(ratios) & (ratios > 0)]
    if finite.size == 0:
        return []
    median = float(np.median(finite))
    big = median > UPDATE_RATIO_HIGH
    crawling = left is not None and left >= LOSS_STILL_HIGH and median < UPDATE_RATIO_SLOW
    converged = left is not None and left < LOSS_CONVERGED
    if not big and not crawling and (median >= UPDATE_RATIO_LOW or converged):
        return []
    size = (f"Updates are too {'large' if big else 'small'}: each step changes the weights "
            f"by {median:.1e} of their size (median over layers); about 1e-3 is healthy. ")
    if big:
        return [Finding("update_ratio", None, snap.step,
                        size + "Steps this large overshoot and can blow up the run.",
                        "Lower the learning rate.", "warning")]
    if starved:
        causes = " and ".join(STARVING[kind] for kind in starved)
        return [Finding(
            "update_ratio", None, snap.step,
            size + f"Here {causes}: that, more than the learning rate, keeps the steps "
            "small (its own finding says how to fix it).",
            "Fix that first: a higher learning rate would only push the layers that still "
            "get gradients (the last ones) past a healthy step.", "info")]
    still = (f"The loss is still {left:.0%} of where it started: at this rate the network "
             "learns very slowly." if left is not None and left >= LOSS_STILL_HIGH else
             "At this rate the network learns very slowly.")
    return [Finding("update_ratio", None, snap.step, size + still,
                    "Raise the learning rate (on a log scale).", "info")]
