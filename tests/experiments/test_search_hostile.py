"""A search's storage and its processes are hostile ground (issue 26): every bad
--storage is one ``desklab:`` line before any training, joining a study with other
settings is refused up front, a killed search's workers end, and its killed trial is
marked failed instead of running forever; a diverged landscape prints and writes
strict JSON, and --steps 0 is the landscape at init."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from desklab.cli import main


def search(*argv, capsys):
    code = main(["search", "--preset", "overfit-small", "--trials", "1", "--steps", "5",
                 "--jobs", "1", *argv])
    return code, capsys.readouterr()


def _run_file(path):
    from desklab.runs import RunWriter
    RunWriter(path, {"name": "r"}).close()


def _other_db(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()


@pytest.mark.parametrize("storage, make, says", [
    ("nope://x", None, "not a storage"),
    ("just words", None, "not a URL"),
    ("sqlite:///{tmp}/missing/s.db", None, "does not exist"),
    ("sqlite:///:memory:", None, "in memory"),
    ("sqlite://", None, "in memory"),
    ("sqlite:///{tmp}/text.db", lambda p: p.write_text("hello"), "not an SQLite"),
    ("sqlite:///{tmp}/r.desklab-run", _run_file, "is a DeskLab run"),
    ("sqlite:///{tmp}/runfile.db", lambda p: (_run_file(p.with_suffix(".desklab-run")),
                                              os.replace(p.with_suffix(".desklab-run"), p)),
     "is a DeskLab run"),
    ("sqlite:///{tmp}/other.db", _other_db, "another program"),
    ("sqlite:///{tmp}/a?b.db", None, "'?'"),
    ("mysql+pymysql://user@localhost/db", None, "pip install pymysql"),  # not installed
    ("postgresql+nodriver://user@localhost/db", None, "postgresql+nodriver"),
    ("sqlite:////proc/desklab-study.db", None, "desklab-study.db"),
])
def test_a_bad_storage_is_one_line_before_any_training(tmp_path, monkeypatch, capsys,
                                                       storage, make, says):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path / "runs"))
    url = storage.format(tmp=tmp_path)
    if make is not None:
        make(tmp_path / url.rsplit("/", 1)[1])
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    start = time.monotonic()
    code, out = search("--storage", url, capsys=capsys)
    assert code == 2 and time.monotonic() - start < 20
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desklab: ") and says in lines[0], out.err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    assert {p: p.read_bytes() for p in before} == before  # nothing the user had changed


def test_joining_a_study_with_other_settings_is_refused_up_front(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    url = f"sqlite:///{tmp_path}/s.db"
    code, _ = search("--storage", url, "--study", "shared", "--param", "lr=1e-4:1e-1",
                     capsys=capsys)
    assert code == 0
    start = time.monotonic()
    code, out = search("--storage", url, "--study", "shared", "--param", "l2=1e-6:1e-2",
                       "--json", str(tmp_path / "s.json"), capsys=capsys)
    assert code == 2 and "searches lr 0.0001..0.1, not l2" in out.err, out.err
    assert time.monotonic() - start < 10  # before any trial trained
    code, _ = search("--storage", url, "--study", "shared", "--param", "lr=1e-4:1e-1",
                     "--json", str(tmp_path / "s.json"), capsys=capsys)
    assert code == 0 and len(json.loads((tmp_path / "s.json").read_text())["trials"]) == 2


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc")
def test_a_killed_search_takes_its_workers_and_its_trial_is_failed(tmp_path):
    """kill -9 of a search with two workers mid-trial: the workers end within seconds,
    and once the heartbeat's grace has passed the trials they ran read as failed."""
    code = textwrap.dedent(f"""
        import sys
        import desklab.experiments.storage as storage
        storage.HEARTBEAT_S, storage.GRACE_S = 1, 2
        from desklab.cli import main
        sys.exit(main(["search", "--preset", "overfit-small", "--trials", "4",
                       "--steps", "100000", "--jobs", "2", "--study", "killed",
                       "--storage", "sqlite:///{tmp_path}/s.db"]))
    """)
    env = {**os.environ, "DESKLAB_RUNS": str(tmp_path / "runs")}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        end = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < end and len(list((tmp_path / "runs").glob(
                "*.desklab-run")) if (tmp_path / "runs").exists() else []) < 2:
            workers = [c for c in _children(proc.pid) if c not in workers] or workers
            time.sleep(0.2)
        workers = [c for c in _children(proc.pid)]
        assert workers, "no worker processes seen"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        end = time.monotonic() + 15
        while time.monotonic() < end and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "workers outlived the search"
    finally:
        proc.kill()
    import desklab.experiments.storage as storage
    from desklab.experiments.search import study_rows
    storage_grace = storage.GRACE_S
    try:
        storage.HEARTBEAT_S, storage.GRACE_S = 1, 2
        time.sleep(3)
        rows = study_rows(f"sqlite:///{tmp_path}/s.db", "killed")
    finally:
        storage.HEARTBEAT_S, storage.GRACE_S = 10, storage_grace
    states = [r["state"] for r in rows]
    assert states and "running" not in states and "fail" in states, states


def test_a_diverged_landscape_prints_and_writes_strict_json(tmp_path, capsys):
    out = tmp_path / "l.json"
    assert main(["landscape", "--preset", "exploding", "--grid", "3", "--steps", "20",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "centre loss not a number" in printed and "diverged" in printed

    def no_nan(constant):
        raise ValueError(f"{constant} is not JSON")
    summary = json.loads(out.read_text(), parse_constant=no_nan)["summary"]
    assert summary["centre_loss"] is None and summary["roughness"] is None


def test_landscape_steps_0_is_at_init(capsys):
    assert main(["landscape", "--preset", "deep-relu", "--grid", "3", "--steps", "0"]) == 0
    assert "loss landscape at init" in capsys.readouterr().out
    assert main(["landscape", "--preset", "deep-relu", "--steps", "-1"]) == 2
