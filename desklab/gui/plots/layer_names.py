"""Layer names on an axis: short enough to leave room for the plot, never overlapping."""

from __future__ import annotations

import math


def short_layer_name(name: str, limit: int = 22) -> str:
    """A module path short enough for an axis label: leading parts cut to their first
    letter until it fits, the last two kept whole (the hover shows the full path).
    ``bert.encoder.layer.3.output.LayerNorm`` -> ``b.e.l.3.output.LayerNorm``."""
    parts = name.split(".")
    for i in range(len(parts) - 2):
        if len(".".join(parts)) <= limit:
            break
        parts[i] = parts[i][:1]
    return ".".join(parts)


NAME_OVERHANG = 18  # px a layer axis' end names may reach past its ends


def layer_ticks(names: list[str], pixels: float, per_label: float) -> list:
    """Tick labels for a layer (or class) axis that never overlap: the first and last
    names (the input and the output side) and names between them, each label given
    ``per_label`` of the axis' ``pixels``: every k-th where a k that fits divides the
    axis evenly (0, 3, 6, 9 of ten classes; numbers always so), else names spread as
    evenly as whole indices allow. Names are shortened by `short_layer_name` (a
    script's module paths)."""
    n = len(names)
    slot = pixels / max(n, 1)  # pixels per layer
    least = max(1, math.ceil(per_label / max(slot, 1e-9)))  # indices between two labels
    if n < 2 or least > n - 1:
        shown = list(range(min(n, 1)))
    else:
        even = next(k for k in range(least, n) if (n - 1) % k == 0)
        numbers = all(name.isdigit() for name in names)  # classes, depths: steps show
        if even <= 2 * least or numbers:
            shown = list(range(0, n, even))
        else:  # n - 1 prime, say: as many names as fit, spread over whole indices
            count = (n - 1) // least + 1
            shown = sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})
    return [[(i, short_layer_name(names[i])) for i in shown]]


def overhanging_names(axis) -> None:
    """Let a layer axis draw its end names up to `NAME_OVERHANG` px past its ends:
    pyqtgraph leaves out a label wider than the half layer between it and the end, so
    the first and last layers went unnamed ("fc4 fc7 fc10" of fc1..head)."""
    axis.setStyle(hideOverlappingLabels=NAME_OVERHANG)


def depth_ticks(names: list[str], pixels: float) -> list:
    """Tick labels for a layer axis running across a plot (input to output): the names,
    every k-th where they crowd; layer numbers where not even three names fit across
    and there are more layers than that (the hover names them)."""
    longest = max((len(short_layer_name(n)) for n in names), default=4)
    if pixels < 3 * (7 * longest + 10) < 7 * len(names) * longest:
        return layer_ticks([str(i) for i in range(len(names))], pixels, 36)
    return layer_ticks(names, pixels, 7 * longest + 10)
