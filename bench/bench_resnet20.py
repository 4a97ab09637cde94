"""ResNet-20 on CIFAR-shaped data: DeskLab's trainer against a bare PyTorch loop.

    python bench/bench_resnet20.py [--device cuda] [--rounds 8]

Both train the same network (He et al. 2016's ResNet-20, 0.27M parameters) on the
same random CIFAR-10-shaped images (uint8 on the device, batch 128, random crop + flip,
per-channel normalisation, SGD with momentum). The bare loop is written here in plain
torch; DeskLab runs the resnet-20 preset from a data folder of fake CIFAR batches.
It prints steps/s and the ratios in one run, plus the data pipeline's share of a step
(slicing the batch on the device, augmenting and normalising it). All loops run
WARM_UP steps untimed, then take turns in 10-step blocks (`interleave`), so each block
of a probed-every-10 run holds one probed step.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from desklab.engine import resolve_device
from desklab.lessons import get_preset
from desklab.util.data_root import set_data_root
from interleave import DeskLabLoop, compare, print_table, report_graphs, sync

BATCH = 128
WARM_UP = 3  # steps run before the timing starts, in both loops


def write_fake_cifar(root: Path, per_batch: int) -> None:
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, per_batch).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=4))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else \
            nn.Conv2d(c_in, c_out, 1, stride, bias=False)  # option B, as the preset

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


def resnet20() -> nn.Module:
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    c_in = 16
    for stage, c_out in enumerate((16, 32, 64)):
        for block in range(3):
            layers.append(BasicBlock(c_in, c_out, 2 if stage and not block else 1))
            c_in = c_out
    layers += [nn.AvgPool2d(8), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def augment(x: torch.Tensor, gen: torch.Generator, mean, std) -> torch.Tensor:
    """uint8 (B, 3, 32, 32) -> random crop of the 4-padded image, flip, normalise."""
    x = x.float() / 255.0
    b = x.shape[0]
    padded = nn.functional.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (b,), device=x.device, generator=gen)
    dx = torch.randint(0, 9, (b,), device=x.device, generator=gen)
    ar = torch.arange(32, device=x.device)
    rows = (dy[:, None] + ar)[:, None, :, None]
    cols = (dx[:, None] + ar)[:, None, None, :]
    x = padded[torch.arange(b, device=x.device)[:, None, None, None],
               torch.arange(3, device=x.device)[None, :, None, None], rows, cols]
    flip = torch.rand(b, device=x.device, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return (x - mean) / std


class Bare:
    """The bare loop: the whole set on the device as uint8, batches sliced there."""

    def __init__(self, x: np.ndarray, y: np.ndarray, device):
        torch.manual_seed(0)
        self.device = device
        self.model = resnet20().to(device)
        # weight decay 1e-4 = the preset's L2 penalty 5e-5 * sum W² (gradient 1e-4 W)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9,
                                   weight_decay=1e-4)
        self.x = torch.from_numpy(x).to(device)
        self.y = torch.from_numpy(y).to(device)
        self.mean = self.x.float().mean((0, 2, 3), keepdim=True) / 255.0
        self.std = (self.x.float() / 255.0).std((0, 2, 3), keepdim=True)
        self.gen = torch.Generator(device=device).manual_seed(0)
        self.cpu_gen = torch.Generator().manual_seed(0)
        self.feed = None

    def batches(self):
        while True:
            order = torch.randperm(len(self.x), generator=self.cpu_gen).to(self.device)
            for start in range(0, len(self.x) - BATCH + 1, BATCH):
                idx = order[start:start + BATCH]
                yield augment(self.x[idx], self.gen, self.mean, self.std), self.y[idx]

    def run(self, steps: int) -> float:
        """Seconds for the next ``steps`` steps (the batch stream carries on)."""
        if self.feed is None:
            self.feed = self.batches()
        t0 = time.perf_counter()
        for _ in range(steps):
            self._step(*next(self.feed))
        sync(self.device)
        return time.perf_counter() - t0

    def _step(self, x, y):
        loss = nn.functional.cross_entropy(self.model(x), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def pipeline_seconds(self, n: int) -> float:
        feed = self.batches()
        next(feed)
        sync(self.device)
        t0 = time.perf_counter()
        for _ in range(n):
            next(feed)
        sync(self.device)
        return (time.perf_counter() - t0) / n


def resnet_design():
    design = get_preset("resnet-20")
    design.train.batch_size = BATCH
    return design


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=0, help="default: 30 on a GPU, 8 CPU")
    parser.add_argument("--images", type=int, default=10000, help="training images")
    args = parser.parse_args()
    device = resolve_device(args.device)
    rounds = args.rounds or (30 if device.type == "cuda" else 8)
    with tempfile.TemporaryDirectory() as tmp:
        write_fake_cifar(Path(tmp), args.images // 5)
        set_data_root(tmp)
        from desklab.engine.real_data import load_arrays
        x, y, _, _ = load_arrays("cifar10", Path(tmp))
        print(f"ResNet-20, batch {BATCH}, {len(x)} CIFAR-shaped images, {device} "
              f"({torch.get_num_threads()} threads)")
        design = resnet_design()
        variants = {"DeskLab, probes off": (0, True), "DeskLab, probe every 10": (10, True),
                    "DeskLab, probe every step": (1, True)}
        if device.type == "cuda":  # the probe's reduction without its CUDA graph, and
            # the steps replayed from graphs (train.cuda_graphs; "DeskLab, " cut)
            variants["DeskLab, every step, no graph"] = (1, False)
            variants.update({f"cuda_graphs, {name[9:]}": every_graphs for name, every_graphs
                             in list(variants.items())[:3]})
        bare = Bare(x, y, device)
        loops = {"bare PyTorch loop": bare.run}
        desk = {}
        for name, (every, graphs) in variants.items():
            d = design.copy()
            d.train.probe_every = every
            d.train.cuda_graphs = name.startswith("cuda_graphs")
            desk[name] = DeskLabLoop(d, device)
            desk[name].trainer.prober.device_reducer.graphs = graphs
            loops[name] = desk[name].run
        # blocks of 10 from step WARM_UP: each holds exactly one probed step (10, 20, ...)
        results = compare(loops, rounds, 10, WARM_UP, "bare PyTorch loop")
        report_graphs(desk, f"ResNet-20 on {device}")
        for loop in desk.values():
            loop.close()
        pipeline = bare.pipeline_seconds(20)
    print_table(results, rounds, 10, f"ResNet-20 on {device}")
    step_s = 1.0 / results["bare PyTorch loop"]["steps_per_s"]
    print(f"data pipeline (slice, augment, normalise on the device): {pipeline * 1e3:.2f} ms "
          f"of a {step_s * 1e3:.1f} ms step = {100 * pipeline / step_s:.1f}%")


if __name__ == "__main__":
    main()
