"""Copies of the probed weights taken just before the optimizer step.

A probe's update ratio |W_after - W_before| / |W_before| needs each weight as it was
before the step. The copies live in buffers kept from one probed step to the next:
fresh megabytes each step cost page faults on the CPU (see `reduce_activations`), and a
CUDA graph that reads them needs them where they were (`probe_graph`).
"""

from __future__ import annotations

import torch


class WeightCopies:
    """The kept copies of ``points``' weights (None for a point without one)."""

    def __init__(self, points):
        self.points = points
        self._copies: list[torch.Tensor | None] = [None] * len(points)
        self._weighted = [p for p in points if p.weight is not None]
        # once every copy exists: (the weights' storages, copies, weight views) to copy
        # in one multi-tensor call with no per-weight Python (~40 us a probe of 9 layers)
        self._plan: tuple[list[int], list, list] | None = None

    def take(self) -> list[torch.Tensor | None]:
        """Copy every weight now; the copies are valid until the next call."""
        if self._plan is not None and \
                self._plan[0] == [p.weight.data_ptr() for p in self._weighted]:
            torch._foreach_copy_(self._plan[1], self._plan[2])
            return list(self._copies)
        copies, into, values = self._copies, [], []
        for i, p in enumerate(self.points):
            if p.weight is None:
                continue
            w = p.weight.detach()
            if copies[i] is None or copies[i].shape != w.shape or copies[i].dtype != w.dtype \
                    or copies[i].stride() != w.stride() or copies[i].device != w.device:
                copies[i] = w.clone()  # (a weight moved or reshaped: a new copy)
            else:
                into.append(copies[i])
                values.append(w)
        if into:  # one multi-tensor copy (39 copy_ calls took 0.2 ms)
            torch._foreach_copy_(into, values)
        self._plan = None
        if len(into) == len(self._weighted):
            self._plan = ([p.weight.data_ptr() for p in self._weighted], into, values)
        return list(copies)
