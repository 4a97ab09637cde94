"""How many cores other programs keep busy: what a trainer's thread count must leave free.

PyTorch's intra-op threads assume every core is free. When another program (or the
app's own GUI thread) keeps one busy, two threads on a two-core machine spin against
it and a step runs up to 4x slower than on one thread. So a trainer asks how many
cores are free before it picks its thread count.

On Linux the answer comes from ``/proc/stat`` (all the machine's busy time) minus this
process's own CPU time (and, for the app's trainer, its parent's: the GUI already has
the core it is given) over a short window. Elsewhere the 1-minute load average stands in
where the platform has one; otherwise nothing is known and every core counts as free.
Standard library only.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class CpuSample:
    """One reading: wall time, the machine's busy seconds, and ours (and a parent's)."""

    wall: float
    machine_busy: float | None  # seconds of all cores together, None where unknown
    own: float  # this process, all threads
    parent: float  # the excluded parent's (0.0 when none is excluded)


def _machine_busy_seconds() -> float | None:
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice: inside user]
    values = [int(v) for v in first[1:9]]
    busy = sum(values) - values[3] - values[4]
    return busy / _CLK_TCK


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, every thread (Linux /proc; 0.0
    where it cannot be read)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[-1].split()  # the name may hold spaces and brackets
    try:
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (IndexError, ValueError):
        return 0.0


def sample(exclude_parent: bool = False) -> CpuSample:
    """Read the counters now (cheap: two small files)."""
    t = os.times()
    parent = process_seconds(os.getppid()) if exclude_parent else 0.0
    return CpuSample(time.monotonic(), _machine_busy_seconds(), t.user + t.system, parent)


def busy_other_cores(before: CpuSample, after: CpuSample) -> float:
    """Cores kept busy by other programs between two samples (0.0 where unknown).

    Falls back to the load average (minus this process's own share) without /proc."""
    wall = after.wall - before.wall
    if before.machine_busy is not None and after.machine_busy is not None and wall > 0.02:
        others = (after.machine_busy - before.machine_busy) - (after.own - before.own) \
            - (after.parent - before.parent)
        return max(0.0, others / wall)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
    return max(0.0, load - 1.0)  # this process is running: one of the load is ours


def cores_taken(busy_others: float) -> int:
    """Whole cores that ``busy_others`` cores of load take away from a trainer: a core
    counts as taken when others keep it busy more than a third of the time (an
    intra-op thread sharing it waits for it at every parallel region)."""
    return int(busy_others + 2 / 3)


def free_cores(busy_others: float, reserve: int = 0, cores: int | None = None) -> int:
    """Cores left for a trainer: all (``cores``, default this machine's), less
    ``reserve`` (the GUI's) and those others take."""
    total = cpu_count() if cores is None else cores
    return max(1, total - reserve - cores_taken(busy_others))


def measure_busy_others(seconds: float = 0.1, exclude_parent: bool = False) -> float:
    """Sleep ``seconds`` and say how many cores others kept busy meanwhile."""
    before = sample(exclude_parent)
    time.sleep(seconds)
    return busy_other_cores(before, sample(exclude_parent))


class OtherLoad:
    """How busy other programs kept the cores since `start`, said now and then: a
    script's run (`desklab.watch`) records it as it trains."""

    def __init__(self, every_s: float = 10.0):
        self.every_s = every_s  # how often `due` says it is time to say it again
        self._start: CpuSample | None = None
        self._said = 0.0  # when it was last read

    def start(self) -> None:
        self._start = sample()
        self._said = self._start.wall

    def due(self) -> bool:
        return self._start is not None and time.monotonic() - self._said > self.every_s

    def since_start(self) -> float | None:
        """Cores kept busy by others since `start` (None before it)."""
        if self._start is None:
            return None
        now = sample()
        self._said = now.wall
        return round(busy_other_cores(self._start, now), 2)
