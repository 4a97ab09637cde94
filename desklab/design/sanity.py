"""cs231n's "overfit a tiny subset first": the design cut down to 20 training examples
with every regulariser off. A network that cannot reach ~100% training accuracy on 20
examples has a problem no amount of data will fix (a bad learning rate, a broken
layer, vanishing gradients); one that can is ready for the full set."""

from __future__ import annotations

import math

from .catalog import DATASETS
from .model import NetworkDesign

EXAMPLES = 20
STEPS = 300


def tiny_subset(design: NetworkDesign, examples: int = EXAMPLES) -> NetworkDesign:
    """A copy of ``design`` training on ``examples`` examples, unregularised."""
    d = design.copy()
    entry = DATASETS.get(d.input.dataset)
    names = {p.name for p in entry.params} if entry else set()
    if "real" in (entry.meta if entry else {}):
        d.input.params["samples"] = examples  # the training split; validation unchanged
    elif "samples" in names:
        fraction = d.input.val_fraction if isinstance(d.input.val_fraction, float) else 0.2
        d.input.params["samples"] = math.ceil(examples / max(1e-6, 1.0 - fraction))
    t = d.train
    t.l1 = t.l2 = 0.0
    t.batch_size = min(t.batch_size, examples)
    t.steps, t.eval_every, t.early_stopping = STEPS, 50, 0
    for layer in d.all_layers():
        if isinstance(layer.dropout, (int, float)) and layer.dropout > 0:
            layer.dropout = 0.0
    d.name = f"{design.name}-sanity"
    return d
