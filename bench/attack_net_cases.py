"""More of `attack_surfaces.py`'s corpus: misbehaving mirrors on 127.0.0.1, study
storages, landscapes, `desklab.watch` calls and the train / probe flags."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

from attack_cases import PY_ERRORS
from run_files import good_run

from desklab.runs import SUFFIX


MIRROR = """
import dataclasses, hashlib, sys
import desklab.engine.download as download
from desklab.cli import main
from desklab.design.catalog import real_data
from fake_datasets import FAULT_BODY, MIRROR_FAULTS, http_head, range_refused, raw_mirror
download.GRACE_S, download.MIN_RATE, download.TIMEOUT_S = 2.0, 1024, 5.0
{setup}
with raw_mirror({behave}) as url:
    files = (("train-images-idx3-ubyte.gz", hashlib.md5(FAULT_BODY).hexdigest()),)
    real_data.REAL_DATASETS["mnist"] = dataclasses.replace(
        real_data.REAL_DATASETS["mnist"], files=files, mirrors=(url,), megabytes=1)
    code = main(["datasets", "--data-root", {root!r}, "--download", "mnist"])
sys.exit(code)
"""
GOOD_BODY = "lambda r, send: send(http_head(len(FAULT_BODY)) + FAULT_BODY)"


def mirrors(tmp: Path) -> list[dict]:
    """The tests' misbehaving mirrors (`fake_datasets.MIRROR_FAULTS`), and three more:
    a body longer than its Content-Length (cut there: the file is whole and right, so
    "ok"), a .part longer than the file (416), planted links (a good body: the links are
    replaced, never written through; the runner checks its outside folder)."""
    from fake_datasets import MIRROR_FAULTS
    cases = [(name, f"MIRROR_FAULTS[{name!r}]", "", "clean", tmp / f"mirror-{i}")
             for i, name in enumerate(MIRROR_FAULTS)]
    root = tmp / "mirror-416"
    part = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz.part"
    cases.append(("416 for a .part longer than the file", "range_refused",
                  f"import os; os.makedirs({str(part.parent)!r}); open({str(part)!r}, 'wb')"
                  ".write(bytes(5000))", "clean", root))
    cases.append(("a body far larger than stated", "lambda r, send: send(http_head(len("
                  "FAULT_BODY)) + FAULT_BODY + bytes(10**6))", "", "ok", tmp / "mirror-long"))
    outside = tmp.parent / "outside"  # the runner's: a change there is a path escaped
    root = tmp / "mirror-links"
    raw = root / "MNIST" / "raw"
    cases.append(("planted .part and target links", GOOD_BODY,
                  f"import os; os.makedirs({str(raw)!r})\n"
                  f"os.symlink({str(outside / 'precious')!r}, "
                  f"{str(raw / 'train-images-idx3-ubyte.gz.part')!r})\n"
                  f"os.symlink({str(outside / 'planted')!r}, "
                  f"{str(raw / 'train-images-idx3-ubyte')!r})", "ok", root))
    return [{"surface": "downloads", "name": f"mirror: {name}", "expect": expect,
             "code": MIRROR.format(behave=behave, setup=setup, root=str(root))}
            for name, behave, setup, expect, root in cases]


def search(tmp: Path) -> list[dict]:
    out = []
    base = ["search", "--preset", "overfit-small", "--trials", "1", "--steps", "5",
            "--jobs", "1"]
    (tmp / "text.db").write_text("hello")
    good_run(tmp / f"study{SUFFIX}")
    db = sqlite3.connect(tmp / "other.db")
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    (tmp / "ro").mkdir()
    for name, url in {"unknown scheme": "nope://x", "not a URL": "words",
                      "missing folder": f"sqlite:///{tmp}/missing/s.db",
                      "read-only place": "sqlite:////proc/desklab-study.db",
                      "not SQLite": f"sqlite:///{tmp}/text.db",
                      ":memory:": "sqlite:///:memory:", "sqlite://": "sqlite://",
                      "a run file": f"sqlite:///{tmp}/study{SUFFIX}",
                      "another program's db": f"sqlite:///{tmp}/other.db",
                      "'?' in the path": f"sqlite:///{tmp}/a?b.db",
                      "PostgreSQL without its driver": "postgresql://u@localhost/db",
                      "MySQL without its driver": "mysql://u@localhost/db"}.items():
        owned = [p for p in (tmp / "text.db", tmp / f"study{SUFFIX}", tmp / "other.db")
                 if p.name in url]
        out.append({"surface": "search", "name": f"--storage {name}", "expect": "clean",
                    "argv": [*base, "--storage", url], "owned": owned})
    first = [*base, "--storage", f"sqlite:///{tmp}/shared.db", "--study", "s"]
    other = [*first, "--param", "l2=1e-6:1e-2"]
    out.append({"surface": "search", "name": "join a study with other settings",
                "code": "import sys\nfrom desklab.cli import main\n"
                        f"main({first!r})\nsys.exit(main({other!r}))",
                "expect": "clean"})
    out.append({"surface": "search", "name": "--jobs 1000 on this machine",
                "argv": [*base[:-1], "1000", "--trials", "2"], "expect": "ok"})
    out.append({"surface": "search", "name": "--jobs 0", "argv": [*base[:-1], "0"],
                "expect": "either"})
    for name, argv in {"--trials 0": [*base, "--trials", "0"],
                       "--param lr=1:0": [*base, "--param", "lr=1:0"],
                       "--param nonsense": [*base, "--param", "x"]}.items():
        out.append({"surface": "search", "name": name, "argv": argv, "expect": "clean"})
    return out


def landscape(tmp: Path) -> list[dict]:
    base = ["landscape", "--grid", "3"]
    (tmp / "garbage.pt").write_bytes(b"garbage")
    strict = tmp / "land.json"

    def strict_json(o, e):
        try:
            json.loads(strict.read_text(), parse_constant=lambda c: 1 / 0)
        except (ValueError, ZeroDivisionError, OSError):
            return False
        return "not a number" in o
    cases = {"exploding (NaN surface)": ([*base, "--preset", "exploding", "--steps", "20",
                                         "--json", str(strict)], "ok", strict_json),
             "lr-too-high": ([*base, "--preset", "lr-too-high", "--steps", "20"], "ok", None),
             "--steps 0 (at init)": ([*base, "--preset", "deep-relu", "--steps", "0"], "ok",
                                     lambda o, e: "at init" in o),
             "--steps -1": ([*base, "--preset", "deep-relu", "--steps", "-1"], "clean", None),
             "--grid 2": (["landscape", "--preset", "deep-relu", "--grid", "2"], "clean",
                          None),
             "--span 0": ([*base, "--preset", "deep-relu", "--span", "0"], "clean", None),
             "--weights garbage": ([*base, "--preset", "deep-relu", "--weights",
                                    str(tmp / "garbage.pt")], "clean", None),
             "--json into a folder": ([*base, "--preset", "deep-relu", "--steps", "1",
                                       "--json", str(tmp)], "clean", None)}
    return [{"surface": "landscape", "name": name, "argv": argv, "expect": expect,
             "check": check} for name, (argv, expect, check) in cases.items()]


WATCH = '''
import warnings, torch, desklab
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
def loop(w, steps=10, empty_at=None):
    for i in range(steps):
        n = 0 if i == empty_at else 16
        out = model(torch.randn(n, 4))
        loss = nn.functional.cross_entropy(out, torch.randint(0, 3, (n,))) if n else out.sum()
        opt.zero_grad(); loss.backward(); opt.step(); w.log(loss=loss)
    return i + 1
'''


def watch(tmp: Path) -> list[dict]:
    run = str(tmp / "w" / "my-run")
    cases = {
        "the README example twice": (f"for _ in range(2):\n    w = desklab.watch(model, opt, "
                                     f"run={run!r}); print(loop(w)); w.close()", "ok",
                                     lambda o, e: o.split() == ["10", "10"]),
        "a folder it cannot write": ("w = desklab.watch(model, opt, run='/proc/x/r')\n"
                                     "print(loop(w)); w.close()", "ok",
                                     lambda o, e: o.strip() == "10" and "unwatched" in e),
        "an empty batch": (f"w = desklab.watch(model, opt, every=2, run={run + '-e'!r})\n"
                           "print(loop(w, empty_at=4)); w.close()", "ok",
                           lambda o, e: o.strip() == "10"),
        "log() after close()": (f"w = desklab.watch(model, opt, run={run + '-c'!r})\n"
                                "loop(w); w.close(); print(loop(w)); w.close()", "ok",
                                lambda o, e: o.strip() == "10" and "after close" in e),
        "a loss that is not a number": (f"w = desklab.watch(model, opt, run={run + '-n'!r})\n"
                                        "w.log(loss='x'); w.log(loss=None); w.close()", "ok",
                                        None),
    }
    for name, arg in {"every=nan": "every=float('nan')", "every=0": "every=0",
                      "every=True": "every=True", "every=2.5": "every=2.5",
                      "ranks='1'": "ranks='1'", "run=3": "run=3", "run=''": "run=''",
                      "name=5": "name=5", "model a string": None,
                      "optimizer an object": "optimizer=object()"}.items():
        call = "desklab.watch('m')" if arg is None else f"desklab.watch(model, {arg})"
        cases[f"watch({name})"] = (call, "clean", None)
    out = []
    for name, (body, expect, check) in cases.items():
        code = WATCH + PY_ERRORS.format(body=textwrap.indent(body, "    "))
        out.append({"surface": "watch API", "name": name, "code": code, "expect": expect,
                    "check": check})
    return out


def train_flags(tmp: Path) -> list[dict]:
    base = ["train", "--preset", "deep-relu", "--steps", "3"]
    return [{"surface": "train / probe flags", "name": name, "argv": argv, "expect": expect}
            for name, argv, expect in (
                ("--threads 0 (choose)", [*base, "--threads", "0"], "ok"),
                ("--threads -3", [*base, "--threads", "-3"], "clean"),
                ("--threads 100000", [*base, "--threads", "100000"], "clean"),
                ("--threads abc", [*base, "--threads", "abc"], "clean"),
                ("--device bogus", [*base, "--device", "bogus"], "clean"),
                ("--device cuda (none here)", [*base, "--device", "cuda"], "clean"),
                ("--probe-every -1", ["probe", "--preset", "deep-relu", "--steps", "-1"],
                 "clean"),
                ("--steps 0", [*base[:-1], "0"], "clean"))]
