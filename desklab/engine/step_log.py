"""Every training step's loss and accuracy, kept on the device until a transfer is due.

The loop appends two 0-d device tensors per step (no kernel, no sync). They are
stacked and brought to the host only together with a transfer that happens
anyway: the probe's, an evaluation's, or the end of the run. With probing off, a
full buffer (``CAPACITY`` steps) is the only extra transfer.
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics.records import StepSeries

CAPACITY = 1024  # steps held on the device at most before a transfer is forced


class StepLog:
    """Per-step (loss, correct count) of one run; see the module docstring."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self._loss: list[torch.Tensor] = []  # 0-d, on the device
        self._correct: list[torch.Tensor] = []  # 0-d, on the device (classes only)
        self._lr: list[float] = []  # known on the host
        self.first_step = 0

    def add(self, loss: torch.Tensor, correct: torch.Tensor | None, lr: float) -> None:
        self._loss.append(loss)
        if correct is not None:
            self._correct.append(correct)
        self._lr.append(lr)

    @property
    def full(self) -> bool:
        return len(self._loss) >= CAPACITY

    def pending(self) -> torch.Tensor | None:
        """The steps not yet taken, flattened ``(2 * n,)`` float64 on the device (loss,
        then correct counts; NaN counts for regression), or None when there are none."""
        if not self._loss:
            return None
        loss = torch.stack(self._loss).double()
        correct = (torch.stack(self._correct).double() if self._correct
                   else torch.full_like(loss, float("nan")))
        return torch.cat([loss, correct])

    def first_bad(self, host: np.ndarray) -> int | None:
        """The first step whose loss in ``host`` (``pending()`` on the host) is NaN or
        infinite, or None: the divergence check costs the steps no device work."""
        bad = np.flatnonzero(~np.isfinite(host[:len(self._loss)]))
        return self.first_step + int(bad[0]) if len(bad) else None

    def take(self, host: np.ndarray, before_step: int | None = None) -> StepSeries:
        """Turn ``host`` (``pending()`` brought to the host) into a StepSeries and forget
        those steps. ``before_step`` drops steps from that one on (a divergence)."""
        n = len(self._loss)
        series = StepSeries(self.first_step, host[:n], host[n:2 * n] / self.batch_size,
                            np.asarray(self._lr, np.float64))
        self.first_step += n
        self._loss, self._correct, self._lr = [], [], []
        if before_step is not None:
            keep = max(0, before_step - series.first_step)
            series = StepSeries(series.first_step, series.loss[:keep], series.acc[:keep],
                                series.lr[:keep])
        return series

    def take_now(self, before_step: int | None = None) -> StepSeries | None:
        """Bring the pending steps over in one transfer of their own (end of a run)."""
        pending = self.pending()
        if pending is None:
            return None
        return self.take(pending.cpu().numpy(), before_step)
