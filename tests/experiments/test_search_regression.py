"""desklab search on a regression: it has no accuracy, so trials are ranked by their
validation loss, lower first (before, every trial scored 0.0 and "the best" was the
first one). Checked against the loss each trial's own run file recorded."""

import json

import numpy as np

from desklab.cli import main
from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec, save_design
from desklab.runs import RunReader


def _sine(path, steps=120):
    design = NetworkDesign(name="sine-fit", input=InputSpec("sine", {"samples": 400}),
                           layers=[LayerSpec.make("dense", units=32)],
                           output=OutputSpec("regression"))
    design.train.steps, design.train.eval_every = steps, 40
    save_design(design, path)
    return path


def test_a_regression_search_ranks_by_validation_loss(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    out = tmp_path / "s.json"
    assert main(["search", str(_sine(tmp_path / "sine.json")), "--trials", "6", "--jobs",
                 "1", "--param", "lr=1e-4:1e-1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["score"] == {"key": "val_loss", "label": "val loss",
                               "direction": "minimize", "title": "Validation loss"}
    printed = capsys.readouterr().out
    assert "val loss" in printed and "val acc" not in printed
    complete = [t for t in result["trials"] if t["state"] == "complete"]
    assert len(complete) >= 4
    for t in complete:  # the value is the run's last validation loss
        reader = RunReader(t["run"])
        try:
            val_loss = reader.history().metric("val_loss")
        finally:
            reader.close()
        assert np.isfinite(val_loss[-1]) and np.isclose(t["value"], val_loss[-1]), t
    values = np.array([t["value"] for t in complete])
    assert result["best"]["value"] == values.min()
    assert len(set(np.round(values, 9))) > 1  # ranked by something that differs
    # the fine stage narrows around the three lowest losses so far, not the highest
    for t in (t for t in result["trials"] if t["stage"] == "fine"):
        done = [u for u in result["trials"][:t["number"]] if u["state"] == "complete"]
        best3 = [u["params"]["lr"] for u in sorted(done, key=lambda u: u["value"])[:3]]
        low, high = max(1e-4, min(best3) / 10 ** 0.5), min(1e-1, max(best3) * 10 ** 0.5)
        assert low * (1 - 1e-9) <= t["params"]["lr"] <= high * (1 + 1e-9), (t, best3)
    base = result["baseline"]["value"]
    assert result["beats_baseline"] == (result["best"]["value"] < base)


def test_a_diverging_regression_trial_fails_saying_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    out = tmp_path / "s.json"
    design = _sine(tmp_path / "sine.json", steps=60)
    text = json.loads(design.read_text())
    text["train"]["optimizer"] = "sgd"
    design.write_text(json.dumps(text))
    assert main(["search", str(design), "--trials", "2", "--jobs", "1",
                 "--param", "lr=5:10:lin", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [t["state"] for t in result["trials"]] == ["fail", "fail"]
    assert all("diverged" in t["error"] for t in result["trials"])
    assert result["best"] is None and result["baseline"]["value"] is not None
    assert "diverged" in capsys.readouterr().out
