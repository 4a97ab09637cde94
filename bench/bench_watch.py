"""What desklab.watch costs a user's own loop: bare vs watch(every=10) vs watch(every=1).

    python bench/bench_watch.py [--model mlp|cnn] [--device cuda] [--steps 600]

The same hand-written loop (8 x 256 ReLU MLP, batch 256, Adam; or a small CNN) runs
bare and watched, interleaved, in one process; ratios are against the bare loop's
median. Where wandb is installed, ``wandb.watch(log="all", log_freq=10)`` in offline
mode on the same loop is the peer figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import desklab


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


def loop(kind: str, device, steps: int, mode: str, folder: Path) -> float:
    torch.manual_seed(0)
    model = make(kind).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = (2048, 32) if kind == "mlp" else (1024, 3, 32, 32)
    x, y = torch.randn(*shape, device=device), torch.randint(0, 10, (shape[0],), device=device)
    batch = 256 if kind == "mlp" else 64
    watcher = None
    if mode.startswith("watch"):
        every = int(mode.split("=")[1])
        watcher = desklab.watch(model, opt, every=every,
                                run=folder / f"{mode}-{time.perf_counter_ns()}")
    elif mode == "wandb":
        import wandb
        wandb.init(mode="offline", dir=str(folder), project="desklab-bench")
        wandb.watch(model, log="all", log_freq=10)

    def step(i):
        idx = torch.randint(0, shape[0], (batch,), device=device)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if watcher is not None:
            watcher.log(loss=loss)
        elif mode == "wandb":
            import wandb
            wandb.log({"loss": loss})

    for i in range(20):  # warm-up (the first optimizer step imports torch._dynamo)
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    rate = steps / (time.perf_counter() - t0)
    if watcher is not None:
        watcher.close()
    elif mode == "wandb":
        import wandb
        wandb.finish()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp", choices=("mlp", "cnn"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = torch.device(args.device)
    modes = ["bare", "watch every=10", "watch every=1"]
    try:
        import wandb  # noqa: F401
        modes.append("wandb")
    except ImportError:
        pass
    runs = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for mode in modes:
                runs[mode].append(loop(args.model, device, args.steps,
                                       mode.replace("watch every", "watch"), Path(tmp)))
    bare = statistics.median(runs["bare"])
    print(f"{args.model} on {device} ({torch.get_num_threads()} threads), {args.steps} steps "
          f"x {args.repeats} interleaved repeats")
    for mode, values in runs.items():
        median = statistics.median(values)
        print(f"{mode:<16} {median:9.1f} steps/s   x bare {median / bare:6.3f}   "
              f"(best {max(values):.1f})")
    if "wandb" not in runs:
        print("wandb is not installed here: no peer figure")


if __name__ == "__main__":
    main()
