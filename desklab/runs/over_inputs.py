"""The data points and what the network draws over them (a decision grid, a fit curve),
as run-file rows: packed by `RunWriter`, checked and unpacked for every reader.

Only the app's trainer process draws over the inputs (2-D points, or one input to one
target). A run keeps its points once (every k-th, as the panel draws them) and its
latest drawing, so a reopened or followed run shows the boundary the live view showed.
Each row is a JSON header that gives the sizes and two little-endian arrays; like every
row it is hostile input until it passes. numpy only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .checks import RunFileError, is_int, parse_json

MAX_POINTS = 1500  # points kept (the boundary panel draws at most this many)
MAX_GRID = 200  # a decision grid's side (the trainer draws 80)
MAX_CURVE = 2000  # points along a fit curve (the trainer draws 200)
MAX_LABEL = 1000  # a class label's bound (a file's classes are fewer)
MAX_HEADER = 1000  # characters of a row's header (a few sizes: far less)


def pack_points(x: np.ndarray, y: np.ndarray) -> tuple[str, bytes, bytes]:
    """(header, x, y) of every k-th point, at most `MAX_POINTS`: ``x`` (N, 1 or 2),
    ``y`` (N,) class labels or (N, 1) regression targets."""
    stride = max(1, -(-len(x) // MAX_POINTS))  # ceil: never more than MAX_POINTS
    x = np.ascontiguousarray(x[::stride], "<f4")  # (n, dims)
    classes = y.ndim == 1 and y.dtype.kind in "iu"
    y = np.ascontiguousarray(y[::stride].reshape(len(x), -1)[:, 0], "<i4" if classes else "<f4")
    header = {"n": len(x), "dims": x.shape[1], "labels": "classes" if classes else "targets"}
    return json.dumps(header), x.tobytes(), y.tobytes()


def unpack_points(header, a, b, path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """The stored points: x (n, dims) float32, y (n,) int64 classes or (n, 1) targets."""
    h = _header(header, path, "the data points")
    n, dims, labels = h.get("n"), h.get("dims"), h.get("labels")
    if not (is_int(n) and 1 <= n <= MAX_POINTS and dims in (1, 2)
            and labels in ("classes", "targets") and _sizes(a, b, n * dims * 4, n * 4)):
        raise RunFileError(f"{path}: the data points are malformed")
    x = np.frombuffer(a, "<f4").reshape(n, dims).copy()
    if labels == "targets":
        return x, np.frombuffer(b, "<f4").reshape(n, 1).copy()
    y = np.frombuffer(b, "<i4").astype(np.int64)
    if ((y < 0) | (y >= MAX_LABEL)).any():
        raise RunFileError(f"{path}: the data points' labels are out of range")
    return x, y


def pack_drawing(drawing: dict) -> tuple[str, bytes, bytes] | None:
    """(header, a, b) of a `decision_grid` or `fit_curve` result; None for an error or
    a diverged model's NaNs (the panel keeps the last drawing: so does the file)."""
    if "curve" in drawing:
        xs, ys = (np.ascontiguousarray(v, "<f4") for v in drawing["curve"])
        if not np.isfinite(ys).all():
            return None
        return json.dumps({"kind": "curve", "points": len(xs)}), xs.tobytes(), ys.tobytes()
    if "label" in drawing:
        label = np.ascontiguousarray(drawing["label"], "<i4")  # (G, G)
        prob = np.ascontiguousarray(drawing["prob"], "<f4")  # (G, G)
        if not np.isfinite(prob).any():
            return None
        header = {"kind": "grid", "grid": len(label),
                  "extent": [float(v) for v in drawing["extent"]]}
        return json.dumps(header), label.tobytes(), prob.tobytes()
    return None


def unpack_drawing(header, a, b, path: Path | str) -> dict:
    """The stored drawing, as `decision_grid` or `fit_curve` returned it."""
    h = _header(header, path, "the drawing over the inputs")
    if h.get("kind") == "curve":
        p = h.get("points")
        if not (is_int(p) and 2 <= p <= MAX_CURVE and _sizes(a, b, p * 4, p * 4)):
            raise RunFileError(f"{path}: the fit curve is malformed")
        return {"curve": (np.frombuffer(a, "<f4").copy(), np.frombuffer(b, "<f4").copy())}
    g, extent = h.get("grid"), h.get("extent")
    if not (h.get("kind") == "grid" and is_int(g) and 2 <= g <= MAX_GRID
            and isinstance(extent, list) and len(extent) == 4
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in extent)
            and extent[0] < extent[1] and extent[2] < extent[3]
            and _sizes(a, b, g * g * 4, g * g * 4)):
        raise RunFileError(f"{path}: the decision grid is malformed")
    label = np.frombuffer(a, "<i4").reshape(g, g).astype(np.int64)
    if ((label < 0) | (label >= MAX_LABEL)).any():
        raise RunFileError(f"{path}: the decision grid's classes are out of range")
    return {"extent": tuple(float(v) for v in extent), "label": label,
            "prob": np.frombuffer(b, "<f4").reshape(g, g).copy()}


def _header(text, path, what: str) -> dict:
    """The row's header: short JSON text holding an object, else a `RunFileError`."""
    if not isinstance(text, str) or len(text) >= MAX_HEADER:
        raise RunFileError(f"{path}: {what}: the header is not a JSON object")
    header = parse_json(text, path, f"{what}'s header")
    if not isinstance(header, dict):
        raise RunFileError(f"{path}: {what}: the header is not a JSON object")
    return header


def _sizes(a, b, size_a: int, size_b: int) -> bool:
    return isinstance(a, bytes) and isinstance(b, bytes) and len(a) == size_a \
        and len(b) == size_b
