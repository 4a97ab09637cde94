"""Measuring a ``torch.compile``'d model: its probed steps run eagerly.

A compiled graph runs without the module hooks DeskLab measures with (hooks added
after compiling are not seen; hooks present while compiling are traced in). So the
watcher runs the steps it probes, and the first one (where it finds the modules), under
``torch.compiler.set_stance("force_eager")``: the user's own modules, hooks and all, the
same numbers up to floating-point order. Every other step runs compiled. The cost is one
eager step in ``every``; with torch older than 2.6 (no stance) a compiled model is said
not measurable instead.
"""

from __future__ import annotations

import sys

import torch


def is_compiled(module) -> bool:
    """Whether ``module`` is what ``torch.compile(module)`` returns."""
    if "torch._dynamo" not in sys.modules:
        return False  # nothing was compiled in this process
    from torch._dynamo.eval_frame import OptimizedModule
    return isinstance(module, OptimizedModule)


def anything_compiled() -> bool:
    """Whether torch.compile has built a graph in this process."""
    if "torch._dynamo" not in sys.modules:
        return False
    from torch._dynamo.utils import counters
    return counters["stats"]["unique_graphs"] > 0


def can_run_eagerly() -> bool:
    return hasattr(torch.compiler, "set_stance")


class EagerSteps:
    """Switches compiled code to eager and back (`on` / `off`, each idempotent)."""

    def __init__(self):
        self._stance = None

    def on(self) -> None:
        if self._stance is None and can_run_eagerly():
            self._stance = torch.compiler.set_stance("force_eager")  # in force from here

    def off(self) -> None:
        if self._stance is not None:
            stance, self._stance = self._stance, None
            stance.__exit__(None, None, None)  # the stance before ours
