"""A run's steps replayed from CUDA graphs (``train.cuda_graphs``): two recordings.

unprobed  forward, loss, backward, penalty, clipping, the optimizer's update;
probed    the same with the prober's taps on, and then the probe's reductions
          (`Prober.reduce_stash`: statistics, histograms, gradient and weight norms,
          update ratios, the gradient through time) into the reducer's kept buffers;
          the host packs them with the step log after the replay, as after an eager
          probe. The prober's own graph of the reduction (`probe_graph`) is not used
          then: it is inside this one.

Each is recorded after three eager warm-up steps of its kind (`step_graph`). Dropout
draws its masks from the run's own stream (`rng.RngStream`), swapped in around the
replay, not inside the recording (a generator's state cannot be set while recording):
a replay advances that stream as the eager step would. Where a run cannot be recorded
(no CUDA, an optimizer or layer a graph cannot hold) it trains eagerly and says why
once, in a `Finding` of kind ``cuda_graphs``. The tests hold a stand-in graph that
replays the recorded step to eager runs on the CPU; ``tests/engine/test_cuda.py`` holds
the real ones on a GPU.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..metrics.records import Finding
from .probe import Prober
from .probe_reduce import StashReduced
from .step_graph import StepGraph

GRAPHABLE_OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


def off_reason(cfg, device: torch.device) -> str | None:
    """Why this run cannot replay its steps from a graph (None: it can): the device
    and the optimizer decide it, not the layers (a layer a graph cannot hold fails its
    recording, and the run says so then)."""
    if device.type != "cuda":
        where = {"cpu": "the CPU", "mps": "Apple's GPU (MPS)"}.get(device.type, device.type)
        return f"CUDA graphs need a CUDA GPU; this run trains on {where}"
    if cfg.optimizer not in GRAPHABLE_OPTIMIZERS:
        return f"the {cfg.optimizer} optimizer cannot be recorded"
    return None


def step_graph_for(cfg, device: torch.device, prober: Prober, update: Callable
                   ) -> tuple[GraphedSteps | None, dict]:
    """The run's `GraphedSteps` (None where ``cfg.cuda_graphs`` is off) and what
    `make_optimizer` adds for them: the learning rate as a device tensor (every replay
    reads the current one) and an update that can be recorded. ``update(x, y, probe)``
    is the trainer's eager step: (loss, output, the weights before the update)."""
    if not cfg.cuda_graphs:
        return None, {}
    graphs = GraphedSteps(update, prober, off_reason(cfg, device))
    if graphs.plain.off is not None:
        return graphs, {}
    return graphs, {"lr_tensor": torch.tensor(0.0, device=device),
                    "capturable": device.type == "cuda"}


class GraphedSteps:
    """The run's unprobed and probed recordings; see the module docstring."""

    def __init__(self, update: Callable, prober: Prober, off: str | None):
        self.prober = prober
        self.plain = StepGraph(lambda x, y: update(x, y, False)[:2], off)
        probes_off = off or (None if prober.recordable else
                             "the CPU's probe kernel cannot be recorded")
        self.probed = StepGraph(lambda x, y: self._probed_step(update, x, y), probes_off)
        self._told: set[str] = set()  # the reasons already reported

    def takes(self, probe: bool) -> bool:
        """Whether a step of this kind (probed or not) may come from a graph: False once
        its graph is off, and the step is the trainer's eager one."""
        return (self.probed if probe else self.plain).off is None

    @property
    def replays(self) -> int:
        """Steps replayed, probed or not."""
        return self.plain.replays + self.probed.replays

    def step(self, x: torch.Tensor, y: torch.Tensor, probe: bool, settings: tuple
             ) -> tuple | None:
        """This step from its graph: (loss, output, None) unprobed, (loss, output,
        `StashReduced`) probed, as `Prober.pack` takes them. None: take it eagerly."""
        if not probe:
            done = self.plain.step(x, y, settings)
            return None if done is None else (*done[:2], None)
        done = self.probed.step(x, y, settings)
        if done is None:  # (a failed recording may have left tensors in the stash)
            self.prober.clear_stash()
            return None
        return done[0], done[1], StashReduced(*done[2:])

    def _probed_step(self, update: Callable, x, y) -> tuple:
        """A probed step and its reductions, as one recording holds them."""
        self.prober.active = True  # (the step turns it off after the backward pass)
        self.prober.device_reducer.recording = True
        try:
            loss, out, before = update(x, y, True)
            return (loss, out, *self.prober.reduce_stash(before))
        finally:
            self.prober.device_reducer.recording = False

    def take_finding(self, step: int) -> Finding | None:
        """Once for each reason, when steps run eagerly: why, as an info finding."""
        for graph, what in ((self.plain, "Training without CUDA graphs"),
                            (self.probed, "Probed steps run without a CUDA graph")):
            if graph.off is not None and graph.off not in self._told:
                self._told.add(graph.off)
                return Finding("cuda_graphs", None, step,
                               f"{what}: {graph.off}. Each such step is launched from "
                               "Python, as in an eager loop; the numbers are the same.",
                               "Nothing to do: graphs only make small steps faster.", "info")
        return None

    def as_dict(self) -> dict:
        """For the JSON report: steps replayed (probed among them), graphs recorded,
        why steps (or probed steps) run eagerly."""
        return {"replayed_steps": self.replays, "replayed_probes": self.probed.replays,
                "recordings": self.plain.captures + self.probed.captures,
                "off": self.plain.off, "probes_off": self.probed.off}
