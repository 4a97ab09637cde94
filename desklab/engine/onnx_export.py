"""ONNX export (the optional ``onnx`` extra)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from ..design import NetworkDesign
from ..design.fileformat import atomic_path
from .build import build
from .weights import load_weights


class OnnxUnavailable(RuntimeError):
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
        model.load_state_dict(load_weights(weights), strict=True)
    if state is not None:
        model.load_state_dict(state, strict=True)
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
