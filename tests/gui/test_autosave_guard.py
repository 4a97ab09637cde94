"""An autosave can never become a crash loop, and a window that fails to build never
leaves its preview thread running (a destroyed running QThread aborts, exit 134)."""

import pytest

from desklab.design import dumps, save_design
from desklab.design.edit import set_field
from desklab.gui.controllers.threads import live_threads
from desklab.lessons import get_preset


@pytest.fixture
def errors(monkeypatch):
    """MainWindow.show_error collected instead of shown (it runs inside __init__)."""
    from desklab.gui.views.main_window import MainWindow
    seen: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, title, text: seen.append(text))
    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, when: True)
    return seen


def open_window(qtbot, settings):
    from desklab.gui.views.main_window import MainWindow
    window = MainWindow(get_preset("cnn-digits"), settings=settings)
    qtbot.addWidget(window)
    return window


def close(window):
    window.doc.undo_stack.setClean()
    window.shutdown()


def autosave_path(settings):
    from pathlib import Path
    return Path(settings.fileName()).parent / "autosave.json"


def test_an_autosave_that_does_not_load_is_set_aside(qtbot, settings, errors):
    path = autosave_path(settings)
    path.write_bytes(b'{"format": "desklab.design/1", "layers": [')  # cut off mid-write
    window = open_window(qtbot, settings)
    try:
        assert dumps(window.doc.design) == dumps(get_preset("cnn-digits"))  # untouched
        bad = path.with_name("autosave.json.bad")
        assert not path.exists() and bad.read_bytes().startswith(b'{"format"')
        assert len(errors) == 1 and str(bad) in errors[0]
    finally:
        close(window)


def test_a_restore_that_raises_is_set_aside_at_once(qtbot, settings,
                                                                    errors, monkeypatch):
    from desklab.gui.views.main_window import MainWindow
    design = get_preset("deep-relu")
    set_field(design, (0,), "units", 77)
    path = autosave_path(settings)
    save_design(design, path)
    # the window raises while taking the restored design in
    monkeypatch.setattr(MainWindow, "_replace", lambda *a: (_ for _ in ()).throw(
        RuntimeError("restore blew up")))
    window = open_window(qtbot, settings)
    try:
        assert errors and "restore blew up" in errors[0]
        assert not path.exists() and path.with_name("autosave.json.bad").exists()
    finally:
        close(window)


def test_two_unfinished_restores_set_it_aside(qtbot, settings, errors):
    path = autosave_path(settings)
    save_design(get_preset("deep-relu"), path)
    path.with_name("autosave.json.restoring").write_text("2")  # died twice restoring
    window = open_window(qtbot, settings)
    try:
        assert "stopped DeskLab twice" in errors[0]
        assert path.with_name("autosave.json.bad").exists()
    finally:
        close(window)


def test_a_finished_restore_clears_its_counter(qtbot, settings, errors):
    path = autosave_path(settings)
    design = get_preset("deep-relu")
    set_field(design, (0,), "units", 77)
    save_design(design, path)
    window = open_window(qtbot, settings)
    try:
        assert window.doc.design.layers[0].params["units"] == 77 and not errors
        assert not path.with_name("autosave.json.restoring").exists()
    finally:
        close(window)


def test_a_window_that_fails_to_build_stops_its_preview_thread(qtbot, settings,
                                                              monkeypatch):
    from desklab.gui.views.main_window import MainWindow

    def broken(self, *args):
        raise RuntimeError("a dock failed to build")

    monkeypatch.setattr(MainWindow, "_make_menus", broken)
    with pytest.raises(RuntimeError, match="dock failed"):
        MainWindow(get_preset("cnn-digits"), settings=settings)
    assert not live_threads()


def test_an_uncaught_exception_autosaves_and_says_so(window, qtbot, monkeypatch):
    """A bug in a slot used to print a traceback and nothing else: now the design is
    autosaved and a (non-blocking) window says what happened."""
    from desklab.design.edit import set_field
    window.doc.edit("units", lambda d: set_field(d, (0,), "units", 33))
    monkeypatch.setattr(window.autosaver, "_previous_hook", lambda *a: None)
    try:
        raise ZeroDivisionError("division by zero in a slot")
    except ZeroDivisionError as exc:
        window.autosaver._on_crash(type(exc), exc, exc.__traceback__)
    box = window._uncaught_box
    assert box is not None and box.isVisible() and box.objectName() == "uncaughtError"
    assert "ZeroDivisionError: division by zero in a slot" in box.text()
    assert "autosaved" in box.text() and window.autosaver.path.is_file()
    box.close()
    window.doc.undo_stack.setClean()
