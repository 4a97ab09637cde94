"""Regenerate the README's screenshots (offscreen, 1600 x 1000).

    python docs/make_screenshots.py

designer.png: the 12-layer docs/examples/digits-resnet.json with a layer selected
(inspector form, activation curve, init std) and the at-init preview.
training.png: deep-sigmoid after 60 training steps, every plot populated.
recovered.png: docs/examples/vanishing-recovers.json at the end of its run: the
vanishing-gradient finding resolved (dimmed, with its span).
compare.png: deep-sigmoid vs deep-relu side by side, replayed a third of the way in.
compare-sweep.png: lr-tuned at four learning rates in one compare window (`python
docs/make_screenshots.py sweep` makes only this).
lesson.png: the deep-sigmoid lesson at 1280 x 720 after 300 steps, the Lesson panel
with its sign ticked off.
huggingface.png: examples/watch_huggingface.py (a small BERT under the Trainer, 200
steps) opened in the app from its run file: the module tree and every plot.
rnn-adding.png, lstm-adding.png (and their -through-time.png panels at twice the size):
the recurrent lessons at T = 100 after 1600 steps (`python docs/make_screenshots.py
recurrent` makes only these).
Under Xvfb (DISPLAY set) the windows are real X windows; otherwise offscreen.
The story tests save story-designer.png, story-training.png, newcomer-1280x720.png
(a vanishing run that recovers, at 1280 x 720) and newcomer-following.png (a script's
run with its own settings) from the real X screen when run with
DESKLAB_STORY_SHOTS=docs/img.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent


def designer(out: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desklab.design import load_design
    from desklab.gui.views.main_window import MainWindow

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


def compare(out: Path) -> None:
    """The compare window: deep-sigmoid vs deep-relu trained side by side, slider mid-run."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desklab.gui.views.main_window import MainWindow
    from desklab.lessons import get_preset
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    window = MainWindow(get_preset("deep-sigmoid"), settings, offer_restore=False)
    designs = [get_preset("deep-sigmoid"), get_preset("deep-relu")]
    for d in designs:
        d.train.steps = 600
    from desklab.gui.views.compare import CompareWindow
    view = CompareWindow(window.runs, window)
    view.run_pair(designs, ["deep-sigmoid", "deep-relu"])
    view.resize(1600, 1000)
    view.show()
    end = time.perf_counter() + 180
    while view.controller.running and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)
    view.slider.setValue(view.slider.maximum() // 3)  # replay: a third of the way in
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    view.grab().save(str(out))
    view.close()
    window.doc.undo_stack.setClean()
    window.close()


def sweep(out: Path) -> None:
    """The compare window over a learning-rate sweep: lr-tuned at four learning rates,
    every curve overlaid, the slowest and the fastest side by side."""
    from desklab.engine.trainer import Trainer
    from desklab.gui.controllers.runs import RunList, RunRecord
    from desklab.gui.views.compare import CompareWindow
    from desklab.lessons import get_preset
    from desklab.metrics import RunHistory
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    records = []
    for lr in (0.5, 0.1, 0.02, 0.004):
        design = get_preset("lr-tuned")
        design.name, design.train.lr, design.train.steps = f"lr {lr:g}", lr, 1000
        history = RunHistory()
        for event in Trainer(design).events():
            history.record(event.kind, event.payload)
        records.append(RunRecord(design.name, design, history, "finished", steps=1000))
    view = CompareWindow(RunList())
    view.resize(1600, 1000)
    view.show_records(records)
    view.choosers[1].setCurrentIndex(3)  # the slowest beside the fastest
    view.show()
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    view.grab().save(str(out))
    view.close()


def trained_lesson(slug: str, steps: int, size: tuple[int, int], timeout_s: int):
    """A main window with lesson ``slug`` opened as the welcome opens it and trained
    ``steps`` steps in the app (a real event loop), its last redraws done."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desklab.gui.views.main_window import MainWindow
    QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    window = MainWindow(settings=settings, offer_restore=False)
    window.resize(*size)
    window.show()
    window.open_preset(slug)
    window.doc.design.train.steps = steps
    loop = QEventLoop()
    window.training.controller.run_ended.connect(loop.quit)
    window.training.act_train.trigger()
    QTimer.singleShot(timeout_s * 1000, loop.quit)
    loop.exec()
    loop = QEventLoop()
    QTimer.singleShot(1500, loop.quit)  # the last redraws
    loop.exec()
    return window


def lesson(out: Path) -> None:
    """The deep-sigmoid lesson opened as the welcome opens it, trained 300 steps."""
    from PySide6.QtWidgets import QApplication
    window = trained_lesson("deep-sigmoid", 300, (1280, 720), 120)
    window.grab().save(str(out))
    QApplication.processEvents()
    window.doc.undo_stack.setClean()
    window.close()


def recurrent(img: Path) -> None:
    """The RNN and LSTM adding-problem lessons (T = 100) trained in the app: the whole
    window, and the gradient-through-time panel alone at twice its size."""
    from PySide6.QtWidgets import QApplication
    for slug in ("rnn-adding", "lstm-adding"):
        window = trained_lesson(slug, 1600, (1600, 1000), 600)
        window.grab().save(str(img / f"{slug}.png"))
        panel = window.training.through_time
        size = panel.size()
        panel.resize(size * 2)
        window.training.redraw(everything=True)
        QApplication.processEvents()
        panel.grab().save(str(img / f"{slug}-through-time.png"))
        panel.resize(size)
        window.doc.undo_stack.setClean()
        window.close()


def huggingface(out: Path) -> None:
    """A Hugging Face Trainer run recorded by the example, shown from its run file."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desklab.gui.views.main_window import MainWindow
    run = Path(tempfile.mkdtemp()) / "bert.desklab-run"
    subprocess.run([sys.executable, str(HERE.parent / "examples" / "watch_huggingface.py"),
                    "--run", str(run), "--steps", "200"], check=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    window = MainWindow(settings=settings, offer_restore=False)
    window.resize(1600, 1000)
    window.show()
    window.follow_run(run)
    loop = QEventLoop()
    QTimer.singleShot(3000, loop.quit)  # read to the end and drawn
    loop.exec()
    window.grab().save(str(out))
    window.stop_following()
    window.doc.undo_stack.setClean()
    window.close()


def settle() -> None:
    """Let the closed windows finish (their deferred deletes, the trainer's threads)
    in a short event loop: a script that left them to the interpreter's teardown
    ended in a segfault (exit 139) after writing every picture."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is not None:
        QTimer.singleShot(300, app.quit)
        app.exec()


def main() -> None:
    img = HERE / "img"
    img.mkdir(exist_ok=True)
    if sys.argv[1:] == ["huggingface"]:
        huggingface(img / "huggingface.png")
        return
    if sys.argv[1:] == ["sweep"]:
        sweep(img / "compare-sweep.png")
        return
    if sys.argv[1:] == ["recurrent"]:
        recurrent(img)
        return
    designer(img / "designer.png")
    subprocess.run([sys.executable, "-m", "desklab", "gui", "--preset", "deep-sigmoid",
                    "--train-steps", "60", "--screenshot", str(img / "training.png")],
                   check=True)
    subprocess.run([sys.executable, "-m", "desklab", "gui",
                    str(HERE / "examples" / "vanishing-recovers.json"), "--train-steps", "400",
                    "--screenshot", str(img / "recovered.png")], check=True)
    compare(img / "compare.png")
    sweep(img / "compare-sweep.png")
    lesson(img / "lesson.png")
    huggingface(img / "huggingface.png")
    recurrent(img)
    print("wrote", *sorted(img.glob("*.png")))


if __name__ == "__main__":
    main()
    settle()
