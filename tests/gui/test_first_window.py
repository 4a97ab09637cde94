"""Windows fit their screen: the first launch's main window, the compare, search and
landscape windows. Later launches open as they were left (the story test checks that
with a window manager's resize, tests/story/test_story.py)."""

from PySide6.QtWidgets import QMainWindow

from desklab.gui.app import FIRST_SIZE
from desklab.gui.views.screen_fit import fit_to_screen, fitted_size


def test_a_window_keeps_its_size_where_it_fits_and_shrinks_to_a_share_where_not():
    # a 1280 x 720 laptop opened a 1600 x 1000 window: its right and bottom off screen
    assert fitted_size(FIRST_SIZE, (1280, 720)) == (1216, 648)
    assert fitted_size(FIRST_SIZE, (1366, 728)) == (1297, 655)  # less a 40 px panel
    assert fitted_size(FIRST_SIZE, (1920, 1040)) == (1600, 1000)
    assert fitted_size(FIRST_SIZE, (1680, 1050)) == (1600, 1000)  # the stories' screen
    # the search and landscape windows (1200 x 700) lost their bottom rows under a panel
    assert fitted_size((1200, 700), (1280, 692)) == (1200, 622)
    assert fitted_size((1200, 700), (1280, 720)) == (1200, 648)  # with its title bar


def test_fit_to_screen_puts_the_whole_window_on_its_screen(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.resize(3000, 2000)
    fit_to_screen(window, (3000, 2000))
    room = window.screen().availableGeometry()
    assert (window.width(), window.height()) == (int(room.width() * 0.95),
                                                 int(room.height() * 0.9))
    assert room.contains(window.frameGeometry())
