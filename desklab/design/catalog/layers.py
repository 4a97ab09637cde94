"""Layer kinds (their params, shape rules and which common fields apply), norms and the
size caps of a design."""

from __future__ import annotations

from ..schema import Entry, Param, Registry

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

MAX_TOTAL_PARAMS = 100_000_000  # keeps a design from eating the machine's memory
MAX_LAYERS = 200
