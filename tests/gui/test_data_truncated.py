"""A data file changed under the running app (truncated, replaced by garbage, deleted)
is reported at the next edit; nothing crashes and the autosave still works."""

import numpy as np

from desklab.design.edit import set_field


def test_truncating_the_loaded_data_file_is_reported_not_a_crash(window, qtbot, tmp_path):
    from desklab.design import InputSpec
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,label\n" + "\n".join(
        f"{a:.4f},{b:.4f},{c:.4f},{int(a > 0)}" for a, b, c in x) + "\n")
    design = window.doc.design.copy()
    design.input = InputSpec("file", {"path": str(path), "label": ""})
    design.output.size = None
    window.doc.replace(design, None)
    assert window.doc.analysis.ok, window.doc.analysis.problems
    qtbot.waitUntil(lambda: window.preview.last_snapshot is not None, timeout=10000)
    with open(path, "r+b") as f:  # cut mid-row, as a copy still in progress would
        f.truncate(path.stat().st_size // 2 + 3)
    window.doc.edit("units", lambda d: set_field(d, (0,), "units", 40))
    problems = window.doc.analysis.problems
    assert problems and problems[0].field == "input.path" and "d.csv" in problems[0].message
    qtbot.wait(300)  # the preview refuses an invalid design; no crash
    assert window.autosaver.save_now()  # and the autosave still writes
    path.write_bytes(b"\x00\xff" * 50)  # garbage
    window.doc.edit("units", lambda d: set_field(d, (0,), "units", 41))
    assert window.doc.analysis.problems[0].field == "input.path"
    path.unlink()
    window.doc.edit("units", lambda d: set_field(d, (0,), "units", 42))
    assert "no such file" in window.doc.analysis.problems[0].message
    window.doc.undo_stack.setClean()
