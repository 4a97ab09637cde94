"""Where runs live and what is there: the runs folder, new run names, the listing.

The folder is ``$DESKLAB_RUNS`` or the platform's user data folder (``~/.local/share/
desklab/runs`` on Linux). A run still marked running whose writer process is gone
(killed, crashed) is listed as ``interrupted``: its file holds everything up to the
writer's last commit.
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..util.cpu_load import free_cores
from .store import SUFFIX, RunReader, first_free

WEIGHTS_SUFFIX = ".weights.pt"


def runs_root() -> Path:
    if os.environ.get("DESKLAB_RUNS"):
        return Path(os.environ["DESKLAB_RUNS"]).expanduser()
    from platformdirs import user_data_dir
    return Path(user_data_dir("desklab", appauthor=False)) / "runs"


def new_run_path(name: str, root: Path | None = None) -> Path:
    """A fresh file for a run called ``name``: ``<root>/<date>-<time>-<name>.desklab-run``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:60] or "run"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = runs_root() if root is None else Path(root)
    return first_free(root / f"{stamp}-{slug}{SUFFIX}")


def weights_path_of(run_path: str | os.PathLike) -> Path:
    """Where a run's final weights are kept: beside its file, ``<run>.weights.pt``
    (a state_dict, read back only with ``weights_only=True``)."""
    path = Path(run_path)
    return path.with_name(path.name[:-len(SUFFIX)] + WEIGHTS_SUFFIX
                          if path.name.endswith(SUFFIX) else path.name + WEIGHTS_SUFFIX)


def wal_note(wal_missing: bool, status: str) -> str | None:
    """What a run never closed lacks when its write-ahead log (``-wal``, the commits
    not yet folded into the file) was not copied along with it."""
    if not wal_missing or status not in ("running", "interrupted"):
        return None
    return ("this run was never closed and its -wal file is not beside it: the commits "
            "it held are missing. Copy it too, with the run file, to keep them")


def threads_note(meta: dict) -> str | None:
    """How the run's CPU threads compared with the cores free for it, in words (None
    when the run says nothing about threads).

    A run oversubscribed when its intra-op threads exceeded the cores other programs
    left free: each parallel region then waits for a thread that is not running (on a
    2-core machine with one core busy, 4x slower than one thread)."""
    threads = meta.get("threads")
    if not isinstance(threads, dict) or not isinstance(threads.get("threads"), int):
        return None
    count, cores = threads["threads"], threads.get("cores")
    busy = meta.get("busy_other_cores", threads.get("busy_other_cores"))
    text = f"{count} CPU thread{'s' if count != 1 else ''}"
    if isinstance(cores, int):
        text += f" on {cores} cores"
    how = {"measured": "chosen by measurement", "cached": "chosen for this design before",
           "set": "set by the user", "user": "the script's own setting"}.get(threads.get("how"))
    if how:
        text += f" ({how})"
    if isinstance(busy, (int, float)) and isinstance(cores, int):
        free = free_cores(busy, cores=cores)
        text += f"; other programs kept {busy:.1f} cores busy"
        if count > free:
            text += (f". The run used more threads than the {free} free core"
                     f"{'s' if free != 1 else ''}: its threads waited for each other "
                     f"(torch.set_num_threads({free}) would likely train faster)")
    return text


def resolve_run(run: str | os.PathLike) -> Path:
    """A run named on the command line: a path (with or without the suffix) or a name
    in the runs folder (the newest whose file name contains it)."""
    path = Path(run)
    for candidate in (path, path.with_name(path.name + SUFFIX)):
        if candidate.is_file():
            return candidate
    root = runs_root()
    matches = sorted(root.glob(f"*{glob.escape(path.name)}*{SUFFIX}")) if root.is_dir() else []
    if matches:
        return matches[-1]
    raise FileNotFoundError(f"{run}: no such run (see 'desklab runs list')")


@dataclass(frozen=True)
class RunInfo:
    path: Path
    name: str
    source: str  # "designed" (trained in DeskLab) or "watch" (a user's script)
    status: str  # running, finished, stopped, diverged, failed, interrupted, unreadable
    started: float
    steps: int
    problem: str = ""  # why an unreadable run cannot be read
    cause: str = ""  # why a failed run failed, as it recorded


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def run_status(meta: dict) -> str:
    """The run's status, ``interrupted`` for one still marked running whose writer
    process is gone (killed or crashed)."""
    status = meta.get("status", "?")
    if status == "running" and not process_alive(meta.get("pid")):
        return "interrupted"
    return status


_INFO: dict[Path, tuple[tuple, dict, RunInfo]] = {}  # path -> (file stamp, meta, info)


def _stamp(path: Path) -> tuple:
    """Changes whenever the writer commits: the file's and its write-ahead log's size
    and modification time."""
    wal = path.with_name(path.name + "-wal")
    stats = [path.stat()] + ([wal.stat()] if wal.exists() else [])
    return tuple((st.st_size, st.st_mtime_ns) for st in stats)


def read_info(path: Path) -> RunInfo:
    """The run's listing entry, read again only when the file changed since (the Runs
    dock lists the store every few seconds: hundreds of runs, nearly all finished)."""
    stamp = _stamp(path)
    hit = _INFO.get(path)
    if hit is None or hit[0] != stamp:
        reader = RunReader(path)
        try:
            meta = reader.meta
            last = reader.last_step()
        finally:
            reader.close()
        cause = meta.get("cause")
        info = RunInfo(path, meta.get("name", path.stem), meta.get("source", "?"),
                       meta.get("status", "?"), float(meta.get("started", 0.0)),
                       last + 1 if last is not None else 0,
                       cause=cause[:300] if isinstance(cause, str) else "")
        hit = _INFO[path] = (stamp, {k: meta.get(k) for k in ("status", "pid")}, info)
    # whether a running writer is still alive can change without the file changing
    return replace(hit[2], status=run_status(hit[1]))


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every run under ``root`` (recursively: DDP runs hold rank-N files), newest first;
    a file that cannot be read is listed as ``unreadable``, with why, last."""
    root = runs_root() if root is None else Path(root)
    if not root.is_dir():
        return []
    found = []
    paths = set(root.rglob(f"*{SUFFIX}"))
    for path in paths:
        try:
            found.append(read_info(path))
        except (ValueError, OSError) as exc:  # RunFileError is a ValueError
            found.append(RunInfo(path, path.name[:-len(SUFFIX)], "?", "unreadable", 0.0, 0,
                                 str(exc)))
    for gone in [p for p in _INFO if p.is_relative_to(root) and p not in paths]:
        del _INFO[gone]  # deleted runs
    return sorted(found, key=lambda r: r.started, reverse=True)
