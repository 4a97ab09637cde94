"""Regenerate the README's screenshots (offscreen, 1600 x 1000).

    python docs/make_screenshots.py

designer.png: the 12-layer docs/examples/digits-resnet.json with a layer selected
(inspector form, activation curve, init std) and the at-init preview.
training.png: deep-sigmoid after 60 training steps, every plot populated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent


def designer(out: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desklab.design import load_design
    from desklab.gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    window = MainWindow(load_design(HERE / "examples" / "digits-resnet.json"), settings)
    window.resize(1600, 1000)
    window.show()
    window.doc.select([(7,)])  # the GELU dense layer: curve, init std
    end = time.perf_counter() + 20
    while window.preview.last_snapshot is None and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()
    window.grab().save(str(out))
    window.close()


if __name__ == "__main__":
    img = HERE / "img"
    img.mkdir(exist_ok=True)
    designer(img / "designer.png")
    subprocess.run([sys.executable, "-m", "desklab", "gui", "--preset", "deep-sigmoid",
                    "--train-steps", "60", "--screenshot", str(img / "training.png")],
                   check=True)
    print("wrote", img / "designer.png", img / "training.png")
