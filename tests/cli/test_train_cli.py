"""desklab train: report, CSV, weights (loaded with weights_only=True), errors."""

import csv
import json

import torch

from desklab.cli import main
from desklab.engine import build
from desklab.engine.weights import load_weights
from desklab.lessons import get_preset


def test_train_report_csv_and_weights(tmp_path, capsys):
    report_path, csv_path, weights = tmp_path / "r.json", tmp_path / "s.csv", tmp_path / "w.pt"
    code = main(["train", "--preset", "bench-mlp", "--steps", "120", "--probe-every", "20",
                 "--json", str(report_path), "--csv", str(csv_path), "--save-weights",
                 str(weights), "--quiet"])
    assert code == 0
    out = capsys.readouterr()
    assert "finished after 120 steps" in out.out and out.err == ""
    report = json.loads(report_path.read_text())
    assert report["format"] == "desklab.report/1" and report["state"] == "finished"
    history = report["history"]
    assert {"step", "loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(history)
    assert len({len(v) for v in history.values()}) == 1
    assert history["step"] == list(range(120))  # every step, from step 0
    assert all(v is not None for v in history["loss"] + history["train_acc"])
    assert [s for s, v in zip(history["step"], history["val_loss"]) if v is not None] == \
        [49, 99, 119]  # evaluated after 50, 100 and 120 steps
    assert report["evaluations"]["step"] == [50, 100, 120]
    assert report["timing"]["train_seconds"] > 0 and report["timing"]["steps_per_second"] > 0
    assert [l["name"] for l in report["layers"]][-1] == "head"
    assert report["findings"] == []
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 7 * 9 and rows[0]["step"] == "0" and rows[-1]["layer"] == "head"
    assert rows[-1]["step"] == "119"  # every 20th step and the last
    state = load_weights(weights)
    model = build(get_preset("bench-mlp"))
    model.load_state_dict(state, strict=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    # the confusion matrix: the saved weights' own predictions on the validation split,
    # counted here with plain torch and numpy (the last evaluation was the last step)
    import numpy as np

    from desklab.engine import make_dataset
    data = make_dataset(get_preset("bench-mlp"))
    with torch.no_grad():
        predicted = model.eval()(data.x_val).argmax(1).numpy()
    expected = np.zeros((2, 2), int)
    np.add.at(expected, (data.y_val.numpy(), predicted), 1)
    confusion = report["confusion"]
    assert confusion["rows"] == "true class" and confusion["counts"] == expected.tolist()
    summary = [line for line in out.out.splitlines() if "most confused: " in line]
    assert len(summary) == 1  # one line on the pair mixed up most
    # the run file recorded the counts: `runs show` reports and prints the same
    recorded = out.out.split("run recorded: ", 1)[1].split(" (desklab runs show", 1)[0]
    assert main(["runs", "show", recorded, "--json", str(tmp_path / "show.json")]) == 0
    shown = capsys.readouterr().out
    assert json.loads((tmp_path / "show.json").read_text())["confusion"] == confusion
    share = np.trace(expected) / expected.sum()
    assert f"validation at step 120: {share:.1%} on the confusion matrix's diagonal; " \
        f"{summary[0]}" in shown


def test_train_divergence_report(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert main(["train", "--preset", "lr-too-high", "--json", str(path), "--quiet"]) == 0
    report = json.loads(path.read_text())
    assert report["state"] == "diverged"
    assert report["findings"][0]["kind"] == "diverged"
    bad = report["findings"][0]["step"]
    assert report["history"]["step"] == list(range(bad))  # every step before it
    assert all(v is not None for v in report["history"]["loss"])
    assert "diverged at step" in capsys.readouterr().out


def test_progress_bar_on_stderr(capsys):
    assert main(["train", "--preset", "lr-too-high", "--steps", "15"]) == 0
    err = capsys.readouterr().err
    assert "steps/s" in err and "15/15" in err


def test_train_bad_input(tmp_path, capsys):
    assert main(["train", "--preset", "bench-mlp", "--steps", "0"]) == 2
    assert "steps must be between" in capsys.readouterr().err
    if torch.cuda.is_available():
        assert main(["train", "--preset", "bench-mlp", "--steps", "5", "--device",
                     "cuda"]) == 0
    else:
        assert main(["train", "--preset", "bench-mlp", "--device", "cuda"]) == 2
        assert "cuda" in capsys.readouterr().err.lower()
    assert main(["train", "--preset", "bench-mlp", "--steps", "5", "--json",
                 str(tmp_path / "no" / "dir" / "r.json")]) == 2
    assert "cannot write the report" in capsys.readouterr().err


def test_a_finding_that_held_only_briefly_is_reported_with_its_span(tmp_path, capsys):
    """The rules run on every snapshot: the CLI used to run them once, at the end, so a
    run that recovered from vanishing gradients reported no findings at all."""
    from pathlib import Path
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "vanishing-recovers.json"
    report_path = tmp_path / "r.json"
    assert main(["train", str(example), "--quiet", "--json", str(report_path)]) == 0
    findings = {f["kind"]: f for f in json.loads(report_path.read_text())["findings"]}
    assert findings["vanishing"]["step"] == 0 and findings["vanishing"]["end"] is not None
    out = capsys.readouterr().out
    assert "[vanishing, steps 0 to" in out
    # `runs show` prints the findings as train did, advice included (it printed
    # "[warning] steps 0 to 45, resolved: ..." with no kind and no advice)
    told = [line for line in out.splitlines() if line.startswith(("[", "  -> "))]
    assert any(line.startswith("  -> ") for line in told), told
    recorded = out.split("run recorded: ", 1)[1].split(" (desklab runs show", 1)[0]
    assert main(["runs", "show", recorded]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line for line in shown if line.startswith(("[", "  -> "))] == told


def test_a_thread_count_past_the_machine_is_refused_not_a_segfault(capsys):
    """torch.set_num_threads(100000) crashed the process (SIGSEGV in OpenMP)."""
    from desklab.util.cpu_load import cpu_count
    for threads in ("100000", str(4 * cpu_count() + 1), "-3"):
        assert main(["train", "--preset", "deep-relu", "--steps", "2", "--threads",
                     threads]) == 2
        assert "--threads must be 1 to" in capsys.readouterr().err
