"""Commit-to-screen latency through `desklab serve` on loopback, and the server's CPU.

    python bench/bench_remote.py [--steps 300] [--pause 0.05] [--app]

A script under `desklab.watch` (every step probed, ``--pause`` seconds between steps)
writes a run; `desklab serve` serves it; this process follows it as ``runs show
--follow`` does (long polls), or with ``--app`` in DeskLab's window (offscreen, a real
event loop: File > Open remote run's code path, the follower's worker thread, the
plots redrawn for each new probe). For each piece that arrives the latency is now
minus the wall time its newest snapshot was committed (the row's ``written``: one
machine, one clock); in the app, "now" is when the window has drawn it. The server's
CPU is its user + system time over the run, read from /proc, as a share of one core.
Goals (issue 29): median < 100 ms, p90 < 200 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from desklab.runs.remote import RemoteError, RemoteRun, find_remote
from desklab.util.cpu_load import process_seconds

SCRIPT = Path(__file__).with_name("remote_writer.py")
TOKEN = "bench-token"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--app", action="store_true", help="follow in the app's window")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DESKLAB_TOKEN=TOKEN)
    server = subprocess.Popen([sys.executable, "-m", "desklab", "serve", "--runs", str(root),
                               "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              text=True)
    server.stdout.readline()
    writer = subprocess.Popen([sys.executable, str(SCRIPT), str(root / "bench"),
                               str(args.steps), str(args.pause)])
    try:
        while True:
            try:
                found = find_remote(url, "bench", TOKEN)
                break
            except RemoteError:
                time.sleep(0.05)
        cpu0, t0 = process_seconds(server.pid), time.monotonic()
        latencies, snapshots = (in_app if args.app else in_client)(url, found)
        cpu = (process_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
    finally:
        writer.wait(120)
        server.kill()
    ms = np.array(latencies) * 1000
    print(f"{snapshots} snapshots in {len(ms)} pieces, one every {args.pause * 1000:.0f} ms "
          f"(+ the step) on loopback")
    where = "screen (the app)" if args.app else "client"
    print(f"commit -> {where}: median {np.median(ms):.0f} ms, p90 "
          f"{np.percentile(ms, 90):.0f} ms, max {ms.max():.0f} ms")
    print(f"server CPU while following: {cpu * 100:.1f}% of one core")


def in_client(url: str, found: dict) -> tuple[list[float], int]:
    """Seconds from commit to arrival of each piece, and the snapshots read."""
    run = RemoteRun(url, found["id"], TOKEN)
    latencies, cursor, snapshots = [], None, 0
    while True:
        events, cursor = run.events(cursor, wait=5.0)
        got = sum(kind == "snapshot" for kind, _ in events)
        if got:
            latencies.append(time.time() - cursor["written"])
            snapshots += got
        elif run.ended:
            return latencies, snapshots


def in_app(url: str, found: dict) -> tuple[list[float], int]:
    """Seconds from commit to the window's redraw of each new probe, following in
    DeskLab's own window on a real event loop (``QEventLoop.exec``)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from desklab.gui.controllers.feed import ENDED
    from desklab.gui.views.main_window import MainWindow
    app = QApplication.instance() or QApplication([])  # noqa: F841 - the GUI needs one
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.IniFormat)
    window = MainWindow(settings=settings, offer_restore=False)
    window.resize(1600, 1000)
    window.show()
    window.connect_remote(url, TOKEN)
    window.follow_remote(found)
    loop, timer = QEventLoop(), QTimer()
    timer.timeout.connect(lambda: window.follower is not None and
                          window.follower.state in ENDED and loop.quit())
    timer.start(100)
    loop.exec()
    timer.stop()
    follower = window.follower
    lags, snapshots = list(follower.drawn_lag_ms), follower.snapshots_received
    window.shutdown()
    return [lag / 1000 for lag in lags], snapshots


if __name__ == "__main__":
    main()
