"""Train ▸ Search: trials in worker processes, the lr x L2 scatter and the table fill
live, Cancel stops them, Apply best edits the design (undoably)."""

from desklab.lessons import get_preset


def small_search_design():
    design = get_preset("overfit-small")
    design.train.steps, design.train.eval_every = 200, 50
    return design


def test_search_window_runs_applies_and_cancels(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    window._replace(small_search_design(), None)
    window.act_search.trigger()
    view = window.search_window
    view.controller.storage = f"sqlite:///{tmp_path / 'search.db'}"
    view.trials.setValue(4)
    view.jobs.setValue(2)
    view.start_button.click()
    qtbot.waitUntil(lambda: view.start_button.isEnabled(), timeout=120000)
    assert view.table.rowCount() == 4 and view.bar.value() == 4
    assert len(view.scatter.points()) == 4
    assert "the search" in view.summary.text()
    best = view.result["best"]
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
