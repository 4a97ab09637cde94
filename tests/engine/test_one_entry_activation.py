"""Adding an activation is one catalog entry: a throw-away one (hard tanh) is registered
and nothing else is touched; it then builds, probes, is explained by the diagnostics
(with its own bounds), is drawn in the saturation plot, exports to PyTorch code that
gives the same outputs, and appears in the inspector."""

import numpy as np
import pytest
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign, analyze
from desklab.design import catalog
from desklab.design.schema import Entry, Param
from desklab.engine import build, probe_at_init
from desklab.engine.export import export_pytorch
from desklab.metrics.diagnostics import diagnose
from desklab.metrics import RunHistory

HARD_TANH = Entry("hardtanh", "Hard tanh", "f(x) = clamp(x, -1, 1): flat outside [-1, 1].",
                  (), {"torch": "Hardtanh", "hist": (-1.0, 1.0), "bounds": (-1.0, 1.0)})


@pytest.fixture
def hard_tanh(monkeypatch):
    """The one entry. (The activation field's choices are derived from the registry when
    the catalog is imported; re-deriving them stands in for that import.)"""
    monkeypatch.setitem(catalog.ACTIVATIONS._entries, HARD_TANH.name, HARD_TANH)
    field = catalog.COMMON["activation"]
    monkeypatch.setitem(catalog.COMMON, "activation", Param(
        field.name, field.kind, field.default, field.help, choices=catalog.ACTIVATIONS.names()))
    return HARD_TANH.name


def saturating_net(activation: str) -> NetworkDesign:
    layers = [LayerSpec.make("dense", units=32, activation=activation, init="gaussian",
                             init_params={"std": 1.0}) for _ in range(4)]
    return NetworkDesign(input=InputSpec("moons"), layers=layers)


def test_builds_probes_and_is_diagnosed_with_its_own_bounds(hard_tanh):
    design = saturating_net(hard_tanh)
    assert analyze(design).ok, analyze(design).problems
    model = build(design)
    assert isinstance(model.blocks["fc2"].act, torch.nn.Hardtanh)
    snapshot, _, _ = probe_at_init(design)
    saturation = snapshot.stat("frac_saturated")[1:4]
    assert (saturation > 0.5).all()  # N(0, 1) weights on 32 inputs: mostly beyond ±1
    history = RunHistory(snapshot.layout)
    history.add_snapshot(snapshot)
    found = {f.kind: f for f in diagnose(history)}
    assert "saturated" in found
    assert "hardtanh" in found["saturated"].message and "-1 or +1" in found["saturated"].message


def test_exports_to_code_with_the_same_outputs(hard_tanh):
    design = saturating_net(hard_tanh)
    namespace = {}
    exec(compile(export_pytorch(design), "hardtanh", "exec"), namespace)  # noqa: S102
    exported, ours = namespace["build_model"](), build(design)
    exported.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(16, 2)
    exported.eval()
    ours.eval()
    assert torch.allclose(exported(x), ours(x))


def test_plots_and_inspector_pick_it_up(hard_tanh, window, qtbot):
    from desklab.gui.plots import HealthPanel
    design = saturating_net(hard_tanh)
    snapshot, _, _ = probe_at_init(design)
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.set_layout(snapshot.layout)
    assert panel.sat_index == [0, 1, 2, 3]  # drawn in "saturated" like sigmoid and tanh
    window.doc.replace(design, None)
    window.doc.select([(0,)])
    combo = window.inspector.editors["activation"]
    names = [combo.itemData(i) for i in range(combo.count())]
    assert hard_tanh in names and np.isfinite(snapshot.stats).any()
    window.doc.undo_stack.setClean()
