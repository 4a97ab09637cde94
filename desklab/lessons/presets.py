"""Preset experiments: a design, its training settings, and what it teaches.

Each preset has a stable slug (usable as ``--preset``) and builds a fresh
`NetworkDesign` every time it is asked for, so callers may edit the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..design import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig


@dataclass(frozen=True)
class Preset:
    """One preset experiment.

    Attributes
    ----------
    slug : str
        Stable name for ``--preset`` and the lessons browser.
    title : str
    summary : str
        One line for ``desklab presets``.
    look_for : str
        What to watch in the plots.
    expected : str
        The outcome a test checks.
    make : callable
        Returns a fresh design.
    pair : str or None
        The slug of the preset it is contrasted with.
    signs : tuple of str
        Finding kinds the lesson should show (``vanishing``, ``dead_relu``...): the
        Lesson panel ticks each off when a run's findings show it. Each is checked
        headless in tests/claims/test_lessons.py.
    """

    slug: str
    title: str
    summary: str
    look_for: str
    expected: str
    make: Callable[[], NetworkDesign]
    pair: str | None = None
    signs: tuple[str, ...] = ()

    def design(self) -> NetworkDesign:
        d = self.make()
        d.name = self.slug
        d.description = self.summary
        return d


def init_experiment(activation: str, init: str, init_params: dict | None = None,
                    depth: int = 10, width: int = 500) -> NetworkDesign:
    """The cs231n init experiment: ``depth`` x ``width`` dense layers on unit-gaussian
    500-d inputs with random labels; the probe's batch is all 1000 samples."""
    layers = [LayerSpec.make("dense", units=width, activation=activation, init=init,
                             init_params=dict(init_params or {}))
              for _ in range(depth)]
    return NetworkDesign(
        input=InputSpec("gaussian", {"samples": 1000, "dim": 500, "classes": 10},
                        val_fraction=0.0, preprocess="none"),
        layers=layers,
        output=OutputSpec("classes", 10),
        train=TrainConfig(optimizer="sgd", lr=1e-2, batch_size=1000, steps=200,
                          eval_every=20),
    )


def mlp(dataset: str, depth: int, width: int, activation: str, init: str,
        dataset_params: dict | None = None, **train) -> NetworkDesign:
    """A plain stack of equal dense layers on a 2-D toy set."""
    layers = [LayerSpec.make("dense", units=width, activation=activation, init=init)
              for _ in range(depth)]
    return NetworkDesign(input=InputSpec(dataset, dict(dataset_params or {})),
                         layers=layers, train=TrainConfig(**train))


def cnn_digits() -> NetworkDesign:
    """conv -> BN -> ReLU -> overlapping max-pool (3, stride 2) -> conv -> dense head."""
    conv = dict(activation="relu", init="he_normal", norm="batchnorm", bias=False)
    return NetworkDesign(
        input=InputSpec("digits", {}, val_fraction=0.2, preprocess="standardize"),
        layers=[
            LayerSpec.make("conv2d", filters=16, kernel=3, stride=1, padding=1, **conv),
            LayerSpec.make("maxpool", window=3, stride=2),  # 8x8 -> 3x3, windows overlap
            LayerSpec.make("conv2d", filters=32, kernel=3, stride=1, padding=1, **conv),
            LayerSpec.make("flatten"),
            LayerSpec.make("dense", units=64, activation="relu", init="he_normal",
                           dropout=0.3),
        ],
        train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, steps=600,
                          eval_every=50),
    )


_INIT_LOOK = ("Activation std per layer at init (the probe) and the histograms: "
              "they should neither collapse to 0 nor pile up at the bounds.")

PRESETS: dict[str, Preset] = {p.slug: p for p in [
    Preset("init-tanh-0.01", "Tanh, gaussian 0.01 init",
           "10 x 500 tanh, W ~ N(0, 0.01²): activations collapse toward 0 layer by layer.",
           _INIT_LOOK + " Here std falls by about 4x per layer; dL/dh vanishes toward the "
           "input while the weight gradients do not.",
           "act std shrinks ~4.5x per layer (0.01 * sqrt(500) = 0.22)",
           lambda: init_experiment("tanh", "gaussian", {"std": 0.01}), "init-tanh-1.0"),
    Preset("init-tanh-1.0", "Tanh, gaussian 1.0 init",
           "10 x 500 tanh, W ~ N(0, 1): every unit saturates at -1 or +1.",
           _INIT_LOOK + " Here the histograms pile at -1 and +1 and 90% of the units are "
           "saturated: their local slope is ~0. Yet the gradient grows about 3.5x per layer "
           "toward the input: the unsaturated units multiply it by weights far too large "
           "(std 1 over 500 inputs). Both findings hold at init: saturated and exploding.",
           "act std ~0.98 in every layer, most units saturated",
           lambda: init_experiment("tanh", "gaussian", {"std": 1.0}), "init-tanh-0.01"),
    Preset("init-tanh-xavier", "Tanh, Xavier init",
           "10 x 500 tanh, Xavier: activations stay spread through all 10 layers.",
           _INIT_LOOK + " Xavier keeps tanh healthy: std decays only slowly with depth.",
           "act std decays slowly and stays well above 0.1",
           lambda: init_experiment("tanh", "xavier_normal"), "init-relu-xavier"),
    Preset("init-relu-xavier", "ReLU, Xavier init",
           "10 x 500 ReLU, Xavier: ReLU halves the variance each layer, so it collapses.",
           _INIT_LOOK + " ReLU zeroes half its inputs, so under Xavier std halves (in "
           "variance) per layer.",
           "act std falls by ~sqrt(2) per layer",
           lambda: init_experiment("relu", "xavier_normal"), "init-relu-he"),
    Preset("init-relu-he", "ReLU, He init",
           "10 x 500 ReLU, He (sqrt(2 / fan_in)): the factor 2 keeps std steady.",
           _INIT_LOOK + " He's factor of 2 compensates exactly.",
           "act std roughly constant through depth",
           lambda: init_experiment("relu", "he_normal"), "init-relu-xavier"),
    Preset("deep-sigmoid", "Deep sigmoid net",
           "10 x 100 sigmoid on a spiral: gradients shrink toward the input (f' <= 1/4).",
           "Gradient flow: |dL/dh| and |dW| fall by orders of magnitude from the last "
           "layer to the first; the first layers barely move.",
           "weight-gradient norms shrink by orders of magnitude toward the input",
           lambda: mlp("spiral", 10, 100, "sigmoid", "xavier_normal", {"noise": 0.1},
                       optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128, steps=2000),
           "deep-relu"),
    Preset("deep-relu", "Deep ReLU net",
           "The same 10 x 100 net with ReLU and He init: gradients keep their size.",
           "Gradient flow stays roughly level through depth.",
           "gradient norms within an order of magnitude across layers",
           lambda: mlp("spiral", 10, 100, "relu", "he_normal", {"noise": 0.1},
                       optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128, steps=2000),
           "deep-sigmoid"),
    Preset("cnn-digits", "Small CNN on digits",
           "conv + BatchNorm + overlapping max-pool (3, stride 2) + dropout on 8x8 digits.",
           "Output shapes follow (W - F + 2P) / S + 1: 8x8 -> 8x8 -> 3x3; parameters "
           "F x F x C_in x C_out.",
           "reaches > 90% validation accuracy",
           cnn_digits),
    Preset("bench-mlp", "Benchmark MLP",
           "8 x 256 ReLU, He init on moons, batch 256, Adam 1e-3: the speed benchmark.",
           "Steps per second with probes off, every 10th step and every step.",
           "trains to > 95% accuracy",
           lambda: mlp("moons", 8, 256, "relu", "he_normal", {"samples": 5000, "noise": 0.2},
                       optimizer="adam", lr=1e-3, batch_size=256, steps=1000)),
    Preset("lr-too-high", "Learning rate too high",
           "SGD at lr 0.5: the loss explodes within a few dozen steps and the run diverges.",
           "The loss jumps instead of falling, weights and gradients grow, then NaN: the "
           "run stops with a 'diverged at step N' finding.",
           "diverges within a few hundred steps",
           lambda: mlp("moons", 4, 64, "relu", "he_normal", {"noise": 0.2},
                       optimizer="sgd", lr=0.5, momentum=0.5, batch_size=64, steps=500,
                       eval_every=10)),
]}


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(slug: str) -> NetworkDesign:
    """A fresh design for preset ``slug``; KeyError with the known slugs otherwise."""
    try:
        return PRESETS[slug].design()
    except KeyError:
        raise KeyError(f"unknown preset {slug!r}; try one of: {', '.join(PRESETS)}") from None
