"""Training off the GUI thread: a worker QObject on a QThread, and its controller.

The worker runs the engine's loop inside its ``run`` slot on the training thread
and re-emits every event as ``Signal(object)``; Qt queues them to the
controller's slots on the GUI thread. Commands (pause, stop, lr...) go straight
to the trainer, whose methods are thread-safe: the worker's event loop is busy
running the training loop, so queued slots would not run until it ends.
"""

from __future__ import annotations

import sqlite3
import time

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot

from ...design import NetworkDesign
from ...engine import make_dataset
from ...engine.boundary import decision_grid
from ...engine.trainer import Trainer
from ...metrics import Finding, RunHistory
from ...runs import RunWriter, new_run_path
from ...runs.store import design_meta
from .threads import live_threads, start_thread, stop_thread

BOUNDARY_EVERY_S = 0.3  # decision boundary redraws "every few hundred ms"
__all__ = ["TrainWorker", "TrainingController", "live_threads"]


class TrainWorker(QObject):
    """Lives on the training thread for one run."""

    started = Signal(object)  # the Trainer (for its layout, device name, data)
    event = Signal(object)  # a TrainEvent
    boundary = Signal(object)  # decision_grid() output, or {"error": text}
    failed = Signal(str)  # the run could not start

    def __init__(self, design: NetworkDesign):
        super().__init__()
        self.design = design
        self.trainer: Trainer | None = None
        self._stop_requested = False

    @Slot()
    def run(self) -> None:
        try:
            self.trainer = Trainer(self.design)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never raised
            self.failed.emit(f"Cannot start training: {exc}")
            return
        if self._stop_requested:
            self.trainer.stop()
        self.started.emit(self.trainer)
        two_d = self.trainer.data.x_train.dim() == 2 and self.trainer.data.x_train.shape[1] == 2
        x_dev = self.trainer.data.x_train.to(self.trainer.device) if two_d else None
        last_boundary = 0.0
        for event in self.trainer.events():
            self.event.emit(event)
            now = time.perf_counter()
            if two_d and (now - last_boundary > BOUNDARY_EVERY_S or event.kind == "ended"):
                last_boundary = now
                try:  # a diverged (NaN) model gives NaN probabilities: the panel skips them
                    self.boundary.emit(decision_grid(self.trainer.model, x_dev))
                except (RuntimeError, MemoryError) as exc:  # e.g. out of device memory
                    two_d = False  # the run goes on; the panel says why it stopped
                    message = str(exc).strip().splitlines()[0][:200]
                    self.boundary.emit({"error": message})

    def request_stop(self) -> None:
        """Thread-safe: ends the run after the current step."""
        self._stop_requested = True
        if self.trainer is not None:
            self.trainer.stop()


class TrainingController(QObject):
    """Owns the current run: starts, commands, collects into a RunHistory, joins."""

    run_started = Signal()
    run_ended = Signal(str)  # final state
    run_failed = Signal(str)
    findings_changed = Signal()
    state_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.worker: TrainWorker | None = None
        self.thread = None
        self.trainer: Trainer | None = None
        self.history: RunHistory | None = None
        self.boundary = None
        self.data_points: tuple[np.ndarray, np.ndarray] | None = None
        self.step = 0
        self.steps_per_second = 0.0
        self.state = "idle"
        self.device_name = ""
        self.dirty = False  # new data since the last redraw
        self.diagnosis_due = False  # new data since the rules last ran
        self.run_steps = 0
        self.snapshots_received = 0
        self.record = None  # this run's file in the run store (runs.RunWriter)
        self._recorded_design = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning() and self.state not in (
            "finished", "stopped", "diverged", "failed", "early_stopped", "idle")

    def start(self, design: NetworkDesign) -> None:
        self.stop_and_join()
        self.history = RunHistory()
        self.boundary, self.step, self.steps_per_second = None, 0, 0.0
        self.snapshots_received = 0
        self.run_steps = design.train.steps
        data = make_dataset(design) if design.input.shape == (2,) else None
        self.data_points = (data.x_train.numpy(), data.y_train.numpy()) if data else None
        self.worker = TrainWorker(design.copy())
        self._recorded_design = design.copy()
        self.worker.started.connect(self._on_started, Qt.QueuedConnection)
        self.worker.event.connect(self._on_event, Qt.QueuedConnection)
        self.worker.boundary.connect(self._on_boundary, Qt.QueuedConnection)
        self.worker.failed.connect(self._on_failed, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, "desklab-train", run="run")
        self._set_state("starting")
        self.run_started.emit()

    # commands: thread-safe calls into the trainer
    def pause(self) -> None:
        if self.trainer:
            self.trainer.pause()

    def resume(self) -> None:
        if self.trainer:
            self.trainer.resume()

    def step_once(self) -> None:
        if self.trainer:
            self.trainer.step_once()

    def set_lr(self, lr: float) -> None:
        if self.trainer:
            self.trainer.set_lr(lr)

    def set_l1(self, value: float) -> None:
        if self.trainer:
            self.trainer.set_l1(value)

    def set_l2(self, value: float) -> None:
        if self.trainer:
            self.trainer.set_l2(value)

    def stop_and_join(self, timeout_ms: int | None = None) -> bool:
        """Stop the run (if any) and join its thread; True when nothing is left running.

        False: the current step is still running. The thread is then detached (see
        `threads.stop_thread`): it ends by itself after that step, and nothing it still
        sends reaches this controller."""
        if self.worker is not None:
            self.worker.request_stop()
        # joined: what the run queued ("ended" records it) is delivered while its history
        # is still the current one; detached: its slots are dropped (see `_stale`)
        done = stop_thread(self.thread, timeout_ms, worker=self.worker, receiver=self)
        self.thread, self.worker = None, None
        self._close_record("stopped")
        return done

    # slots: run on the GUI thread
    def _stale(self) -> bool:
        """In a slot: True when the caller is not this run's worker (one that was
        replaced, or detached by a stop that could not join)."""
        return self.sender() is not self.worker

    @Slot(object)
    def _on_started(self, trainer) -> None:
        if self._stale():
            return
        self.trainer = trainer
        self.device_name = trainer.device_name
        self.history.layout = trainer.layout
        self.record = open_record(self._recorded_design, trainer)
        self._set_state("running")

    @Slot(object)
    def _on_event(self, event) -> None:
        if self.history is None or self._stale():
            return
        kind = event.kind
        if self.history.record(kind, event.payload):
            self.diagnosis_due = True
        if self.record is not None:
            self.record.record(kind, event.payload)
        if kind == "snapshot":
            self.snapshots_received += 1
        elif kind == "finding":
            self.findings_changed.emit()
        elif kind == "paused":
            self._set_state("paused")
        elif kind == "resumed":
            self._set_state("running")
        self.step = max(self.step, event.step + (1 if kind == "snapshot" else 0))
        if event.steps_per_second == event.steps_per_second:  # not NaN
            self.steps_per_second = event.steps_per_second
        self.dirty = True
        if kind == "ended":
            self.diagnose()
            self._close_record(event.payload)
            self._set_state(event.payload)
            self.run_ended.emit(event.payload)

    def diagnose(self) -> None:
        """Re-run the diagnostic rules if new data came (the view calls this ~4x/s)."""
        if self.diagnosis_due and self.history is not None:
            self.diagnosis_due = False
            self.history.update_diagnosis()
            self.findings_changed.emit()

    @Slot(object)
    def _on_boundary(self, grid) -> None:
        if grid is not None and not self._stale():
            self.boundary = grid
            self.dirty = True

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._stale():
            return
        if self.history is not None:
            self.history.add_finding(Finding("failed", None, 0, message,
                                             "Check the design and the device.", "error"))
        self._close_record("failed")
        self._set_state("failed")
        self.run_failed.emit(message)
        self.findings_changed.emit()

    def _close_record(self, status: str) -> None:
        if self.record is not None:
            self.record.close(status)
            self.record = None

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)


def open_record(design: NetworkDesign, trainer):
    """A run file in the run store for a run of ``design`` (None if it cannot be made:
    the run goes on, unrecorded, rather than fail over a full or read-only disk)."""
    try:
        return RunWriter(new_run_path(design.name), design_meta(
            design, trainer.device_name, trainer.model_total_params))
    except (OSError, sqlite3.Error):
        return None
