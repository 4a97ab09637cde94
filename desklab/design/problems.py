"""What `analyze` returns: each problem tied to a layer path and a field, plus each
layer's shapes and parameter count."""

from __future__ import annotations

from dataclasses import dataclass, field

Shape = tuple  # (D,) flat or (C, H, W) image


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a design.

    ``path`` is ``()`` for the design as a whole, ``(i,)`` for layer i,
    ``(i, j)`` for inner layer j of residual block i, ``("output",)`` for the
    head. ``field`` names the setting (``units``, ``train.lr``...).
    """

    path: tuple
    field: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class LayerInfo:
    """Shapes and parameter count of one probe point (a layer or a block's output)."""

    path: tuple
    name: str
    kind: str
    activation: str
    in_shape: Shape | None
    out_shape: Shape | None
    params: int


@dataclass
class Analysis:
    """Result of `analyze`: layers in probe order, the head, problems, totals."""

    layers: list[LayerInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_params: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_at(self, path: tuple) -> list[Problem]:
        return [p for p in self.problems if p.path == path]

    def info_at(self, path: tuple) -> LayerInfo | None:
        for info in self.layers:
            if info.path == path:
                return info
        return None


def add_problem(result: Analysis, path: tuple, field_name: str, message: str,
                where: str = "") -> None:
    """Record a problem; ``where`` defaults to "design" or "output" for those paths."""
    if not where:
        where = "design" if path == () else ("output" if path == ("output",) else "")
    result.problems.append(Problem(path, field_name, message, where))
