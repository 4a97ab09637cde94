"""The loss-landscape pair: the same deep net with and without skip connections.

Li et al. 2018 ("Visualizing the Loss Landscape of Neural Nets", Fig. 5) show that
without skip connections a deep network's loss surface turns chaotic, full of small
local minima, while the residual version stays smooth and nearly convex around its
minimum. ``desklab landscape --preset landscape-plain`` measures it.
"""

from __future__ import annotations

from ..design import InputSpec, LayerSpec, NetworkDesign, TrainConfig
from .presets import Preset

DEPTH = 40


def deep_relu(residual: bool) -> NetworkDesign:
    """40 ReLU layers of 32 units with He init and BatchNorm on the spiral; with skips,
    19 residual blocks of two layers between a first and a last layer."""
    def layer(activation="relu"):
        return LayerSpec.make("dense", units=32, activation=activation, init="he_normal",
                              norm="batchnorm")
    if residual:
        layers = [layer()] + [LayerSpec.make("residual", activation="relu",
                                             layers=[layer(), layer("identity")])
                              for _ in range((DEPTH - 2) // 2)] + [layer()]
    else:
        layers = [layer() for _ in range(DEPTH)]
    return NetworkDesign(input=InputSpec("spiral", {"noise": 0.1, "samples": 2000}),
                         layers=layers,
                         train=TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9,
                                           batch_size=128, steps=600, eval_every=100))


_LOOK = ("Run `desklab landscape --preset {slug}`: the surface over two filter-normalised "
         "random directions (21 x 21), its share of local minima and its roughness.")

LANDSCAPE = [
    Preset("landscape-plain", "Loss landscape without skips",
           "40 ReLU + BatchNorm layers, no skip connections: a chaotic loss surface.",
           _LOOK.format(slug="landscape-plain") + " Li et al. 2018 (Fig. 5): without "
           "shortcuts the surface of a deep net is full of small pits and ridges.",
           "more local minima and a rougher surface than landscape-residual",
           lambda: deep_relu(False), "landscape-residual"),
    Preset("landscape-residual", "Loss landscape with skips",
           "The same 40 layers as 19 residual blocks: a smooth, nearly convex bowl.",
           _LOOK.format(slug="landscape-residual") + " With shortcuts the surface around "
           "the minimum is smooth (Li et al. 2018).",
           "fewer local minima and a smoother surface than landscape-plain",
           lambda: deep_relu(True), "landscape-plain"),
]
