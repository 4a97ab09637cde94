"""Following a watched script live: latency to the screen and GUI cost, 200 probe points.

    QT_QPA_PLATFORM=offscreen python bench/bench_follow.py [--modules 200] [--seconds 10]

Another process trains an MLP of ``modules / 2`` Linear + ReLU pairs (width 64) under
``desklab.watch(every=2)``, as fast as it can; the app follows its run file. Printed:
commit-to-screen latency per probe (goal < 200 ms), the cost of drawing every panel for
one probe, and the GUI event loop's latency (a 5 ms QTimer's lateness; p99 goal 16 ms).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SCRIPT = """
import sys, torch
torch.set_num_threads(1)  # leave the other core to the app (2-core machine)
from torch import nn
import desklab
torch.manual_seed(0)
pairs = int(sys.argv[2])
layers = []
for _ in range(pairs):
    layers += [nn.Linear(64, 64), nn.ReLU()]
model = nn.Sequential(nn.Linear(16, 64), *layers, nn.Linear(64, 4))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(512, 16), torch.randint(0, 4, (512,))
with desklab.watch(model, opt, every=2, run=sys.argv[1], name="deep-watched") as w:
    for step in range(10**9):
        loss = nn.functional.cross_entropy(model(x[:64]), y[:64])
        opt.zero_grad(); loss.backward(); opt.step()
        w.log(loss=loss)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desklab.gui.views.main_window import MainWindow
    from desklab.lessons import get_preset
    from desklab.runs import RunReader

    app = QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp())
    run = tmp / "deep.desklab-run"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(run),
                             str((args.modules - 2) // 2)])
    settings = QSettings(str(tmp / "s.ini"), QSettings.IniFormat)
    window = MainWindow(get_preset("deep-relu"), settings=settings, offer_restore=False)
    window.resize(1600, 1000)
    window.show()
    try:
        while True:  # until the first probe is committed
            app.processEvents()
            try:
                reader = RunReader(run)
                ready = reader.layout is not None
                reader.close()
                if ready:
                    break
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.05)
        window.follow_run(run)
        follower = window.follower
        lateness, last = [], [time.perf_counter()]

        def tick():
            now = time.perf_counter()
            lateness.append((now - last[0]) * 1000 - 5)
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        timer.start()
        redraws_before = len(window.training.redraw_ms)
        end = time.perf_counter() + args.seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        lags = np.array(follower.drawn_lag_ms[1:])
        redraw = np.array(window.training.redraw_ms[redraws_before:])
        late = np.array(lateness[20:])
        n = len(follower.history.layout.names)
        print(f"following a watched MLP with {n} probe points, {len(lags)} probes drawn "
              f"in {args.seconds:.0f} s (script at {follower.step / args.seconds:.0f} "
              f"steps/s)")
        print(f"commit -> screen: median {np.median(lags):.0f} ms, p90 "
              f"{np.percentile(lags, 90):.0f} ms, max {lags.max():.0f} ms")
        print(f"drawing all panels for one probe: median {np.median(redraw):.1f} ms, p90 "
              f"{np.percentile(redraw, 90):.1f} ms")
        print(f"event loop lateness: p50 {np.percentile(late, 50):.1f} ms, p99 "
              f"{np.percentile(late, 99):.1f} ms")
    finally:
        proc.kill()
        proc.wait()
        window.stop_following()
        window.doc.undo_stack.setClean()
        window.close()


if __name__ == "__main__":
    main()
