"""The one catalog of everything a design can name.

Layer kinds, activations, weight inits, norms, datasets, optimizers and the
training settings, each with its parameter schema. The palette, the inspector,
the builder, the validator, the exporter and the docs all read from here:
adding an activation that PyTorch already has is one `Entry` below (its
``meta["torch"]`` names the ``torch.nn`` class to build).
"""

from __future__ import annotations

from ..schema import Param
from .activations import ACTIVATIONS, dying_activations, saturating_activations
from .datasets import (DATASETS, INPUT_PARAMS, OUTPUT_PARAMS, PREPROCESS, TASKS, class_names,
                       dataset_task, input_params)
from .inits import INITS
from .layers import (
    LAYER_KINDS, MAX_LAYERS, MAX_TOTAL_PARAMS, NORM_POSITIONS, NORMS, RECURRENT_KINDS,
    WEIGHTED_FIELDS,
)
from .training import OPTIMIZERS, SCHEDULES, TRAIN_PARAMS

# Schemas of the per-layer fields shared by weighted kinds (see each kind's "common").
COMMON_PARAMS = (
    Param("activation", "choice", "relu", "Nonlinearity after the layer.",
          choices=ACTIVATIONS.names()),
    Param("init", "choice", "default", "How the weights start.", choices=INITS.names()),
    Param("norm", "choice", "none", "Normalization of the layer's features.",
          choices=NORMS.names()),
    Param("norm_position", "choice", "before", "Normalise before or after the activation.",
          choices=NORM_POSITIONS),
    Param("dropout", "float", 0.0,
          "Probability of zeroing each output during training (not in eval).", 0.0, 0.95),
    Param("bias", "bool", True, "Add a learned bias (redundant right before BatchNorm)."),
)
COMMON = {p.name: p for p in COMMON_PARAMS}

__all__ = ["ACTIVATIONS", "COMMON", "COMMON_PARAMS", "DATASETS", "INITS", "LAYER_KINDS",
           "MAX_LAYERS", "MAX_TOTAL_PARAMS", "NORMS", "NORM_POSITIONS", "OPTIMIZERS",
           "INPUT_PARAMS", "OUTPUT_PARAMS", "PREPROCESS", "RECURRENT_KINDS",
           "SCHEDULES", "TASKS", "TRAIN_PARAMS",
           "WEIGHTED_FIELDS",
           "class_names", "dataset_task", "dying_activations", "input_params",
           "saturating_activations"]
