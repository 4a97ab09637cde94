"""Watch DistributedDataParallel training: two CPU processes, the gloo backend.

    python examples/watch_ddp.py --run runs/ddp [--ranks 0|all]

By default only rank 0 records (one run); ``--ranks all`` writes one run per rank,
``runs/ddp/rank-0`` and ``rank-1``. Gradients are read after DDP's all-reduce, and the
watcher adds no collective of its own.
"""

import argparse
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import desklab


def train(rank: int, world: int, port: int, run: str, ranks: str, steps: int) -> None:
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        _train(rank, run, ranks, steps)
        # every rank is done before any tears its connections down, as PyTorch's own
        # distributed tests do: once in CI, rank 1 (which records nothing, so finishes
        # first) aborted at the end with "terminate called without an active exception"
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _train(rank: int, run: str, ranks: str, steps: int) -> None:
    torch.manual_seed(0)  # the same initial weights on every rank
    model = nn.parallel.DistributedDataParallel(
        nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.manual_seed(1 + rank)  # each rank its own shard of data
    x, y = torch.randn(256, 16), torch.randint(0, 4, (256,))
    with desklab.watch(model, optimizer, every=5, run=run, ranks=ranks,
                       name="ddp") as watcher:
        for _ in range(steps):
            idx = torch.randint(0, len(x), (32,))
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces the gradients here
            optimizer.step()
            watcher.log(loss=loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--ranks", default="0", choices=("0", "all"))
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(train, args=(2, port, args.run, args.ranks, args.steps), nprocs=2)


if __name__ == "__main__":
    main()
