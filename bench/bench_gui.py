"""GUI responsiveness while a run trains flat out, and redraw cost with 50 layers.

    QT_QPA_PLATFORM=offscreen python bench/bench_gui.py [--seconds 8]

A QTimer probe fires every 5 ms on the GUI thread; its lateness is the event
loop's latency (p50 / p99; goal p99 < 16 ms, one frame). The design has 50
dense layers so the plots carry 50 curves each; the redraw cost is measured on
every real redraw (goal < 10 ms per frame). Probing every step (the default
here) gives the GUI the most traffic it can get.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--probe-every", type=int, default=1, dest="probe_every")
    parser.add_argument("--switch-ms", type=float, default=None,
                        help="override sys.setswitchinterval (ms) to compare")
    args = parser.parse_args()
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desklab.design import InputSpec, LayerSpec, NetworkDesign, TrainConfig
    from desklab.gui.views.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    design = NetworkDesign(
        name=f"bench-{args.layers}-layers", input=InputSpec("spiral", {"samples": 2000}),
        layers=[LayerSpec.make("dense", units=32, activation="tanh", init="xavier_normal")
                for _ in range(args.layers)],
        train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, steps=10**7,
                          probe_every=args.probe_every, eval_every=20))
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    window = MainWindow(design, settings=settings)
    window.resize(1600, 1000)
    window.show()
    view = window.training
    try:
        measure(app, view, args)
    finally:
        view.stop()
        window.doc.undo_stack.setClean()
        window.close()


def measure(app, view, args) -> None:
    from PySide6.QtCore import Qt, QTimer
    view.train()
    lateness: list[float] = []
    expected = {"t": time.perf_counter() + 0.005}

    def tick():
        now = time.perf_counter()
        lateness.append((now - expected["t"]) * 1000)
        expected["t"] = now + 0.005

    probe = QTimer()
    probe.setTimerType(Qt.PreciseTimer)
    probe.timeout.connect(tick)
    warm_until = time.perf_counter() + 2.0
    while time.perf_counter() < warm_until:  # start-up, first snapshots, first redraw
        app.processEvents()
    view.redraw_ms.clear()
    expected["t"] = time.perf_counter() + 0.005
    probe.start(5)
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0002)
    probe.stop()
    c = view.controller
    steps, sps = c.step, c.steps_per_second
    late = np.maximum(np.array(lateness), 0.0)
    redraw = np.array(view.redraw_ms)
    print(f"{args.layers} dense layers, probe every {args.probe_every} step(s), {sps:.0f} "
          f"steps/s while measuring "
          f"({steps} steps)")
    print(f"event-loop latency: p50 {np.percentile(late, 50):.1f} ms, "
          f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms "
          f"over {len(late)} probes")
    print(f"redraw: {len(redraw)} frames ({len(redraw) / args.seconds:.1f}/s), "
          f"median {np.median(redraw):.1f} ms, p99 {np.percentile(redraw, 99):.1f} ms")


if __name__ == "__main__":
    main()
