"""What a run reports (`TrainEvent`) and how it ended (`RunResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..metrics.records import Finding


@dataclass(frozen=True)
class TrainEvent:
    """Something the loop reports.

    ``kind`` is ``snapshot`` (payload: Snapshot), ``metrics`` (Metrics), ``steps``
    (StepSeries: every step's loss, accuracy and lr since the last one),
    ``finding`` (Finding), ``progress``, ``paused``, ``resumed`` or ``ended``
    (payload: the final state string).
    """

    kind: str
    step: int
    payload: object = None
    steps_per_second: float = math.nan


@dataclass
class RunResult:
    """How a run ended and how fast it went (training loop only, start-up excluded)."""

    state: str
    steps: int
    train_seconds: float
    findings: list[Finding] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.train_seconds if self.train_seconds > 0 else 0.0
