"""File safety for everything DeskLab writes or reads from the user's disk.

Reads: regular files only, opened non-blocking and bounded (a FIFO never hangs, a
device never floods memory). Writes: a temp file beside the target, renamed over it
(a crash leaves the old file or the new one), through symlinks to the real file,
refusing folders, devices and read-only files unless the user agreed, with the old
file's permissions, and removing what an earlier killed save left behind.
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_replace(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Rename ``tmp`` over ``path``, giving it the old file's permissions (or the
    umask's default for a new file): mkstemp makes temp files private (0600)."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# Set (by the CLI's --force, or the GUI after asking) to let saves replace read-only
# files; the replacement keeps the read-only permissions.
replace_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replace_read_only", default=False)


def writable_target(path: str | os.PathLike) -> Path:
    """The file a save to ``path`` must replace: a symlink is followed to its target
    (the link stays a link and the real file gets the new content). Refuses, with
    OSError, a folder, a device or pipe, a read-only file and a missing folder."""
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise OSError(f"{path}: the folder {target.parent} does not exist") from None
        return target
    if stat.S_ISDIR(info.st_mode):
        raise OSError(f"{path} is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path} is not a regular file (a device, pipe or socket): "
                      "not replaced")
    if not info.st_mode & 0o222 and not replace_read_only.get():
        raise OSError(f"{path} is read-only: not replaced (make it writable, save under "
                      "another name, or add --force on the command line)")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """A temporary path beside ``path`` to write to. When the block ends normally the
    file is renamed over ``path``; on any error it is removed. Either way a crash
    leaves the old file or the new one, never half of one. Writes go through
    symlinks to the real file (see `writable_target`)."""
    path = writable_target(path)
    _remove_orphans(path, suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        atomic_replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


ORPHAN_AGE_S = 600  # a temp file this old is not a save in progress in another process


def _remove_orphans(path: Path, suffix: str) -> None:
    """Delete temp files an earlier, killed save to ``path`` left beside it (only ours:
    named ``.{name}.<random>{suffix}``, and only old ones)."""
    now = time.time()
    for orphan in path.parent.glob(f".{glob.escape(path.name)}.*{glob.escape(suffix)}"):
        try:
            info = orphan.lstat()
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > ORPHAN_AGE_S:
                orphan.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: leave it


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old or the new file."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


# ---------------------------------------------------------------- from JSON

def read_regular_file(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened non-blocking, so a FIFO never hangs the caller, and checked with fstat on
    the open file (``st_size`` is 0 for FIFOs and devices, so it cannot be trusted
    alone); at most ``limit + 1`` bytes are read, so ``/dev/zero`` cannot exhaust
    memory. Raises OSError, or ValueError with a plain reason.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ValueError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file (a pipe, socket or device)")
        if info.st_size > limit:
            raise ValueError(f"is {info.st_size / 2**20:.0f} MB: too large "
                             f"(at most {limit / 2**20:.0f} MB)")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise ValueError(f"is larger than {limit / 2**20:.0f} MB: too large")
        return b"".join(chunks)
    finally:
        os.close(fd)
