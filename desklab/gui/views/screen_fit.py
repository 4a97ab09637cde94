"""Windows sized to fit their screen: the size a window prefers where the screen has
room for it, else a share of the room, so that all of it is on screen (a 1280 x 720
laptop had the main window's right and bottom off screen at 1600 x 1000, and the
search and landscape windows' bottom rows under the panel at 1200 x 700)."""

from __future__ import annotations

SCREEN_SHARE = (0.95, 0.9)  # of a smaller screen's free area: a frame and panels fit
FRAME = (16, 40)  # px a window manager's borders and title bar add to a window's size


def fitted_size(preferred: tuple[int, int], room: tuple[int, int]) -> tuple[int, int]:
    """``preferred`` (width, height) where it fits in ``room`` (the screen's free area)
    with its FRAME, else SCREEN_SHARE of the room, each way on its own (1600 x 1000 on
    1280 x 720: 1216 x 648; 1200 x 700 there: 1200 x 648, its title bar on screen)."""
    return tuple(want if want + frame <= have else int(have * share)
                 for want, have, share, frame in zip(preferred, room, SCREEN_SHARE, FRAME))


def fit_to_screen(window, preferred: tuple[int, int]) -> None:
    """Size ``window`` by `fitted_size` for its screen's free area, centred there."""
    room = window.screen().availableGeometry()
    window.resize(*fitted_size(preferred, (room.width(), room.height())))
    frame = window.frameGeometry()
    frame.moveCenter(room.center())
    window.move(frame.topLeft())
