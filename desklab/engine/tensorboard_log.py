"""TensorBoard event files for a run (the optional ``tensorboard`` extra)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import DeskLabError
from ..metrics import Metrics, Snapshot


class TensorBoardUnavailable(DeskLabError, RuntimeError):
    """The tensorboard package is not installed."""


class TensorBoardLogger:
    """Scalars (loss, accuracy, lr, per-layer stats) and per-layer activation histograms."""

    SCALAR_STATS = ("act_std", "frac_dead", "frac_saturated", "grad_mean_abs",
                    "weight_grad_norm", "update_ratio")

    def __init__(self, logdir: str):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TensorBoardUnavailable("TensorBoard logs need the tensorboard extra: "
                                         "python -m pip install 'desklab[tensorboard]'") from None
        self.writer = SummaryWriter(logdir)

    def add_metrics(self, m: Metrics) -> None:
        for name in ("loss", "val_loss", "train_acc", "val_acc", "train_top5", "val_top5",
                     "lr"):
            value = getattr(m, name)
            if math.isfinite(value):
                self.writer.add_scalar(f"metrics/{name}", value, m.step)

    def add_snapshot(self, snap: Snapshot) -> None:
        for i, meta in enumerate(snap.layout.layers):
            for stat in self.SCALAR_STATS:
                value = snap.stat(stat)[i]
                if np.isfinite(value):
                    self.writer.add_scalar(f"{stat}/{meta.name}", float(value), snap.step)
            counts = snap.hist[i]
            if not np.isfinite(counts).all() or counts.sum() <= 0:
                continue
            limits, bucket_counts, low, high = tensorboard_buckets(meta.hist_edges, counts)
            mean = snap.stat("act_mean")[i]
            std = snap.stat("act_std")[i]
            num = float(counts.sum())
            self.writer.add_histogram_raw(
                f"activations/{meta.name}", min=low, max=high,
                num=num, sum=float(mean * num), sum_squares=float((std ** 2 + mean ** 2) * num),
                bucket_limits=limits, bucket_counts=bucket_counts, global_step=snap.step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def tensorboard_buckets(edges: np.ndarray, counts: np.ndarray):
    """(limits, counts, min, max) for TensorBoard's right-edged buckets.

    ``counts`` is (underflow, N bins, overflow) over ``edges`` (N + 1). Values outside
    the range are drawn as one bucket of the bin width just outside it, and only when
    there are any; min and max are where the drawn buckets start and end (passing the
    fixed range as min/max drew the outer buckets wrongly).
    """
    width = float(edges[1] - edges[0])
    under, inside, over = float(counts[0]), [float(c) for c in counts[1:-1]], float(counts[-1])
    limits, values = [float(e) for e in edges[1:]], list(inside)
    low, high = float(edges[0]), float(edges[-1])
    if under > 0:  # the bucket (low - width, low]
        limits, values, low = [low] + limits, [under] + values, low - width
    if over > 0:  # the bucket (high, high + width]
        limits, values, high = limits + [high + width], values + [over], high + width
    return limits, values, low, high

