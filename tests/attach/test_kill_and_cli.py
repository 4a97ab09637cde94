"""A watched script killed with kill -9 leaves a run `desklab runs show` reads up to its
last probe; `runs list`, `show --json` and `export` on it."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from desklab.cli import main
from desklab.runs import RunReader
from run_files import snapshots_in

SCRIPT = """
import sys, time, torch
from torch import nn
import desklab
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
watcher = desklab.watch(model, opt, every=2, run=sys.argv[1], name="killed")
for step in range(100000):
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    watcher.log(loss=loss)
    time.sleep(0.01)
"""


def test_kill_9_leaves_a_run_readable_up_to_its_last_probe(tmp_path, capsys, monkeypatch):
    run = tmp_path / "killed.desklab-run"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(run)])
    try:
        deadline = time.monotonic() + 60
        while snapshots_in(run) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert snapshots_in(run) >= 5
        from desklab.runs import list_runs
        assert [r.status for r in list_runs(tmp_path)] == ["running"]  # now cached
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    assert main(["runs", "list"]) == 0
    listed = capsys.readouterr().out
    assert "interrupted" in listed and "killed" in listed
    report_path = tmp_path / "r.json"
    assert main(["runs", "show", "killed", "--json", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    last_probe = max(RunReader(run).history().snapshots, key=lambda s: s.step).step
    assert report["state"] == "interrupted"
    assert report["format"] == "desklab.report/1"
    assert [layer["name"] for layer in report["layers"]] == ["0", "1", "2"]  # module paths
    steps = report["history"]["step"]
    assert steps == list(range(len(steps))) and steps[-1] >= last_probe
    assert main(["runs", "export", str(run), "--csv", str(tmp_path / "l.csv")]) == 0
    rows = (tmp_path / "l.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * snapshots_in(run)


def test_runs_show_of_a_missing_run_is_one_line(tmp_path, capsys):
    assert main(["runs", "show", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such run" in err[0]
    (tmp_path / "junk.desklab-run").write_bytes(b"not sqlite at all")
    assert main(["runs", "show", str(tmp_path / "junk.desklab-run")]) == 2
    assert "not a DeskLab run" in capsys.readouterr().err


def test_desklab_train_records_its_run_unless_told_not_to(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    assert main(["train", "--preset", "bench-mlp", "--steps", "25", "--quiet"]) == 0
    assert "run recorded:" in capsys.readouterr().out
    (path,) = tmp_path.glob("*.desklab-run")
    reader = RunReader(path)
    history = reader.history()
    assert reader.meta["source"] == "designed" and reader.meta["status"] == "finished"
    assert reader.meta["design"]["format"] == "desklab.design/1"  # reopenable as a design
    assert history.step_series("loss")[0].tolist() == list(range(25))
    assert history.data_points[0].shape[1] == 2 and history.drawing is not None  # moons
    reader.close()
    assert main(["train", "--preset", "bench-mlp", "--steps", "5", "--quiet",
                 "--no-record"]) == 0
    assert len(list(tmp_path.glob("*.desklab-run"))) == 1


def test_the_listing_reads_a_run_again_when_it_grows_and_says_when_its_writer_died(
        tmp_path):
    import numpy as np

    from desklab.metrics.records import StepSeries
    from desklab.runs import RunWriter, list_runs

    def steps(first, n):
        return StepSeries(first, np.ones(n), np.ones(n), np.ones(n))

    writer = RunWriter(tmp_path / "a.desklab-run", {"name": "a", "source": "watch"})
    writer.record("steps", steps(0, 5))
    writer.commit()
    (info,) = list_runs(tmp_path)
    assert (info.status, info.steps) == ("running", 5)
    writer.record("steps", steps(5, 3))
    writer.commit()
    (info,) = list_runs(tmp_path)
    assert info.steps == 8  # the file changed: read again, not the cached 5
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    writer.set_meta(pid=int(dead))
    writer.commit()
    (info,) = list_runs(tmp_path)
    assert info.status == "interrupted"
    writer.close()
    (info,) = list_runs(tmp_path)
    assert info.status == "finished"


def test_desklab_train_records_the_boundary_over_a_spiral(tmp_path, monkeypatch, capsys):
    """A 2-D run trained by `desklab train` keeps its points and the trained model's
    decision grid, so the app shows the boundary when the run is reopened (it showed
    the confusion matrix: only the app's trainer recorded them)."""
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    assert main(["train", "--preset", "relu-spiral", "--steps", "300", "--quiet"]) == 0
    (path,) = tmp_path.glob("*.desklab-run")
    reader = RunReader(path)
    history = reader.history()
    reader.close()
    x, y = history.data_points  # (N, 2), (N,)
    grid = history.drawing
    x0, x1, y0, y1 = grid["extent"]
    rows, cols = grid["label"].shape  # rows along y
    col = np.clip(np.round((x[:, 0] - x0) / (x1 - x0) * (cols - 1)).astype(int), 0, cols - 1)
    row = np.clip(np.round((x[:, 1] - y0) / (y1 - y0) * (rows - 1)).astype(int), 0, rows - 1)
    on_their_side = np.mean(grid["label"][row, col] == y)  # the trained net fits: 98.5%
    assert on_their_side > 0.9, on_their_side
    assert len(x) == 800 and set(np.unique(y)) == {0, 1, 2}
    assert main(["train", "--preset", "relu-digits", "--steps", "5", "--quiet"]) == 0
    (digits,) = set(tmp_path.glob("*.desklab-run")) - {path}
    reader = RunReader(digits)
    history = reader.history()
    reader.close()
    assert history.data_points is None and history.drawing is None  # 64 inputs: nothing


def test_show_json_of_a_script_with_no_optimizer(tmp_path, capsys):
    """A manual update (no optimizer given to watch) has no learning rate: its steps'
    lr is null in the report; `runs show --json` raised "Out of range float values are
    not JSON compliant: nan" with a traceback."""
    import torch
    from torch import nn

    import desklab
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    with desklab.watch(model, None, every=2, run=tmp_path / "manual") as watcher:
        losses = []
        for _ in range(5):
            loss = nn.functional.cross_entropy(model(x), y)
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
            watcher.log(loss=loss)
            losses.append(loss.item())
    report_path = tmp_path / "r.json"
    assert main(["runs", "show", str(watcher.path), "--json", str(report_path)]) == 0
    history = json.loads(report_path.read_text())["history"]
    assert history["lr"] == [None] * 5
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-6)
