"""Block-interleaved timing: several training loops advance in turn, BLOCK steps each.

This machine's speed drifts by 5-15% over tens of seconds (a shared VM). Timing one
loop for 10 s and then the next compares the drift as much as the loops. Here every
loop lives for the whole benchmark and they take turns in short blocks, so a round's
blocks see the same machine; the ratio of a round's times is taken per round and the
median over rounds is reported (the totals too).

A loop is any object with ``run(n) -> seconds``: `DeskLabLoop` drives a DeskLab
`Trainer` one block at a time through its event generator.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

import desklab.engine.trainer as trainer_module
from desklab.engine.trainer import Trainer


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class DeskLabLoop:
    """A DeskLab run advanced ``n`` steps per `run` call. The run never ends, and never
    evaluates unless ``evaluate`` keeps the design's ``eval_every``."""

    def __init__(self, design, device: torch.device, evaluate: bool = False):
        design = design.copy()
        design.train.steps = 10 ** 7  # the most allowed
        if not evaluate:
            design.train.eval_every = 10 ** 5
        # a progress event after every step marks the block's end exactly; on the CPU
        # it costs ~10 us a step, charged to DeskLab
        trainer_module.PROGRESS_INTERVAL_S = 0.0
        self.device = device
        self.trainer = Trainer(design, device=device.type)
        self.events = self.trainer.events()
        self.done = 0

    def run(self, n: int) -> float:
        target = self.done + n
        start = time.perf_counter()
        for event in self.events:
            if event.kind == "progress" and event.step >= target:
                self.done = event.step
                break
            if event.kind == "ended":
                raise RuntimeError(f"the run ended early: {event.payload}")
        sync(self.device)
        return time.perf_counter() - start

    def close(self) -> None:
        self.events.close()
        self.trainer.prober.remove()


def compare(loops: dict[str, Callable[[int], float]], rounds: int, block: int,
            warm_up: int, reference: str) -> dict[str, dict[str, float]]:
    """Run ``warm_up`` untimed steps of every loop, then ``rounds`` rounds of one
    ``block``-step turn each. Returns, per loop, steps/s over all its blocks, the ratio of
    totals to ``reference`` and the median of the per-round ratios."""
    for run in loops.values():
        run(warm_up)
    times = {name: [] for name in loops}
    for _ in range(rounds):
        for name, run in loops.items():
            times[name].append(run(block))
    ref = times[reference]
    out = {}
    for name, values in times.items():
        out[name] = {
            "steps_per_s": block * len(values) / sum(values),
            "total_ratio": sum(ref) / sum(values),
            "median_ratio": statistics.median(r / v for r, v in zip(ref, values)),
        }
    return out


def record(label: str, **figures) -> None:
    """Append ``figures`` as one JSON line to ``$DESKLAB_BENCH_JSON``, where it is set
    (``bench/gpu_check.sh`` gathers every bench's lines into one file)."""
    path = os.environ.get("DESKLAB_BENCH_JSON")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"bench": Path(sys.argv[0]).stem, "args": sys.argv[1:],
                                  "label": label, **figures}) + "\n")


def report_graphs(loops: dict, label: str) -> None:
    """What each loop run with ``train.cuda_graphs`` replayed, and why it did not where
    it did not: printed, and recorded (a recording that failed leaves the loop eager,
    and its ratio would read as the graphs' otherwise)."""
    graphs = {name: loop.trainer.graph.as_dict() for name, loop in loops.items()
              if isinstance(loop, DeskLabLoop) and loop.trainer.graph is not None}
    for name, figures in graphs.items():
        print(f"{name}: {figures}")
    if graphs:
        record(f"{label}: CUDA graphs", graphs=graphs)


def print_table(results: dict[str, dict[str, float]], rounds: int, block: int,
                label: str = "") -> None:
    """Print ``results`` (from `compare`); with ``DESKLAB_BENCH_JSON`` set, also append
    them to that file as one JSON line (``bench/gpu_check.sh`` gathers them)."""
    record(label, rounds=rounds, block=block, results=results)
    print(f"{rounds} rounds of {block}-step blocks, interleaved")
    print(f"{'':<36}{'steps/s':>9}  {'x bare (median of rounds)':>26}  {'x bare (totals)':>16}")
    for name, r in results.items():
        print(f"{name:<36}{r['steps_per_s']:9.2f}  {r['median_ratio']:26.3f}  "
              f"{r['total_ratio']:16.3f}")
