"""Run files in tests: reading them as another process writes them, a small valid
one, and the corpus of damage done to one (the hostile-input tests, the story and
bench/attack_surfaces.py share it)."""

import sqlite3
from pathlib import Path

import numpy as np

from desklab.metrics import N_BINS, N_STATS, LayerMeta, Metrics, ProbeLayout, Snapshot
from desklab.metrics.records import Confusion, Finding, StepSeries
from desklab.runs import RunReader, RunWriter


def snapshots_in(path) -> int:
    """Probes committed to the run file so far (0 while it does not exist yet)."""
    try:
        reader = RunReader(path)
    except (FileNotFoundError, ValueError):
        return 0
    try:
        return reader.db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
    finally:
        reader.close()


def good_run(path: Path, name="good", steps=5) -> Path:
    """A small, valid run: steps, two snapshots, a metrics row, its confusion counts,
    2-D data points with a decision grid over them, and a finding."""
    layout = ProbeLayout((LayerMeta("fc1", "dense", "relu", (8,), 40, (-1.0, 1.0), True),))
    writer = RunWriter(path, {"name": name, "source": "designed"})
    writer.record("steps", StepSeries(0, np.linspace(2, 1, steps), np.full(steps, 0.5),
                                      np.full(steps, 0.01)))
    for step in (0, steps - 1):
        writer.record("snapshot", Snapshot(step, layout, np.ones((1, N_STATS)),
                                           np.ones((1, N_BINS + 2)), 1.0, 0.01))
    writer.record("metrics", Metrics(steps - 1, 1.0, 1.1, 0.5, 0.4, np.nan, np.nan, 0.01))
    writer.record("confusion", Confusion(steps - 1, np.array([[1, 2], [1, 1]])))  # 2 of 5
    writer.record("points", (np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]), np.array([0, 1, 1])))
    writer.record("drawing", (steps - 1, {"extent": (-1.0, 2.0, -1.0, 2.0),  # a 4 x 4 grid
                                          "label": np.eye(4, dtype=int),
                                          "prob": np.full((4, 4), 0.75)}))
    writer.record("finding", Finding("vanishing", "fc1", 2, "small", "try relu"))
    writer.close()
    return path


def tamper(path: Path, *sql: str, args=()) -> None:
    db = sqlite3.connect(path)
    for statement in sql:
        db.execute(statement, args) if "?" in statement else db.executescript(statement)
    db.commit()
    db.close()


# each: what is wrong -> SQL that makes it so. Damage to the meta or the tables makes
# the run "unreadable" in the listing (which reads only those); damage to a row is
# found when the run is opened.
ROW_DAMAGE = ("stats blob", "metrics", "finding", "step loss", "confusion counts",
              "over_inputs row")
RUN_DAMAGE = {
    "started is a list": ["UPDATE meta SET value='[1, 2]' WHERE key='started'"],
    "started is 1e300": ["UPDATE meta SET value='1e300' WHERE key='started'"],
    "name is null": ["UPDATE meta SET value='null' WHERE key='name'"],
    "meta value not JSON": ["UPDATE meta SET value='{oops' WHERE key='name'"],
    "meta 100000 deep": ["UPDATE meta SET value='" + "[" * 100000 + "]" * 100000 +
                         "' WHERE key='source'"],
    "meta is a recursive view": [
        "DROP TABLE meta",
        "CREATE VIEW meta(key, value) AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
        "SELECT n + 1 FROM r) SELECT 'k' || n, '1' FROM r"],
    "steps table missing": ["DROP TABLE steps"],
    "snapshots lack a column": ["DROP TABLE snapshots",
                                "CREATE TABLE snapshots (step INTEGER PRIMARY KEY, loss REAL)"],
    "stats blob of the wrong size": ["UPDATE snapshots SET stats=x'00112233'"],
    "stats blob is text": ["UPDATE snapshots SET stats='abc'"],
    "metrics row not JSON": ["UPDATE metrics SET data='not json'"],
    "metrics row a list": ["UPDATE metrics SET data='[1, 2]'"],
    "metrics loss is text": ["UPDATE metrics SET data='{\"step\": 4, \"loss\": \"x\"}'"],
    "finding lacks fields": ["UPDATE findings SET data='{\"kind\": \"x\"}'"],
    "finding layers a number": [
        "UPDATE findings SET data='{\"kind\": \"x\", \"step\": 1, \"message\": \"m\", "
        "\"layers\": 5}'"],
    "step loss is text": ["UPDATE steps SET loss='abc' WHERE step=2"],
    "confusion counts of the wrong size": ["UPDATE confusion SET counts=x'00112233'"],
    "confusion counts of one class": ["UPDATE confusion SET counts=x'0500000000000000'"],
    "confusion counts negative": [  # int64 -1, 1, 1, 1: C = 2 but a count below zero
        "UPDATE confusion SET counts=x'ffffffffffffffff" + "0100000000000000" * 3 + "'"],
    "confusion counts are text": ["UPDATE confusion SET counts='abcdefgh'"],
    "over_inputs row header not JSON": ["UPDATE over_inputs SET header='{x' WHERE "
                                        "what='points'"],
    "over_inputs row grid one cell short": [
        "UPDATE over_inputs SET a=substr(a, 1, 60) WHERE what='drawing'"],
    "over_inputs row extent reversed": [
        "UPDATE over_inputs SET header=json_set(header, '$.extent', json('[2, -1, -1, 2]')) "
        "WHERE what='drawing'"],
    "over_inputs row label negative": [
        "UPDATE over_inputs SET b=x'ffffffff' || substr(b, 5) WHERE what='points'"],
    "over_inputs row points huge": [
        "UPDATE over_inputs SET header=json_set(header, '$.n', 100000000) WHERE what='points'"],
    "over_inputs is a recursive view": [
        "DROP TABLE over_inputs",
        "CREATE VIEW over_inputs(what, step, header, a, b) AS WITH RECURSIVE r(n) AS (SELECT "
        "1 UNION ALL SELECT n + 1 FROM r) SELECT 'drawing', n, '{}', x'00', x'00' FROM r"],
    "confusion is a recursive view": [
        "DROP TABLE confusion",
        "CREATE VIEW confusion(step, counts) AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
        "SELECT n + 1 FROM r) SELECT n, x'00' FROM r"],
    "layout malformed": ["UPDATE meta SET value='[{\"name\": 3}]' WHERE key='layout'"],
    "layout hist range reversed": [
        "UPDATE meta SET value=json_set(value, '$[0].hist_range', json('[1, -1]')) "
        "WHERE key='layout'"],
    "format wrong": ["UPDATE meta SET value='\"other/1\"' WHERE key='format'"],
    "started is NaN": ["UPDATE meta SET value='NaN' WHERE key='started'"],
}
