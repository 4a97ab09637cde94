"""What desklab.watch costs a user's own loop, against the peers on the same loop.

    python bench/bench_watch.py [--model mlp|cnn|bert|lstm|all] [--device cuda]
                                [--rounds 60] [--threads 1]

The same hand-written loop runs bare, under ``desklab.watch(every=10)`` and
``watch(every=1)``, taking turns in 10-step blocks (`interleave`: this machine's speed
drifts); ratios are against the bare loop, per round. Models: an 8 x 32 ReLU MLP
(batch 256, Adam), a small CNN, BERT-small (transformers' BertForSequenceClassification
from a config: 4 layers, hidden 128; batch 16 x 32 tokens, AdamW) and a 2-layer LSTM
classifier (batch 32 x 50 tokens). Peers, each in a phase of its own against its own
bare loop: ``wandb.watch(log="all", log_freq=10)`` offline (where wandb is installed)
and the TensorBoard habit, every parameter's and gradient's histogram every 10th step
with the loss every step (``SummaryWriter.add_histogram``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import desklab
from interleave import compare, print_table, sync

MODELS = ("mlp", "cnn", "bert", "lstm")


class Task:
    """A model, a batch maker and its loss: ``loss(model, batch)``."""

    def __init__(self, kind: str, device):
        g = torch.Generator().manual_seed(0)
        if kind == "mlp":
            layers, width = [], 32
            for _ in range(8):
                layers += [nn.Linear(width, 256), nn.ReLU()]
                width = 256
            self.model = nn.Sequential(*layers, nn.Linear(256, 10))
            self.x, self.batch = torch.randn(2048, 32, generator=g), 256
        elif kind == "cnn":
            self.model = nn.Sequential(
                nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 10))
            self.x, self.batch = torch.randn(1024, 3, 32, 32, generator=g), 64
        elif kind == "bert":
            from transformers import BertConfig, BertForSequenceClassification
            self.model = BertForSequenceClassification(BertConfig(
                vocab_size=1000, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
                intermediate_size=512, max_position_embeddings=32, num_labels=10))
            self.x, self.batch = torch.randint(0, 1000, (1024, 32), generator=g), 16
        else:
            self.model = _LSTM()
            self.x, self.batch = torch.randint(0, 1000, (1024, 50), generator=g), 32
        self.kind = kind
        self.model.to(device)
        self.x = self.x.to(device)
        self.y = torch.randint(0, 10, (len(self.x),), generator=g).to(device)
        self.opt = (torch.optim.AdamW if kind == "bert" else torch.optim.Adam)(
            self.model.parameters(), lr=1e-3)

    def loss(self, idx: torch.Tensor) -> torch.Tensor:
        if self.kind == "bert":
            return self.model(input_ids=self.x[idx], labels=self.y[idx]).loss
        return nn.functional.cross_entropy(self.model(self.x[idx]), self.y[idx])


class _LSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, 64)
        self.lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, tokens):  # (B, T) -> (B, 10)
        return self.head(self.lstm(self.embed(tokens))[0][:, -1])


class Loop:
    """One hand-written training loop, bare, watched or with a peer, ``n`` steps per `run`."""

    def __init__(self, kind: str, device, mode: str, folder: Path):
        torch.manual_seed(0)
        self.device, self.mode = device, mode
        self.task = Task(kind, device)
        self.model, self.opt = self.task.model, self.task.opt
        self.watcher = self.board = None
        self.step = 0
        if mode.startswith("watch"):
            every = int(mode.split("=")[1])
            self.watcher = desklab.watch(self.model, self.opt, every=every,
                                         run=folder / f"{mode}-{time.perf_counter_ns()}")
        elif mode == "wandb":
            import wandb
            wandb.init(mode="offline", dir=str(folder), project="desklab-bench")
            wandb.watch(self.model, log="all", log_freq=10)
        elif mode == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter
            self.board = SummaryWriter(str(folder / f"tb-{time.perf_counter_ns()}"))

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            idx = torch.randint(0, len(self.task.x), (self.task.batch,), device=self.device)
            loss = self.task.loss(idx)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if self.watcher is not None:
                self.watcher.log(loss=loss)
            elif self.mode == "wandb":
                import wandb
                wandb.log({"loss": loss})
            elif self.board is not None:
                self._tensorboard(loss)
            self.step += 1
        sync(self.device)
        if self.watcher is not None and self.watcher.broken:  # a figure for no work
            raise SystemExit(f"desklab.watch stopped recording: {self.watcher.broken}")
        return time.perf_counter() - start

    def _tensorboard(self, loss: torch.Tensor) -> None:
        """What TensorBoard users write: the loss each step, histograms every 10th."""
        self.board.add_scalar("loss", loss.item(), self.step)
        if self.step % 10 == 0:
            for name, p in self.model.named_parameters():
                self.board.add_histogram(name, p, self.step)
                if p.grad is not None:
                    self.board.add_histogram(f"{name}.grad", p.grad, self.step)

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
        elif self.mode == "wandb":
            import wandb
            wandb.finish()
        elif self.board is not None:
            self.board.close()


def phase(modes: list[str], args, device, folder: Path) -> dict:
    """One interleaved comparison of ``modes`` (the first is the reference)."""
    loops = {m: Loop(args.model, device, m.replace("watch every", "watch"), folder)
             for m in modes}
    # 20 untimed steps (the first optimizer step imports torch._dynamo; watch finds its
    # modules on its first step); then 10-step blocks, one probe each at every=10
    try:
        return compare({m: loop.run for m, loop in loops.items()}, args.rounds, 10, 20,
                       modes[0])
    finally:
        for loop in loops.values():
            loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp", choices=(*MODELS, "all"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=60, help="10-step blocks per loop")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip the wandb and TensorBoard phases")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    peers = [] if args.no_peers else ["tensorboard"]
    if peers:
        try:
            import wandb  # noqa: F401
            peers.insert(0, "wandb")
        except ImportError:
            print("wandb is not installed here: no wandb figure")
    for kind in MODELS if args.model == "all" else (args.model,):
        args.model = kind
        print(f"\n{kind} on {device} ({torch.get_num_threads()} threads)")
        with tempfile.TemporaryDirectory() as tmp:
            print_table(phase(["bare", "watch every=10", "watch every=1"], args, device,
                              Path(tmp)), args.rounds, 10, f"{kind} on {device}")
            for peer in peers:
                # a phase of its own: wandb's service process works in the background for
                # as long as its run is open, and would slow the other loops' blocks too
                print(f"peer {peer}, against its own bare loop:")
                print_table(phase(["bare", peer], args, device, Path(tmp)), args.rounds, 10,
                            f"{kind} on {device}, peer {peer}")


if __name__ == "__main__":
    main()
