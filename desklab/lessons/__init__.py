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
         "lr-too-low": ("update_ratio",), "lr-too-high": ("diverged",), "exploding": ("diverged",),
         "rnn-adding": ("vanishing_time",), "rnn-exploding": ("exploding_time", "saturated"),
         "rnn-gaussian-init": ("vanishing_time",)}
for _slug, _signs in SIGNS.items():
    PRESETS[_slug] = replace(PRESETS[_slug], signs=_signs)

# the lessons browser's sections, in the order a course meets them; every preset is in
# exactly one (tests/gui/test_lesson_dialog.py checks)
GROUPS = {
    "Initialisation and activations": (
        "init-tanh-0.01", "init-tanh-1.0", "init-tanh-xavier", "init-relu-xavier",
        "init-relu-he", "init-zeros", "deep-sigmoid", "deep-relu", "dying-relu",
        "leaky-relu-fix", "linear-spiral", "relu-spiral"),
    "Depth: BatchNorm and skip connections": (
        "bad-init-no-bn", "bad-init-bn", "deep-plain", "deep-residual", "landscape-plain",
        "landscape-residual"),
    "Training: learning rate, clipping, regularisation": (
        "lr-too-low", "lr-tuned", "lr-too-high", "exploding", "gradient-clipping-fix",
        "sanity-overfit", "overfit-small", "overfit-small-dropout", "overfit-small-l2",
        "bench-mlp"),
    "Small images: 8 x 8 digits": ("cnn-digits", "tanh-vs-relu", "relu-digits"),
    "Real data at real size (a download each)": tuple(p.slug for p in REAL_SIZE),
    "Recurrent nets: the gradient through time": tuple(p.slug for p in RECURRENT),
}

__all__ = ["GROUPS", "PRESETS", "Preset", "get_preset", "preset_names"]
