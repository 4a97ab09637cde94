"""Issue 29, as a person does it: a script trains under desklab.watch, `desklab serve`
serves its run store, and the app follows the run from File > Open remote run (real X
input). The server is killed mid-run: the app says "disconnected", keeps what it
showed, follows again when the server is back, and ends with the whole run: its
per-layer CSV export holds every snapshot of the local run file, equal to the file's
own rows (read here with sqlite3 and numpy). The address is remembered, the token is
not."""

from __future__ import annotations

import csv
import signal
import sqlite3
import time

import numpy as np
import pytest

from served import TOKEN, free_port, script, serve, wait_for
from xapp import App, center

pytest.importorskip("aiohttp")


def _file_snapshots(path) -> dict[int, np.ndarray]:
    """step -> (layers, stats) straight from the run file's table."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT step, stats FROM snapshots ORDER BY step").fetchall()
    finally:
        db.close()
    layers = _layer_count(path)
    return {step: np.frombuffer(blob, "<f8").reshape(layers, -1) for step, blob in rows}


def _layer_count(path) -> int:
    import json
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        layout = json.loads(db.execute("SELECT value FROM meta WHERE key = 'layout'")
                            .fetchone()[0])
    finally:
        db.close()
    return len(layout["layers"] if isinstance(layout, dict) else layout)


def test_following_a_served_run_through_a_killed_server(xserver, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    writer = script(store, 700, 0.02)  # ~15 s of training, a probe every 2nd step
    server = serve(store, port)
    procs = [writer, server]
    (tmp_path / "home").mkdir()
    app = None
    try:
        app = App(xserver, tmp_path / "home")
        app.click(*center(app.widget("train_status")))  # the window has the keyboard
        app.menu("alt+f", "m")  # File > Open remote run
        app.wait(lambda m: m["active_modal"] == "Open remote run", 10, "the dialog")
        app.click(*center(app.widget("remote_url")))
        app.key("ctrl+a")
        app.type(url)
        app.click(*center(app.widget("remote_token")))
        app.type(TOKEN)
        app.key("Return")  # Connect
        app.wait(lambda m: not m["active_modal"], 10, "the dialog closed")
        item = app.wait(lambda m: next((i["rect"] for i in m["remote_runs"]
                                        if "watched" in i["text"]), None), 30,
                        "the watched run listed by the server")
        app.click(*center(item))  # chosen with the mouse, followed from the keyboard (the
        app.key("Return")  # newcomer's story double-clicks a stored run)
        app.wait(lambda m: m["labels"].get("follow_settings"), 15, "following it")
        app.wait(lambda m: _step(m["train_status"]) >= 40, 30, "steps arriving")
        server.send_signal(signal.SIGKILL)  # mid-run
        server.wait(10)
        lost = app.wait(lambda m: m["train_status"] if "disconnected" in
                        m["train_status"] else None, 20, "'disconnected' in the status")
        shown = _step(lost)
        assert shown >= 40, lost  # what was shown stays
        app.shot("remote-disconnected")
        time.sleep(1.5)  # the run goes on meanwhile, unseen
        procs.append(serve(store, port))
        final = app.wait(lambda m: m["train_status"] if m["train_status"].startswith(
            "finished") else None, 90, "the whole run, after the server came back")
        assert "disconnected" not in final and "step 700/700" in final, final
        assert writer.wait(30) == 0
        app.shot("remote-finished")
        out = tmp_path / "remote-layers.csv"
        app.click(*center(app.widget("train_status")))
        app.menu("alt+f", "e", "m")  # File > Export > Per-layer metrics (CSV)
        app.wait(lambda m: m["active_modal"], 10, "the save dialog")
        time.sleep(0.3)
        app.key("ctrl+a")
        app.type(str(out))
        app.key("Return")
        wait_for(out.exists, 10)
        run_file = next(store.glob("*.desklab-run"))
        expected = _file_snapshots(run_file)
        with out.open() as f:
            rows = list(csv.DictReader(f))
        steps = sorted({int(r["step"]) for r in rows})
        assert steps == sorted(expected) and len(steps) == 349  # every probe (2..698)
        for step, stats in expected.items():
            got = [r for r in rows if int(r["step"]) == step]
            assert len(got) == stats.shape[0]
            for column, name in enumerate(("act_mean", "act_std")):  # STATS' first two
                shown = np.array([float(r[name]) for r in got])
                np.testing.assert_allclose(shown, stats[:, column], rtol=1e-5, atol=1e-12)
    finally:
        if app is not None:
            app.kill()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
    settings = (tmp_path / "home" / "config" / "DeskLab" / "DeskLab.conf").read_text()
    assert url in settings and TOKEN not in settings  # the address, not the token


def _step(status: str) -> int:
    """The step in "following · step 123/456 · ..."."""
    try:
        return int(status.split("step ", 1)[1].split("/", 1)[0])
    except (IndexError, ValueError):
        return -1
