"""The probe's device reductions in two phases: stage, then reduce as one CUDA graph.

Reduced operation by operation, a probe of bench-mlp on a GPU was ~250 small kernels,
each launched from Python (about 40 per group of same-shaped layers, a few per weight):
on a launch-bound 2 ms step a probe cost more than the step. Here a probe is

stage   each group of same-shaped activations and dL/dh is copied into a stacked buffer
        (one copy kernel per group) and the weights' gradients into copies (one
        multi-tensor copy), so every input of the reduction lives at an address kept
        from one probe to the next (the weights and their earlier copies already do);
reduce  a function of those buffers alone (`probe_reduce`). On CUDA the second probe of
        a layout runs it eagerly on a side stream and captures it into a graph; from the
        third on, a probe replays the graph: one launch whatever the depth.

Elsewhere (the CPU without the C kernel) the reduce phase runs eagerly: the same code,
held to numpy by the tests. ``DESKLAB_PROBE_GRAPHS=0`` keeps CUDA eager too (the bench
measures both).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import torch

from .probe_reduce import (N_ACT, N_COUNTS, N_GRAD, N_WEIGHT, WeightConstants, as_units,
                           gradient_stats, group_by_shape, hist_rows, reduce_activations,
                           weight_stats)

MAX_GRAPHS = 8  # layouts kept (and captured) at once; a run's probes nearly always share one


@dataclass
class Plan:
    """One layout's staged inputs, where its numbers go, and its graph."""

    device: torch.device
    stats: torch.Tensor  # (n, N_ACT + N_GRAD + N_WEIGHT), kept between probes
    hist: torch.Tensor  # (n, N_COUNTS), kept between probes
    # (group, index, stacked, work, constants, rows): the group's positions, as a tensor
    acts: list = field(default_factory=list)
    grads: list = field(default_factory=list)  # (group, index, stacked, work)
    weights: list = field(default_factory=list)  # (index, W, dW or None, W_before or None,
    #                                               WeightConstants)
    capturable: bool = True  # False: an input is a fresh tensor each probe
    with_grad: list = field(default_factory=list)  # points whose weight has a gradient
    kept_grads: list = field(default_factory=list)  # their gradients' kept copies
    reduced: bool = False  # run once already: the next probe captures
    graph: object = None  # its CUDAGraph; False: it cannot be captured


class DeviceReducer:
    """Reduces a probe's stashed tensors on their device; see the module docstring.

    Parameters
    ----------
    points : list of ProbePoint
        The prober's points (their weights and gradients are read here).
    constants : callable
        ``constants(group, device)``: the group's `ActConstants`, made once.
    hist_sample : int or None
        As `Prober`.
    """

    def __init__(self, points, constants, hist_sample: int | None):
        self.points = points
        self._constants = constants
        self.hist_sample = hist_sample
        self.graphs = os.environ.get("DESKLAB_PROBE_GRAPHS", "1") != "0"
        self._buffers: dict[tuple, object] = {}  # kept between probes
        self.replays = 0  # probes reduced by replaying a graph
        # a probed training step is being recorded into a graph of its own (`graphed_steps`),
        # this reduction with it: reduce eagerly (no graph launched inside another's)
        self.recording = False
        self._plans: dict[tuple, Plan] = {}  # layout -> its plan, buffers filled per probe

    def reduce(self, acts: list[torch.Tensor | None], grads: list[torch.Tensor | None],
               before: list[torch.Tensor | None] | None, device: torch.device
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stats (n, N_ACT + N_GRAD + N_WEIGHT) and counts (n, N_COUNTS) on the device:
        NaN rows where a point has no tensor. Both are overwritten by the next probe."""
        plan = self._stage(acts, grads, before, device)
        if self.recording or not self._graphable(plan) or plan.graph is False:
            self._reduce(plan)
        elif plan.graph is not None:
            plan.graph.replay()
            self.replays += 1
        elif plan.reduced:
            self._capture(plan)
        else:
            self._reduce(plan)
            plan.reduced = True
        return plan.stats, plan.hist

    def _graphable(self, plan: Plan) -> bool:
        return plan.device.type == "cuda" and self.graphs and plan.capturable

    def _capture(self, plan: Plan) -> None:
        """Run ``plan`` on a side stream (this probe's numbers, and the warm-up a capture
        wants), then record it into a graph for the probes after; an operation that
        cannot be captured leaves this layout eager."""
        current = torch.cuda.current_stream(plan.device)
        side = torch.cuda.Stream(plan.device)
        side.wait_stream(current)
        with torch.cuda.stream(side):
            self._reduce(plan)
        current.wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):  # records only: the numbers above stay
                self._reduce(plan)
        except RuntimeError:
            graph = False
        plan.graph = graph

    def _reduce(self, plan: Plan) -> None:
        """Every statistic of the staged tensors into ``plan.stats`` / ``plan.hist``."""
        plan.stats.fill_(math.nan)
        plan.hist.fill_(math.nan)
        for _, index, stacked, work, consts, rows in plan.acts:  # (L, B, ...)
            act_stats, counts = reduce_activations(as_units(stacked), consts.lo, consts.hi,
                                                   consts.bounds, rows, as_units(work))
            plan.stats[:, :N_ACT].index_copy_(0, index, act_stats)
            plan.hist.index_copy_(0, index, counts)
        for _, index, stacked, work in plan.grads:
            plan.stats[:, N_ACT:N_ACT + N_GRAD].index_copy_(
                0, index, gradient_stats(stacked.flatten(1), work.flatten(1)))
        for index, w, g, b, consts in plan.weights:
            plan.stats[:, N_ACT + N_GRAD:].index_copy_(0, index, weight_stats(w, g, b, consts))

    def _layout(self, acts, grads, before) -> tuple:
        """What a plan depends on: each stashed tensor's shape, dtype and device, where
        each weight lives and whether it has a gradient, and which earlier copies of the
        weights (the same objects from probe to probe; a kept plan holds them, so an id
        is not reused meanwhile)."""
        def described(tensors):
            return tuple(None if t is None else (t.shape, t.dtype, t.device) for t in tensors)
        return (described(acts), described(grads),
                tuple(None if p.weight is None else (p.weight.data_ptr(),
                                                     p.weight.grad is not None)
                      for p in self.points),
                None if before is None else tuple(map(id, before)))

    def _stage(self, acts, grads, before, device: torch.device) -> Plan:
        """The plan for this probe with its inputs copied in: a layout seen before only
        copies (the Python that groups the layers took ~0.2 ms of a probe)."""
        layout = self._layout(acts, grads, before)
        cached = self._plans.get(layout)
        if cached is None:
            plan = self._plan(acts, grads, before, device)
            if plan.capturable:  # (a half-precision weight's float32 copy is made anew)
                if len(self._plans) >= MAX_GRAPHS:
                    self._plans.clear()
                self._plans[layout] = plan
            return plan
        for group, _, stacked, *_ in cached.acts:
            _fill(stacked, [acts[i] for i in group])
        for group, _, stacked, _ in cached.grads:
            _fill(stacked, [grads[i] for i in group])
        if cached.with_grad:
            torch._foreach_copy_(cached.kept_grads,
                                 [self.points[i].weight.grad for i in cached.with_grad])
        return cached

    def _plan(self, acts, grads, before, device: torch.device) -> Plan:
        n = len(self.points)
        plan = Plan(device, self._buffer(("stats", n, device), (n, N_ACT + N_GRAD + N_WEIGHT),
                                         torch.float32, device),
                    self._buffer(("hist", n, device), (n, N_COUNTS), torch.float32, device))
        for group in group_by_shape(acts):
            stacked, work = self._stacked("act", [acts[i] for i in group], group)
            plan.acts.append((group, self._index(group, device), stacked, work,
                              self._constants(group, device),
                              hist_rows(stacked[0], self.hist_sample)))
        for group in group_by_shape(grads):
            stacked, work = self._stacked("grad", [grads[i] for i in group], group)
            plan.grads.append((group, self._index(group, device), stacked, work))
        self._stage_weights(plan, before)
        return plan

    def _stage_weights(self, plan: Plan, before) -> None:
        """Weight groups into ``plan``, their gradients copied to kept buffers."""
        weights = [p.weight.detach() if p.weight is not None else None for p in self.points]
        tags = [(p.weight is not None and p.weight.grad is not None,
                 before is not None and before[i] is not None)
                for i, p in enumerate(self.points)]
        with_grad = [i for i, (has_grad, _) in enumerate(tags) if has_grad]
        grads = [self.points[i].weight.grad.detach() for i in with_grad]
        kept = [self._buffer(("dW", i, g.shape, g.dtype, g.device), g.shape, g.dtype,
                             g.device) for i, g in zip(with_grad, grads)]
        if grads:
            torch._foreach_copy_(kept, grads)  # one multi-tensor copy
        plan.with_grad, plan.kept_grads = with_grad, kept
        kept_grad = dict(zip(with_grad, kept))
        for group in group_by_shape(weights, tags, by_shape=False):
            has_grad, has_before = tags[group[0]]
            w = [weights[i].float() for i in group]
            g = [kept_grad[i].float() for i in group] if has_grad else None
            b = [before[i].float() for i in group] if has_before else None
            # a half-precision weight's float32 view is a fresh tensor each probe
            plan.capturable &= weights[group[0]].dtype == torch.float32
            consts = self._buffers.get(("wconst", tuple(group), plan.device))
            if consts is None:
                consts = self._buffers[("wconst", tuple(group), plan.device)] = \
                    WeightConstants.of(w)
            plan.weights.append((self._index(group, plan.device), w, g, b, consts))

    def _buffer(self, key: tuple, shape, dtype, device) -> torch.Tensor:
        if key not in self._buffers:
            self._buffers[key] = torch.empty(shape, dtype=dtype, device=device)
        return self._buffers[key]

    def _stacked(self, what: str, tensors: list[torch.Tensor],
                 group: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``tensors`` stacked as float32 (L, ...) into a buffer kept between probes, and
        a scratch buffer of the same shape (see `reduce_activations` for why)."""
        shape, device = (len(tensors), *tensors[0].shape), tensors[0].device
        key = (what, tuple(group), shape, device)
        if key not in self._buffers:
            self._buffers[key] = (torch.empty(shape, device=device),
                                  torch.empty(shape, device=device))
        stacked, work = self._buffers[key]
        _fill(stacked, tensors)
        return stacked, work

    def _index(self, group: list[int], device: torch.device) -> torch.Tensor:
        """The group's layer positions as a device tensor, made once per group."""
        key = ("index", tuple(group), device)
        if key not in self._buffers:
            self._buffers[key] = torch.tensor(group, dtype=torch.long, device=device)
        return self._buffers[key]


def _fill(stacked: torch.Tensor, tensors: list[torch.Tensor]) -> None:
    """Copy ``tensors`` into the float32 (L, ...) buffer ``stacked``: one kernel."""
    if tensors[0].dtype == torch.float32:
        torch.stack(tensors, out=stacked)
    else:  # half precision: the statistics are taken in float32
        for slot, t in zip(stacked, tensors):
            slot.copy_(t)
