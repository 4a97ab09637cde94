"""What desklab.watch costs a user's own loop: bare vs watch(every=10) vs watch(every=1).

    python bench/bench_watch.py [--model mlp|cnn] [--device cuda] [--rounds 60]

The same hand-written loop (8 x 256 ReLU MLP, batch 256, Adam; or a small CNN) runs
bare and watched in one process, taking turns in 10-step blocks (`interleave`: this
machine's speed drifts); ratios are against the bare loop, per round. Where wandb is
installed, ``wandb.watch(log="all", log_freq=10)`` in offline mode on the same loop is
the peer figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import desklab
from interleave import compare, print_table, sync


def make(kind: str) -> nn.Module:
    if kind == "mlp":
        layers, width = [], 32
        for _ in range(8):
            layers += [nn.Linear(width, 256), nn.ReLU()]
            width = 256
        return nn.Sequential(*layers, nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 10))


class Loop:
    """One hand-written training loop, bare or watched, advanced ``n`` steps per `run`."""

    def __init__(self, kind: str, device, mode: str, folder: Path):
        torch.manual_seed(0)
        self.device, self.mode = device, mode
        self.model = make(kind).to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        shape = (2048, 32) if kind == "mlp" else (1024, 3, 32, 32)
        self.x = torch.randn(*shape, device=device)
        self.y = torch.randint(0, 10, (shape[0],), device=device)
        self.batch = 256 if kind == "mlp" else 64
        self.watcher = None
        if mode.startswith("watch"):
            every = int(mode.split("=")[1])
            self.watcher = desklab.watch(self.model, self.opt, every=every,
                                         run=folder / f"{mode}-{time.perf_counter_ns()}")
        elif mode == "wandb":
            import wandb
            wandb.init(mode="offline", dir=str(folder), project="desklab-bench")
            wandb.watch(self.model, log="all", log_freq=10)

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            idx = torch.randint(0, len(self.x), (self.batch,), device=self.device)
            loss = nn.functional.cross_entropy(self.model(self.x[idx]), self.y[idx])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if self.watcher is not None:
                self.watcher.log(loss=loss)
            elif self.mode == "wandb":
                import wandb
                wandb.log({"loss": loss})
        sync(self.device)
        return time.perf_counter() - start

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
        elif self.mode == "wandb":
            import wandb
            wandb.finish()


def phase(modes: list[str], args, device, folder: Path) -> dict:
    """One interleaved comparison of ``modes`` (the first is the reference)."""
    loops = {m: Loop(args.model, device, m.replace("watch every", "watch"), folder)
             for m in modes}
    # 20 untimed steps (the first optimizer step imports torch._dynamo; watch finds its
    # modules on its first step); then 10-step blocks, one probe each at every=10
    try:
        return compare({m: loop.run for m, loop in loops.items()}, args.rounds, 10, 20,
                       modes[0])
    finally:
        for loop in loops.values():
            loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp", choices=("mlp", "cnn"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=60, help="10-step blocks per loop")
    args = parser.parse_args()
    device = torch.device(args.device)
    try:
        import wandb  # noqa: F401
        peer = True
    except ImportError:
        peer = False
    print(f"{args.model} on {device} ({torch.get_num_threads()} threads)")
    with tempfile.TemporaryDirectory() as tmp:
        print_table(phase(["bare", "watch every=10", "watch every=1"], args, device,
                          Path(tmp)), args.rounds, 10)
        if peer:
            # a phase of its own: wandb's service process works in the background for as
            # long as its run is open, and would slow the other loops' blocks too
            print("peer, against its own bare loop:")
            print_table(phase(["bare", "wandb"], args, device, Path(tmp)), args.rounds, 10)
        else:
            print("wandb is not installed here: no peer figure")


if __name__ == "__main__":
    main()
