"""The live plots. Items are created once per run layout and updated with
setData / setImage from the latest data; nothing here runs per training step.

Every panel has ``update(history)``, ``set_layout(layout)`` and
``highlight(index)`` (a layer hovered anywhere is drawn thicker everywhere).
"""

from .activations import ActivationPanel
from .base import (
    CLASS_COLORS,
    MAX_POINTS,
    MAX_STEP_POINTS,
    Panel,
    _thin,
    depth_colors,
    layer_ticks,
    legend_title,
    nice_ceiling,
    show_item,
)
from .boundary import BoundaryPanel
from .confusion import ConfusionPanel
from .gradients import GradientPanel
from .health import HealthPanel
from .loss import LossPanel, draw_trend
from .through_time import ThroughTimePanel

__all__ = ["CLASS_COLORS", "MAX_POINTS", "MAX_STEP_POINTS", "ActivationPanel",
           "BoundaryPanel", "ConfusionPanel", "GradientPanel", "HealthPanel", "LossPanel", "Panel",
           "ThroughTimePanel", "_thin", "draw_trend",
           "depth_colors", "layer_ticks", "legend_title", "nice_ceiling", "show_item"]
