"""What the gradient through time costs: steps/s of the recurrent lessons (the adding
problem, T = 100, hidden 64, batch 64, Adam) with probes off, every 25th step (the
lessons' setting) and every 10th, next to a bare PyTorch loop of the same network
written here, all in one run.

    python bench/bench_recurrent.py [--kind lstm|rnn|gru] [--length 100] [--rounds 20]

A probed step runs the layer's weights one time step at a time (so that every h_t is in
the graph); the other steps run PyTorch's fused kernel, as the bare loop does. The
loops take turns in 25-step blocks (`interleave`: this machine's speed drifts).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from desklab.engine import make_dataset, resolve_device
from desklab.lessons.recurrent import sequence_net
from interleave import DeskLabLoop, compare, print_table, sync


class BareLoop:
    """nn.LSTM / RNN / GRU (batch_first) on h_T, then a Linear, MSE, Adam 1e-2: the
    lesson's network and data, written by hand."""

    def __init__(self, design, device, kind: str):
        torch.manual_seed(0)
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.rnn = cls(2, 64, batch_first=True).to(device)
        self.head = nn.Linear(64, 1).to(device)
        self.opt = torch.optim.Adam([*self.rnn.parameters(), *self.head.parameters()],
                                    lr=1e-2)
        data = make_dataset(design)
        self.x, self.y = data.x_train.to(device), data.y_train.to(device)
        self.device, self.batch = device, design.train.batch_size
        self.gen = torch.Generator().manual_seed(0)

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            idx = torch.randint(0, len(self.x), (self.batch,), generator=self.gen)
            x, y = self.x[idx], self.y[idx]
            loss = nn.functional.mse_loss(self.head(self.rnn(x)[0][:, -1]), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        sync(self.device)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="lstm", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=20, help="25-step blocks per loop")
    args = parser.parse_args()
    device = resolve_device(args.device)
    design = sequence_net(args.kind, args.length)
    print(f"{args.kind} on the adding problem, T = {args.length}, on {device} "
          f"({torch.get_num_threads()} threads)")
    loops = {"bare PyTorch loop": BareLoop(design, device, args.kind)}
    for name, every in [("DeskLab, probes off", 0), ("DeskLab, probe every 25", 25),
                        ("DeskLab, probe every 10", 10)]:
        d = design.copy()
        d.train.probe_every = every
        loops[name] = DeskLabLoop(d, device)
    results = compare({name: loop.run for name, loop in loops.items()}, args.rounds, 25,
                      25, "bare PyTorch loop")
    for loop in loops.values():
        if isinstance(loop, DeskLabLoop):
            loop.close()
    print_table(results, args.rounds, 25)


if __name__ == "__main__":
    main()
