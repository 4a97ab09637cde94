"""Unprobed training steps replayed from one CUDA graph (``train.cuda_graphs``).

A small network's step on a GPU is launch-bound: bench-mlp's 2.75 ms step is ~85
kernel launches from Python, and the device waits for each. Recorded once into a CUDA
graph, the whole step (forward, loss, backward, penalty, clipping, optimizer update)
is replayed by one launch, so it can run faster than the user's own eager loop. What a
graph needs, and how it is met here:

static addresses  each batch is copied into the same input tensors; the loss and output
                  land in the same tensors each replay and are copied out at once
                  (the step log keeps them until they are sent);
no host sync      the optimizer reads its learning rate from a device tensor (filled
                  when the schedule or the slider changes it), Adam's step count lives
                  on the device (``capturable``), SGD is the fused kernel;
settled state     the first unprobed steps run eagerly on a side stream (optimizer
                  state and library workspaces exist before the capture, as PyTorch's
                  whole-network example does).

Probed steps stay eager: the prober's hooks run Python during the step. A change of
L1 or L2 (baked into the graph as numbers) records a new graph. Where a design cannot be
captured, or is not on a CUDA device, the run trains eagerly and says why once (a
`Finding` of kind ``cuda_graphs``). The tests hold a stand-in graph that replays the
recorded step to the eager trainer; ``tests/engine/test_cuda.py`` the real one.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch

from ..metrics.records import Finding
from .events import first_line
from .rng import draws_random

WARMUP_STEPS = 3  # eager unprobed steps on a side stream before each capture
MAX_CAPTURES = 8  # then a run whose L1 / L2 keeps changing trains eagerly
GRAPHABLE_OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


def off_reason(cfg, device: torch.device, model: torch.nn.Module) -> str | None:
    """Why this run cannot replay its steps from a graph (None: it can)."""
    if device.type != "cuda":
        return f"CUDA graphs need a CUDA GPU; this run trains on {device.type}"
    if draws_random(model):
        return "dropout draws a new mask every step, which a recorded step would repeat"
    if cfg.optimizer not in GRAPHABLE_OPTIMIZERS:
        return f"the {cfg.optimizer} optimizer cannot be recorded"
    return None


def step_graph_for(cfg, device: torch.device, model: torch.nn.Module, update: Callable
                   ) -> tuple[StepGraph | None, dict]:
    """The run's `StepGraph` (None where ``cfg.cuda_graphs`` is off) and what
    `make_optimizer` adds for it: the learning rate as a device tensor (every replay reads
    the current one) and an update that can be recorded."""
    if not cfg.cuda_graphs:
        return None, {}
    graph = StepGraph(update, off_reason(cfg, device, model))
    if graph.off is not None:
        return graph, {}
    return graph, {"lr_tensor": torch.tensor(0.0, device=device),
                   "capturable": device.type == "cuda"}


class StepGraph:
    """Replays a run's unprobed steps; see the module docstring.

    Parameters
    ----------
    update : callable
        ``update(x, y) -> (loss, out)``: one whole training step, eagerly (0-d loss,
        output (B, ...)).
    off : str or None
        Why the run trains eagerly (from `off_reason`); None: replay.
    """

    def __init__(self, update: Callable, off: str | None = None):
        self.update = update
        self.off = off
        self.replays = 0  # steps replayed
        self.captures = 0  # graphs recorded
        self._told = False  # the reason it is off has been reported
        self._key: tuple | None = None
        self._graph = None
        self._warm = 0
        self._static: tuple = ()  # (x, y, loss, out) the graph reads and writes
        self._side = None  # the warm-ups' stream

    def step(self, x: torch.Tensor, y: torch.Tensor, settings: tuple
             ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Take this unprobed step from the graph (warming up or recording it first):
        its (loss, output), copies the caller keeps. None: the caller takes it eagerly
        (graphs are off, or just turned off)."""
        if self.off is not None:
            return None
        key = (*settings, x.shape, x.stride(), x.dtype, y.shape, y.dtype)
        if key != self._key:  # a new L1 / L2: the recorded numbers no longer hold
            self._key, self._graph, self._warm = key, None, 0
        if self._graph is None:
            if self._warm < WARMUP_STEPS:
                self._warm += 1
                return self._on_side_stream(x, y)
            if self.captures >= MAX_CAPTURES:
                self.off = (f"the settings changed {MAX_CAPTURES} times, each needing a "
                            "new recording")
                return None
            if not self._record(x, y):
                return None
        sx, sy, loss, out = self._static
        sx.copy_(x)
        sy.copy_(y)
        self._graph.replay()
        self.replays += 1
        return loss.clone(), out.clone()

    def take_finding(self, step: int) -> Finding | None:
        """Once, when graphs are off: why, as an info finding."""
        if self.off is None or self._told:
            return None
        self._told = True
        return Finding("cuda_graphs", None, step,
                       f"Training without CUDA graphs: {self.off}. Every step is launched "
                       "from Python, as in an eager loop; the numbers are the same.",
                       "Nothing to do: graphs only make small steps faster.", "info")

    def new_graph(self):
        """An empty graph to record into (the tests put a stand-in here)."""
        return torch.cuda.CUDAGraph()

    def as_dict(self) -> dict:
        """For the JSON report: steps replayed, graphs recorded, why it is off (or None)."""
        return {"replayed_steps": self.replays, "recordings": self.captures, "off": self.off}

    def _on_side_stream(self, x, y):
        """An eager step on a side stream, as a capture's warm-up wants."""
        if not x.is_cuda:
            return self.update(x, y)
        current = torch.cuda.current_stream(x.device)
        if self._side is None:
            self._side = torch.cuda.Stream(x.device)
        self._side.wait_stream(current)
        with torch.cuda.stream(self._side):
            loss, out = self.update(x, y)
        current.wait_stream(self._side)
        for t in (loss, out):  # used on the current stream from here: freed after that
            t.record_stream(current)
        return loss, out

    def _record(self, x, y) -> bool:
        """Record the step into a new graph (nothing runs yet); False, with the reason
        set, when an operation of this design cannot be recorded."""
        sx, sy = x.clone(), y.clone()
        graph = self.new_graph()
        try:
            with self._capturing(graph):
                loss, out = self.update(sx, sy)
        except Exception as exc:  # noqa: BLE001 - any failure: the run goes on eagerly
            self.off = f"this design's step cannot be recorded ({first_line(exc)})"
            return False
        self._graph, self._static = graph, (sx, sy, loss, out)
        self.captures += 1
        return True

    @staticmethod
    @contextlib.contextmanager
    def _capturing(graph) -> Iterator[None]:
        capture = getattr(graph, "capture", None)  # the tests' stand-in records itself
        if capture is not None:
            with capture():
                yield
            return
        # recording starts with a device synchronize, once per graph: allowed even where
        # a step guard (the benchmark's sync check) forbids syncs inside steps
        mode = torch.cuda.get_sync_debug_mode()
        torch.cuda.set_sync_debug_mode(0)
        try:
            # thread_local: another thread's CUDA work is not an error during the capture
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                torch.cuda.set_sync_debug_mode(mode)  # the step itself stays checked
                yield
        finally:
            torch.cuda.set_sync_debug_mode(mode)
