"""The confusion matrix counted in the validation pass: equal to counting the model's
own predictions with numpy, every validation example once."""

import numpy as np
import pytest
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig
from desklab.engine.trainer import Trainer


def small(dataset: str, task: str = "classes", **params) -> NetworkDesign:
    return NetworkDesign(name="c", input=InputSpec(dataset, params),
                         layers=[LayerSpec.make("flatten"), LayerSpec.make("dense", units=32)],
                         output=OutputSpec(task),
                         train=TrainConfig(steps=60, eval_every=30, batch_size=32))


def test_counts_equal_numpy_on_the_final_model():
    trainer = Trainer(small("digits"), device="cpu")
    events = [(e.kind, e.step, e.payload) for e in trainer.events()]
    classes = trainer.data.classes
    counts = trainer.confusion.cpu().numpy().reshape(classes, classes)  # (true, predicted)
    model = trainer.model.eval()
    with torch.no_grad():  # the last evaluation was at the last step: the same weights
        predicted = model(trainer.data.eval_batch(trainer.data.x_val)).argmax(1).numpy()
    truth = trainer.data.y_val.numpy()
    expected = np.zeros((classes, classes), np.int64)
    np.add.at(expected, (truth, predicted), 1)
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == len(truth) and (counts.sum(1) == np.bincount(truth, minlength=10)).all()
    assert 0.3 < np.trace(counts) / counts.sum() < 1.0  # it learned something, not all
    # each evaluation's metrics come with its counts (what the run file records)
    kinds = [(kind, step) for kind, step, _ in events if kind in ("metrics", "confusion")]
    assert kinds == [("metrics", 30), ("confusion", 30), ("metrics", 60), ("confusion", 60)]
    sent = [p for k, _, p in events if k == "confusion"]
    np.testing.assert_array_equal(sent[-1].counts, expected)
    assert sent[-1].step == 60  # and each its own copy, not the trainer's buffer:
    assert not np.shares_memory(sent[0].counts, sent[1].counts)
    assert sent[0].counts.sum() == len(truth) and (sent[0].counts != sent[1].counts).any()
    assert sent[-1].diagonal_share == pytest.approx(
        [p for k, _, p in events if k == "metrics"][-1].val_acc)


def test_no_counts_without_a_validation_split():
    design = small("digits")
    design.input.val_fraction = 0.0
    assert "confusion" not in {e.kind for e in Trainer(design, device="cpu").events()}


def test_no_matrix_for_a_regression():
    assert Trainer(small("sine", "regression"), device="cpu").confusion is None
