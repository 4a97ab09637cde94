"""Watch a PyTorch Lightning run with DeskLab's callback.

    python examples/watch_lightning.py [--run runs/lightning] [--steps 200]

Needs ``pip install "desklab[lightning]"``.
"""

import argparse

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from desklab.integrations.lightning import DeskLabCallback


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                 nn.Linear(64, 4))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(2048, 20), torch.randint(0, 4, (2048,)))
    callback = DeskLabCallback(every=10, run=args.run, name="lightning")
    trainer = L.Trainer(max_steps=args.steps, callbacks=[callback], accelerator="cpu",
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(Classifier(), DataLoader(data, batch_size=64, shuffle=True))
    print("recorded")


if __name__ == "__main__":
    main()
