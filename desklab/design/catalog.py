"""The one catalog of everything a design can name.

Layer kinds, activations, weight inits, norms, datasets, optimizers and the
training settings, each with its parameter schema. The palette, the inspector,
the builder, the validator, the exporter and the docs all read from here:
adding an activation that PyTorch already has is one `Entry` below (its
``meta["torch"]`` names the ``torch.nn`` class to build).
"""

from __future__ import annotations

import math

from .schema import Entry, Param, Registry

# Which per-layer fields apply to a kind ("common" fields, beside its own params).
WEIGHTED_FIELDS = ("activation", "init", "norm", "norm_position", "dropout", "bias")

LAYER_KINDS = Registry(
    "layer kinds",
    [
        Entry(
            "dense", "Dense", "Fully connected layer: every input feeds every unit.",
            (Param("units", "int", 64, "Number of units (output features).", 1, 65536),),
            {"common": WEIGHTED_FIELDS, "weighted": True, "glyph": "▦",
             "default_activation": "relu"},
        ),
        Entry(
            "conv2d", "Conv2d",
            "2-D convolution: output size (W - F + 2P) / S + 1, "
            "parameters F x F x C_in x C_out (+ bias).",
            (
                Param("filters", "int", 16, "Number of output channels (C_out).", 1, 4096),
                Param("kernel", "int", 3, "Kernel size F (square).", 1, 31),
                Param("stride", "int", 1, "Stride S.", 1, 16),
                Param("padding", "int", 1, "Zero padding P on each side.", 0, 16),
            ),
            {"common": WEIGHTED_FIELDS, "weighted": True, "glyph": "▩",
             "default_activation": "relu"},
        ),
        Entry(
            "maxpool", "MaxPool",
            "Max over a window; window 3 with stride 2 overlaps (as in AlexNet).",
            (
                Param("window", "int", 2, "Pooling window F (square).", 1, 16),
                Param("stride", "int", 2, "Stride S.", 1, 16),
            ),
            {"common": (), "weighted": False, "glyph": "⇲"},
        ),
        Entry(
            "avgpool", "AvgPool", "Average over a window.",
            (
                Param("window", "int", 2, "Pooling window F (square).", 1, 16),
                Param("stride", "int", 2, "Stride S.", 1, 16),
            ),
            {"common": (), "weighted": False, "glyph": "⇘"},
        ),
        Entry(
            "flatten", "Flatten", "Turn a (C, H, W) image into a flat vector for dense layers.",
            (), {"common": (), "weighted": False, "glyph": "≡"},
        ),
        Entry(
            "residual", "Residual block",
            "Inner layers plus a shortcut: out = act(F(x) + x). When F changes the "
            "shape the shortcut becomes a linear or 1x1-conv projection.",
            (
                Param("shortcut", "choice", "auto",
                      "auto: identity when shapes match, else a projection.",
                      choices=("auto", "identity", "projection")),
            ),
            {"common": ("activation", "init"), "weighted": False, "glyph": "⤾",
             "container": True, "default_activation": "identity"},
        ),
    ],
)

_SLOPE = Param("slope", "float", 0.01, "Slope for negative inputs.", 0.0, 1.0)

ACTIVATIONS = Registry(
    "activations",
    [
        # torch: the nn class (or one in engine/activations.py); args: setting -> keyword;
        # hist: fixed histogram range; bounds: saturation bounds (None: cannot saturate);
        # dead_zero: outputs exactly 0 over a whole region, so units can die;
        # max_slope: the largest |f'(x)| when below 1 (each layer shrinks the gradient).
        # Diagnostics, plots, the builder, the exporter and the docs read only these.
        Entry("identity", "Identity (linear)",
              "f(x) = x. A stack of linear layers is still one linear map.",
              (), {"torch": "Identity", "hist": (-4.0, 4.0), "bounds": None}),
        Entry("step", "Binary step",
              "f(x) = 1 if x > 0 else 0. Its gradient is zero everywhere: nothing learns "
              "through it.",
              (), {"torch": "BinaryStep", "hist": (-0.25, 1.25), "bounds": None,
                   "dead_zero": True}),
        Entry("sigmoid", "Sigmoid",
              "f(x) = 1 / (1 + e^-x). Saturates at 0 and 1; f'(x) never exceeds 1/4, so "
              "gradients shrink layer by layer.",
              (), {"torch": "Sigmoid", "hist": (0.0, 1.0), "bounds": (0.0, 1.0),
                   "max_slope": 0.25}),
        Entry("tanh", "Tanh",
              "f(x) = tanh(x). Zero-centred but saturates at -1 and +1.",
              (), {"torch": "Tanh", "hist": (-1.0, 1.0), "bounds": (-1.0, 1.0)}),
        Entry("relu", "ReLU",
              "f(x) = max(0, x). Does not saturate for x > 0; units stuck at x < 0 are dead.",
              (), {"torch": "ReLU", "hist": (0.0, 4.0), "bounds": None, "dead_zero": True}),
        Entry("leaky_relu", "Leaky ReLU",
              "f(x) = x for x > 0, slope * x otherwise: a small gradient keeps units alive.",
              (_SLOPE,), {"torch": "LeakyReLU", "args": {"slope": "negative_slope"},
                          "hist": (-1.0, 4.0), "bounds": None}),
        Entry("prelu", "PReLU",
              "Leaky ReLU whose negative slope is learned (one shared parameter, starts at "
              "0.25).",
              (), {"torch": "PReLU", "hist": (-1.0, 4.0), "bounds": None, "learnable": 1}),
        Entry("elu", "ELU",
              "f(x) = x for x > 0, alpha * (e^x - 1) otherwise: smooth, mean closer to zero.",
              (Param("alpha", "float", 1.0, "Value approached for very negative x is -alpha.",
                     0.0, 10.0),),
              {"torch": "ELU", "args": {"alpha": "alpha"}, "hist": (-2.0, 4.0),
               "bounds": None}),
        Entry("gelu", "GELU", "f(x) = x * Phi(x): a smooth ReLU used by transformers.",
              (), {"torch": "GELU", "hist": (-1.0, 4.0), "bounds": None}),
        Entry("silu", "SiLU (swish)", "f(x) = x * sigmoid(x).",
              (), {"torch": "SiLU", "hist": (-1.0, 4.0), "bounds": None}),
        Entry("softplus", "Softplus", "f(x) = log(1 + e^(beta x)) / beta: a smooth ReLU.",
              (Param("beta", "float", 1.0, "Sharpness.", 0.01, 100.0),),
              {"torch": "Softplus", "args": {"beta": "beta"}, "hist": (0.0, 4.0),
               "bounds": None}),
        Entry("maxout", "Maxout",
              "Max over k linear pieces: the layer computes k times the units and keeps "
              "the largest of each group of k.",
              (Param("k", "int", 2, "Pieces per unit (multiplies the layer's weights).", 2, 8),),
              {"torch": "Maxout", "args": {"k": "k"}, "hist": (-4.0, 4.0), "bounds": None,
               "width_multiplier": "k"}),
    ],
)


def _fans(fan_in: int, fan_out: int, mode: str) -> int:
    return fan_in if mode == "fan_in" else fan_out


_MODE = Param("mode", "choice", "fan_in",
              "fan_in keeps forward activations' variance, fan_out the gradients'.",
              choices=("fan_in", "fan_out"))
_GAIN = Param("gain", "float", 1.0, "Multiplies the standard deviation.", 0.0, 100.0)

# Each init's meta holds "formula" (shown by the inspector), "std" (the expected
# weight std for a fan-in / fan-out, pure Python so the inspector can show it
# without torch) and "torch" (the torch.nn.init function or a DeskLab one).
INITS = Registry(
    "weight inits",
    [
        Entry("default", "PyTorch default",
              "What PyTorch does: kaiming_uniform with a = sqrt(5), i.e. "
              "U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases likewise.",
              (), {"torch": None, "formula": "W ~ U(±1/√fan_in)",
                   "std": lambda fi, fo, p: 1.0 / math.sqrt(3.0 * fi)}),
        Entry("zeros", "Zeros",
              "All weights 0: every unit of a layer computes the same thing and gets "
              "the same gradient, so symmetry never breaks.",
              (), {"torch": "zeros_", "formula": "W = 0", "std": lambda fi, fo, p: 0.0}),
        Entry("constant", "Constant", "All weights equal: symmetric like zeros.",
              (Param("value", "float", 0.01, "The constant.", -10.0, 10.0),),
              {"torch": "constant_", "args": {"value": "val"}, "formula": "W = c",
               "std": lambda fi, fo, p: 0.0}),
        Entry("gaussian", "Gaussian",
              "W ~ N(0, std²). 0.01 makes deep activations collapse to 0; 1.0 saturates tanh.",
              (Param("std", "float", 0.01, "Standard deviation.", 0.0, 100.0, log_scale=True),),
              {"torch": "normal_", "args": {"std": "std"}, "formula": "W ~ N(0, σ²)",
               "std": lambda fi, fo, p: p["std"]}),
        Entry("uniform", "Uniform", "W ~ U(-a, a).",
              (Param("a", "float", 0.05, "Half-width of the interval.", 0.0, 100.0,
                     log_scale=True),),
              {"torch": "uniform_", "args": {"a": "a"}, "formula": "W ~ U(-a, a)",
               "std": lambda fi, fo, p: p["a"] / math.sqrt(3.0)}),
        Entry("xavier_normal", "Xavier / Glorot normal",
              "Keeps the variance of activations and gradients for tanh-like units.",
              (_GAIN,), {"torch": "xavier_normal_", "args": {"gain": "gain"},
                         "formula": "σ = gain·√(2 / (fan_in + fan_out))",
                         "std": lambda fi, fo, p: p["gain"] * math.sqrt(2.0 / (fi + fo))}),
        Entry("xavier_uniform", "Xavier / Glorot uniform", "Uniform version of Xavier.",
              (_GAIN,), {"torch": "xavier_uniform_", "args": {"gain": "gain"},
                         "formula": "W ~ U(±gain·√(6 / (fan_in + fan_out)))",
                         "std": lambda fi, fo, p: p["gain"] * math.sqrt(2.0 / (fi + fo))}),
        Entry("he_normal", "He / Kaiming normal",
              "σ = √(2 / fan): the factor 2 compensates ReLU zeroing half its inputs.",
              (_MODE,), {"torch": "kaiming_normal_", "args": {"mode": "mode"},
                         "formula": "σ = √(2 / fan)",
                         "std": lambda fi, fo, p: math.sqrt(2.0 / _fans(fi, fo, p["mode"]))}),
        Entry("he_uniform", "He / Kaiming uniform", "Uniform version of He.",
              (_MODE,), {"torch": "kaiming_uniform_", "args": {"mode": "mode"},
                         "formula": "W ~ U(±√(6 / fan))",
                         "std": lambda fi, fo, p: math.sqrt(2.0 / _fans(fi, fo, p["mode"]))}),
        Entry("lecun_normal", "LeCun normal", "σ = √(1 / fan_in), the SELU-era default.",
              (), {"torch": "lecun_normal_", "formula": "σ = √(1 / fan_in)",
                   "std": lambda fi, fo, p: math.sqrt(1.0 / fi)}),
        Entry("orthogonal", "Orthogonal",
              "Rows (or columns) orthonormal: preserves norms exactly through linear layers.",
              (_GAIN,), {"torch": "orthogonal_", "args": {"gain": "gain"},
                         "formula": "W = gain·Q, QᵀQ = I",
                         "std": lambda fi, fo, p: p["gain"] / math.sqrt(max(fi, fo))}),
    ],
)

NORMS = Registry(
    "normalizations",
    [
        Entry("none", "None", "No normalization."),
        Entry("batchnorm", "BatchNorm",
              "Normalises each feature (dense) or channel (conv) over the batch; uses "
              "running averages in eval mode, so train and eval outputs differ.",
              (), {"learnable_per_feature": 2}),
        Entry("layernorm", "LayerNorm",
              "Normalises each sample over its features (for conv: over C, H, W with a "
              "per-channel scale and shift); the same in train and eval.",
              (), {"learnable_per_feature": 2}),
    ],
)
NORM_POSITIONS = ("before", "after")

_SAMPLES = Param("samples", "int", 1000, "Number of examples generated.", 4, 200000)
_NOISE = Param("noise", "float", 0.1, "Standard deviation of added noise.", 0.0, 5.0)

# meta: "shape" (input shape from params), "classes" (from params), "task".
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
        Entry("file", "Your data (CSV, NPZ, IDX)",
              "Examples from a file: CSV (numeric columns, one label column), NPZ (arrays X "
              "and y) or MNIST-format IDX files (an images file or a folder). Integer labels "
              "are classes; other numbers regression targets.",
              (Param("path", "text", "", "The data file (or a folder of IDX files)."),
               Param("label", "text", "", "CSV label column (name or index); empty = last."),
               Param("samples", "int", 0, "Use at most this many examples; 0 = all.",
                     0, 10_000_000)),
              {"shape": lambda p: _file_info(p).shape, "classes": lambda p: _file_info(p).classes,
               "task": lambda p: _file_info(p).task}),
        Entry("digits", "Digits 8x8",
              "scikit-learn's bundled handwritten digits as 1x8x8 images, 10 classes "
              "(1797 images; works offline).",
              (Param("samples", "int", 1797, "How many of the 1797 images to use.", 4, 1797),),
              {"shape": lambda p: (1, 8, 8), "classes": lambda p: 10, "task": "classes"}),
    ],
)
PREPROCESS = ("none", "center", "standardize")


def _file_info(params: dict):
    from .datafile import inspect_data  # numpy; only needed for the "file" dataset
    return inspect_data(params["path"], params["label"])


def saturating_activations() -> tuple[str, ...]:
    """Activations with output bounds: the ones that can saturate."""
    return tuple(e.name for e in ACTIVATIONS if e.meta.get("bounds") is not None)


def dying_activations() -> tuple[str, ...]:
    """Activations whose output is exactly 0 over a region: units can die."""
    return tuple(e.name for e in ACTIVATIONS if e.meta.get("dead_zero"))


def dataset_task(entry: Entry, params: dict) -> str:
    """"classes" or "regression" for a dataset entry (a file's depends on its labels)."""
    task = entry.meta["task"]
    return task(entry.resolve(params)) if callable(task) else task
TASKS = ("classes", "regression")

OPTIMIZERS = Registry(
    "optimizers",
    [
        Entry("sgd", "SGD", "Plain stochastic gradient descent, optional (Nesterov) momentum."),
        Entry("adam", "Adam", "Adaptive moments; robust default."),
        Entry("adamw", "AdamW", "Adam with decoupled weight decay (uses the L2 setting)."),
        Entry("rmsprop", "RMSprop", "Scales steps by a running average of squared gradients."),
    ],
)
SCHEDULES = ("constant", "step", "cosine")

# Schema of TrainConfig, field by field (TrainConfig's defaults are read from here).
TRAIN_PARAMS = (
    Param("optimizer", "choice", "adam", "Optimizer.", choices=OPTIMIZERS.names()),
    Param("lr", "float", 1e-3, "Learning rate.", 1e-7, 10.0, log_scale=True),
    Param("momentum", "float", 0.9, "Momentum (SGD) or smoothing (RMSprop).", 0.0, 0.999),
    Param("nesterov", "bool", False, "Nesterov momentum (SGD)."),
    Param("batch_size", "int", 128, "Examples per step.", 1, 65536),
    Param("steps", "int", 1000, "Training steps.", 1, 10_000_000),
    Param("l1", "float", 0.0, "L1 weight penalty (sum |W|).", 0.0, 10.0),
    Param("l2", "float", 0.0, "L2 weight penalty (sum W²).", 0.0, 10.0),
    Param("grad_clip", "float", 0.0, "Clip the global gradient norm to this; 0 = off.",
          0.0, 1e6),
    Param("schedule", "choice", "constant", "Learning-rate schedule.", choices=SCHEDULES),
    Param("early_stopping", "int", 0,
          "Stop after this many evaluations without a better validation loss; 0 = off.",
          0, 10000),
    Param("probe_every", "int", 10, "Probe the layers every K steps; 0 = off.", 0, 100000),
    Param("eval_every", "int", 50, "Measure train / validation metrics every N steps.",
          1, 100000),
    Param("seed", "int", 0, "Random seed (data split, init, batches).", 0, 2**31 - 1),
    Param("device", "choice", "auto", "auto picks cuda, then mps, then cpu.",
          choices=("auto", "cpu", "cuda", "mps")),
)

MAX_TOTAL_PARAMS = 100_000_000  # keeps a design from eating the machine's memory
MAX_LAYERS = 200

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
