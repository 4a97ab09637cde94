"""cs231n's "overfit a tiny subset first": the design cut down to 20 training examples
with every regulariser off. A network that cannot reach ~100% training accuracy on 20
examples has a problem no amount of data will fix (a bad learning rate, a broken
layer, vanishing gradients); one that can is ready for the full set. A regression has
no accuracy: it fits when its training loss falls to a twentieth of where it started
(measured here: healthy sine fits end at 0.5-0.9% of it, a learning rate of 1e-6 at
98%, eight sigmoid layers at 13%).

The run stops at the first evaluation that fits, after at most `STEPS` steps. Most
designs fit within 100-300 steps; recurrent nets take longer (measured on 20 adding-
problem sequences of length 100: the LSTM at 1.5% of its first loss by step 600, the
tanh RNN at 0.2% by step 900, both at 13-14% at step 300), while the broken presets
(deep-sigmoid, init-zeros, lr-too-low, deep-plain, the exploding RNN, ...) fail at
1000 steps as they did at 300."""

from __future__ import annotations

import math

from .catalog import DATASETS
from .model import NetworkDesign

EXAMPLES = 20
STEPS = 1000  # the most it trains: it stops at the first evaluation that fits
EVAL_EVERY = 50  # steps between evaluations (each one a chance to stop)
VAL_IMAGES = 1000  # a real image set's validation images: the verdict does not use them
FIT_ACCURACY = 0.99  # a classification fits: this share of the examples right
FIT_LOSS_SHARE = 0.05  # a regression fits: its training loss down to this share


def tiny_subset(design: NetworkDesign, examples: int = EXAMPLES) -> NetworkDesign:
    """A copy of ``design`` training on ``examples`` examples, unregularised."""
    d = design.copy()
    entry = DATASETS.get(d.input.dataset)
    names = {p.name for p in entry.params} if entry else set()
    if "real" in (entry.meta if entry else {}):
        d.input.params["samples"] = examples  # the training split
        shown = d.input.params.get("test_samples") or VAL_IMAGES  # 0: all (10 000)
        d.input.params["test_samples"] = min(shown, VAL_IMAGES)  # 20 evaluations of them
    elif "samples" in names:
        fraction = d.input.val_fraction if isinstance(d.input.val_fraction, float) else 0.2
        d.input.params["samples"] = math.ceil(examples / max(1e-6, 1.0 - fraction))
    t = d.train
    t.l1 = t.l2 = 0.0
    t.batch_size = min(t.batch_size, examples)
    t.steps, t.eval_every, t.early_stopping = STEPS, EVAL_EVERY, 0
    for layer in d.all_layers():
        if isinstance(layer.dropout, (int, float)) and layer.dropout > 0:
            layer.dropout = 0.0
    d.name = f"{design.name}-sanity"
    return d


def fits(task: str, accuracy: float, first_loss: float, loss: float) -> bool:
    """Whether an evaluation shows the tiny subset fitted (see `verdict`)."""
    if task == "regression":
        return first_loss > 0 and math.isfinite(loss) and loss <= FIT_LOSS_SHARE * first_loss
    return math.isfinite(accuracy) and accuracy >= FIT_ACCURACY


def verdict(task: str, state: str, accuracy: float, first_loss: float,
            last_loss: float, step: int, steps_run: int) -> tuple[bool | None, str]:
    """Whether the tiny run fitted, and what to tell the user.

    Parameters
    ----------
    task : str
        The design's output task, "classes" or "regression".
    state : str
        How the run ended ("finished", "stopped" when it fitted early, "diverged", ...).
    accuracy : float
        Training accuracy at the last evaluation (NaN for a regression).
    first_loss, last_loss : float
        The training loss at step 0 and at the last evaluation.
    step : int
        The step of the last evaluation.
    steps_run : int
        The steps the run took (a diverged run may end before its first evaluation).

    Returns
    -------
    passed : bool or None
        None when there is no verdict: the run was stopped (by the user: the check
        stops itself only once it fits) or failed to run at all.
    text : str
    """
    if task == "regression":
        share = last_loss / first_loss if first_loss > 0 else math.nan
        measured = (f"training loss {first_loss:.3g} → {last_loss:.3g}, {share:.1%} of "
                    f"where it started" if math.isfinite(share) else "no finite loss")
        failed = f"the training loss did not fall to a twentieth of its first value " \
                 f"({measured})"
    else:
        shown = f"{accuracy:.0%}" if math.isfinite(accuracy) else "not measured"
        measured = failed = f"training accuracy {shown}"
    if fits(task, accuracy, first_loss, last_loss):
        return True, (f"Passed: the network fits {EXAMPLES} examples by step {step} "
                      f"({measured}). It can learn; now train on all the data.")
    if state in ("stopped", "interrupted"):
        return None, (f"Stopped at step {steps_run} before it fitted {EXAMPLES} examples: "
                      "no verdict.")
    if state == "failed":
        return None, "Could not run: the run failed before a verdict (its finding says why)."
    return False, (f"Failed: {failed} on {EXAMPLES} examples after {steps_run} steps ({state}). "
                   "Something prevents learning: the learning rate (too low or too high), "
                   "a layer that blocks the gradient, or the data. Fix it before training "
                   "on everything; the findings may say why.")
