"""The run store: one SQLite file per run, written live, read by the app and the CLI."""

from .folder import list_runs, new_run_path, runs_root
from .store import FORMAT, SUFFIX, RunReader, RunWriter

__all__ = ["FORMAT", "SUFFIX", "RunReader", "RunWriter", "list_runs", "new_run_path",
           "runs_root"]
