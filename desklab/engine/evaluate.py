"""Train / validation metrics without stalling the device between evaluations."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..metrics.records import Confusion, Metrics
from ..metrics.report import MAX_CONFUSION_CLASSES

VAL_CHUNK = 4096  # validation forward passes in chunks of this many examples


class RunningMetrics:
    """Train loss and accuracy since the last evaluation, on the host.

    Each step's loss and correct (and top-5) counts already reach the host in the
    per-step log (`StepLog`), so the sums are kept there: a step adds no device work
    for them and an evaluation reads nothing more back.
    """

    def __init__(self, task: str, classes: int):
        self.task, self.classes = task, classes
        self._sums = [0.0, 0.0, 0.0]  # loss, accuracy, top-5 accuracy over the steps
        self._steps = 0

    def add_steps(self, loss: np.ndarray, acc: np.ndarray,
                  top5: np.ndarray | None = None) -> None:
        """The per-step log's values of some steps (each step one batch)."""
        sums = self._sums
        sums[0] += float(loss.sum())
        sums[1] += float(acc.sum())
        if top5 is not None:
            sums[2] += float(top5.sum())
        self._steps += len(loss)

    def take(self) -> tuple[float, float, float]:
        """(mean loss, accuracy, top-5 accuracy) over the steps since the last take, NaN
        where not applicable; resets the sums."""
        steps = self._steps or math.nan  # no step since the last take: NaN
        classes = self.task == "classes"
        loss, acc, top5 = (total / steps for total in self._sums)
        result = (loss, acc if classes else math.nan,
                  top5 if classes and self.classes > 5 else math.nan)
        self._sums, self._steps = [0.0, 0.0, 0.0], 0
        return result


def confusion_counts(task: str, classes: int, device) -> torch.Tensor | None:
    """A (classes, classes) int64 accumulator for `validation_sums`, on ``device``: for
    a classification of 2 to ``MAX_CONFUSION_CLASSES`` classes, else None."""
    if task != "classes" or not 2 <= classes <= MAX_CONFUSION_CLASSES:
        return None
    return torch.zeros(classes, classes, dtype=torch.long, device=device)


@torch.no_grad()
def validation_sums(model, x: torch.Tensor, y: torch.Tensor, task: str,
                    classes: int, prepare=None, confusion: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """(mean loss, accuracy, top-5 accuracy) over (x, y) in eval mode, on the device.

    ``prepare`` turns a chunk of ``x`` into the network's input (uint8 images into
    normalised float), so the validation set never exists as float all at once.
    ``confusion`` (classes, classes) int64 on the device, when given, is set to the
    counts of (true class, predicted class) pairs: from the same forward passes, one
    bincount a chunk, nothing read back.
    """
    nan = torch.full((3,), math.nan, device=x.device)
    if len(x) == 0:
        return nan
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, device=x.device)
    if confusion is not None:
        confusion.zero_()
    for start in range(0, len(x), VAL_CHUNK):
        xb, yb = x[start:start + VAL_CHUNK], y[start:start + VAL_CHUNK]
        out = model(prepare(xb) if prepare is not None else xb)
        if task == "classes":
            sums[0] += F.cross_entropy(out, yb, reduction="sum")
            predicted = out.argmax(1)  # (B,)
            sums[1] += predicted.eq(yb).sum()
            if confusion is not None:
                confusion.view(-1).add_(torch.bincount(yb * classes + predicted,
                                                       minlength=confusion.numel()))
            if classes > 5:
                sums[2] += out.topk(5, 1).indices.eq(yb[:, None]).any(1).sum()
        else:
            sums[0] += F.mse_loss(out, yb, reduction="sum") / yb.shape[1]
    model.train(was_training)
    result = sums / len(x)
    if task != "classes":
        result[1:] = math.nan
    elif classes <= 5:
        result[2] = math.nan
    return result


def evaluate(model, running: RunningMetrics, x_val, y_val, task: str, step: int,
             lr: float, prepare=None, confusion: torch.Tensor | None = None
             ) -> tuple[Metrics, Confusion | None]:
    """Metrics at ``step``: running train values and a validation pass; with
    ``confusion`` (see `validation_sums`) a copy of its counts too (None without a
    validation split). One host transfer for all of it."""
    loss, acc, top5 = running.take()
    val = validation_sums(model, x_val, y_val, task, running.classes, prepare, confusion)
    parts = [val] if confusion is None else [val, confusion.flatten()]
    # float64 holds every count exactly (to 2^53), so the counts ride the same transfer
    host = torch.cat([p.double() for p in parts]).cpu().numpy()  # (3 + C * C,)
    vloss, vacc, vtop5 = host[:3].tolist()
    counts = None
    if confusion is not None and len(x_val):
        counts = Confusion(step, host[3:].astype(np.int64).reshape(confusion.shape))
    return Metrics(step, loss, vloss, acc, vacc, top5, vtop5, lr), counts
