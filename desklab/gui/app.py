"""Application start-up: QApplication, the main window, screenshot mode."""

from __future__ import annotations

import argparse
import sys


def run_gui(args: argparse.Namespace) -> int:
    """Open the main window on ``args``' design (file or preset); returns the exit code."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ..cli import load_input
    from .main_window import MainWindow

    design = load_input(args) if (args.design or args.preset) else None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DeskLab")
    app.setOrganizationName("DeskLab")
    window = MainWindow(design)
    window.resize(1600, 1000)
    window.show()
    if args.screenshot:
        path = args.screenshot

        def shoot():
            window.grab().save(path)
            window.close()
            app.quit()

        QTimer.singleShot(300, shoot)
    return app.exec()


def main() -> int:
    """Entry point of the ``desklab-gui`` script."""
    from ..cli import main as cli_main
    return cli_main(["gui", *sys.argv[1:]])
