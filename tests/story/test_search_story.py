"""A search with a real mouse and keyboard (xdotool on Xvfb): Train ▸ Search from its
shortcut, three trials in one process, the best trial starred and bold; a click on
another trial's point on the scatter chooses its row, and a double-click on that row
shows the trial's run in the main window, with the settings that trial was trained
with (checked against the run file the study wrote). Compare best then overlays the
finished trials' runs, the best one first. Read through the UI map."""

from __future__ import annotations

from xapp import App, center

from desklab.design import save_design
from desklab.lessons import get_preset
from desklab.runs import RunReader


def test_a_search_chosen_on_the_scatter_opens_its_run(xserver, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("DESKLAB_RUNS", str(runs))
    design = get_preset("overfit-small")
    design.train.steps, design.train.eval_every = 100, 50
    path = tmp_path / "small.json"
    save_design(design, path)
    app = App(xserver, tmp_path, str(path))
    try:
        app.click(*center(app.card([0])["rect"]))  # the window takes the keyboard
        app.key("ctrl+shift+h")
        for name, value in (("searchTrials", "3"), ("searchJobs", "1")):
            app.click(*center(app.widget(name)))
            app.key("ctrl+a")
            app.type(value)
        app.click(*center(app.widget("searchStart")))
        search = app.wait(lambda m: m["search"] if m["search"] and m["search"]["summary"]
                          .startswith("Best:") else None, 90, "the search's verdict")
        assert len(search["rows"]) == 3 and len(search["trials"]) >= 2, search
        (best,) = [r["number"] for r in search["rows"] if r["bold"]]
        assert f"Best: trial {best}," in search["summary"], search["summary"]
        other = next(t for t in search["trials"] if t["number"] != best)
        app.click(*other["at"])
        chosen = app.wait(lambda m: [r["number"] for r in m["search"]["rows"]
                                     if r["chosen"]], 5, "the clicked trial's row")
        assert chosen == [other["number"]], chosen
        row = next(r for r in app.map()["search"]["rows"] if r["number"] == other["number"])
        app.move(*center(row["rect"]))
        app.xdo("click", "--repeat", 2, "--delay", 80, 1)  # double-click: open its run
        shown = app.wait(lambda m: m["labels"].get("follow_settings"), 10, "the trial's run")
        assert f"overfit-small-trial-{other['number']}" in shown, shown
        (run,) = runs.glob(f"*-overfit-small-trial-{other['number']}.desklab-run")
        reader = RunReader(run)
        lr = reader.meta["design"]["train"]["lr"]  # what the study trained it with
        reader.close()
        assert f"lr {lr:g}" in shown or f"lr {lr:.3g}" in shown, (shown, lr)
        # Compare best (the search window brought back, and active, by its shortcut): the
        # finished trials' runs overlaid, the bold one first
        app.key("ctrl+shift+h")
        app.wait(lambda m: m["focus"].startswith("search"), 5, "the search window active")
        app.click(*center(app.widget("searchCompare")))
        (compared,) = app.wait(lambda m: m["compare"], 10, "the compare window")
        names = [r["name"] for r in compared["runs"]]
        assert len(names) >= 2 and names[0].startswith(f"trial {best} · lr "), names
        assert all(r["loss_points"] == design.train.steps for r in compared["runs"]), compared
        app.shot("story-search-compare")
    finally:
        app.kill()

