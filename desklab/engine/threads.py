"""How many intra-op threads a run uses: measured on the run itself, within the free cores.

PyTorch starts one intra-op thread per core and assumes the cores are free. Measured on
a 2-core machine: with one core busy, ``deep-sigmoid`` trains at 62 steps/s on the
default two threads and 272 on one; idle, two threads win on some designs (an 8 x 256
MLP: 74 vs 55 steps/s) and tie or lose on others (50 narrow tanh layers probed every
step). So a trainer picks its count:

1. never more threads than free cores (`desklab.util.cpu_load`: the machine's busy time
   less our own; the app keeps one core for its GUI);
2. within that, the run's first steps are the measurement (`ThreadTrial`): a few
   steps at 1, 2, 4... threads, the counts taking turns twice, each block's median step
   time compared (probes, evaluations and the caller's own work included, as they
   will be for the rest of the run); the fewest threads within 3% of the fastest win;
3. the choice is cached per design shape and number of free cores, so the next run of
   the same design starts with it.

A user's explicit count (``desklab train --threads N``, the app's Train > CPU threads)
is used as given. Only the CPU's thread count is chosen: on a GPU the host threads
only launch kernels.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..util.cpu_load import cpu_count, free_cores, measure_busy_others
from ..util.files import atomic_write_text, read_regular_file

BLOCK_S = 0.1  # each thread count runs at least this long per turn...
BLOCK_STEPS = (3, 20)  # ...and this many steps at least and at most
WARM_UP_STEPS = 2  # the run's first steps allocate: not timed
ROUNDS = 2  # the counts take turns this many times: the machine's speed drifts
CLOSE_ENOUGH = 1.03  # fewer threads win when within 3% of the fastest
CACHE_FILE = "threads.json"


@dataclass
class ThreadChoice:
    """What a run uses and why (the JSON report's ``threads``; the run's meta).

    ``how`` is ``set`` (the user's count), ``measured`` (on this run's first steps),
    ``measuring`` (not yet), ``cached``, ``free`` (one free core: nothing to choose) or
    ``device`` (not the CPU: left as it was). ``seconds_per_step`` maps each measured
    count to its median step time.
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
    """Set (``torch.set_num_threads``) or plan the thread count of ``trainer``'s run.

    When there is a choice to make and none is cached, a `ThreadTrial` is attached to
    the trainer (``trainer.before_step``): the returned choice says ``measuring`` and is
    completed in place once the trial is over, a few tenths of a second into the run.

    Parameters
    ----------
    trainer : Trainer
        Built, not started.
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
    choice = ThreadChoice(1, "free", free_cores=free, busy_other_cores=round(busy_others, 2))
    key = _cache_key(trainer.design, free)
    cached = _read_cache().get(key) if cache and free > 1 else None
    if free == 1:
        pass
    elif isinstance(cached, int) and 1 <= cached <= free:
        choice.threads, choice.how = cached, "cached"
    else:
        choice.threads, choice.how = 1, "measuring"  # the trial's first count
        trainer.before_step = ThreadTrial(trainer, choice, _candidates(free),
                                          key if cache else None)
    torch.set_num_threads(choice.threads)
    return choice


def _candidates(free: int) -> list[int]:
    counts, n = [], 1
    while n < free:
        counts.append(n)
        n *= 2
    return counts + [free]


class ThreadTrial:
    """The run's first steps at each candidate count in turn; then the fastest stays.

    Called by the trainer before every step with the step's number; the time between
    two calls is a step (with whatever the loop and its caller did in between). Each
    turn skips the first step after a switch (the thread pool resizes).
    """

    def __init__(self, trainer, choice: ThreadChoice, counts: list[int],
                 cache_key: str | None):
        self.trainer, self.choice, self.cache_key = trainer, choice, cache_key
        self.turns = [n for _ in range(ROUNDS) for n in counts]
        self.times: dict[int, list[float]] = {n: [] for n in counts}
        self.block: list[float] = []
        self.last: float | None = None
        self.skip = WARM_UP_STEPS
        self.block_start = 0.0

    def __call__(self, step: int) -> None:
        now = time.perf_counter()
        previous, self.last = self.last, now
        if self.skip > 0:  # warm-up, or the first step after a switch
            self.skip -= 1
            if self.skip == 0:
                self._begin_turn(now)
            return
        self.block.append(now - previous)
        elapsed, n = now - self.block_start, len(self.block)
        # fast steps: a tenth of a second and 3 of them at least; slow ones: one will do
        if (elapsed >= BLOCK_S and n >= BLOCK_STEPS[0]) or n >= BLOCK_STEPS[1] or \
                elapsed >= 3 * BLOCK_S:
            self.times[self.turns.pop(0)].append(statistics.median(self.block))
            self.block = []
            if self.turns:
                self.skip = 1
                torch.set_num_threads(self.turns[0])
            else:
                self._finish()

    def _begin_turn(self, now: float) -> None:
        torch.set_num_threads(self.turns[0])
        self.block_start = now

    def _finish(self) -> None:
        seconds = {n: min(v) for n, v in self.times.items() if v}
        best = min(seconds.values())
        choice = self.choice
        choice.seconds_per_step = seconds
        choice.threads = min(n for n, s in seconds.items() if s <= best * CLOSE_ENOUGH)
        choice.how = "measured"
        torch.set_num_threads(choice.threads)
        self.trainer.before_step = None
        if self.cache_key is not None:
            _write_cache(self.cache_key, choice.threads)


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
