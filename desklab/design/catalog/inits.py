"""Weight init schemes: the formula of each one's standard deviation, for the docs and
the init experiment."""

from __future__ import annotations

import math

from ..schema import Entry, Param, Registry

def _fans(fan_in: int, fan_out: int, mode: str) -> int:
    return fan_in if mode == "fan_in" else fan_out


_MODE = Param("mode", "choice", "fan_in",
              "fan_in keeps forward activations' variance, fan_out the gradients'.",
              choices=("fan_in", "fan_out"))
_GAIN = Param("gain", "float", 1.0, "Multiplies the standard deviation.", 0.0, 100.0)

# Each init's meta holds "formula" (shown by the inspector), "short" (a card's name for
# it where the label is long), "std" (the expected weight std for a fan-in / fan-out,
# pure Python so the inspector can show it without torch) and "torch" (the
# torch.nn.init function or a DeskLab one).
INITS = Registry(
    "weight inits",
    [
        Entry("default", "PyTorch default",
              "What PyTorch does: kaiming_uniform with a = sqrt(5), i.e. "
              "U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases likewise.",
              (), {"short": "default init", "torch": None,
                   "formula": "W ~ U(±1/√fan_in)",
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
              (_GAIN,), {"short": "Xavier normal",
                         "torch": "xavier_normal_", "args": {"gain": "gain"},
                         "formula": "σ = gain·√(2 / (fan_in + fan_out))",
                         "std": lambda fi, fo, p: p["gain"] * math.sqrt(2.0 / (fi + fo))}),
        Entry("xavier_uniform", "Xavier / Glorot uniform", "Uniform version of Xavier.",
              (_GAIN,), {"short": "Xavier uniform",
                         "torch": "xavier_uniform_", "args": {"gain": "gain"},
                         "formula": "W ~ U(±gain·√(6 / (fan_in + fan_out)))",
                         "std": lambda fi, fo, p: p["gain"] * math.sqrt(2.0 / (fi + fo))}),
        Entry("he_normal", "He / Kaiming normal",
              "σ = √(2 / fan): the factor 2 compensates ReLU zeroing half its inputs.",
              (_MODE,), {"short": "He normal",
                         "torch": "kaiming_normal_", "args": {"mode": "mode"},
                         "formula": "σ = √(2 / fan)",
                         "std": lambda fi, fo, p: math.sqrt(2.0 / _fans(fi, fo, p["mode"]))}),
        Entry("he_uniform", "He / Kaiming uniform", "Uniform version of He.",
              (_MODE,), {"short": "He uniform",
                         "torch": "kaiming_uniform_", "args": {"mode": "mode"},
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
