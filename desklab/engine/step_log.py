"""Every training step's loss and accuracy, kept on the device until a transfer is due.

The loop appends each step's 0-d loss and, for a classification, its output and targets
(no kernel, no sync). They are counted and brought to the host only together with a
transfer that happens anyway: the probe's, an evaluation's, or the end of the run. The
correct (and top-5) counts of all pending steps are taken together when the log is
sent, a handful of kernels per transfer instead of three (eight with top-5) per step
(on an H200, bench-mlp with probes off went from 0.943 to 0.954 of a bare loop's
speed with this: its 2.75 ms step is kernel launches). With probing off, a full buffer
(``CAPACITY`` steps, or ``KEPT_VALUES`` kept outputs) is the only extra transfer.
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics.records import StepSeries

CAPACITY = 1024  # steps held on the device at most before a transfer is forced
KEPT_VALUES = 1 << 22  # output values kept for counting at most (16 MB of float32);
#                        a larger output is counted in its own step


class StepLog:
    """Per-step (loss, correct count) of one run; see the module docstring.

    Parameters
    ----------
    batch_size : int
        Examples per step (accuracy = correct / batch_size).
    top5 : bool
        Also count top-5 hits (classifications of more than 5 classes).
    """

    def __init__(self, batch_size: int, top5: bool = False):
        self.batch_size, self.top5 = batch_size, top5
        self._loss: list[torch.Tensor] = []  # 0-d, on the device
        # classes only: (output, targets) to count when sent, or that step's counts
        self._hits: list[tuple[torch.Tensor, torch.Tensor] | torch.Tensor] = []
        self._kept = 0  # output values held in _hits
        self._lr: list[float] = []  # known on the host
        self.first_step = 0
        self._sent = 0  # steps in the last pending(): what take() consumes
        self.last_top5: np.ndarray | None = None  # top-5 accuracy of the steps last taken

    def add(self, loss: torch.Tensor, lr: float, out: torch.Tensor | None = None,
            y: torch.Tensor | None = None) -> None:
        """One step: its 0-d loss and, for a classification, output (B, C) and targets
        (B,) on the device."""
        self._loss.append(loss)
        self._lr.append(lr)
        if out is None:
            return
        out = out.detach()
        if out.numel() > KEPT_VALUES:  # too large to keep: counted now
            self._hits.append(self._count(out[None], y[None])[:, 0])
        else:
            self._hits.append((out, y))
            self._kept += out.numel()

    def _count(self, outs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """(k, n) counts of n steps' outputs (n, B, C) against targets (n, B): correct,
        then top-5 hits when counted."""
        counts = [outs.argmax(-1).eq(ys).sum(-1)]
        if not self.top5:
            return counts[0][None]  # a view: no kernel
        counts.append(outs.topk(5, -1).indices.eq(ys[..., None]).any(-1).sum(-1))
        return torch.stack(counts)

    def __len__(self) -> int:
        return len(self._loss)

    @property
    def full(self) -> bool:
        return len(self._loss) >= CAPACITY or self._kept >= KEPT_VALUES

    def pending(self) -> torch.Tensor | None:
        """The steps not yet sent, flattened float32 on the device: ``n`` losses, then
        for a classification ``n`` correct counts (and ``n`` top-5 counts); exact in
        float32 to 2**24. None when there are none. `take` consumes these ``n`` steps;
        steps added meanwhile stay for the next."""
        parts = self.pending_parts()
        return torch.cat(parts) if parts else None  # float32 and int64: promoted

    def pending_parts(self) -> list[torch.Tensor]:
        """`pending` as the 1-D tensors it concatenates (empty: none), for a caller
        that concatenates them with its own in one kernel."""
        if not self._loss:
            return []
        self._sent = n = len(self._loss)
        parts = [t.reshape(1) if t.dtype == torch.float32 else t.float().reshape(1)
                 for t in self._loss]
        hits = self._hits[:n]
        if len(hits) == 1 and isinstance(hits[0], tuple):  # views: no stacking kernel
            parts.append(self._count(hits[0][0][None], hits[0][1][None]).flatten())
        elif hits and all(isinstance(h, tuple) for h in hits):
            parts.append(self._count(torch.stack([o for o, _ in hits]),
                                     torch.stack([y for _, y in hits])).flatten())
        elif hits:  # counted step by step (a large output), or a mix
            counts = [h if isinstance(h, torch.Tensor) else
                      self._count(h[0][None], h[1][None])[:, 0] for h in hits]
            parts.append(torch.stack(counts, dim=1).flatten())
        return parts

    def first_bad(self, host: np.ndarray) -> int | None:
        """The first step whose loss in ``host`` (``pending()`` on the host) is NaN or
        infinite, or None: the divergence check costs the steps no device work."""
        losses = host[:self._sent]
        if np.isfinite(losses).all():  # nearly always: one call
            return None
        return self.first_step + int(np.flatnonzero(~np.isfinite(losses))[0])

    def take(self, host: np.ndarray, before_step: int | None = None) -> StepSeries:
        """Turn ``host`` (``pending()`` brought to the host) into a StepSeries and forget
        those steps. ``before_step`` drops steps from that one on (a divergence)."""
        n = self._sent
        loss = host[:n].astype(np.float64)
        counted = bool(self._hits)
        counts = host[n:].astype(np.float64) / self.batch_size
        acc = counts[:n] if counted else np.full(n, np.nan)
        self.last_top5 = counts[n:2 * n] if counted and self.top5 else None
        series = StepSeries(self.first_step, loss, acc,
                            np.asarray(self._lr[:n], np.float64))
        self.first_step += n
        self._kept -= sum(h[0].numel() for h in self._hits[:n] if isinstance(h, tuple))
        del self._loss[:n], self._hits[:n], self._lr[:n]
        self._sent = 0
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
