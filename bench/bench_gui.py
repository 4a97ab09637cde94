"""GUI responsiveness while a run trains flat out, and the cost of drawing 50 layers.

    QT_QPA_PLATFORM=offscreen python bench/bench_gui.py [--seconds 8] [--layers 50]

The window trains a 50-layer tanh MLP probed every step (the most traffic the live view
can get) in its trainer process, while the GUI thread runs its real event loop
(``QEventLoop.exec``, no ``processEvents`` loop: that would starve nothing now, but it
would hide the latency it measures). A 5 ms QTimer's lateness is the event loop's
latency (goal: p99 < 16 ms, one frame). Also printed: each redraw tick's cost (a
panel's update), each panel's paint, and the steps/s the run recorded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--probe-every", type=int, default=1, dest="probe_every")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="desklab-bench-gui-"))
    os.environ["DESKLAB_RUNS"] = str(folder / "runs")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from bench_live_tax import LatenessProbe, _warm, tanh50
    from desklab.gui.views.main_window import MainWindow
    from desklab.runs import RunReader
    app = QApplication(sys.argv[:1])  # noqa: F841 - kept alive for the window
    design = tanh50(10**7)
    design.layers = design.layers[:args.layers]
    design.train.probe_every = args.probe_every
    window = MainWindow(settings=QSettings(str(folder / "s.ini"), QSettings.IniFormat))
    window.resize(1600, 1000)
    window.show()
    view = window.training
    paints = {type(p).__name__: [] for p in view.panels}
    try:
        while not _warm():
            pass
        window.doc.replace(design, None)
        view.act_train.trigger()
        loop = QEventLoop()
        QTimer.singleShot(2000, loop.quit)  # start-up, first snapshots, first redraws
        loop.exec()
        view.redraw_ms.clear()
        probe = LatenessProbe()
        sample = QTimer()  # each panel's last paint, read 20 times a second
        sample.timeout.connect(lambda: [paints[type(p).__name__].append(p.last_paint_ms)
                                        for p in view.panels])
        sample.start(50)
        probe.start()
        QTimer.singleShot(int(args.seconds * 1000), loop.quit)
        began, step0 = time.perf_counter(), view.controller.step
        loop.exec()
        probe.stop()
        sample.stop()
        rate = (view.controller.step - step0) / (time.perf_counter() - began)
        view.stop_and_reset()
        reader = RunReader(view.controller.run_path)
        threads = reader.meta.get("threads", {}).get("threads")
        reader.close()
    finally:
        window.doc.undo_stack.setClean()
        window.close()
    late = np.array(probe.late)
    redraw = np.array(view.redraw_ms)
    print(f"{args.layers} dense layers, probe every {args.probe_every} step(s): trainer "
          f"{rate:.1f} steps/s on {threads} thread(s) while measuring")
    print(f"event-loop lateness: p50 {np.percentile(late, 50):.1f} ms, p99 "
          f"{np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms over {len(late)} ticks")
    print(f"redraw ticks: {len(redraw)} ({len(redraw) / args.seconds:.1f}/s), median "
          f"{np.median(redraw):.1f} ms, p99 {np.percentile(redraw, 99):.1f} ms")
    for name, values in paints.items():
        v = np.array([x for x in values if x > 0])
        if v.size:
            print(f"  {name:<16} paint: median {np.median(v):.1f} ms, p99 "
                  f"{np.percentile(v, 99):.1f} ms")


if __name__ == "__main__":
    main()
