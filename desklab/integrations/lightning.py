"""``DeskLabCallback``: desklab.watch for PyTorch Lightning, through Lightning's own hooks.

    trainer = lightning.Trainer(callbacks=[DeskLabCallback(every=10)])

It watches the LightningModule and its (first) optimizer from ``on_train_start``, logs
each step's loss from ``on_train_batch_end`` (the ``loss`` the training_step returned)
and ends the run in ``on_train_end`` (``on_exception``: marked failed). One optimizer
step per batch is assumed (no gradient accumulation). Under DDP, Lightning's strategy
sets up torch.distributed first, so ``ranks`` works as in `desklab.watch`.
Needs the extra: ``pip install "desklab[lightning]"``.
"""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback

from ..attach import watch


class DeskLabCallback(Callback):
    def __init__(self, every: int = 10, run=None, layers=None, ranks: str = "0",
                 name: str | None = None):
        super().__init__()
        self.every, self.run, self.layers, self.ranks, self.name = every, run, layers, \
            ranks, name
        self.watcher = None

    def on_train_start(self, trainer, pl_module) -> None:
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        self.watcher = watch(pl_module, optimizer, self.every, self.run, self.layers,
                             self.ranks, self.name or type(pl_module).__name__)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.watcher is None:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        self.watcher.log(loss=loss)

    def on_train_end(self, trainer, pl_module) -> None:
        if self.watcher is not None:
            self.watcher.close("finished")
            self.watcher = None

    def on_exception(self, trainer, pl_module, exception) -> None:
        if self.watcher is not None:
            self.watcher.close("failed")
            self.watcher = None
