"""The app's side of `desklab serve` (issue 29): the Open remote run dialog remembers the
address and only a token the user asked to keep, says a bad address next to the field;
a server's runs are listed and a run is followed off the GUI thread, to its end, equal
to the file; a refused token and an unreachable server are said in one line."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from PySide6.QtCore import QSettings

pytest.importorskip("aiohttp")

from desklab.gui.controllers.remote_follow import RemoteFollower, RemoteStore  # noqa: E402
from desklab.gui.views.remote_dialog import RemoteDialog  # noqa: E402
from desklab.metrics import LayerMeta, ProbeLayout, Snapshot  # noqa: E402
from desklab.runs import RunWriter  # noqa: E402
from served import TOKEN, free_port, serve  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def test_the_dialog_remembers_the_address_and_only_a_kept_token(qtbot, settings):
    dialog = RemoteDialog(settings)
    qtbot.addWidget(dialog)
    dialog.url_field.setText("localhost:6008")  # no scheme
    dialog.token_field.setText("secret-1")
    dialog.accept()
    assert dialog.result() == 0 and dialog.problem.isVisibleTo(dialog)
    assert "is not a server address" in dialog.problem.text()
    dialog.url_field.setText("http://gpu-box:6008/")
    dialog.token_field.setText("")
    dialog.accept()
    assert dialog.result() == 0 and "token is missing" in dialog.problem.text()
    dialog.token_field.setText("secret-1")
    dialog.accept()
    assert dialog.result() == 1
    assert settings.value("remote/url") == "http://gpu-box:6008"
    assert settings.value("remote/token") is None
    again = RemoteDialog(settings)
    qtbot.addWidget(again)
    assert again.url() == "http://gpu-box:6008" and again.token() == ""
    again.token_field.setText("secret-2")
    again.remember.setChecked(True)
    again.accept()
    assert settings.value("remote/token") == "secret-2"
    third = RemoteDialog(settings)
    qtbot.addWidget(third)
    assert third.token() == "secret-2" and third.remember.isChecked()


def _run_file(path, snapshots: int) -> ProbeLayout:
    layout = ProbeLayout((LayerMeta("fc1", "dense", "relu", (4,), 20, (-1.0, 1.0), True),
                          LayerMeta("fc2", "dense", "tanh", (3,), 15, (-1.0, 1.0), True)))
    writer = RunWriter(path, {"name": "served", "source": "watch"})
    rng = np.random.default_rng(0)
    for step in range(snapshots):
        writer.record("snapshot", Snapshot(step, layout, rng.normal(size=(2, 11)),
                                           rng.random((2, 42)), 1.0 / (step + 1), 0.1))
    writer.close("finished")
    return layout


def test_a_served_run_is_listed_and_followed_to_its_end(qtbot, tmp_path):
    _run_file(tmp_path / "served.desklab-run", 620)  # more than one bounded piece
    port = free_port()
    server = serve(tmp_path, port)
    try:
        store = RemoteStore()
        with qtbot.waitSignal(store.listed, timeout=20000) as listed:
            store.connect_to(f"http://127.0.0.1:{port}", TOKEN)
        (run,) = listed.args[0]
        assert run["name"] == "served" and run["status"] == "finished"
        with qtbot.waitSignal(store.opened, timeout=20000) as opened:
            store.open(run)
        follower = RemoteFollower(opened.args[0])
        try:
            with qtbot.waitSignal(follower.ended, timeout=30000) as ended:
                pass
            assert ended.args == ["finished"] and follower.state == "finished"
            shown = list(follower.history.snapshots)
            assert [s.step for s in shown] == list(range(120, 620))  # the newest 500 kept
            rng, expected = np.random.default_rng(0), []
            for _ in range(620):  # the writer's draws again, in its order
                expected.append(rng.normal(size=(2, 11)))
                rng.random((2, 42))
            for snap in shown:
                np.testing.assert_array_equal(snap.stats, expected[snap.step])
            assert follower.step == 620
        finally:
            follower.close()
        wrong = RemoteStore()
        with qtbot.waitSignal(wrong.unreachable, timeout=20000) as refused:
            wrong.connect_to(f"http://127.0.0.1:{port}", TOKEN + "x")
        assert refused.args[0].endswith("refused the token"), refused.args
        store.shutdown()
        wrong.shutdown()
    finally:
        server.kill()
        server.wait(10)


def test_an_unreachable_server_is_said_without_blocking(qtbot):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = RemoteStore()
    with qtbot.waitSignal(store.unreachable, timeout=10000) as lost:
        store.connect_to(f"http://127.0.0.1:{port}", TOKEN)
        assert store.lister.running or lost.signal_triggered  # off the GUI thread
    assert lost.args[0].startswith("cannot reach http://127.0.0.1"), lost.args
    store.shutdown()
