"""ONNX export (the optional ``onnx`` extra)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from ..design import NetworkDesign
from ..errors import DeskLabError
from ..util.files import atomic_path
from .build import build
from .weights import apply_weights, load_weights


class OnnxUnavailable(DeskLabError, RuntimeError):
    """The onnx package is not installed."""


def export_onnx(design: NetworkDesign, path: Path, weights: str | None = None,
                state: dict | None = None) -> None:
    """Write ``design`` (with ``weights`` from a file, or a ``state`` dict, if given) as
    ONNX with a dynamic batch axis, checked by onnx.checker before it replaces ``path``."""
    try:
        import onnx
    except ImportError:
        raise OnnxUnavailable("ONNX export needs the onnx extra: "
                              "python -m pip install 'desklab[onnx]'") from None
    model = build(design)
    if weights:
        apply_weights(model, load_weights(weights), str(weights))
    if state is not None:
        apply_weights(model, state, "the trained weights")
    model.eval()
    dummy = torch.zeros(1, *design.input.shape)  # (1, *input shape)
    with atomic_path(path) as tmp:
        with warnings.catch_warnings():
            # the TorchScript exporter is deprecated upstream; the dynamo one needs
            # onnxscript, which DeskLab does not require
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (dummy,), tmp, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                              dynamo=False)
        onnx.checker.check_model(onnx.load(tmp))  # a rejected file never replaces path
