"""Export: standalone PyTorch code equal to DeskLab's module, ONNX, TensorBoard."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from desklab.cli import main
from desklab.design import InputSpec, LayerSpec, NetworkDesign, load_design
from desklab.engine import build
from desklab.engine.export import export_pytorch
from desklab.lessons import PRESETS, get_preset

RUNNER = """
import importlib.util, sys, torch
sys.modules["desklab"] = None  # DeskLab must not be importable here
for stem in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("exported_" + stem, stem + ".py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    model.load_state_dict(torch.load(stem + ".weights.pt", weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        torch.save(model(torch.load(stem + ".x.pt", weights_only=True)), stem + ".y.pt")
"""


def odd_design():
    """Every custom piece: maxout, binary step, PReLU, LayerNorm on conv, projections."""
    return NetworkDesign(name="odd", input=InputSpec("digits"), layers=[
        LayerSpec.make("conv2d", filters=4, activation="maxout", activation_params={"k": 3},
                       norm="layernorm", norm_position="after", init="lecun_normal"),
        LayerSpec.make("residual", activation="prelu", init="orthogonal", layers=[
            LayerSpec.make("conv2d", filters=6, stride=2, activation="elu",
                           init="uniform", init_params={"a": 0.2})]),
        LayerSpec.make("avgpool", window=2, stride=1),
        LayerSpec.make("flatten"),
        LayerSpec.make("dense", units=9, activation="step", init="constant", bias=False),
        LayerSpec.make("residual", activation="softplus", layers=[
            LayerSpec.make("dense", units=5, activation="leaky_relu", norm="batchnorm")]),
    ])


def designs():
    found = {slug: get_preset(slug) for slug in PRESETS}
    found["digits-resnet"] = load_design(Path("docs/examples/digits-resnet.json"))
    found["odd"] = odd_design()
    return found


def test_exported_files_equal_desklab_modules(tmp_path):
    stems, expected = [], {}
    for slug, design in designs().items():
        stem = str(tmp_path / slug.replace("-", "_").replace(".", "_"))
        Path(stem + ".py").write_text(export_pytorch(design))
        model = build(design, seed=3)
        # give BatchNorm non-trivial running statistics, then compare in eval mode
        model.train()
        with torch.no_grad():
            model(torch.randn(32, *design.input.shape))
        model.eval()
        torch.save(model.state_dict(), stem + ".weights.pt")
        x = torch.randn(16, *design.input.shape)
        torch.save(x, stem + ".x.pt")
        with torch.no_grad():
            expected[stem] = model(x)
        stems.append(stem)
    done = subprocess.run([sys.executable, "-c", RUNNER, *stems], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for stem in stems:
        got = torch.load(stem + ".y.pt", weights_only=True)
        assert (got - expected[stem]).abs().max().item() < 1e-6, stem


def test_keys_and_parameter_counts_match():
    for slug, design in designs().items():
        namespace = {}
        exec(compile(export_pytorch(design), slug, "exec"), namespace)  # noqa: S102
        exported = namespace["build_model"]()
        ours = build(design)
        assert list(exported.state_dict()) == list(ours.state_dict()), slug
        assert sum(p.numel() for p in exported.parameters()) == ours.total_params


def test_cli_export_runs_and_loads_trained_weights(tmp_path, capsys):
    code, weights = tmp_path / "net.py", tmp_path / "w.pt"
    assert main(["train", "--preset", "deep-relu", "--steps", "20", "--quiet",
                 "--save-weights", str(weights)]) == 0
    assert main(["export", "--preset", "deep-relu", "-o", str(code)]) == 0
    run = subprocess.run([sys.executable, str(code)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "Net(" in run.stdout and "91,503 parameters" in run.stdout
    check = (f"import runpy, torch; m = runpy.run_path({str(code)!r})['build_model'](); "
             f"m.load_state_dict(torch.load({str(weights)!r}, weights_only=True), strict=True)")
    assert subprocess.run([sys.executable, "-c", check], timeout=120).returncode == 0


def test_onnx_checker_accepts_the_file(tmp_path):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "m.onnx"
    assert main(["export", "--preset", "cnn-digits", "--format", "onnx", "-o",
                 str(path)]) == 0
    onnx.checker.check_model(onnx.load(str(path)))
    graph = onnx.load(str(path)).graph
    assert graph.input[0].name == "x" and graph.output[0].name == "y"


def test_tensorboard_reader_reads_scalars_and_histograms(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    logdir = tmp_path / "tb"
    assert main(["train", "--preset", "cnn-digits", "--steps", "60", "--quiet",
                 "--tensorboard", str(logdir), "--json", str(tmp_path / "r.json")]) == 0
    acc = EventAccumulator(str(logdir), size_guidance={"histograms": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"metrics/loss", "metrics/val_acc", "act_std/conv1"} <= set(tags["scalars"])
    assert "activations/conv1" in tags["histograms"]
    losses = [e.value for e in acc.Scalars("metrics/loss")]
    report = json.loads((tmp_path / "r.json").read_text())
    assert losses == pytest.approx(report["evaluations"]["loss"], rel=1e-6)
    hist = acc.Histograms("activations/conv1")
    assert len(hist) == 7 and hist[0].histogram_value.num > 0  # steps 0, 10 .. 50 and 59


def test_every_export_from_the_app(window, qtbot, tmp_path):
    from PySide6.QtGui import QImage
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("tensorboard")
    view = window.training
    design = window.doc.design.copy()
    design.train.steps, design.train.eval_every = 60, 20
    view.start(design)
    qtbot.waitUntil(lambda: view.controller.state == "finished", timeout=30000)
    ex = window.exporter
    assert ex.pytorch(tmp_path / "m.py")
    compile((tmp_path / "m.py").read_text(), "m.py", "exec")
    assert ex.onnx(tmp_path / "m.onnx")
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")))
    assert ex.report(tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["format"] == "desklab.report/1" and report["history"]["step"][-1] == 59
    assert ex.csv(tmp_path / "s.csv")
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert len(rows) == 1 + 7 * 11  # header + 7 snapshots (0, 10 .. 50, 59) x 11 layers
    assert ex.tensorboard(tmp_path / "tb")
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert ex.figure_sheet(tmp_path / "sheet.png")
    sheet = QImage(str(tmp_path / "sheet.png"))
    assert sheet.width() > 300 and sheet.height() > 200
    # rendered from the panels under a title line: taller than two rows of panels, dark
    # text pixels in the title strip, and no combo box (the sheet is the panels only)
    tallest = max(p.height() for p in view.panels[:3]) + max(p.height() for p in
                                                              view.shown_panels()[3:])
    assert sheet.height() >= tallest + 30
    strip = [sheet.pixelColor(x, y).lightness() for x in range(0, 300) for y in range(30)]
    assert min(strip) < 100 and sum(v < 128 for v in strip) > 50
    assert sheet.height() < view.plots_area.height() + 60
    for i, panel in enumerate(view.panels):  # each plot: PNG and SVG, as its menu does
        assert [a.text() for a in panel.scene().contextMenu] == [
            "Save plot as PNG…", "Save plot as SVG…"]
        panel.save_image(str(tmp_path / f"p{i}.png"))
        panel.save_image(str(tmp_path / f"p{i}.svg"))
        assert QImage(str(tmp_path / f"p{i}.png")).width() > 50
        svg = (tmp_path / f"p{i}.svg").read_text()
        assert "<svg" in svg[:1000] and ("<path" in svg or "<polyline" in svg)
    assert window.errors == []


def test_export_escapes_every_nasty_name(tmp_path):
    """Text from the design reaches the generated file only as string literals: a name
    or description holding quotes, escapes or newlines cannot run as code."""
    import subprocess
    import sys

    from desklab.design import LayerSpec, NetworkDesign
    from desklab.engine.export import export_pytorch
    marker = tmp_path / "pwned"
    nasty = ('x"""; import pathlib; pathlib.Path(' + repr(str(marker)) + ').touch(); """'
             "\\N{BULLET} \\U0001F600 \\x00 ''' \n# newline\r\n\t\" \\ {} {0} %s \u2028 é")
    design = NetworkDesign(name=nasty, description=nasty + "\n" + nasty,
                           layers=[LayerSpec.make("dense", units=4)])
    path = tmp_path / "m.py"
    path.write_text(export_pytorch(design))
    code = ("import runpy, sys; g = runpy.run_path(sys.argv[1]); "
            "print(repr(g['DESIGN_NAME'])); print(repr(g['DESCRIPTION']))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert not marker.exists()
    assert out.stdout.splitlines()[:2] == [repr(nasty), repr(nasty + "\n" + nasty)]


def test_tensorboard_outer_buckets_sit_just_outside_the_range():
    pytest.importorskip("tensorboard")
    from desklab.engine.tensorboard_log import tensorboard_buckets
    edges = np.linspace(-1.0, 1.0, 5)  # 4 bins of width 0.5
    limits, counts, low, high = tensorboard_buckets(edges, np.array([3, 1, 2, 2, 1, 0.0]))
    assert (low, high) == (-1.5, 1.0)  # values below -1 exist, none above 1
    assert limits == [-1.0, -0.5, 0.0, 0.5, 1.0] and counts == [3, 1, 2, 2, 1]
    limits, counts, low, high = tensorboard_buckets(edges, np.array([0, 1, 2, 2, 1, 4.0]))
    assert (low, high) == (-1.0, 1.5) and limits[-1] == 1.5 and counts[-1] == 4
    assert sum(counts) == 10


def test_exported_code_is_the_engines_own_source():
    """Every class and helper in an exported file is engine/modules.py's source, verbatim
    (no second hand-written copy that could drift), and build_model is the only new code."""
    import ast
    import inspect

    from desklab.engine import modules

    text = export_pytorch(odd_design())
    tree = ast.parse(text)
    defined = {node.name: ast.get_source_segment(text, node, padded=False)
               for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    assert set(defined) == {"BinaryStep", "Maxout", "make_norm", "init_", "Block",
                            "Residual", "Head", "Net", "probed", "build_model"}
    for name, segment in defined.items():
        if name != "build_model":
            source = inspect.getsource(getattr(modules, name))
            # get_source_segment starts at "def"/"class", after any decorator lines
            assert source.rstrip().endswith(segment), name


def test_export_suggests_the_current_design_name(window, tmp_path):
    """Item 12 of issue 25: the name of the design now, beside its file."""
    asked = []
    window.exporter._ask = lambda title, suggestion, filt: asked.append(suggestion)
    window.doc.edit("rename", lambda d: setattr(d, "name", "my net/v2"))
    menu = window.menuBar().findChildren(type(window.menuBar().actions()[0].menu()))
    exports = [a for m in menu for a in m.actions() if a.text() == "&PyTorch code…"]
    exports[0].trigger()
    assert asked == ["my net_v2.py"]
    window.doc.path = tmp_path / "design.json"
    exports[0].trigger()
    assert asked[-1] == str(tmp_path / "my net_v2.py")
