"""Probes: hooks that reduce each layer's tensors to a few numbers ON the device.

A `Prober` hooks every probe point once. While ``active`` is False the hooks
return immediately (no device work, no host sync). On a probed step they
reduce the activation to stats + histogram, hook the gradient dL/dh, and
`collect` packs everything into one tensor that crosses to the CPU in a single
transfer (a few hundred floats per layer).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

import numpy as np
import torch

from ..metrics import LayerMeta, ProbeLayout, Snapshot
from .build import DeskNet
from .optim import task_loss  # noqa: F401 - the trainer imports it from here
from .outputs import as_rows, first_float
from .probe_cpu import CpuReducer
from .probe_graph import DeviceReducer
from .probe_reduce import (N_ACT, N_COUNTS, N_GRAD, N_WEIGHT, ActConstants, Reduced,
                           StashReduced, gradient_stats, reduce_one)
from .weight_copies import WeightCopies

HIST_SAMPLE = 8192  # during training, histogram at most this many values per layer
# A layer of this many values or more is reduced in its own hook: stashing it for the
# batched reduction kept megabytes alive past their use (page faults: ~50 ms per probe
# on ResNet-20 at batch 128 on the CPU), and batching saves nothing at this size.
REDUCE_AT_ONCE = 1 << 18
# On a GPU memory does not fault and the batched reduction is one graph replay
# (`probe_graph`): only a layer this many times larger is reduced in its hook, to bound
# the memory the stashed tensors and their stacked copies take.
GPU_STASH_FACTOR = 16


class Prober:
    """Per-layer measurement hooks on a `DeskNet`; see the module docstring."""

    def __init__(self, model: DeskNet, hist_sample: int | None = HIST_SAMPLE):
        self.points = model.probe_points
        self.hist_sample = hist_sample  # None: exact histograms over the whole batch
        self.layout = ProbeLayout(tuple(
            LayerMeta(p.name, p.kind, p.activation, tuple(p.out_shape), p.params,
                      p.hist_range, p.weight is not None, p.init, p.time_steps)
            for p in self.points))
        self._timed = self.layout.time_layers  # recurrent layers: dL/dh_t per time step
        self._time: dict[int, torch.Tensor] = {}  # row -> (T,) norms of this step
        self._active = False
        n = len(self.points)
        self._act: list[torch.Tensor | None] = [None] * n
        self._grad: list[torch.Tensor | None] = [None] * n
        self._cache: dict[tuple, object] = {}  # per-group device constants
        self._handles: list = []  # forward hooks: attached only while active (see below)
        self._taps = [partial(self._on_tap, i) for i in range(len(self.points))]
        self._before = WeightCopies(self.points)
        self._retained: dict[int, torch.Tensor] = {}  # outputs whose .grad is dL/dh
        device = next((p.weight.device for p in self.points if p.weight is not None), None)
        # the fused CPU kernel; None without a C compiler, and on a GPU (never built there)
        on_cpu = device is None or device.type == "cpu"
        self._cpu = CpuReducer.create(self.points) if on_cpu else None
        self.device_reducer = DeviceReducer(self.points, self._constants, hist_sample)
        # each layer's constants made now: a large layer is reduced in its hook, inside
        # the training step, where no host-to-device copy may happen
        if device is not None:
            for i in range(n):
                self._constants([i], device)

    @property
    def active(self) -> bool:
        return self._active

    @active.setter
    def active(self, on: bool) -> None:
        """Hooks (taps on DeskLab's own identities) are attached for a probed forward
        only: an unprobed step runs none."""
        on = bool(on)
        if on and not self._active:
            for i, p in enumerate(self.points):
                if p.tappable:
                    p.module.__dict__["tap"] = self._taps[i]
                else:
                    self._handles.append(p.module.register_forward_hook(
                        partial(self._on_forward, i)))
        elif not on and self._active:
            for p in self.points:
                p.module.__dict__.pop("tap", None)
            for h in self._handles:
                h.remove()
            self._handles = []
        for row, i in enumerate(self._timed):  # unrolled in time on probed steps only
            if self.points[i].recurrent is not None:
                self.points[i].recurrent.time_hook = partial(self._on_time_grad, row) \
                    if on else None
        self._active = on

    def remove(self) -> None:
        self.active = False

    def captured(self) -> bool:
        """Whether this step's forward gave any probe point an activation."""
        return any(a is not None for a in self._act)

    def _on_forward(self, index: int, module, inputs, output) -> None:
        """A module hook (a user's module under `desklab.watch`): its first float output."""
        self._on_tap(index, output if isinstance(output, torch.Tensor)
                     else first_float(output)[0])

    def _on_tap(self, index: int, out: torch.Tensor | None) -> None:
        """This forward's output of point ``index``; `modules.probed` hands DeskLab's own
        layers' here directly (no module hook)."""
        if out is None or out.numel() == 0 or not self._wanted(index):
            return  # (an empty batch has nothing to measure: the step is not probed)
        a = as_rows(out.detach()) if self.points[index].units_last else out.detach()
        # small: a reference, reduced with its same-shaped peers in collect()
        self._keep(index, self._reduce_act(index, a) if self._at_once(a) else a, out)

    def _wanted(self, index: int) -> bool:
        """Whether this forward of point ``index`` is measured: a module called twice (a
        shared ReLU) gives its first call's activation and dL/dh, and a forward under
        no_grad (an evaluation pass) is not the step's."""
        return self.active and self._act[index] is None and torch.is_grad_enabled()

    def _keep(self, index: int, a, out: torch.Tensor) -> None:
        """Hold this forward's activation ``a`` and hook its output's gradient."""
        self._act[index] = a
        if not out.requires_grad:
            return
        if self.points[index].tappable and isinstance(a, torch.Tensor):
            out.retain_grad()  # kept by a hook in C++: no Python call during backward
            self._retained[index] = out
        else:
            out.register_hook(partial(self._on_grad, index))
        self._hook_time(index, out)

    def _hook_time(self, index: int, out: torch.Tensor) -> None:
        """A module measured along ``time_dim`` (`desklab.watch`): ||dL/d(output)|| at
        each position of that axis, over the batch and features."""
        dim = self.points[index].time_dim
        if dim is not None and out.dim() > dim:
            dims = tuple(d for d in range(out.dim()) if d != dim)
            out.register_hook(partial(self._on_time_grad, self._timed.index(index),
                                      dims=dims))

    def _on_time_grad(self, row: int, grad: torch.Tensor, dims=(0, 2)) -> None:
        """dL/dh_t (B, T, H) of a recurrent layer -> ||dL/dh_t|| over the batch (T,), on
        its device; a layer run twice in a step keeps its first backward's."""
        if row not in self._time:
            self._time[row] = torch.linalg.vector_norm(grad.detach().float(), dim=dims)

    def _on_grad(self, index: int, grad: torch.Tensor) -> None:
        self._grad[index] = self._reduced_grad(index, grad)

    def _reduced_grad(self, index: int, grad: torch.Tensor):
        """dL/dh as `collect` takes it: a reference, or `Reduced` for a large layer."""
        g = grad.detach()  # (its norm and mean |g| do not depend on which axis is units)
        if self._at_once(g) and self._on_cpu(g):
            return Reduced(self._cpu.one_gradient(g))
        if self._at_once(g):
            work = self._scratch(g.shape, g.device).view(1, -1)
            return Reduced(gradient_stats(g.float().reshape(1, -1), work))
        return g

    @staticmethod
    def _at_once(t: torch.Tensor) -> bool:
        """Whether ``t`` is reduced in its hook rather than stashed for `collect`."""
        return t.numel() >= REDUCE_AT_ONCE * (1 if t.is_cpu else GPU_STASH_FACTOR)

    def _on_cpu(self, t: torch.Tensor) -> bool:
        """Whether the fused CPU kernel reduces ``t``."""
        return self._cpu is not None and t.is_cpu

    def _scratch(self, shape, device) -> torch.Tensor:
        """A float32 buffer of ``shape`` kept between probes (fresh memory faults)."""
        key = ("scratch", tuple(shape), device)
        if key not in self._cache:
            self._cache[key] = torch.empty((1, *shape), device=device)
        return self._cache[key]

    def _reduce_act(self, index: int, a: torch.Tensor) -> Reduced:
        if self._on_cpu(a):
            return Reduced(*self._cpu.one_activation(index, a, self.hist_sample))
        return Reduced(*reduce_one(a, self._constants([index], a.device),
                                   self.hist_sample, self._scratch(a.shape, a.device)))

    def weights_before(self) -> list[torch.Tensor | None]:
        """Copies of the probed weights, taken just before the optimizer step (valid
        until the next call; see `weight_copies`)."""
        return self._before.take()

    def _constants(self, group: list[int], device: torch.device) -> ActConstants:
        key = ("act", tuple(group), device)
        if key not in self._cache:
            points = [self.points[i] for i in group]
            self._cache[key] = ActConstants.of([p.hist_range for p in points],
                                                [p.bounds for p in points], device)
        return self._cache[key]

    def collect(self, step: int, loss: torch.Tensor | None, lr: float,
                before: list[torch.Tensor | None] | None = None) -> Snapshot:
        """Reduce this step's stashed tensors into a Snapshot (one host transfer)."""
        return self.collect_with(step, loss, lr, before, None)[0]

    def collect_with(self, step: int, loss: torch.Tensor | None, lr: float,
                     before: list[torch.Tensor | None] | None,
                     extra: torch.Tensor | None) -> tuple[Snapshot, np.ndarray]:
        """As `collect`, and bring the 1-D device tensor ``extra`` (the trainer's
        per-step log) over in the same transfer; returns (snapshot, extra on the host)."""
        packed, unpack = self.pack(step, loss, lr, before, extra)
        return unpack(packed.cpu().numpy())

    def pack(self, step: int, loss: torch.Tensor | None, lr: float,
             before: list[torch.Tensor | None] | StashReduced | None,
             extra: torch.Tensor | list[torch.Tensor] | None
             ) -> tuple[torch.Tensor, Callable[[np.ndarray], tuple[Snapshot, np.ndarray]]]:
        """Reduce this step's stashed tensors into one 1-D float32 tensor on their device,
        ``extra`` (a 1-D tensor, or 1-D tensors packed one after the other) last, without
        waiting for the device. ``unpack`` turns that tensor, once on the host, into
        (snapshot, extra on the host). ``before`` may be the `StashReduced` of a step
        that reduced its stash itself (a probed step replayed from a graph)."""
        reduced = before if isinstance(before, StashReduced) else self.reduce_stash(before)
        stats, hist, time = reduced
        parts = [stats.view(-1), hist.view(-1)] + ([time.view(-1)] if time is not None else [])
        parts.append(loss.detach().reshape(1) if loss is not None
                     else torch.full((1,), math.nan, device=stats.device))
        if isinstance(extra, torch.Tensor):
            parts.append(extra.reshape(-1))
        elif extra:
            parts += extra
        packed = torch.cat(parts)  # one copy kernel; float32 (a bf16 loss is promoted)
        self.clear_stash()
        shapes = (stats.shape, hist.shape, time.shape if time is not None else None)
        return packed, partial(self._unpack, step, lr, shapes)

    def reduce_stash(self, before: list[torch.Tensor | None] | None) -> StashReduced:
        """This step's stashed tensors reduced on their device, device work only (a
        probed step recorded into a CUDA graph records it too): a `StashReduced`."""
        n = len(self.points)
        device = next(t for t in self._act if t is not None).device
        for i, out in self._retained.items():  # dL/dh where backward reached it
            self._grad[i] = out.grad.detach() if out.grad is not None else None
        self._retained = {}
        acts = [a if isinstance(a, torch.Tensor) else None for a in self._act]
        grads = [g if isinstance(g, torch.Tensor) else None for g in self._grad]
        if self._cpu is not None and device.type == "cpu":
            stats = torch.full((n, N_ACT + N_GRAD + N_WEIGHT), math.nan)
            hist = torch.full((n, N_COUNTS), math.nan)
            self._cpu.reduce(acts, grads, self.points, before, self.hist_sample, stats, hist)
        else:
            stats, hist = self.device_reducer.reduce(acts, grads, before, device)
        for i, a in enumerate(self._act):  # layers reduced in their own hooks
            if isinstance(a, Reduced):
                stats[i, :N_ACT] = a.stats[0]
                hist[i] = a.counts[0]
        for i, g in enumerate(self._grad):
            if isinstance(g, Reduced):
                stats[i, N_ACT:N_ACT + N_GRAD] = g.stats[0]
        return StashReduced(stats, hist, self._time_rows(device) if self._timed else None)

    def clear_stash(self) -> None:
        """Forget this step's stashed tensors (packed, or a step that was not taken)."""
        n = len(self.points)
        self._act, self._grad, self._time, self._retained = [None] * n, [None] * n, {}, {}

    @property
    def recordable(self) -> bool:
        """Whether a probed step's reduction is device work only (so a CUDA graph can
        hold it): not the fused CPU kernel."""
        return self._cpu is None

    def _unpack(self, step: int, lr: float, shapes, host: np.ndarray
                ) -> tuple[Snapshot, np.ndarray]:
        """`pack`'s tensor on the host -> (snapshot, the packed ``extra``)."""
        stats_shape, hist_shape, time_shape = shapes
        values = host.astype(np.float64)  # a fresh copy: the snapshot's own arrays
        end = math.prod(stats_shape)
        stats = values[:end].reshape(stats_shape)
        hist = values[end:end + math.prod(hist_shape)].reshape(hist_shape)
        end += math.prod(hist_shape)
        times = None
        if time_shape is not None:
            times = values[end:end + math.prod(time_shape)].reshape(time_shape)
            end += math.prod(time_shape)
        return Snapshot(step, self.layout, stats, hist, float(values[end]), lr, times), \
            values[end + 1:]

    def _time_rows(self, device: torch.device) -> torch.Tensor:
        """(R, T) float32 of this step's gradients through time; NaN where none came."""
        out = torch.full((len(self._timed), self.layout.time_steps), math.nan, device=device)
        for row, norms in self._time.items():  # a longer batch than the first: its start
            n = min(norms.numel(), out.shape[1])
            out[row, :n] = norms[:n].to(device)
        return out
