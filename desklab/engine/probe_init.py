"""The at-init probe: one forward and backward of a design's loss, every layer probed
(the editor's live preview, the init experiment, `desklab probe`)."""

from __future__ import annotations

import torch

from ..design import NetworkDesign
from ..metrics import Snapshot
from .build import DeskNet, build
from .datasets import make_dataset
from .device import resolve_device
from .optim import task_loss
from .probe import Prober
from .rng import RngStream


def probe_at_init(design: NetworkDesign, seed: int | None = None, device: str = "cpu",
                  max_batch: int | None = None) -> tuple[Snapshot, DeskNet, torch.device]:
    """One forward + backward of the design's loss on its first batch, every layer probed.

    Returns the step-0 snapshot, the module and the device it ran on. The model is in
    train mode (BatchNorm uses batch statistics, as training will). ``max_batch`` caps
    the batch (the editor's live preview uses 256: the statistics barely move and it
    is 4x faster than the init experiment's 1000).
    """
    seed = design.train.seed if seed is None else seed
    dev = resolve_device(device)
    model = build(design, seed).to(dev)
    data = make_dataset(design, seed)
    batch = min(design.train.batch_size, len(data.x_train), max_batch or len(data.x_train))
    if data.prep is not None:
        data.prep.start(dev, seed)
    x, y = data.eval_batch(data.x_train[:batch].to(dev)), data.y_train[:batch].to(dev)
    prober = Prober(model, hist_sample=None)  # one-off: exact histograms
    prober.active = True
    model.train()
    with RngStream(seed, dev).active():  # dropout masks are part of the measurement
        loss = task_loss(model(x), y, data.task)
        loss.backward()
    snapshot = prober.collect(0, loss, design.train.lr)
    prober.remove()
    return snapshot, model, dev
