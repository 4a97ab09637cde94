"""Follow a run in the run store, live: the app's view of a file another process writes.

A `RunFeed` whose source is a run file: a QTimer on the GUI thread reads what was
committed since the last look (a few rows: about a millisecond) every `POLL_MS` and
feeds it in as the same events the app's own trainer sends, then says how far behind
the writer the view is: the time from the newest snapshot's commit to its arrival
here. It stops when the writer ends the run, or its process is gone (killed:
everything up to its last commit is shown).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal

from ...metrics import RunHistory
from ...runs import RunReader
from ...runs.folder import run_status
from ...trainer_process.protocol import Event
from .feed import RunFeed

POLL_MS = 100


class RunFollower(RunFeed):
    """Reads one run file as it grows; ``updated`` after each batch of new events."""

    updated = Signal()
    ended = Signal(str)  # the run's final status

    def __init__(self, path: Path, parent=None):
        reader = RunReader(path)  # raises ValueError / FileNotFoundError: caller shows
        super().__init__(parent, RunHistory(reader.layout))
        self.reader = reader
        self.meta = reader.meta
        self.cursor = None
        self.newest_written: float | None = None  # commit time of the newest snapshot
        self.drawn_written: float | None = None
        self.drawn_lag_ms: list[float] = []  # per drawn snapshot: commit -> on screen
        self.status = self.meta.get("status", "?")
        self.state = "following" if self.status == "running" else run_status(self.meta)
        self.device_name = f"{self.meta.get('name', 'run')} on {self.meta.get('device', '?')}"
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.poll()
        if self.status == "running":
            self.timer.start()

    @property
    def foreign(self) -> bool:
        """A user's own model (desklab.watch), not a DeskLab design."""
        return self.meta.get("source") == "watch"

    def poll(self) -> None:
        try:
            if self.history.layout is None and self.reader.layout is not None:
                self.history.layout = self.reader.layout
            stored, self.cursor = self.reader.events(self.cursor)
            self.meta.update(self.reader.read_meta(("status", "pid", "ended")))
        except sqlite3.Error:  # a writer mid-checkpoint: next tick
            return
        self.feed([Event(kind, getattr(payload, "step", 0), payload)
                   for kind, payload in stored])
        if any(kind == "snapshot" for kind, _ in stored):
            self.newest_written = (self.cursor or {}).get("written")
        self.run_steps = self.step
        status = run_status(self.meta)
        if stored:
            self.updated.emit()
        if status != self.status:
            self.status = status
            if status != "running":
                self.timer.stop()
                self._set_state(status)
                self.ended.emit(status)

    def close(self) -> None:
        self.timer.stop()
        self.reader.close()

    def drawn(self, written: float) -> None:
        """The view drew the snapshot committed at ``written``: note how late it was."""
        self.drawn_written = written
        self.drawn_lag_ms.append((time.time() - written) * 1000.0)
