"""A run file's rows after a cursor, and the events they make: one conversion for the
`RunReader` (rows from SQLite) and a remote run (the same rows from `desklab serve`).

The rows are hostile input either way: every one goes through `checks` before it
becomes an event. A read is bounded (`LIMITS` rows per table); the cursor says where
the next read starts, so a long run arrives in pieces, in order.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from ..metrics import ProbeLayout, RunHistory, Snapshot
from ..metrics.records import StepSeries
from .checks import RunFileError, is_int
from .over_inputs import unpack_drawing, unpack_points
from .row_checks import (check_snapshot_row, check_step_row, check_time_row,
                         confusion_from_row, finding_from_row, metrics_from_row)

LIMITS = {"steps": 50_000, "snapshots": 500, "metrics": 5_000, "findings": 5_000}
# over_inputs: -1 nothing read, 0 the points read, s + 1 the drawing of step s read
START = {"steps": -1, "snapshots": -1, "metrics": -1, "findings": 0, "confusion": -1,
         "over_inputs": -1}
NEWER = ("confusion", "over_inputs")  # keys a client from before them does not send...
NONE_WANTED = 2 ** 62 - 1  # ...so it is sent none of those rows, which it cannot read
BLOBS = {"snapshots": (3, 4), "time_grads": (1,), "confusion": (1,),
         "over_inputs": (3, 4)}  # which columns are bytes
TABLES = ("steps", "snapshots", "metrics", "findings", "time_grads", "confusion",
          "over_inputs")


class EventSource:
    """What a `RunReader` and a `RemoteRun` share: given ``events(after)`` and
    ``layout``, the whole run in bounded pieces, and its history."""

    def all_events(self) -> list[tuple[str, object]]:
        """Every event of the run, read in bounded pieces."""
        out, cur = [], None
        while True:
            events, cur = self.events(cur)
            if not events:
                return out
            out += events

    def history(self) -> RunHistory:
        history = RunHistory(self.layout)
        for kind, payload in self.all_events():
            history.record(kind, payload)
        history.layout = history.layout or self.layout  # (a remote run's comes with rows)
        return history


def fetch_rows(query, cur: dict, layout: ProbeLayout | None, optional: frozenset) -> dict:
    """Each table's rows after ``cur`` (``query(sql, args)`` runs one statement), at
    most `LIMITS` of each; the gradients through time of the snapshots fetched, the
    newest confusion counts and drawing over the inputs if newer than the cursor's,
    the data points on the first read (``optional``: which of the tables added since
    the first format the file has)."""
    rows = {
        "steps": query("SELECT step, loss, acc, lr FROM steps WHERE step > ? ORDER BY step "
                       "LIMIT ?", (cur["steps"], LIMITS["steps"])),
        "snapshots": query("SELECT step, loss, lr, stats, hist, written FROM snapshots "
                           "WHERE step > ? ORDER BY step LIMIT ?",
                           (cur["snapshots"], LIMITS["snapshots"])),
        "metrics": query("SELECT step, data FROM metrics WHERE step > ? ORDER BY step "
                         "LIMIT ?", (cur["metrics"], LIMITS["metrics"])),
        "findings": query("SELECT id, data FROM findings WHERE id > ? ORDER BY id LIMIT ?",
                          (cur["findings"], LIMITS["findings"])),
        "time_grads": [], "confusion": [], "over_inputs": []}
    if "confusion" in optional:  # one row is kept, the last evaluation's
        rows["confusion"] = query("SELECT step, counts FROM confusion WHERE step > ? ORDER "
                                  "BY step DESC LIMIT 1", (cur["confusion"],))
    if "over_inputs" in optional:  # 'points' sorts after 'drawing': the points first
        rows["over_inputs"] = query(
            "SELECT what, step, header, a, b FROM over_inputs WHERE (what = 'points' AND "
            "? = -1) OR (what = 'drawing' AND step + 1 > ?) ORDER BY what DESC LIMIT 2",
            (cur["over_inputs"], cur["over_inputs"]))
    if "time_grads" in optional and layout is not None and layout.time_layers and \
            rows["snapshots"]:
        last = rows["snapshots"][-1][0]
        rows["time_grads"] = query("SELECT step, data FROM time_grads WHERE step > ? AND "
                                   "step <= ? ORDER BY step", (cur["snapshots"], last))
    return rows


def rows_to_events(rows: dict, layout: ProbeLayout | None, after: dict | None,
                   source: Path | str) -> tuple[list[tuple[str, object]], dict]:
    """The events of ``rows`` in an order `RunHistory.record` can replay, and the cursor
    after them; anything malformed is a `RunFileError` naming ``source``."""
    cur = dict(after or START)
    out: list[tuple[str, object]] = []
    for row in rows["steps"]:
        check_step_row(row, source)
    for run in _consecutive(rows["steps"]):
        out.append(("steps", StepSeries(run[0][0], *(np.array(
            [np.nan if r[k] is None else r[k] for r in run], float) for k in (1, 2, 3)))))
        cur["steps"] = run[-1][0]
    n = len(layout) if layout is not None else None
    times = {}
    if layout is not None and layout.time_layers:
        shape = (len(layout.time_layers), layout.time_steps)
        for step, blob in rows["time_grads"]:
            check_time_row(step, blob, shape, source)
            times[step] = np.frombuffer(blob, "<f8").reshape(shape).copy()
    for row in rows["snapshots"]:
        check_snapshot_row(row, n, source)
        step, loss, lr, stats, hist, written = row
        cur["written"] = written  # wall time of the newest snapshot's commit
        out.append(("snapshot", Snapshot(
            step, layout, np.frombuffer(stats, "<f8").reshape(n, -1).copy(),
            np.frombuffer(hist, "<f8").reshape(n, -1).copy(),
            np.nan if loss is None else loss, np.nan if lr is None else lr,
            times.get(step))))
        cur["snapshots"] = step
    for step, data in rows["metrics"]:
        out.append(("metrics", metrics_from_row(step, data, source)))
        cur["metrics"] = step
    for row_id, data in rows["findings"]:
        out.append(("finding", finding_from_row(row_id, data, source)))
        cur["findings"] = row_id
    for step, blob in rows["confusion"]:
        out.append(("confusion", confusion_from_row(step, blob, source)))
        cur["confusion"] = step
    for what, step, header, a, b in rows["over_inputs"]:
        if what == "points":
            out.append(("points", unpack_points(header, a, b, source)))
            cur["over_inputs"] = max(cur["over_inputs"], 0)
        elif what == "drawing" and is_int(step) and 0 <= step < NONE_WANTED - 1:
            out.append(("drawing", unpack_drawing(header, a, b, source)))
            cur["over_inputs"] = max(cur["over_inputs"], step + 1)
        else:
            raise RunFileError(f"{source}: the row over the inputs {what!r} is malformed")
    return out, cur


def _consecutive(rows: list) -> list[list]:
    runs: list[list] = []
    for row in rows:
        if runs and row[0] == runs[-1][-1][0] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def encode_rows(rows: dict) -> dict:
    """``rows`` as JSON-ready lists (bytes as base64 text)."""
    return {table: [[base64.b64encode(v).decode() if i in BLOBS.get(table, ()) else v
                     for i, v in enumerate(row)] for row in table_rows]
            for table, table_rows in rows.items()}


def decode_rows(data, source: str) -> dict:
    """`encode_rows`' output back to rows (tuples, bytes), or a `RunFileError`."""
    try:
        out = {}
        for table in TABLES:
            blobs = BLOBS.get(table, ())
            # an older server sends none of the newer tables
            given = data[table] if table not in NEWER or table in data else []
            out[table] = [tuple(base64.b64decode(v, validate=True) if i in blobs else v
                                for i, v in enumerate(row)) for row in given]
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFileError(f"{source}: the server sent malformed rows ({exc})") from None


def valid_cursor(value) -> dict | None:
    """A client's cursor: START's keys, whole numbers (a "written" time passes); None
    when it is not one."""
    if value is None:
        return dict(START)
    if not isinstance(value, dict):
        return None
    cur = {}
    for key in START:
        v = value.get(key, NONE_WANTED if key in NEWER else None)
        if isinstance(v, bool) or not isinstance(v, int) or not -1 <= v < 2 ** 62:
            return None
        cur[key] = v
    return cur
