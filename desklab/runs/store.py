"""One run = one SQLite file: written step by step, readable while it is written.

Every trainer event a `RunHistory` understands (``steps``, ``snapshot``, ``metrics``,
``finding``; of ``confusion`` and the app's ``drawing`` over the inputs the last, its
``points`` once) is also a row here, so a run read back replays into the same history
the live view had. The file is in WAL mode and committed after every probe,
evaluation and finding (and at least every second for per-step rows), so another
process can follow it live, and a writer killed with ``kill -9`` leaves everything up
to its last commit. Standard library ``sqlite3`` and numpy only: no torch, no Qt.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..metrics import ProbeLayout, Snapshot
from ..metrics.records import StepSeries
from .checks import (
    RunFileError, check_tables, layout_from_meta, meta_from_rows, open_run_db, reset_budget,
)
from .over_inputs import pack_drawing, pack_points
from .rows import START, EventSource, fetch_rows, rows_to_events

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
CREATE TABLE IF NOT EXISTS time_grads (step INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS confusion (step INTEGER PRIMARY KEY, counts BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS over_inputs (what TEXT PRIMARY KEY, step INTEGER NOT NULL,
                                        header TEXT NOT NULL, a BLOB NOT NULL,
                                        b BLOB NOT NULL);
"""


class RunWriter:
    """Appends one run's events to ``path`` (created; an existing run is refused).

    ``meta`` is what describes the run (name, source, the design or module tree,
    settings); the probe layout is written with the first snapshot.
    """

    def __init__(self, path: str | os.PathLike, meta: dict, next_free: bool = False):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # next_free: a name the program chose (the run store's) moves on to the next free
        # one when another process took it first (two searches started in one second)
        self.path = _create_new(path, next_free)
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
        elif kind == "confusion":  # the last evaluation's only: 80 kB at 100 classes
            self.db.execute("DELETE FROM confusion")
            self.db.execute("INSERT INTO confusion VALUES (?, ?)", (
                payload.step, np.ascontiguousarray(payload.counts, "<i8").tobytes()))
            self.commit()
        elif kind in ("points", "drawing"):  # the data points once, the latest drawing
            step, packed = (0, pack_points(*payload)) if kind == "points" else (
                payload[0], pack_drawing(payload[1]))
            if packed is not None:
                self.db.execute("INSERT OR REPLACE INTO over_inputs VALUES (?, ?, ?, ?, ?)",
                                (kind, step, *packed))
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
        if snap.time_grad is not None:  # (R, T): its own table, so older readers still read
            self.db.execute("INSERT OR REPLACE INTO time_grads VALUES (?, ?)",
                            (snap.step, np.ascontiguousarray(snap.time_grad, "<f8").tobytes()))

    def commit(self) -> None:
        self.db.commit()
        self._last_commit = time.monotonic()

    def close(self, status: str = "finished") -> None:
        """Mark the run ended (``finished``, ``stopped``, ``diverged``, ``failed``...)."""
        if self.db is None:
            return
        self.set_meta(status=status, ended=time.time())
        self.db.commit()
        try:  # fold the log into the file: a copy of the .desklab-run alone is whole
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:  # a follower is reading: SQLite folds it in later
            pass
        self.db.close()
        self.db = None


def taken(path: Path) -> bool:
    """Whether anything is at the run's name or its SQLite companions: also a dangling
    link (``exists`` says False for one, and SQLite would follow it out of the folder)."""
    return any(os.path.lexists(f"{path}{end}") for end in ("", "-wal", "-shm", "-journal"))


NEXT_FREE_TRIES = 1000  # names tried after a taken one before giving up


def names_from(path: Path, tries: int | None = None):
    """``path``, then the names to try beside it when it is taken: ``<stem>-2``,
    ``<stem>-3``... (``.desklab-run``); endless, or ``tries`` after ``path``."""
    yield path
    stem = path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    n = 2
    while tries is None or n < tries + 2:
        yield path.with_name(f"{stem}-{n}{SUFFIX}")
        n += 1


def first_free(path: Path) -> Path:
    """The first of `names_from` ``path`` that nothing holds yet (`taken`); another
    process may still make it first: `RunWriter`'s ``next_free`` then moves on."""
    return next(candidate for candidate in names_from(path) if not taken(candidate))


def _create_new(path: Path, next_free: bool = False) -> Path:
    """Make the run's empty file, atomically refusing anything already at its name
    (``O_EXCL``: two writers never share a file, and a planted link, even a dangling
    one, is never followed) or at its SQLite companions; with ``next_free``, the first
    of `names_from`'s names that is free instead. The path made."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    for candidate in names_from(path, NEXT_FREE_TRIES if next_free else 0):
        if taken(candidate):
            continue
        try:
            os.close(os.open(candidate, flags, 0o644))
        except FileExistsError:  # made by another process since taken() looked
            continue
        return candidate
    raise FileExistsError(f"{path} already holds a run")


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


class RunReader(EventSource):
    """Reads a run file, also while another process is still writing it.

    The file is hostile input (`checks`): anything malformed raises `RunFileError`
    (a ValueError) naming the file and what is wrong; no read takes longer than
    `checks.QUERY_BUDGET_S`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.db = open_run_db(self.path)
        self.wal_missing = self.db.wal_missing  # a copy without its last commits
        try:
            self.tables = check_tables(self.db, self.path)  # the optional ones it has
            self.meta = self.read_meta()
            if self.meta.get("format") != FORMAT:
                raise RunFileError(f"{self.path} is not a DeskLab run (format "
                                   f"{self.meta.get('format')!r})")
            self._layout: ProbeLayout | None = None
            _ = self.layout  # a malformed layout is found now, not halfway through a read
        except sqlite3.Error as exc:
            self.db.close()
            raise RunFileError(f"{self.path} is not a DeskLab run ({exc})") from None
        except BaseException:
            self.db.close()
            raise

    def _rows(self, sql: str, args=()) -> list:
        reset_budget(self.db)
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise RunFileError(f"{self.path}: cannot be read ({exc})") from None

    def read_meta(self, keys: tuple[str, ...] | None = None) -> dict:
        """The run's meta (only ``keys``, when given: a follower's cheap status poll)."""
        if keys is None:
            rows = self._rows("SELECT key, value FROM meta")
        else:
            rows = self._rows(f"SELECT key, value FROM meta WHERE key IN "
                              f"({', '.join('?' * len(keys))})", keys)
        return meta_from_rows(rows, self.path)

    @property
    def layout(self) -> ProbeLayout | None:
        if self._layout is None:
            layers = self.read_meta(("layout",)).get("layout")  # not the whole meta
            if layers:
                self._layout = layout_from_meta(layers, self.path)
        return self._layout

    def last_step(self) -> int | None:
        """The last step recorded (None before the first)."""
        (last,), = self._rows("SELECT MAX(step) FROM steps")
        return last if isinstance(last, int) else None

    def events(self, after: dict | None = None) -> tuple[list[tuple[str, object]], dict]:
        """The events stored since ``after`` (a cursor this returned before; None: from
        the start), at most `rows.LIMITS` rows of each kind, in an order
        `RunHistory.record` can replay, and the new cursor (call again until no event)."""
        return rows_to_events(self.rows(after), self.layout, after, self.path)

    def rows(self, after: dict | None = None) -> dict:
        """The raw rows after ``after`` (what `desklab serve` sends)."""
        return fetch_rows(self._rows, dict(after or START), self.layout, self.tables)

    def close(self) -> None:
        self.db.close()


def _nullable(values) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, float)]


def _finite(d: dict) -> dict:
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in d.items()}


def design_meta(design, device: str, total_params: int) -> dict:
    """The meta of a run trained in DeskLab: its design (the file format's JSON)."""
    from ..design.catalog import class_names
    from ..design.fileformat import design_to_dict
    return {"name": design.name, "source": "designed", "design": design_to_dict(design),
            "device": device, "seed": design.train.seed, "total_params": total_params,
            "class_names": list(class_names(design.input.dataset, design.input.params))}
