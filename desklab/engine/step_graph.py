"""One training step recorded into a CUDA graph and replayed (``train.cuda_graphs``).

A small network's step on a GPU is launch-bound: bench-mlp's 2.75 ms step is ~85
kernel launches from Python, and the device waits for each. Recorded once into a CUDA
graph, the whole step (forward, loss, backward, penalty, clipping, optimizer update,
and on a probed step the probe's reductions) is replayed by one launch, so it can run
faster than the user's own eager loop. What a graph needs, and how it is met here:

static addresses  each batch is copied into the same input tensors; the outputs land in
                  the same tensors each replay and are copied out at once (the step
                  log keeps a step's loss and output until they are sent);
no host sync      the optimizer reads its learning rate from a device tensor (filled
                  when the schedule or the slider changes it), Adam's step count lives
                  on the device (``capturable``), SGD is the fused kernel;
settled state     the first steps run eagerly on a side stream (optimizer state, a
                  probe's kept buffers and library workspaces exist before the capture,
                  as PyTorch's whole-network example does).

The numbers a step was recorded with (L1, L2, the batch's shape) are its key: a new key
records anew. `graphed_steps` holds a run's two recordings (unprobed and probed steps).
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch

from .events import first_line

WARMUP_STEPS = 3  # eager steps on a side stream before each capture
MAX_CAPTURES = 8  # then a run whose L1 / L2 keeps changing trains eagerly


class StepGraph:
    """Replays one kind of step; see the module docstring.

    Parameters
    ----------
    update : callable
        ``update(x, y) -> tuple of tensors (or None)``: one whole training step, eagerly.
    off : str or None
        Why these steps run eagerly; None: replay.
    """

    def __init__(self, update: Callable, off: str | None = None):
        self.update = update
        self.off = off
        self.replays = 0  # steps replayed
        self.captures = 0  # graphs recorded
        self._key: tuple | None = None
        self._graph = None
        self._warm = 0
        self._static: tuple = ()  # (x, y, outputs) the graph reads and writes
        self._side = None  # the warm-ups' stream

    def step(self, x: torch.Tensor, y: torch.Tensor, settings: tuple) -> tuple | None:
        """Take this step from the graph (warming up or recording it first): its
        outputs, copies the caller keeps. None: the caller takes it eagerly (graphs are
        off, or just turned off)."""
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
        sx, sy, outputs = self._static
        sx.copy_(x)
        sy.copy_(y)
        self._graph.replay()
        self.replays += 1
        return tuple(None if t is None else t.clone() for t in outputs)

    def new_graph(self):
        """An empty graph to record into (the tests put a stand-in here)."""
        return torch.cuda.CUDAGraph()

    def _on_side_stream(self, x, y):
        """An eager step on a side stream, as a capture's warm-up wants."""
        if not x.is_cuda:
            return self.update(x, y)
        current = torch.cuda.current_stream(x.device)
        if self._side is None:
            self._side = torch.cuda.Stream(x.device)
        self._side.wait_stream(current)
        with torch.cuda.stream(self._side):
            outputs = self.update(x, y)
        current.wait_stream(self._side)
        for t in outputs:  # used on the current stream from here: freed after that
            if t is not None:
                t.record_stream(current)
        return outputs

    def _record(self, x, y) -> bool:
        """Record the step into a new graph (nothing runs yet); False, with the reason
        set, when an operation of this design cannot be recorded."""
        sx, sy = x.clone(), y.clone()
        graph = self.new_graph()
        try:
            with self._capturing(graph):
                outputs = self.update(sx, sy)
        except Exception as exc:  # noqa: BLE001 - any failure: the run goes on eagerly
            self.off = f"this design's step cannot be recorded ({first_line(exc)})"
            return False
        self._graph, self._static = graph, (sx, sy, tuple(outputs))
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
                try:
                    yield
                finally:  # the recording's end (its instantiation) is not the step's
                    torch.cuda.set_sync_debug_mode(0)
        finally:
            torch.cuda.set_sync_debug_mode(mode)
