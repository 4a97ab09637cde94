"""The probe's reductions on the CPU through the fused kernel (`cpu_kernel`).

`CpuReducer` writes each layer's statistics straight into the rows of the probe's
(layers, stats) and (layers, counts) tables: no stacking of same-shaped layers, no
temporaries. The numbers are those of `probe_reduce` (the tests hold both against
numpy); only the CPU uses this, a GPU keeps the batched tensor operations.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import torch

from ..metrics import N_BINS
from . import cpu_kernel
from .probe_reduce import N_ACT, N_GRAD, hist_rows

MAX_PLANS = 4096  # kernel arguments kept per (point, shape); cleared when over


def _units(t: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int], int]:
    """float32 (B, C, S) contiguous, and how many kernel rows make one batch row.

    A channels_last (NHWC) image batch needs no copy: read as B * H * W rows of C
    units, every statistic is the same (units are still the channels, a position's
    spread is still taken across them, and the first rows are the first images).
    Anything else that is not contiguous is copied."""
    t = t.detach().float()
    if t.dim() == 4 and not t.is_contiguous() and \
            t.is_contiguous(memory_format=torch.channels_last):
        batch, units, height, width = t.shape
        return t.permute(0, 2, 3, 1), (batch * height * width, units, 1), height * width
    t = t.contiguous()
    units = t.shape[1] if t.dim() > 1 else 1
    positions = t[0].numel() // units if t.dim() > 1 and units else 1
    return t, (t.shape[0], units, positions), 1


def _in_place(t: torch.Tensor, any_order: bool = False) -> bool:
    """Whether the kernel can read ``t`` where it lies: float32 and contiguous, or, where
    the order of the values does not matter (a norm), any permutation of a contiguous
    block (`_dense`)."""
    return t.dtype == torch.float32 and (_dense(t) if any_order else t.is_contiguous())


def _readable(t: torch.Tensor, keep: list[torch.Tensor],
              any_order: bool = False) -> torch.Tensor:
    """``t`` if the kernel can read it in place (`_in_place`), else a float32 contiguous
    copy, kept alive in ``keep``."""
    if _in_place(t, any_order):
        return t
    keep.append(t.detach().float().contiguous())
    return keep[-1]


def _dense(t: torch.Tensor) -> bool:
    """Whether ``t``'s values fill one block of memory from ``data_ptr()`` on, in some
    order (contiguous, or a permutation of a contiguous tensor's axes)."""
    if t.is_contiguous():
        return True
    expected = 1
    for size, stride in sorted(zip(t.shape, t.stride()), key=lambda pair: pair[1]):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def _row(table: torch.Tensor, index: int, column: int = 0) -> int:
    """Address of ``table[index, column]`` (float32, contiguous)."""
    return table.data_ptr() + (index * table.shape[1] + column) * 4


class CpuReducer:
    """Per-layer constants of a probe's points, and the three kernel calls."""

    def __init__(self, lib: ctypes.CDLL, points):
        self.lib = lib
        params = []
        for p in points:  # the saturation test as probe_reduce has it, in float32
            lo, hi = p.hist_range
            centre, limit = 0.0, math.inf
            if p.bounds is not None and all(math.isfinite(b) for b in p.bounds):
                b_lo, b_hi = np.float32(p.bounds[0]), np.float32(p.bounds[1])
                tol = np.float32(0.01) * max(abs(b_lo), abs(b_hi))
                centre = (b_lo + b_hi) / np.float32(2)
                limit = (b_hi - b_lo) / np.float32(2) - tol
            params.append((lo, hi, centre, limit))
        self.params = torch.tensor(params, dtype=torch.float32)  # (layers, 4)
        self.scratch = torch.empty(0)
        self._plans: dict[tuple, tuple] = {}  # see activations

    @classmethod
    def create(cls, points) -> CpuReducer | None:
        """None where the kernel cannot be built (the tensor operations are used)."""
        lib = cpu_kernel.load() if N_BINS + 2 <= cpu_kernel.MAX_COUNTS else None
        return cls(lib, points) if lib is not None else None

    def reduce(self, acts: list[torch.Tensor | None], grads: list[torch.Tensor | None],
               points, before: list[torch.Tensor | None] | None, hist_sample: int | None,
               stats: torch.Tensor, counts: torch.Tensor) -> None:
        """A probe's stashed activations and dL/dh (None: not seen this step) and every
        weight, into the (layers, stats) and (layers, counts) tables."""
        self.activations([(i, a) for i, a in enumerate(acts) if a is not None],
                         hist_sample, stats, counts)
        self.gradients([(i, g) for i, g in enumerate(grads) if g is not None], stats)
        self.weights(points, before, stats)

    def one_activation(self, index: int, a: torch.Tensor, hist_sample: int | None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stats (1, N_ACT) and counts (1, N_COUNTS) of point ``index``'s activation."""
        stats, counts = torch.empty(1, N_ACT), torch.empty(1, N_BINS + 2)
        self.activations([(index, a)], hist_sample, stats, counts, out_rows=[0])
        return stats, counts

    def one_gradient(self, g: torch.Tensor) -> torch.Tensor:
        """(1, N_GRAD): norm and mean |g| of one dL/dh."""
        out = torch.empty(1, N_GRAD)
        self.gradients([(0, g)], out, column=0)
        return out

    def activations(self, items: list[tuple[int, torch.Tensor]], hist_sample: int | None,
                    stats: torch.Tensor, counts: torch.Tensor,
                    out_rows: list[int] | None = None) -> None:
        """Rows ``i`` of ``stats[:, :N_ACT]`` and ``counts`` for each (i, activation) of
        point i (or the rows ``out_rows``, one per item)."""
        if not items:
            return
        keep, addresses, dims, params, rows, need = [], [], [], [], [], 2
        for i, a in items:
            # a float32 contiguous activation (nearly all) is read in place, and its
            # shape's kernel arguments are worked out once: on a 39-module BERT probed
            # every step the per-layer Python here was a third of the probe's cost
            fast = _in_place(a)
            key = (i, a.shape, hist_sample)
            plan = self._plans.get(key) if fast else None
            if plan is None:
                t, plan = self._plan(i, a, hist_sample)
                if fast:
                    if len(self._plans) > MAX_PLANS:  # shapes that change every step
                        self._plans.clear()
                    self._plans[key] = plan
                else:
                    keep.append(t)  # a float32 copy, alive until the call returns
                addresses.append(t.data_ptr())
            else:
                addresses.append(a.data_ptr())
            shape, layer_rows, constants, scratch = plan
            dims += shape
            rows.append(layer_rows)
            params.append(constants)
            need = max(need, scratch)
        if self.scratch.numel() < need:
            self.scratch = torch.empty(need)
        out_rows = [i for i, _ in items] if out_rows is None else out_rows
        stats_at, stats_row = stats.data_ptr(), stats.shape[1] * 4
        counts_at, counts_row = counts.data_ptr(), counts.shape[1] * 4
        self.lib.desklab_activations(
            len(items), cpu_kernel.pointers(addresses), cpu_kernel.int64s(dims),
            cpu_kernel.pointers(params), cpu_kernel.int64s(rows), N_BINS,
            cpu_kernel.pointers([stats_at + r * stats_row for r in out_rows]),
            cpu_kernel.pointers([counts_at + r * counts_row for r in out_rows]),
            self.scratch.data_ptr())

    def _plan(self, index: int, a: torch.Tensor, hist_sample: int | None):
        """(the tensor the kernel reads, (its (B, C, S), rows for the histogram and
        spread, the address of the point's constants, the scratch floats it needs))."""
        t, shape, per_row = _units(a)
        sample = hist_rows(a, hist_sample)
        batch = shape[0] // per_row
        rows = per_row * (batch if sample is None else max(1, min(batch, sample)))
        return t, (shape, rows, _row(self.params, index), max(shape[1], 2 * shape[2]))

    def gradients(self, items: list[tuple[int, torch.Tensor]], stats: torch.Tensor,
                  column: int = N_ACT) -> None:
        """Norm and mean |g| into ``stats[i, column:column + 2]`` for each (i, dL/dh)."""
        if not items:
            return
        # the order of the values does not matter to a norm: a transposed dL/dh (BERT's
        # attention keys) is read in memory order, uncopied
        keep: list[torch.Tensor] = []
        tensors = [_readable(g, keep, any_order=True) for _, g in items]
        at, row = stats.data_ptr() + column * 4, stats.shape[1] * 4
        self.lib.desklab_gradients(
            len(items), cpu_kernel.pointers([t.data_ptr() for t in tensors]),
            cpu_kernel.int64s([t.numel() for t in tensors]),
            cpu_kernel.pointers([at + i * row for i, _ in items]))

    def weights(self, points, before: list[torch.Tensor | None] | None,
                stats: torch.Tensor) -> None:
        """Weight std, gradient norm and update ratio of every point with a weight."""
        index = [i for i, p in enumerate(points) if p.weight is not None]
        if not index:
            return
        keep: list[torch.Tensor] = []  # float32 copies (if any) live until the call returns

        def address(t: torch.Tensor | None) -> int:
            return 0 if t is None else _readable(t, keep).data_ptr()

        weights = [address(points[i].weight) for i in index]
        grads = [address(points[i].weight.grad) for i in index]
        olds = [address(before[i] if before is not None else None) for i in index]
        self.lib.desklab_weights(
            len(index), cpu_kernel.pointers(weights), cpu_kernel.pointers(grads),
            cpu_kernel.pointers(olds),
            cpu_kernel.int64s([points[i].weight.numel() for i in index]),
            cpu_kernel.pointers([_row(stats, i, N_ACT + N_GRAD) for i in index]))
