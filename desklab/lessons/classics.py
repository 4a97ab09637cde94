"""The classic experiments as lessons: each pair differs in one idea.

Every preset's ``expected`` is checked headless by tests/claims/test_lessons.py with a
fixed seed; the settings here were calibrated on a 2-core CPU so the effect is
clear within a few hundred steps.
"""

from __future__ import annotations

from ..design import InputSpec, LayerSpec, NetworkDesign, TrainConfig
from .presets import Preset, mlp


def _dense(n: int, width: int, activation: str, init: str, **layer) -> list[LayerSpec]:
    return [LayerSpec.make("dense", units=width, activation=activation, init=init, **layer)
            for _ in range(n)]


def dying(activation: str) -> NetworkDesign:
    return mlp("moons", 6, 64, activation, "he_normal", {"noise": 0.2}, optimizer="adam",
               lr=0.05, batch_size=64, steps=400, eval_every=50)


def bad_init(norm: str) -> NetworkDesign:
    return NetworkDesign(
        input=InputSpec("spiral", {"noise": 0.1}),
        layers=_dense(8, 64, "tanh", "gaussian", init_params={"std": 0.01}, norm=norm),
        train=TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, batch_size=128, steps=600,
                          eval_every=100))


def deep(residual: bool) -> NetworkDesign:
    """30 tanh layers on the spiral; with skips, 14 blocks of two layers between two."""
    def layer(act="tanh"):
        return LayerSpec.make("dense", units=32, activation=act, init="xavier_normal")
    if residual:
        layers = [layer()] + [LayerSpec.make("residual", layers=[layer(), layer("identity")])
                              for _ in range(14)] + [layer()]
    else:
        layers = [layer() for _ in range(30)]
    return NetworkDesign(input=InputSpec("spiral", {"noise": 0.1}), layers=layers,
                         train=TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9,
                                           batch_size=128, steps=600, eval_every=100))


def overfit(dropout: float = 0.0, l2: float = 0.0) -> NetworkDesign:
    """60 noisy training examples, three 256-wide layers: plenty of room to memorise."""
    return NetworkDesign(
        input=InputSpec("moons", {"samples": 120, "noise": 0.35}, val_fraction=0.5),
        layers=_dense(3, 256, "relu", "he_normal", dropout=dropout),
        train=TrainConfig(optimizer="adam", lr=1e-3, l2=l2, batch_size=60, steps=1500,
                          eval_every=100))


def learning_rate(lr: float) -> NetworkDesign:
    return mlp("moons", 4, 64, "relu", "he_normal", {"noise": 0.2}, optimizer="sgd", lr=lr,
               momentum=0.9, batch_size=64, steps=300, eval_every=50)


def spiral(activation: str) -> NetworkDesign:
    init = "he_normal" if activation == "relu" else "xavier_normal"
    return mlp("spiral", 6, 64, activation, init, {"noise": 0.1}, optimizer="adam", lr=3e-3,
               batch_size=128, steps=600, eval_every=100)


def digits_mlp(activation: str) -> NetworkDesign:
    init = "he_normal" if activation == "relu" else "xavier_normal"
    return NetworkDesign(
        input=InputSpec("digits", {}, 0.2, "standardize"),
        layers=[LayerSpec.make("flatten")] + _dense(4, 64, activation, init),
        train=TrainConfig(optimizer="sgd", lr=0.01, momentum=0.0, batch_size=32, steps=600,
                          eval_every=10, probe_every=50))


def exploding(clip: float) -> NetworkDesign:
    return NetworkDesign(
        input=InputSpec("moons", {"noise": 0.2}),
        layers=_dense(8, 128, "relu", "gaussian", init_params={"std": 0.2}),
        train=TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, grad_clip=clip,
                          batch_size=64, steps=300, eval_every=50))


def zeros() -> NetworkDesign:
    design = mlp("spiral", 3, 32, "sigmoid", "zeros", {"noise": 0.1}, optimizer="sgd",
                 lr=0.5, momentum=0.9, batch_size=128, steps=300, eval_every=50)
    design.output.init = "zeros"  # a random head would break the symmetry from the top
    return design


CLASSICS = [
    Preset("init-zeros", "Zero init: symmetry never breaks",
           "3 x 32 sigmoid with all weights 0: every unit of a layer stays identical.",
           "The histograms are single spikes and the 'symmetric' finding appears: each unit "
           "gets the same gradient, so the layer never has more than one feature.",
           "all rows of every weight matrix stay equal; accuracy near chance",
           zeros, "init-tanh-xavier"),
    Preset("dying-relu", "Dying ReLU",
           "6 x 64 ReLU with Adam at lr 0.05: most units die (output 0 for every input).",
           "Dead units per layer climb, the 'dead_relu' finding appears; a dead unit has zero "
           "gradient and never recovers.",
           "more than half the hidden units dead at the end",
           lambda: dying("relu"), "leaky-relu-fix"),
    Preset("leaky-relu-fix", "Leaky ReLU keeps units alive",
           "The same net and learning rate with Leaky ReLU: no unit dies.",
           "Dead units stay at 0: the slope for x < 0 is small but never zero.",
           "no dead units", lambda: dying("leaky_relu"), "dying-relu"),
    Preset("bad-init-no-bn", "Bad init, no BatchNorm",
           "8 x 64 tanh with N(0, 0.01²) weights: activations collapse, nothing learns.",
           "Activation std falls layer by layer (collapsed), |dL/dh| vanishes toward the "
           "input, accuracy stays at chance.",
           "training accuracy near chance (1/3)", lambda: bad_init("none"), "bad-init-bn"),
    Preset("bad-init-bn", "Bad init rescued by BatchNorm",
           "The same bad init with BatchNorm before each tanh: it trains.",
           "BatchNorm re-spreads every layer's activations whatever the init; note that the "
           "network behaves differently in train and eval mode (batch vs running statistics).",
           "above 90% accuracy; train and eval outputs differ",
           lambda: bad_init("batchnorm"), "bad-init-no-bn"),
    Preset("deep-plain", "30 layers, no skips",
           "30 tanh layers on the spiral with SGD: the plain deep net stalls.",
           "Gradient flow shows |dL/dh| shrinking by orders of magnitude toward the input.",
           "stays below 60% accuracy", lambda: deep(False), "deep-residual"),
    Preset("deep-residual", "30 layers with skip connections",
           "The same depth as 14 residual blocks: the identity shortcuts carry the gradient.",
           "Gradient flow stays level through depth and the loss falls quickly.",
           "above 90% accuracy", lambda: deep(True), "deep-plain"),
    Preset("overfit-small", "Overfitting a small training set",
           "60 noisy examples, 3 x 256 ReLU: training accuracy reaches 100%, validation lags.",
           "The train / validation accuracy gap opens and the 'overfitting' finding appears.",
           "train accuracy 100%, a large train / validation gap",
           overfit, "overfit-small-dropout"),
    Preset("overfit-small-dropout", "Dropout closes the gap",
           "The same net with dropout 0.5 (train mode only).",
           "The gap between training and validation accuracy is smaller.",
           "smaller train / validation gap than overfit-small",
           lambda: overfit(dropout=0.5), "overfit-small"),
    Preset("overfit-small-l2", "L2 weight penalty closes the gap",
           "The same net with an L2 penalty of 0.03.",
           "Smaller weights, a smoother boundary, a smaller gap.",
           "smaller train / validation gap than overfit-small",
           lambda: overfit(l2=0.03), "overfit-small"),
    Preset("lr-too-low", "Learning rate too low",
           "SGD at lr 1e-4: the loss crawls.",
           "The loss only halves in 300 steps (lr-tuned's falls to a tenth); the update / "
           "weight ratio sits 20-50x below 1e-3, and the finding says the updates are too "
           "small for the whole run.",
           "loss still high after 300 steps", lambda: learning_rate(1e-4), "lr-tuned"),
    Preset("lr-tuned", "A tuned learning rate",
           "SGD at lr 0.05 with momentum: fast and stable.",
           "The loss falls quickly; update / weight ratios near 1e-3.",
           "loss far below lr-too-low's", lambda: learning_rate(0.05), "lr-too-low"),
    Preset("linear-spiral", "A deep linear net is one linear map",
           "6 x 64 layers with identity activations on the spiral.",
           "However deep, it only draws a straight boundary: it cannot fit the spiral.",
           "accuracy about 60% at best", lambda: spiral("identity"), "relu-spiral"),
    Preset("relu-spiral", "Nonlinearity fits the spiral",
           "The same net with ReLU.",
           "The decision boundary curls along the arms.",
           "above 95% accuracy", lambda: spiral("relu"), "linear-spiral"),
    Preset("sanity-overfit", "Babysitting: overfit a tiny subset first",
           "24 examples, a small net, Adam: before a long run, check it can memorise.",
           "Training accuracy reaches ~100% quickly; if it does not, something is broken.",
           "training accuracy ~100%",
           lambda: mlp("spiral", 3, 64, "relu", "he_normal", {"samples": 24, "noise": 0.3},
                       optimizer="adam", lr=1e-2, batch_size=19, steps=300, eval_every=50)),
    Preset("tanh-vs-relu", "Tanh on digits",
           "4 x 64 tanh MLP on digits with plain SGD: compare with relu-digits.",
           "Steps to reach 85% training accuracy: ReLU gets there first. Krizhevsky et al. "
           "2012 report six times fewer iterations to 25% training error for a 4-layer CNN "
           "on CIFAR-10 (see alexnet-relu-cifar); on these small digits the gap is smaller.",
           "slower to 85% training accuracy than relu-digits",
           lambda: digits_mlp("tanh"), "relu-digits"),
    Preset("relu-digits", "ReLU on digits",
           "The same MLP with ReLU.",
           "Reaches 85% training accuracy in fewer steps than tanh.",
           "faster to 85% training accuracy than tanh-vs-relu",
           lambda: digits_mlp("relu"), "tanh-vs-relu"),
    Preset("exploding", "Exploding gradients",
           "8 x 128 ReLU with N(0, 0.2²) weights and SGD: activations and gradients blow up.",
           "Gradient norms grow from the output toward the input, then the run diverges.",
           "diverges", lambda: exploding(0.0), "gradient-clipping-fix"),
    Preset("gradient-clipping-fix", "Gradient clipping",
           "The same net with the gradient norm clipped to 1.",
           "Updates stay bounded and the net trains.",
           "trains to above 90% accuracy", lambda: exploding(1.0), "exploding"),
]
