"""The training curves' smoothing control, the same in the training view and the compare
window: TensorBoard's weight (`metrics.smoothing`), 0 for the raw curves."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox

# per-step batch losses are noisy: at TensorBoard's 0.6 four runs overlaid still tangle
SMOOTHING = 0.9


def smoothing_box(name: str) -> QDoubleSpinBox:
    """A spin box from 0 (off) to 0.99, at ``SMOOTHING``, named ``name`` (the UI map)."""
    box = QDoubleSpinBox()
    box.setObjectName(name)
    box.setRange(0.0, 0.99)
    box.setSingleStep(0.1)
    box.setPrefix("smoothing ")
    box.setValue(SMOOTHING)
    box.setToolTip("Smooths the training loss and accuracy (a debiased moving average, as "
                   "TensorBoard's; 0 = off): the raw curves stay faint behind. Validation "
                   "points are never smoothed.")
    return box
