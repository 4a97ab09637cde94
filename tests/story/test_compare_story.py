"""Four runs compared with a real mouse (xdotool on Xvfb): a learning-rate sweep of three
runs and a deeper design, trained with `desklab train` into the run store (the Runs
dock's filter, typed into, narrows its list to the sweep), are chosen in the Runs dock
with a click and three Ctrl+clicks, and Compare overlays all four (it took one or two).
Pointing at the loss plot reads every run's smoothed loss at that step, each checked
against the losses its run file holds (read with sqlite3); the right side's chooser,
opened with a click and moved with the keys, shows the deeper run's layers, named as
its report names them; a click on a run's name in the title hides its curves, another
shows them; Ctrl+E exports every run's curves, and each loss in the CSV is the one its
run file holds. Read through the UI map and the CSV."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import time

import numpy as np
from xapp import App, center

from desklab.cli import main
from desklab.design import save_design
from desklab.lessons import get_preset

STEPS = 60


def _train(folder, name: str, preset: str, lr: float | None = None) -> dict:
    design = get_preset(preset)
    design.name, design.train.steps = name, STEPS
    if lr is not None:
        design.train.lr = lr
    save_design(design, folder / f"{name}.json")
    report = folder / f"{name}.report.json"
    assert main(["train", str(folder / f"{name}.json"), "--quiet", "--json",
                 str(report)]) == 0
    return json.loads(report.read_text())


def test_four_runs_overlaid_and_a_side_chosen(xserver, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("DESKLAB_RUNS", str(runs))
    reports = {"deeper": _train(tmp_path, "deeper", "deep-relu")}  # first: listed last
    reports.update({f"sweep-lr-{lr:g}": _train(tmp_path, f"sweep-lr-{lr:g}", "lr-tuned", lr)
                    for lr in (0.3, 0.1, 0.03)})
    files = {p.name.split("-", 2)[2].removesuffix(".desklab-run"): p
             for p in runs.glob("*.desklab-run")}
    assert sorted(files) == sorted(reports)
    app = App(xserver, tmp_path, str(tmp_path / "deeper.json"))
    try:
        tab = app.wait(lambda m: next((t["rect"] for t in m["tabs"] if t["text"] == "Runs"),
                                      None), 5, "the Runs tab")
        app.click(*center(tab))
        items = app.wait(lambda m: m["stored_runs"] if len(m["stored_runs"]) == 4 else None,
                         30, "four runs listed")
        app.click(*center(app.widget("storedFilter")))  # typed words narrow the list
        app.type("sweep")
        swept = app.wait(lambda m: m["stored_runs"] if len(m["stored_runs"]) == 3 else None,
                         5, "the sweep's three runs")
        assert all(i["text"].startswith("sweep-lr-") for i in swept), swept
        app.key("ctrl+a", "BackSpace")
        items = app.wait(lambda m: m["stored_runs"] if len(m["stored_runs"]) == 4 else None,
                         5, "all four again")
        app.click(*center(items[0]["rect"]))
        for item in items[1:]:
            app.click(*center(item["rect"]), modifier="ctrl")
        app.click(*center(app.widget("storedCompare")))
        (shown,) = app.wait(lambda m: m["compare"], 20, "the compare window")
        listed = [i["text"].split(" · ")[0] for i in items]
        assert [r["name"] for r in shown["runs"]] == listed  # A, B, C, D: the list's order
        assert shown["title"] == " vs ".join(f"{'ABCD'[k]}: {name}"
                                             for k, name in enumerate(listed)), shown
        for run in shown["runs"]:  # every step's loss, every layer's depth point
            assert run["loss_points"] == STEPS, run
            assert run["depth_points"] == len(reports[run["name"]]["layers"]), run
        # point at the loss plot, two thirds along: each run's loss at that step
        x, y, w, h = shown["loss_view"]
        app.move(x + 2 * w // 3, y + h // 2)
        app.move(x + 2 * w // 3 + 2, y + h // 2)
        said = app.wait(lambda m: "train loss (smoothed 0.9) at step" in m["compare"][0][
            "status"] and m["compare"][0]["status"], 5, "the readout")
        step, values = re.match(r"train loss \(smoothed 0.9\) at step (\d+): ([^|]+)",
                                said).groups()
        step = int(step)
        assert 30 <= step < STEPS, said
        for k, part in enumerate(values.strip().split(" · ")):
            letter, loss = part.split(" ")
            assert letter == "ABCD"[k], said
            with sqlite3.connect(files[listed[k]]) as db:
                stored = [v for (v,) in db.execute(
                    "SELECT loss FROM steps WHERE step <= ? ORDER BY step", (step,))]
            # TensorBoard's smoothing (the default 0.9 here), worked out: the mean of
            # the losses up to the step, each weighted 0.9^(steps after it)
            expected = np.average(stored, weights=0.9 ** np.arange(step, -1, -1))
            assert loss == f"{expected:.4g}", (part, stored[-1])
        assert k == 3 and "| validation loss" in said, said
        # the sides show A and B; the right one's chooser opened, moved to D (the keys)
        assert [s["run"] for s in shown["sides"]] == [f"A: {listed[0]}", f"B: {listed[1]}"]
        app.click(*center(app.widget("compare_side_1")))
        app.wait(lambda m: m["popups"], 5, "the chooser's list")
        assert listed[3] == "deeper", listed  # (newest first)
        app.key("Down", "Down", "Return")
        side = app.wait(lambda m: m["compare"][0]["sides"][1]["run"] == "D: deeper" and
                        m["compare"][0]["sides"][1], 5, "the deeper run on the right")
        assert side["layers"] == [layer["name"] for layer in reports["deeper"]["layers"]]
        assert side["layers"] != shown["sides"][0]["layers"]
        app.shot("story-compare")
        # a click on run A's name in the title hides its curves; another shows them
        x, y, w, h = app.widget("compareTitle")
        app.click(x + 15, y + h // 2)
        app.wait(lambda m: [r["hidden"] for r in m["compare"][0]["runs"]] ==
                 [True, False, False, False], 5, "run A hidden")
        app.click(x + 15, y + h // 2)
        app.wait(lambda m: not any(r["hidden"] for r in m["compare"][0]["runs"]), 5,
                 "run A shown again")
        # Ctrl+E: every run's curves as CSV, through the save dialog; each loss there is
        # the one its run file holds
        exported = tmp_path / "sweep.csv"
        x, y, w, h = shown["loss_view"]
        app.click(x + w // 2, y + h // 2)  # the compare window has the keyboard
        app.key("ctrl+e")
        app.wait(lambda m: m["active_modal"], 10, "the save dialog")
        time.sleep(0.3)
        app.key("ctrl+a")
        app.type(str(exported))
        app.key("Return")
        app.wait(lambda m: exported.exists(), 10, "the CSV")
        rows = list(csv.DictReader(exported.open()))
        assert {r["run"] for r in rows} == set("ABCD")
        for k, name in enumerate(listed):
            mine = [(int(r["step"]), float(r["loss"])) for r in rows if r["run"] == "ABCD"[k]]
            assert {r["name"] for r in rows if r["run"] == "ABCD"[k]} == {name}
            with sqlite3.connect(files[name]) as db:
                stored = db.execute("SELECT step, loss FROM steps ORDER BY step").fetchall()
            assert mine == stored, name
    finally:
        app.kill()
