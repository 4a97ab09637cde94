"""The host's share of a launch-bound step, measured on the CPU: what a GPU step of
bench-mlp costs the Python side, without a GPU.

    python bench/bench_host.py [--rounds 40]

On a GPU, bench-mlp's 2.75 ms step is kernel launches: the device waits for the host.
Here the same structure (8 dense ReLU layers, Adam, batch and width 8) runs on the CPU
with one thread, where every tensor operation costs about its dispatch, and the probe
takes the GPU's path (`probe_graph`, not the C kernel). The probe's reduction, which a
GPU replays from a CUDA graph in one launch, is run for the first probes (the capture
needs them) and skipped after, so "probe every step" counts the rest of a probe's host
work: hooks, staging, packing, the transfer's bookkeeping. Two probe variants take
turns: DeskLab's own identities tapped and dL/dh kept by ``retain_grad`` (as shipped),
and the module forward hooks and Python gradient hooks a user's model gets.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

os.environ["DESKLAB_NO_KERNEL"] = "1"  # the GPU's reduction path, before desklab loads

import torch  # noqa: E402

import desklab.engine.probe_graph as probe_graph  # noqa: E402
from bench_probes import BareLoop  # noqa: E402
from desklab.lessons.presets import mlp  # noqa: E402
from interleave import DeskLabLoop, compare, print_table  # noqa: E402

WIDTH = BATCH = 8


def replayed_for_free() -> None:
    """After a layout's first two probes (the run and the capture), skip the reduction:
    on a GPU it is one graph launch."""
    run = probe_graph.DeviceReducer._reduce
    seen: dict[int, int] = {}

    def reduce(self, plan):
        seen[id(self)] = seen.get(id(self), 0) + 1
        if seen[id(self)] <= 2:
            run(self, plan)
    probe_graph.DeviceReducer._reduce = reduce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    adam = torch.optim.Adam  # foreach, as on a GPU (the CPU's default is one per tensor)
    torch.optim.Adam = lambda *a, **k: adam(*a, **{"foreach": True, **k})
    replayed_for_free()
    design = mlp("moons", 8, WIDTH, "relu", "he_normal", {"samples": 5000, "noise": 0.2},
                 optimizer="adam", lr=1e-3, batch_size=BATCH, steps=1000)
    cpu = torch.device("cpu")
    loops = {"bare PyTorch loop": BareLoop(design, cpu, units=WIDTH).run}
    for name, every, hooks in [("DeskLab, probes off", 0, False),
                               ("DeskLab, probe every 10", 10, False),
                               ("DeskLab, probe every step", 1, False),
                               ("every step, module and grad hooks", 1, True)]:
        d = design.copy()
        d.train.probe_every = every
        loop = DeskLabLoop(d, cpu)
        if hooks:  # what a user's model gets: no taps, a Python hook per dL/dh
            prober = loop.trainer.prober
            prober.points = [dataclasses.replace(p, tappable=False) for p in prober.points]
        loops[name] = loop.run
    results = compare(loops, args.rounds, 10, 30, "bare PyTorch loop")
    print_table(results, args.rounds, 10, "bench-mlp's structure, host only")
    base = 1e6 / results["DeskLab, probes off"]["steps_per_s"]
    for name in ("DeskLab, probe every step", "every step, module and grad hooks"):
        probe = 1e6 / results[name]["steps_per_s"] - base
        print(f"{name}: a probe costs the host {probe:.0f} us beyond an unprobed step")


if __name__ == "__main__":
    main()
