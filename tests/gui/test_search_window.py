"""Train ▸ Search: trials in worker processes, the lr x L2 scatter and the table fill
live, Cancel stops them, Apply best edits the design (undoably)."""


import pytest

from desklab.lessons import get_preset


def small_search_design():
    design = get_preset("overfit-small")
    design.train.steps, design.train.eval_every = 200, 50
    return design


def search_to_the_end(window, qtbot, tmp_path, monkeypatch, design, trials, jobs,
                      ticks=()):
    """Train ▸ Search on ``design`` (runs and study under tmp_path), Start, wait for the
    end; returns the window. ``ticks``: (setting, checked) pairs set before Start."""
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    window._replace(design, None)
    window.act_search.trigger()
    view = window.search_window
    view.controller.storage = f"sqlite:///{tmp_path / 'search.db'}"
    for name, checked in ticks:
        view.ticks[name].setChecked(checked)
    view.trials.setValue(trials)
    view.jobs.setValue(jobs)
    view.start_button.click()
    qtbot.waitUntil(lambda: view.start_button.isEnabled(), timeout=120000)
    return view


def test_search_window_runs_applies_and_cancels(window, qtbot, tmp_path, monkeypatch):
    view = search_to_the_end(window, qtbot, tmp_path, monkeypatch, small_search_design(),
                             trials=4, jobs=2)
    assert view.table.rowCount() == 4 and view.bar.value() == 4
    assert len(view.scatter.points()) == 4
    assert "the search" in view.summary.text()
    best = view.result["best"]
    choosing_a_trial_marks_it_and_opens_its_run(window, view, qtbot)
    the_best_trials_compared(window, view)
    view.apply_button.click()
    assert window.doc.design.train.lr == best["params"]["lr"]
    assert window.doc.design.train.l2 == best["params"]["l2"]
    window.doc.undo_stack.undo()
    assert window.doc.design.train.lr == 1e-3
    view.trials.setValue(60)
    view.jobs.setValue(1)
    view.start_button.click()
    qtbot.waitUntil(lambda: view.table.rowCount() >= 1, timeout=60000)
    view.cancel_button.click()
    qtbot.waitUntil(lambda: view.start_button.isEnabled(), timeout=120000)
    assert view.result["cancelled"] and "Cancelled" in view.summary.text()
    assert view.table.rowCount() < 60
    view.close()


def the_best_trials_compared(window, view) -> None:
    """Compare best: the complete trials' runs, the highest accuracy first (A), at most
    four, each named by its trial and settings (the runs' own names are all the same)."""
    complete = sorted((t for t in view.result["trials"] if t["state"] == "complete"),
                      key=lambda t: -t["value"])  # validation accuracy: higher is better
    assert len(complete) >= 2 and view.compare_button.isEnabled()
    view.compare_button.click()
    compare = window.compare_windows[-1]
    assert [r.extra["path"] for r in compare.records] == [str(t["run"]) for t in
                                                          complete[:4]]
    best = complete[0]
    assert compare.records[0].name == (f"trial {best['number']} · lr {best['params']['lr']:.2g}"
                                       f", l2 {best['params']['l2']:.2g}")
    assert len({r.name for r in compare.records}) == len(compare.records)
    compare.close()


def choosing_a_trial_marks_it_and_opens_its_run(window, view, qtbot) -> None:
    """The best trial is starred on the scatter and bold in the table; a click on another
    trial's point chooses its row (and rings it); a double-click on the row shows that
    trial's run in the main window."""
    import math

    from PySide6.QtCore import QPointF, Qt

    from qt_input import mouse_move
    best = view.result["best"]
    numbers = [view.table.item(i, 0).data(Qt.DisplayRole) for i in range(view.table.rowCount())]
    bold = [n for i, n in enumerate(numbers) if view.table.item(i, 0).font().bold()]
    assert bold == [best["number"]]

    def where(trial) -> tuple[float, float]:
        return math.log10(trial["params"]["lr"]), math.log10(trial["params"]["l2"])
    star = view.plot.best.points()[0].pos()
    assert (star.x(), star.y()) == pytest.approx(where(best))
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    other = next(t for t in view.result["trials"] if t["number"] != best["number"]
                 and t["state"] in ("complete", "pruned"))
    scene = view.plot.getPlotItem().vb.mapViewToScene(QPointF(*where(other)))
    mouse_move(view.plot, scene)  # pointing names the trial
    tip = view.plot.getPlotItem().vb.toolTip()
    assert tip.startswith(f"trial {other['number']} ({other['state']}): lr"), tip
    qtbot.mouseClick(view.plot.viewport(), Qt.LeftButton, pos=view.plot.mapFromScene(scene))
    chosen = view.table.selectionModel().selectedRows()
    assert [numbers[r.row()] for r in chosen] == [other["number"]]
    ring = view.plot.chosen.points()[0].pos()
    assert (ring.x(), ring.y()) == pytest.approx(where(other))
    item = view.table.item(chosen[0].row(), 1)
    at = view.table.visualItemRect(item).center()
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=at)  # as a hand does it:
    qtbot.mouseDClick(view.table.viewport(), Qt.LeftButton, pos=at)  # press, then the double
    assert window.follower is not None and window.follower.run_file == str(other["run"])
    window.stop_following()
    first = next(t for t in view.result["trials"] if t["number"] == numbers[0])
    view.table.setCurrentCell(0, 1)  # from the keyboard: Enter opens the current row's run
    qtbot.keyClick(view.table, Qt.Key_Return)
    assert window.follower is not None and window.follower.run_file == str(first["run"])
    window.stop_following()


def test_ticked_settings_are_searched_and_applied(window, qtbot, tmp_path, monkeypatch):
    design = small_search_design()
    design.train.steps = 100
    # batch_size goes up to 512: most are too big for 60 examples
    view = search_to_the_end(window, qtbot, tmp_path, monkeypatch, design, trials=6, jobs=1,
                             ticks=[("l2", False), ("batch_size", True), ("momentum", True)])
    headers = [view.table.horizontalHeaderItem(i).text()
               for i in range(view.table.columnCount())]
    assert headers == ["#", "stage", "lr", "momentum", "batch_size", "val acc", "state"]
    trials = view.result["trials"]
    assert all(set(t["params"]) == {"lr", "momentum", "batch_size"} for t in trials)
    for t in trials:  # an invalid setting fails its trial, says why, and the search goes on
        if t["state"] == "fail":
            assert "batch size" in t["error"]
        else:
            assert t["params"]["batch_size"] <= 60.5
    if view.result["best"] is not None:
        view.apply_button.click()
        best = view.result["best"]["params"]
        assert window.doc.design.train.batch_size == round(best["batch_size"])
        assert isinstance(window.doc.design.train.batch_size, int)
        assert window.doc.design.train.momentum == best["momentum"]
    view.close()


def test_a_regression_is_searched_by_its_validation_loss(window, qtbot, tmp_path,
                                                         monkeypatch):
    """The sine fit has no accuracy: the table, the plot and the summary speak of the
    validation loss, and Apply best takes the trial with the lowest one."""
    from desklab.design import InputSpec, OutputSpec
    design = small_search_design()
    design.input, design.output = InputSpec("sine", {"samples": 300}), OutputSpec("regression")
    design.train.steps, design.train.eval_every = 100, 50
    view = search_to_the_end(window, qtbot, tmp_path, monkeypatch, design, trials=3, jobs=1)
    headers = [view.table.horizontalHeaderItem(i).text()
               for i in range(view.table.columnCount())]
    assert headers == ["#", "stage", "lr", "l2", "val loss", "state"]
    assert "Validation loss by lr and l2" in view.plot.getPlotItem().titleLabel.text
    assert "val loss" in view.summary.text() and "val acc" not in view.summary.text()
    values = [t["value"] for t in view.result["trials"] if t["state"] == "complete"]
    assert view.result["best"]["value"] == min(values)
    view.apply_button.click()
    assert window.doc.design.train.lr == view.result["best"]["params"]["lr"]
    view.close()


def test_before_a_search_the_axes_span_the_ticked_settings(window, qtbot):
    """Opened, nothing run yet: the scatter's axes are the settings' ranges (they were
    pyqtgraph's empty 1..10, ticked 2..9), the title and the table's columns say what a
    search of this design would rank by; a tick changes them and the summary."""
    import math

    from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec
    window._replace(NetworkDesign(name="sine", input=InputSpec("sine"),
                                  layers=[LayerSpec.make("dense", units=16)],
                                  output=OutputSpec("regression")), None)
    window.act_search.trigger()
    view = window.search_window
    (x0, x1), (y0, y1) = view.plot.getPlotItem().vb.viewRange()
    assert x0 <= math.log10(1e-5) < math.log10(1e-1) <= x1 < 0  # lr 1e-5..1e-1, log10
    assert y0 <= math.log10(1e-6) < math.log10(1e-1) <= y1 < 0  # l2 1e-6..1e-1
    assert view.plot.getPlotItem().titleLabel.text.startswith("Validation loss by lr")
    headers = [view.table.horizontalHeaderItem(i).text()
               for i in range(view.table.columnCount())]
    assert headers == ["#", "stage", "lr", "l2", "val loss", "state"]
    view.ticks["l2"].setChecked(False)
    view.ticks["momentum"].setChecked(True)
    (y0, y1) = view.plot.getPlotItem().vb.viewRange()[1]
    assert y0 <= math.log10(0.5) < math.log10(0.99) <= y1  # momentum 0.5..0.99
    assert "momentum 0.5..0.99" in view.summary.text() and "l2" not in view.summary.text()
    view.close()


def test_a_design_with_a_problem_is_not_searched(window, qtbot, tmp_path, monkeypatch):
    """Every trial would fail on it: Start says what is wrong at once and starts no
    process (it ran every trial, then said the search failed)."""
    from desklab.design import LayerSpec
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    design = small_search_design()
    design.layers.insert(0, LayerSpec.make("conv2d", filters=4))  # on 2-D points
    window._replace(design, None)
    window.act_search.trigger()
    view = window.search_window
    view.start_button.click()
    assert not view.controller.running and view.start_button.isEnabled()
    assert "The design has a problem:" in view.summary.text()
    assert "conv2d needs an image input" in view.summary.text()
    assert not list(tmp_path.iterdir())  # no study, no run
    view.close()
