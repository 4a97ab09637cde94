"""Where a search's study lives: an Optuna RDB storage URL, checked before Optuna sees it.

A ``--storage`` is user input. `check_storage` turns it into a URL Optuna can use or
raises `StorageError` (a `DeskLabError`) saying in one line what is wrong: an unknown
scheme, not a URL, SQLite in memory (the search's processes could not share it), a
missing or read-only folder, a file that is not SQLite, a DeskLab run file or another
program's database, a PostgreSQL or MySQL driver that is not installed. `open_storage`
adds heartbeats, so a trial whose process was killed is marked failed instead of
"running" forever.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sqlite3
import stat
import warnings
from pathlib import Path

from ..errors import DeskLabError

HEARTBEAT_S = 10  # a running trial's process says it is alive this often
GRACE_S = 30  # and is taken for dead (its trial failed) after this long without
SCHEMES = ("postgresql", "mysql")  # besides sqlite; a driver may follow: postgresql+psycopg2
DRIVERS = {  # SQLAlchemy's driver name -> (module, pip name)
    "psycopg": ("psycopg", "psycopg[binary]"), "psycopg2": ("psycopg2", "psycopg2-binary"),
    "mysqldb": ("MySQLdb", "mysqlclient"), "pymysql": ("pymysql", "pymysql"),
}
OPTUNA_TABLES = {"studies", "trials", "alembic_version", "version_info"}


class StorageError(DeskLabError):
    """A --storage that cannot hold a study."""


def default_url() -> str:
    """SQLite beside the runs, in the runs folder."""
    from ..runs import runs_root
    root = runs_root()
    if "?" in str(root):  # SQLAlchemy would cut the path there, and the study land beside
        raise StorageError(f"the runs folder {root} has a '?' in its path, which a "
                           "storage URL cannot hold: give --storage sqlite:///PATH")
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'search.db'}"


def check_storage(url: str | None) -> str:
    """``url`` (None: the default) checked: a URL Optuna can open, or `StorageError`."""
    if url is None:
        url = default_url()
    if not isinstance(url, str) or "://" not in url:
        raise StorageError(f"--storage {url!r} is not a URL (sqlite:///PATH or "
                           "postgresql://USER@HOST/DB)")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        _check_sqlite(url)
    elif scheme.split("+", 1)[0] in SCHEMES:
        _check_driver(url, scheme)
    else:
        raise StorageError(f"--storage: {scheme!r} is not a storage DeskLab can use "
                           f"(sqlite, {', '.join(SCHEMES)})")
    return url


def _check_driver(url: str, scheme: str) -> None:
    """The database driver the URL names, or SQLAlchemy's default for its scheme
    (for postgresql: psycopg2 up to SQLAlchemy 2.0, psycopg 3 from 2.1), installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    try:
        driver = make_url(url).get_dialect().driver
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StorageError(f"--storage {scheme}: {str(exc).splitlines()[0][:200]}") from None
    module, pip_name = DRIVERS.get(driver, (driver, driver))
    if importlib.util.find_spec(module) is None:
        raise StorageError(f"--storage {scheme}: needs the {module} driver "
                           f"(pip install {pip_name})")


def _check_sqlite(url: str) -> None:
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest in ("/", "/:memory:") or "mode=memory" in rest:
        raise StorageError(f"--storage {url}: SQLite in memory cannot be shared by the "
                           "search's processes; give a file (sqlite:///PATH)")
    if "?" in rest:
        raise StorageError(f"--storage {url}: a '?' in an SQLite path cuts it there; "
                           "give a path without one")
    path = Path(rest[1:])
    folder = path.parent
    if not folder.is_dir():
        raise StorageError(f"--storage {url}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"--storage {url}: the folder {folder} cannot be written")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return  # a new study database
    if not stat.S_ISREG(st.st_mode):
        raise StorageError(f"--storage {url}: {path} is not a regular file")
    if path.name.endswith(".desklab-run"):
        raise StorageError(f"--storage {url}: {path} is a DeskLab run, not a study database")
    if st.st_size == 0:
        return
    with open(path, "rb") as f:
        header = f.read(16)
    if header != b"SQLite format 3\x00":
        raise StorageError(f"--storage {url}: {path} is not an SQLite database")
    try:
        db = sqlite3.connect(Path(os.path.abspath(path)).as_uri() + "?mode=ro", uri=True)
        try:
            tables = {row[0] for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StorageError(f"--storage {url}: {path} cannot be read ({exc})") from None
    if "meta" in tables and "snapshots" in tables:
        raise StorageError(f"--storage {url}: {path} is a DeskLab run, not a study database")
    if tables and not tables & OPTUNA_TABLES:
        raise StorageError(f"--storage {url}: {path} holds another program's tables "
                           f"({', '.join(sorted(tables)[:4])}); give a new file")


def open_storage(url: str):
    """An Optuna RDB storage on the checked ``url``, with heartbeats (a killed trial
    becomes failed once `GRACE_S` passes without one).

    Processes that open a new database together race to create Optuna's tables; on a
    server (PostgreSQL) the loser's CREATE fails with a duplicate key. It tries again:
    the tables are there by then, and creating them is skipped."""
    import time

    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError
    for attempt in range(5):
        try:
            with _heartbeats_are_experimental():
                return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_S,
                                                  grace_period=GRACE_S,
                                                  engine_kwargs=_engine_kwargs(url))
        except (IntegrityError, ProgrammingError):
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def fail_stale_trials(study) -> None:
    """Mark failed the trials whose process stopped sending heartbeats (killed)."""
    import optuna
    with _heartbeats_are_experimental():
        optuna.storages.fail_stale_trials(study)


@contextlib.contextmanager
def _heartbeats_are_experimental():
    """Optuna warns on every use of heartbeats (experimental since 2.9); said once
    here instead: they are what marks a killed trial failed."""
    import optuna
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def _engine_kwargs(url: str) -> dict:
    # several processes write one SQLite file: wait for the lock instead of failing
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
