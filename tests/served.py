"""A watched script and `desklab serve` in processes of their own, for the tests that
follow a run through the server (tests/serve, the remote story)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

TOKEN = "test-token-0123456789"
SCRIPT = """
import sys, time, torch
from torch import nn
import desklab
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
w = desklab.watch(model, opt, every=2, run=sys.argv[1])
for step in range(int(sys.argv[2])):
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    w.log(loss=loss)
    time.sleep(float(sys.argv[3]))
w.close()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(root: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, DESKLAB_TOKEN=TOKEN)
    proc = subprocess.Popen([sys.executable, "-m", "desklab", "serve", "--runs", str(root),
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert "serving" in proc.stdout.readline()
    return proc


def script(root: Path, steps: int, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(root / "watched"),
                             str(steps), str(pause)])


def wait_for(predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")
