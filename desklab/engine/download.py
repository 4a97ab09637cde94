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
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from ..design.catalog.real_data import REAL_DATASETS, RealDataset
from ..errors import DeskLabError
from .real_data import describe_missing, folder_of, missing_files

CHUNK = 256 * 1024
TIMEOUT_S = 20.0  # per connection attempt and per read: a dead network fails fast

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
                _fetch(mirror + file_name, dest, md5, progress, cancelled)
                break
            except DownloadCancelled:
                raise
            except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors
                errors.append(_reason(exc))
        else:
            # the last mirror's reason: after a dead first mirror, the one that answered
            raise DatasetUnavailable(describe_missing(d, root, f"cannot download: "
                                                      f"{errors[-1]}"))
    _unpack(d, target)
    return folder_of(d, root)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"no network ({exc.reason})"
    return str(exc) or type(exc).__name__


def _fetch(url: str, dest: Path, md5: str, progress: Progress | None,
           cancelled: Callable[[], bool] | None) -> None:
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "desklab"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        resumed = have and response.status == 206
        done = have if resumed else 0
        total = done + int(response.headers.get("Content-Length") or 0)
        with open(part, "ab" if resumed else "wb") as out:
            while True:
                if cancelled is not None and cancelled():
                    raise DownloadCancelled(f"the download of {dest.name} was cancelled")
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    if _md5(part) != md5:
        part.unlink()  # a corrupt file is never kept, nor resumed from
        raise ValueError(f"{url}: the file's checksum is wrong")
    part.replace(dest)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpack(d: RealDataset, target: Path) -> None:
    """Extract as torchvision does: the .gz files beside themselves, CIFAR's archive
    into the root (it holds the ``cifar-10-batches-py`` folder)."""
    for file_name, _ in d.files:
        archive = target / file_name
        if file_name.endswith(".tar.gz"):
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")  # no absolute paths, links or ..
        elif file_name.endswith(".gz") and not (target / file_name[:-3]).is_file():
            with gzip.open(archive, "rb") as src, open(target / file_name[:-3], "wb") as out:
                shutil.copyfileobj(src, out)
