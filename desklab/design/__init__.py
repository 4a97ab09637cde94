"""What the user builds: designs, the catalog, validation and files. No torch, no Qt."""

from .analysis import Analysis, LayerInfo, Problem, analyze
from .shapes import conv_out, fmt_shape
from .catalog import (
    ACTIVATIONS, COMMON, COMMON_PARAMS, DATASETS, INITS, LAYER_KINDS, NORMS, OPTIMIZERS,
    TRAIN_PARAMS,
)
from .fileformat import (
    FORMAT, DesignFileError, design_from_dict, design_to_dict, dumps, load_design, loads,
    save_design,
)
from .model import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig
from .naming import layer_names

__all__ = [
    "ACTIVATIONS", "COMMON", "COMMON_PARAMS", "DATASETS", "FORMAT", "INITS", "LAYER_KINDS",
    "NORMS", "OPTIMIZERS", "TRAIN_PARAMS", "Analysis", "DesignFileError", "InputSpec",
    "LayerInfo", "LayerSpec", "NetworkDesign", "OutputSpec", "Problem", "TrainConfig",
    "analyze", "conv_out", "design_from_dict", "design_to_dict", "dumps", "fmt_shape",
    "layer_names", "load_design", "loads", "save_design",
]
