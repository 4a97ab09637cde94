"""What a run reports (`TrainEvent`), how it ended (`RunResult`), and the findings the
loop itself makes: a failure (with advice by its cause), a divergence, an early stop."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..metrics.records import Finding


@dataclass(frozen=True)
class TrainEvent:
    """Something the loop reports.

    ``kind`` is ``snapshot`` (payload: Snapshot), ``metrics`` (Metrics), ``confusion``
    (Confusion: a classification's, after each metrics), ``steps``
    (StepSeries: every step's loss, accuracy and lr since the last one),
    ``finding`` (Finding), ``progress``, ``paused``, ``resumed`` or ``ended``
    (payload: the final state string).
    """

    kind: str
    step: int
    payload: object = None
    steps_per_second: float = math.nan


@dataclass
class RunResult:
    """How a run ended and how fast it went (training loop only, start-up excluded)."""

    state: str
    steps: int
    train_seconds: float
    findings: list[Finding] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.train_seconds if self.train_seconds > 0 else 0.0


def failure_advice(exc: BaseException) -> str:
    """What to try after a failed run, by what went wrong: only memory errors point at
    the batch size."""
    text = str(exc).lower()
    if isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError)) or "out of memory" in text:
        return ("Out of memory: try a smaller batch or network, or train on the CPU "
                "(more memory, slower).")
    if "cuda" in text or "device-side" in text or "cudnn" in text:
        return ("The GPU reported an error: try the run on the CPU; if it also fails "
                "there, please report it with the design file.")
    return ("PyTorch rejected an operation of this design; please report it with the "
            "design file. Other designs are not affected.")


def first_line(exc: BaseException) -> str:
    """An exception's first line of text (its type's name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def diverged_finding(bad_step: int, lr: float) -> Finding:
    """The error finding of a run whose loss became NaN or infinite at ``bad_step``."""
    return Finding(
        "diverged", None, bad_step,
        f"Diverged at step {bad_step}: the loss became NaN or infinite. Each update "
        f"overshot, the weights grew, and the numbers overflowed. With a learning rate of "
        f"{lr:g} the steps are too large for this network.",
        "Lower the learning rate (10x smaller is a good first try), clip gradients, or "
        "normalise the inputs. Everything measured before this step is kept.", "error")


def early_stop_finding(step: int, patience: int, best_val: float) -> Finding:
    """The info finding of a run stopped early at ``step``."""
    return Finding(
        "early_stopped", None, step,
        f"Stopped early at step {step}: the validation loss has not improved for "
        f"{patience} evaluations (best {best_val:.4g}).",
        "Early stopping keeps the model from overfitting further.", "info")


def failed_finding(step: int, device_name: str, exc: BaseException) -> Finding:
    """The error finding of a run that raised ``exc`` at ``step``."""
    return Finding("failed", None, step, f"The run failed at step {step} on {device_name}: "
                   f"{first_line(exc)}", failure_advice(exc), "error")
