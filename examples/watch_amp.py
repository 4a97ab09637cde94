"""Watch a mixed-precision loop: AMP autocast with a GradScaler.

    python examples/watch_amp.py [--run runs/amp] [--device cuda]

GradScaler multiplies the loss (and so every gradient) by a large scale and unscales
the gradients inside ``scaler.step``, before the optimizer runs: DeskLab reads them
after that, so the recorded gradient norms are the true, unscaled ones.
"""

import argparse

import torch
from torch import nn

import desklab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type)
    dtype = torch.bfloat16 if device.type == "cpu" else torch.float16
    x = torch.randn(512, 3, 16, 16, device=device)
    y = torch.randint(0, 10, (512,), device=device)
    with desklab.watch(model, optimizer, every=10, run=args.run, name="amp",
                       scaler=scaler) as watcher:  # dL/dh unscaled too
        for _ in range(args.steps):
            idx = torch.randint(0, len(x), (64,), device=device)
            with torch.autocast(device.type, dtype=dtype):
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)  # unscales the gradients, then optimizer.step()
            scaler.update()
            watcher.log(loss=loss)
    print(f"recorded {watcher.path}")


if __name__ == "__main__":
    main()
