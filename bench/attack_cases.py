"""The corpus of `attack_surfaces.py`: hostile run files, mirrors, dataset files, study
storages, landscapes and watch calls, each a case run in its own process.

A case is a dict: ``surface``, ``name``, ``argv`` (``python -m desklab ...``) or
``code`` (``python -c``), ``expect`` ("clean": refused in one ``desklab:`` line, exit
2; "ok": done, exit 0), optionally ``check(stdout, stderr) -> bool`` (an "ok" whose
result is wrong is "silent wrong"), ``env`` and ``owned`` (files that must survive).
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import sqlite3
import textwrap
from pathlib import Path

import numpy as np

SUFFIX = ".desklab-run"
PY_ERRORS = ("try:\n{body}\nexcept (ValueError, TypeError) as e:\n"
             "    import sys; print('desklab:', e, file=sys.stderr); sys.exit(2)\n")


def _good_run(path: Path, name: str = "good") -> Path:
    from desklab.metrics import LayerMeta, Metrics, N_BINS, N_STATS, ProbeLayout, Snapshot
    from desklab.metrics.records import Finding, StepSeries
    from desklab.runs import RunWriter
    layout = ProbeLayout((LayerMeta("fc1", "dense", "relu", (8,), 40, (-1.0, 1.0), True),))
    w = RunWriter(path, {"name": name, "source": "designed"})
    w.record("steps", StepSeries(0, np.linspace(2, 1, 5), np.full(5, .5), np.full(5, .01)))
    for step in (0, 4):
        w.record("snapshot", Snapshot(step, layout, np.ones((1, N_STATS)),
                                      np.ones((1, N_BINS + 2)), 1.0, 0.01))
    w.record("metrics", Metrics(4, 1.0, 1.1, .5, .4, np.nan, np.nan, .01))
    w.record("finding", Finding("vanishing", "fc1", 2, "small", "try relu"))
    w.close()
    return path


RUN_DAMAGE = {
    "started a list": "UPDATE meta SET value='[1, 2]' WHERE key='started'",
    "started 1e300": "UPDATE meta SET value='1e300' WHERE key='started'",
    "name null": "UPDATE meta SET value='null' WHERE key='name'",
    "meta not JSON": "UPDATE meta SET value='{oops' WHERE key='name'",
    "meta 100000 deep": "UPDATE meta SET value='" + "[" * 100000 + "]" * 100000
                        + "' WHERE key='source'",
    "meta a recursive view": "DROP TABLE meta; CREATE VIEW meta(key, value) AS WITH "
                             "RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                             "SELECT 'k' || n, '1' FROM r",
    "no steps table": "DROP TABLE steps",
    "snapshots lack columns": "DROP TABLE snapshots; CREATE TABLE snapshots (step INTEGER)",
    "stats blob wrong size": "UPDATE snapshots SET stats=x'00112233'",
    "stats blob text": "UPDATE snapshots SET stats='abc'",
    "metrics not JSON": "UPDATE metrics SET data='not json'",
    "metrics a list": "UPDATE metrics SET data='[1]'",
    "metrics lack fields": "UPDATE metrics SET data='{\"step\": 4, \"loss\": \"x\"}'",
    "finding lacks fields": "UPDATE findings SET data='{\"kind\": \"x\"}'",
    "step loss text": "UPDATE steps SET loss='abc' WHERE step=2",
    "layout malformed": "UPDATE meta SET value='[{\"name\": 3}]' WHERE key='layout'",
    "format other": "UPDATE meta SET value='\"x/1\"' WHERE key='format'",
    "timestamp NaN text": "UPDATE meta SET value='NaN' WHERE key='started'",
}


def run_store(tmp: Path, rng: random.Random, n_fuzz: int) -> list[dict]:
    out = []
    runs = tmp / "runs"
    runs.mkdir()

    def damaged(name: str, sql: str | None, make=None) -> Path:
        path = runs / f"{name.replace(' ', '-')}{SUFFIX}"
        if make is not None:
            make(path)
        else:
            _good_run(path)
            db = sqlite3.connect(path)
            db.executescript(sql)
            db.close()
        return path

    for name, sql in RUN_DAMAGE.items():
        path = damaged(name, sql)
        for verb in (["show", str(path)], ["export", str(path), "--csv",
                                              str(tmp / "out.csv")]):
            out.append({"surface": "run store", "name": f"{name}: runs {verb[0]}",
                        "argv": ["runs", *verb], "expect": "clean", "owned": [path]})
    for name, make in {"empty": lambda p: p.write_bytes(b""),
                       "text": lambda p: p.write_text("hello"),
                       "random bytes": lambda p: p.write_bytes(os.urandom(4096)),
                       "FIFO": lambda p: os.mkfifo(p)}.items():
        path = damaged(name, None, make)
        out.append({"surface": "run store", "name": f"{name} file", "expect": "clean",
                    "argv": ["runs", "show", str(path)]})
    keys = ["name", "source", "status", "started", "ended", "pid", "total_params",
            "layout", "design", "threads", "optimizer", "seed", "cause", "every"]
    values = [None, True, -1, 2**70, 1e308, "x", [], {}, [[[]]], {"a": [1]}, "\x1b[2J"]
    for i in range(n_fuzz):
        key, value = rng.choice(keys), rng.choice(values)
        path = runs / f"fuzz-{i}{SUFFIX}"
        _good_run(path)
        db = sqlite3.connect(path)
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        db.commit()
        db.close()
        out.append({"surface": "run store", "name": f"fuzz meta {key}={value!r}",
                    "argv": ["runs", "show", str(path)], "expect": "either",
                    "check": lambda o, e: "\x1b" not in o + e})
    out.append({"surface": "run store", "name": "runs list with all of them",
                "argv": ["runs", "list", "--root", str(runs)], "expect": "ok",
                "check": lambda o, e: "unreadable" in o and "\x1b" not in o})
    good = _good_run(tmp / f"good{SUFFIX}")
    out.append({"surface": "run store", "name": "show --json onto the run itself",
                "argv": ["runs", "show", str(good), "--json", str(good)], "expect": "clean",
                "owned": [good]})
    evil = _good_run(tmp / f"evil{SUFFIX}", name="evil\x1b]0;pwned\x07\x1b[2J")
    out.append({"surface": "run store", "name": "ESC and BEL in a run's name",
                "argv": ["runs", "show", str(evil)], "expect": "ok",
                "check": lambda o, e: "\x1b" not in o + e and "\x07" not in o + e})
    hashed = tmp / "C#" / "runs?x"
    out.append({"surface": "run store", "name": "a runs folder with '#' and '?'",
                "code": f"from desklab.runs import RunWriter, RunReader\n"
                        f"RunWriter({str(hashed / ('exp#3' + SUFFIX))!r}, {{'name': 'exp#3'}})"
                        f".close()\nprint(RunReader({str(hashed / ('exp#3' + SUFFIX))!r})"
                        f".meta['name'])", "expect": "ok",
                "check": lambda o, e: o.strip() == "exp#3"})
    race = tmp / f"race{SUFFIX}"
    out.append({"surface": "run store", "name": "two writers race for one path",
                "code": textwrap.dedent(f"""
                    import subprocess, sys, time
                    code = ("import sys, time; from desklab.runs import RunWriter\\n"
                            "t = float(sys.argv[2])\\nwhile time.time() < t: pass\\n"
                            "try:\\n    RunWriter(sys.argv[1], {{}}).close(); print('made')\\n"
                            "except FileExistsError:\\n    print('refused')\\n")
                    at = str(time.time() + 3)
                    ps = [subprocess.Popen([sys.executable, '-c', code, {str(race)!r}, at],
                          stdout=subprocess.PIPE, text=True) for _ in range(2)]
                    print(sorted(p.communicate()[0].strip() for p in ps))"""),
                "expect": "ok", "check": lambda o, e: "['made', 'refused']" in o})
    planted = tmp / "planted-runs"
    out.append({"surface": "run store", "name": "dangling links at the next run names",
                "code": textwrap.dedent(f"""
                    import os
                    from pathlib import Path
                    from desklab.runs import RunWriter, new_run_path
                    root = Path({str(planted)!r}); root.mkdir()
                    first = new_run_path('shared', root)
                    os.symlink({str(tmp / 'outside' / 'db')!r}, first)
                    os.symlink({str(tmp / 'outside' / 'wal')!r},
                               str(first).replace('{SUFFIX}', '-2{SUFFIX}') + '-wal')
                    RunWriter(new_run_path('shared', root), {{}}).close()"""),
                "expect": "ok"})
    return out


def _cifar(root: Path, batch_2) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch_2 if name == "data_batch_2" else
                                                 batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))


class _Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _shared(levels: int, width: int = 100):
    value = [0] * width
    for _ in range(levels):
        value = [value] * width
    return value


def datasets(tmp: Path) -> list[dict]:
    from numpy.core.multiarray import _reconstruct  # noqa: PLC2701 - what a pickle names
    out = []
    good = np.zeros((4, 3072), np.uint8)
    batches = {
        "zero-stride view (143 GiB)": {"data": _Call(np.ndarray, (143 * 2**30,), np.uint8,
                                                     b"x", 0, (0,)), "labels": [0]},
        "_reconstruct of 9 TiB": {"data": _Call(_reconstruct, np.ndarray, (9 * 2**40,),
                                                b"b"), "labels": [0]},
        "shared nested lists (7 GiB)": {"data": good, "labels": _shared(3, 400)},
        "4 levels of shared refs": {"data": good, "labels": _shared(4)},
        "object array": {"data": np.array([[None] * 3072] * 4, object), "labels": [0] * 4},
        "string labels": {"data": good, "labels": list("abcd")},
        "NaN labels": {"data": good, "labels": [float("nan")] * 4},
        "scalar labels": {"data": good, "labels": 3},
        "dict labels": {"data": good, "labels": {"a": 1}},
        "None labels": {"data": good, "labels": None},
        "ragged labels": {"data": good, "labels": [[1], [1, 2], 3, 4]},
        "2-D labels": {"data": good, "labels": np.zeros((4, 2), np.int64)},
        "code in it": {"data": _Call(os.system, "true"), "labels": []},
    }
    train = ["train", "--preset", "alexnet-relu-cifar", "--steps", "1"]
    for i, (name, batch) in enumerate(batches.items()):
        root = tmp / f"cifar-{i}"
        _cifar(root, batch)
        out.append({"surface": "datasets", "name": f"CIFAR: {name}", "expect": "clean",
                    "argv": [*train, "--data-root", str(root)]})
    from desklab.design.catalog.real_data import REAL_DATASETS
    mnist_train = ["train", "--preset", "lenet-mnist", "--steps", "1"]
    rng = np.random.default_rng(0)

    def idx(array) -> bytes:
        import struct
        return bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim,
                                                          *array.shape) + \
            np.asarray(array, np.uint8).tobytes()
    for name, images in {
        "half a .gz": ("gz", gzip.compress(idx(rng.integers(0, 256, (8, 28, 28))))[:2000]),
        "IDX header (0, 2^32-1, 2^32-1)": ("raw", bytes([0, 0, 8, 3]) + bytes(4)
                                           + b"\xff" * 8),
        "empty training set": ("raw", idx(np.zeros((0, 28, 28)))),
        "not gzip": ("gz", b"plain"),
        "a FIFO": ("fifo", b""),
    }.items():
        raw = tmp / f"mnist-{name[:8].replace(' ', '-')}" / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for stem, shape in (("train-images-idx3-ubyte", (8, 28, 28)),
                            ("train-labels-idx1-ubyte", (8,)),
                            ("t10k-images-idx3-ubyte", (4, 28, 28)),
                            ("t10k-labels-idx1-ubyte", (4,))):
            (raw / stem).write_bytes(idx(np.zeros(shape)))
        (raw / "train-images-idx3-ubyte").unlink()
        kind, data = images
        target = raw / ("train-images-idx3-ubyte" + (".gz" if kind == "gz" else ""))
        os.mkfifo(target) if kind == "fifo" else target.write_bytes(data)
        if name == "empty training set":
            (raw / "train-labels-idx1-ubyte").write_bytes(idx(np.zeros((0,))))
        out.append({"surface": "datasets", "name": f"MNIST: {name}", "expect": "clean",
                    "argv": [*mnist_train, "--data-root", str(raw.parents[1])]})
    assert "mnist" in REAL_DATASETS
    return out

