"""Search that scales out (issue 29): two `desklab search` processes, started together
on one study in a real PostgreSQL server (Optuna's RDB storage), each running 6
trials: 12 distinct trials in the study, each process's trials among them unchanged,
and the best of the study (read here with Optuna itself) is the best the last process
to finish reports, which no trial of the first one's beats.

`.ci/run` starts the server (`.ci/postgres.sh`) and exports its URL as
DESKLAB_TEST_POSTGRES; without one this test skips and says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

URL = os.environ.get("DESKLAB_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not URL, reason="no PostgreSQL server: .ci/run starts one "
                                "with .ci/postgres.sh (DESKLAB_TEST_POSTGRES unset)")


def test_two_processes_share_one_study_on_postgresql(tmp_path):
    optuna = pytest.importorskip("optuna")
    study = f"scale-out-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DESKLAB_RUNS=str(tmp_path / "runs"))
    procs = []
    for i in range(2):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "desklab", "search", "--preset", "overfit-small",
             "--trials", "6", "--jobs", "1", "--steps", "30", "--storage", URL,
             "--study", study, "--json", str(tmp_path / f"worker{i}.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, out
    reports = [json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(2)]
    loaded = optuna.load_study(study_name=study, storage=URL)
    trials = loaded.trials
    assert len(trials) == 12 and sorted(t.number for t in trials) == list(range(12))
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 12  # distinct settings
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials), \
        [t.state.name for t in trials]
    by_number = {t.number: t for t in trials}
    for report in reports:  # what each process saw is the study's own record
        for row in report["trials"]:
            if row["state"] in ("complete", "pruned"):
                assert by_number[row["number"]].params == row["params"]
                assert by_number[row["number"]].value == row["value"]
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best = max(t.value for t in complete)
    last = max(range(2), key=lambda i: len(reports[i]["trials"]))
    assert len(reports[last]["trials"]) == 12  # the later one saw every trial
    assert reports[last]["best"]["value"] == best == loaded.best_value
    first = reports[1 - last]
    assert first["best"]["value"] <= best
