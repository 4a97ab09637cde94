"""Preset experiments (lessons): designs plus what to look for."""

from .classics import CLASSICS
from .presets import PRESETS, Preset, get_preset, preset_names

PRESETS.update({preset.slug: preset for preset in CLASSICS})

__all__ = ["PRESETS", "Preset", "get_preset", "preset_names"]
