"""Application start-up: QApplication, the main window, screenshot mode."""

from __future__ import annotations

import sys
from pathlib import Path

from ..design import NetworkDesign

SHOT_TIMEOUT_MS = 120_000  # screenshot mode gives up (exit 1) after this long
FIRST_SIZE = (1600, 1000)  # the first launch's window (and the screenshots'), room allowing


def run_gui(design: NetworkDesign | None = None, path: Path | None = None,
            screenshot: str | None = None, train_steps: int = 0) -> int:
    """Open the main window on ``design`` (read from ``path``, if any); the exit code.

    The window opens as it was last left (its settings), else at FIRST_SIZE where the
    screen has room (`fit_to_screen`).
    With ``screenshot`` (a PNG path) the window is shown at 1600 x 1000, populated (the
    at-init preview, and ``train_steps`` steps of training with the plots redrawn),
    saved and closed. Without it, ``train_steps`` > 0 starts training on launch.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .views.main_window import MainWindow
    from .views.screen_fit import fit_to_screen

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DeskLab")
    from .icons import app_icon
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("desklab")
    app.setOrganizationName("DeskLab")
    window = MainWindow(design, offer_restore=not screenshot)
    if screenshot:
        window.resize(*FIRST_SIZE)
    elif window.settings.value("window/geometry") is None:  # else as it was left
        fit_to_screen(window, FIRST_SIZE)  # 1216 x 648 on a 1280 x 720 screen
    window.show()
    if path is not None:
        window.doc.path = path
        window.doc.file_changed.emit()
    elif design is None and not screenshot:
        window.offer_welcome()  # the first launch: three ways to start
    result = {"code": 0}
    if screenshot:
        # kept on the window: a plain object's bound methods do not keep it alive
        window.screenshot_run = ScreenshotRun(window, screenshot, train_steps, result)
        window.screenshot_run.begin()
        QTimer.singleShot(SHOT_TIMEOUT_MS, lambda: _give_up(window, result))
    elif train_steps:
        d = window.doc.design.copy()
        d.train.steps = train_steps
        window.training.start(d)
    code = app.exec()
    return result["code"] or code


def _give_up(window, result) -> None:
    print("desklab: the screenshot timed out", file=sys.stderr)
    result["code"] = 1
    window.doc.undo_stack.setClean()
    window.close()


class ScreenshotRun:
    """Populate the window, save a PNG, close: the steps of ``--screenshot``."""

    def __init__(self, window, path: str, train_steps: int, result: dict):
        self.window, self.path, self.steps, self.result = window, path, train_steps, result

    def begin(self) -> None:
        preview = self.window.preview
        if preview.last_snapshot is None and self.window.doc.analysis.ok:
            preview.updated.connect(self._preview_ready)
        else:
            self._preview_ready()

    def _preview_ready(self, *_):
        try:
            self.window.preview.updated.disconnect(self._preview_ready)
        except (RuntimeError, TypeError):
            pass
        if self.steps > 0:
            design = self.window.doc.design.copy()
            design.train.steps = self.steps
            self.window.training.controller.run_ended.connect(self._trained)
            self.window.training.start(design)
        else:
            self._shoot()

    def _trained(self, _state: str) -> None:
        from PySide6.QtCore import QTimer
        QTimer.singleShot(500, self._shoot)  # let the last events and a redraw land

    def _shoot(self) -> None:
        self.window.training.redraw(everything=True)
        self.window.repaint()
        if not self.window.grab().save(self.path):
            print(f"desklab: cannot write the screenshot to {self.path}", file=sys.stderr)
            self.result["code"] = 2
        self.window.doc.undo_stack.setClean()  # nothing to ask about when closing
        self.window.close()
