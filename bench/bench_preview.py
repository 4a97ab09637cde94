"""Edit-to-preview latency of the designer for the 10 x 500 MLP (init experiment).

    QT_QPA_PLATFORM=offscreen python bench/bench_preview.py [--edits 20]

Each edit changes one layer's init or width through the document (as the
inspector does); the time is from the edit to the preview panel showing the new
probe. Prints median, p90 and max in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desklab.design.edit import set_field
    from desklab.gui.views.main_window import MainWindow
    from desklab.lessons import get_preset

    app = QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    window = MainWindow(get_preset("init-tanh-xavier"), settings=settings)
    window.show()

    def wait_for_preview(timeout=10.0):
        done = []
        window.preview.updated.connect(done.append)
        end = time.perf_counter() + timeout
        while not done and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)
        window.preview.updated.disconnect(done.append)
        return done[0] if done else None

    wait_for_preview()  # the first probe warms up torch
    latencies = []
    inits = ["xavier_normal", "he_normal", "gaussian", "orthogonal"]
    for i in range(args.edits):
        layer = i % 10
        if i % 2:
            change = ("init", inits[i % len(inits)])
        else:
            change = ("units", 480 + i)
        start = time.perf_counter()
        window.doc.edit("bench", lambda d, c=change, l=layer: set_field(d, (l,), *c))
        shown = wait_for_preview()
        if shown is None:
            print("a preview did not arrive")
            continue
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    p90 = latencies[int(0.9 * (len(latencies) - 1))]
    print(f"10 x 500 MLP, {len(latencies)} edits: edit -> preview shown median "
          f"{statistics.median(latencies):.0f} ms, p90 {p90:.0f} ms, max {latencies[-1]:.0f} ms")
    window.doc.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
