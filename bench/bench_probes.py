"""What probing costs: steps/s of bench-mlp with probes every 10th step, every step and
off, next to a bare PyTorch loop of the same network written here, all in one run.

    python bench/bench_probes.py [--rounds 60] [--device cpu|cuda]

The loops take turns in 10-step blocks (`interleave`: this machine's speed drifts).
The DeskLab runs never evaluate, so the ratios isolate the probes and the loop's own
bookkeeping; a last line shows the default (eval every 50, its time included).
On CUDA it also checks that unprobed steps never synchronise with the host, and runs
each variant again with ``train.cuda_graphs`` (steps, probed ones too, replayed from
CUDA graphs).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from desklab.engine import make_dataset, resolve_device
from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from interleave import DeskLabLoop, compare, print_table, record, report_graphs, sync


class BareLoop:
    """A hand-written loop: same layers, init, data, batch and optimizer as bench-mlp;
    `run` advances it ``n`` steps and returns the seconds taken."""

    def __init__(self, design, device, units: int = 256):
        torch.manual_seed(0)
        layers, width = [], 2
        for _ in range(8):
            linear = nn.Linear(width, units)
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.ReLU()]
            width = units
        self.device = device
        self.model = nn.Sequential(*layers, nn.Linear(units, 2)).to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        data = make_dataset(design)
        self.x, self.y = data.x_train.to(device), data.y_train.to(device)
        self.batch = design.train.batch_size
        self.gen = torch.Generator().manual_seed(0)
        self.order, self.at = None, 0

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            if self.order is None or self.at + self.batch > len(self.x):
                self.order = torch.randperm(len(self.x), generator=self.gen).to(self.device)
                self.at = 0
            idx = self.order[self.at:self.at + self.batch]
            self.at += self.batch
            loss = nn.functional.cross_entropy(self.model(self.x[idx]), self.y[idx])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        sync(self.device)
        return time.perf_counter() - start


def check_no_sync_in_steps(design, device, cuda_graphs: bool = False) -> str:
    """Run with CUDA's sync-debug mode set to "error" around every step's device work
    (probe collection and evaluation, which must sync, are outside the guard)."""
    from desklab.engine.device import no_host_sync
    d = design.copy()
    d.train.steps, d.train.probe_every, d.train.eval_every = 200, 10, 50
    d.train.cuda_graphs = cuda_graphs
    trainer = Trainer(d, device="cuda")
    trainer.step_guard = no_host_sync
    try:
        result = trainer.run()
    except RuntimeError as exc:
        return f"SYNC in step {trainer.step}: {str(exc).splitlines()[0]}"
    replayed = f", {trainer.graph.replays} replayed" if trainer.graph is not None else ""
    return f"no host sync in {result.steps} steps ({result.state}{replayed})"


def launches_per_step(design, device) -> dict[str, float]:
    """Kernel launches, graph launches and copies the host issues per step (CUDA's
    runtime calls, counted by the profiler over 10 steps): probes off, every step with
    the probe's reduction replayed from a CUDA graph, and every step reduced eagerly."""
    from torch.profiler import ProfilerActivity, profile
    counts = {}
    for name, every, graphs, steps in [
            ("probes off", 0, True, False), ("probe every step, graph", 1, True, False),
            ("probe every step, eager", 1, False, False),
            ("probes off, steps replayed (cuda_graphs)", 0, True, True),
            ("probe every step, steps replayed (cuda_graphs)", 1, True, True)]:
        d = design.copy()
        d.train.probe_every, d.train.cuda_graphs = every, steps
        loop = DeskLabLoop(d, device)
        loop.trainer.prober.device_reducer.graphs = graphs
        loop.run(10)  # past the graph's capture
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            loop.run(10)
        loop.close()
        calls = [e.name for e in prof.events()
                 if e.name.startswith(("cudaLaunch", "cuLaunch", "cudaGraphLaunch",
                                       "cudaMemcpy", "cudaMemset"))]
        counts[name] = len(calls) / 10
    return counts


def host_profile(design, device, every: int, steps: int = 200, graphs: bool = False) -> None:
    """Print where the host's time goes in ``steps`` steps probed every ``every``-th
    (cProfile, by own time): on a launch-bound GPU the host is the step's cost.
    ``graphs``: with train.cuda_graphs (what is left beside the replays)."""
    import cProfile
    import pstats
    d = design.copy()
    d.train.probe_every, d.train.cuda_graphs = every, graphs
    loop = DeskLabLoop(d, device)
    loop.run(20)
    profiler = cProfile.Profile()
    profiler.enable()
    loop.run(steps)
    profiler.disable()
    loop.close()
    print(f"host profile, {steps} steps probed every {every}"
          f"{', cuda_graphs' if graphs else ''}:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=60, help="10-step blocks per loop")
    args = parser.parse_args()
    device = resolve_device(args.device)
    design = get_preset("bench-mlp")
    print(f"bench-mlp on {device} ({torch.get_num_threads()} threads)")
    loops: dict = {"bare PyTorch loop": BareLoop(design, device)}
    variants = [("DeskLab, probes off", 0, False, True),
                ("DeskLab, probe every 10", 10, False, True),
                ("DeskLab, probe every step", 1, False, True),
                ("DeskLab, probe 10 + eval every 50", 10, True, True)]
    if device.type == "cuda":  # the probe's reduction without its CUDA graph, and the
        # steps replayed from graphs (train.cuda_graphs; "DeskLab, " cut from the name)
        variants.insert(3, ("DeskLab, every step, no graph", 1, False, False))
        variants += [(f"cuda_graphs, {name[9:]}", every, False, True)
                     for name, every, *_ in variants[:3]]
    for name, every, evaluate, graphs in variants:
        d = design.copy()
        d.train.probe_every, d.train.eval_every = every, 50
        d.train.cuda_graphs = name.startswith("cuda_graphs")
        loops[name] = DeskLabLoop(d, device, evaluate=evaluate)
        loops[name].trainer.prober.device_reducer.graphs = graphs
    # 20 untimed steps (the first optimizer step imports torch._dynamo), then blocks of
    # 10 steps from step 20: one probed step in each at every 10
    results = compare({name: loop.run for name, loop in loops.items()}, args.rounds, 10,
                      20, "bare PyTorch loop")
    report_graphs(loops, f"bench-mlp on {device}")
    for loop in loops.values():
        if isinstance(loop, DeskLabLoop):
            loop.close()
    print_table(results, args.rounds, 10, f"bench-mlp on {device}")
    print("(eval every 50 lands in one block of five: read its totals column)")
    if device.type == "cuda":
        verdict = check_no_sync_in_steps(design, device)
        graphed = check_no_sync_in_steps(design, device, cuda_graphs=True)
        record(f"bench-mlp on {device}: host syncs inside unprobed steps", sync_check=verdict,
               sync_check_cuda_graphs=graphed)
        print("sync check:", verdict, "| with cuda_graphs:", graphed)
        try:
            counts = launches_per_step(design, device)
        except Exception as exc:  # noqa: BLE001 - the profiler may be missing there
            counts = {"error": f"{type(exc).__name__}: {exc}"}
        record(f"bench-mlp on {device}: launches and copies per step", launches=counts)
        print("launches and copies per step:", counts)
        for every, graphs in ((0, False), (1, False), (1, True)):
            host_profile(design, device, every, graphs=graphs)


if __name__ == "__main__":
    main()
