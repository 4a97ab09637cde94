"""What the app and its trainer process say to each other, and how a death is told.

Two one-way pipes (``multiprocessing`` connections: pickled tuples, framed):

    app -> trainer   ("job", Job)              train this design, recording to job.run_path
                     ("cmd", seq, name, value)  pause | resume | step | stop | lr | l1 | l2
                                                | weights (save them now, between steps)
                     ("quit",)                  a warm trainer that will not be used
    trainer -> app   ("ready", info)            torch imported, kernel built, warmed up
                     ("started", Started)       the run is built: layout, device, threads
                     ("events", [TrainEvent])   the loop's events, in order, coalesced
                                                (a classification's confusion counts too)
                     ("diagnosis", [Finding])   the rules' findings, run in the trainer
                     ("boundary", grid)         decision-boundary grid (2-D inputs), or
                                                the fit curve (one input, one target)
                     ("ack", seq, name, result) a command took effect
                     ("done", Ended)            the run ended and its files are closed
                     ("error", text)            the run could not start (shown as is)

Everything sent is small: numpy arrays of a few hundred floats per layer, no tensors.
"""

from __future__ import annotations

import math
import signal
from dataclasses import dataclass, field

from ..metrics import Snapshot

COMMANDS = ("pause", "resume", "step", "stop", "lr", "l1", "l2", "weights")


@dataclass(frozen=True)
class Job:
    """One run for a trainer process.

    ``design`` is the design file's JSON (``design_to_dict``); ``run_path`` the run
    store file to create (None: not recorded); ``weights_path`` where the final weights
    go; ``threads`` the user's count (0 = choose); ``reserve`` cores kept for others (the
    GUI); ``max_threads`` a cap (0 = none; two runs side by side share the cores);
    ``data_root`` the app's dataset folder; ``fault`` a test-only failure to inject
    (``DESKLAB_TRAINER_FAULT``, see `child.inject_fault`).
    """

    design: dict
    run_path: str | None
    weights_path: str | None
    threads: int = 0
    reserve: int = 1
    max_threads: int = 0
    data_root: str | None = None
    boundary: bool = True
    fault: str = ""


@dataclass(frozen=True)
class Started:
    """The run is built and about to take its first step."""

    layout: object  # metrics.ProbeLayout
    device_name: str
    total_params: int
    run_path: str | None
    threads: dict  # engine.threads.ThreadChoice.as_dict()
    data_points: tuple | None = None  # (x (N, 2), y (N,)) numpy, for 2-D inputs


@dataclass(frozen=True)
class Ended:
    """How the run ended: the loop's final state and speed, and where its weights are."""

    state: str
    step: int
    train_seconds: float
    weights_path: str | None
    threads: dict = field(default_factory=dict)

    @property
    def steps_per_second(self) -> float:
        return self.step / self.train_seconds if self.train_seconds > 0 else 0.0


@dataclass(frozen=True)
class Event:
    """A trainer event as the app receives it (the engine's ``TrainEvent``, without
    torch): ``kind``, ``step``, ``payload``, ``steps_per_second``."""

    kind: str
    step: int
    payload: object = None
    steps_per_second: float = math.nan


def pack_event(event) -> tuple:
    """A TrainEvent as a plain tuple; a snapshot without its layout (the app has it
    from "started": sending 50 layers' names with every probe would cost more than
    the numbers)."""
    payload = event.payload
    if event.kind == "snapshot":
        payload = (payload.step, payload.stats, payload.hist, payload.loss, payload.lr,
                   payload.time_grad)
    return (event.kind, event.step, payload, event.steps_per_second)


def unpack_event(packed: tuple, layout) -> Event:
    kind, step, payload, rate = packed
    if kind == "snapshot":
        snap_step, stats, hist, loss, lr, time_grad = payload
        payload = Snapshot(snap_step, layout, stats, hist, loss, lr, time_grad)
    return Event(kind, step, payload, rate)


def exit_cause(exitcode: int | None, stderr_tail: str = "") -> str:
    """A trainer's unexpected end, in plain words, with the last lines it printed."""
    if exitcode is None:
        text = "The trainer process stopped answering."
    elif exitcode < 0:
        number = -exitcode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        why = {
            "SIGKILL": "killed from outside (the system's out-of-memory killer does this "
                       "when memory runs out, and so does kill -9)",
            "SIGSEGV": "it crashed (a segmentation fault in native code)",
            "SIGABRT": "it aborted (a failed check in native code)",
            "SIGBUS": "it crashed (a bus error in native code)",
            "SIGFPE": "it crashed (a floating-point exception in native code)",
            "SIGTERM": "it was asked to terminate from outside",
        }.get(name, "it was ended by a signal")
        text = f"The trainer process was ended by {name}: {why}."
    else:
        text = f"The trainer process exited with code {exitcode} before the run ended."
    tail = stderr_tail.strip()
    if tail:
        text += f" Its last output: {tail}"
    return text
