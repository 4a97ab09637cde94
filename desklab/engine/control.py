"""Commands into a running loop, from any thread: pause, resume, single steps, stop,
and the learning rate and penalties. They take effect between steps; the loop
announces a pause once ("paused") and the first step after it ("resumed")."""

from __future__ import annotations

import threading
from typing import Iterator

from .events import TrainEvent


class RunCommands:
    """Mixin of `Trainer`: the thread-safe command state and the pause protocol.
    The trainer sets ``step`` and ``state``; `_init_commands` the rest."""

    def _init_commands(self, lr: float, l1: float, l2: float) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._single_steps = 0
        self._pause_announced = False
        self._stop = False
        self._lr, self._l1, self._l2 = float(lr), float(l1), float(l2)
        self._calls: list = []  # functions to run between steps (call_between_steps)

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused, self._single_steps = False, 0
            self._cond.notify_all()

    def step_once(self, n: int = 1) -> None:
        """While paused: take ``n`` more steps (each one probed), then pause again."""
        with self._cond:
            self._paused = True
            self._single_steps += n
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def set_lr(self, lr: float) -> None:
        with self._cond:
            self._lr = float(lr)

    def set_l1(self, l1: float) -> None:
        with self._cond:
            self._l1 = float(l1)

    def set_l2(self, l2: float) -> None:
        with self._cond:
            self._l2 = float(l2)

    def call_between_steps(self, fn) -> None:
        """Run ``fn()`` on the loop's thread before the next step, or at once in the
        loop's thread while it is paused (the weights hold still meanwhile)."""
        with self._cond:
            self._calls.append(fn)
            self._cond.notify_all()

    def _run_calls(self) -> None:
        with self._cond:
            calls, self._calls = self._calls, []
        for fn in calls:
            fn()

    def _wait_if_paused(self) -> Iterator[TrainEvent]:
        """Generator helper: returns False when stopped, True when a step may run.

        A pause is announced once ("paused"); single steps keep it; the first step
        after the pause is lifted announces "resumed", however quickly it came.
        """
        resumed = False
        while True:
            self._run_calls()
            with self._cond:
                if self._stop:
                    return False
                if not self._paused:
                    resumed, self._pause_announced = self._pause_announced, False
                    self.state = "running"
                    break
                if self._single_steps > 0:
                    self._single_steps -= 1
                    return True
                if self._pause_announced:
                    if not self._calls:
                        self._cond.wait(timeout=0.1)
                    continue
                self._pause_announced = True
                self.state = "paused"
            yield TrainEvent("paused", self.step)
        if resumed:
            yield TrainEvent("resumed", self.step)
        return True
