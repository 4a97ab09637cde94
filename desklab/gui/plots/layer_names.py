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


NAME_OVERHANG = 18  # px a layer axis' end names may reach past its ends


def layer_ticks(names: list[str], pixels: float, per_label: float) -> list:
    """Tick labels for a layer axis that never overlap: the first and last names (the
    input and the output side) and as many evenly spread between as give each label
    ``per_label`` of the axis' ``pixels`` (names shortened by `short_layer_name`: a
    script's module paths would crowd out the plot)."""
    n = len(names)
    slot = pixels / max(n, 1)  # pixels per layer
    count = 1
    fits = int(pixels // max(per_label, 1)) + 1  # the end names may overhang
    for m in range(min(n, fits), 1, -1):
        if (n - 1) // (m - 1) * slot >= per_label:  # the closest two labels' distance
            count = m
            break
    shown = sorted({round(i * (n - 1) / (count - 1)) for i in range(count)}) if count > 1 \
        else [0][:n]
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
