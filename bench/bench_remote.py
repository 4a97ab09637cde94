"""Commit-to-client latency through `desklab serve` on loopback, and the server's CPU.

    python bench/bench_remote.py [--steps 300] [--pause 0.05]

A script under `desklab.watch` (every step probed, ``--pause`` seconds between steps)
writes a run; `desklab serve` serves it; this process follows it as the app and
``runs show --follow`` do (long polls). For each piece that arrives, the latency is
now minus the wall time its newest snapshot was committed (the row's ``written``: one
machine, one clock). The server's CPU is its user + system time over the run, read
from /proc, as a share of one core. Goals (issue 29): median < 100 ms, p90 < 200 ms.
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
        run = RemoteRun(url, found["id"], TOKEN)
        cpu0, t0 = process_seconds(server.pid), time.monotonic()
        latencies, cursor, snapshots = [], None, 0
        while True:
            events, cursor = run.events(cursor, wait=5.0)
            got = sum(kind == "snapshot" for kind, _ in events)
            if got:
                latencies.append(time.time() - cursor["written"])
                snapshots += got
            elif run.ended:
                break
        cpu = (process_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
    finally:
        writer.wait(120)
        server.kill()
    ms = np.array(latencies) * 1000
    print(f"{snapshots} snapshots in {len(ms)} pieces, one every {args.pause * 1000:.0f} ms "
          f"(+ the step) on loopback")
    print(f"commit -> client: median {np.median(ms):.0f} ms, p90 {np.percentile(ms, 90):.0f} "
          f"ms, max {ms.max():.0f} ms")
    print(f"server CPU while following: {cpu * 100:.1f}% of one core")


if __name__ == "__main__":
    main()
