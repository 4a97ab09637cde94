"""Plain records a run produces besides snapshots: metrics, confusion counts, findings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metrics:
    """Train / validation measurements at one evaluation.

    Train values are running means over the batches since the previous
    evaluation (no extra forward pass); validation values come from a forward
    pass over the validation split in eval mode. NaN where not applicable
    (no validation split; top-5 with 5 classes or fewer; regression accuracy).
    """

    step: int
    loss: float
    val_loss: float
    train_acc: float
    val_acc: float
    train_top5: float
    val_top5: float
    lr: float


@dataclass(frozen=True)
class StepSeries:
    """Consecutive training steps ``first_step, first_step + 1, ...``: each step's batch
    loss, batch accuracy (NaN for regression) and learning rate. Arrays of equal
    length, never mutated after they are sent."""

    first_step: int
    loss: np.ndarray  # (n,)
    acc: np.ndarray  # (n,)
    lr: np.ndarray  # (n,)

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.first_step, self.first_step + len(self.loss))


@dataclass(frozen=True)
class Confusion:
    """A classification's validation counts at one evaluation: ``counts[t, p]`` examples
    of true class t predicted as p, from the evaluation's own forward passes."""

    step: int
    counts: np.ndarray  # (C, C) int64, rows the true class; never mutated once sent

    @property
    def diagonal_share(self) -> float:
        """The share predicted right (NaN with no examples): the validation accuracy."""
        total = self.counts.sum()
        return float(np.trace(self.counts) / total) if total else float("nan")


SEVERITIES = ("error", "warning", "info")
# findings the training loop makes about the run itself, once: no rule re-checks them,
# so they neither hold "still" nor resolve
EVENT_KINDS = ("diverged", "failed", "early_stopped", "cuda_graphs")


@dataclass(frozen=True)
class Finding:
    """A diagnosis in plain words.

    Attributes
    ----------
    kind : str
        ``vanishing``, ``exploding``, ``diverged``, ``saturated``, ``dead_relu``,
        ``collapsed``, ``symmetric``, ``overfitting``, ``update_ratio``,
        ``early_stopped``, ``failed``, ``cuda_graphs`` (diverged, early_stopped, failed and
        cuda_graphs happen once: `EVENT_KINDS`).
    layer : str or None
        The layer it is about (the first, when several are).
    step : int
        When it was found.
    message : str
        What is happening and why, teaching the concept.
    advice : str
        What to try.
    severity : str
        ``error`` (the run cannot go on), ``warning`` or ``info``.
    layers : tuple of str
        Every layer concerned.
    end : int or None
        The step from which it no longer held (resolved); None while it still holds.
        ``step`` is when it was first found.
    """

    kind: str
    layer: str | None
    step: int
    message: str
    advice: str
    severity: str = "warning"
    layers: tuple[str, ...] = ()
    end: int | None = None

    @property
    def active(self) -> bool:
        return self.end is None

    def span(self) -> str:
        """"since step 120, still active", "steps 120 to 770, resolved", or for what
        happened once (the run diverged, failed, stopped early; a note on how it ran)
        "at step 120"."""
        if self.kind in EVENT_KINDS:
            return f"at step {self.step}"
        if self.end is None:
            return f"since step {self.step}, still active"
        return f"steps {self.step} to {self.end}, resolved"

    def told(self) -> str:
        """The finding for a terminal, as `desklab train` and `desklab runs show` print
        it: ``[kind, span] message`` and, where there is advice, ``  -> advice``."""
        head = f"[{self.kind}, {self.span()}] {self.message}"
        return f"{head}\n  -> {self.advice}" if self.advice else head

    def as_dict(self) -> dict:
        return {"kind": self.kind, "layer": self.layer, "layers": list(self.layers),
                "step": self.step, "end": self.end, "active": self.active,
                "severity": self.severity, "message": self.message, "advice": self.advice}


def layer_badges(findings) -> dict[str, str]:
    """Each layer's first active finding, as its card's badge ("dead relu"); resolved
    ones stay in the findings list (dimmed) but no longer mark a card."""
    badges: dict[str, str] = {}
    for f in findings:
        if f.end is None:
            for name in f.layers or ((f.layer,) if f.layer else ()):
                badges.setdefault(name, f.kind.replace("_", " "))
    return badges


def said(name: str) -> str:
    """A layer's name as a finding's sentence says it. A module path that starts with a
    digit (`desklab.watch` on an nn.Sequential: "0", "3.1") would read as a number, so
    it is "layer 3.1"; a name such as "fc1" or "features.3" is said as it is."""
    return name if name[:1].isalpha() or name[:1] == "_" else f"layer {name}"
