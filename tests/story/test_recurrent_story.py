"""An LSTM built with a real mouse (xdotool on Xvfb) and trained, issue 28.

An empty design on the adding problem: the LSTM tile dragged from the palette onto the
network, Ctrl+S (the file says an LSTM sits between input and output), Train; the run
the app wrote holds the gradient through time of every probe, and the window shows the
gradient-through-time panel in the boundary panel's place. Read from the UI map, the
design file and the run file.
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
        name="adding", input=InputSpec("adding", {"samples": 2000, "length": 30},
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
        assert curve["log_y"] and heat["x"][1] >= 30  # every one of the 30 time steps
        # a regression has no accuracy: no empty accuracy plot, the loss has the step axis
        (loss,) = m["plots"]["lossPlot"]["plots"]
        assert loss["title"].startswith("Loss") and loss["x_labels"] and loss["y_labels"]
        if os.environ.get("DESKLAB_STORY_SHOTS"):
            app.screenshot(Path(os.environ["DESKLAB_STORY_SHOTS"]) / "story-lstm.png")
        app.close_window()
        assert app.wait_exit() == 0, app.log_text()[-2000:]
    finally:
        app.kill()
    (run,) = sorted(runs.glob("*.desklab-run"))
    history = RunReader(run).history()
    assert history.layout.time_layers == [0] and history.layout.layers[0].kind == "lstm"
    steps = history.time_grads.steps
    assert list(steps) == list(range(0, 200, 10)), steps  # every probe, through time
    grads = history.time_grads.values[:, 0]
    assert grads.shape == (20, 30) and np.isfinite(grads).all() and (grads > 0).all()
