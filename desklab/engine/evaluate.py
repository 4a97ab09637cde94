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
    """Device-side sums of loss and accuracy over the training batches since the last take.

    Adding never reads a value back to the host, so it costs no synchronisation.
    """

    def __init__(self, device: torch.device, task: str, classes: int):
        self.task, self.classes = task, classes
        self._sums = torch.zeros(3, device=device)  # loss, correct, top-5 correct
        self._batches = 0
        self._samples = 0

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor
            ) -> torch.Tensor | None:
        """Add one batch; returns its count of correct top-1 predictions (a 0-d device
        tensor, None for regression) for the per-step log, at no extra cost."""
        self._sums[0] += loss
        self._batches += 1
        if self.task != "classes":
            return None
        self._samples += len(y)
        correct = out.argmax(1).eq(y).sum()
        self._sums[1] += correct
        if self.classes > 5:
            self._sums[2] += out.topk(5, 1).indices.eq(y[:, None]).any(1).sum()
        return correct

    def take(self) -> torch.Tensor:
        """(mean loss, accuracy, top-5 accuracy) on the device; resets the sums."""
        nan = math.nan
        scale = torch.tensor([1.0 / max(self._batches, 1),
                              1.0 / self._samples if self._samples else nan,
                              1.0 / self._samples if self._samples and self.classes > 5 else nan],
                             device=self._sums.device)
        result = self._sums * scale if self._batches else torch.full_like(self._sums, nan)
        self._sums = torch.zeros_like(self._sums)
        self._batches = self._samples = 0
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
    train = running.take()
    val = validation_sums(model, x_val, y_val, task, running.classes, prepare, confusion)
    parts = [train, val] if confusion is None else [train, val, confusion.flatten()]
    # float64 holds every count exactly (to 2^53), so the counts ride the same transfer
    host = torch.cat([p.double() for p in parts]).cpu().numpy()  # (6 + C * C,)
    loss, acc, top5, vloss, vacc, vtop5 = host[:6].tolist()
    counts = None
    if confusion is not None and len(x_val):
        counts = Confusion(step, host[6:].astype(np.int64).reshape(confusion.shape))
    return Metrics(step, loss, vloss, acc, vacc, top5, vtop5, lr), counts
