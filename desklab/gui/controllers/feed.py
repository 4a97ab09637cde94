"""What the training view draws: one run's measurements and status, fed by a stream.

A `RunFeed` is the one data path into the live view. The app's own run (a trainer
process, `worker.TrainingController`) and a run followed from the run store
(`follow.RunFollower`: a user's script under desklab.watch, a ``desklab train``) both
hand it the same `Event`s; the view redraws from ``history`` at most 30 times a second
whenever ``dirty`` says something new came. A feed of a finished run (the Runs dock's
Open) is fed once.

Where the rules run depends on the source: the app's trainer runs them in its own
process and sends its findings (`set_diagnosis`); for a followed file nobody else
does, so `diagnose` runs them here, at most a few times a second.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from ...metrics import RunHistory
from ...trainer_process.protocol import Event

ENDED = ("finished", "stopped", "diverged", "failed", "early_stopped", "interrupted")
ACTIVE = ("starting", "running", "paused", "following")


class RunFeed(QObject):
    """One run's history and status; see the module docstring.

    Attributes the view reads: ``history``, ``state``, ``step``, ``run_steps`` (the
    run's length, 0 when unknown), ``steps_per_second``, ``device_name``, ``boundary``
    (the decision grid, 2-D inputs), ``data_points``, ``class_names`` (label i's
    name, where the run's dataset names them) and ``dirty``. A classification's
    confusion counts are in the history (``history.confusion``), recorded like the rest.
    ``run_file`` is the run file a reopened or followed run is read from (None for the
    app's own run and a run followed from a server): its report is built from it.
    """

    state_changed = Signal(str)
    findings_changed = Signal()
    evaluated = Signal(int)  # a batch brought metrics: the step of the last evaluation

    def __init__(self, parent=None, history: RunHistory | None = None, state: str = "idle",
                 class_names: tuple[str, ...] = ()):
        super().__init__(parent)
        self.class_names = class_names
        self.run_file: str | None = None
        self.rules_here = True  # False: the findings come from the trainer process
        self.ends_on_event = True  # False: the source says when the run is over itself
        self.begin(history)
        self.state = state
        if history is not None:  # a finished run's: its length is what it recorded
            self.step = self.run_steps = steps_taken(history)
            self.take_drawing()

    def take_drawing(self) -> None:
        """A recorded run's data points and latest drawing over them, from its history
        (the app's own run has them from its trainer process instead)."""
        history = self.history
        if history.data_points is not None and self.data_points is None:
            self.data_points = history.data_points
        if history.drawing is not None and self.boundary is not history.drawing:
            self.boundary = history.drawing
            self.dirty = True

    def begin(self, history: RunHistory | None = None) -> None:
        """Forget the last run: a fresh (or given) history, counters at zero."""
        self.history = history if history is not None else RunHistory()
        self.boundary = None
        self.data_points = None
        self.step = 0
        self.run_steps = 0
        self.steps_per_second = 0.0
        self.device_name = ""
        self.snapshots_received = 0
        self.dirty = True
        self.diagnosis_due = False

    @property
    def running(self) -> bool:
        return self.state in ACTIVE

    def feed(self, events: list[Event]) -> None:
        """Add a batch of events (in order) to the history and the status."""
        history = self.history
        evaluated_at = None
        for event in events:
            kind = event.kind
            # rules: once per batch at most (below, or in the trainer process)
            if history.record(kind, event.payload, diagnose=False):
                self.diagnosis_due = True
            if kind == "snapshot":
                self.snapshots_received += 1
                self.step = max(self.step, event.payload.step + 1)
            elif kind == "steps" and len(event.payload.loss):
                self.step = max(self.step, int(event.payload.steps[-1]) + 1)
            elif kind == "finding":
                self.findings_changed.emit()
            else:  # metrics, progress, paused, resumed, ended: steps taken so far
                self.step = max(self.step, event.step)
            if kind == "metrics":
                evaluated_at = event.step
            if kind == "paused":
                self._set_state("paused")
            elif kind == "resumed":
                self._set_state("running")
            if not math.isnan(event.steps_per_second):
                self.steps_per_second = event.steps_per_second
            if kind == "paused":
                self.steps_per_second = 0.0  # not the speed it had before the pause
            if kind == "ended":
                self.diagnose()
                if self.ends_on_event:
                    self._set_state(event.payload)
        if events:
            self.dirty = True
        if evaluated_at is not None:
            self.evaluated.emit(evaluated_at)

    def set_diagnosis(self, findings: list) -> None:
        """The rules' findings, computed where the run trains."""
        self.history.set_diagnosis(findings)
        self.diagnosis_due = False
        self.findings_changed.emit()

    def diagnose(self) -> None:
        """Run the rules here if this feed's source does not and new data came (the
        view calls this about 4 times a second)."""
        if self.rules_here and self.diagnosis_due:
            self.diagnosis_due = False
            self.history.update_diagnosis()
            self.findings_changed.emit()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)


def steps_taken(history: RunHistory) -> int:
    """How many steps a history covers: its last step's number + 1 (an evaluation's
    step is the number of steps before it)."""
    taken = [int(history.steps.steps[-1]) + 1] if len(history.steps) else []
    if len(history.metrics):
        taken.append(int(history.metrics.steps[-1]))
    if history.latest is not None:
        taken.append(history.latest.step + 1)
    return max(taken, default=0)
