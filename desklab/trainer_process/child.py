"""The trainer process: started (spawn) and warmed up before it is needed.

    main(commands, events, log_path)   # multiprocessing's target, in the new process

It imports torch, builds the probe's CPU kernel and takes one throwaway optimizer step
(the first one imports torch._dynamo, about a second) before it says "ready"; then it
waits for a job, watching how busy the other cores are meanwhile, and runs it
(`run.run_job`). A run that ends normally leaves the process warm for the next one;
one that crashes or is killed takes only this process with it. Its stdout and stderr
go to ``log_path``, with faulthandler on, so a crash in native code leaves its last
words there for the app to show.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import queue
import sys
import threading
import time

from .protocol import Job

SAMPLE_EVERY_S = 0.5  # how often a waiting trainer reads the CPU counters


class Sender:
    """One pipe end shared by the loop's thread and the command thread."""

    def __init__(self, conn):
        self.conn = conn
        self.lock = threading.Lock()
        self.broken = False

    def __call__(self, message: tuple) -> None:
        if self.broken:
            return
        with self.lock:
            try:
                self.conn.send(message)
            except (OSError, EOFError, BrokenPipeError):
                self.broken = True  # the app is gone: the run goes on, unwatched, to its end


class CommandReader(threading.Thread):
    """Reads the app's pipe for the process's whole life (blocked in ``recv`` between
    messages: it costs the loop nothing). Jobs queue for the main thread; commands go
    straight to the current run's trainer, whose command methods are thread-safe."""

    def __init__(self, conn, send: Sender):
        super().__init__(name="desklab-commands", daemon=True)
        self.conn, self.send = conn, send
        self.jobs: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.trainer = None
        self.save_weights = None  # the run's "weights" command: save now, between steps
        self.early: list[tuple] | None = None  # commands for a job not yet built

    def attach(self, trainer, save_weights) -> None:
        """The job's trainer is built: commands reach it from now on, starting with
        those that came while it was built (a Stop pressed right after Train)."""
        with self.lock:
            self.trainer, self.save_weights = trainer, save_weights
            early, self.early = self.early or [], None
        for command in early:
            self.apply(*command)

    def detach(self) -> None:
        with self.lock:
            self.trainer = self.save_weights = None
            self.early = None

    def run(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (OSError, EOFError):  # the app is gone
                self.jobs.put(None)
                return
            if message[0] == "job":
                with self.lock:
                    self.early = []
                self.jobs.put(message[1])
            elif message[0] == "quit":
                self.jobs.put(None)
                return
            elif message[0] == "cmd":
                self.apply(*message[1:])

    def apply(self, seq: int, name: str, value) -> None:
        with self.lock:
            trainer, save_weights = self.trainer, self.save_weights
            if trainer is None and self.early is not None:
                self.early.append((seq, name, value))
                return
        if trainer is None:  # between runs: it was meant for one that has ended
            self.send(("ack", seq, name, None))
            return
        if name == "weights":
            trainer.call_between_steps(lambda: self.send(("ack", seq, name, save_weights())))
            return
        action = {"pause": trainer.pause, "resume": trainer.resume, "step": trainer.step_once,
                  "stop": trainer.stop}.get(name)
        if action is not None:
            action()
        else:
            {"lr": trainer.set_lr, "l1": trainer.set_l1, "l2": trainer.set_l2}[name](value)
        self.send(("ack", seq, name, value))


def main(commands, events, log_path: str | None) -> None:
    """The process's whole life: warm up, then run jobs one after another until told
    to quit (or the app is gone)."""
    if log_path:
        _redirect_output(log_path)
    faulthandler.enable()
    send = Sender(events)
    started = time.perf_counter()
    warm_up()
    reader = CommandReader(commands, send)
    reader.start()
    send(("ready", {"pid": os.getpid(), "warm_seconds": time.perf_counter() - started}))
    from .run import run_job
    while True:
        job, busy_others = wait_for_job(reader.jobs)
        if job is None:
            return
        run_job(job, reader, send, busy_others)


def warm_up() -> None:
    """What the first run would otherwise pay for: imports, the probe's kernel, and two
    probed steps of a tiny design (the first optimizer step imports torch._dynamo,
    about a second; the first probe and evaluation load their code paths)."""
    from ..design import InputSpec, LayerSpec, NetworkDesign, TrainConfig
    from ..engine import cpu_kernel
    from ..engine.trainer import Trainer
    from ..runs import store  # noqa: F401 - the run store's modules
    cpu_kernel.load()
    tiny = NetworkDesign(name="warm-up", input=InputSpec("moons", {"samples": 64}),
                         layers=[LayerSpec.make("dense", units=8, activation="relu")],
                         train=TrainConfig(steps=2, batch_size=16, probe_every=1,
                                           eval_every=2, device="cpu"))
    Trainer(tiny).run()


def wait_for_job(jobs: queue.Queue) -> tuple[Job | None, float]:
    """The next job (None: told to quit, or the app is gone), and how many cores other
    programs kept busy over the last half second or more before it came."""
    from ..util.cpu_load import busy_other_cores, sample
    older = newer = sample(exclude_parent=True)
    collected = False
    while True:
        try:
            job = jobs.get(timeout=SAMPLE_EVERY_S)
        except queue.Empty:
            if not collected:  # the last run's model and data, once idle (~0.2 s)
                gc.collect()
                collected = True
            older, newer = newer, sample(exclude_parent=True)
            continue
        return job, busy_other_cores(older, sample(exclude_parent=True))


def _redirect_output(log_path: str) -> None:
    """fd 1 and 2 (Python's and native code's output) into the log file."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
