"""The run store's list in the Runs dock: the newest 200 runs, a line saying how many
older ones there are, and a filter that finds any run by words of its line."""

from desklab.lessons import get_preset
from desklab.runs import RunWriter
from desklab.runs.store import design_meta


def test_the_filter_finds_runs_past_the_newest_200(window, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    panel = window.run_panel
    panel.refresh_store()
    assert [panel.stored.item(i).text() for i in range(panel.stored.count())] == \
        ["No runs recorded yet"]
    for k in range(205):  # oldest first: run-000 is the oldest
        meta = design_meta(get_preset("deep-relu"), "cpu", 15)
        meta["name"] = f"run-{k:03d}"
        RunWriter(tmp_path / f"run-{k:03d}.desklab-run", meta).close("finished")
    panel.refresh_store()
    texts = [panel.stored.item(i).text() for i in range(panel.stored.count())]
    assert len(texts) == 201 and texts[0].startswith("run-204 ")
    assert texts[199].startswith("run-005 ")
    assert texts[-1] == "… and 5 older: type words of a name to find them"
    note = panel.stored.item(200)
    assert note.flags() == Qt.NoItemFlags and note.data(Qt.UserRole) is None
    panel.stored.selectAll()  # the note is never chosen: 200 runs are
    assert len(panel.stored.selectedItems()) == 200
    panel.stored_filter.setText("RUN-000 finished")  # every word, any case
    assert [panel.stored.item(i).data(Qt.UserRole) for i in range(panel.stored.count())] \
        == [str(tmp_path / "run-000.desklab-run")]
    panel.stored.setCurrentRow(0)  # Open / follow: the run found, in the main window
    panel.stored_open.click()
    assert window.follower is not None and \
        window.follower.run_file == str(tmp_path / "run-000.desklab-run")
    window.stop_following()
    panel.stored_filter.setText("run-00")
    assert panel.stored.count() == 10
    panel.stored.selectAll()
    assert panel.stored_compare.isEnabled() is False  # ten: more than the compare takes
    panel.stored_filter.setText("run-00 interrupted")
    assert [panel.stored.item(i).text() for i in range(panel.stored.count())] == \
        ["No run holds every word typed"]
    assert not panel.stored_compare.isEnabled() and not panel.stored_open.isEnabled()
    panel.stored_filter.clear()
    assert panel.stored.count() == 201
