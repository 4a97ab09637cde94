"""A small script under desklab.watch, every step probed, for bench_remote.py:
python remote_writer.py RUN STEPS PAUSE."""

import sys
import time

import torch
from torch import nn

import desklab

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                      nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
watcher = desklab.watch(model, opt, every=1, run=sys.argv[1])
for _ in range(int(sys.argv[2])):
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    watcher.log(loss=loss)
    time.sleep(float(sys.argv[3]))
watcher.close()
