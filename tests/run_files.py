"""Reading run files in tests, as they are written by another process."""

from desklab.runs import RunReader


def snapshots_in(path) -> int:
    """Probes committed to the run file so far (0 while it does not exist yet)."""
    try:
        reader = RunReader(path)
    except (FileNotFoundError, ValueError):
        return 0
    try:
        return reader.db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
    finally:
        reader.close()
