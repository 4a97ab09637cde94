"""Layer names on an axis: short enough to leave room for the plot, never overlapping."""

from __future__ import annotations


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


def layer_ticks(names: list[str], pixels: float, per_label: float) -> list:
    """Tick labels for a layer axis that never overlap: every k-th name (shortened by
    `short_layer_name`: a script's module paths would crowd out the plot), k chosen so
    each label gets ``per_label`` pixels of the ``pixels`` the axis has."""
    fits = max(1, int(pixels // max(per_label, 1)))
    k = max(1, -(-len(names) // fits))
    return [[(i, short_layer_name(names[i])) for i in range(0, len(names), k)]]


def depth_ticks(names: list[str], pixels: float) -> list:
    """Tick labels for a layer axis running across a plot (input to output): the names,
    every k-th where they crowd; layer numbers where not even three names fit across
    and there are more layers than that (the hover names them)."""
    longest = max((len(short_layer_name(n)) for n in names), default=4)
    if pixels < 3 * (7 * longest + 10) < 7 * len(names) * longest:
        return layer_ticks([str(i) for i in range(len(names))], pixels, 36)
    return layer_ticks(names, pixels, 7 * longest + 10)
