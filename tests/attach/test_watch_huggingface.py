"""DeskLab's callback for the Hugging Face Trainer (issue 27, part 2): a small BERT from a
config (no download) on a synthetic task, gradient accumulation 2 and evaluation passes
between steps. A DeskLab step is an optimizer step; the probed step's activations are
its first micro-batch's (not an evaluation pass's), its weight gradients the
accumulated ones the optimizer used, its loss the micro-batches' mean; dead fractions
of a ReLU BERT layer are per feature. Each against the test's own hooks and
``p.grad`` on the same step. The example runs as a test in tests/gui/test_follow.py
(followed live in the app, then its run file read)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from desklab.metrics import STAT_INDEX
from desklab.runs import RunReader

transformers = pytest.importorskip("transformers")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from watch_huggingface import Sequences  # noqa: E402

from desklab.integrations.huggingface import DeskLabCallback  # noqa: E402


PROBE_AT, STEPS, ACCUMULATE = 4, 6, 2
RELU = "bert.encoder.layer.0.intermediate.intermediate_act_fn"


class Own(transformers.TrainerCallback):
    """The test's own record: per optimizer step, each training micro-batch's loss; at
    PROBE_AT, the first micro-batch's ReLU output and the head's weight gradient."""

    def __init__(self, model):
        self.losses, self.seen, self.step = {}, {}, 0
        self.model = model
        model.register_forward_hook(self._loss)
        dict(model.named_modules())[RELU].register_forward_hook(self._relu)

    def on_step_begin(self, args, state, control, **kwargs):
        self.step = state.global_step

    def _loss(self, module, inputs, output):
        if module.training and torch.is_grad_enabled():
            self.losses.setdefault(self.step, []).append(float(output.loss.detach()))

    def _relu(self, module, inputs, out):
        if module.training and torch.is_grad_enabled() and self.step == PROBE_AT \
                and "relu" not in self.seen:
            self.seen["relu"] = out.detach().double().numpy().copy()

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        if state.global_step == PROBE_AT:
            grad = self.model.classifier.weight.grad
            self.seen["head_grad"] = grad.detach().double().numpy().copy()


def test_trainer_with_accumulation_and_evaluation(tmp_path):
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64,
                                     max_position_embeddings=24, num_labels=2,
                                     hidden_act="relu")
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():  # half of layer 0's 64 ReLU features dead on every token
        model.bert.encoder.layer[0].intermediate.dense.bias[32:] = -100.0
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=STEPS, per_device_train_batch_size=8,
        gradient_accumulation_steps=ACCUMULATE, eval_strategy="steps", eval_steps=1,
        learning_rate=1e-3, save_strategy="no", report_to=[], use_cpu=True,
        disable_tqdm=True, logging_steps=100)
    own = Own(model)
    callback = DeskLabCallback(every=2, run=tmp_path / "bert")
    trainer = transformers.Trainer(model=model, args=args, callbacks=[callback, own],
                                   train_dataset=Sequences(256, 0),
                                   eval_dataset=Sequences(32, 1))
    trainer.train()
    reader = RunReader(tmp_path / "bert.desklab-run")
    history = reader.history()
    assert reader.meta["status"] == "finished"
    assert reader.meta["optimizer"]["name"] == "AdamW"  # inside accelerate's wrapper
    reader.close()
    # one DeskLab step per optimizer step; each step's loss the micro-batches' mean
    assert list(history.steps.steps) == list(range(STEPS))
    expected = [np.mean(own.losses[s]) for s in range(STEPS)]
    assert all(len(own.losses[s]) == ACCUMULATE for s in range(STEPS))
    assert history.steps.values[:, 0] == pytest.approx(expected, rel=1e-5)
    assert [s.step for s in history.snapshots] == [2, 4]
    snap = history.snapshots[-1]

    def stat(name, layer):
        return snap.stats[snap.layout.names.index(layer), STAT_INDEX[name]]
    relu = own.seen["relu"]  # (B, T, 64): the first micro-batch, not an evaluation pass
    assert stat("act_std", RELU) == pytest.approx(relu.std(), rel=1e-5)
    dead = np.mean(np.all(relu.reshape(-1, relu.shape[-1]) == 0, axis=0))
    assert dead == pytest.approx(0.5, abs=0.05)
    assert stat("frac_dead", RELU) == pytest.approx(dead)
    assert stat("weight_grad_norm", "classifier") == pytest.approx(
        np.linalg.norm(own.seen["head_grad"]), rel=1e-5)
