"""How many intra-op threads a run uses: measured for the design, within the free cores.

PyTorch starts one intra-op thread per core and assumes the cores are free. Measured on
a 2-core machine: with one core busy, ``deep-sigmoid`` trains at 62 steps/s on the
default two threads and 272 on one; even idle, one thread beats two on small nets,
while a conv net gains from every core. So a trainer picks its count:

1. never more threads than free cores (`desklab.util.cpu_load`: the machine's busy time
   less our own; the app keeps one core for its GUI);
2. within that, a short measurement: whole training steps (forward, backward, update)
   of a copy of the model on one real batch at 1, 2, 4... threads, taking turns, the
   fewest threads within 3% of the fastest kept;
3. the choice is cached per design shape and number of free cores, so the next run of
   the same design starts at once.

A user's explicit count (``desklab train --threads N``, the app's Train > CPU threads)
is used as given. Only the CPU's thread count is chosen: on a GPU the host threads
only launch kernels.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..util.cpu_load import cpu_count, free_cores, measure_busy_others
from ..util.files import atomic_write_text, read_regular_file
from .optim import make_optimizer
from .probe import task_loss

MEASURE_SECONDS = 0.05  # timed per thread count and round (after one untimed step)
ROUNDS = 2  # the counts take turns this many times: the machine's speed drifts
MAX_STEPS = 20  # per count and round, for very fast steps
SLOWER_STOPS = 1.15  # a count this much slower than the best: larger counts are not tried
CLOSE_ENOUGH = 1.03  # fewer threads win when within 3% of the fastest
CACHE_FILE = "threads.json"


@dataclass
class ThreadChoice:
    """What a run uses and why (the JSON report's ``threads``; the run's meta).

    ``how`` is ``set`` (the user's count), ``measured``, ``cached`` or ``device`` (not
    the CPU: left as it was). ``seconds_per_step`` maps each measured count to its time.
    """

    threads: int
    how: str
    cores: int = field(default_factory=cpu_count)
    free_cores: int = 0
    busy_other_cores: float = 0.0
    seconds_per_step: dict[int, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["seconds_per_step"] = {str(k): v for k, v in self.seconds_per_step.items()}
        return d


def choose_threads(trainer, requested: int = 0, reserve: int = 0,
                   busy_others: float | None = None, exclude_parent: bool = False,
                   max_threads: int = 0, cache: bool = True) -> ThreadChoice:
    """Pick and set (``torch.set_num_threads``) the thread count for ``trainer``'s run.

    Parameters
    ----------
    trainer : Trainer
        Built, not started: its model is copied for the measurement, never stepped.
    requested : int
        The user's count; 0 = choose.
    reserve : int
        Cores kept free for others (the app's GUI: 1).
    busy_others : float, optional
        Cores other programs keep busy, if the caller measured it already.
    exclude_parent : bool
        Do not count the parent process as "others" (the app is the trainer's parent,
        and its core is already reserved).
    max_threads : int
        A cap on the choice (0: none); two runs side by side share the free cores.
    cache : bool
        Read and write the per-design cache.
    """
    if requested > 0:
        torch.set_num_threads(requested)
        return ThreadChoice(requested, "set")
    if trainer.device.type != "cpu":
        return ThreadChoice(torch.get_num_threads(), "device")
    if busy_others is None:
        busy_others = measure_busy_others(0.1, exclude_parent)
    free = free_cores(busy_others, reserve)
    if max_threads > 0:
        free = min(free, max_threads)
    choice = ThreadChoice(1, "measured", free_cores=free, busy_other_cores=round(busy_others, 2))
    if free == 1:  # nothing to measure
        torch.set_num_threads(1)
        return choice
    key = _cache_key(trainer.design, free)
    cached = _read_cache().get(key) if cache else None
    if isinstance(cached, int) and 1 <= cached <= free:
        choice.threads, choice.how = cached, "cached"
    else:
        choice.seconds_per_step = measure(trainer, _candidates(free))
        best = min(choice.seconds_per_step.values())
        choice.threads = min(n for n, s in choice.seconds_per_step.items()
                             if s <= best * CLOSE_ENOUGH)
        if cache:
            _write_cache(key, choice.threads)
    torch.set_num_threads(choice.threads)
    return choice


def _candidates(free: int) -> list[int]:
    counts, n = [], 1
    while n < free:
        counts.append(n)
        n *= 2
    return counts + [free]


def measure(trainer, counts: list[int]) -> dict[int, float]:
    """Seconds per training step of a copy of ``trainer``'s model at each thread count.

    The counts take turns (`ROUNDS` rounds) and each round's time is the median step;
    a count more than `SLOWER_STOPS` slower than the best so far ends the climb (the
    curve rises from there on).
    """
    saved = torch.get_num_threads()
    model = copy.deepcopy(trainer.model).train()
    optimizer = make_optimizer(trainer.cfg, model)
    x, y = trainer.sample_batch()
    task = trainer.data.task

    def step():
        loss = task_loss(model(x), y, task)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    times: dict[int, list[float]] = {}
    tried = list(counts)
    try:
        for _ in range(ROUNDS):
            for n in list(tried):
                torch.set_num_threads(n)
                step()  # untimed: the pool resizes, caches warm
                runs, start = [], time.perf_counter()
                while len(runs) < MAX_STEPS and (not runs or sum(runs) < MEASURE_SECONDS):
                    t0 = time.perf_counter()
                    step()
                    runs.append(time.perf_counter() - t0)
                    if time.perf_counter() - start > 10 * MEASURE_SECONDS:
                        break  # a slow step: one or two are enough
                times.setdefault(n, []).append(sorted(runs)[len(runs) // 2])
                best = min(min(v) for v in times.values())
                if min(times[n]) > best * SLOWER_STOPS:
                    tried = [m for m in tried if m <= n]
                    break
    finally:
        torch.set_num_threads(saved)
    return {n: min(v) for n, v in times.items()}


def _cache_key(design, free: int) -> str:
    """The design's shape (layers, input, batch, optimizer, precision), not its name,
    seed or learning rate; and the free cores it was measured with."""
    from ..design.fileformat import design_to_dict
    d = design_to_dict(design)
    shape = {"input": d.get("input"), "layers": d.get("layers"), "output": d.get("output"),
             "train": {k: d.get("train", {}).get(k) for k in (
                 "optimizer", "batch_size", "precision", "channels_last")}}
    text = json.dumps(shape, sort_keys=True, default=str)
    return f"{hashlib.sha256(text.encode()).hexdigest()[:20]}:{free}of{cpu_count()}"


def _cache_path() -> Path:
    if os.environ.get("DESKLAB_CACHE"):
        return Path(os.environ["DESKLAB_CACHE"]).expanduser() / CACHE_FILE
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("desklab", appauthor=False)) / CACHE_FILE


def _read_cache() -> dict:
    try:
        data = json.loads(read_regular_file(_cache_path(), 1_000_000))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(key: str, threads: int) -> None:
    data = _read_cache()
    data[key] = threads
    if len(data) > 500:  # oldest first (dicts keep insertion order)
        data = dict(list(data.items())[-500:])
    try:
        _cache_path().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(_cache_path(), json.dumps(data))
    except OSError:
        pass  # a read-only cache folder: the next run measures again
