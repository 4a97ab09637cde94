"""What a search searches: the settings, their ranges and scales, and the fine stage's
box around the best trials so far."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..design import TRAIN_PARAMS
from ..errors import DeskLabError


class SearchError(DeskLabError):
    """A search that cannot run (a bad --param, Optuna missing)."""


@dataclass(frozen=True)
class Space:
    """One searched train setting: ``name`` in [low, high], on a log scale or not."""

    name: str
    low: float
    high: float
    log: bool = True

    @classmethod
    def parse(cls, text: str) -> Space:
        """``lr=1e-5:1e-1:log`` (``:lin`` for a linear scale)."""
        try:
            name, rest = text.split("=", 1)
            parts = rest.split(":")
            low, high = float(parts[0]), float(parts[1])
            scale = parts[2] if len(parts) > 2 else "log"
        except (ValueError, IndexError):
            raise SearchError(f"--param {text!r}: write NAME=LOW:HIGH[:log|lin]") from None
        params = {p.name: p for p in TRAIN_PARAMS if p.kind in ("float", "int")}
        if name not in params:
            raise SearchError(f"--param {text!r}: {name!r} is not a numeric train setting "
                              f"({', '.join(sorted(params))})")
        if not (math.isfinite(low) and math.isfinite(high)) or not low < high or \
                scale not in ("log", "lin") or (scale == "log" and low <= 0):
            raise SearchError(f"--param {text!r}: need LOW < HIGH (both > 0 on a log scale)")
        allowed = params[name]
        if low < allowed.low or high > allowed.high:  # every trial would be refused
            raise SearchError(f"--param {text!r}: {name} must stay within "
                              f"{allowed.low:g}..{allowed.high:g}")
        return cls(name, low, high, scale == "log")


DEFAULT_SPACE = (Space("lr", 1e-5, 1e-1), Space("l2", 1e-6, 1e-1))
# more settings the app offers to tick, with the ranges worth searching
OPTIONAL_SPACE = (Space("momentum", 0.5, 0.99, log=False), Space("batch_size", 16, 512),
                  Space("l1", 1e-7, 1e-2), Space("grad_clip", 0.1, 10.0))


def fine_box(space: Space, best: list[float]) -> tuple[float, float]:
    """The fine stage's range: one decade (or a tenth of the range) around the best."""
    if not best:
        return space.low, space.high
    if space.log:
        lo = min(best) / math.sqrt(10)
        hi = max(best) * math.sqrt(10)
    else:
        width = (space.high - space.low) / 10
        lo, hi = min(best) - width, max(best) + width
    return max(space.low, lo), min(space.high, hi)
