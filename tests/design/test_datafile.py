"""Your own data: CSV, NPZ and IDX, through the design, the trainer and the CLI."""

import gzip
import re
import struct

import numpy as np
import pytest

from desklab.cli import main
from desklab.design import InputSpec, LayerSpec, NetworkDesign, analyze
from desklab.design.datafile import DataFileError, inspect_data, load_data
from desklab.engine.trainer import Trainer


def moons_csv(path, header=True, label_first=False):
    from sklearn.datasets import make_moons
    x, y = make_moons(200, noise=0.1, random_state=0)
    rows = [[f"{a:.5f}", f"{b:.5f}", "up" if c else "down"] for (a, b), c in zip(x, y)]
    if label_first:
        rows = [[r[2], r[0], r[1]] for r in rows]
    head = (["kind", "x1", "x2"] if label_first else ["x1", "x2", "kind"]) if header else None
    text = "\n".join(",".join(r) for r in ([head] if head else []) + rows)
    path.write_text(text + "\n")
    return path


def design_for(path, label=""):
    return NetworkDesign(input=InputSpec("file", {"path": str(path), "label": label}),
                         layers=[LayerSpec.make("dense", units=16)])


def test_csv_with_named_label_column_trains(tmp_path):
    path = moons_csv(tmp_path / "m.csv", label_first=True)
    info = inspect_data(str(path), "kind")
    assert info.shape == (2,) and info.classes == 2 and info.task == "classes"
    design = design_for(path, "kind")
    design.train.steps, design.train.lr = 150, 0.01
    assert analyze(design).ok
    result = Trainer(design).run()
    assert result.state == "finished"


def test_npz_images_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", X=rng.random((50, 6, 6)), y=rng.integers(0, 3, 50))
    info = inspect_data(str(tmp_path / "img.npz"))
    assert info.shape == (1, 6, 6) and info.classes == 3
    np.savez(tmp_path / "reg.npz", X=rng.random((40, 3)), y=rng.random(40))
    reg = design_for(tmp_path / "reg.npz")
    reg.output.task = "regression"
    reg.train.batch_size = 16  # 32 training examples
    assert inspect_data(str(tmp_path / "reg.npz")).task == "regression" and analyze(reg).ok
    assert not analyze(design_for(tmp_path / "reg.npz")).ok  # classes vs regression


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 255, (30, 4, 4)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, 30))
    x, y = load_data(str(tmp_path))
    assert x.shape == (30, 1, 4, 4) and float(x.max()) <= 1.0 and y.dtype == np.int64
    assert inspect_data(str(tmp_path / "train-images-idx3-ubyte")).samples == 30


BAD = {
    "empty.csv": (b"", "is empty"),
    "text.csv": (b"a,b,label\n1,x,0\n2,3,1\n", "line 2, column 'b': 'x' is not a number"),
    "ragged.csv": (b"a,b,label\n1,2,0\n2,1\n", "line 3: 2 values, expected 3"),
    "header.csv": (b"a,b,label\n", "no data rows"),
    "one.csv": (b"1,0\n", "at least 2 are needed"),
    "huge.csv": (b"a,label\n1,0\n1e39,1\n", "line 3, column 'a': 1e\\+39 is beyond the float32"),
    "nan-label.csv": (b"a,label\n1,0\n2,nan\n3,1\n", "line 3: the label 'nan' is missing"),
    "no-label.csv": (b"a,label\n1,0\n2,\n", "line 3: the label '' is missing"),
    "one-class.csv": (b"a,label\n1,cat\n2,cat\n", "same label: a classifier needs at least 2"),
    "wide-field.csv": (b"a,label\n" + b"1" * 140_000 + b",0\n", "not a CSV file the reader"),
    "short-idx3-ubyte": (b"\0\0\x08\x03\0\0", "IDX header is cut short"),
    "nan-y.npz": ("npz", "label of example 2 is nan"),
    "zero-d.npz": ("npz0", "one entry per example"),
    "no-features.npz": ("npz-empty", "have no features"),
    "truncated.npz": ("npz-cut", "not a readable NPZ file|cannot be read"),
}


def npz_bytes(kind: str) -> bytes:
    import io
    buffer = io.BytesIO()
    if kind == "npz":
        np.savez(buffer, X=np.zeros((3, 2)), y=np.array([0.0, np.nan, 1.0]))
    elif kind == "npz0":
        np.savez(buffer, X=np.float32(3.0), y=np.float32(1.0))
    elif kind == "npz-empty":
        np.savez(buffer, X=np.zeros((4, 0)), y=np.array([0, 1, 0, 1]))
    else:
        np.savez(buffer, X=np.zeros((50, 20)), y=np.arange(50) % 2)
        return buffer.getvalue()[:600]
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(BAD))
def test_bad_data_files_say_what_is_wrong(name, tmp_path, capsys):
    content, words = BAD[name]
    path = tmp_path / name
    path.write_bytes(npz_bytes(content) if isinstance(content, str) else content)
    with pytest.raises(DataFileError, match=words):
        inspect_data(str(path))
    problems = analyze(design_for(path)).problems
    assert problems[0].field == "input.path" and re.search(words, problems[0].message)
    assert main(["train", "--preset", "deep-relu", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(words, err)


def test_a_csv_with_idx_in_its_name_is_read_as_csv(tmp_path):
    path = tmp_path / "sensor_idx.csv"
    path.write_text("a,b,label\n1,2,0\n2,1,1\n3,3,0\n")
    assert inspect_data(str(path)).shape == (2,)


def test_npz_with_text_labels_gives_classes(tmp_path):
    np.savez(tmp_path / "t.npz", X=np.zeros((4, 2)), y=np.array(["cat", "dog", "cat", "eel"]))
    info = inspect_data(str(tmp_path / "t.npz"))
    assert (info.task, info.classes) == ("classes", 3)


@pytest.mark.parametrize("labels, names", [
    (["cat", "dog", "cat", "eel"], ("cat", "dog", "eel")),  # text: sorted, as numbered
    ([9, 3, 7, 3], ("3", "7", "9")),  # numbers other than 0..C-1: what they were
    ([1.0, 0.0, 2.0, 2.0], ()),  # 0..C-1 already: the numbers say it
])
def test_a_files_own_labels_name_its_classes(tmp_path, labels, names):
    """Class i of a file is its i-th distinct label, sorted: the confusion matrix and
    the reports name it by that label (they said 0, 1, 2 for cat, dog, eel)."""
    from desklab.design.catalog import class_names
    np.savez(tmp_path / "t.npz", X=np.arange(8.0).reshape(4, 2), y=np.array(labels))
    info = inspect_data(str(tmp_path / "t.npz"))
    _, y = load_data(str(tmp_path / "t.npz"))
    assert info.class_names == names and info.classes == 3
    if names:  # each example's class is its label's place among the names
        assert [names[c] for c in y] == [str(v) if isinstance(v, str) else f"{v:g}"
                                          for v in labels]
    assert class_names("file", {"path": str(tmp_path / "t.npz")}) == names
    assert class_names("file", {"path": str(tmp_path / "gone.npz")}) == ()  # no traceback
    assert class_names("iris") == ("setosa", "versicolor", "virginica")


def test_cli_train_and_runs_show_name_a_csvs_classes(tmp_path, capsys, monkeypatch):
    """Text labels in the CSV: the report's confusion names them, the most-confused
    line too, and the run file recorded them for `runs show` (the file may change)."""
    import json
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path / "runs"))
    path = moons_csv(tmp_path / "m.csv")  # labels "down" (class 0) and "up" (class 1)
    assert main(["train", "--preset", "deep-relu", "--data", str(path), "--steps", "60",
                 "--json", str(tmp_path / "r.json"), "--quiet"]) == 0
    out = capsys.readouterr().out
    confusion = json.loads((tmp_path / "r.json").read_text())["confusion"]
    assert confusion["class_names"] == ["down", "up"]
    line = next(line for line in out.splitlines() if line.startswith("most confused: "))
    assert re.match(r"most confused: (0 \(down\) taken for 1 \(up\)|1 \(up\) taken for 0 "
                    r"\(down\)) in \d+%", line), line
    path.write_text("x1,x2,kind\n0,0,a\n1,1,b\n")  # changed since: the record holds
    (run,) = (tmp_path / "runs").glob("*.desklab-run")
    assert main(["runs", "show", str(run), "--json", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["confusion"] == confusion
    assert line in capsys.readouterr().out


def test_a_run_of_150_named_classes_reads_back(tmp_path):
    """More classes than a confusion matrix shows (100) still name themselves in the
    run's meta, and the run reads (the meta check allowed only 100: 'unreadable')."""
    from desklab.runs import RunReader, RunWriter
    from desklab.runs.store import design_meta
    labels = np.array([f"species {i:03d}" for i in range(150)] * 2)
    np.savez(tmp_path / "many.npz", X=np.arange(600.0).reshape(300, 2), y=labels)
    design = design_for(tmp_path / "many.npz")
    writer = RunWriter(tmp_path / "r.desklab-run", design_meta(design, "cpu", 1))
    writer.close()
    reader = RunReader(tmp_path / "r.desklab-run")
    assert reader.meta["class_names"] == sorted(set(labels.tolist()))
    reader.close()


def test_npz_shape_mismatch_and_missing_arrays(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.zeros((5, 2)), y=np.zeros(4))
    with pytest.raises(DataFileError, match="X has 5 examples but y has 4"):
        inspect_data(str(tmp_path / "a.npz"))
    np.savez(tmp_path / "b.npz", features=np.zeros((5, 2)))
    with pytest.raises(DataFileError, match="needs arrays named X and y"):
        inspect_data(str(tmp_path / "b.npz"))


def test_cli_data_option_replaces_the_preset_data(tmp_path, capsys):
    path = moons_csv(tmp_path / "m.csv")
    assert main(["train", "--preset", "deep-relu", "--data", str(path), "--steps", "30",
                 "--quiet"]) == 0
    assert "finished after 30 steps" in capsys.readouterr().out
    assert main(["probe", "--preset", "cnn-digits", "--data", str(path)]) == 2
    assert "needs an image input" in capsys.readouterr().err


def test_load_data_in_the_app(window, tmp_path):
    from desklab.design.datafile import csv_columns
    path = moons_csv(tmp_path / "m.csv", label_first=True)
    assert csv_columns(str(path)) == ["kind", "x1", "x2"]
    assert window.load_data_file(str(path), "kind")
    assert window.statusBar().currentMessage() == (
        "200 examples of shape 2, 2 classes (down, up)")  # the file's labels, class 0 first
    design = window.doc.design
    assert design.input.dataset == "file" and design.input.shape == (2,)
    output = window.network.tree.item_for(("output",))  # which output is which class
    assert output.toolTip(0) == "Classes: 0 down, 1 up"
    assert window.doc.analysis.ok and design.output_size() == 2
    window.act_undo.trigger()
    assert window.doc.design.input.dataset == "spiral"
    before = window.doc.design.input
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,oops,0\n")
    assert not window.load_data_file(str(bad))
    assert "'oops' is not a number" in window.errors[-1]
    assert window.doc.design.input == before
