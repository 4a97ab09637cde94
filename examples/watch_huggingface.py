"""Watch a Hugging Face Trainer run with DeskLab's callback: a small BERT learns a
synthetic task (no download), with gradient accumulation and evaluation passes.

    python examples/watch_huggingface.py [--run my-bert] [--steps 200] [--accumulate 2]

Open the run in the app (File > Open run, or the Runs dock) while it trains. The task:
is token 7 in the sequence? Needs ``pip install "desklab[huggingface]"``.
"""

import argparse
import tempfile

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from desklab.integrations.huggingface import DeskLabCallback

VOCAB, LENGTH = 64, 24


class Sequences(torch.utils.data.Dataset):
    """Random token sequences, labelled 1 when token 7 occurs (about half of them)."""

    def __init__(self, n: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.tokens = torch.randint(8, VOCAB, (n, LENGTH), generator=g)  # (N, T)
        has = torch.rand(n, generator=g) < 0.5
        where = torch.randint(0, LENGTH, (n,), generator=g)
        self.tokens[has, where[has]] = 7
        self.labels = has.long()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.tokens[i], "labels": self.labels[i]}


def bert_small() -> BertForSequenceClassification:
    """BERT's layout at toy size: 4 layers, hidden 128, 2 heads, made from a config."""
    config = BertConfig(vocab_size=VOCAB, hidden_size=128, num_hidden_layers=4,
                        num_attention_heads=2, intermediate_size=512,
                        max_position_embeddings=LENGTH, num_labels=2)
    return BertForSequenceClassification(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None, help="run name or path (default: bert)")
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps")
    parser.add_argument("--accumulate", type=int, default=2, help="micro-batches per step")
    parser.add_argument("--every", type=int, default=10, help="probe every N-th step")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:  # the Trainer's output_dir: unused
        training = TrainingArguments(
            output_dir=scratch, max_steps=args.steps, per_device_train_batch_size=16,
            gradient_accumulation_steps=args.accumulate, learning_rate=5e-4,
            eval_strategy="steps", eval_steps=max(1, args.steps // 4), logging_steps=10,
            save_strategy="no", report_to=[], use_cpu=not torch.cuda.is_available(),
            disable_tqdm=True, seed=0)
        trainer = Trainer(model=bert_small(), args=training,
                          train_dataset=Sequences(4096, seed=0),
                          eval_dataset=Sequences(256, seed=1),
                          callbacks=[DeskLabCallback(every=args.every, run=args.run,
                                                     name="bert")])
        trainer.train()
    print("recorded")


if __name__ == "__main__":
    main()
