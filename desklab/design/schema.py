"""Parameter schemas: the typed, ranged, documented fields every catalog entry has.

A `Param` knows how to check a value and say in plain words what is wrong with
it; an `Entry` is one named thing the user can pick (a layer kind, an
activation, an init...) with its parameters; a `Registry` is an ordered set of
entries. The GUI builds its forms from these, the validator checks against
them, and the docs list them, so nothing about a field is written twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(frozen=True)
class Param:
    """One typed field of a catalog entry.

    Parameters
    ----------
    name : str
        Key used in designs and JSON.
    kind : str
        ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` or ``"text"``.
    default : Any
        Value used when the design does not say.
    help : str
        One line shown as a tooltip and in the docs.
    low, high : float, optional
        Inclusive range for numbers.
    choices : tuple of str
        Allowed values for ``"choice"``.
    log_scale : bool
        Hint for the GUI: edit on a log scale (learning rates, std).
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    log_scale: bool = False

    def problem(self, value: Any) -> str | None:
        """Return a plain-words problem with ``value``, or None when it is fine."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                return f"{self.name} must be true or false"
            return None
        if self.kind == "text":
            return None if isinstance(value, str) else f"{self.name} must be text"
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                return f"{self.name} must be one of {', '.join(self.choices)}"
            return None
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{self.name} must be a whole number"
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"{self.name} must be a number"
            if not math.isfinite(value):
                return f"{self.name} must be a finite number"
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            return f"{self.name} must be between {_fmt(self.low)} and {_fmt(self.high)}"
        return None


def _fmt(x: float | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}"


@dataclass(frozen=True)
class Entry:
    """One choice in a registry (a layer kind, an activation, an init...).

    ``meta`` holds what other layers of the code need to know about the entry
    (the torch class name to build, histogram range, std formula...), so that
    adding an entry is one edit here.
    """

    name: str
    label: str
    help: str
    params: tuple[Param, ...] = ()
    meta: dict = field(default_factory=dict)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        """Default value of every parameter."""
        return {p.name: p.default for p in self.params}

    def resolve(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``values`` (unknown keys are kept for the validator)."""
        out = self.defaults()
        out.update(values or {})
        return out

    def problems(self, values: dict[str, Any] | None) -> list[tuple[str, str]]:
        """``(param name, message)`` for every bad or unknown value."""
        values = values or {}
        found = []
        known = {p.name for p in self.params}
        for key in values:
            if key not in known:
                found.append((key, f"{self.name} has no setting {key!r}"))
        for p in self.params:
            if p.name in values:
                msg = p.problem(values[p.name])
                if msg:
                    found.append((p.name, msg))
        return found


class Registry:
    """An ordered, read-only set of entries looked up by name."""

    def __init__(self, title: str, entries: list[Entry]):
        self.title = title
        self._entries = {e.name: e for e in entries}
        if len(self._entries) != len(entries):
            raise ValueError(f"duplicate names in {title}")

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def get(self, name: str) -> Entry | None:
        return self._entries.get(name)
