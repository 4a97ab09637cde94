"""Preset experiments (lessons): designs plus what to look for."""

from .classics import CLASSICS
from .presets import PRESETS, Preset, get_preset, preset_names
from .landscape import LANDSCAPE
from .real_size import REAL_SIZE

PRESETS.update({preset.slug: preset for preset in CLASSICS + REAL_SIZE + LANDSCAPE})

__all__ = ["PRESETS", "Preset", "get_preset", "preset_names"]
