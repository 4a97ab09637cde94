"""An LSTM built with a real mouse (xdotool on Xvfb) and trained, issue 28.

An empty design on the adding problem: the LSTM tile dragged from the palette onto the
network, Ctrl+S (the file says an LSTM sits between input and output), Train; the run
the app wrote holds the gradient through time of every probe, and the window shows the
gradient-through-time panel in the boundary panel's place. Then Train ▸ Sanity check
from the menu: it stops at the first evaluation that fits (once it ran a fixed 300
steps; 20 adding sequences of length 100 take an LSTM 250-600 steps to fit, depending
on the draw, and past 300 it said "Failed"). Read from the UI map, the design file
and the run files. Last, a lesson found by typing in the lessons browser (the small CNN
on 8x8 digits) trains with F5 and shows its validation confusion matrix in the
boundary's cell.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
from xapp import App, center

from desklab.design import InputSpec, NetworkDesign, OutputSpec, TrainConfig, save_design
from desklab.runs import RunReader


def test_lstm_by_dragging_and_training(xserver, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("DESKLAB_RUNS", str(runs))
    path = tmp_path / "adding.json"
    save_design(NetworkDesign(
        name="adding", input=InputSpec("adding", {"samples": 2000, "length": 100},
                                       preprocess="none"),
        layers=[], output=OutputSpec("regression"),
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=64, steps=200,
                          probe_every=10, eval_every=50)), path)
    app = App(xserver, tmp_path, str(path))
    try:
        x, y, w, h = app.card(["output"])["rect"]
        seen = app.drag(center(app.tile("LSTM")), (x + w // 2, y + h // 6),
                        hover_check=lambda m: m["drop_marker"])["seen"]
        assert seen["path"] == [0], seen
        app.wait(lambda m: any("LSTM" in c["title"] for c in m["cards"]), 5, "the LSTM card")
        before = path.stat().st_mtime_ns
        app.key("ctrl+s")
        app.wait(lambda m: path.stat().st_mtime_ns != before, 10, "the save")
        time.sleep(0.2)
        layers = json.loads(path.read_text())["layers"]
        assert [layer["kind"] for layer in layers] == ["lstm"], layers
        app.click(*center(app.widget("trainButton")))
        app.wait(lambda m: m["train_status"].startswith("finished"), 60, "the run to finish")
        m = app.map()
        assert "throughTimePlot" in m["widgets"] and "boundaryPlot" not in m["widgets"]
        heat, curve = m["plots"]["throughTimePlot"]["plots"]
        for plot in (heat, curve):  # numbers on both axes of both plots
            assert plot["x_labels"] and plot["y_labels"], plot
        assert curve["log_y"] and heat["x"][1] >= 100  # every one of the 100 time steps
        # a regression has no accuracy: no empty accuracy plot, the loss has the step axis
        (loss,) = m["plots"]["lossPlot"]["plots"]
        assert loss["title"].startswith("Loss") and loss["x_labels"] and loss["y_labels"]
        if os.environ.get("DESKLAB_STORY_SHOTS"):
            app.screenshot(Path(os.environ["DESKLAB_STORY_SHOTS"]) / "story-lstm.png")
        app.menu("alt+t", "c")  # Train ▸ Sanity check
        app.wait(lambda m: m["active_modal"] == "Sanity check", 120, "the sanity verdict")
        said = app.map()["status"]
        assert said.startswith("Sanity check: Passed: the network fits 20 examples by step"), said
        app.key("Return")
        app.wait(lambda m: not m["active_modal"], 5, "the verdict's box to close")
        # File ▸ New from lesson: type to narrow the list, Enter opens the first shown
        app.click(*center(app.widget("network_summary")))  # the window active again
        app.key("ctrl+shift+n")
        app.wait(lambda m: m["active_modal"] == "New from lesson", 10, "the lessons")
        app.type("small cnn")
        app.key("Return")
        app.wait(lambda m: m["title"].startswith("cnn-digits"), 10, "the lesson to open")
        assert any("Conv2d" in c["title"] for c in app.map()["cards"])
        app.click(*center(app.widget("trainButton")))  # 8x8 digits: a confusion matrix
        app.wait(lambda m: m["train_status"].startswith("finished"), 60, "the CNN's run")
        time.sleep(0.5)  # the last redraws
        m = app.map()
        assert "confusionPlot" in m["plots"] and "boundaryPlot" not in m["widgets"], m["plots"]
        (matrix,) = m["plots"]["confusionPlot"]["plots"]
        assert matrix["title"].startswith("Confusion matrix, step 600"), matrix
        assert matrix["x_labels"][0] == "0" and matrix["y_labels"][-1] == "9", matrix
        assert m["plots"]["confusionPlot"]["fits"]
        app.close_window()
        assert app.wait_exit() == 0, app.log_text()[-2000:]
    finally:
        app.kill()
    def run_of(name):  # <date>-<time>-<name>.desklab-run
        (path,) = [p for p in runs.glob("*.desklab-run")
                   if p.name.split("-", 2)[2] == f"{name}.desklab-run"]
        return path
    sanity, run, cnn = run_of("adding-sanity"), run_of("adding"), run_of("cnn-digits")
    # its diagonal share is the validation accuracy the run file holds (another count)
    accuracy = RunReader(cnn).history().metric("val_acc")[-1]
    assert f"{accuracy:.1%} on the diagonal" in matrix["title"], (accuracy, matrix)
    tiny = RunReader(sanity).history()  # the check's own run: stopped once it fitted
    steps, losses = tiny.step_series("loss")
    evaluated, loss = tiny.metric("step"), tiny.metric("loss")
    assert f"by step {int(evaluated[-1])} " in said, (said, evaluated)
    assert steps[-1] < min(evaluated[-1] + 50, 1000), steps[-1]  # no evaluation after it
    assert loss[-1] <= losses[0] / 20 < loss[-2], (losses[0], loss)  # fitted: there, first
    history = RunReader(run).history()
    assert history.layout.time_layers == [0] and history.layout.layers[0].kind == "lstm"
    steps = history.time_grads.steps
    assert list(steps) == [*range(0, 200, 10), 199], steps  # every probe, and the last
    grads = history.time_grads.values[:, 0]
    assert grads.shape == (21, 100) and np.isfinite(grads).all() and (grads > 0).all()
