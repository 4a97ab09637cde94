"""An image coloured by a colour map with fixed levels, and its colour bar: the layer x
time heatmap, the gradient through time, the confusion matrix and the loss surface
all draw one this way."""

from __future__ import annotations

import pyqtgraph as pg

from .base import small_font


def colour_image(plot, colormap: str, levels: tuple[float, float], width: int = 10,
                 label: str | None = None) -> tuple[pg.ImageItem, pg.ColorBarItem]:
    """An `ImageItem` in ``plot`` coloured by the named ``colormap``, and a fixed (not
    draggable) colour bar beside it over ``levels``, with small tick labels."""
    image = pg.ImageItem()
    cmap = pg.colormap.get(colormap)
    image.setColorMap(cmap)
    plot.addItem(image)
    bar = pg.ColorBarItem(values=levels, colorMap=cmap, interactive=False, width=width,
                          label=label)
    bar.setImageItem(image, insert_in=plot)
    bar.getAxis("right").setStyle(tickFont=small_font())
    return image, bar
