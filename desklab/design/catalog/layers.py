"""Layer kinds (their params, shape rules and which common fields apply), norms and the
size caps of a design."""

from __future__ import annotations

from ..schema import Entry, Param, Registry

# Which per-layer fields apply to a kind ("common" fields, beside its own params).
WEIGHTED_FIELDS = ("activation", "init", "norm", "norm_position", "dropout", "bias")
RECURRENT_FIELDS = ("init",)  # the input-to-hidden matrices W_ih

# The settings every recurrent kind has. Its gates (meta "gates") set the weight count:
# per layer and direction gates x hidden x (inputs + hidden) + 2 x gates x hidden biases.
_RECURRENT = (
    Param("hidden", "int", 64, "Hidden units per direction: the size of h_t.", 1, 4096),
    Param("num_layers", "int", 1, "Recurrent layers stacked on each other.", 1, 8),
    Param("bidirectional", "bool", False,
          "Also read the sequence backwards; both directions' h_t side by side."),
    Param("returns", "choice", "last",
          "last: the final h_T (for a classifier or regressor); sequence: every h_t "
          "(for another recurrent layer).", choices=("last", "sequence")),
    Param("recurrent_init", "choice", "orthogonal",
          "Init of the hidden-to-hidden matrices W_hh (per gate): orthogonal keeps every "
          "singular value at the gain, so norms survive the trip through time (Saxe et al. "
          "2014); gaussian N(0, gain²/hidden) spreads them from 0 to about 2·gain; default "
          "is PyTorch's U(±1/√hidden).", choices=("orthogonal", "gaussian", "default")),
    Param("recurrent_gain", "float", 1.0,
          "Scale of W_hh: above 1 gradients can explode through time, below 1 they "
          "vanish (Pascanu et al. 2013).", 0.0, 10.0),
)
_FORGET = Param("forget_bias", "float", 1.0,
                "Initial forget-gate bias: 1 keeps the cell's memory from the first step "
                "(Gers et al. 2000; Jozefowicz et al. 2015).", -10.0, 10.0)


def _recurrent(name: str, label: str, text: str, gates: int, torch_cls: str,
               extra: tuple = ()) -> Entry:
    return Entry(name, label, text, _RECURRENT + extra,
                 {"common": RECURRENT_FIELDS, "weighted": False, "recurrent": True,
                  "gates": gates, "torch": torch_cls, "glyph": "↻",
                  "default_activation": "tanh"})  # its h_t is tanh-bounded: hist, saturation

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
        _recurrent("rnn", "RNN (tanh)",
                   "Elman recurrent layer: h_t = tanh(W_ih x_t + W_hh h_(t-1) + b). Its "
                   "gradient is multiplied by W_hh at every step back in time, so it "
                   "vanishes or explodes over long sequences (Bengio et al. 1994).",
                   1, "RNN"),
        _recurrent("lstm", "LSTM",
                   "Long short-term memory (Hochreiter & Schmidhuber 1997): a gated cell "
                   "c_t = f·c_(t-1) + i·g carries the gradient back through time.",
                   4, "LSTM", (_FORGET,)),
        _recurrent("gru", "GRU",
                   "Gated recurrent unit (Cho et al. 2014): an update gate mixes h_(t-1) "
                   "into h_t, a shorter path for the gradient than the RNN's.",
                   3, "GRU"),
    ],
)
RECURRENT_KINDS = tuple(e.name for e in LAYER_KINDS if e.meta.get("recurrent"))

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
