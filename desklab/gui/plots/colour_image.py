"""An image coloured by a colour map with fixed levels, and its colour bar: the layer x
time heatmap, the gradient through time, the confusion matrix and the loss surface
all draw one this way."""

from __future__ import annotations

import pyqtgraph as pg

from .base import small_font
from .log_axis import LogAxis
from .titles import span_title


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
    span_title(plot)  # over the bar's column too
    thinning_axis(bar)
    return image, bar


def thinning_axis(bar: pg.ColorBarItem) -> None:
    """The bar's value axis as a `LogAxis`: on a short bar (the heatmaps at 1280 x 720)
    pyqtgraph's own drew "-2" and "-4" into each other. Set up as the bar set up its
    own: a fixed width, values shown, its range the bar's levels, not the view's."""
    axis = LogAxis("right")
    bar.setAxisItems({"right": axis})
    bar.showAxis("right")
    axis.setZValue(0.5)
    axis.setWidth(None)  # as wide as its labels ("-5": 45 px fixed was twice that)
    axis.setStyle(autoExpandTextSpace=True)
    axis.setStyle(showValues=True, tickFont=small_font())
    axis.unlinkFromView()
    axis.setRange(*bar.values)
    bar.axis = axis  # what the bar's setLevels moves
