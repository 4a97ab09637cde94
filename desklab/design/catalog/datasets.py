"""Datasets a design can name: generated toys, bundled digits and the user's own file,
with preprocessing and the task each implies."""

from __future__ import annotations

from ..schema import Entry, Param, Registry
from .real_data import REAL_DATASETS, RealDataset

_SAMPLES = Param("samples", "int", 1000, "Number of examples generated.", 4, 200000)
_NOISE = Param("noise", "float", 0.1, "Standard deviation of added noise.", 0.0, 5.0)
_LENGTH = Param("length", "int", 50, "Sequence length T: the time the gradient must cross.",
                2, 2000)


def _bundled(name, label, text, total, features, classes, names=()) -> Entry:
    """A small table bundled with scikit-learn (works offline)."""
    return Entry(name, label, f"{text} scikit-learn's bundled copy ({total} examples; "
                 "works offline).",
                 (Param("samples", "int", total, f"How many of the {total} to use.", 4, total),),
                 {"shape": lambda p: (features,), "classes": lambda p: classes,
                  "task": "classes", "bundled": True, "class_names": tuple(names)})


def _real(d: RealDataset) -> Entry:
    """A real image set, downloaded once into the data root; its test split validates."""
    params = [Param("samples", "int", 0, f"Training images to use (the first N of "
                    f"{d.train:,}); 0 = all.", 0, d.train),
              Param("test_samples", "int", 0, f"Validation images (the first N of the "
                    f"{d.test:,}-image test split); 0 = all.", 0, d.test)]
    if d.flip_ok:
        params.append(Param("augment", "bool", False, "Random crop (4-pixel padding) and "
                            "horizontal flip of every training batch, on the device."))
    c, h, w = d.shape
    return Entry(d.name, d.label,
                 f"{d.citation}: {d.train:,} training and {d.test:,} test images of "
                 f"{c}x{h}x{w}, 10 classes ({d.megabytes} MB download, kept in the data "
                 f"folder; validation is the official test split).",
                 tuple(params),
                 {"shape": lambda p, s=d.shape: s, "classes": lambda p: 10, "task": "classes",
                  "real": d, "class_names": d.class_names})


# meta: "shape" (input shape from params), "classes" (from params), "task";
# "class_names" where label i is not simply the number i (the confusion matrix's rows);
# "bundled" for scikit-learn's tables, "real" (a RealDataset) for the downloadable image
# sets; the rest are generated from their settings (and "file" is the user's).
DATASETS = Registry(
    "datasets",
    [
        Entry("gaussian", "Unit gaussian",
              "Inputs ~ N(0, 1) of a given dimension with random labels: the classic "
              "init experiment.",
              (_SAMPLES,
               Param("dim", "int", 500, "Input dimension.", 1, 8192),
               Param("classes", "int", 10, "Number of (random) labels.", 2, 1000)),
              {"shape": lambda p: (p["dim"],), "classes": lambda p: p["classes"],
               "task": "classes"}),
        Entry("moons", "Two moons", "Two interleaving half circles in 2-D.",
              (_SAMPLES, _NOISE),
              {"shape": lambda p: (2,), "classes": lambda p: 2, "task": "classes"}),
        Entry("circles", "Circles", "A small circle inside a large one.",
              (_SAMPLES, _NOISE),
              {"shape": lambda p: (2,), "classes": lambda p: 2, "task": "classes"}),
        Entry("spiral", "Spiral", "Interleaved spiral arms: not linearly separable.",
              (_SAMPLES, _NOISE,
               Param("classes", "int", 3, "Number of arms.", 2, 10)),
              {"shape": lambda p: (2,), "classes": lambda p: p["classes"],
               "task": "classes"}),
        Entry("xor", "XOR", "Four gaussian clusters labelled by the sign of x * y.",
              (_SAMPLES, _NOISE),
              {"shape": lambda p: (2,), "classes": lambda p: 2, "task": "classes"}),
        Entry("blobs", "Blobs", "Isotropic gaussian clusters.",
              (_SAMPLES, _NOISE,
               Param("classes", "int", 3, "Number of clusters.", 2, 20)),
              {"shape": lambda p: (2,), "classes": lambda p: p["classes"],
               "task": "classes"}),
        Entry("sine", "Sine (regression)", "y = sin(x) + noise for x in [-π, π].",
              (_SAMPLES, _NOISE),
              {"shape": lambda p: (1,), "classes": lambda p: 1, "task": "regression"}),
        Entry("adding", "Adding problem (sequence)",
              "Hochreiter & Schmidhuber 1997: T steps of (value in [0, 1], marker); two "
              "steps are marked, one in each half; the target is the sum of their values. "
              "Predicting 1 everywhere leaves a mean squared error of 1/6 ≈ 0.167.",
              (_SAMPLES, _LENGTH),
              {"shape": lambda p: (p["length"], 2), "classes": lambda p: 1,
               "task": "regression"}),
        Entry("copy", "Copy: recall the first symbol (sequence)",
              "Hochreiter & Schmidhuber 1997, experiment 2: the first step shows one of K "
              "symbols, the next T - 2 random distractors from K others, the last a recall "
              "mark; the class is the first symbol (chance 1/K). One-hot, 2K + 1 features.",
              (_SAMPLES, _LENGTH,
               Param("symbols", "int", 4, "K: symbols to remember (and distractors).", 2, 32)),
              {"shape": lambda p: (p["length"], 2 * p["symbols"] + 1),
               "classes": lambda p: p["symbols"], "task": "classes"}),
        Entry("file", "Your data (CSV, NPZ, IDX)",
              "Examples from a file: CSV (numeric columns, one label column), NPZ (arrays X "
              "and y) or MNIST-format IDX files (an images file or a folder). Integer labels "
              "are classes; other numbers regression targets.",
              (Param("path", "text", "", "The data file (or a folder of IDX files)."),
               Param("label", "text", "", "CSV label column (name or index); empty = last."),
               Param("samples", "int", 0, "Use at most this many examples; 0 = all.",
                     0, 10_000_000)),
              {"shape": lambda p: _file_info(p).shape, "classes": lambda p: _file_info(p).classes,
               "task": lambda p: _file_info(p).task,
               "class_names": lambda p: _file_info(p).class_names}),
        Entry("digits", "Digits 8x8",
              "scikit-learn's bundled handwritten digits as 1x8x8 images, 10 classes "
              "(1797 images; works offline).",
              (Param("samples", "int", 1797, "How many of the 1797 images to use.", 4, 1797),),
              {"shape": lambda p: (1, 8, 8), "classes": lambda p: 10, "task": "classes",
               "bundled": True}),
        *(_bundled(*args) for args in (
            ("iris", "Iris", "Fisher's iris flowers: 4 measurements, 3 species.", 150, 4, 3,
             ("setosa", "versicolor", "virginica")),
            ("wine", "Wine", "Chemical analysis of 3 Italian cultivars: 13 features.",
             178, 13, 3),
            ("breast_cancer", "Breast cancer (Wisconsin)",
             "30 features of cell nuclei; malignant or benign.", 569, 30, 2,
             ("malignant", "benign")))),
        *(_real(d) for d in REAL_DATASETS.values()),
    ],
)
PREPROCESS = ("none", "center", "standardize")


def _file_info(params: dict):
    from ..datafile import inspect_data  # numpy; only needed for the "file" dataset
    return inspect_data(params["path"], params["label"])


def dataset_task(entry: Entry, params: dict) -> str:
    """"classes" or "regression" for a dataset entry (a file's depends on its labels)."""
    task = entry.meta["task"]
    return task(entry.resolve(params)) if callable(task) else task


def class_names(dataset, params: dict | None = None) -> tuple[str, ...]:
    """Label i's name for each class of the dataset named ``dataset`` with ``params``
    (a confusion matrix's rows): the catalog's, or a file's own labels where they are
    not 0..C-1; () where labels are just their numbers, the name is not a dataset or
    the file cannot be read (it says why elsewhere)."""
    from ..datafile import DataFileError
    entry = DATASETS.get(dataset) if isinstance(dataset, str) else None
    names = entry.meta.get("class_names", ()) if entry is not None else ()
    if callable(names):
        try:
            names = names(entry.resolve(params if isinstance(params, dict) else {}))
        except (DataFileError, OSError, KeyError, TypeError, ValueError):
            return ()
    return tuple(names)


TASKS = ("classes", "regression")

# The schema of InputSpec's split and preprocessing and of OutputSpec.task: their
# defaults, the inspector, the train panel, the validator and the file reader read these.
INPUT_PARAMS = {p.name: p for p in (
    Param("val_fraction", "float", 0.2, "Share held out for validation.", 0.0, 0.9),
    Param("preprocess", "choice", "standardize",
          "none, center (subtract the mean) or standardize (also divide by the std), "
          "with training statistics.", choices=PREPROCESS),
)}


def input_params(entry: Entry | None) -> list[str]:
    """The INPUT_PARAMS a dataset uses: the real image sets validate on their official
    test split, so a held-out fraction means nothing for them."""
    real = entry is not None and "real" in entry.meta
    return [name for name in INPUT_PARAMS if not (real and name == "val_fraction")]


OUTPUT_PARAMS = {p.name: p for p in (
    Param("task", "choice", "classes", "classes: cross-entropy; regression: mean squared "
          "error.", choices=TASKS),
)}
