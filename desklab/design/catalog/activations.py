"""Activations: each entry carries everything the rest of DeskLab needs (module,
histogram range, bounds, dead region, slope bound), so adding one is one entry."""

from __future__ import annotations

from ..schema import Entry, Param, Registry

_SLOPE = Param("slope", "float", 0.01, "Slope for negative inputs.", 0.0, 1.0)

ACTIVATIONS = Registry(
    "activations",
    [
        # short: a card's name for it where the label is long;
        # torch: the nn class (or one in engine/activations.py); args: setting -> keyword;
        # hist: fixed histogram range; bounds: saturation bounds (None: cannot saturate);
        # dead_zero: outputs exactly 0 over a whole region, so units can die;
        # max_slope: the largest |f'(x)| when below 1 (each layer shrinks the gradient).
        # Diagnostics, plots, the builder, the exporter and the docs read only these.
        Entry("identity", "Identity (linear)",
              "f(x) = x. A stack of linear layers is still one linear map.",
              (), {"short": "Linear", "torch": "Identity", "hist": (-4.0, 4.0),
                   "bounds": None}),
        Entry("step", "Binary step",
              "f(x) = 1 if x > 0 else 0. Its gradient is zero everywhere: nothing learns "
              "through it.",
              (), {"short": "Step", "torch": "BinaryStep", "hist": (-0.25, 1.25),
                   "bounds": None, "dead_zero": True}),
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
              (), {"short": "SiLU", "torch": "SiLU", "hist": (-1.0, 4.0), "bounds": None}),
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


def saturating_activations() -> tuple[str, ...]:
    """Activations with output bounds: the ones that can saturate."""
    return tuple(e.name for e in ACTIVATIONS if e.meta.get("bounds") is not None)


def dying_activations() -> tuple[str, ...]:
    """Activations whose output is exactly 0 over a region: units can die."""
    return tuple(e.name for e in ACTIVATIONS if e.meta.get("dead_zero"))
