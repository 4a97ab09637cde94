"""desklab search: 12 trials of overfit-small on this machine in under 3 minutes, the
learning rates spread log-uniformly, each trial a recorded run, and a verdict on the
preset's own setting."""

import json
import time

import numpy as np

from desklab.cli import main
from desklab.runs import RunReader


def test_search_overfit_small_12_trials(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    out = tmp_path / "s.json"
    start = time.perf_counter()
    # 300 steps a trial (three evaluations, enough to prune): the stages, not the accuracy
    assert main(["search", "--preset", "overfit-small", "--trials", "12", "--jobs", "1",
                 "--steps", "300", "--json", str(out)]) == 0
    assert time.perf_counter() - start < 180
    result = json.loads(out.read_text())
    trials = result["trials"]
    assert len(trials) == 12 and {t["stage"] for t in trials} == {"coarse", "fine"}
    coarse = np.array([t["params"]["lr"] for t in trials if t["stage"] == "coarse"])
    assert np.all((coarse >= 1e-5) & (coarse <= 1e-1))
    # log-uniform over 4 decades: most below 1e-2 (a linear sampler puts 90% above it)
    assert (coarse < 1e-2).sum() >= len(coarse) // 2
    assert np.log10(coarse.max() / coarse.min()) > 2
    # one process: the fine stage's box for trial N is known from trials 0..N-1 (the
    # three best complete ones, widened by half a decade each way, cut to the range)
    fine = [t for t in trials if t["stage"] == "fine"]
    assert fine
    for t in fine:
        done = [u for u in trials[:t["number"]] if u["state"] == "complete"]
        best3 = [u["params"]["lr"] for u in sorted(done, key=lambda u: -u["value"])[:3]]
        low, high = max(1e-5, min(best3) / 10 ** 0.5), min(1e-1, max(best3) * 10 ** 0.5)
        assert low * (1 - 1e-9) <= t["params"]["lr"] <= high * (1 + 1e-9), (t, best3)
    best, base = result["best"], result["baseline"]
    assert base["params"] == {"lr": 1e-3, "l2": 0.0}
    assert result["beats_baseline"] == (best["value"] > base["value"])
    verdict = "beats it" if result["beats_baseline"] else "could not beat it"
    assert verdict in capsys.readouterr().out
    for t in trials:  # each trial is a normal run in the run store
        reader = RunReader(t["run"])
        assert reader.meta["design"]["train"]["lr"] == t["params"]["lr"]
        reader.close()


def test_bad_params_are_one_line(capsys):
    for bad in ("lr=1:0", "momentum=0:1:log", "nope=1:2", "lr=abc", "lr=1e6:1e8"):
        assert main(["search", "--preset", "overfit-small", "--trials", "1",
                     "--param", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("desklab: --param")


def test_trials_the_design_refuses_print_their_reason_and_no_traceback(tmp_path, monkeypatch,
                                                                       capfd):
    """A batch size larger than the 60 examples fails its trial: Optuna printed each
    one's traceback; now the table's line says why, and nothing else does (read at the
    file descriptors: Optuna's log handler holds the stderr it was made with)."""
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    assert main(["search", "--preset", "overfit-small", "--trials", "2", "--jobs", "1",
                 "--steps", "20", "--param", "batch_size=100:512:log"]) == 0
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "failed with" not in err, err
    fails = [line for line in out.splitlines() if " fail (" in line]
    assert len(fails) == 2 and all("larger than the 60 training examples" in line
                                   for line in fails), out
