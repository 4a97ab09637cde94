"""What the app costs when nothing happens: CPU over 30 s after a followed script's run.

    QT_QPA_PLATFORM=offscreen python bench/bench_idle.py [--seconds 30]

The README's ``desklab.watch`` example (examples/watch_plain.py) trains 3000 steps;
the app follows it live from the Runs dock until it ends, with the Runs dock raised
and the lessons browser open.
Then the app's event loop runs (``QEventLoop.exec``) for ``--seconds`` while this
measures the CPU time of the app's process (every thread) and of its warm trainer
process. Goal (issue 25): under 1% of a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from desklab.util.cpu_load import process_seconds

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def spin(seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="desklab-idle-"))
    runs = folder / "runs"
    os.environ["DESKLAB_RUNS"] = str(runs)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from desklab.gui.views.dialogs import LessonDialog
    from desklab.gui.views.main_window import MainWindow
    from desklab.trainer_process.client import POOL
    app = QApplication(sys.argv[:1])  # noqa: F841 - kept alive for the window
    window = MainWindow(settings=QSettings(str(folder / "s.ini"), QSettings.IniFormat))
    window.ask_save_changes = lambda: None
    window.resize(1600, 1000)
    window.show()
    spin(3)  # the trainer process warms up
    example = Path(__file__).resolve().parents[1] / "examples" / "watch_plain.py"
    script = subprocess.Popen([sys.executable, str(example), "--run", str(runs / "script"),
                               "--steps", "3000", "--every", "5"], stdout=subprocess.DEVNULL)
    path = runs / "script.desklab-run"
    while not path.exists() and script.poll() is None:
        spin(0.1)
    window.docks["runs"].raise_()
    window.follow_run(path)
    followed = window.follower
    while followed.status == "running":
        spin(0.2)
    script.wait()
    lessons = LessonDialog(window)
    lessons.show()
    spin(2)  # what the end of the run left to draw
    trainers = [t.process.pid for t in POOL.idle if t.process is not None]
    own = resource.getrusage(resource.RUSAGE_SELF)
    before = own.ru_utime + own.ru_stime
    before_trainers = sum(process_seconds(pid) for pid in trainers)
    start = time.perf_counter()
    spin(args.seconds)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    app_share = (own.ru_utime + own.ru_stime - before) / wall
    trainer_share = (sum(process_seconds(pid) for pid in trainers) - before_trainers) / wall
    print(f"followed {followed.step} steps of a script's run (ended: {followed.status}); "
          f"then {wall:.1f} s idle with the Runs dock and the lessons browser open")
    print(f"app process: {100 * app_share:.2f}% of a core; its warm trainer process: "
          f"{100 * trainer_share:.2f}% ({len(trainers)} process)")
    lessons.close()
    window.stop_following()
    window.close()


if __name__ == "__main__":
    main()
