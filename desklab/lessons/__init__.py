"""Preset experiments (lessons): designs plus what to look for."""

from .presets import PRESETS, Preset, get_preset, preset_names

__all__ = ["PRESETS", "Preset", "get_preset", "preset_names"]
