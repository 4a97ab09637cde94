"""Run a hyperparameter search from the app: off the GUI thread, trials in parallel
processes, the study polled for live progress, Cancel through the shared storage."""

from __future__ import annotations

import secrets
import time

from PySide6.QtCore import QTimer, Signal

from ...design import NetworkDesign
from ...errors import DeskLabError
from ...experiments.score import score_of
from ...experiments.search import (DEFAULT_SPACE, cancel_search, create_study,
                                   default_storage, run_search, study_rows)
from .tasks import Task

POLL_MS = 500
COMPARE_BEST = 4  # trials "Compare best" opens: enough to see a trend, few enough to read


class SearchController(Task):
    """One search at a time; ``rows`` while it runs, ``done`` / ``failed`` at the end."""

    rows = Signal(object)  # [row dict, ...]: a fresh list each poll, never mutated after
    JOIN_TIMEOUT_MS = 120_000  # each process ends its trial at its next evaluation

    def __init__(self, parent=None):
        super().__init__("desklab-search", parent)
        self.storage: str | None = None  # checked at each start (the runs folder moves)
        self.name: str | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.done.connect(self._ended)
        self.failed.connect(self._ended)

    def start(self, design: NetworkDesign, trials: int, jobs: int,
              spaces=DEFAULT_SPACE) -> None:
        self.shutdown()
        self.name = f"{design.name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        try:  # the storage's tables made here, before the worker and the poll both would
            self.storage = default_storage()
            create_study(self.storage, self.name, design.train.seed, trials,
                         score_of(design))
        except DeskLabError as exc:  # a runs folder no storage URL can name
            self.name = None
            self.failed.emit(str(exc))
            return
        storage, name = self.storage, self.name
        super().start(lambda progress, cancelled: run_search(
            design, spaces, trials, storage, jobs, name))
        self.timer.start()

    def poll(self) -> None:
        if self.name is not None and self.storage is not None:
            self.rows.emit(study_rows(self.storage, self.name))

    def cancel(self) -> None:
        if self.running and self.name is not None:
            super().cancel()
            try:
                cancel_search(self.storage, self.name)
            except KeyError:  # not created yet: it will see nothing to stop; retry soon
                QTimer.singleShot(POLL_MS, self.cancel)

    def shutdown(self) -> None:
        self.timer.stop()
        super().shutdown()

    def _ended(self, result) -> None:
        self.timer.stop()
        if isinstance(result, dict):
            self.rows.emit(result["trials"])


def best_trials(rows: list, order, limit: int = COMPARE_BEST) -> list:
    """The runs (RunRecords) of the ``limit`` best complete trials, best first, each
    named by its trial and settings: every trial trains a copy of one design, so the
    run names alone would all be the same. ``order``: the score's sort key.

    Raises what ``stored_record`` raises for a run file it cannot read."""
    from .runs import stored_record
    complete = sorted((r for r in rows if r["state"] == "complete" and
                       r["value"] is not None and r.get("run")),
                      key=lambda r: order(r["value"]))
    records = []
    for row in complete[:limit]:
        record = stored_record(row["run"])
        record.name = f"trial {row['number']} · " + ", ".join(
            f"{name} {value:.2g}" for name, value in row["params"].items())
        records.append(record)
    return records


def search_summary(result: dict, label: str) -> str:
    """The search window's last words on a search: its best trial against the design's
    own setting (``label``: the score's name)."""
    best, base = result["best"], result["baseline"]
    if result.get("cancelled"):
        text = "Cancelled."
    elif best is None:
        text = "No trial finished."
    else:
        verdict = "beats" if result["beats_baseline"] else "could not beat"
        values = ", ".join(f"{k} {v:.3g}" for k, v in best["params"].items())
        own = f"{label} {base['value']:.4g}" if base["value"] is not None else "it diverged"
        text = (f"Best: trial {best['number']}, {values}: {label} {best['value']:.4g}; "
                f"the search {verdict} the design's own setting ({own}).")
    return text + (" Every trial is a run in the Runs dock's run store (double-click one "
                   "in the table to open it; Compare best overlays the best).")
