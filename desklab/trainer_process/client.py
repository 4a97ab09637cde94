"""The app's side of a trainer process: start it, give it a run, command it, end it.

No Qt and no torch here: the app's bridge thread (`gui/controllers/worker.py`) calls
`TrainerProcess.receive` in a loop and turns what comes into Qt signals. `POOL` keeps
one trainer warm so that Train shows its first step within a second.

A stop asks the run to end after its current step; a step that is still running
`STOP_GRACE_S` later is not waited for: the process is killed (its run file keeps
everything up to its last commit) and the pool starts a fresh one.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import os
import tempfile
import time
from multiprocessing.connection import wait

from .protocol import Job, exit_cause

STOP_GRACE_S = 1.0  # a stopped run's current step may take this long before a kill
TAIL_LINES = 4  # the trainer's last output lines shown when it dies
MAX_MESSAGES = 256  # read per call at most: the bridge thread hands them on in batches


class TrainerProcess:
    """One trainer process (spawned at once; warm when it has sent "ready").

    ``receive`` returns what it sent; once its pipe is closed and the process has
    ended, `exited` is True and `cause` says why in plain words.
    """

    _ids = itertools.count(1)

    def __init__(self):
        ctx = multiprocessing.get_context("spawn")  # the same on Linux, macOS, Windows
        child_commands, self._commands = ctx.Pipe(duplex=False)  # (receiver, sender)
        self._events, child_events = ctx.Pipe(duplex=False)
        fd, self.log_path = tempfile.mkstemp(prefix="desklab-trainer-", suffix=".log")
        os.close(fd)
        from . import child
        self.process = ctx.Process(target=child.main, name=f"desklab-trainer-{next(self._ids)}",
                                   args=(child_commands, child_events, self.log_path),
                                   daemon=True)
        self.process.start()
        child_commands.close()  # the child's ends: only the child holds them now
        child_events.close()
        self._seq = itertools.count(1)
        self.ready = False
        self.busy = False  # a job was given and its "done" has not come
        self.closed = False  # the events pipe reached its end
        self.stop_deadline: float | None = None
        self.killed_after_stop = False

    # ------------------------------------------------------------ commands

    def _send(self, message: tuple) -> bool:
        try:
            self._commands.send(message)
            return True
        except (OSError, EOFError, BrokenPipeError):  # it died: receive() tells how
            return False

    def start_job(self, job: Job) -> bool:
        self.busy, self.stop_deadline, self.killed_after_stop = True, None, False
        return self._send(("job", job))

    def command(self, name: str, value=None) -> int:
        """Send a command; its number comes back in an ("ack", seq, ...) message."""
        seq = next(self._seq)
        self._send(("cmd", seq, name, value))
        return seq

    def request_stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Ask the run to stop after its step; past ``grace_s`` `enforce_stop` kills."""
        if self.stop_deadline is None:
            self.command("stop")
            self.stop_deadline = time.monotonic() + grace_s

    def enforce_stop(self) -> None:
        """Kill the process if a requested stop is overdue (the bridge calls this)."""
        if (self.stop_deadline is not None and self.busy and self.process.is_alive()
                and time.monotonic() >= self.stop_deadline):
            self.killed_after_stop = True
            self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def quit(self) -> None:
        """An idle trainer: exit; a busy one: killed (nothing may outlive the app)."""
        if self.busy:
            self.kill()
        elif not self._send(("quit",)):
            self.kill()

    # ------------------------------------------------------------ receiving

    def receive(self, timeout: float) -> list[tuple]:
        """Messages that came within ``timeout`` seconds (all that are waiting, up to
        `MAX_MESSAGES`); [] when none came. Sets `closed` at the pipe's end."""
        if self.closed:
            if timeout > 0:
                self.process.join(timeout)
            return []
        if not wait([self._events, self.process.sentinel], timeout):
            return []
        out: list[tuple] = []
        try:
            while len(out) < MAX_MESSAGES and self._events.poll():
                out.append(self._events.recv())
        except (EOFError, OSError):
            self.closed = True
        if not out and not self.closed and not self.process.is_alive():
            self.closed = True  # the sentinel fired and nothing is left to read
        for message in out:
            if message[0] == "ready":
                self.ready = True
            elif message[0] in ("done", "error"):
                self.busy, self.stop_deadline = False, None
        return out

    @property
    def exited(self) -> bool:
        return self.closed and not self.process.is_alive()

    def cause(self) -> str:
        """Why the process ended, in plain words, with its last output lines."""
        self.process.join(1.0)
        return exit_cause(self.process.exitcode, self.log_tail())

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        """The trainer's last words: a native crash's "Fatal Python error" line and the
        innermost Python frame, else its last lines of output."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 16384))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        kept = [line.strip() for line in text.splitlines() if line.strip()
                and not line.startswith("Extension modules:")]
        fatal = [i for i, line in enumerate(kept) if line.startswith("Fatal Python error")]
        if fatal:
            frames = [line for line in kept[fatal[-1]:] if line.startswith("File ")]
            return " | ".join([kept[fatal[-1]], *frames[:1]])
        return " | ".join(kept[-lines:])

    def dispose(self) -> None:
        """After the process ended: close the pipes, remove the log."""
        for conn in (self._commands, self._events):
            conn.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


class TrainerPool:
    """Trainer processes kept warm for the app's next runs.

    `take` hands out a warm one (or starts one: it warms while its job waits in the
    pipe); `give_back` keeps a trainer whose run ended normally for the next run;
    `prepare` starts one ahead of need (the app calls it at start and after a run).
    """

    def __init__(self, keep: int = 1):
        self.keep = keep
        self.idle: list[TrainerProcess] = []

    def prepare(self) -> None:
        self.idle = [t for t in self.idle if t.process.is_alive()]
        while len(self.idle) < self.keep:
            self.idle.append(TrainerProcess())

    def take(self) -> TrainerProcess:
        while self.idle:
            trainer = self.idle.pop(0)
            if trainer.process.is_alive():
                return trainer
            trainer.dispose()
        return TrainerProcess()

    def give_back(self, trainer: TrainerProcess) -> None:
        """A trainer after its run: kept when it is alive and idle, else ended."""
        if trainer.process.is_alive() and not trainer.busy and not trainer.closed \
                and len(self.idle) < self.keep:
            self.idle.append(trainer)
            return
        trainer.quit()
        trainer.process.join(0.5)
        trainer.kill()
        trainer.dispose()

    def shutdown(self) -> None:
        for trainer in self.idle:
            trainer.quit()
        for trainer in self.idle:
            trainer.process.join(0.5)
            trainer.kill()
            trainer.dispose()
        self.idle = []


POOL = TrainerPool()
atexit.register(POOL.shutdown)
