"""Datasets: shapes and classes as the catalog says, seeded, honest preprocessing."""

import numpy as np
import pytest
import torch

from desklab.design import DATASETS, InputSpec, NetworkDesign, OutputSpec
from desklab.engine import make_dataset


@pytest.mark.parametrize("name", [e.name for e in DATASETS
                                  if e.name != "file" and "real" not in e.meta])
def test_shapes_classes_and_seed(name):
    task = DATASETS[name].meta["task"]
    samples = min(200, DATASETS[name].param("samples").high)  # iris has 150
    design = NetworkDesign(input=InputSpec(name, {"samples": samples}), output=OutputSpec(task))
    data = make_dataset(design, seed=1)
    assert data.shape == design.input.shape
    assert len(data.x_train) + len(data.x_val) == design.input.resolved_params()["samples"]
    if task == "classes":
        assert data.y_train.dtype == torch.int64
        assert int(data.y_train.max()) < data.classes
    again = make_dataset(design, seed=1)
    assert torch.equal(data.x_train, again.x_train)
    other = make_dataset(design, seed=2)
    assert not torch.equal(data.x_train, other.x_train)


def test_standardize_uses_training_statistics_only():
    design = NetworkDesign(input=InputSpec("moons", {"samples": 1000}, 0.3, "standardize"))
    data = make_dataset(design)
    x = data.x_train.numpy()
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(0), 1, atol=1e-3)
    assert not np.allclose(data.x_val.numpy().mean(0), 0, atol=1e-6)


def test_digits_are_bundled_images():
    design = NetworkDesign(input=InputSpec("digits", {}, 0.2, "none"))
    data = make_dataset(design)
    assert data.shape == (1, 8, 8) and data.classes == 10
    assert 0.0 <= float(data.x_train.min()) and float(data.x_train.max()) <= 1.0
