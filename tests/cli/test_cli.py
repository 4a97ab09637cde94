"""The CLI: presets, probe report, and one clear line + exit 2 on bad input."""

import json
import subprocess
import sys

import pytest

from desklab.cli import main
from desklab.design import save_design
from desklab.engine import build
from desklab.lessons import PRESETS, get_preset


def test_presets_lists_every_preset(capsys):
    from desklab.lessons import GROUPS
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines if line.startswith("  ")]
    assert sorted(listed) == sorted(PRESETS)  # each once, under the browser's sections
    assert [line for line in lines if line and not line.startswith(" ")] == list(GROUPS)


def test_probe_report_schema(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert main(["probe", "--preset", "cnn-digits", "--seed", "3", "--json", str(path)]) == 0
    table = capsys.readouterr().out
    assert "conv1" in table and "‖dL/dh‖" in table and "|dL/dh|" not in table  # L2 norms
    report = json.loads(path.read_text())
    assert report["format"] == "desklab.report/1"
    assert report["design"] == "cnn-digits" and report["seed"] == 3
    assert report["device"] == "cpu"
    built = build(get_preset("cnn-digits"))  # counted by PyTorch, not by the report
    assert report["total_params"] == sum(p.numel() for p in built.parameters())
    assert report["total_params"] == sum(l["params"] for l in report["layers"])
    names = [l["name"] for l in report["layers"]]
    assert names == ["conv1", "maxpool2", "conv3", "flatten4", "fc5", "head"]
    conv = report["layers"][0]
    assert conv["out_shape"] == [16, 8, 8]
    assert set(conv["act"]) >= {"mean", "std", "frac_zero", "frac_saturated", "hist"}
    assert len(conv["act"]["hist"]["edges"]) == len(conv["act"]["hist"]["counts"]) + 1
    assert set(conv["grad_out"]) == {"norm", "mean_abs"}
    assert set(conv["weight"]) >= {"std", "grad_norm"}
    assert report["layers"][1]["weight"] is None  # pooling has no weights


def test_probe_says_what_is_already_wrong_at_init(tmp_path, capsys):
    """`desklab probe` printed the layer table alone: the vanishing gradients that the
    app's at-init preview shows for deep-sigmoid went unsaid. It now runs the rules on
    the probe and says the loss against ln C, as the preview does."""
    import math
    path = tmp_path / "r.json"
    assert main(["probe", "--preset", "deep-sigmoid", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(path.read_text())
    assert f"≈ ln 3 = {math.log(3):.2g}, as it should be" in out
    (finding,) = report["findings"]
    assert finding["kind"] == "vanishing" and finding["layer"] == "fc1"
    assert "[vanishing, since step 0, still active] Vanishing gradients" in out
    assert f"  -> {finding['advice']}" in out
    grads = {l["name"]: l["grad_out"]["mean_abs"] for l in report["layers"]}
    assert grads["fc1"] / grads["fc10"] < 1e-3  # the report's numbers say it too
    assert main(["probe", "--preset", "deep-relu", "--json", str(path)]) == 0
    assert json.loads(path.read_text())["findings"] == []
    assert "[" not in capsys.readouterr().out.split("as it should be.")[1]


def test_the_layer_table_keeps_its_columns_apart_for_large_gradients(tmp_path, capsys):
    """init-tanh-1.0's fc1 gradient norm, 1332.5992, filled its whole cell and ran into
    the one before it ("0.00001332.59924616.1577"): each row now splits into its eight
    columns, and each number reads back as the JSON's."""
    path = tmp_path / "r.json"
    assert main(["probe", "--preset", "init-tanh-1.0", "--json", str(path)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith(("fc", "head"))]
    layers = json.loads(path.read_text())["layers"]
    assert len(rows) == len(layers) == 11 and all(len(row) == 8 for row in rows), rows
    for row, layer in zip(rows, layers):
        assert float(row[6]) == pytest.approx(layer["grad_out"]["norm"], rel=1e-2)
        assert float(row[7]) == pytest.approx(layer["weight"]["grad_norm"], rel=1e-2)
    assert float(rows[0][6]) > 1e3  # the case that ran together


def test_probe_json_to_stdout_is_pure_json(capsys):
    assert main(["probe", "--preset", "lr-too-high", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["design"] == "lr-too-high"
    assert "fc1" in captured.err


def test_probe_file_equals_preset(tmp_path, capsys):
    path = tmp_path / "d.json"
    save_design(get_preset("init-relu-he"), path)
    before = path.read_bytes()
    assert main(["probe", str(path), "--json", str(tmp_path / "r.json")]) == 0
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv,words", [
    (["probe"], "give a design file or --preset"),
    (["probe", "--preset", "nope"], "unknown preset 'nope'"),
    (["probe", "/nonexistent/x.json"], "no such file"),
    (["probe", "--bogus"], "unrecognized arguments"),
    (["probe", "--preset", "deep-relu", "--seed", "x"], "invalid int value"),
])
def test_bad_input_one_line_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("desklab: ") and words in err


def test_invalid_design_exit_2_file_untouched(tmp_path, capsys):
    design = get_preset("cnn-digits")
    design.layers[0].params["kernel"] = 12
    design.layers[0].params["padding"] = 0
    path = tmp_path / "bad.json"
    save_design(design, path)
    before = path.read_bytes()
    assert main(["probe", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("desklab: invalid design: layer 1 (conv1): kernel 12 is larger")
    assert err.count("\n") == 1
    assert path.read_bytes() == before


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "desklab", "presets"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "init-tanh-0.01" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "desklab", "probe", "--preset", "x"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_reader_that_leaves_early_gets_no_error_message():
    """`desklab presets | head -1` printed "desklab: Broken pipe" when head had left."""
    proc = subprocess.Popen([sys.executable, "-m", "desklab", "presets"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141 and err == b"", err  # as SIGPIPE would end it


def test_runs_list_lines_up_its_paths_after_long_names(tmp_path, capsys):
    """A run named longer than 24 characters pushed its own path right of the others."""
    from desklab.cli import main
    from desklab.lessons import get_preset
    from desklab.runs import RunWriter
    from desklab.runs.store import design_meta
    for name in ("a", "a-much-longer-run-name-from-a-script-40c"):
        meta = {**design_meta(get_preset("deep-relu"), "cpu", 15), "name": name}
        RunWriter(tmp_path / f"{name}.desklab-run", meta).close("finished")
    assert main(["runs", "list", "--root", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    starts = {line.index(str(tmp_path)) for line in lines}
    assert len(lines) == 2 and len(starts) == 1, lines
