"""Compute a loss landscape off the GUI thread, with progress and cancel.

`engine.landscape_run.landscape_report` runs as a `Task` (on weights a run's trainer
process saved, read back with ``weights_only=True``); its progress callback
reports each grid row and returns False once Cancel was pressed, which ends the
surface early (the rows done are kept, and the report says it was cancelled).
"""

from __future__ import annotations

from ...design import NetworkDesign
from ...engine.landscape_run import landscape_report
from ...engine.weights import load_weights
from .tasks import Task


class LandscapeController(Task):
    def __init__(self, parent=None):
        super().__init__("desklab-landscape", parent)

    def start(self, design: NetworkDesign, weights: str | None, grid: int,
              span: float) -> None:
        """``weights``: a weights file a run saved (None: the design at init)."""
        def work(progress, cancelled) -> dict:
            def rows(done: int, total: int) -> bool:
                progress(done, total)
                return not cancelled()
            state = load_weights(weights) if weights is not None else None
            report = landscape_report(design, 0, state, grid, span, design.train.seed,
                                      rows)
            report["cancelled"] = cancelled()
            return report
        super().start(work)
