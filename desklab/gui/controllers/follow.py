"""Follow a run in the run store, live: the app's view of a file another process writes.

A `Follower` is a `RunFeed` fed by a run as it is written. `RunFollower`'s source is a
run file: a QTimer on the GUI thread reads what was
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
from ...runs.checks import RunFileError, meta_value, recorded_class_names
from ...runs.folder import run_status
from ...trainer_process.protocol import Event
from .feed import RunFeed

POLL_MS = 100
RATE_WINDOW_S = 3.0  # a followed run's steps/s: over this much of the latest polls


class Follower(RunFeed):
    """A run followed as it is written, wherever its rows come from (a file here:
    `RunFollower`; a server: `remote_follow.RemoteFollower`). ``updated`` after each
    batch of new events, ``ended`` with the run's final status, ``connection`` when the
    way to the rows is lost ("disconnected: ...") or found again ("")."""

    updated = Signal()
    ended = Signal(str)  # the run's final status
    connection_changed = Signal(str)

    def __init__(self, meta: dict, layout, parent=None):
        super().__init__(parent, RunHistory(layout))
        self.meta = meta
        self._seen: list[tuple[float, int]] = []  # (monotonic time, steps) of recent polls
        self.newest_written: float | None = None  # commit time of the newest snapshot
        self.drawn_written: float | None = None
        self.drawn_lag_ms: list[float] = []  # per drawn snapshot: commit -> on screen
        self.connection = ""  # "" while the rows arrive; why not, when they cannot
        self.status = self.meta.get("status", "?")
        self.state = "following" if self.status == "running" else run_status(self.meta)
        self.device_name = f"{self.meta.get('name', 'run')} on {self.meta.get('device', '?')}"
        self.class_names = recorded_class_names(meta)

    @property
    def foreign(self) -> bool:
        """A user's own model (desklab.watch), not a DeskLab design."""
        return self.meta.get("source") == "watch"

    def empty_text(self) -> str | None:
        """What the plots say while the run has no probe (None once it has one): a
        script that probes every 10th step shows nothing for its first 10 steps, and
        one that ends sooner shows nothing at all."""
        if self.history.latest is not None:
            return None
        every = _number(self.meta.get("every") if self.foreign else
                        meta_value(self.meta, "design", "train", "probe_every"))
        probes = f"it probes every {int(every)} steps" if every == every and every > 1 \
            else "it probes every step"
        if self.status == "running":
            return f"Waiting for the run's first probe ({probes})."
        advice = (" A smaller <tt>every=</tt> in <tt>desklab.watch</tt> measures a short "
                  "run." if self.foreign else "")
        return (f"The run ended after {self.step} steps, before its first probe "
                f"({probes}): nothing was measured.{advice}")

    def take(self, stored: list, cursor: dict | None, layout) -> None:
        """New events (kind, payload) in order, the source's cursor after them (its
        "written": the newest snapshot's commit time) and the run's probe layout once
        known (a watched script's comes with its first probe)."""
        if self.history.layout is None and layout is not None:
            self.history.layout = layout
        self.feed([Event(kind, getattr(payload, "step", 0), payload)
                   for kind, payload in stored])
        self.take_drawing()
        if any(kind == "snapshot" for kind, _ in stored):
            self.newest_written = (cursor or {}).get("written")
        self.run_steps = self.step
        self._measure_rate()
        if stored:
            self.updated.emit()

    def settle(self, status: str) -> None:
        """The source says the run's status is ``status``: end the follow when it is
        no longer running."""
        if status != self.status:
            self.status = status
            if status != "running":
                self.end(status)

    def end(self, status: str) -> None:
        """The run ended as ``status`` and every row of it is here."""
        self.stop_reading()
        self._set_state(status)
        self.ended.emit(status)

    def fail(self, why: str) -> None:
        """The rows cannot be read any more (a damaged file, a refused token): what was
        shown stays, the follow ends as "unreadable"."""
        self.stop_reading()
        self.status = "unreadable"
        self._set_state("unreadable")
        self.ended.emit(f"unreadable: {why}")

    def set_connection(self, text: str) -> None:
        if text != self.connection:
            self.connection = text
            self.connection_changed.emit(text)

    def stop_reading(self) -> None:
        """No more rows will be asked for."""

    def _measure_rate(self) -> None:
        """Steps per second: over the last few seconds while the writer runs, over the
        whole run once it has ended (the writer records no speed of its own)."""
        now = time.monotonic()
        self._seen.append((now, self.step))
        while len(self._seen) > 2 and now - self._seen[0][0] > RATE_WINDOW_S:
            self._seen.pop(0)
        if self.meta.get("status", "running") == "running":
            (t0, s0), (t1, s1) = self._seen[0], self._seen[-1]
            self.steps_per_second = (s1 - s0) / (t1 - t0) if t1 - t0 > 0.5 else 0.0
        else:
            recorded = self.meta.get("steps_per_second")
            span = _number(self.meta.get("ended")) - _number(self.meta.get("started"))
            self.steps_per_second = float(recorded) if _number(recorded) > 0 else \
                (self.step / span if span > 0 else 0.0)

    def drawn(self, written: float) -> None:
        """The view drew the snapshot committed at ``written``: note how late it was."""
        self.drawn_written = written
        self.drawn_lag_ms.append((time.time() - written) * 1000.0)

    def close(self) -> None:
        self.stop_reading()


class RunFollower(Follower):
    """Reads one run file as it grows, from a GUI-thread timer (a read of the new rows
    takes about a millisecond)."""

    def __init__(self, path: Path, parent=None):
        reader = RunReader(path)  # raises ValueError / FileNotFoundError: caller shows
        super().__init__(reader.meta, reader.layout, parent)
        self.reader = reader
        self.run_file = str(path)
        self.cursor = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.poll()
        if self.status == "running":
            self.timer.start()

    def poll(self) -> None:
        try:
            stored, self.cursor = self.reader.events(self.cursor)
            self.meta.update(self.reader.read_meta(("status", "pid", "ended", "cause")))
        except RunFileError as exc:  # damaged: at open the caller shows it; later, stop
            if not self.timer.isActive():
                raise
            self.fail(str(exc))
            return
        except sqlite3.Error:  # a writer mid-checkpoint: next tick
            return
        self.take(stored, self.cursor, self.reader.layout)
        self.settle(run_status(self.meta))

    def stop_reading(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        super().close()
        self.reader.close()


def _number(value) -> float:
    """A finite float from a meta value, or NaN (meta comes from a file)."""
    import math
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value):
        return float(value)
    return math.nan


def settings_text(meta: dict) -> str:
    """What a followed run was trained with, in a line: for a script its optimizer's
    settings (as ``desklab.watch`` recorded them), for a DeskLab run its design's."""
    import html
    parts = []
    if meta.get("source") == "watch":
        opt = meta.get("optimizer") if isinstance(meta.get("optimizer"), dict) else {}
        settings = opt.get("settings") if isinstance(opt.get("settings"), dict) else {}
        shown = [f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in settings.items()
                 if k in ("lr", "momentum", "betas", "weight_decay", "eps", "dampening")]
        name = opt.get("name") if isinstance(opt.get("name"), str) else "optimizer unknown"
        parts.append(f"{name[:40]}" + (f" ({', '.join(shown)})" if shown else ""))
        every = _number(meta.get("every"))
        if every == every:
            parts.append(f"probed every {int(every)} steps")
    else:
        train = meta_value(meta, "design", "train")
        train = train if isinstance(train, dict) else {}
        keys = ("optimizer", "lr", "batch_size", "steps", "probe_every")
        parts.append(", ".join(f"{k.replace('_', ' ')} {_fmt(train[k])}" for k in keys
                               if k in train))
    device = meta.get("device")
    if isinstance(device, str):
        parts.append(device[:40])
    threads = meta.get("threads")
    if isinstance(threads, dict) and isinstance(threads.get("threads"), int):
        parts.append(f"{threads['threads']} threads")
    return html.escape(" · ".join(p for p in parts if p))


def _fmt(value) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_fmt(v) for v in value[:4]) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:40]
