"""One run = one SQLite file: written step by step, readable while it is written.

Every trainer event a `RunHistory` understands (``steps``, ``snapshot``, ``metrics``,
``finding``) is also a row here, so a run read back replays into the same history the
live view had. The file is in WAL mode and committed after every probe, evaluation
and finding (and at least every second for per-step rows), so another process can
follow it live, and a writer killed with ``kill -9`` leaves everything up to its last
commit. Standard library ``sqlite3`` and numpy only: no torch, no Qt.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from ..metrics import LayerMeta, Metrics, ProbeLayout, RunHistory, Snapshot
from ..metrics.records import Finding, StepSeries

FORMAT = "desklab.run/1"
SUFFIX = ".desklab-run"
COMMIT_EVERY_S = 1.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (step INTEGER PRIMARY KEY, loss REAL, acc REAL, lr REAL);
CREATE TABLE IF NOT EXISTS snapshots (step INTEGER PRIMARY KEY, loss REAL, lr REAL,
                                      stats BLOB NOT NULL, hist BLOB NOT NULL,
                                      written REAL);
CREATE TABLE IF NOT EXISTS metrics (step INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS findings (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
"""


class RunWriter:
    """Appends one run's events to ``path`` (created; an existing run is refused).

    ``meta`` is what describes the run (name, source, the design or module tree,
    settings); the probe layout is written with the first snapshot.
    """

    def __init__(self, path: str | os.PathLike, meta: dict):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            raise FileExistsError(f"{self.path} already holds a run")
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses no commit
        self.db.executescript(SCHEMA)
        self._layout_written = False
        self._last_commit = time.monotonic()
        self.set_meta(format=FORMAT, status="running", started=time.time(), pid=os.getpid(),
                      **meta)
        self.db.commit()

    def set_meta(self, **values) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in values.items()])

    def record(self, kind: str, payload) -> None:
        """Store one event (the kinds `RunHistory.record` takes); others are ignored."""
        if kind == "steps":
            self._steps(payload)
            if time.monotonic() - self._last_commit >= COMMIT_EVERY_S:
                self.commit()
        elif kind == "snapshot":
            self._snapshot(payload)
            self.commit()
        elif kind == "metrics":
            self.db.execute("INSERT OR REPLACE INTO metrics VALUES (?, ?)",
                            (payload.step, json.dumps(_finite(asdict(payload)))))
            self.commit()
        elif kind == "finding":
            self.db.execute("INSERT INTO findings (data) VALUES (?)",
                            (json.dumps(payload.as_dict()),))
            self.commit()

    def _steps(self, s: StepSeries) -> None:
        rows = zip(s.steps.tolist(), _nullable(s.loss), _nullable(s.acc), _nullable(s.lr))
        self.db.executemany("INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?)", rows)

    def _snapshot(self, snap: Snapshot) -> None:
        if not self._layout_written:
            self.set_meta(layout=[asdict(m) for m in snap.layout.layers])
            self._layout_written = True
        self.db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?, ?)",
                        (snap.step, _nullable([snap.loss])[0], snap.lr,
                         np.ascontiguousarray(snap.stats, "<f8").tobytes(),
                         np.ascontiguousarray(snap.hist, "<f8").tobytes(), time.time()))

    def commit(self) -> None:
        self.db.commit()
        self._last_commit = time.monotonic()

    def close(self, status: str = "finished") -> None:
        """Mark the run ended (``finished``, ``stopped``, ``diverged``, ``failed``...)."""
        if self.db is None:
            return
        self.set_meta(status=status, ended=time.time())
        self.db.commit()
        self.db.close()
        self.db = None


def mark_ended(path: str | os.PathLike, status: str, cause: str) -> bool:
    """Close the record of a run whose writer died or was killed: its status, when, and
    why in plain words (``runs show`` prints the cause). False when there is no such
    run file (the writer died before it made one) or it cannot be written."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        db = sqlite3.connect(path, timeout=2.0)
        try:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [(k, json.dumps(v)) for k, v in (
                               ("status", status), ("ended", time.time()), ("cause", cause))])
            db.commit()
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return True


class RunReader:
    """Reads a run file, also while another process is still writing it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such run")
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                  check_same_thread=False)
        try:
            self.meta = self.read_meta()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise ValueError(f"{self.path} is not a DeskLab run ({exc})") from None
        if self.meta.get("format") != FORMAT:
            self.db.close()
            raise ValueError(f"{self.path} is not a DeskLab run (format "
                             f"{self.meta.get('format')!r})")
        self._layout: ProbeLayout | None = None

    def read_meta(self, keys: tuple[str, ...] | None = None) -> dict:
        """The run's meta (only ``keys``, when given: a follower's cheap status poll)."""
        if keys is None:
            rows = self.db.execute("SELECT key, value FROM meta")
        else:
            rows = self.db.execute(f"SELECT key, value FROM meta WHERE key IN "
                                   f"({', '.join('?' * len(keys))})", keys)
        return {k: json.loads(v) for k, v in rows}

    @property
    def layout(self) -> ProbeLayout | None:
        if self._layout is None:
            layers = self.read_meta(("layout",)).get("layout")  # not the whole meta
            if layers:
                self._layout = ProbeLayout(tuple(
                    LayerMeta(**{**m, "out_shape": tuple(m["out_shape"]),
                                 "hist_range": tuple(m["hist_range"])}) for m in layers))
        return self._layout

    def events(self, after: dict | None = None) -> tuple[list[tuple[str, object]], dict]:
        """The events stored since ``after`` (a cursor this returned before; None: all)
        in an order `RunHistory.record` can replay, and the new cursor."""
        cur = dict(after or {"steps": -1, "snapshots": -1, "metrics": -1, "findings": 0})
        out: list[tuple[str, object]] = []
        rows = self.db.execute("SELECT step, loss, acc, lr FROM steps WHERE step > ? "
                               "ORDER BY step", (cur["steps"],)).fetchall()
        for run in _consecutive(rows):
            out.append(("steps", StepSeries(run[0][0], *(np.array(
                [np.nan if r[k] is None else r[k] for r in run]) for k in (1, 2, 3)))))
            cur["steps"] = run[-1][0]
        layout = self.layout
        for step, loss, lr, stats, hist, written in self.db.execute(
                "SELECT * FROM snapshots WHERE step > ? ORDER BY step", (cur["snapshots"],)):
            cur["written"] = written  # wall time of the newest snapshot's commit
            n = len(layout)
            out.append(("snapshot", Snapshot(
                step, layout, np.frombuffer(stats, "<f8").reshape(n, -1).copy(),
                np.frombuffer(hist, "<f8").reshape(n, -1).copy(),
                np.nan if loss is None else loss, lr)))
            cur["snapshots"] = step
        names = {f.name for f in fields(Metrics)}
        for step, data in self.db.execute("SELECT step, data FROM metrics WHERE step > ? "
                                          "ORDER BY step", (cur["metrics"],)):
            values = {k: (np.nan if v is None else v) for k, v in json.loads(data).items()
                      if k in names}
            out.append(("metrics", Metrics(**values)))
            cur["metrics"] = step
        for row_id, data in self.db.execute("SELECT id, data FROM findings WHERE id > ? "
                                            "ORDER BY id", (cur["findings"],)):
            out.append(("finding", _finding(json.loads(data))))
            cur["findings"] = row_id
        return out, cur

    def history(self) -> RunHistory:
        history = RunHistory(self.layout)
        events, _ = self.events()
        for kind, payload in events:
            history.record(kind, payload)
        return history

    def close(self) -> None:
        self.db.close()


def _consecutive(rows: list) -> list[list]:
    runs: list[list] = []
    for row in rows:
        if runs and row[0] == runs[-1][-1][0] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _nullable(values) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, float)]


def _finite(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in d.items()}


def _finding(d: dict) -> Finding:
    names = {f.name for f in fields(Finding)}
    values = {k: v for k, v in d.items() if k in names}
    if "layers" in values:
        values["layers"] = tuple(values["layers"])
    return Finding(**values)


def design_meta(design, device: str, total_params: int) -> dict:
    """The meta of a run trained in DeskLab: its design (the file format's JSON)."""
    from ..design.fileformat import design_to_dict
    return {"name": design.name, "source": "designed", "design": design_to_dict(design),
            "device": device, "seed": design.train.seed, "total_params": total_params}
