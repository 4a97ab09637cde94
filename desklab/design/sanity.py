"""cs231n's "overfit a tiny subset first": the design cut down to 20 training examples
with every regulariser off. A network that cannot reach ~100% training accuracy on 20
examples has a problem no amount of data will fix (a bad learning rate, a broken
layer, vanishing gradients); one that can is ready for the full set. A regression has
no accuracy: it fits when its training loss falls to a twentieth of where it started
(measured here: healthy sine fits end at 0.5-0.9% of it, a learning rate of 1e-6 at
98%, eight sigmoid layers at 13%)."""

from __future__ import annotations

import math

from .catalog import DATASETS
from .model import NetworkDesign

EXAMPLES = 20
STEPS = 300
FIT_ACCURACY = 0.99  # a classification fits: this share of the examples right
FIT_LOSS_SHARE = 0.05  # a regression fits: its training loss down to this share


def tiny_subset(design: NetworkDesign, examples: int = EXAMPLES) -> NetworkDesign:
    """A copy of ``design`` training on ``examples`` examples, unregularised."""
    d = design.copy()
    entry = DATASETS.get(d.input.dataset)
    names = {p.name for p in entry.params} if entry else set()
    if "real" in (entry.meta if entry else {}):
        d.input.params["samples"] = examples  # the training split; validation unchanged
    elif "samples" in names:
        fraction = d.input.val_fraction if isinstance(d.input.val_fraction, float) else 0.2
        d.input.params["samples"] = math.ceil(examples / max(1e-6, 1.0 - fraction))
    t = d.train
    t.l1 = t.l2 = 0.0
    t.batch_size = min(t.batch_size, examples)
    t.steps, t.eval_every, t.early_stopping = STEPS, 50, 0
    for layer in d.all_layers():
        if isinstance(layer.dropout, (int, float)) and layer.dropout > 0:
            layer.dropout = 0.0
    d.name = f"{design.name}-sanity"
    return d


def verdict(task: str, state: str, accuracy: float, first_loss: float,
            last_loss: float) -> tuple[bool, str]:
    """Whether the tiny run fitted, and what to tell the user.

    Parameters
    ----------
    task : str
        The design's output task, "classes" or "regression".
    state : str
        How the run ended ("finished", "diverged", ...).
    accuracy : float
        Training accuracy at the last evaluation (NaN for a regression).
    first_loss, last_loss : float
        The training loss at step 0 and at the last evaluation.
    """
    if task == "regression":
        share = last_loss / first_loss if first_loss > 0 else math.nan
        measured = (f"training loss {first_loss:.3g} → {last_loss:.3g}, {share:.1%} of "
                    f"where it started" if math.isfinite(share) else "no finite loss")
        passed = math.isfinite(share) and share <= FIT_LOSS_SHARE
        failed = f"the training loss did not fall to a twentieth of its first value " \
                 f"({measured})"
    else:
        passed = math.isfinite(accuracy) and accuracy >= FIT_ACCURACY
        shown = f"{accuracy:.0%}" if math.isfinite(accuracy) else "not measured"
        measured = failed = f"training accuracy {shown}"
    if passed:
        return True, (f"Passed: the network fits {EXAMPLES} examples ({measured}). It "
                      f"can learn; now train on all the data.")
    return False, (f"Failed: {failed} on {EXAMPLES} examples ({state}). Something prevents "
                   "learning: the learning rate (too low or too high), a layer that "
                   "blocks the gradient, or the data. Fix it before training on "
                   "everything; the findings may say why.")
