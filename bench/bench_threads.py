"""Threads that fit the machine: ``desklab train`` with one core busy, and ResNet-20.

    python bench/bench_threads.py [--rounds 3] [--skip-resnet]

1. ``deep-sigmoid`` and ``bench-mlp``, each round in turn: ``desklab train`` on an idle
   machine, ``desklab train`` while a process this bench starts spins on one core, and
   a bare PyTorch loop of the same network, data and optimizer with torch's default
   threads under the same load. Goals (issue 24): busy >= 0.75 of idle; DeskLab's auto
   threads >= 1.2x the default-thread bare loop.
2. ResNet-20 on fake CIFAR-10 batches, idle: ``--threads 1``, ``--threads 2`` ... and
   the automatic choice (its second run, which starts from the cached choice: the first
   run's own measurement is reported too). Goal: auto >= 0.97 of the best fixed count.

Every figure is the steps/s each run reports of its own training loop (start-up and
data loading excluded), the median over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BARE = r"""
import sys, time, torch
from desklab.design.fileformat import load_design
from desklab.engine import build, make_dataset, task_loss
from desklab.engine.optim import make_optimizer
design = load_design(sys.argv[1]); steps = int(sys.argv[2])
data = make_dataset(design); model = build(design); opt = make_optimizer(design.train, model)
x, y, b = data.x_train, data.y_train, design.train.batch_size
def step(i):
    idx = torch.randint(0, len(x) - b, (1,)).item()
    loss = task_loss(model(x[idx:idx + b]), y[idx:idx + b], data.task)
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
for i in range(5): step(i)
start = time.perf_counter()
for i in range(steps): step(i)
print(steps / (time.perf_counter() - start))
"""


def desklab_train(design: Path, steps: int, extra: list[str], env: dict) -> dict:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    subprocess.run([sys.executable, "-m", "desklab", "train", str(design), "--steps",
                    str(steps), "--quiet", "--no-record", "--json", str(out), *extra],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    report = json.loads(out.read_text())
    out.unlink()
    return {"rate": report["timing"]["steps_per_second"], "threads": report["threads"]}


def bare(design: Path, steps: int, env: dict) -> float:
    done = subprocess.run([sys.executable, "-c", BARE, str(design), str(steps)],
                          check=True, capture_output=True, text=True, env=env)
    return float(done.stdout.strip())


class Spinner:
    """A process keeping one core busy while it lives."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def busy_core(folder: Path, rounds: int, env: dict) -> None:
    from desklab.design.fileformat import save_design
    from desklab.lessons import get_preset
    for name, steps in (("deep-sigmoid", 1500), ("bench-mlp", 300)):
        path = folder / f"{name}.json"
        save_design(get_preset(name), path)
        idle, busy, plain = [], [], []
        for _ in range(rounds):
            idle.append(desklab_train(path, steps, [], env))
            with Spinner():
                busy.append(desklab_train(path, steps, [], env))
                plain.append(bare(path, steps, env))
        i = statistics.median(r["rate"] for r in idle)
        b = statistics.median(r["rate"] for r in busy)
        p = statistics.median(plain)
        print(f"{name}: desklab train idle {i:.1f} steps/s ({_threads(idle)}), one core "
              f"busy {b:.1f} ({_threads(busy)}): {b / i:.2f} of idle; bare loop, default "
              f"threads, one core busy {p:.1f}: auto threads {b / p:.2f}x")


def resnet(folder: Path, rounds: int, env: dict) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_resnet20 import write_fake_cifar

    from desklab.design.fileformat import save_design
    from desklab.lessons import get_preset
    from desklab.util.cpu_load import cpu_count
    data = folder / "data"
    write_fake_cifar(data, 512)
    path = folder / "resnet-20.json"
    save_design(get_preset("resnet-20"), path)
    env = {**env, "DESKLAB_DATA": str(data)}
    steps = 40
    fixed = {n: [] for n in sorted({1, 2, cpu_count()})}
    auto, first = [], desklab_train(path, steps, [], env)  # measures, then caches
    for _ in range(rounds):
        for n in fixed:
            fixed[n].append(desklab_train(path, steps, ["--threads", str(n)], env)["rate"])
        auto.append(desklab_train(path, steps, [], env))
    best_n, best = max(((n, statistics.median(v)) for n, v in fixed.items()),
                       key=lambda item: item[1])
    a = statistics.median(r["rate"] for r in auto)
    print("resnet-20: " + ", ".join(f"{n} thread{'s' if n > 1 else ''} "
                                    f"{statistics.median(v):.2f}" for n, v in fixed.items())
          + f" steps/s; auto {a:.2f} ({_threads(auto)}): {a / best:.3f} of the best fixed "
            f"({best_n}); its first run measured {first['threads']['seconds_per_step']} "
            f"s/step and trained at {first['rate']:.2f}")


def _threads(runs: list[dict]) -> str:
    counts = sorted({r["threads"]["threads"] for r in runs})
    return f"{'/'.join(map(str, counts))} thread{'s' if counts != [1] else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-resnet", action="store_true", dest="skip_resnet")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="desklab-threads-"))
    env = {**os.environ, "DESKLAB_CACHE": str(folder / "cache")}
    busy_core(folder, args.rounds, env)
    if not args.skip_resnet:
        resnet(folder, args.rounds, env)


if __name__ == "__main__":
    main()
