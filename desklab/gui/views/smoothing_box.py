"""The training curves' smoothing control, the same in the training view and the compare
window: TensorBoard's weight (`metrics.smoothing`), 0 for the raw curves."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QDoubleSpinBox

# TensorBoard's default for one run's live curves: its trend lags a fast fall by about
# a step and a half (at 0.9 a BERT's loss, already smooth, trailed by about 15 steps)
SMOOTHING = 0.6
# several runs overlaid, per-step batch losses: at 0.6 four runs still tangle
COMPARE_SMOOTHING = 0.9


def smoothing_box(name: str, value: float = SMOOTHING) -> QDoubleSpinBox:
    """A spin box from 0 (off) to 0.99, at ``value``, named ``name`` (the UI map)."""
    box = QDoubleSpinBox()
    box.setObjectName(name)
    box.setRange(0.0, 0.99)
    box.setSingleStep(0.1)
    box.setPrefix("smoothing ")
    box.setValue(value)
    box.setToolTip("Smooths the training loss and accuracy (a debiased moving average, as "
                   "TensorBoard's; 0 = off): the raw curves stay faint behind. Validation "
                   "points are never smoothed.")
    return box


def remember(box: QDoubleSpinBox, settings, key: str) -> None:
    """``box`` at the value ``settings`` kept under ``key`` (the user's last choice, for
    the next window and the next launch), and kept there at each change; a value the
    settings file does not hold as a number in range leaves the box as it is."""
    try:
        kept = float(settings.value(key, box.value()))
    except (TypeError, ValueError):
        kept = box.value()
    if box.minimum() <= kept <= box.maximum():  # (NaN is not)
        box.setValue(kept)
    box.valueChanged.connect(partial(settings.setValue, key))
