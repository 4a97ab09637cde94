"""One input boundary: whatever a user's file holds, only a DeskLabError (one plain line
naming the file) can come out of a reader, and the CLI turns it into exit 2.

A hypothesis fuzz drives each reader (design, CSV, NPZ, IDX, weights) with random and
mutated bytes; a table of the inputs that used to give tracebacks runs through the CLI.
"""

import io
import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desklab.cli import main
from desklab.design import dumps, loads, save_design
from desklab.design.datafile import _cache, inspect_data
from desklab.engine.weights import load_weights
from desklab.errors import DeskLabError
from desklab.lessons import get_preset

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
GOOD_DESIGN = dumps(get_preset("cnn-digits")).encode()


def valid_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, X=np.random.default_rng(0).normal(size=(20, 3)), y=np.arange(20) % 2)
    return buffer.getvalue()


def valid_weights() -> bytes:
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(3, 2)}, buffer)
    return buffer.getvalue()


def mutated(base: bytes):
    """Truncations, byte flips and insertions of a valid file."""
    return st.one_of(
        st.integers(0, len(base)).map(lambda n: base[:n]),
        st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)).map(
            lambda t: base[:t[0]] + bytes([t[1]]) + base[t[0] + 1:]),
        st.tuples(st.integers(0, len(base)), st.binary(max_size=40)).map(
            lambda t: base[:t[0]] + t[1] + base[t[0]:]))


def only_desklab_errors(read, path, content: bytes):
    path.write_bytes(content)
    _cache.clear()
    try:
        read(str(path))
    except DeskLabError as exc:
        assert str(exc) and "\n" not in str(exc).strip()


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), mutated(GOOD_DESIGN),
                         st.text(max_size=200).map(str.encode)))
def test_design_reader(tmp_path, content):
    try:
        loads(content.decode("utf-8", "replace"))
    except DeskLabError:
        pass


@FUZZ
@given(content=st.one_of(st.binary(max_size=300),
                         st.lists(st.lists(st.sampled_from(
                             ["1", "0", "-2.5", "nan", "inf", "1e39", "", "a", "x,y", '"q'
                              ]), min_size=1, max_size=4), max_size=8).map(
                             lambda rows: "\n".join(",".join(r) for r in rows).encode())))
def test_csv_reader(tmp_path, content):
    only_desklab_errors(inspect_data, tmp_path / "d.csv", content)


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), mutated(valid_npz())))
def test_npz_reader(tmp_path, content):
    only_desklab_errors(inspect_data, tmp_path / "d.npz", content)


@FUZZ
@given(content=st.one_of(st.binary(max_size=64).map(lambda b: b"\0\0\x08" + b),
                         st.binary(max_size=64)))
def test_idx_reader(tmp_path, content):
    (tmp_path / "t-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x02\x01\x00")
    only_desklab_errors(inspect_data, tmp_path / "t-images-idx3-ubyte", content)


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), mutated(valid_weights())))
def test_weights_reader(tmp_path, content):
    only_desklab_errors(load_weights, tmp_path / "w.pt", content)


def design_with(tmp_path, name: str, edit) -> str:
    doc = json.loads(dumps(get_preset("deep-relu")))
    edit(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def text_design(tmp_path, name: str, old: str, new: str) -> str:
    path = tmp_path / name
    text = dumps(get_preset("deep-relu"))
    assert old in text
    path.write_text(text.replace(old, new))
    return str(path)


CASES = {  # each used to end in a traceback (exit 1) or a crash
    "5000-digit integer": lambda t: ["probe", text_design(t, "a.json", '"seed": 0',
                                                          '"seed": ' + "9" * 5000)],
    "input shape 5": lambda t: ["probe", design_with(
        t, "b.json", lambda d: d["input"].__setitem__("shape", 5))],
    "val_fraction NaN": lambda t: ["probe", text_design(t, "c.json", '"val_fraction": 0.2',
                                                        '"val_fraction": NaN')],
    "lr 1e400": lambda t: ["train", text_design(t, "d.json", '"lr": 0.01', '"lr": 1e400')],
    "name with a lone surrogate": lambda t: ["probe", text_design(
        t, "e.json", '"name": "deep-relu"', '"name": "a\\ud800b"')],
    "garbage weights": lambda t: (t / "w.pt").write_bytes(b"garbage") and [
        "export", "--preset", "deep-relu", "--format", "onnx", "-o", str(t / "m.onnx"),
        "--weights", str(t / "w.pt")],
    "weights of another net": lambda t: torch.save({"x": torch.zeros(2)}, t / "v.pt") or [
        "export", "--preset", "deep-relu", "--format", "onnx", "-o", str(t / "m.onnx"),
        "--weights", str(t / "v.pt")],
    "weights from a FIFO": lambda t: __import__("os").mkfifo(t / "f.pt") or [
        "export", "--preset", "deep-relu", "--format", "onnx", "-o", str(t / "m.onnx"),
        "--weights", str(t / "f.pt")],
    "ONNX into a missing folder": lambda t: [
        "export", "--preset", "deep-relu", "--format", "onnx", "-o", str(t / "no" / "m.onnx")],
    "report into a folder": lambda t: ["probe", "--preset", "deep-relu", "--json", str(t)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_cli_one_line_exit_2(case, tmp_path, capsys):
    pytest.importorskip("onnx") if "ONNX" in case or "weights" in case else None
    argv = CASES[case](tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("desklab: ") and err.count("\n") == 1, err


def test_read_only_output_needs_force(tmp_path, capsys):
    out = tmp_path / "m.py"
    out.write_text("# keep me\n")
    out.chmod(0o444)
    assert main(["export", "--preset", "deep-relu", "-o", str(out)]) == 2
    assert "read-only" in capsys.readouterr().err and out.read_text() == "# keep me\n"
    assert main(["export", "--preset", "deep-relu", "-o", str(out), "--force"]) == 0
    assert "class" in out.read_text() and not out.stat().st_mode & 0o222  # still read-only


def test_gui_asks_before_replacing_a_read_only_design(window, tmp_path):
    path = tmp_path / "d.json"
    save_design(get_preset("cnn-digits"), path)
    path.chmod(0o444)
    before = path.read_bytes()
    window.ask_replace_read_only = lambda p: False
    assert window.save_to(path) is False and path.read_bytes() == before
    window.ask_replace_read_only = lambda p: True
    assert window.save_to(path) is True and path.read_bytes() != before


@pytest.mark.parametrize("lr, steps", [("1e400", "100"), ("-1e400", "100"),
                                       ("0.01", "1000000000000"), ("1e-400", "100")])
def test_gui_opens_out_of_range_numbers_and_its_widgets_keep_working(window, tmp_path,
                                                                     lr, steps):
    """lr beyond float (inf), steps 1e12: shown as problems, and the training panel's
    widgets still take input afterwards (an exception while signals were blocked left
    the slider dead)."""
    text = dumps(get_preset("deep-relu"))
    text = text.replace('"lr": 0.01', f'"lr": {lr}').replace('"steps": 2000',
                                                             f'"steps": {steps}')
    path = tmp_path / "odd.json"
    path.write_text(text)
    assert window.open_path(path, confirm=False)
    assert not window.doc.analysis.ok or lr == "1e-400"
    slider = window.training.panel.lr
    assert not slider.signalsBlocked()
    slider.setValue(slider.minimum() + 3)
    assert 0 < window.doc.design.train.lr < 1
    window.doc.undo_stack.setClean()


def test_gui_refuses_a_nan_design_before_touching_the_window(window, tmp_path):
    """It used to enter the window first, and the next edit crashed (exit 139)."""
    from desklab.design.edit import set_field
    text = dumps(get_preset("deep-relu")).replace('"val_fraction": 0.2', '"val_fraction": NaN')
    path = tmp_path / "nan.json"
    path.write_text(text)
    before = dumps(window.doc.design)
    assert window.open_path(path, confirm=False) is False
    assert "NaN" in window.errors[-1] and dumps(window.doc.design) == before
    window.doc.edit("units", lambda d: set_field(d, (0,), "units", 12))  # still fine
    window.doc.undo_stack.setClean()
