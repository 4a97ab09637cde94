"""Nothing crashes, nothing is lost: bad files, autosave, thread stress, device faults,
and data-only files."""

import json
import os
import re
from pathlib import Path

import pytest

from desklab.cli import main
from desklab.design import dumps, load_design, save_design
from desklab.design.edit import set_field
from desklab.gui.controllers.worker import live_threads
from desklab.lessons import get_preset

BAD_FILES = {
    "malformed JSON": b'{"format": "desklab.design/1", "layers": [',
    "wrong types": b'{"format": "desklab.design/1", "layers": [{"kind": "dense", '
                   b'"units": "many"}]}',
    "unknown format version": b'{"format": "desklab.design/7"}',
    "not a design": b'{"hello": "world"}',
    "random bytes": bytes(range(256)) * 4,
    "empty file": b"",
    "deeply nested": b"[" * 50000 + b"]" * 50000,
}


def write_bad(tmp_path, kind):
    path = tmp_path / "bad.json"
    path.write_bytes(BAD_FILES[kind])
    return path


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_cli_one_line_exit_2_file_untouched(kind, tmp_path, capsys):
    path = write_bad(tmp_path, kind)
    for command in ("probe", "train"):
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("desklab: ") and err.count("\n") == 1 and "Traceback" not in err
    assert path.read_bytes() == BAD_FILES[kind]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_gui_dialog_design_untouched(kind, window, tmp_path):
    before = dumps(window.doc.design)
    path = write_bad(tmp_path, kind)
    assert not window.open_path(path)
    assert window.errors and str(path) in window.errors[-1]
    assert dumps(window.doc.design) == before
    assert path.read_bytes() == BAD_FILES[kind]


def test_directory_unreadable_and_huge_values(window, tmp_path, monkeypatch, capsys):
    before = dumps(window.doc.design)
    assert not window.open_path(tmp_path)
    assert "is a folder" in window.errors[-1]
    locked = tmp_path / "locked.json"
    save_design(get_preset("deep-relu"), locked)

    def denied(path, limit):
        raise PermissionError(13, "Permission denied")
    from desklab.design import fileformat  # root reads anything: simulate the refusal
    monkeypatch.setattr(fileformat, "read_regular_file", denied)
    assert not window.open_path(locked)
    assert "permission denied" in window.errors[-1]
    assert main(["probe", str(locked)]) == 2
    assert "permission denied" in capsys.readouterr().err
    monkeypatch.undo()
    assert dumps(window.doc.design) == before
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"format": "desklab.design/1", "layers": [
        {"kind": "dense", "units": 10**12}], "train": {"lr": 1e308}}))
    assert main(["train", str(huge)]) == 2
    assert "must be between" in capsys.readouterr().err
    assert window.open_path(huge)  # loads, and the editor marks it instead
    assert not window.doc.analysis.ok
    window.training.train()
    assert window.training.controller.thread is None  # an invalid design never trains


def test_autosave_and_restore(window, settings, qtbot, monkeypatch):
    from desklab.gui.views.main_window import MainWindow
    doc = window.doc
    doc.edit("edit", lambda d: set_field(d, (0,), "units", 77))
    assert window.autosaver.save_now()
    saved = dumps(doc.design)
    assert window.autosaver.path.is_file()
    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, when: True)
    again = MainWindow(get_preset("cnn-digits"), settings=settings)
    qtbot.addWidget(again)
    try:
        assert dumps(again.doc.design) == saved and again.doc.modified
        assert again.doc.path is None  # it was untitled
    finally:
        again.doc.undo_stack.setClean()
        again.shutdown()
    # a clean close removes the autosave: nothing is offered next time
    doc.undo_stack.setClean()
    window.close()
    assert not window.autosaver.path.exists()


def test_restored_autosave_keeps_its_file(window, settings, qtbot, monkeypatch, tmp_path):
    """Issue 25 item 13: a saved file's autosave comes back as that file, modified (it
    became "untitled*"); Save then writes that file."""
    from desklab.gui.views.main_window import MainWindow
    path = tmp_path / "mine.json"
    window.doc.mark_saved(path)
    save_design(window.doc.design, path)
    window.doc.edit("edit", lambda d: set_field(d, (0,), "units", 77))
    assert window.autosaver.save_now()
    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, when: True)
    again = MainWindow(get_preset("cnn-digits"), settings=settings)
    qtbot.addWidget(again)
    try:
        assert again.doc.path == path and again.doc.modified
        assert again.windowTitle().startswith("mine.json")
        assert load_design(path).layers[0].params.get("units") != 77  # the file is untouched
    finally:
        again.doc.undo_stack.setClean()
        again.shutdown()
    window.doc.undo_stack.setClean()
    window.close()
    assert not window.autosaver.path.with_name("autosave.json.origin").exists()


def test_autosave_on_an_unexpected_exception(window, monkeypatch):
    window.doc.edit("edit", lambda d: set_field(d, (0,), "units", 5))
    seen = []
    monkeypatch.setattr(window.autosaver, "_previous_hook", lambda *a: seen.append(a))
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        window.autosaver._on_crash(type(exc), exc, exc.__traceback__)
    assert seen and window.autosaver.path.is_file()


def _rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or 'self'}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run_pid(path) -> int:
    """The process that trained the run at ``path``, as its run file says."""
    from desklab.runs import RunReader
    reader = RunReader(path)
    try:
        return reader.meta["pid"]
    finally:
        reader.close()


def test_start_stop_reset_200_times(window, qtbot):
    import gc
    design = get_preset("lr-too-high")
    design.train.lr, design.train.steps = 0.01, 10**6
    design.layers = design.layers[:1]
    view = window.training
    baseline, recorded = None, 0
    for cycle in range(200):
        view.start(design)
        if cycle % 3 == 0:
            qtbot.waitUntil(lambda: view.controller.state in ("running", "failed"),
                            timeout=10000)
        if cycle % 2:
            view.stop()  # returns at once; the run ends after its step
            qtbot.waitUntil(lambda: view.controller.thread is None, timeout=5000)
        else:
            view.reset()
        assert [t.objectName() for t in live_threads()] == ["desklab-preview"]
        recorded += len(window.runs.records)
        window.runs.records.clear()  # the run list keeps runs by design: not a leak
        if cycle == 20:
            gc.collect()
            baseline = _rss_mb()
            trainer_pid = _run_pid(view.controller.run_path)
            trainer_baseline = _rss_mb(trainer_pid)
    gc.collect()
    growth = _rss_mb() - baseline
    print(f"\nRSS growth over cycles 20..200: {growth:.1f} MB")
    assert growth < 25, f"memory grew {growth:.0f} MB over 180 start/stop cycles"
    assert recorded > 0  # stopped runs do reach the run list
    # one warm trainer process trained all of them, and did not grow either
    assert _run_pid(view.controller.run_path) == trainer_pid
    trainer_growth = _rss_mb(trainer_pid) - trainer_baseline
    print(f"trainer process RSS growth over cycles 20..200: {trainer_growth:.1f} MB")
    assert trainer_growth < 25


def test_simulated_cuda_oom_ends_the_run_with_a_message(window, qtbot, monkeypatch):
    """torch's CUDA out-of-memory error in the trainer process's 5th step (the test-only
    fault hook): the run fails with advice, the same process trains the next run."""
    monkeypatch.setenv("DESKLAB_TRAINER_FAULT", "oom@4")
    view = window.training
    view.train()
    qtbot.waitUntil(lambda: view.controller.state == "failed", timeout=20000)
    view.redraw(everything=True)
    texts = [view.findings.item(i).text() for i in range(view.findings.count())]
    assert any("out of memory" in t.lower() and "step 4" in t for t in texts)
    assert view.act_train.isEnabled()  # the window is usable: train again
    monkeypatch.delenv("DESKLAB_TRAINER_FAULT")
    view.train()
    qtbot.waitUntil(lambda: view.controller.snapshots_received >= 1, timeout=20000)
    view.stop()


def test_weights_never_unpickle_code(tmp_path):
    import pickle

    from desklab.engine.weights import WeightsFileError, load_weights
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(WeightsFileError, match="never loaded"):
        load_weights(path)
    assert not marker.exists()


def test_nothing_read_from_a_file_is_executed():
    """No eval/exec; the one unpickler (CIFAR-10's batches) names every class it may build
    (tests/engine/test_real_datasets.py feeds it code and sees it refused)."""
    files = {p: p.read_text() for p in Path("desklab").rglob("*.py")}
    source = "\n".join(files.values())
    assert not re.search(r"(?<![.\w])(eval|exec)\(", source)  # the builtins, not Qt exec()
    unpicklers = [p.as_posix() for p, text in files.items() if "import pickle" in text]
    assert unpicklers == ["desklab/engine/real_data.py"]
    reader = files[Path("desklab/engine/real_data.py")]
    assert "def find_class" in reader and "pickle.load(" not in reader
    assert "pickle.load" not in source.replace(reader, "")
    assert "weights_only=True" in source and "weights_only=False" not in source
