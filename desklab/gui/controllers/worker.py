"""The app's own runs: a trainer process does the work, a QThread bridges its stream.

The trainer process (`desklab.trainer_process`) trains, records the run, runs the
rules, draws the decision boundary and saves the weights, in its own interpreter, so
nothing the window does slows a step and a crash there never takes the window with it.
Here, `TrainerBridge` lives on a QThread and waits on the process's pipe; what it reads
it hands over in batches, as one queued signal per read, to `TrainingController` on the
GUI thread, a `RunFeed` that keeps the history the view draws from. Commands (pause,
resume, step, stop, lr, L1, L2, weights) go straight down the command pipe and are
acknowledged; a stop whose step does not end within `STOP_GRACE_S` kills the process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from ...design import NetworkDesign
from ...design.catalog import class_names
from ...metrics import Finding
from ...runs import new_run_path
from ...runs.folder import weights_path_of
from ...runs.store import mark_ended
from ...trainer_process.client import POOL, STOP_GRACE_S, TrainerProcess
from ...trainer_process.faults import fault_from_env
from ...trainer_process.protocol import Ended, Job, unpack_event
from ...util.data_root import data_root
from .feed import RunFeed
from .threads import live_threads, start_thread, stop_thread

READ_TIMEOUT_S = 0.05  # how often the bridge looks at an overdue stop
__all__ = ["TrainerBridge", "TrainingController", "live_threads"]


class TrainerBridge(QObject):
    """On its QThread: reads one run's messages until the run is done or the process is
    gone, then quits its thread."""

    messages = Signal(object)  # a list of protocol messages, in order
    gone = Signal(str)  # the process ended before its run did: why, in plain words

    def __init__(self, trainer: TrainerProcess):
        super().__init__()
        self.trainer = trainer
        self.abandoned = False  # set from the GUI thread: a held job that was never sent
        self.finished = threading.Event()  # run() has returned (its thread is quitting)

    @Slot()
    def run(self) -> None:
        trainer = self.trainer
        try:
            while not self.abandoned or trainer.busy:
                batch = trainer.receive(READ_TIMEOUT_S)
                if batch:
                    self.messages.emit(batch)
                    if any(m[0] in ("done", "error") for m in batch):
                        return
                trainer.enforce_stop()
                if trainer.exited:
                    self.gone.emit("" if trainer.killed_after_stop else trainer.cause())
                    return
        finally:
            QThread.currentThread().quit()
            self.finished.set()


class TrainingController(RunFeed):
    """Owns the current run of a design: starts it in a trainer process, sends commands,
    feeds what comes back into its history, and ends it."""

    run_started = Signal()
    run_ended = Signal(str)  # final state
    run_failed = Signal(str)
    acknowledged = Signal(str, object)  # a command the trainer applied, and its value
    trainer_ready = Signal()  # the trainer process is warm (a held job can go)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rules_here = False  # the trainer process runs them
        self.ends_on_event = False  # over at "done": its file closed, its weights saved
        self.bridge: TrainerBridge | None = None
        self.trainer: TrainerProcess | None = None
        self.thread = None
        self.design: NetworkDesign | None = None  # the design of the current run
        self.run_path = None
        self.ended_info: Ended | None = None  # how the last run ended (after "done")
        self.threads: dict = {}  # what the trainer chose (engine.threads.ThreadChoice)
        self.total_params = 0
        self.layout = None
        self.threads_setting = 0  # the user's CPU thread count; 0 = chosen per run
        self.started_at = 0.0  # perf_counter when Train was pressed (the bench reads it)
        self._job: Job | None = None  # a job held until `release_job`

    @staticmethod
    def prepare_trainer() -> None:
        """Start a trainer process now if none is warm (it takes a few seconds: torch's
        import, the kernel), so that Train shows its first step within a second."""
        POOL.prepare()

    def start(self, design: NetworkDesign, max_threads: int = 0, hold: bool = False) -> None:
        """Start a run of ``design`` in a trainer process. ``max_threads`` caps its CPU
        threads (0: chosen); ``hold`` keeps the job until `release_job` (two runs side by
        side start together, once both processes are warm: see ``trainer_ready``)."""
        self.stop_and_join()
        self.begin()
        self.started_at = time.perf_counter()
        self.design = design.copy()
        self.class_names = class_names(design.input.dataset, design.input.params)
        self.run_steps = design.train.steps
        self.ended_info, self.layout, self.threads = None, None, {}
        self.run_path = new_run_path(design.name)
        self.trainer = POOL.take()
        self._job = Job(self.design, str(self.run_path), str(weights_path_of(self.run_path)),
                        threads=self.threads_setting, reserve=1, max_threads=max_threads,
                        data_root=str(data_root()), fault=fault_from_env())
        if not hold:
            self.release_job()
        self.bridge = TrainerBridge(self.trainer)
        self.bridge.messages.connect(self._on_messages, Qt.QueuedConnection)
        self.bridge.gone.connect(self._on_gone, Qt.QueuedConnection)
        self.thread = start_thread(self.bridge, "desklab-train", run="run")
        self._set_state("starting")
        self.run_started.emit()

    @property
    def trainer_warm(self) -> bool:
        return self.trainer is not None and self.trainer.ready

    def release_job(self) -> None:
        """Send the held job (`start` with ``hold``)."""
        if self._job is not None and self.trainer is not None:
            self.trainer.start_job(self._job)
            self._job = None

    # commands: down the pipe, applied by the trainer between steps
    def _command(self, name: str, value=None) -> None:
        if self.trainer is not None and self.trainer.busy:
            self.trainer.command(name, value)

    def pause(self) -> None:
        self._command("pause")

    def resume(self) -> None:
        self._command("resume")

    def step_once(self) -> None:
        self._command("step")

    def set_lr(self, lr: float) -> None:
        self._command("lr", float(lr))

    def set_l1(self, value: float) -> None:
        self._command("l1", float(value))

    def set_l2(self, value: float) -> None:
        self._command("l2", float(value))

    def request_weights(self) -> None:
        """Ask for the weights as they are now (a paused run's); they arrive as an
        acknowledged "weights" command whose value is the file's path."""
        self._command("weights")

    def stop(self) -> None:
        """End the run after its current step; past the grace period the process is
        killed (by the bridge). Returns at once."""
        if self.trainer is not None and self.trainer.busy:
            self.trainer.request_stop()

    def stop_and_join(self, timeout_ms: int | None = None) -> bool:
        """Stop the run (if any) and wait for it to end: at most the grace period and a
        kill, never a step's length. True when it ended (it always does)."""
        if self.thread is None:
            return True
        grace = STOP_GRACE_S if timeout_ms is None else timeout_ms / 1000
        if self.trainer is not None and self.trainer.busy:
            self.trainer.request_stop(grace)
        # the bridge kills an overdue process and then returns (never quit its thread
        # before: a quit that comes before the queued run() starts would skip it); what
        # it queued for this controller (the last events, "done" or "gone") is delivered
        # by stop_thread
        thread, bridge = self.thread, self.bridge
        if self._job is not None:  # held, never sent: the process stays warm
            bridge.abandoned, self._job = True, None
        if not bridge.finished.wait(grace + 3.0):
            self.trainer.kill()  # the bridge ends once the pipe closes
            bridge.finished.wait(5.0)
        stop_thread(thread, worker=bridge, receiver=self)
        self._release()
        return True

    def _release(self) -> None:
        """After the bridge has returned: join its thread, keep the process warm for the
        next run (or replace it when it died or was killed)."""
        thread, trainer = self.thread, self.trainer
        self.thread = self.trainer = self.bridge = None
        if thread is not None:
            stop_thread(thread)  # quick: the bridge quit its thread as it returned
        if trainer is not None:
            POOL.give_back(trainer)  # ended when it did not finish cleanly
            POOL.prepare()
        if self.state in ("starting", "running", "paused"):  # no "done" ever came
            self._mark_killed("stopped", "Stopped during a step that did not end within "
                              f"{STOP_GRACE_S:g} s; the trainer process was ended.")
            self.run_ended.emit("stopped")

    # ------------------------------------------------------------ slots (GUI thread)

    def _stale(self) -> bool:
        return self.sender() is not self.bridge

    @Slot(object)
    def _on_messages(self, batch: list) -> None:
        if self._stale():
            return
        for message in batch:
            tag = message[0]
            if tag == "events":
                self.feed([unpack_event(e, self.layout) for e in message[1]])
            elif tag == "diagnosis":
                self.set_diagnosis(message[1])
            elif tag == "boundary":
                if message[1] is not None:
                    self.boundary = message[1]
                    self.dirty = True
                    if "error" not in message[1]:
                        self.history.record("drawing", message[1])
            elif tag == "started":
                self._started(message[1])
            elif tag == "ready":
                self.trainer_ready.emit()
            elif tag == "ack":
                self.acknowledged.emit(message[2], message[3])
            elif tag == "done":
                self._done(message[1])
            elif tag == "error":
                self._failed(message[1])
                self._release()

    def _started(self, started) -> None:
        if started.run_path is not None:  # the next free name, where another process
            self.run_path = Path(started.run_path)  # took the one chosen here first
        self.layout = started.layout
        self.history.layout = started.layout
        self.device_name = started.device_name
        self.total_params = started.total_params
        self.threads = started.threads
        self.data_points = started.data_points
        if started.data_points is not None:  # kept with the run (the Runs list's Open)
            self.history.record("points", started.data_points)
        self._set_state("running")

    def _done(self, ended: Ended) -> None:
        self.ended_info = ended
        self._set_state(ended.state)
        self._release()
        self.run_ended.emit(ended.state)

    @Slot(str)
    def _on_gone(self, cause: str) -> None:
        if self._stale():
            return
        if cause:
            self._failed(cause)
        self._release()  # killed after a stop that waited too long: marked stopped there

    def _failed(self, message: str) -> None:
        self.history.add_finding(Finding("failed", None, self.step, message,
                                         "Check the design and the device; the run's "
                                         "measurements up to the failure are kept.",
                                         "error"))
        self._mark_killed("failed", message)
        self.findings_changed.emit()
        self.run_failed.emit(message)
        self.run_ended.emit("failed")

    def _mark_killed(self, status: str, cause: str) -> None:
        """The run's file after its process was gone: the status and why (written here,
        once, after the run: its writer is dead)."""
        self._set_state(status)
        if self.run_path is not None:
            mark_ended(self.run_path, status, cause)
        self.dirty = True
