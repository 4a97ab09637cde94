"""`desklab serve` (issue 29): a watched script, the server and a follower in three
processes; every snapshot arrives, in order, equal to the run file's own; a server
killed mid-run is reported "disconnected" and followed again when it returns; tokens,
ids, bounds, and a store the server never writes to."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("aiohttp")

from desklab.metrics import ProbeLayout, LayerMeta, Snapshot  # noqa: E402
from desklab.runs import RunReader, RunWriter  # noqa: E402
from desklab.runs.remote import RemoteError, RemoteRun, find_remote, follow  # noqa: E402
from desklab.runs.rows import LIMITS, START, decode_rows  # noqa: E402
from run_files import good_run  # noqa: E402
from served import TOKEN, free_port, script, serve, wait_for  # noqa: E402

def listed(url: str):
    """The watched run once the server lists it (None before: its file is not there)."""
    try:
        return find_remote(url, "watched", TOKEN)
    except RemoteError:
        return None


def local_snapshots(path: Path) -> list:
    reader = RunReader(path)
    try:
        return [p for k, p in reader.all_events() if k == "snapshot"]
    finally:
        reader.close()


def same(a: list, b: list) -> None:
    assert [s.step for s in a] == [s.step for s in b]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.stats, y.stats)
        np.testing.assert_array_equal(x.hist, y.hist)
        assert x.loss == y.loss or (np.isnan(x.loss) and np.isnan(y.loss))


@pytest.fixture
def stop_all():
    procs = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(10)


def test_three_processes_every_snapshot_in_order(tmp_path, stop_all):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    writer = script(tmp_path, 60, 0.03)
    stop_all.append(writer)
    stop_all.append(serve(tmp_path, port))
    run_file = wait_for(lambda: next(iter(tmp_path.glob("*.desklab-run")), None))
    found = wait_for(lambda: listed(url))
    # the CLI follower, a process of its own, reports as the local file's own report
    follower = subprocess.run([sys.executable, "-m", "desklab", "runs", "show", "watched",
                               "--remote", url, "--token", TOKEN, "--follow", "--json",
                               str(tmp_path / "remote.json")], capture_output=True,
                              text=True, timeout=120)
    assert follower.returncode == 0, follower.stderr
    assert writer.wait(60) == 0
    steps = [int(line.split()[1]) for line in follower.stderr.splitlines()
             if line.startswith("step ")]
    assert steps == sorted(steps) and steps[-1] == 58  # in order, to the last probe
    local = subprocess.run([sys.executable, "-m", "desklab", "runs", "show", str(run_file),
                            "--json", str(tmp_path / "local.json")], capture_output=True,
                           text=True, timeout=60)
    assert local.returncode == 0, local.stderr
    remote_report = json.loads((tmp_path / "remote.json").read_text())
    local_report = json.loads((tmp_path / "local.json").read_text())
    for key in ("history", "layers", "findings", "steps", "state"):
        assert remote_report[key] == local_report[key], key
    # and every snapshot, read here through the server, equals the file's
    run = RemoteRun(url, found["id"], TOKEN)
    same([p for k, p in run.all_events() if k == "snapshot"], local_snapshots(run_file))


def test_a_killed_server_is_followed_again_when_it_returns(tmp_path, stop_all):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    writer = script(tmp_path, 120, 0.05)
    stop_all.append(writer)
    server = serve(tmp_path, port)
    stop_all.append(server)
    found = wait_for(lambda: listed(url))
    run = RemoteRun(url, found["id"], TOKEN)
    seen, statuses = [], []
    done = threading.Event()

    def go():
        follow(run, lambda ev: seen.extend(p for k, p in ev if k == "snapshot"),
               statuses.append, wait=1.0)
        done.set()
    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    wait_for(lambda: len(seen) >= 3)
    server.kill()  # kill -9, mid-run
    server.wait(10)
    wait_for(lambda: any(s.startswith("disconnected") for s in statuses), 30)
    stop_all.append(serve(tmp_path, port))
    assert done.wait(120), statuses
    assert "reconnected" in statuses
    assert writer.wait(60) == 0
    same(seen, local_snapshots(next(tmp_path.glob("*.desklab-run"))))


def _get(url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _big_run(path: Path, snapshots: int) -> None:
    layout = ProbeLayout((LayerMeta("fc1", "dense", "relu", (4,), 20, (-1.0, 1.0), True),))
    writer = RunWriter(path, {"name": "big", "source": "watch"})
    for step in range(snapshots):
        writer.record("snapshot", Snapshot(step, layout, np.full((1, 11), float(step)),
                                           np.zeros((1, 42)), 0.5, 0.1))
    writer.close()


def test_tokens_ids_bounds_and_a_store_never_written(tmp_path, stop_all):
    _big_run(tmp_path / "big.desklab-run", LIMITS["snapshots"] + 100)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in tmp_path.iterdir()}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stop_all.append(serve(tmp_path, port))
    for token in (None, "", "wrong", TOKEN + "x"):
        status, body = _get(f"{url}/api/runs", token)
        assert status == 401 and b"big" not in body
    status, body = _get(f"{url}/api/runs", TOKEN)
    (listed,) = json.loads(body)
    assert status == 200 and listed["name"] == "big" and "path" not in listed
    status, body = _get(f"{url}/api/runs/{listed['id']}/rows", None)
    assert status == 401 and b"stats" not in body
    for bad in ("..%2Fbig.desklab-run", "%2Fetc%2Fpasswd", "big.desklab-run",
                str(tmp_path / "big.desklab-run").replace("/", "%2F"), "..", "big"):
        assert _get(f"{url}/api/runs/{bad}/rows", TOKEN)[0] == 404, bad
        assert _get(f"{url}/api/runs/{bad}", TOKEN)[0] == 404, bad
    for query in ("after=%7B%22steps%22%3A%22x%22%7D", "after=%5B%5D", "wait=abc",
                  "after=%7B%22steps%22%3A-5%7D", "wait=nan", "wait=-1", "wait=inf"):
        assert _get(f"{url}/api/runs/{listed['id']}/rows?{query}", TOKEN)[0] == 400, query
    run = RemoteRun(url, listed["id"], TOKEN)
    first, cursor = run.events(None)
    assert len(first) == LIMITS["snapshots"]  # a bounded piece, then the rest
    rest, _ = run.events(cursor)
    assert [p.step for _, p in first + rest] == list(range(LIMITS["snapshots"] + 100))
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in tmp_path.iterdir()} == digest


def test_the_newer_rows_come_through_and_an_older_client_is_served(tmp_path, stop_all):
    """A classification's last confusion counts, the data points and the latest
    decision grid arrive equal to what was written, once; a client from before them
    (its cursor lacks their keys) is served without them (it cannot read them), and a
    piece from a server from before them still reads."""
    good_run(tmp_path / "good.desklab-run")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stop_all.append(serve(tmp_path, port))
    run_id = find_remote(url, "good", TOKEN)["id"]
    run = RemoteRun(url, run_id, TOKEN)
    events, cursor = run.events(None)
    (remote,) = [p for k, p in events if k == "confusion"]
    reader = RunReader(tmp_path / "good.desklab-run")
    try:
        history = reader.history()
    finally:
        reader.close()
    local = history.confusion
    assert remote.step == local.step == 4  # good_run's: [[1, 2], [1, 1]] at its last step
    np.testing.assert_array_equal(remote.counts, [[1, 2], [1, 1]])
    np.testing.assert_array_equal(local.counts, [[1, 2], [1, 1]])
    (points,) = [p for k, p in events if k == "points"]
    (drawing,) = [p for k, p in events if k == "drawing"]
    for x, y in (points, history.data_points):  # as good_run wrote them
        np.testing.assert_array_equal(x, [[0, 1], [1, 0], [0.5, 0.5]])
        np.testing.assert_array_equal(y, [0, 1, 1])
    for grid in (drawing, history.drawing):
        assert grid["extent"] == (-1.0, 2.0, -1.0, 2.0)
        np.testing.assert_array_equal(grid["label"], np.eye(4))
        np.testing.assert_array_equal(grid["prob"], np.full((4, 4), 0.75))
    assert not run.events(cursor)[0]  # not sent again
    older = {k: v for k, v in START.items() if k not in ("confusion", "over_inputs")}
    status, body = _get(f"{url}/api/runs/{run_id}/rows?after="
                        f"{urllib.parse.quote(json.dumps(older))}", TOKEN)
    assert status == 200, body
    rows = json.loads(body)["rows"]
    assert len(rows["snapshots"]) == 2 and not rows["confusion"] and not rows["over_inputs"]
    del rows["confusion"], rows["over_inputs"]  # as a server from before them sends it
    decoded = decode_rows(rows, "older")
    assert decoded["confusion"] == decoded["over_inputs"] == []


def test_listening_beyond_this_machine_warns(tmp_path, stop_all):
    proc = subprocess.Popen([sys.executable, "-m", "desklab", "serve", "--runs",
                             str(tmp_path), "--host", "0.0.0.0", "--port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, DESKLAB_TOKEN=TOKEN))
    stop_all.append(proc)
    assert "serving" in proc.stdout.readline()
    proc.kill()
    assert "warning: listening on 0.0.0.0" in proc.communicate(timeout=10)[1]


@pytest.mark.parametrize("argv,words", [
    (["runs", "list", "--remote", "notaurl", "--token", "t"], "is not a server address"),
    (["runs", "list", "--remote", "ftp://x", "--token", "t"], "is not a server address"),
    (["runs", "list", "--remote", "http://x:port", "--token", "t"], "bad port"),
    (["runs", "list", "--remote", "http://127.0.0.1:1", "--token", "t"], "cannot reach"),
    (["runs", "show", "x", "--follow"], "give --remote URL"),
    (["serve", "--runs", "/no/such/folder"], "no such folder"),
])
def test_bad_remote_arguments_are_one_line(argv, words, monkeypatch, capsys):
    from desklab.cli import main
    monkeypatch.delenv("DESKLAB_TOKEN", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_a_damaged_run_is_one_line_from_the_server(tmp_path, stop_all, capsys):
    import sqlite3

    from desklab.cli import main
    _big_run(tmp_path / "big.desklab-run", 3)
    with sqlite3.connect(tmp_path / "big.desklab-run") as db:
        db.execute("UPDATE snapshots SET stats = x'00' WHERE step = 1")
    port = free_port()
    stop_all.append(serve(tmp_path, port))
    assert main(["runs", "show", "big", "--remote", f"http://127.0.0.1:{port}",
                 "--token", TOKEN]) == 2
    err = capsys.readouterr().err
    assert "the run cannot be read" in err and "step 1" in err and len(err.splitlines()) == 1
    assert str(tmp_path) not in err  # the server's folders stay its own
