"""desklab.watch on a user's own loop: its numbers equal plain torch hooks measured in
the test, GradScaler's gradients are recorded unscaled, unprobed steps cost nothing,
and the examples (plain, AMP, DDP) leave the runs they should."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import desklab
from desklab.metrics import STAT_INDEX
from desklab.runs import RunReader

ROOT = Path(__file__).resolve().parents[2]


def mlp():
    return nn.Sequential(nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 5))


def cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.GELU(),
                         nn.Flatten(), nn.Linear(16 * 4 * 4, 5))


def data(model_name, n=64):
    g = torch.Generator().manual_seed(1)
    shape = (n, 12) if model_name == "mlp" else (n, 3, 8, 8)
    return torch.randn(*shape, generator=g), torch.randint(0, 5, (n,), generator=g)


def train_and_capture(make, name, tmp_path, probe_at=6, every=3, steps=8, scaler=None):
    """Train with watch(every) while the test's own hooks capture step ``probe_at``."""
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    x, y = data(name)
    captured = {"act": {}, "grad": {}}
    watcher = desklab.watch(model, optimizer, every=every, run=tmp_path / name)
    for step in range(steps):
        handles = []
        if step == probe_at:
            for path, module in model.named_modules():
                if path and not any(True for _ in module.children()):
                    def hook(m, i, out, path=path):
                        if path not in captured["act"]:  # the first call, as documented
                            captured["act"][path] = out.detach().double().numpy()
                            def keep(g, path=path):  # returns None: g unchanged
                                captured["grad"].setdefault(path, g.double().numpy())
                            out.register_hook(keep)
                    handles.append(module.register_forward_hook(hook))
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        if scaler is None:
            loss.backward()
            if step == probe_at:
                captured["w0"] = {p: m.weight.detach().double().numpy().copy()
                                  for p, m in model.named_modules() if _weighted(m)}
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            if step == probe_at:
                captured["w0"] = {p: m.weight.detach().double().numpy().copy()
                                  for p, m in model.named_modules() if _weighted(m)}
            scaler.step(optimizer)
            scaler.update()
        if step == probe_at:
            captured["wgrad"] = {p: m.weight.grad.double().numpy().copy()
                                 for p, m in model.named_modules() if _weighted(m)}
            captured["w1"] = {p: m.weight.detach().double().numpy().copy()
                              for p, m in model.named_modules() if _weighted(m)}
        watcher.log(loss=loss)
        for h in handles:
            h.remove()
    watcher.close()
    reader = RunReader(watcher.path)
    history = reader.history()
    snap = next(s for s in history.snapshots if s.step == probe_at)
    reader.close()
    return snap, captured, model


def _weighted(m):
    return isinstance(getattr(m, "weight", None), nn.Parameter)


@pytest.mark.parametrize("name,make", [("mlp", mlp), ("cnn", cnn)])
def test_watch_equals_plain_torch_hooks(name, make, tmp_path):
    snap, cap, model = train_and_capture(make, name, tmp_path)
    names = snap.layout.names
    assert names == [p for p, m in model.named_modules()
                     if p and (any(True for _ in m.parameters(recurse=False))
                               or type(m).__name__ in ("Tanh", "ReLU", "GELU"))]
    for i, path in enumerate(names):
        a, g = cap["act"][path], cap["grad"][path]
        got = {k: snap.stats[i, j] for k, j in STAT_INDEX.items()}
        assert got["act_std"] == pytest.approx(a.std(), rel=1e-5), path
        assert got["act_mean"] == pytest.approx(a.mean(), rel=1e-5, abs=1e-7), path
        assert got["frac_zero"] == pytest.approx(np.mean(a == 0), abs=1e-9), path
        assert got["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-5), path
        assert got["grad_mean_abs"] == pytest.approx(np.abs(g).mean(), rel=1e-5), path
        if path in cap["wgrad"]:
            w0, w1 = cap["w0"][path], cap["w1"][path]
            assert got["weight_std"] == pytest.approx(w1.std(), rel=1e-5), path
            assert got["weight_grad_norm"] == pytest.approx(
                np.linalg.norm(cap["wgrad"][path]), rel=1e-5), path
            assert got["update_ratio"] == pytest.approx(
                np.linalg.norm(w1 - w0) / np.linalg.norm(w0), rel=1e-4), path
        assert snap.hist[i].sum() == a.size


def test_gradscaler_gradients_are_recorded_unscaled(tmp_path):
    """A twin run without the scaler has the same gradients; the scaled ones (x 65536)
    would be far off."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    snap, cap, _ = train_and_capture(mlp, "mlp", tmp_path / "amp", scaler=scaler)
    twin, _, _ = train_and_capture(mlp, "mlp", tmp_path / "plain")
    j = STAT_INDEX["weight_grad_norm"]
    recorded, plain = snap.stats[:, j], twin.stats[:, j]
    weighted = np.isfinite(plain)
    assert weighted.sum() == 3
    np.testing.assert_allclose(recorded[weighted], plain[weighted], rtol=1e-5)
    assert np.all(recorded[weighted] < 100)  # scaled by 65536 they would be huge


def test_a_module_called_twice_is_measured_at_its_first_call(tmp_path):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.act = nn.Linear(12, 32), nn.Linear(32, 5), nn.ReLU()

        def forward(self, x):
            return self.fc2(self.act(self.act(self.fc1(x)) * 3.0 - 1.0))

    snap, cap, _ = train_and_capture(Twice, "mlp", tmp_path)
    i = snap.layout.names.index("act")
    a = cap["act"]["act"]  # the test's hook kept the first call too
    assert snap.stats[i, STAT_INDEX["act_std"]] == pytest.approx(a.std(), rel=1e-5)
    reader = RunReader(tmp_path / "mlp.desklab-run")
    tree = {row["name"]: row for row in reader.meta["modules"]}
    reader.close()
    assert tree["act"]["calls"] == 2 and tree["fc1"]["calls"] == 1


def test_unprobed_steps_read_nothing_back(tmp_path, monkeypatch):
    """log(loss=tensor) on an unprobed step brings nothing to the host."""
    torch.manual_seed(0)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data("mlp")
    watcher = desklab.watch(model, optimizer, every=4, run=tmp_path / "quiet")
    calls = []
    for name in ("item", "cpu", "tolist", "numpy", "__bool__", "__float__"):
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name, lambda self, *a, _o=original, _n=name, **k: (
            calls.append((_n, watcher.step)), _o(self, *a, **k))[1])
    for _ in range(12):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watcher.log(loss=loss)
    monkeypatch.undo()
    watcher.close()
    assert {step for _, step in calls} <= {4, 8}  # the probed steps, one transfer each
    assert len([c for c in calls if c[0] == "cpu"]) == 2


def run_example(*args, timeout=120):
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_plain_and_amp_examples_leave_readable_runs(tmp_path):
    run_example("examples/watch_plain.py", "--run", str(tmp_path / "plain"), "--steps", "40")
    run_example("examples/watch_amp.py", "--run", str(tmp_path / "amp"), "--steps", "30",
                "--device", "cpu")
    for stem, probes in (("plain", 3), ("amp", 2)):
        reader = RunReader(tmp_path / f"{stem}.desklab-run")
        assert reader.meta["status"] == "finished" and reader.meta["source"] == "watch"
        assert len(reader.history().snapshots) == probes
        reader.close()


def test_ddp_example_one_run_by_default_and_one_per_rank_with_all(tmp_path):
    run_example("examples/watch_ddp.py", "--run", str(tmp_path / "one"), "--steps", "12")
    run_example("examples/watch_ddp.py", "--run", str(tmp_path / "all"), "--ranks", "all",
                "--steps", "12")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in
                  tmp_path.rglob("*.desklab-run")) == [
        "all/rank-0.desklab-run", "all/rank-1.desklab-run", "one.desklab-run"]
    ranks = [RunReader(tmp_path / "all" / f"rank-{r}.desklab-run") for r in (0, 1)]
    assert [r.meta["rank"] for r in ranks] == [0, 1]
    h0, h1 = (r.history() for r in ranks)
    # after the all-reduce both ranks hold the same gradients; their activations differ
    j, k = STAT_INDEX["weight_grad_norm"], STAT_INDEX["act_std"]
    np.testing.assert_allclose(h0.latest.stats[:, j], h1.latest.stats[:, j], rtol=1e-5)
    assert not np.allclose(h0.latest.stats[:, k], h1.latest.stats[:, k])
    for r in ranks:
        r.close()


def test_lightning_example_records_through_the_callback(tmp_path):
    pytest.importorskip("lightning")
    run_example("examples/watch_lightning.py", "--run", str(tmp_path / "lightning"),
                "--steps", "40", timeout=180)
    reader = RunReader(tmp_path / "lightning.desklab-run")
    history = reader.history()
    assert reader.meta["status"] == "finished"
    assert history.latest.layout.names[:3] == ["net.0", "net.1", "net.2"]
    assert [s.step for s in history.snapshots] == [10, 20, 30]
    reader.close()


def test_gradscaler_dl_dh_is_recorded_unscaled_when_the_scaler_is_given(tmp_path):
    """dL/dh is read during the scaled backward: with watch(scaler=) it is divided by
    the step's scale, and equals a twin run's without the scaler (x 65536 before)."""
    def run(folder, scaler):
        torch.manual_seed(0)
        model = mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = data("mlp")
        watcher = desklab.watch(model, optimizer, every=3, run=folder, scaler=scaler)
        for _ in range(7):
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            watcher.log(loss=loss)
        watcher.close()
        reader = RunReader(watcher.path)
        snap = reader.history().snapshots[-1]
        reader.close()
        return snap
    scaled = run(tmp_path / "amp", torch.amp.GradScaler("cpu", init_scale=2.0**16))
    plain = run(tmp_path / "plain", None)
    for stat in ("grad_norm", "grad_mean_abs"):
        np.testing.assert_allclose(scaled.stat(stat), plain.stat(stat), rtol=1e-5)
