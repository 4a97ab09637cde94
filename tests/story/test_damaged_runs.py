"""One bad file never costs the user the app (issue 26): with a corrupt run (its
``started`` a list) and one whose meta table is a recursive view in the runs folder,
the real app starts, lists the good run and both bad ones as unreadable, and opening
a bad one says why in a dialog instead of failing; the good one opens with its
recorded decision boundary. Real X input, read through the UI map."""

from __future__ import annotations

import time

from run_files import RUN_DAMAGE, good_run, tamper
from xapp import App, center

from desklab.design import save_design
from desklab.lessons import get_preset


def test_the_app_starts_and_lists_the_rest(xserver, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("DESKLAB_RUNS", str(runs))
    good_run(runs / "good.desklab-run", "good-run", steps=20)
    for name in ("corrupt", "recursive"):
        good_run(runs / f"{name}.desklab-run", name)
    tamper(runs / "corrupt.desklab-run", *RUN_DAMAGE["started is a list"])
    tamper(runs / "recursive.desklab-run", *RUN_DAMAGE["meta is a recursive view"])
    design = tmp_path / "d.json"
    save_design(get_preset("deep-relu"), design)
    start = time.monotonic()
    app = App(xserver, tmp_path, str(design))
    try:
        assert time.monotonic() - start < 60
        tab = app.wait(lambda m: next((t["rect"] for t in m["tabs"] if t["text"] == "Runs"),
                                      None), 5, "the Runs tab")
        app.click(*center(tab))
        items = app.wait(lambda m: m["stored_runs"] if len(m["stored_runs"]) == 3 else None,
                         30, "three runs listed")
        texts = [i["text"] for i in items]
        assert texts[0].startswith("good-run · designed · finished · 20 steps"), texts
        assert sorted(texts[1:]) == ["corrupt · unreadable", "recursive · unreadable"], texts
        bad = next(i for i in items if i["text"].startswith("recursive"))
        app.move(*center(bad["rect"]))
        app.xdo("click", "--repeat", 2, "--delay", 80, 1)  # double-click: follow it
        app.wait(lambda m: m["active_modal"] == "Cannot open the run", 10, "the error")
        app.key("Escape")
        app.wait(lambda m: not m["active_modal"], 5, "the dialog closed")
        good = next(i for i in items if i["text"].startswith("good-run"))
        app.move(*center(good["rect"]))
        app.xdo("click", "--repeat", 2, "--delay", 80, 1)
        status = app.wait(lambda m: m["train_status"] if "step 20/" in m["train_status"]
                          else None, 10, "the good run shown")
        assert status.startswith("finished"), status
        # its 2-D points and last decision grid were recorded (over x, y in -1..2), so
        # the opened run shows its boundary, not the findings in that cell
        shown = app.wait(lambda m: m["plots"].get("boundaryPlot"), 5, "the boundary")
        assert not shown["hint"] and shown["fits"], shown
        (boundary,) = shown["plots"]
        assert boundary["title"] == "Decision boundary", boundary
        assert boundary["x"][0] <= -1 and boundary["x"][1] >= 2, boundary
        assert boundary["y"][0] <= -1 and boundary["y"][1] >= 2, boundary
    finally:
        app.kill()
