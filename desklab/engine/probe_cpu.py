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
        tensors, dims, rows = [], [], []
        for _, a in items:
            t, shape, per_row = _units(a)
            tensors.append(t)
            dims += shape
            sample = hist_rows(a, hist_sample)
            batch = shape[0] // per_row
            rows.append(per_row * (batch if sample is None else max(1, min(batch, sample))))
        need = max(max(c, 2 * s) for c, s in zip(dims[1::3], dims[2::3]))
        if self.scratch.numel() < need:
            self.scratch = torch.empty(need)
        index = [i for i, _ in items]
        out_rows = index if out_rows is None else out_rows
        self.lib.desklab_activations(
            len(items), cpu_kernel.pointers([t.data_ptr() for t in tensors]),
            cpu_kernel.int64s(dims),
            cpu_kernel.pointers([_row(self.params, i) for i in index]),
            cpu_kernel.int64s(rows), N_BINS,
            cpu_kernel.pointers([_row(stats, r) for r in out_rows]),
            cpu_kernel.pointers([_row(counts, r) for r in out_rows]),
            self.scratch.data_ptr())

    def gradients(self, items: list[tuple[int, torch.Tensor]], stats: torch.Tensor,
                  column: int = N_ACT) -> None:
        """Norm and mean |g| into ``stats[i, column:column + 2]`` for each (i, dL/dh)."""
        if not items:
            return
        tensors = [g.detach().float().contiguous() for _, g in items]
        self.lib.desklab_gradients(
            len(items), cpu_kernel.pointers([t.data_ptr() for t in tensors]),
            cpu_kernel.int64s([t.numel() for t in tensors]),
            cpu_kernel.pointers([_row(stats, i, column) for i, _ in items]))

    def weights(self, points, before: list[torch.Tensor | None] | None,
                stats: torch.Tensor) -> None:
        """Weight std, gradient norm and update ratio of every point with a weight."""
        index = [i for i, p in enumerate(points) if p.weight is not None]
        if not index:
            return
        keep = []  # float32 copies (if any) live until the call returns

        def address(t: torch.Tensor | None) -> int:
            if t is None:
                return 0
            keep.append(t.detach().float().contiguous())
            return keep[-1].data_ptr()

        weights = [address(points[i].weight) for i in index]
        grads = [address(points[i].weight.grad) for i in index]
        olds = [address(before[i] if before is not None else None) for i in index]
        self.lib.desklab_weights(
            len(index), cpu_kernel.pointers(weights), cpu_kernel.pointers(grads),
            cpu_kernel.pointers(olds),
            cpu_kernel.int64s([points[i].weight.numel() for i in index]),
            cpu_kernel.pointers([_row(stats, i, N_ACT + N_GRAD) for i in index]))
