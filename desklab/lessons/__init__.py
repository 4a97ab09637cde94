"""Preset experiments (lessons): designs plus what to look for."""

from dataclasses import replace

from .classics import CLASSICS
from .presets import PRESETS, Preset, get_preset, preset_names
from .landscape import LANDSCAPE
from .real_size import REAL_SIZE
from .recurrent import RECURRENT

PRESETS.update({preset.slug: preset for preset in CLASSICS + REAL_SIZE + LANDSCAPE + RECURRENT})
# what each lesson's run should show, ticked off in the app's Lesson panel; the claims
# tests (tests/claims/test_lessons.py) check that these findings do appear
SIGNS = {"deep-sigmoid": ("vanishing",), "init-zeros": ("symmetric",),
         "dying-relu": ("dead_relu",), "bad-init-no-bn": ("collapsed", "vanishing"),
         "deep-plain": ("vanishing",), "overfit-small": ("overfitting",),
         "lr-too-high": ("diverged",), "exploding": ("diverged",),
         "rnn-adding": ("vanishing_time",), "rnn-exploding": ("exploding_time", "saturated"),
         "rnn-gaussian-init": ("vanishing_time",)}
for _slug, _signs in SIGNS.items():
    PRESETS[_slug] = replace(PRESETS[_slug], signs=_signs)

__all__ = ["PRESETS", "Preset", "get_preset", "preset_names"]
