"""The fused CPU kernel: sampled histograms and NaN as the tensor operations have them,
checked against numpy; and its build: cached, atomic, and a clean fallback without a
compiler or when compiling fails."""

import math

import numpy as np
import pytest
import torch

from desklab.engine import Prober, build, cpu_kernel, make_dataset, task_loss
from desklab.engine.probe_cpu import CpuReducer
from desklab.lessons import get_preset
from desklab.metrics import N_BINS, STAT_INDEX

needs_kernel = pytest.mark.skipif(cpu_kernel.load() is None,
                                  reason="no C compiler here: nothing to build")


class Point:
    def __init__(self, hist_range, bounds=None):
        self.hist_range, self.bounds = hist_range, bounds


def numpy_counts(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=N_BINS, range=(lo, hi))
    return np.concatenate([[np.sum(a < lo) + np.sum(np.isnan(a))], counts,
                           [np.sum(a > hi)]]).astype(float)


@pytest.mark.parametrize("reducer", ["kernel", "tensor-ops"])
def test_sampled_histogram_is_the_first_rows_scaled_to_the_batch(reducer, monkeypatch):
    """hist_sample: the histogram (and unit spread) read the first rows; a person sees
    counts on the scale of the whole batch."""
    if reducer == "kernel" and cpu_kernel.load() is None:
        pytest.skip("no C compiler here")
    if reducer == "tensor-ops":
        monkeypatch.setattr("desklab.engine.probe.CpuReducer.create", lambda points: None)
    design = get_preset("bench-mlp")
    model = build(design, seed=1)
    data = make_dataset(design, seed=1)
    x, y = data.x_train[:64], data.y_train[:64]
    outputs = {}
    handles = [p.module.register_forward_hook(
        lambda m, i, o, name=p.name: outputs.__setitem__(name, o.detach().double().numpy()))
        for p in model.probe_points]
    prober = Prober(model, hist_sample=256 * 4)  # 4 rows of 256 units
    prober.active = True
    task_loss(model(x), y, data.task).backward()
    prober.active = False
    snapshot = prober.collect(1, None, 0.1)
    for h in handles:
        h.remove()
    for i, point in enumerate(model.probe_points[:-1]):  # the 256-wide layers
        a = outputs[point.name]
        want = numpy_counts(a[:4], *point.hist_range) * 16  # 64 rows / 4
        assert np.abs(snapshot.hist[i] - want).sum() <= 2 * 16, point.name
        spread = a[:4].std(axis=1).mean()
        assert snapshot.stats[i, STAT_INDEX["unit_spread"]] == pytest.approx(spread, rel=1e-4)
        assert snapshot.stats[i, STAT_INDEX["act_mean"]] == pytest.approx(a.mean(), rel=1e-4,
                                                                           abs=1e-6)


@needs_kernel
def test_nan_and_inf_are_counted_as_the_tensor_operations_count_them():
    """A diverged layer: NaN makes mean, std and the zero share NaN, is never a dead
    unit's proof of life, and counts as underflow; +inf is overflow."""
    a = torch.relu(torch.randn(32, 8))
    a[:, 2] = 0  # dead
    a[0, 3], a[1, 5], a[2, 6] = math.nan, math.inf, -math.inf
    a[:, 7] = 0
    a[4, 7] = math.nan  # a unit that is 0 or NaN is not dead
    stats, counts = torch.full((1, 11), math.nan), torch.empty(1, N_BINS + 2)
    CpuReducer.create([Point((0.0, 4.0))]).activations([(0, a)], None, stats, counts)
    assert math.isnan(stats[0, 0]) and math.isnan(stats[0, 1]) and math.isnan(stats[0, 2])
    assert stats[0, 3].item() == pytest.approx(1 / 8)
    want = numpy_counts(a.double().numpy(), 0.0, 4.0)
    np.testing.assert_array_equal(counts[0].numpy(), want)
    assert counts[0, 0].item() == 3 and counts.sum().item() == a.numel()


@needs_kernel
def test_saturation_uses_the_bounds_and_ignores_the_unbounded():
    a = torch.tensor([[-1.0, -0.995, 0.0, 0.5, 0.989, 1.0]] * 4)
    stats, counts = torch.zeros(2, 11), torch.empty(2, N_BINS + 2)
    points = [Point((-1.0, 1.0), (-1.0, 1.0)), Point((-1.0, 1.0), None)]
    CpuReducer.create(points).activations([(0, a), (1, a)], None, stats, counts)
    want = np.mean((a.numpy() <= -0.99) | (a.numpy() >= 0.99))
    assert stats[0, 4].item() == pytest.approx(want) and stats[1, 4].item() == 0.0


def fresh_state(monkeypatch, tmp_path):
    monkeypatch.setattr(cpu_kernel, "_state", {})
    monkeypatch.setattr(cpu_kernel, "user_cache_dir", lambda name: str(tmp_path / name))


def test_no_compiler_means_the_tensor_operations(monkeypatch, tmp_path):
    fresh_state(monkeypatch, tmp_path)
    monkeypatch.setattr(cpu_kernel, "_compiler", lambda: None)
    assert cpu_kernel.load() is None
    assert CpuReducer.create([Point((0.0, 4.0))]) is None


def test_switched_off_by_the_environment(monkeypatch, tmp_path):
    fresh_state(monkeypatch, tmp_path)
    monkeypatch.setenv("DESKLAB_NO_KERNEL", "1")
    assert cpu_kernel.load() is None


@needs_kernel
def test_a_failing_compiler_leaves_nothing_behind(monkeypatch, tmp_path):
    fresh_state(monkeypatch, tmp_path)
    broken = tmp_path / "broken.c"
    broken.write_text("this is not C\n")
    monkeypatch.setattr(cpu_kernel, "SOURCE", broken)
    assert cpu_kernel.load() is None
    assert list((tmp_path / "desklab" / "kernels").iterdir()) == []


@needs_kernel
def test_built_once_then_loaded_from_the_cache(monkeypatch, tmp_path):
    fresh_state(monkeypatch, tmp_path)
    assert cpu_kernel.load() is not None
    built = list((tmp_path / "desklab" / "kernels").iterdir())
    assert len(built) == 1 and built[0].suffix == ".so"

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(cpu_kernel, "_state", {})
    monkeypatch.setattr(cpu_kernel.subprocess, "run", no_compiling)
    assert cpu_kernel.load() is not None


@needs_kernel
@pytest.mark.parametrize("hist_sample", [None, 2 * 3 * 25])
def test_channels_last_images_read_in_place_give_the_same_numbers(hist_sample):
    """An NHWC batch is read as B * H * W rows of C units, without a copy."""
    torch.manual_seed(0)
    a = torch.relu(torch.randn(8, 3, 5, 5)).contiguous(memory_format=torch.channels_last)
    a[:, 1] = 0  # a dead channel
    want = a.double().numpy()  # (B, C, H, W) values, whatever the memory layout
    stats, counts = torch.zeros(1, 11), torch.empty(1, N_BINS + 2)
    CpuReducer.create([Point((0.0, 4.0))]).activations([(0, a)], hist_sample, stats,
                                                        counts)
    rows = 8 if hist_sample is None else 2
    units = np.moveaxis(want, 1, 0).reshape(3, -1)
    np.testing.assert_allclose(stats[0, :4].numpy(), [
        want.mean(), want.std(), np.mean(want == 0),
        np.mean([not np.any(u != 0) for u in units])], rtol=1e-5, atol=1e-7)
    assert stats[0, 5].item() == pytest.approx(want[:rows].std(axis=1).mean(), rel=1e-5)
    np.testing.assert_allclose(counts[0].numpy(),
                               numpy_counts(want[:rows], 0.0, 4.0) * (8 / rows))


@needs_kernel
@pytest.mark.parametrize("case", ["saturated-sigmoid", "first-row-unlike-the-rest"])
def test_std_keeps_its_digits_where_the_mean_dwarfs_it(case):
    """The squares are summed around the first row's mean; a saturated sigmoid (mean
    ~1, std ~1e-5) keeps its std, and so does a batch whose first row sits 1000 std
    away from the rest (there the kernel takes a second pass around the mean: without
    it the error here is 2e-5)."""
    rng = np.random.default_rng(5)
    if case == "saturated-sigmoid":
        a = (1 - 1e-5 * np.abs(rng.standard_normal((64, 128)))).astype(np.float32)
    else:
        a = (1 + 1e-4 * rng.standard_normal((200_000, 1))).astype(np.float32)
        a[0] += 0.1
    stats, counts = torch.zeros(1, 11), torch.empty(1, N_BINS + 2)
    CpuReducer.create([Point((0.0, 1.0))]).activations([(0, torch.from_numpy(a))], None,
                                                        stats, counts)
    want = a.astype(np.float64)
    assert stats[0, 1].item() == pytest.approx(want.std(), rel=1e-6)
    assert stats[0, 0].item() == pytest.approx(want.mean(), rel=1e-6)


@needs_kernel
def test_gradients_read_in_place_or_copied_give_numpys_norms():
    """A transposed dL/dh (BERT's attention keys) is read where it lies, a strided slice
    is copied first: norm and mean |g| are numpy's either way."""
    torch.manual_seed(3)
    base = torch.randn(16, 128, 32)
    cases = [base.transpose(1, 2), base[:, ::2], base.permute(2, 0, 1), base[0:1]]
    stats = torch.zeros(len(cases), 11)
    CpuReducer.create([Point((0.0, 1.0))] * len(cases)).gradients(
        list(enumerate(cases)), stats, column=0)
    for row, g in zip(stats, cases):
        want = g.double().numpy()
        assert row[0].item() == pytest.approx(np.sqrt((want ** 2).sum()), rel=1e-5)
        assert row[1].item() == pytest.approx(np.abs(want).mean(), rel=1e-5)


@needs_kernel
def test_a_layer_whose_shape_changes_between_probes_is_measured_at_each_shape():
    """The kernel's arguments are worked out once per (layer, shape): a sequence model
    fed a longer batch next time gets the new shape's numbers, not the old plan's."""
    reducer = CpuReducer.create([Point((0.0, 4.0))])
    for rows, units in [(8, 5), (12, 5), (8, 3), (8, 5)]:
        a = torch.relu(torch.randn(rows, units))
        stats, counts = torch.zeros(1, 11), torch.empty(1, N_BINS + 2)
        reducer.activations([(0, a)], None, stats, counts)
        want = a.double().numpy()
        np.testing.assert_allclose(stats[0, :3].numpy(),
                                   [want.mean(), want.std(), np.mean(want == 0)], rtol=1e-5,
                                   atol=1e-7)
        np.testing.assert_allclose(counts[0].numpy(), numpy_counts(want, 0.0, 4.0))
