"""Watch a plain PyTorch training loop with DeskLab.

    python examples/watch_plain.py [--run runs/plain] [--steps 300]

Then `desklab runs show plain` (or File > Open run in the app, also while it trains).
"""

import argparse

import torch
from torch import nn

import desklab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None, help="run file (default: the runs folder)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(),
                          nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(4096, 20), torch.randint(0, 10, (4096,))
    with desklab.watch(model, optimizer, every=args.every, run=args.run,
                       name="plain") as watcher:
        for _ in range(args.steps):
            idx = torch.randint(0, len(x), (128,))
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            watcher.log(loss=loss)  # a tensor: no host sync on unprobed steps
    print(f"recorded {watcher.path}")


if __name__ == "__main__":
    main()
