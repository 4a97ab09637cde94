"""The user's story with a real mouse and keyboard (xdotool on Xvfb).

Design by dragging, edit several cards at once in the inspector, undo and redo
(also from inside an inspector field), train and watch the vanishing-gradient
finding appear, steer the run with the keyboard and the lr slider, export the
report, save, resize and close the window as a window manager does, relaunch (the
window as it was left), reopen from Open Recent. Every check reads what the app
wrote (design files, the report) or what it shows (the UI map: cards, titles,
status, findings).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time

from xapp import App, center

from desklab.design import NetworkDesign, save_design

DENSE_DROPS = 8


def _start_design(path) -> None:
    design = NetworkDesign(name="story", layers=[])
    design.train.steps = 20000  # long enough to steer by hand; stopped with Shift+F5
    design.train.probe_every = 5
    save_design(design, path)


def _saved(app: App, path) -> dict:
    """Ctrl+S, then the design file as written."""
    before = path.stat().st_mtime_ns if path.exists() else None
    app.key("ctrl+s")
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if path.exists() and path.stat().st_mtime_ns != before:
            print(f"story:   saved in {time.monotonic() - end + 10:.2f} s")
            time.sleep(0.1)
            return json.loads(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"Ctrl+S did not write {path}")


def _top_cards(app: App) -> list[dict]:
    return [c for c in app.cards() if len(c["path"]) == 1]


def _drop_point(card: dict, where: str) -> tuple[int, int]:
    """A point in the upper quarter, the middle or the lower quarter of a card."""
    x, y, w, h = card["rect"]
    return x + w // 2, y + {"above": h // 6, "into": h // 2, "below": h - h // 6}[where]


def _drag_tile(app: App, tile: str, card_path, where: str) -> list:
    """Drag a palette tile onto a card; returns the path the marker promised."""
    target = _drop_point(app.card(card_path), where)
    seen = app.drag(center(app.tile(tile)), target,
                    hover_check=lambda m: m["drop_marker"])["seen"]
    assert seen["how"] == where or where != "into", seen
    return seen["path"]


def _selected(app: App) -> list[list]:
    return [c["path"] for c in app.cards() if c["selected"]]


def _step_of(text: str) -> int:
    match = re.search(r"step (\d+)/", text)
    return int(match.group(1)) if match else -1


def test_story(xserver, tmp_path):
    t0 = time.monotonic()
    home = tmp_path
    design_path = home / "story.json"
    _start_design(design_path)
    app = App(xserver, home, str(design_path))
    lap = _laps(t0)
    try:
        lap("launch")
        _design_by_dragging(app)
        lap("drag 8 dense, a block, a card in and out")
        _edit_all_cards(app, design_path)
        app.shot("story-designer")
        lap("all cards to sigmoid")
        _undo_redo_in_field(app, design_path)
        lap("undo / redo")
        report = _train_and_steer(app, home)
        lap("train, steer, export")
        assert any(f["kind"] == "vanishing" for f in report["findings"]), report["findings"]
        app.click(*center(app.widget("lossSmoothing")))  # the loss curves' smoothing,
        app.key("ctrl+a")  # typed: kept for the next launch (checked after it)
        app.type("0.3")
        app.key("Return")
        app.wait(lambda m: m["spins"].get("lossSmoothing") == "smoothing 0.30", 5,
                 "the smoothing typed")
        final = _saved(app, design_path)
        app.resize_window(1400, 900)  # as a person leaves it: the next launch opens so
        app.wait(lambda m: m["window"][2:] == [1400, 900], 5, "the window resized")
        app.close_window()
        assert app.wait_exit() == 0, app.log_text()[-2000:]
    finally:
        app.kill()

    lap("save and close")
    app = App(xserver, home)  # a fresh process with the same settings
    try:
        lap("relaunch")
        assert app.map()["spins"]["lossSmoothing"] == "smoothing 0.30"  # as last set
        assert app.map()["window"][2:] == [1400, 900]  # as it was left (was 1600 x 1000)
        app.click(*center(app.widget("train_status")))  # focus the window, as a person would
        app.menu("alt+f", "r", "Return")  # File > Open Recent > the newest file
        app.wait(lambda m: m["title"].startswith("story.json"), 10, "the reopened file")
        shutil.move(design_path, home / "first-save.json")
        reopened = _saved(app, design_path)
        assert reopened == final
        app.close_window()
        assert app.wait_exit() == 0
        lap("reopen from Open Recent, save, close")
    finally:
        app.kill()
    assert time.monotonic() - t0 < 60, "the story took longer than a minute"


def _laps(t0: float):
    last = [t0]

    def lap(what: str) -> None:
        now = time.monotonic()
        print(f"story: {what}: {now - last[0]:.1f} s (total {now - t0:.1f} s)")
        last[0] = now
    return lap


def _design_by_dragging(app: App) -> None:
    assert [c["path"] for c in app.cards()] == [["input"], ["output"]]
    promised = []
    # the first onto the output card; then alternately just under the input card, above
    # the output card, and under the second card
    plan = [(["output"], "above"), (["input"], "below"), (["output"], "above"),
            ([1], "below")]
    for i in range(DENSE_DROPS):
        card, where = plan[i % len(plan)]
        n = len(_top_cards(app))
        promised = _drag_tile(app, "Dense", card, where)
        app.wait(lambda m, n=n: len([c for c in m["cards"] if len(c["path"]) == 1]) == n + 1, 5,
                 f"dense drop {i + 1} to land")
        # the new card is selected: it is where the marker said it would be
        assert _selected(app) == [promised], (i, promised, _selected(app))
    assert len(_top_cards(app)) == DENSE_DROPS + 2

    # a residual block at the end; a card into it and out again
    promised = _drag_tile(app, "Residual block", ["output"], "above")
    block = promised[0]
    app.wait(lambda m: _selected(app) == [[block]], 5, "the residual block")
    seen = app.drag(center(app.card([0])["rect"]), _drop_point(app.card([block]), "into"),
                    hover_check=lambda m: m["drop_marker"] if m["drop_marker"] and
                    m["drop_marker"]["how"] == "into" else None)["seen"]
    assert seen["how"] == "into"
    app.wait(lambda m: any(len(c["path"]) == 2 for c in m["cards"]), 5, "a card in the block")
    inner = next(c for c in app.cards() if len(c["path"]) == 2)
    app.drag(center(inner["rect"]), _drop_point(app.card(["input"]), "below"),
             hover_check=lambda m: m["drop_marker"] and m["drop_marker"]["path"] == [0])
    app.wait(lambda m: not any(len(c["path"]) == 2 for c in m["cards"]), 5, "the card out")
    # delete the (now empty) block with the keyboard
    block_card = next(c for c in _top_cards(app) if "Residual" in c["title"])
    app.click(*center(block_card["rect"]))
    app.key("Delete")
    app.wait(lambda m: len([c for c in m["cards"] if len(c["path"]) == 1]) ==
             DENSE_DROPS + 2, 5, "the block deleted")


def _edit_all_cards(app: App, design_path) -> None:
    """Select every dense card (click, shift+click) and pick sigmoid once."""
    app.click(*center(app.card([0])["rect"]))
    app.click(*center(app.card([DENSE_DROPS - 1])["rect"]), modifier="shift")
    app.wait(lambda m: len([c for c in m["cards"] if c["selected"]]) == DENSE_DROPS, 5,
             "all cards selected")
    combo = app.widget("field_activation")
    app.click(*center(combo))
    app.wait(lambda m: m["popups"], 5, "the activation list")
    app.type("Sigmoid")
    app.key("Return")
    saved = _saved(app, design_path)
    assert [layer["activation"] for layer in saved["layers"]] == ["sigmoid"] * DENSE_DROPS


def _undo_redo_in_field(app: App, design_path) -> None:
    """Type a width for all cards, then undo and redo with the cursor in the field."""
    units = app.widget("field_units")
    app.click(*center(units))
    app.key("ctrl+a")
    app.type("48")
    app.key("Return")
    saved = _saved(app, design_path)
    assert [layer["units"] for layer in saved["layers"]] == [48] * DENSE_DROPS
    app.click(*center(app.widget("field_units")))  # the cursor is in the field
    app.key("ctrl+z")
    saved = _saved(app, design_path)
    assert [layer["units"] for layer in saved["layers"]] == [64] * DENSE_DROPS
    assert [layer["activation"] for layer in saved["layers"]] == ["sigmoid"] * DENSE_DROPS
    app.key("ctrl+z")  # and the activation edit before it
    saved = _saved(app, design_path)
    assert {layer["activation"] for layer in saved["layers"]} == {"relu"}
    app.key("ctrl+shift+z", "ctrl+shift+z")
    saved = _saved(app, design_path)
    assert [layer["units"] for layer in saved["layers"]] == [48] * DENSE_DROPS
    assert [layer["activation"] for layer in saved["layers"]] == ["sigmoid"] * DENSE_DROPS


def _train_and_steer(app: App, home) -> dict:
    app.click(*center(app.widget("trainButton")))  # the mouse for Train; keys below
    app.wait(lambda m: m["train_status"].startswith("running") and
             _step_of(m["train_status"]) > 20, 20, "the run to stream")
    app.wait(lambda m: any("vanishing" in f for f in m["findings"]), 20,
             "the vanishing-gradient finding")
    app.shot("story-training")
    # the lr slider, with the mouse: from its handle (1e-3 is a third of the way) to 2/3
    x, y, w, h = app.widget("lr_slider")
    app.drag((x + w // 3, y + h // 2), (x + 2 * w // 3, y + h // 2))
    app.wait(lambda m: _step_of(m["train_status"]) > 0, 5)
    time.sleep(0.5)
    app.key("F6")
    app.wait(lambda m: m["train_status"].startswith("paused"), 10, "pause (F6)")
    step = _step_of(app.map()["train_status"])
    app.key("F10")
    app.wait(lambda m: _step_of(m["train_status"]) == step + 1, 10, "one step (F10)")
    app.key("F6")
    app.wait(lambda m: m["train_status"].startswith("running"), 10, "resume (F6)")
    app.key("shift+F5")
    app.wait(lambda m: m["train_status"].startswith("stopped"), 10, "stop (Shift+F5)")
    report_path = home / "report.json"
    app.click(*center(app.widget("train_status")))  # the window has the keyboard
    app.menu("alt+f", "e", "r")  # File > Export > Run report
    app.wait(lambda m: m["active_modal"], 10, "the save dialog")
    time.sleep(0.3)
    app.key("ctrl+a")
    app.type(str(report_path))
    app.key("Return")
    end = time.monotonic() + 10
    while not report_path.exists() and time.monotonic() < end:
        time.sleep(0.1)
    report = json.loads(report_path.read_text())
    lrs = report["history"]["lr"]
    assert lrs[0] == 0.001 and max(lrs) > 0.01, "the slider changed the running lr"
    assert report["history"]["step"][:3] == [0, 1, 2], "every step from step 0"
    _point_at_layers(app, report)
    _zoom_and_back(app)
    app.click(*center(app.widget("train_status")))  # back to the window (no window manager)
    app.key("ctrl+r")
    app.wait(lambda m: m["train_status"].startswith("idle") and
             all("No findings" in f for f in m["findings"]), 10, "reset (Ctrl+R)")
    return report


def _on_screen(plot: dict, x: float, y: float) -> tuple[int, int]:
    """Where the plot's view box draws (x, y), from its ranges in the UI map."""
    left, top, width, height = plot["view"]
    (x0, x1), (y0, y1) = plot["x"], plot["y"]
    return (round(left + (x - x0) / (x1 - x0) * width),
            round(top + (y1 - y) / (y1 - y0) * height))


def _point_at_layers(app: App, report: dict) -> None:
    """The mouse on a histogram row draws that layer thick everywhere; on a curve of
    mean |dL/dh| per layer (no legend) the status bar names the curve's layer and value
    (the exported report's, at its last probe: the curve's end)."""
    m = app.map()
    logs = {layer["name"]: math.log10(layer["grad_out"]["mean_abs"])
            for layer in report["layers"] if layer["grad_out"]["mean_abs"] > 0}  # 0 has no
    # place on a log axis: a vanished gradient (it happens here) is not a curve's end
    # the curve farthest from the others at the end (a steep end and a pixel's rounding
    # must not land on a neighbour)
    name = max(logs, key=lambda n: min(abs(logs[n] - v) for k, v in logs.items() if k != n))
    row = 2 if report["layers"][2]["name"] != name else 1  # another layer first
    (ridge, _) = m["plots"]["activationPlot"]["plots"]
    app.move(*_on_screen(ridge, sum(ridge["x"]) / 2, row))
    held = report["layers"][row]["name"]
    app.wait(lambda m: m["highlighted"] == held, 5, f"the histogram row of {held} held")
    (_, curves) = m["plots"]["gradientPlot"]["plots"]
    app.move(*_on_screen(curves, report["step"], logs[name]))
    named = app.wait(lambda m: m["highlighted"] == name and "step" in m["status"] and
                     m["status"], 5, f"{name}'s |dL/dh| curve named")
    assert named.startswith(f"layer {name} · step "), named
    shown = float(named.split("mean |dL/dh| ")[1].split()[0])
    assert abs(math.log10(shown) - logs[name]) < 0.05, (named, logs)
    app.move(*center(app.widget("network")))  # off the plots: nothing stays pointed at
    app.wait(lambda m: m["highlighted"] == "" and "step" not in m["status"], 5,
             "the highlight gone with the mouse")


def _zoom_and_back(app: App) -> None:
    """The wheel zooms into the loss plot; a double-click puts back the ranges the app
    keeps it at (the step axis spans the run: without this, a zoomed live plot stayed
    zoomed for the rest of the run)."""
    def loss(m: dict) -> dict:
        return m["plots"]["lossPlot"]["plots"][0]

    def same(a: list, b: list) -> bool:
        return all(abs(u - v) <= 1e-6 * max(1.0, abs(v)) for u, v in zip(a, b))
    before = loss(app.map())
    app.move(*center(before["view"]))
    for _ in range(3):
        app.xdo("click", 4)  # the wheel, away from the user: zoom in
    zoomed = app.wait(lambda m: not same(loss(m)["x"], before["x"]) and loss(m), 5,
                      "the wheel to zoom")
    assert zoomed["x"][1] - zoomed["x"][0] < before["x"][1] - before["x"][0], zoomed
    app.xdo("click", "--repeat", 2, "--delay", 80, 1)
    app.wait(lambda m: same(loss(m)["x"], before["x"]) and same(loss(m)["y"], before["y"]),
             5, "a double-click to put the ranges back")
