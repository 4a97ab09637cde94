"""Snapshots: per-layer statistics at one step, as small read-only numpy arrays.

A run has one `ProbeLayout` (layer names, kinds, histogram edges: what does
not change) shared by all its snapshots; each `Snapshot` holds only numbers:
``stats`` (L, N_STATS) and ``hist`` (L, N_BINS + 2). Snapshots cross from the
trainer's thread to the GUI, so they are frozen and their arrays read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Column order of Snapshot.stats. NaN means "not measured" (no weights, no gradient).
STATS = (
    "act_mean",  # mean activation
    "act_std",  # std of all activations in the batch
    "frac_zero",  # share of activations exactly 0
    "frac_dead",  # share of units (features / channels) that are 0 for the whole batch
    "frac_saturated",  # share within 1% of a bound (sigmoid / tanh)
    "unit_spread",  # std across units, averaged over samples: 0 when all units are identical
    "grad_norm",  # ||dL/dh|| over the batch
    "grad_mean_abs",  # mean |dL/dh|
    "weight_std",
    "weight_grad_norm",  # ||dL/dW||
    "update_ratio",  # ||W_after - W_before|| / ||W_before|| for the step (training only)
)
STAT_INDEX = {name: i for i, name in enumerate(STATS)}
N_STATS = len(STATS)
N_BINS = 40  # histogram bins inside the activation's range, plus underflow and overflow


@dataclass(frozen=True)
class LayerMeta:
    """What a probe point is: fixed for a run."""

    name: str
    kind: str
    activation: str
    out_shape: tuple
    params: int
    hist_range: tuple[float, float]
    has_weight: bool
    init: str = ""  # the init scheme of a designed layer ("" for a user's own model)
    time_steps: int = 0  # a recurrent layer's T: its dL/dh_t is measured per time step

    @property
    def hist_edges(self) -> np.ndarray:
        return np.linspace(self.hist_range[0], self.hist_range[1], N_BINS + 1)


@dataclass(frozen=True)
class ProbeLayout:
    """The probe points of a run, in network order."""

    layers: tuple[LayerMeta, ...]

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.layers]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def time_layers(self) -> list[int]:
        """Positions of the layers measured through time (rows of ``time_grad``)."""
        return [i for i, m in enumerate(self.layers) if m.time_steps]

    @property
    def time_steps(self) -> int:
        """Columns of ``time_grad``: the longest T (shorter layers end in NaN)."""
        return max((m.time_steps for m in self.layers), default=0)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Every probe point's statistics at one step.

    Attributes
    ----------
    step : int
        Optimizer steps taken before this measurement (0 = at init).
    layout : ProbeLayout
        Shared description of the layers.
    stats : ndarray, shape (L, N_STATS), float64, read-only
    hist : ndarray, shape (L, N_BINS + 2), float64, read-only
        Counts: column 0 underflow, 1..N_BINS the bins, last overflow.
    loss : float
        Training loss of the probed batch.
    lr : float
        Learning rate in force.
    time_grad : ndarray, shape (R, T), float64, read-only, or None
        ||dL/dh_t|| over the batch at every time step t of the R layers in
        ``layout.time_layers`` (the gradient through time); None when there are none.
    """

    step: int
    layout: ProbeLayout
    stats: np.ndarray
    hist: np.ndarray
    loss: float = float("nan")
    lr: float = float("nan")
    time_grad: np.ndarray | None = None

    def __post_init__(self):
        for arr in (self.stats, self.hist, self.time_grad):
            if arr is not None:
                arr.setflags(write=False)

    def stat(self, name: str) -> np.ndarray:
        """One statistic for every layer, shape (L,)."""
        return self.stats[:, STAT_INDEX[name]]

    def layer(self, index: int) -> dict:
        """All statistics of one layer as a dict (for reports)."""
        row = self.stats[index]
        return {name: float(row[i]) for i, name in enumerate(STATS)}
