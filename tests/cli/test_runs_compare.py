"""`desklab runs compare`: several runs in one table, their curves in one CSV; each
number checked against the run files themselves, read with sqlite3."""

import csv
import json
import sqlite3

import numpy as np
import pytest

from desklab.cli import main
from desklab.design import save_design
from desklab.lessons import get_preset


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three lr-tuned runs (lr 3 diverges) recorded by `desklab train`: name -> file."""
    folder = tmp_path_factory.mktemp("runs")
    for lr in (0.3, 0.03, 3.0):
        design = get_preset("lr-tuned")
        design.name, design.train.lr = f"sweep-{lr:g}", lr
        design.train.steps, design.train.eval_every = 60, 20
        save_design(design, folder / f"{design.name}.json")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DESKLAB_RUNS", str(folder))
            assert main(["train", str(folder / f"{design.name}.json"), "--quiet"]) == 0
    return {p.name.split("-", 2)[2].removesuffix(".desklab-run"): p
            for p in folder.glob("*.desklab-run")}


def stored(path):
    with sqlite3.connect(path) as db:
        losses = [v for (v,) in db.execute("SELECT loss FROM steps ORDER BY step")]
        evaluations = [json.loads(d) for (d,) in db.execute(
            "SELECT data FROM metrics ORDER BY step")]
        status = json.loads(db.execute("SELECT value FROM meta WHERE key = 'status'")
                            .fetchone()[0])
    return losses, evaluations, status


def test_a_row_per_run_and_every_step_in_the_csv(runs, tmp_path, capsys):
    names = ["sweep-0.3", "sweep-0.03", "sweep-3"]
    out = tmp_path / "curves.csv"
    assert main(["runs", "compare", *(str(runs[n]) for n in names), "--csv", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 3 + 1 and lines[0].split()[:3] == ["run", "status", "steps"]
    best = max(e["val_acc"] for n in names for e in stored(runs[n])[1]
               if e["val_acc"] is not None)
    for k, name in enumerate(names):
        losses, evaluations, status = stored(runs[name])
        line = lines[1 + k]
        assert line.startswith(f"{'ABC'[k]}  {name} ") and f" {status} " in line, line
        finite = [v for v in losses if np.isfinite(v)]
        assert f"{finite[0]:.4g} -> {np.mean(finite[-10:]):.4g}" in line, line
        accs = [(e["val_acc"], e["step"]) for e in evaluations if e["val_acc"] is not None]
        if accs:
            acc, at = max(accs, key=lambda a: a[0])  # (the first of equals, as argmax)
            star = "*" if acc == best else ""
            assert f"{star}{acc:.1%} at {at}" in line, line
        else:
            assert status == "diverged" and line.split()[-2] == "-", line
    rows = list(csv.DictReader(out.open()))
    for k, name in enumerate(names):
        losses = stored(runs[name])[0]
        mine = [r for r in rows if r["run"] == "ABC"[k]]
        assert [r["name"] for r in mine] == [name] * len(losses)
        np.testing.assert_array_equal([float(r["loss"]) for r in mine], losses)


def test_bad_input_is_one_line(runs, tmp_path, capsys):
    one = str(runs["sweep-0.3"])
    assert main(["runs", "compare", one]) == 2
    assert "two runs or more" in capsys.readouterr().err
    assert main(["runs", "compare", one, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such run" in err[0], err
    assert main(["runs", "compare", one, str(runs["sweep-3"]), "--csv", one]) == 2
    assert "is a run itself" in capsys.readouterr().err
