"""What probing costs: steps/s of bench-mlp with probes every 10th step, every step and
off, next to a bare PyTorch loop of the same network written here, all in one run.

    python bench/bench_probes.py [--steps 600] [--device cpu|cuda] [--repeats 3]

Evaluation is set to once at the end in the DeskLab runs, and its time is left out
(the bare loop never evaluates), so the ratios isolate the probes and the loop's own
bookkeeping; a last line shows the default (eval every 50, its time included).
On CUDA it also checks that unprobed steps never synchronise with the host.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from desklab.engine import make_dataset, resolve_device
from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset


def bare_loop(design, device, steps: int) -> float:
    """Steps/s of a hand-written loop: same layers, init, data, batch and optimizer."""
    torch.manual_seed(0)
    layers, width = [], 2
    for _ in range(8):
        linear = nn.Linear(width, 256)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
        width = 256
    model = nn.Sequential(*layers, nn.Linear(256, 2)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = make_dataset(design)
    x, y = data.x_train.to(device), data.y_train.to(device)
    batch = design.train.batch_size
    gen = torch.Generator().manual_seed(0)

    def run(n):
        done = 0
        while done < n:
            order = torch.randperm(len(x), generator=gen).to(device)
            for start in range(0, len(x) - batch + 1, batch):
                idx = order[start:start + batch]
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                done += 1
                if done == n:
                    break
        if device.type == "cuda":
            torch.cuda.synchronize()

    run(20)  # warm-up (the first optimizer step imports torch._dynamo)
    t0 = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - t0)


def desklab_loop(design, device, steps: int, probe_every: int, eval_every: int) -> float:
    d = design.copy()
    d.train.steps, d.train.probe_every, d.train.eval_every = steps, probe_every, eval_every
    warm = d.copy()
    warm.train.steps = 20
    Trainer(warm, device=device.type).run()  # warm-up
    trainer = Trainer(d, device=device.type)
    result = trainer.run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    # the last variant evaluates every 50 steps on purpose: its rate keeps that time
    return result.steps_per_second if eval_every < steps else result.step_only_rate


def check_no_sync_in_steps(design, device) -> str:
    """Run with CUDA's sync-debug mode set to "error" around every step's device work
    (probe collection and evaluation, which must sync, are outside the guard)."""
    from desklab.engine.device import no_host_sync
    d = design.copy()
    d.train.steps, d.train.probe_every, d.train.eval_every = 200, 10, 50
    trainer = Trainer(d, device="cuda")
    trainer.step_guard = no_host_sync
    try:
        result = trainer.run()
    except RuntimeError as exc:
        return f"SYNC in step {trainer.step}: {str(exc).splitlines()[0]}"
    return f"no host sync in {result.steps} steps ({result.state})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = resolve_device(args.device)
    design = get_preset("bench-mlp")
    torch.set_num_threads(torch.get_num_threads())
    print(f"bench-mlp on {device} ({torch.get_num_threads()} threads), {args.steps} steps, "
          f"{args.repeats} interleaved repeats")
    runs = {"bare PyTorch loop": [], "DeskLab, probes off": [], "DeskLab, probe every 10": [],
            "DeskLab, probe every step": [], "DeskLab, probe 10 + eval every 50": []}
    for _ in range(args.repeats):  # interleaved, so drift hits every variant alike
        runs["bare PyTorch loop"].append(bare_loop(design, device, args.steps))
        runs["DeskLab, probes off"].append(desklab_loop(design, device, args.steps, 0,
                                                        args.steps))
        runs["DeskLab, probe every 10"].append(desklab_loop(design, device, args.steps, 10,
                                                            args.steps))
        runs["DeskLab, probe every step"].append(desklab_loop(design, device, args.steps, 1,
                                                              args.steps))
        runs["DeskLab, probe 10 + eval every 50"].append(
            desklab_loop(design, device, args.steps, 10, 50))
    # Best-of-N (as timeit does) is the least disturbed run on a shared machine; the
    # median is shown too so the spread is visible.
    bare_best = max(runs["bare PyTorch loop"])
    bare_median = statistics.median(runs["bare PyTorch loop"])
    print(f"{'':<36}{'best':>9}  {'x bare':>7}  {'median':>9}  {'x bare':>7}")
    for name, values in runs.items():
        best, median = max(values), statistics.median(values)
        print(f"{name:<36}{best:9.1f}  {best / bare_best:7.3f}  {median:9.1f}  "
              f"{median / bare_median:7.3f}   steps/s")
    if device.type == "cuda":
        print("sync check:", check_no_sync_in_steps(design, device))


if __name__ == "__main__":
    main()
