"""Checks of what a run file holds: every run file is hostile input until it passes.

A run file may come from anywhere (a shared runs folder, a copy from a crashed
machine, a file someone crafted). `open_run_db` opens it read-only without following
the path into anything but a regular file and bounds the work any query may do;
`check_tables` refuses views and missing columns; the meta is checked as it is read
(`META_CHECKS`), the rows in `row_checks`. Standard library and numpy only.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import stat
import time
from pathlib import Path


from ..design.catalog import class_names
from ..design.datafile import MAX_CLASSES
from ..errors import DeskLabError
from ..metrics import LayerMeta, ProbeLayout

QUERY_BUDGET_S = 30.0  # the most one read may take: a crafted file must not hang us
MAX_LAYERS = 100_000  # probe points a layout may name
MAX_T = 100_000  # time steps a recurrent layer's layout entry may name
LATEST_TIME = 1e11  # seconds since 1970 (year 5138): later stamps are damage
MAX_CLASS_NAMES = MAX_CLASSES  # a file's classes, each may be named by its label
TABLES = {  # the columns each table must have (extra ones are ignored)
    "meta": ("key", "value"),
    "steps": ("step", "loss", "acc", "lr"),
    "snapshots": ("step", "loss", "lr", "stats", "hist", "written"),
    "metrics": ("step", "data"),
    "findings": ("id", "data"),
}
OPTIONAL_TABLES = {  # added later: older files do not have them
    "time_grads": ("step", "data"),  # recurrent layers' gradient through time
    "confusion": ("step", "counts"),  # a classification's last confusion counts
    "over_inputs": ("what", "step", "header", "a", "b"),  # data points, latest drawing
}
FINDING_SEVERITIES = ("error", "warning", "info")


class RunFileError(DeskLabError, ValueError):
    """A run file that cannot be read; the message names the file and the damage."""


class _Budgeted(sqlite3.Connection):
    """A connection whose statements stop (``interrupted``) once ``budget[0]`` (a
    monotonic time) has passed."""

    budget: list[float]
    wal_missing: bool  # a WAL-mode file opened without its -wal beside it


def open_run_db(path: Path) -> sqlite3.Connection:
    """A read-only connection to the regular file ``path`` (never a FIFO or device,
    which would block), whose queries give up after `QUERY_BUDGET_S`."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FileNotFoundError(f"{path}: no such run ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise RunFileError(f"{path} is not a DeskLab run (not a regular file)")
    wal_missing = _wal_left_behind(path)  # before SQLite makes an empty one
    # as_uri quotes '#' and '?': a folder such as ~/C#/runs is not cut at the '#'
    uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    if wal_missing:  # no writer has it (one always has its -wal): read it as it is, so
        uri += "&immutable=1"  # SQLite makes no -wal / -shm beside it (nothing written)
    try:
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0,
                             factory=_Budgeted)
    except sqlite3.Error as exc:
        raise RunFileError(f"{path} is not a DeskLab run ({exc})") from None
    db.budget = [time.monotonic() + QUERY_BUDGET_S]  # RunReader moves it before each read
    db.wal_missing = wal_missing

    def over_budget() -> int:  # nonzero aborts the statement ("interrupted")
        return int(time.monotonic() > db.budget[0])

    db.set_progress_handler(over_budget, 20_000)
    return db


def reset_budget(db: _Budgeted) -> None:
    db.budget[0] = time.monotonic() + QUERY_BUDGET_S


def check_tables(db: _Budgeted, path: Path) -> frozenset[str]:
    """Every table is a real table (a view could recurse without end) with its
    columns; returns which of the `OPTIONAL_TABLES` the file has."""
    names = (*TABLES, *OPTIONAL_TABLES)
    kinds = dict(db.execute("SELECT name, type FROM sqlite_master WHERE name IN "
                            f"({', '.join('?' * len(names))})", names).fetchall())
    optional = {t: c for t, c in OPTIONAL_TABLES.items() if t in kinds}
    for table, columns in {**TABLES, **optional}.items():
        if kinds.get(table) != "table":
            if not kinds and db.wal_missing:
                raise RunFileError(f"{path} was never closed, and what it recorded is "
                                   f"still in {path.name}-wal, which is not beside it: "
                                   "copy that file too")
            what = f"is a {kinds[table]}" if table in kinds else "is missing"
            raise RunFileError(f"{path} is not a DeskLab run (its {table} table {what})")
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not set(columns) <= have:
            raise RunFileError(f"{path}: the {table} table lacks "
                               f"{', '.join(sorted(set(columns) - have))}")
    return frozenset(optional)


def _wal_left_behind(path: Path) -> bool:
    """An SQLite file in WAL mode (header bytes 18-19 are 2) whose ``-wal`` is absent."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02" \
        and not os.path.lexists(f"{path}-wal")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _time(v) -> bool:
    return _number(v) and 0 <= v < LATEST_TIME


def is_int(v) -> bool:
    """A whole number (not a bool, which Python counts as one)."""
    return isinstance(v, int) and not isinstance(v, bool)


# meta keys DeskLab reads, and what each must be (None is allowed where it is listed)
META_CHECKS = {
    "format": (lambda v: isinstance(v, str), "text"),
    "name": (lambda v: isinstance(v, str), "text"),
    "source": (lambda v: isinstance(v, str), "text"),
    "status": (lambda v: isinstance(v, str), "text"),
    "cause": (lambda v: isinstance(v, str), "text"),
    "device": (lambda v: isinstance(v, str), "text"),
    "model": (lambda v: isinstance(v, str), "text"),
    "started": (_time, "a time"),
    "ended": (lambda v: v is None or _time(v), "a time"),
    "pid": (lambda v: v is None or (is_int(v) and 0 < v < 2 ** 31), "a process id"),
    "total_params": (lambda v: is_int(v) and v >= 0, "a count"),
    "every": (lambda v: is_int(v) and v >= 1, "a count"),
    "seed": (lambda v: v is None or is_int(v), "a whole number"),
    "rank": (lambda v: v is None or is_int(v), "a whole number"),
    "busy_other_cores": (_number, "a number"),
    "design": (lambda v: v is None or isinstance(v, dict), "a design"),
    "optimizer": (lambda v: v is None or isinstance(v, dict), "an optimizer"),
    "threads": (lambda v: v is None or isinstance(v, dict), "a thread record"),
    "layout": (lambda v: isinstance(v, list), "a list of layers"),
    "class_names": (lambda v: isinstance(v, list) and len(v) <= MAX_CLASS_NAMES and all(
        isinstance(n, str) and len(n) <= 100 for n in v), "a list of class names"),
}


def parse_json(text, path: Path, where: str):
    """``text`` parsed, or a `RunFileError` saying what in ``path`` (``where``) is not
    JSON (too deep a nesting included)."""
    if not isinstance(text, (str, bytes)):
        raise RunFileError(f"{path}: {where} is not JSON text")
    try:
        return json.loads(text)
    except RecursionError:
        raise RunFileError(f"{path}: {where} is nested too deeply") from None
    except ValueError as exc:
        raise RunFileError(f"{path}: {where} is not JSON ({exc})") from None


def meta_value(meta: dict, *keys):
    """``meta[k1][k2]...`` where every level is a dict (a file's meta may hold
    anything), else None."""
    for key in keys:
        meta = meta.get(key) if isinstance(meta, dict) else None
    return meta


def recorded_class_names(meta: dict) -> tuple[str, ...]:
    """Class i's name as the run recorded it (``class_names``: strings, one per class,
    or none); for a run from before that, its catalog dataset's (never re-reading a
    user's file, which may have changed since)."""
    if "class_names" in meta:  # checked when read (`META_CHECKS`)
        return tuple(meta["class_names"])
    dataset = meta_value(meta, "design", "input", "dataset")
    return class_names(dataset) if dataset != "file" else ()


def meta_from_rows(rows, path: Path) -> dict:
    """The meta table as a dict, each value DeskLab reads of the type it must be."""
    meta = {}
    for key, value in rows:
        if not isinstance(key, str):
            raise RunFileError(f"{path}: a meta key is not text")
        meta[key] = parse_json(value, path, f"meta {key!r}")
    for key, (ok, what) in META_CHECKS.items():
        if key in meta and not ok(meta[key]):
            raise RunFileError(f"{path}: meta {key!r} should be {what}, not "
                               f"{preview(meta[key])}")
    return meta


def layout_from_meta(layers: list, path: Path) -> ProbeLayout:
    if len(layers) > MAX_LAYERS:
        raise RunFileError(f"{path}: the layout names {len(layers):,} layers")
    out = []
    for i, m in enumerate(layers):
        try:
            lo, hi = m["hist_range"]
            shape = tuple(m["out_shape"])
            ok = (isinstance(m["name"], str) and isinstance(m["kind"], str)
                  and isinstance(m["activation"], str) and is_int(m["params"])
                  and isinstance(m["has_weight"], bool) and isinstance(m.get("init", ""), str)
                  and _number(lo) and _number(hi) and lo < hi
                  and all(is_int(d) or d is None for d in shape)
                  and is_int(m.get("time_steps", 0)) and 0 <= m.get("time_steps", 0) <= MAX_T)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise RunFileError(f"{path}: layer {i} of the layout is malformed")
        out.append(LayerMeta(m["name"], m["kind"], m["activation"], shape, m["params"],
                             (float(lo), float(hi)), m["has_weight"], m.get("init", ""),
                             m.get("time_steps", 0)))
    return ProbeLayout(tuple(out))


def preview(value) -> str:
    """A stored value as a message shows it: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def not_run(row) -> bool:
    """Whether a watched model's module-tree row (meta ``modules``) is a module with
    weights that the first step did not run: `desklab.watch` learns the layers from
    that step, so it is not measured."""
    return (isinstance(row, dict) and is_int(row.get("params")) and row["params"] > 0
            and row.get("calls") == 0 and is_int(row.get("depth")) and row["depth"] > 0)
