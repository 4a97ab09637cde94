"""The corpus of `attack_surfaces.py`: hostile run files, mirrors, dataset files, study
storages, landscapes and watch calls, each a case run in its own process.

The run-file damage, crafted CIFAR batches and damaged MNIST sets are the tests' own
corpora (`tests/run_files.py`, `tests/fake_datasets.py`), so the table and the tests
count the same inputs. A case is a dict: ``surface``, ``name``, ``argv`` (``python -m
desklab ...``) or ``code`` (``python -c``), ``expect`` ("clean": refused in one
``desklab:`` line, exit 2; "ok": done, exit 0), optionally ``check(stdout, stderr) ->
bool`` (an "ok" whose result is wrong is "silent wrong"), ``env`` and ``owned`` (files
that must survive).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import textwrap
from pathlib import Path

from fake_datasets import (CRAFTED_CIFAR_BATCHES, MNIST_DAMAGE, write_cifar,
                           write_damaged_mnist)
from run_files import RUN_DAMAGE, good_run, tamper

from desklab.runs import SUFFIX

PY_ERRORS = ("try:\n{body}\nexcept (ValueError, TypeError) as e:\n"
             "    import sys; print('desklab:', e, file=sys.stderr); sys.exit(2)\n")


def run_store(tmp: Path, rng: random.Random, n_fuzz: int) -> list[dict]:
    out = []
    runs = tmp / "runs"
    runs.mkdir()

    def damaged(name: str, sql: str | None, make=None) -> Path:
        path = runs / f"{name.replace(' ', '-')}{SUFFIX}"
        if make is not None:
            make(path)
        else:
            tamper(good_run(path), *sql)
        return path

    for name, sql in RUN_DAMAGE.items():  # the tests' corpus (tests/run_files.py)
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
        path = good_run(runs / f"fuzz-{i}{SUFFIX}")
        tamper(path, "INSERT OR REPLACE INTO meta VALUES (?, ?)", args=(key, json.dumps(value)))
        out.append({"surface": "run store", "name": f"fuzz meta {key}={value!r}",
                    "argv": ["runs", "show", str(path)], "expect": "either",
                    "check": lambda o, e: "\x1b" not in o + e})
    out.append({"surface": "run store", "name": "runs list with all of them",
                "argv": ["runs", "list", "--root", str(runs)], "expect": "ok",
                "check": lambda o, e: "unreadable" in o and "\x1b" not in o})
    good = good_run(tmp / f"good{SUFFIX}")
    out.append({"surface": "run store", "name": "show --json onto the run itself",
                "argv": ["runs", "show", str(good), "--json", str(good)], "expect": "clean",
                "owned": [good]})
    evil = good_run(tmp / f"evil{SUFFIX}", name="evil\x1b]0;pwned\x07\x1b[2J")
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
    planted = tmp / "planted-runs"  # its links point into the runner's outside folder
    out.append({"surface": "run store", "name": "dangling links at the next run names",
                "code": textwrap.dedent(f"""
                    import os
                    from pathlib import Path
                    from desklab.runs import RunWriter, new_run_path
                    root = Path({str(planted)!r}); root.mkdir()
                    first = new_run_path('shared', root)
                    os.symlink({str(tmp.parent / 'outside' / 'db')!r}, first)
                    os.symlink({str(tmp.parent / 'outside' / 'wal')!r},
                               str(first).replace('{SUFFIX}', '-2{SUFFIX}') + '-wal')
                    RunWriter(new_run_path('shared', root), {{}}).close()"""),
                "expect": "ok"})
    return out


def datasets(tmp: Path) -> list[dict]:
    out = []
    train = ["train", "--preset", "alexnet-relu-cifar", "--steps", "1"]
    for i, (name, batch) in enumerate(CRAFTED_CIFAR_BATCHES.items()):  # the tests' corpus
        root = tmp / f"cifar-{i}"
        write_cifar(root, per_batch=4)
        (root / "cifar-10-batches-py" / "data_batch_2").write_bytes(
            pickle.dumps(batch, protocol=2))
        out.append({"surface": "datasets", "name": f"CIFAR: {name}", "expect": "clean",
                    "argv": [*train, "--data-root", str(root)]})
    mnist_train = ["train", "--preset", "lenet-mnist", "--steps", "1"]
    for i, what in enumerate(MNIST_DAMAGE):  # the tests' corpus
        root = tmp / f"mnist-{i}"
        write_damaged_mnist(root, what)
        out.append({"surface": "datasets", "name": f"MNIST: {what}", "expect": "clean",
                    "argv": [*mnist_train, "--data-root", str(root)]})
    return out
