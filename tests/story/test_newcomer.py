"""A newcomer's first minutes with a real mouse and keyboard (xdotool on Xvfb), issue 25.

The window shrunk towards 1024 x 700 and grown again keeps usable docks; at 1280 x 720
a 7-layer sigmoid net trains without the window widening, and every live plot shows
numbers on both axes (at 1216 x 648 too: the plots scroll rather than squash), the
loss as near-flat as it is, and the gradients' whole run (the vanishing phase at the
start stays in view after it resolves: checked against the run file the app wrote);
the palette adds a layer from the keyboard; after Ctrl+D and Ctrl+Z, Down moves from
the selected card, not from Input; a script's run followed from the Runs dock shows
the script's own settings and length, and Reset brings the design back. Read through
the UI map.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
from xapp import App, center

from desklab.design import InputSpec, LayerSpec, NetworkDesign, TrainConfig, save_design
from desklab.runs import RunReader


def _sigmoid_net(path: Path) -> None:
    """Seven sigmoid layers, Adam at 0.01: vanishing gradients for the first ~50 steps,
    then the run recovers (`desklab train` finds "vanishing, steps 0 to 45, resolved")."""
    save_design(NetworkDesign(
        name="sigmoid-7", input=InputSpec("spiral", {"samples": 1000}),
        layers=[LayerSpec.make("dense", units=32, activation="sigmoid", init="xavier_normal")
                for _ in range(7)],
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=64, steps=600,
                          probe_every=5, eval_every=50)), path)


def _docks(m: dict) -> dict:
    return {name: m["widgets"].get(f"dock_{name}", [0, 0, 0, 0])[2]
            for name in ("palette", "network", "inspector")}


def _saved(app: App, path: Path) -> dict:
    before = path.stat().st_mtime_ns
    app.key("ctrl+s")
    end = time.monotonic() + 10
    while time.monotonic() < end and path.stat().st_mtime_ns == before:
        time.sleep(0.05)
    time.sleep(0.1)
    return json.loads(path.read_text())


def _selected(m: dict) -> list:
    return [c["path"] for c in m["cards"] if c["selected"]]


def test_newcomer(xserver, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("DESKLAB_RUNS", str(runs))
    design_path = tmp_path / "sigmoid-7.json"
    _sigmoid_net(design_path)
    app = App(xserver, tmp_path, str(design_path))
    try:
        _layout_holds(app)
        _plots_tell_the_story(app, runs)
        _short_window(app)
        _keyboard(app, design_path)
        _following_a_script(app, runs, tmp_path)
    finally:
        app.kill()


def _layout_holds(app: App) -> None:
    """Item 6: docks keep usable widths when the window shrinks, and get their share
    back when it grows."""
    app.resize_window(1024, 700)
    small = app.wait(lambda m: m["window"][2] < 1300 and _docks(m), 10, "a small window")
    time.sleep(0.5)
    small = _docks(app.map())
    assert small["palette"] >= 150 and small["network"] >= 200, small
    assert small["inspector"] >= 250, small
    app.resize_window(1600, 1000)
    app.wait(lambda m: m["window"][2] == 1600, 10, "a wide window")
    time.sleep(0.5)
    wide = _docks(app.map())
    assert wide["network"] >= 280 and wide["inspector"] >= 300, (small, wide)
    app.resize_window(1280, 720)
    app.wait(lambda m: m["window"][2:] == [1280, 720], 10, "1280 x 720")
    time.sleep(0.5)


def _plots_tell_the_story(app: App, runs: Path) -> None:
    """Items 1, 2 (and 6: training does not widen the window)."""
    app.click(*center(app.widget("trainButton")))
    m = app.wait(lambda m: m if m["train_status"].startswith("finished") else None, 90,
                 "the run to finish")
    time.sleep(1.0)  # the last redraws (one panel per tick)
    m = app.map()
    assert m["window"][2:] == [1280, 720], "training widened the window"
    for panel, shown in m["plots"].items():
        assert not shown["hint"], panel
        assert shown["fits"], f"{panel}'s plots are wider than the panel: cut off"
        for plot in shown["plots"]:
            assert plot["x_labels"] and plot["y_labels"], (panel, plot)
            if plot["log_y"]:  # a decade or more: at least two labelled
                assert len(plot["y_labels"]) >= 2, (panel, plot)
    loss, accuracy = m["plots"]["lossPlot"]["plots"]  # a classification: both
    assert accuracy["title"].startswith("Accuracy"), accuracy
    assert len(loss["y_labels"]) >= 2, loss
    # the gradients over time: the run's whole range is in view, the vanishing start too
    (path,) = sorted(runs.glob("*.desklab-run"))
    reader = RunReader(path)
    try:
        steps, grads = reader.history().stat_series("grad_mean_abs")  # (L, snapshots)
    finally:
        reader.close()
    positive = grads[np.isfinite(grads) & (grads > 0)]
    early = grads[:, steps <= 45]
    early = early[np.isfinite(early) & (early > 0)]
    time_plot = next(p for p in m["plots"]["gradientPlot"]["plots"]
                     if p["title"].startswith("mean |dL/dh| per layer"))
    lo, hi = time_plot["y"]  # log10
    assert lo <= math.log10(early.min()) and lo <= math.log10(positive.min()), \
        (time_plot, early.min(), positive.min())
    assert hi >= math.log10(positive.max()), (time_plot, positive.max())
    assert time_plot["x"][0] <= steps[0] and time_plot["x"][1] >= steps[-1], time_plot
    app.shot("newcomer-1280x720")


def _short_window(app: App) -> None:
    """The first window on a 1280 x 720 screen is 1216 x 648: the plots there had so
    little height that the gradients by depth kept one tick label ("1e-10") on 10 px of
    data. They now keep their height and scroll; the top row's axes stay numbered."""
    app.resize_window(1216, 648)
    app.wait(lambda m: m["window"][2:] == [1216, 648], 10, "1216 x 648")
    time.sleep(1.0)  # the plots repainted at their new size
    m = app.map()
    for panel in ("activationPlot", "gradientPlot", "lossPlot"):  # the row in view
        for plot in m["plots"][panel]["plots"]:
            assert plot["view"][3] >= 25, (panel, plot)  # px of data, not a sliver
            if plot["log_y"]:
                assert len(plot["y_labels"]) >= 2, (panel, plot)
    app.resize_window(1280, 720)
    app.wait(lambda m: m["window"][2:] == [1280, 720], 10, "1280 x 720 again")
    time.sleep(0.5)


def _keyboard(app: App, design_path: Path) -> None:
    """Item 10: a layer from the palette without the mouse; Ctrl+D, Ctrl+Z, Down."""
    app.key("ctrl+r")  # reset: the design can be edited again
    app.wait(lambda m: m["train_status"].startswith("idle"), 10, "reset")
    app.click(*center(app.card([2])["rect"]))
    app.wait(lambda m: _selected(m) == [[2]], 5, "card 2 selected")
    before = _saved(app, design_path)
    app.click(*center(app.tile("Dense")))  # the palette has the keys; the card stays selected
    app.key("Return")
    after = _saved(app, design_path)
    kinds = [layer["kind"] for layer in after["layers"]]
    assert len(after["layers"]) == len(before["layers"]) + 1, kinds
    assert kinds[3] == "dense" and after["layers"][3].get("activation") != "sigmoid", \
        after["layers"]  # a new Dense card (relu by default) after the selected card
    app.click(*center(app.card([0])["rect"]))
    app.wait(lambda m: _selected(m) == [[0]], 5, "card 0 selected")
    app.key("ctrl+d")
    app.wait(lambda m: len([c for c in m["cards"] if len(c["path"]) == 1]) ==
             len(after["layers"]) + 3, 5, "the duplicate")
    app.key("ctrl+z")
    app.wait(lambda m: len([c for c in m["cards"] if len(c["path"]) == 1]) ==
             len(after["layers"]) + 2, 5, "the undo")
    app.key("Down")
    got = app.wait(lambda m: _selected(m) or None, 5, "a selection after Down")
    assert got == [[1]], f"Down after Ctrl+D, Ctrl+Z selected {got}, not the card after 0"


def _following_a_script(app: App, runs: Path, home: Path) -> None:
    """Item 7: a script's run (the README's example, examples/watch_plain.py: SGD, lr
    0.05, momentum 0.9) shows its own settings and length, Reset brings the design
    back."""
    import subprocess
    import sys
    example = Path(__file__).resolve().parents[2] / "examples" / "watch_plain.py"
    subprocess.run([sys.executable, str(example), "--run", str(runs / "script-run"),
                    "--steps", "300", "--every", "5"], check=True, timeout=120)
    tab = app.wait(lambda m: next((t["rect"] for t in m["tabs"] if t["text"] == "Runs"),
                                  None), 5, "the Runs tab")
    app.click(*center(tab))
    item = app.wait(lambda m: next((i["rect"] for i in m["stored_runs"]
                                    if i["text"].startswith("plain")), None), 10,
                    "the script's run in the run store list")
    app.move(*center(item))
    app.xdo("click", "--repeat", 2, "--delay", 80, 1)  # double-click: follow it
    shown = app.wait(lambda m: m["labels"].get("follow_settings"), 10, "its settings")
    assert "SGD" in shown and "lr 0.05" in shown and "momentum 0.9" in shown, shown
    m = app.map()
    assert "field_optimizer" not in m["widgets"], "the design's optimizer field still shows"
    status = m["train_status"]
    assert "step 300/300" in status and " 0 steps/s" not in status, status
    time.sleep(0.5)  # the last redraws
    for panel, shown in app.map()["plots"].items():  # the script's module tree is wider
        assert shown["fits"], f"{panel}'s plots are wider than the panel: cut off"
    app.shot("newcomer-following")
    app.click(*center(app.widget("train_status")))
    app.key("ctrl+r")
    m = app.wait(lambda m: m if "field_optimizer" in m["widgets"] and
                 "follow_settings" not in m["labels"] else None, 10, "the design back")
    assert [c["path"] for c in m["cards"]][:1] == [["input"]], "the design's cards"
    assert "step 0/600" in m["train_status"], m["train_status"]
