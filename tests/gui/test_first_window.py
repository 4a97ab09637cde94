"""The first launch's window fits the screen; later launches open as it was left (the
story test checks that with a real window manager's resize, tests/story/test_story.py)."""

from PySide6.QtWidgets import QMainWindow

from desklab.gui.app import first_size, fit_to_screen


def test_first_size_fits_small_screens_and_keeps_the_full_size_where_it_fits():
    # a 1280 x 720 laptop opened a 1600 x 1000 window: its right and bottom off screen
    assert first_size(1280, 720) == (1216, 648)
    assert first_size(1366, 728) == (1297, 655)  # 1366 x 768 less a 40 px panel
    assert first_size(1920, 1040) == (1600, 1000)
    assert first_size(1680, 1050) == (1600, 1000)  # the stories' screen: as before


def test_fit_to_screen_puts_the_whole_window_on_its_screen(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.resize(3000, 2000)
    fit_to_screen(window)
    room = window.screen().availableGeometry()
    assert (window.width(), window.height()) == first_size(room.width(), room.height())
    assert window.width() < room.width() and window.height() < room.height()
    assert room.contains(window.frameGeometry())
