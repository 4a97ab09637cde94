"""Every run file is hostile input (issue 26): crafted and fuzzed run files give one
``desklab:`` line (exit 2) from ``runs show`` / ``export``, an ``unreadable`` entry in
``runs list``, never a traceback or a hang; writers never follow a planted link nor
share a file; a run is never replaced by its own report."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desklab.cli.main import main
from desklab.errors import DeskLabError
from desklab.runs import SUFFIX, RunReader, RunWriter, list_runs
from desklab.runs.folder import new_run_path
from run_files import ROW_DAMAGE, RUN_DAMAGE, good_run, tamper


def run_cli(*argv: str, capsys) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code: int, err: str, path: Path) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desklab: ") and path.name in lines[0], err


@pytest.mark.parametrize("what", list(RUN_DAMAGE))
def test_a_damaged_run_is_one_line_and_listed_as_unreadable(tmp_path, capsys, what):
    path = good_run(tmp_path / "runs" / f"bad{SUFFIX}")
    good_run(tmp_path / "runs" / f"fine{SUFFIX}", name="fine")
    tamper(path, *RUN_DAMAGE[what])
    start = time.monotonic()
    for verb in (["show", str(path)], ["show", str(path), "--json", str(tmp_path / "r.json")],
                 ["export", str(path), "--csv", str(tmp_path / "r.csv")]):
        code, _, err = run_cli("runs", *verb, capsys=capsys)
        assert_one_line_error(code, err, path)
    code, out, err = run_cli("runs", "list", "--root", str(tmp_path / "runs"), capsys=capsys)
    assert code == 0 and not err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and " fine " in lines[0], out
    assert ("unreadable" in lines[1]) != what.startswith(ROW_DAMAGE), out
    assert time.monotonic() - start < 20  # no hang (the recursive view)



def test_not_a_run_at_all(tmp_path, capsys):
    for name, content in {"empty": b"", "text": b"hello", "random": os.urandom(5000),
                          "sqlite-other": None}.items():
        path = tmp_path / f"{name}{SUFFIX}"
        if content is None:
            tamper(path, "CREATE TABLE t (x)")
        else:
            path.write_bytes(content)
        code, _, err = run_cli("runs", "show", str(path), capsys=capsys)
        assert_one_line_error(code, err, path)
    fifo = tmp_path / f"fifo{SUFFIX}"
    os.mkfifo(fifo)
    code, _, err = run_cli("runs", "show", str(fifo), capsys=capsys)  # never blocks
    assert_one_line_error(code, err, fifo)


meta_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["name", "source", "status", "started", "ended", "pid",
                            "total_params", "device", "layout", "design", "threads",
                            "optimizer", "seed", "cause", "every", "busy_other_cores"]),
       value=meta_values, raw=st.booleans())
def test_fuzzed_meta_values_read_or_refuse_cleanly(tmp_path_factory, key, value, raw):
    """Any JSON value (or raw text) at any meta key: the reader gives a run whose
    listing and report can be made, or a DeskLabError; nothing else."""
    path = good_run(tmp_path_factory.mktemp("fuzz") / f"r{SUFFIX}")
    stored = repr(value) if raw else json.dumps(value, allow_nan=True)
    tamper(path, "INSERT OR REPLACE INTO meta VALUES (?, ?)", args=(key, stored))
    try:
        infos = list_runs(path.parent)
        reader = RunReader(path)
    except DeskLabError:
        assert [i.status for i in list_runs(path.parent)] == ["unreadable"]
        return
    try:
        history = reader.history()
        assert len(history.snapshots) == 2
    except DeskLabError as exc:  # found when the rows are read (an empty layout)
        assert path.name in str(exc)
    finally:
        reader.close()
    assert len(infos) == 1 and infos[0].status != "unreadable"
    time.strftime("%Y", time.localtime(infos[0].started))  # runs list formats it
    assert isinstance(infos[0].name, str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(["steps", "snapshots", "metrics", "findings", "confusion",
                              "over_inputs"]),
       column=st.integers(0, 5),
       value=st.none() | st.integers(-2 ** 63, 2 ** 63 - 1) | st.floats() | st.text(max_size=30) |
       st.binary(max_size=400))
def test_fuzzed_rows_read_or_refuse_cleanly(tmp_path_factory, table, column, value):
    path = good_run(tmp_path_factory.mktemp("fuzz") / f"r{SUFFIX}")
    db = sqlite3.connect(path)
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    db.close()
    name = columns[column % len(columns)]
    try:
        tamper(path, f"UPDATE {table} SET {name} = ?", args=(value,))
    except sqlite3.IntegrityError:
        return  # a NOT NULL / primary key SQLite itself refused
    try:
        reader = RunReader(path)
        try:
            reader.history()
        finally:
            reader.close()
    except DeskLabError as exc:
        assert path.name in str(exc)


def test_writers_never_follow_a_planted_link_nor_share_a_file(tmp_path, monkeypatch):
    import desklab.runs.folder as folder
    monkeypatch.setattr(folder.time, "strftime", lambda fmt: "20261203-120000")
    runs, outside = tmp_path / "runs", tmp_path / "outside"
    runs.mkdir()
    outside.mkdir()
    first = new_run_path("shared", runs)
    os.symlink(outside / "planted.db", first)  # dangling, at the next run's name
    second = first.with_name(first.name.replace(SUFFIX, f"-2{SUFFIX}"))
    os.symlink(outside / "planted-wal", f"{second}-wal")  # and at the one after's log
    path = new_run_path("shared", runs)
    assert path.name.endswith(f"-3{SUFFIX}"), path  # both taken names skipped
    RunWriter(path, {"name": "shared"}).close()
    assert not list(outside.iterdir())
    with pytest.raises(FileExistsError):
        RunWriter(first, {"name": "through the link"})  # asked for by name: refused
    with pytest.raises(FileExistsError):
        RunWriter(path, {"name": "second writer"})
    assert not list(outside.iterdir())


def _released_together(setup: str, race: str, arg: str) -> list[str]:
    """Run ``setup`` then, at one instant 3 s on, ``race`` in two Python processes (each
    given ``arg`` as sys.argv[1]); what each printed, sorted."""
    code = (f"import sys, time\n{setup}t = float(sys.argv[2])\n"
            f"while time.time() < t: pass\n{race}")
    at = str(time.time() + 3.0)
    procs = [subprocess.Popen([sys.executable, "-c", code, arg, at],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    return sorted(p.communicate(timeout=60)[0].strip() for p in procs)


def test_two_processes_opening_one_run_path_one_fails(tmp_path):
    outcomes = _released_together(
        "from desklab.runs import RunWriter\n",
        "try:\n    RunWriter(sys.argv[1], {'name': 'r'}).close(); print('made')\n"
        "except FileExistsError:\n    print('refused')\n", str(tmp_path / f"race{SUFFIX}"))
    assert outcomes == ["made", "refused"], outcomes


def test_two_processes_starting_runs_of_one_name_in_one_second_both_record(tmp_path):
    """Two `desklab search` workers on one study started trials of one design in the
    same second: both chose the run store's free name, and the second's writer found it
    taken ("already holds a run", a failed CI run). The name the store chose moves on to
    the next free one; a path the user asked for is still refused (the test above)."""
    names = _released_together(
        "import desklab.runs.folder as folder\n"
        "folder.time.strftime = lambda fmt: '20261203-120000'\n"
        "from desklab.runs import RunWriter\n"
        "path = folder.new_run_path('shared', sys.argv[1])\n",  # free in both
        "writer = RunWriter(path, {'name': 'r'}, next_free=True)\n"
        "writer.close(); print(writer.path.name)\n", str(tmp_path))
    assert names == [f"20261203-120000-shared-2{SUFFIX}", f"20261203-120000-shared{SUFFIX}"]
    assert sorted(r.path.name for r in list_runs(tmp_path)) == names  # both whole runs


def test_a_folder_with_hash_and_question_mark(tmp_path, capsys):
    folder = tmp_path / "C#" / "runs?x"
    path = good_run(folder / f"r{SUFFIX}", name="exp#3")
    reader = RunReader(path)
    assert reader.meta["name"] == "exp#3"
    reader.close()
    assert not list(tmp_path.glob("C"))  # nothing landed beside, cut at the '#'
    code, out, _ = run_cli("runs", "show", str(path), capsys=capsys)
    assert code == 0 and out.startswith("exp#3: finished")


def test_show_never_replaces_the_run_with_its_report(tmp_path, capsys):
    path = good_run(tmp_path / f"r{SUFFIX}")
    before = path.read_bytes()
    link = tmp_path / "report.json"
    os.symlink(path, link)
    for target in (str(path), str(link)):
        code, _, err = run_cli("runs", "show", str(path), "--json", target, capsys=capsys)
        assert code == 2 and "the run itself" in err, err
    code, _, err = run_cli("runs", "export", str(path), "--csv", str(path), capsys=capsys)
    assert code == 2 and "the run itself" in err, err
    assert path.read_bytes() == before


def test_control_bytes_in_a_name_never_reach_the_terminal(tmp_path, capsys):
    path = good_run(tmp_path / f"r{SUFFIX}", name="evil\x1b]0;pwned\x07\x1b[2J")
    for argv in (["list", "--root", str(tmp_path)], ["show", str(path)]):
        code, out, err = run_cli("runs", *argv, capsys=capsys)
        assert code == 0 and "\x1b" not in out + err and "\x07" not in out + err
        assert "evil\\x1b]0;pwned\\x07" in out, out


def test_a_killed_runs_missing_wal_is_named(tmp_path, capsys):
    """Copying only the .desklab-run of a killed run: runs show says its -wal is missing
    (and a run closed normally folds its log in, so its file alone is whole)."""
    closed = good_run(tmp_path / f"closed{SUFFIX}")
    assert not Path(f"{closed}-wal").exists()
    code = ("import os, sys, numpy as np\nfrom desklab.runs import RunWriter\n"
            "from desklab.metrics.records import StepSeries\n"
            "w = RunWriter(sys.argv[1], {'name': 'killed'})\n"
            "w.record('steps', StepSeries(0, np.ones(3), np.ones(3), np.ones(3)))\n"
            "w.commit()\nos.kill(os.getpid(), 9)\n")
    killed = tmp_path / "live" / f"killed{SUFFIX}"
    subprocess.run([sys.executable, "-c", code, str(killed)], timeout=60)
    copy = tmp_path / f"copy{SUFFIX}"
    copy.write_bytes(killed.read_bytes())  # the -wal left behind
    code, _, err = run_cli("runs", "show", str(copy), capsys=capsys)
    assert_one_line_error(code, err, copy)
    assert "never closed" in err and f"{copy.name}-wal, which is not beside it" in err
    code, out, _ = run_cli("runs", "show", str(killed), capsys=capsys)
    assert code == 0 and "interrupted, 3 steps" in out and "-wal" not in out, out
    closed_copy = tmp_path / f"closed-copy{SUFFIX}"
    closed_copy.write_bytes(closed.read_bytes())
    code, out, _ = run_cli("runs", "show", str(closed_copy), capsys=capsys)
    assert code == 0 and "finished, 5 steps" in out, out
