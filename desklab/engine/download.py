"""Download a real dataset into the data root, the way a desktop app should.

Progress is reported as (bytes done, bytes total) and a cancel flag is checked between
chunks, so the app shows a progress dialog with Cancel and the CLI a progress bar.
A download goes to ``<file>.part`` first and resumes from there with an HTTP Range
request; only a file whose MD5 matches torchvision's is renamed into place. With no
network the error says in one line which folder to put the files in.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Callable

from ..design.catalog.real_data import REAL_DATASETS, RealDataset
from ..errors import DeskLabError
from .real_data import describe_missing, folder_of, missing_files

CHUNK = 256 * 1024
TIMEOUT_S = 20.0  # per connection attempt and per read: a dead network fails fast
GRACE_S = 30.0  # then the download must average MIN_RATE (a mirror that drips a byte
MIN_RATE = 8 * 1024  # every few seconds never trips the per-read timeout), bytes/s
MAX_DOWNLOAD_BYTES = 1 << 30  # a body of unknown length stops here
PROGRESS_EVERY_S = 0.05  # progress calls at most this often (read1 returns small pieces)
CIFAR_FOLDER = "cifar-10-batches-py"  # the one folder taken from CIFAR's archive

Progress = Callable[[int, int], None]  # (bytes done, bytes total; 0 = unknown)


class DownloadCancelled(DeskLabError):
    """The user cancelled a download (what was fetched so far is kept as .part)."""


class DatasetUnavailable(DeskLabError):
    """A dataset that is missing and cannot be downloaded (no network, bad mirror)."""


def ensure_dataset(name: str, root: Path, progress: Progress | None = None,
                   cancelled: Callable[[], bool] | None = None) -> Path:
    """Make ``name`` ready under ``root`` (downloading what is missing); its folder."""
    d = REAL_DATASETS[name]
    if not missing_files(d, root):
        return folder_of(d, root)
    target = Path(root) if d.fmt == "cifar" else folder_of(d, root)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetUnavailable(f"cannot create the data folder {target}: "
                                 f"{exc.strerror or exc}") from None
    for file_name, md5 in d.files:
        dest = target / file_name
        if dest.is_file() and _md5(dest) == md5:
            continue
        errors = []
        for mirror in d.mirrors:
            try:
                _fetch(mirror + file_name, dest, md5, progress, cancelled,
                       cap=2 * d.megabytes * 2**20)  # no file is larger than the set
                break
            except DownloadCancelled:
                raise
            except (OSError, ValueError, http.client.HTTPException) as exc:
                errors.append(_reason(exc))  # URLError and timeouts are OSErrors
        else:
            # the last mirror's reason: after a dead first mirror, the one that answered
            raise DatasetUnavailable(describe_missing(d, root, f"cannot download: "
                                                      f"{errors[-1]}"))
    _unpack(d, target, root)
    lacking = missing_files(d, root)  # an archive without what it should hold
    if lacking:
        raise DatasetUnavailable(describe_missing(d, root, "the download did not hold "
                                                  + ", ".join(lacking)))
    return folder_of(d, root)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"no network ({exc.reason})"
    if isinstance(exc, http.client.HTTPException):
        return f"the mirror answered badly ({type(exc).__name__})"
    return str(exc) or type(exc).__name__


def _fetch(url: str, dest: Path, md5: str, progress: Progress | None,
           cancelled: Callable[[], bool] | None, cap: int = 0) -> None:
    """Download ``url`` into ``dest`` via ``<dest>.part`` (resumed when it is there).

    Bounded: a total deadline (`MIN_RATE` after `GRACE_S`) besides the per-read
    timeout, a body no longer than its Content-Length nor ``cap`` bytes (0: the
    `MAX_DOWNLOAD_BYTES`), and a body cut short is kept as .part, not taken whole.
    """
    part = dest.with_name(dest.name + ".part")
    have = _part_size(part)
    request = urllib.request.Request(url, headers={"User-Agent": "desklab"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the .part is longer than the file: start over
            part.unlink()
        raise
    with response:
        resumed = have and response.status == 206
        done = have if resumed else 0
        length = _content_length(response.headers.get("Content-Length"))
        total = done + length if length is not None else 0
        limit = min(total or MAX_DOWNLOAD_BYTES, cap or MAX_DOWNLOAD_BYTES)
        if total > limit:
            raise ValueError(f"{url}: the server offers {total:,} bytes, more than the "
                             f"file can be")
        started, shown = time.monotonic(), -PROGRESS_EVERY_S
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW |
                     (os.O_APPEND if resumed else os.O_TRUNC), 0o644)
        with os.fdopen(fd, "ab" if resumed else "wb") as out:
            while True:
                if cancelled is not None and cancelled():
                    raise DownloadCancelled(f"the download of {dest.name} was cancelled")
                # read1: what has arrived, so a drip is timed (read(n) waits for n)
                chunk = response.read1(min(CHUNK, limit - done + 1))
                if not chunk:
                    break
                done += len(chunk)
                if done > limit:
                    out.close()
                    part.unlink()  # junk: never resumed from
                    raise ValueError(f"{url}: the server sent more than the file's "
                                     f"{limit:,} bytes")
                out.write(chunk)
                elapsed = time.monotonic() - started
                if progress is not None and (elapsed - shown >= PROGRESS_EVERY_S or
                                             done == total):
                    progress(done, total)
                    shown = elapsed
                if elapsed > GRACE_S and (done - have * resumed) / elapsed < MIN_RATE:
                    raise TimeoutError(f"{url}: the mirror sends under "
                                       f"{MIN_RATE // 1024} KB/s")
    if total and done < total:
        raise ValueError(f"{url}: the connection ended after {done:,} of {total:,} bytes "
                         "(kept to resume)")
    if _md5(part) != md5:
        part.unlink()  # a corrupt file is never kept, nor resumed from
        raise ValueError(f"{url}: the file's checksum is wrong")
    part.replace(dest)


def _part_size(part: Path) -> int:
    """The size of a .part to resume from; anything at that name that is not a plain
    file DeskLab wrote (a link, a folder) is removed or refused, never followed."""
    try:
        st = os.lstat(part)
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(st.st_mode):
        part.unlink()  # the link itself, never what it points to
        return 0
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{part} is in the way (not a file)")
    return st.st_size


def _content_length(value: str | None) -> int | None:
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    return length if length is not None and length >= 0 else None


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpack(d: RealDataset, target: Path, root: Path) -> None:
    """Extract as torchvision does: the .gz files beside themselves, CIFAR's archive
    into the root (it holds the ``cifar-10-batches-py`` folder). Everything is
    written into a fresh folder first and moved into place with ``os.replace``, so a
    link planted at a target name is replaced, never written through."""
    for file_name, _ in d.files:
        archive = target / file_name
        try:
            if file_name.endswith(".tar.gz"):
                _untar(archive, target)
            elif file_name.endswith(".gz") and not (target / file_name[:-3]).is_file():
                with tempfile.TemporaryDirectory(dir=target) as tmp:
                    out_path = Path(tmp) / file_name[:-3]
                    with gzip.open(archive, "rb") as src, open(out_path, "xb") as out:
                        _copy_bounded(src, out, MAX_DOWNLOAD_BYTES)
                    os.replace(out_path, target / file_name[:-3])
        except (tarfile.TarError, EOFError, zlib.error, ValueError, OSError) as exc:
            raise DatasetUnavailable(describe_missing(
                d, root, f"{archive.name} cannot be extracted: {exc}")) from None


def _untar(archive: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target) as tmp, tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")  # no absolute paths, links out, or ..
        top = Path(tmp) / CIFAR_FOLDER  # all that is taken from the archive
        if not top.is_dir():
            return  # (then the dataset is still missing, and ensure_dataset says so)
        dest = target / CIFAR_FOLDER
        if os.path.islink(dest) or (dest.exists() and not dest.is_dir()):
            raise ValueError(f"{dest} is in the way (a link or a file)")
        dest.mkdir(exist_ok=True)
        for item in top.iterdir():  # the batches: os.replace swaps links, not targets
            if item.is_file() and not item.is_symlink():
                os.replace(item, dest / item.name)


def _copy_bounded(src, out, limit: int) -> None:
    done = 0
    for block in iter(lambda: src.read(1 << 20), b""):
        done += len(block)
        if done > limit:
            raise ValueError(f"it expands past {limit // 2**20} MB")
        out.write(block)
