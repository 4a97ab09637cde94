"""How long each real-size lesson takes: measured steps, probes and evaluations, projected
to the lesson's whole run.

    python bench/bench_lessons.py [--device cuda] [--seconds 3] [--lessons lenet-mnist,...]

The data are random files of the real sizes in the real formats (MNIST's 60,000 + 10,000
IDX images, CIFAR-10's five pickled batches of 10,000 and its test batch), so every
lesson reads, uploads and augments what the real download gives it. For each lesson the
trainer runs the design as it ships (its batch, optimizer, probe interval) with
evaluation held off: 30 untimed steps, then whole probe intervals until ``--seconds``
have passed. One evaluation (the validation pass over the 10,000 test images, with its
confusion counts) is timed apart. The projection is steps x step time + evaluations x
evaluation time; random images do not learn, so accuracy is not measured here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from desklab.engine import resolve_device
from desklab.engine.evaluate import validation_sums
from desklab.lessons import get_preset
from desklab.lessons.real_size import REAL_SIZE
from desklab.util.data_root import set_data_root
from bench_resnet20 import write_fake_cifar
from interleave import DeskLabLoop, record, sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fake_datasets import write_mnist  # noqa: E402 - the tests' IDX writer


def time_lesson(slug: str, device: torch.device, seconds: float) -> dict:
    design = get_preset(slug)
    steps, every = design.train.steps, max(1, design.train.probe_every)
    loop = DeskLabLoop(design, device)  # evaluation held off; probes as designed
    try:
        loop.run(30)  # warm-up: cuDNN's algorithm search, torch._dynamo's import
        done, spent = 0, 0.0
        while spent < seconds or done == 0:
            spent += loop.run(every)
            done += every
        trainer = loop.trainer
        data = trainer.data
        x_val, y_val = data.x_val.to(device), data.y_val.to(device)
        validation_sums(trainer.model, x_val, y_val, data.task, data.classes,
                        data.eval_batch, trainer.confusion)  # warm-up
        sync(device)
        start = time.perf_counter()
        validation_sums(trainer.model, x_val, y_val, data.task, data.classes,
                        data.eval_batch, trainer.confusion)
        sync(device)
        eval_s = time.perf_counter() - start
    finally:
        loop.close()
    step_s = spent / done
    evals = steps // design.train.eval_every
    return {"steps": steps, "batch": design.train.batch_size, "probe_every": every,
            "timed_steps": done, "ms_per_step": 1e3 * step_s, "eval_s": eval_s,
            "evaluations": evals, "minutes": (steps * step_s + evals * eval_s) / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed per lesson")
    parser.add_argument("--lessons", default=",".join(p.slug for p in REAL_SIZE))
    args = parser.parse_args()
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"real-size lessons on {device} ({name}), {args.seconds:g} s timed each")
    results = {}
    with tempfile.TemporaryDirectory() as root:
        write_mnist(Path(root), train=60000, test=10000)
        write_fake_cifar(Path(root), 10000)
        set_data_root(Path(root))
        try:
            print(f"{'lesson':<20}{'steps':>7}{'ms/step':>9}{'eval s':>8}{'minutes':>9}")
            for slug in args.lessons.split(","):
                r = results[slug] = time_lesson(slug, device, args.seconds)
                print(f"{slug:<20}{r['steps']:>7}{r['ms_per_step']:>9.2f}"
                      f"{r['eval_s']:>8.2f}{r['minutes']:>9.1f}", flush=True)
        finally:
            set_data_root(None)
    record(f"real-size lessons on {device} ({name})", lessons=results)


if __name__ == "__main__":
    main()
