"""pytest-qt tests of live training: the worker thread, every plot, commands, closing."""

import json
import re

import numpy as np
import pytest

from desklab.gui.controllers.worker import live_threads
from PySide6.QtCore import QPointF
from qt_input import mouse_move


def start_short_run(window, qtbot, steps=400, probe_every=5, eval_every=20):
    design = window.doc.design.copy()
    design.train.steps, design.train.probe_every = steps, probe_every
    design.train.eval_every = eval_every
    window.training.start(design)
    return window.training.controller


def has_data(item) -> bool:
    x, y = item.getData()
    return x is not None and len(x) > 0 and np.isfinite(y).any()


def test_run_streams_into_every_plot_then_pause_step_resume_stop(window, qtbot):
    view = window.training
    c = start_short_run(window, qtbot, steps=100000)
    qtbot.waitUntil(lambda: c.history is not None and len(c.history.metrics) >= 2
                    and c.boundary is not None, timeout=20000)
    view.redraw(everything=True)
    assert c.snapshots_received >= 3 and c.state == "running"
    ridges = view.activations.ridges
    assert len(ridges) == len(c.history.layout)
    assert all(len(ridges.layer_data(i)[0]) > 0 for i in range(len(ridges)))
    assert view.activations.heat.image is not None
    assert has_data(view.gradients.grad_out) and has_data(view.gradients.grad_w)
    layers = range(len(c.history.layout))
    assert all(len(view.gradients.lines.layer_data(i)[0]) > 0 for i in layers)
    assert has_data(view.loss.train_loss) and has_data(view.loss.val_loss)
    assert has_data(view.loss.train_acc) and has_data(view.loss.val_acc)
    assert all(len(family.layer_data(i)[0]) > 0 for family in (view.health.dead,
               view.health.ratios) for i in layers)
    assert view.boundary.image.image is not None and len(view.boundary.points.data) > 0
    # pause
    view.act_pause.trigger()
    qtbot.waitUntil(lambda: c.state == "paused", timeout=5000)
    qtbot.wait(300)  # anything still in the pipe arrives
    held = c.step
    qtbot.wait(200)
    assert c.step == held and view.act_step.isEnabled()
    # single step: exactly one more, probed
    before = c.snapshots_received
    view.act_step.trigger()
    qtbot.waitUntil(lambda: c.snapshots_received == before + 1, timeout=5000)
    assert c.step == held + 1 and c.history.latest.step == held
    # live learning rate from the slider: acknowledged by the trainer process
    with qtbot.waitSignal(c.acknowledged, timeout=5000) as ack:
        view.panel.lr.setValue(view.panel.lr.maximum())
    assert ack.args == ["lr", 10.0]
    with qtbot.waitSignal(c.acknowledged, timeout=5000) as ack:
        view.panel.lr.setValue(300)
    # resume, then stop: the stop returns at once, the run ends after its step
    view.act_pause.trigger()
    qtbot.waitUntil(lambda: c.state == "running" and c.step > held + 5, timeout=5000)
    lrs = c.history.step_series("lr")[1]  # the lr each step trained with
    assert np.isclose(lrs[held + 1], ack.args[1]) and not np.isclose(lrs, 10.0).any()
    with qtbot.waitSignal(c.run_ended, timeout=3000):  # the weights saved, the file closed
        view.act_stop.trigger()
    assert c.state == "stopped"
    assert [t.objectName() for t in live_threads()] == ["desklab-preview"]


@pytest.mark.alone  # "within a second" in wall-clock time
def test_closing_mid_run_joins_every_thread(window, qtbot):
    import time
    c = start_short_run(window, qtbot, steps=100000)
    qtbot.waitUntil(lambda: c.snapshots_received >= 2, timeout=20000)
    start = time.perf_counter()
    assert window.close()
    assert time.perf_counter() - start < 1.0  # stopped and joined within a second
    assert live_threads() == []


@pytest.mark.alone
def test_opening_another_design_mid_run_stops_it(window, qtbot):
    c = start_short_run(window, qtbot, steps=100000)
    qtbot.waitUntil(lambda: c.snapshots_received >= 1, timeout=20000)
    import time
    start = time.perf_counter()
    window.open_preset("cnn-digits")
    assert time.perf_counter() - start < 1.0
    assert c.thread is None and c.state == "idle"
    assert [t.objectName() for t in live_threads()] == ["desklab-preview"]
    assert len(window.training.activations.ridges) == 0  # plots cleared


def test_editing_the_network_while_training_asks_to_stop(window, qtbot):
    from PySide6.QtWidgets import QMessageBox
    c = start_short_run(window, qtbot, steps=100000)
    qtbot.waitUntil(lambda: c.snapshots_received >= 1, timeout=20000)
    window.training.ask_stop_to_edit = lambda: QMessageBox.No
    n = len(window.doc.design.layers)
    window.doc.select([(0,)])
    window.act_delete.trigger()
    assert len(window.doc.design.layers) == n and c.running  # refused: keeps training
    window.training.ask_stop_to_edit = lambda: QMessageBox.Yes
    window.act_delete.trigger()
    assert len(window.doc.design.layers) == n - 1 and not c.running


def test_lr_too_high_ends_with_its_finding_and_the_window_alive(window, qtbot):
    window.open_preset("lr-too-high")
    view = window.training
    view.train()
    c = view.controller
    qtbot.waitUntil(lambda: c.state == "diverged", timeout=20000)
    view.redraw(everything=True)
    texts = [view.findings.item(i).text() for i in range(view.findings.count())]
    assert any("diverged" in t and "step 21" in t for t in texts)
    assert window.isVisible() and view.act_train.isEnabled()
    history = c.history
    assert all(np.isfinite(history.metric("loss")))
    # every step axis spans the run's steps, also a plot of a few probes (they were
    # 0..1, ticked 0.2, 0.4..., when a run ended after one probe: exploding, below)
    steps = history.steps.steps
    for panel in view.shown_panels():
        for plot in panel.shown()["plots"]:
            if plot["title"].endswith(("over time", "per layer", "Unit shares",
                                       "Update / weight ratio", "Loss", "Accuracy")):
                assert plot["x"][0] <= steps[0] and plot["x"][1] >= steps[-1], plot
    view.act_reset.trigger()
    assert view.findings.count() == 1  # the "no findings" hint
    window.open_preset("exploding")  # diverges before its second probe
    view.train()
    qtbot.waitUntil(lambda: c.state == "diverged", timeout=20000)
    view.redraw(everything=True)
    assert len(c.history.snapshots) == 1 and c.step > 5
    titles = []
    for panel in view.shown_panels():
        for plot in panel.shown()["plots"]:
            if plot["title"].startswith(("activation std over time", "mean |dL/dh| per",
                                         "Unit shares", "Update / weight ratio")):
                titles.append(plot["title"])
                assert plot["x"][1] >= c.step - 1, plot
                assert all(float(t) == int(float(t)) for t in plot["x_labels"]), plot
    assert len(titles) == 4, titles
    # its one probe is drawn: a point per layer (one point made no line, so nothing)
    import pyqtgraph as pg
    layers = len(c.history.layout)
    dots = [len(item.points()) for item in view.gradients.time.items
            if isinstance(item, pg.ScatterPlotItem)]
    assert dots == [layers], (dots, layers)


def test_finding_click_selects_layer_and_badges_the_card(window, qtbot):
    window.open_preset("deep-sigmoid")
    c = start_short_run(window, qtbot, steps=30, probe_every=10, eval_every=10)
    qtbot.waitUntil(lambda: c.state == "finished", timeout=20000)
    view = window.training
    item = next(view.findings.item(i) for i in range(view.findings.count())
                if "vanishing" in view.findings.item(i).text())
    view.findings.itemClicked.emit(item)
    assert window.doc.selection == [(0,)]
    assert window.network.tree.badges.get("fc1") == "vanishing"


def test_hover_highlights_a_layer_everywhere(window, qtbot):
    c = start_short_run(window, qtbot, steps=20, probe_every=5)
    qtbot.waitUntil(lambda: c.state == "finished", timeout=20000)
    view = window.training
    view.redraw(everything=True)
    view.gradients.hovered.emit(3)
    assert all(p.highlighted == 3 for p in view.panels)
    view.redraw(everything=True)
    top = view.gradients.lines._top  # the hovered layer, drawn thick on top
    assert top.isVisible() and top.opts["pen"].width() == 3
    assert np.array_equal(top.getData()[1], view.gradients.lines.layer_data(3)[1])


def test_pointing_at_a_row_or_a_curve_names_its_layer(window, qtbot):
    """The mouse on a histogram row holds that layer's highlight (the heatmap below it
    answered "none" right after, so it never did); on a per-layer curve it names the
    curve's layer, step and value, which those plots have no legend for; off every
    curve, nothing. The curves are thinned for drawing and still end at the last probe."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtWidgets import QApplication

    from desklab.lessons import get_preset
    design = get_preset("deep-sigmoid")  # its layers' |dL/dh| lie decades apart
    design.train.steps, design.train.probe_every = 400, 1  # more probes than drawn
    window.resize(1400, 900)  # the size of a desktop: rows and curves pixels apart
    view = window.training
    view.start(design)
    qtbot.waitUntil(lambda: view.controller.state == "finished", timeout=30000)
    view.redraw(everything=True)
    messages = []
    view.status_message.connect(messages.append)
    acts = view.activations
    middle = sum(acts.ridge.vb.viewRange()[0]) / 2
    for row in (3, 7):
        mouse_move(acts, acts.ridge.vb.mapViewToScene(QPointF(middle, row)))
        assert [p.highlighted for p in view.panels] == [row] * len(view.panels)
    snap = view.controller.history.latest  # the bin under the mouse, found by numpy:
    edges, counts = snap.layout.layers[7].hist_edges, snap.hist[7]  # (bins + 1,), (bins + 2,)
    k = np.digitize(middle, edges) - 1
    assert counts[1 + k] / counts.sum() >= 0.005  # (below: "<1%")
    assert messages[-1] == (f"layer fc8 · step {snap.step} · {counts[1 + k] / counts.sum():.0%}"
                            f" of its values in [{edges[k]:.3g}, {edges[k + 1]:.3g})")
    mouse_move(acts, acts.heat_plot.vb.mapViewToScene(QPointF(0.5, 2)))  # the first column
    _, stds = view.controller.history.stat_series("act_std")  # (L, T)
    assert messages[-1] == f"layer fc3 · step 0 · activation std {stds[2, 0]:.2g}"
    grads = view.gradients
    mouse_move(grads, grads.depth.vb.mapViewToScene(QPointF(2, 0)))  # at fc3's depth
    assert messages[-1] == (f"layer fc3 · step {snap.step} · mean |dL/dh| "
                            f"{snap.stat('grad_mean_abs')[2]:.2g} · "
                            f"‖dW‖ {snap.stat('weight_grad_norm')[2]:.2g}")

    steps, values = view.controller.history.stat_series("grad_mean_abs")  # (T,), (L, T)
    step, value = steps[-1], values[1, -1]  # fc2 at the last probe
    assert all(family.layer_data(1)[0][-1] == step for family in  # each curve ends "now"
               (grads.lines, view.health.dead, view.health.ratios))
    mouse_move(grads, grads.time.vb.mapViewToScene(QPointF(step, np.log10(value))))
    assert grads.highlighted == 1 and acts.highlighted == 1
    assert messages[-1] == f"layer fc2 · step {step} · mean |dL/dh| {value:.2g}"
    above = np.log10(values[:, -1].max()) + 20 * grads.time.vb.viewPixelSize()[1]
    mouse_move(grads, grads.time.vb.mapViewToScene(QPointF(step, above)))
    assert grads.highlighted == -1 and messages[-1] == ""  # the status line is cleared

    mouse_move(grads, grads.time.vb.mapViewToScene(QPointF(step, np.log10(value))))
    assert grads.highlighted == 1 and messages[-1].startswith("layer fc2 · ")
    QApplication.sendEvent(grads, QEvent(QEvent.Leave))  # the mouse leaves the panel
    assert all(p.highlighted == -1 for p in view.panels) and messages[-1] == ""

    losses = view.loss  # the loss and accuracy read at the mouse's step
    history = view.controller.history
    loss_steps, loss = history.step_series("loss")  # every step: fewer than are drawn
    evaluated = history.metrics.steps
    e = len(evaluated) // 2
    x = evaluated[e] + 0.3  # by an evaluation: no doubt which is nearest
    mouse_move(losses, losses.loss.vb.mapViewToScene(QPointF(x, 0)))
    told = re.fullmatch(r"train loss (\S+) at step (\d+) · smoothed loss (\S+) at step "
                        r"(\d+) · validation loss (\S+) at step (\d+)", messages[-1])
    assert told, messages[-1]
    at = int(told[2])
    assert abs(at - x) <= losses.loss.vb.viewPixelSize()[0]  # the mouse's pixel
    i = list(loss_steps).index(at)
    assert told[1] == f"{loss[i]:.4g}" and int(told[4]) == at
    # smoothed by default (0.6): the mean of every loss so far, weighted 0.6^(steps since)
    assert list(loss_steps[:i + 1]) == list(range(i + 1)) and np.isfinite(loss[:i + 1]).all()
    assert told[3] == f"{np.average(loss[:i + 1], weights=0.6 ** np.arange(i, -1, -1)):.4g}"
    assert (int(told[6]), told[5]) == (evaluated[e], f"{history.metric('val_loss')[e]:.4g}")

    boundary = view.boundary  # a grid whose class follows the second input (the rows)
    rows = cols = 80
    grid = {"extent": (-2.0, 2.0, -1.0, 3.0), "label": np.arange(rows)[:, None] % 3 *
            np.ones((1, cols), int), "prob": np.linspace(0.4, 1.0, cols)[None, :] *
            np.ones((rows, 1))}
    boundary.update_grid(grid)
    for i, j in ((60, 20), (20, 60)):  # cell centres: a transposed readout swaps them
        mouse_move(boundary, boundary.plot.vb.mapViewToScene(QPointF(
            -2.0 + (j + 0.5) / cols * 4.0, -1.0 + (i + 0.5) / rows * 4.0)))
        assert messages[-1].endswith(f"class {i % 3} with p {grid['prob'][i, j]:.2f}"), \
            messages[-1]
    xs = np.linspace(-1.0, 1.0, 200)
    boundary.update_grid({"curve": (xs, xs ** 2)})  # a 1-D fit: the curve at the input
    mouse_move(boundary, boundary.plot.vb.mapViewToScene(QPointF(0.5, 0.25)))
    told = re.fullmatch(r"input (\S+): the network gives (\S+)", messages[-1])
    assert told and abs(float(told[2]) - float(told[1]) ** 2) < 0.01, messages[-1]

    health = view.health
    _, dead = view.controller.history.stat_series("frac_dead")
    _, saturated = view.controller.history.stat_series("frac_saturated")
    assert dead[:, -1].max() == saturated[:-1, -1].max() == 0  # no sigmoid unit is either
    mouse_move(health, health.frac.vb.mapViewToScene(QPointF(step, 0)))
    shown = len(view.controller.history.layout) + len(health.sat_index)  # every curve at 0
    told = re.fullmatch(r"layer fc1 · step (\d+) · dead 0% \(and (\d+) more curves here\)",
                        messages[-1])
    assert told and int(told[2]) == shown - 1, messages[-1]
    pixel = health.frac.vb.viewPixelSize()[0]  # steps 398 and 399 share a pixel
    assert abs(int(told[1]) - step) <= pixel, (messages[-1], pixel)


def test_run_actions_use_svg_icons_not_glyphs(window):
    """Pause turns into Resume with its own icon; no action text carries a Unicode glyph
    (common fonts draw them as empty boxes)."""
    view = window.training
    glyphs = set("▶⏸⏭■↺⚠⚑ℹ⛔")
    for state, text in (("paused", "Resume"), ("running", "Pause"), ("idle", "Pause")):
        view.controller._set_state(state)
        assert view.act_pause.text() == text
        assert view.act_pause.icon().cacheKey() != 0 and not view.act_pause.icon().isNull()
        for action in view.actions():
            assert not glyphs & set(action.text()), action.text()


def test_every_menu_and_toolbar_action_has_an_svg_icon(window):
    """Every command a user can reach in the menus (submenus included) and the toolbar
    shows an icon that renders. Not counted: the menu titles of the bar, the View
    menu's show/hide toggles (their check mark is the indicator) and Open Recent's
    entries (the user's files)."""
    from PySide6.QtGui import QColor

    def walk(actions):
        for action in actions:
            if action.menu() is not None:
                yield action
                yield from walk(action.menu().actions())
            elif not action.isSeparator():
                yield action

    window.recent_menu.aboutToShow.emit()
    skip = set(window.recent_menu.actions())
    titles = window.menuBar().actions()
    commands = [a for title in titles for a in walk(title.menu().actions())]
    commands += window.toolbar.actions()
    checked = 0
    for action in commands:
        if action in skip or action.isSeparator() or action.isCheckable():
            continue
        assert not action.icon().isNull(), action.text()
        image = action.icon().pixmap(24, 24).toImage()
        painted = sum(QColor(image.pixel(x, y)).alpha() > 0
                      for x in range(0, 24, 2) for y in range(0, 24, 2))
        assert painted > 10, f"{action.text()!r}: the icon draws nothing"
        checked += 1
    assert checked >= 30


def test_training_fields_mark_their_problems_inline(window):
    """Issue 25 item 11: batch size 0 and val fraction 1.5 are marked on their fields
    (each with its own reason), and the marks go when the values are fixed."""
    from desklab.design.edit import set_field
    panel = window.training.panel
    width = window.minimumSizeHint().width()
    window.doc.edit("bad", lambda d: (set_field(d, (), "train.batch_size", 0),
                                      set_field(d, (), "input.val_fraction", 1.5)))
    batch, split = panel.labels["train.batch_size"], panel.labels["input.val_fraction"]
    assert "1 and 65536" in batch.text() and "#c02020" in batch.text()
    assert "0.9" in split.text() and "#c02020" in split.text()
    assert "border" in panel.editors["train.batch_size"].styleSheet()
    assert "border" in panel.data_editors["input.val_fraction"].styleSheet()
    assert panel.labels["train.steps"].text() == "steps"  # only the wrong ones
    assert window.minimumSizeHint().width() <= width + 2  # the reason wraps in its column
    window.doc.undo_stack.undo()
    assert batch.text() == "batch size" and split.text() == "val fraction"
    assert panel.editors["train.batch_size"].styleSheet() == ""


def test_an_edit_during_a_run_gets_its_preview(window, qtbot):
    """A structural edit mid-run (the run stops for it) and a live lr change (the run
    goes on) each get their at-init preview at once, not when the run ends."""
    c = start_short_run(window, qtbot, steps=100000)
    qtbot.waitUntil(lambda: c.snapshots_received >= 2, timeout=20000)
    with qtbot.waitSignal(window.preview.updated, timeout=10000):
        window.training.panel.lr.setValue(window.training.panel.lr.value() + 10)
    assert c.state == "running"
    before = len(window.preview.std_curve.getData()[0])
    with qtbot.waitSignal(window.preview.updated, timeout=10000) as shown:
        window.doc.edit("remove a layer", lambda d: d.layers.pop())
    assert c.state == "stopped" and shown.args[0] < 5
    # one point a probed layer: the removed layer is gone from the shown preview
    assert len(window.preview.std_curve.getData()[0]) == before - 1


def test_a_regression_shows_its_loss_alone_and_a_classification_both(window, qtbot):
    """No empty accuracy plot: a regression (sine) trains with the loss over the whole
    panel, step-labelled; the next run, a classification, brings the accuracy back."""
    from desklab.design import InputSpec, OutputSpec
    view = window.training

    def run(design):
        design.train.steps, design.train.probe_every, design.train.eval_every = 60, 5, 20
        view.start(design)
        c = view.controller
        with qtbot.waitSignal(c.run_ended, timeout=30000):
            pass
        view.redraw(everything=True)
        qtbot.wait(100)  # painted: the axes list the labels they drew
        return [p["title"].split()[0] for p in view.loss.shown()["plots"]]

    classes = window.doc.design.copy()
    sine = classes.copy()
    sine.input, sine.output = InputSpec("sine"), OutputSpec("regression")
    assert run(sine) == ["Loss"]
    (loss,) = view.loss.shown()["plots"]
    assert loss["x_labels"] and loss["y_labels"], loss  # the step axis moved to the loss
    assert has_data(view.loss.train_loss) and not has_data(view.loss.train_acc)
    assert run(classes) == ["Loss", "Accuracy"]
    assert has_data(view.loss.train_acc) and has_data(view.loss.val_acc)


def test_a_classification_of_images_shows_its_confusion_matrix(window, qtbot, tmp_path):
    """8x8 digits are not 2-D points: the boundary's cell held a hint only. It shows
    the validation confusion matrix now, each row one class's examples; 2-D points keep
    the decision boundary; a regression of one input draws the network's curve through
    the data; reopened from its run file, a classification shows its last matrix
    again, the regression its points and curve; a regression of three inputs gives the
    cell to the findings."""
    from desklab.engine import make_dataset
    from desklab.lessons import get_preset
    view = window.training

    def run(design):
        design.train.steps, design.train.probe_every, design.train.eval_every = 40, 5, 20
        view.start(design)
        with qtbot.waitSignal(view.controller.run_ended, timeout=30000):
            pass
        view.redraw(everything=True)
        return view.boundary_cell.currentWidget()

    points = window.doc.design.copy()  # deep-relu on 2-D points (the reopened run replaces it)
    digits = get_preset("cnn-digits")
    assert run(digits) is view.confusion
    assert view.confusion in view.shown_panels() and view.boundary not in view.shown_panels()
    confusion = view.controller.history.confusion
    step, counts = confusion.step, confusion.counts
    truth = make_dataset(digits).y_val.numpy()  # the validation split, read on its own
    assert step == 40 and (counts.sum(1) == np.bincount(truth, minlength=10)).all()
    shares = view.confusion.image.image  # (true, predicted): each row sums to 1
    np.testing.assert_allclose(shares.sum(1), 1.0, rtol=1e-6)
    accuracy = view.controller.history.metric("val_acc")[-1]  # the engine's own count
    assert np.trace(counts) / counts.sum() == pytest.approx(accuracy)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: view.confusion.plot.vb.width() > 50)  # 10 cells: 5 px each
    told = []
    view.status_message.connect(told.append)
    mouse_move(view.confusion, view.confusion.plot.vb.mapViewToScene(QPointF(8, 3)))
    examples = np.bincount(truth, minlength=10)[3]  # true 3s in the validation split
    assert told[-1] == (f"true 3, predicted 8: {counts[3, 8]} of its {examples} validation "
                        f"examples ({counts[3, 8] / examples:.0%})"), told
    title = view.confusion.shown()["plots"][0]["title"]
    assert f"{accuracy:.1%} on the diagonal" in title
    from desklab.gui.controllers.runs import stored_record
    assert window.exporter.report(tmp_path / "own.json"), window.errors  # as trained here
    stored_path = view.controller.run_path
    window.reopen_run(stored_record(stored_path))  # from the run file
    assert window.exporter.report(tmp_path / "reopened.json"), window.errors  # (it said
    own, reopened = (json.loads((tmp_path / f).read_text())  # "Train first")
                     for f in ("own.json", "reopened.json"))
    for key in ("history", "evaluations", "confusion", "layers", "findings", "state",
                "steps", "total_params", "device"):
        assert reopened[key] == own[key], key
    view.redraw(everything=True)
    assert view.boundary_cell.currentWidget() is view.confusion
    assert view.confusion.isVisibleTo(window) and view.confusion.shown()["plots"][0][
        "title"] == title  # (step 40, the same share)
    np.testing.assert_array_equal(view.confusion.image.image, shares)
    status = view.panel.status.text()  # its own length and device (it said "step 0/0")
    assert status.startswith("finished · step 40/40 · ") and status.endswith(" · cpu"), status
    from desklab.runs import RunReader
    reader = RunReader(stored_path)
    recorded = reader.meta["steps_per_second"]  # its loop's speed (it said "0 steps/s")
    reader.close()
    assert f" · {recorded:.0f} steps/s · " in status, (status, recorded)
    window.reopen_run(window.runs.records[-1])  # this session's Runs list ▸ Open: the same
    view.redraw(everything=True)
    assert view.panel.status.text() == status
    assert run(points) is view.boundary and view.boundary_cell.isVisible()  # (its counts
    # are recorded too: the run reopened, with no points, shows them)
    from desklab.design import InputSpec, OutputSpec
    sine = points.copy()  # one input, one target: the network's curve
    sine.input, sine.output = InputSpec("sine"), OutputSpec("regression")
    assert run(sine) is view.boundary and view.boundary_cell.isVisible()
    x, y = view.controller.data_points  # the training points, (N, 1) and (N, 1)
    xs, ys = view.boundary.curve.getData()  # the final model along the input
    assert xs.min() < x.min() and xs.max() > x.max() and len(view.boundary.points.data)
    on_curve = np.interp(x[:, 0], xs, ys)  # its error on the training points, by numpy
    mse, val_loss = np.mean((on_curve - y[:, 0]) ** 2), view.controller.history.metric(
        "val_loss")[-1]  # the engine's, on the held-out points: the same distribution
    assert 0.5 < mse / val_loss < 2.0, (mse, val_loss)
    live = view.boundary.curve.getData()[1], len(view.boundary.points.data)
    window.reopen_run(stored_record(view.controller.run_path))  # points and curve recorded
    view.redraw(everything=True)
    assert view.boundary_cell.currentWidget() is view.boundary
    np.testing.assert_array_equal(view.boundary.curve.getData()[1], live[0])
    assert len(view.boundary.points.data) == live[1]
    plane = sine.copy()  # a regression of two inputs: the output over the plane
    path = tmp_path / "plane.csv"
    rng = np.random.default_rng(0)
    xy = rng.uniform(-1, 1, (300, 2))
    target = xy[:, 0] + 2 * xy[:, 1]  # not symmetric: a transposed surface would show
    path.write_text("a,b,y\n" + "\n".join(f"{a:.4f},{b:.4f},{t:.4f}"
                                          for (a, b), t in zip(xy, target)))
    plane.input = InputSpec("file", {"path": str(path)})
    plane.train.lr = 0.01
    assert run(plane) is view.boundary  # (it raised: class colours for float targets)
    assert view.boundary.surface_bar.isVisible() and view.boundary.image.image is None
    lo, hi = view.boundary.surface_bar.levels()
    x, y = view.controller.data_points  # the training split, inputs standardised
    assert (np.abs(y - target[None, :]).min(1) < 1e-3).all()  # the file's targets, as is
    assert (lo, hi) == pytest.approx((y.min(), y.max()))
    surface = view.boundary.surface.image  # (G, G), rows along the second input
    (x0, y0), (w, h) = view.boundary.surface.mapRectToParent(
        view.boundary.surface.boundingRect()).topLeft().toTuple(), \
        view.boundary.surface.mapRectToParent(view.boundary.surface.boundingRect()).size(
            ).toTuple()
    g = len(surface)
    cols = np.clip(((x[:, 0] - x0) / w * g).astype(int), 0, g - 1)
    rows = np.clip(((x[:, 1] - y0) / h * g).astype(int), 0, g - 1)
    assert np.corrcoef(surface[rows, cols], y[:, 0])[0, 1] > 0.9  # where each point lies
    wide = sine.copy()  # a regression of three inputs: nothing to draw over them
    path = tmp_path / "wide.csv"
    path.write_text("a,b,c,y\n" + "\n".join(f"{i % 7},{i % 5},{i % 3},{i * 0.01:.2f}"
                                              for i in range(60)))
    wide.input = InputSpec("file", {"path": str(path)})
    run(wide)
    view.redraw(everything=True)
    qtbot.wait(50)  # laid out again
    assert not view.boundary_cell.isVisible()  # no hint in its place: the findings take it
    assert not {view.boundary, view.confusion, view.through_time} & set(view.shown_panels())
    assert view.findings.width() > 1.8 * view.loss.width()
    iris = sine.copy()  # 4 measurements, 3 named species: the rows say which
    iris.input, iris.output = InputSpec("iris"), OutputSpec("classes")
    iris.train.batch_size = 32  # of its 120 training examples
    assert run(iris) is view.confusion
    assert view.controller.history.confusion.counts.shape == (3, 3)
    qtbot.waitUntil(lambda: view.confusion.grab() is not None and
                    view.confusion.shown()["plots"][0]["y_labels"] == [
                        "0 setosa", "1 versicolor", "2 virginica"], timeout=3000)
    many = iris.copy()  # 120 classes: no matrix is counted, so no panel waits for one
    many.input = InputSpec("gaussian", {"classes": 120, "dim": 10, "samples": 2000})
    run(many)
    assert view.controller.history.confusion is None and not view.boundary_cell.isVisible()
    run(iris)
    qtbot.wait(50)
    assert view.boundary_cell.isVisible() and view.findings.width() < 1.2 * view.loss.width()


def test_the_findings_list_puts_the_gravest_active_finding_on_top(qtbot):
    """Active errors, then warnings, then notes (the cuda_graphs note at step 0 came
    first and pushed the vanishing warning out of a 1280 x 720 window's list), then
    resolved ones; in the order found within each."""
    from desklab.gui.views.findings import FindingsList
    from desklab.metrics import Finding
    findings = [Finding("cuda_graphs", None, 0, "a note", "-", "info"),
                Finding("saturated", "fc2", 0, "resolved", "-", "warning", end=50),
                Finding("vanishing", "fc1", 0, "gone", "-", "warning"),
                Finding("dead_relu", "fc3", 40, "dead", "-", "warning"),
                Finding("diverged", None, 90, "NaN", "-", "error")]
    shown = FindingsList()
    qtbot.addWidget(shown)
    shown.set_findings(findings)
    assert [text.split(" (")[0] for text in shown.texts()] == [
        "diverged", "vanishing · fc1", "dead relu · fc3", "cuda graphs", "saturated · fc2"]
    # from the keyboard: Enter on a finding selects its layer, as a click does
    from PySide6.QtCore import Qt
    shown.setCurrentRow(1)
    with qtbot.waitSignal(shown.layer_clicked, timeout=2000) as chosen:
        qtbot.keyClick(shown, Qt.Key_Return)
    assert chosen.args == ["fc1"]
    # a watched nn.Sequential's module path "3.1" is said as a layer, not a number
    shown.set_findings([Finding("vanishing", "3.1", 0, "gone", "-", "warning")])
    assert shown.texts()[0].startswith("vanishing · layer 3.1 (")


def test_a_run_name_another_process_took_is_followed_where_it_was_recorded(
        window, qtbot, tmp_path, monkeypatch):
    """The app chooses the run's name; a `desklab train` of the same design started in
    the same second can make that file first. The trainer then records at the next free
    name, and the app's run list points there (it pointed at the other process's run)."""
    import desklab.gui.controllers.worker as worker
    from desklab.runs import SUFFIX, RunReader, RunWriter
    chosen = tmp_path / f"20261205-061339-deep-relu{SUFFIX}"
    RunWriter(chosen, {"name": "the other process's run"}).close()
    monkeypatch.setattr(worker, "new_run_path", lambda name: chosen)
    c = start_short_run(window, qtbot, steps=30)
    qtbot.waitUntil(lambda: c.state == "finished", timeout=30000)
    qtbot.waitUntil(lambda: bool(window.runs.records), timeout=5000)
    moved = tmp_path / f"20261205-061339-deep-relu-2{SUFFIX}"
    record = window.runs.records[-1]
    assert record.extra["path"] == str(moved) and c.run_path == moved
    reader = RunReader(moved)
    assert reader.meta["status"] == "finished" and reader.meta["name"] == "deep-relu"
    reader.close()
    assert RunReader(chosen).meta["name"] == "the other process's run"
