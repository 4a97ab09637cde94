"""What a search ranks trials by: validation accuracy for a classification, validation
loss for a regression (it has no accuracy: ranking every trial by a NaN would tie them
all and make "the best" an accident)."""

from __future__ import annotations

from dataclasses import dataclass

from ..design import NetworkDesign


@dataclass(frozen=True)
class Score:
    """One way to rank trials.

    Attributes
    ----------
    key : str
        The field of the trainer's ``metrics`` event read at each evaluation.
    label : str
        How tables and plots name it ("val acc").
    title : str
        How a plot title names it ("Validation accuracy").
    direction : str
        Optuna's study direction: "maximize" or "minimize".
    """

    key: str
    label: str
    title: str
    direction: str

    def better(self, a: float, b: float) -> bool:
        """True when value ``a`` ranks above ``b``."""
        return self.order(a) < self.order(b)

    def order(self, value: float) -> float:
        """A sort key that puts the best value first."""
        return -value if self.direction == "maximize" else value


ACCURACY = Score("val_acc", "val acc", "Validation accuracy", "maximize")
LOSS = Score("val_loss", "val loss", "Validation loss", "minimize")


def score_of(design: NetworkDesign) -> Score:
    """The score a search of ``design`` ranks by (its output's task)."""
    return LOSS if design.output.task == "regression" else ACCURACY
