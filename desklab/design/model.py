"""What the user builds: a network design as plain dataclasses.

Nothing here checks values (see `validate`) or knows torch (see
`desklab.engine.build`). Designs are mutable so editors can change them, and
`copy()` gives an independent deep copy for undo and for the worker thread.
"""

from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field, fields
from collections.abc import Iterator
from typing import Any

from .catalog import (ACTIVATIONS, DATASETS, INITS, INPUT_PARAMS, LAYER_KINDS, OUTPUT_PARAMS,
                      TRAIN_PARAMS)


@dataclass
class LayerSpec:
    """One layer of a design.

    Parameters
    ----------
    kind : str
        A name from ``LAYER_KINDS`` (dense, conv2d, maxpool, avgpool, flatten, residual).
    params : dict
        The kind's own settings (``units``, ``kernel``...).
    activation, activation_params
        A name from ``ACTIVATIONS`` and its settings (``slope``, ``k``...).
    init, init_params
        A name from ``INITS`` and its settings (``std``, ``mode``...).
    norm : str
        ``none``, ``batchnorm`` or ``layernorm``.
    norm_position : str
        ``before`` or ``after`` the activation.
    dropout : float
        Drop probability applied after the layer's output (train mode only).
    bias : bool
        Whether the weighted layer has a bias.
    name : str
        Optional label; empty means an automatic one (``dense1``...).
    layers : list of LayerSpec
        Inner layers of a residual block (empty for other kinds).
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    activation: str = "identity"
    activation_params: dict[str, Any] = field(default_factory=dict)
    init: str = "default"
    init_params: dict[str, Any] = field(default_factory=dict)
    norm: str = "none"
    norm_position: str = "before"
    dropout: float = 0.0
    bias: bool = True
    name: str = ""
    layers: list[LayerSpec] = field(default_factory=list)

    @classmethod
    def make(cls, kind: str, **settings: Any) -> LayerSpec:
        """A layer of ``kind`` with catalog defaults; kind params may be given flat.

        >>> LayerSpec.make("dense", units=32, activation="tanh").params["units"]
        32
        """
        entry = LAYER_KINDS[kind]
        own = {p.name for p in entry.params}
        params = entry.defaults()
        rest = {}
        params.update(settings.pop("params", {}))
        for key, value in settings.items():
            if key in own:
                params[key] = value
            else:
                rest[key] = value
        rest.setdefault("activation", entry.meta.get("default_activation", "identity"))
        return cls(kind=kind, params=params, **rest)

    def copy(self) -> LayerSpec:
        return _copy.deepcopy(self)

    @property
    def activation_entry(self):
        return ACTIVATIONS.get(self.activation)

    @property
    def init_entry(self):
        return INITS.get(self.init)


@dataclass
class InputSpec:
    """Where the data comes from and how it is prepared."""

    dataset: str = "moons"
    params: dict[str, Any] = field(default_factory=dict)  # dataset settings (noise...)
    # share held out for validation (0.2) and none | center | standardize (standardize)
    val_fraction: float = INPUT_PARAMS["val_fraction"].default
    preprocess: str = INPUT_PARAMS["preprocess"].default

    def resolved_params(self) -> dict[str, Any]:
        entry = DATASETS.get(self.dataset)
        return entry.resolve(self.params) if entry else dict(self.params)

    @property
    def shape(self) -> tuple[int, ...] | None:
        """Shape of one example, or None for an unknown dataset."""
        entry = DATASETS.get(self.dataset)
        if entry is None or entry.problems(self.params):
            return None
        try:
            return tuple(entry.meta["shape"](self.resolved_params()))
        except ValueError:  # a data file that cannot be read: analyze() says why
            return None


@dataclass
class OutputSpec:
    """The output head: a dense layer added after the last layer (flattening if needed)."""

    task: str = OUTPUT_PARAMS["task"].default  # classes (cross-entropy) | regression (MSE)
    size: int | None = None  # classes or targets; None = what the dataset has
    init: str = "default"
    init_params: dict[str, Any] = field(default_factory=dict)


def _train_defaults() -> dict[str, Any]:
    return {p.name: p.default for p in TRAIN_PARAMS}


@dataclass
class TrainConfig:
    """How to train. Field defaults mirror ``catalog.TRAIN_PARAMS`` (a test checks)."""

    optimizer: str = "adam"  # sgd | adam | adamw | rmsprop
    lr: float = 1e-3  # learning rate
    momentum: float = 0.9  # SGD momentum / RMSprop smoothing
    nesterov: bool = False
    batch_size: int = 128
    steps: int = 1000
    l1: float = 0.0  # L1 penalty weight
    l2: float = 0.0  # L2 penalty weight (decoupled weight decay for AdamW)
    grad_clip: float = 0.0  # max global grad norm; 0 = off
    schedule: str = "constant"  # constant | step | cosine
    early_stopping: int = 0  # patience in evaluations; 0 = off
    probe_every: int = 10  # probe layers every K steps and at the last; 0 = off
    eval_every: int = 50  # train / val metrics every N steps
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "fp32"  # fp32 | bf16 (autocast of the training forward pass)
    channels_last: bool = False  # NHWC memory layout for conv nets
    cuda_graphs: bool = False  # steps replayed from CUDA graphs (CUDA only)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class NetworkDesign:
    """A whole experiment: data, layers, output head and training settings."""

    name: str = "untitled"
    description: str = ""
    input: InputSpec = field(default_factory=InputSpec)
    layers: list[LayerSpec] = field(default_factory=list)
    output: OutputSpec = field(default_factory=OutputSpec)
    train: TrainConfig = field(default_factory=TrainConfig)

    def copy(self) -> NetworkDesign:
        return _copy.deepcopy(self)

    def output_size(self) -> int | None:
        """Classes or regression targets of the head (the dataset's when unset)."""
        if self.output.size is not None:
            return self.output.size
        entry = DATASETS.get(self.input.dataset)
        if entry is None or entry.problems(self.input.params):
            return None
        try:
            return int(entry.meta["classes"](self.input.resolved_params()))
        except ValueError:
            return None

    def all_layers(self) -> Iterator[LayerSpec]:
        """Every layer in network order, each residual block followed by its inner ones."""
        def walk(layers):
            for layer in layers:
                yield layer
                yield from walk(layer.layers)
        return walk(self.layers)

    def layer_at(self, path: tuple[int, ...]) -> LayerSpec:
        """The layer at ``(i,)`` or, inside residual block i, ``(i, j)``."""
        layer = self.layers[path[0]]
        for j in path[1:]:
            layer = layer.layers[j]
        return layer


assert set(_train_defaults()) == {f.name for f in fields(TrainConfig)}
