"""The per-step log counts each step's correct and top-5 predictions when it is sent,
all pending steps together: the counts equal numpy's, step by step, whether the
outputs were kept for the batched count or (too large to keep) counted in their step."""

import numpy as np
import pytest
import torch

from desklab.engine import step_log as step_log_module
from desklab.engine.step_log import StepLog


def expected(outs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy, top-5 accuracy) per step of outputs (n, B, C) and targets (n, B)."""
    correct = (outs.argmax(-1) == ys).mean(-1)
    order = np.argsort(-outs, axis=-1)[..., :5]
    top5 = (order == ys[..., None]).any(-1).mean(-1)
    return correct, top5


@pytest.mark.parametrize("kept", [step_log_module.KEPT_VALUES, 0, "mixed"])
def test_counts_equal_numpy(kept, monkeypatch):
    gen = torch.Generator().manual_seed(0)
    outs = torch.randn(7, 32, 10, generator=gen)
    ys = torch.randint(0, 10, (7, 32), generator=gen)
    log = StepLog(32, top5=True)
    for i in range(7):
        limit = (32 * 10 if i % 2 else 0) if kept == "mixed" else kept
        monkeypatch.setattr(step_log_module, "KEPT_VALUES", limit)
        log.add(torch.tensor(float(i)), 0.1, outs[i].clone(), ys[i].clone())
    host = log.pending().numpy()
    log.add(torch.tensor(99.0), 0.1, outs[0], ys[0])  # after sending: stays for the next
    series = log.take(host)
    acc, top5 = expected(outs.numpy(), ys.numpy())
    np.testing.assert_allclose(series.acc, acc, rtol=1e-12)
    np.testing.assert_allclose(log.last_top5, top5, rtol=1e-12)
    assert series.loss.tolist() == list(range(7)) and 0 < acc.mean() < 1
    assert len(log) == 1 and log.take(log.pending().numpy()).loss.tolist() == [99.0]
