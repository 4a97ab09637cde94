"""``DeskLabCallback``: desklab.watch for the Hugging Face ``transformers.Trainer``.

    trainer = Trainer(model=model, args=args, train_dataset=train,
                      callbacks=[DeskLabCallback(every=10, run="bert-small")])

At ``on_train_begin`` it watches the Trainer's model and optimizer (the torch optimizer
inside accelerate's wrapper: its step hooks are what fire), on the main process only
(``state.is_world_process_zero``; the others do nothing). One DeskLab step is one
optimizer step (``on_step_end``, which the Trainer calls after the last micro-batch of
a gradient-accumulation cycle): the probe measures the first micro-batch's forward and
the accumulated gradients that step used. Callbacks are handed no loss, so the loss of
each step is read from the model's own output (``outputs.loss`` of every training
forward, averaged over the micro-batches; it stays on the device, as `desklab.watch`
wants); a model that returns no ``loss`` (a custom ``compute_loss``) records the steps
without one. The learning rate is the optimizer's, after the Trainer's scheduler. The
run ends at ``on_train_end``; evaluation passes (under ``no_grad``) are not measured.
Needs the extra: ``pip install "desklab[huggingface]"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import TrainerCallback

from ..attach import watch


class DeskLabCallback(TrainerCallback):
    """Records a ``transformers.Trainer`` run in DeskLab's run store; see the module
    docstring. Arguments as `desklab.watch`."""

    def __init__(self, every: int = 10, run=None, layers=None, name: str | None = None):
        self.every, self.run, self.layers, self.name = every, run, layers, name
        self.watcher = None
        self._losses: list[torch.Tensor] = []  # this optimizer step's micro-batch losses
        self._loss_hook = None

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if not state.is_world_process_zero or model is None or self.watcher is not None:
            return
        self.watcher = watch(model, optimizer, self.every, self.run, self.layers,
                             name=self.name or type(model).__name__)
        self._loss_hook = model.register_forward_hook(self._on_forward)

    def _on_forward(self, module, inputs, output) -> None:
        if not module.training or not torch.is_grad_enabled():
            return  # an evaluation or prediction pass
        loss = output.get("loss") if isinstance(output, Mapping) else \
            getattr(output, "loss", None)
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            self._losses.append(loss.detach().reshape(()))

    def on_step_end(self, args, state, control, **kwargs):
        if self.watcher is None:
            return
        losses, self._losses = self._losses, []
        self.watcher.log(loss=torch.stack(losses).float().mean() if losses else None)

    def on_train_end(self, args, state, control, **kwargs):
        if self._loss_hook is not None:
            self._loss_hook.remove()
            self._loss_hook = None
        if self.watcher is not None:
            self.watcher.close("finished")
            self.watcher = None
