"""Lessons at real size: MNIST and CIFAR-10, the classic CNNs and what the papers measured.

Each preset names the literature figure it reproduces. The data is downloaded once into
the data folder (``desklab datasets``); the times below were measured on one H200
(``bench/bench_lessons.py``: random data of the real size, probes as shipped). The
test suite runs every one of them for a few steps on small fake files in the real
formats, so each is proven to build, train and probe without a download.
"""

from __future__ import annotations

from ..design import InputSpec, LayerSpec, NetworkDesign, TrainConfig
from .presets import Preset

_CONV = dict(activation="relu", init="he_normal", norm="batchnorm", bias=False)


def lenet5() -> NetworkDesign:
    """LeNet-5 (LeCun et al. 1998): C1 6@5x5 (padded to keep 28x28), S2 2x2 average pool,
    C3 16@5x5, S4 pool, C5 120, F6 84, tanh throughout."""
    tanh = dict(activation="tanh", init="xavier_normal")
    return NetworkDesign(
        input=InputSpec("mnist", {}, preprocess="standardize"),
        layers=[LayerSpec.make("conv2d", filters=6, kernel=5, padding=2, **tanh),
                LayerSpec.make("avgpool", window=2, stride=2),  # 28 -> 14
                LayerSpec.make("conv2d", filters=16, kernel=5, padding=0, **tanh),  # -> 10
                LayerSpec.make("avgpool", window=2, stride=2),  # -> 5
                LayerSpec.make("flatten"),
                LayerSpec.make("dense", units=120, **tanh),
                LayerSpec.make("dense", units=84, **tanh)],
        train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, steps=5000,
                          eval_every=250))


def mnist_mlp(activation: str) -> NetworkDesign:
    init = "he_normal" if activation == "relu" else "xavier_normal"
    return NetworkDesign(
        input=InputSpec("mnist", {}, preprocess="standardize"),
        layers=[LayerSpec.make("flatten")] + [
            LayerSpec.make("dense", units=256, activation=activation, init=init)
            for _ in range(6)],
        train=TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, batch_size=128,
                          steps=3000, eval_every=200))


def small_cnn(activation: str, augment: bool = False, steps: int = 6000) -> NetworkDesign:
    """A 4-layer CNN in the spirit of Krizhevsky et al. 2012, Fig. 1 (CIFAR-10)."""
    act = dict(activation=activation,
               init="he_normal" if activation == "relu" else "xavier_normal")
    return NetworkDesign(
        input=InputSpec("cifar10", {"augment": augment}, preprocess="standardize"),
        layers=[LayerSpec.make("conv2d", filters=32, kernel=5, padding=2, **act),
                LayerSpec.make("maxpool", window=3, stride=2),  # 32 -> 15
                LayerSpec.make("conv2d", filters=64, kernel=5, padding=2, **act),
                LayerSpec.make("maxpool", window=3, stride=2),  # -> 7
                LayerSpec.make("conv2d", filters=64, kernel=3, padding=1, **act),
                LayerSpec.make("flatten"),
                LayerSpec.make("dense", units=128, **act)],
        train=TrainConfig(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128,
                          steps=steps, eval_every=250))


def vgg_cifar() -> NetworkDesign:
    """VGG-style (Simonyan & Zisserman 2015): 3x3 convs in pairs, BN, 2x2 max-pools."""
    layers = []
    for filters in (64, 128, 256):
        layers += [LayerSpec.make("conv2d", filters=filters, kernel=3, padding=1, **_CONV),
                   LayerSpec.make("conv2d", filters=filters, kernel=3, padding=1, **_CONV),
                   LayerSpec.make("maxpool", window=2, stride=2)]
    layers += [LayerSpec.make("flatten"),
               LayerSpec.make("dense", units=256, activation="relu", init="he_normal",
                              dropout=0.5)]
    return NetworkDesign(
        input=InputSpec("cifar10", {"augment": True}, preprocess="standardize"),
        layers=layers,
        train=TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, l2=2.5e-4,
                          batch_size=128, steps=20000, schedule="cosine", eval_every=500))


def cifar_resnet(n: int, skips: bool) -> NetworkDesign:
    """He et al. 2016, section 4.2: a 3x3 conv with 16 filters, then 3 stages of n blocks
    of two 3x3 convs (16, 32, 64 filters; the first conv of stages 2 and 3 has stride 2),
    global average pooling, the 10-way head: 6n + 2 weighted layers. With ``skips`` every
    block is a residual block (1x1 projection where the shape changes, the paper's
    option B); without, the same convs are a plain stack."""
    layers = [LayerSpec.make("conv2d", filters=16, kernel=3, padding=1, **_CONV)]
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(n):
            stride = 2 if stage > 0 and block == 0 else 1
            pair = [LayerSpec.make("conv2d", filters=filters, kernel=3, stride=stride,
                                   padding=1, **_CONV),
                    LayerSpec.make("conv2d", filters=filters, kernel=3, padding=1,
                                   **{**_CONV, "activation": "identity" if skips else "relu"})]
            layers += [LayerSpec.make("residual", activation="relu", init="he_normal",
                                      layers=pair)] if skips else pair
    layers += [LayerSpec.make("avgpool", window=8, stride=8), LayerSpec.make("flatten")]
    # the paper: SGD 0.1, momentum 0.9, weight decay 1e-4 (= L2 5e-5 on sum W²), batch
    # 128, 64k iterations with the rate cut 10x at 32k and 48k (cosine here), crop + flip
    return NetworkDesign(
        input=InputSpec("cifar10", {"augment": True}, preprocess="standardize"),
        layers=layers,
        train=TrainConfig(optimizer="sgd", lr=0.1, momentum=0.9, l2=5e-5, batch_size=128,
                          steps=64000, schedule="cosine", eval_every=1000, probe_every=50))


_GPU = "On an H200 (measured)"

REAL_SIZE = [
    Preset("lenet-mnist", "LeNet-5 on MNIST",
           "LeCun et al. 1998: LeNet-5 (tanh, average pooling) on the 60,000 MNIST digits.",
           "The paper reports 0.95% test error (99.05% accuracy). Watch the conv layers' "
           "histograms stay inside tanh's range while validation accuracy passes 98%. "
           f"{_GPU}: 12-17 s for 5,000 steps.",
           "above 98.5% validation accuracy after 5,000 steps", lenet5),
    Preset("mnist-sigmoid-mlp", "Sigmoid MLP on MNIST",
           "6 x 256 sigmoid MLP on MNIST with SGD: compare with mnist-relu-mlp.",
           "Glorot & Bengio 2010: deep sigmoid nets train slowly because the top layers "
           "saturate and f' <= 1/4 shrinks dL/dh layer by layer. Gradient flow falls toward "
           f"the input; accuracy lags the ReLU net for hundreds of steps. {_GPU}: about 8 s.",
           "gradient norms fall toward the input; slower than mnist-relu-mlp",
           lambda: mnist_mlp("sigmoid"), "mnist-relu-mlp"),
    Preset("mnist-relu-mlp", "ReLU MLP on MNIST",
           "The same 6 x 256 MLP with ReLU and He init.",
           "Gradient flow stays level through depth; above 97% validation accuracy.",
           "above 97% validation accuracy after 3,000 steps",
           lambda: mnist_mlp("relu"), "mnist-sigmoid-mlp"),
    Preset("alexnet-relu-cifar", "ReLU vs tanh on CIFAR-10 (ReLU)",
           "Krizhevsky et al. 2012, Fig. 1: a 4-layer CNN with ReLU on CIFAR-10.",
           "The paper: ReLUs reach 25% training error six times faster than tanh units. "
           "Compare the steps to 75% training accuracy with alexnet-tanh-cifar. "
           f"{_GPU}: 16-22 s each.",
           "reaches 75% training accuracy in several times fewer steps than tanh",
           lambda: small_cnn("relu"), "alexnet-tanh-cifar"),
    Preset("alexnet-tanh-cifar", "ReLU vs tanh on CIFAR-10 (tanh)",
           "The same 4-layer CNN with tanh units.",
           "Slower to 75% training accuracy: the saturating units learn slowly.",
           "reaches 75% training accuracy several times later than ReLU",
           lambda: small_cnn("tanh"), "alexnet-relu-cifar"),
    Preset("cifar-no-augment", "CIFAR-10 without augmentation",
           "The 4-layer ReLU CNN trained long on the raw images: it overfits.",
           "Training accuracy runs ahead of validation; the 'overfitting' finding appears. "
           "Compare the gap with cifar-augment.",
           "a train / validation gap above 15 points",
           lambda: small_cnn("relu", False, 15000), "cifar-augment"),
    Preset("cifar-augment", "CIFAR-10 with augmentation",
           "The same CNN with random crops (4-pixel padding) and horizontal flips.",
           "Augmentation (Krizhevsky 2012; He 2016) narrows the gap: validation accuracy "
           f"keeps rising while training accuracy slows. {_GPU}: about a minute.",
           "a smaller train / validation gap than cifar-no-augment",
           lambda: small_cnn("relu", True, 15000), "cifar-no-augment"),
    Preset("vgg-cifar", "VGG-style CNN on CIFAR-10",
           "Six 3x3 conv layers in pairs with BatchNorm and max-pools, augmentation.",
           "Stacked 3x3 convs see 5x5 and 7x7 (Simonyan & Zisserman 2015); with BatchNorm "
           f"and augmentation such nets pass 88% on CIFAR-10. {_GPU}: about 2 minutes.",
           "above 85% validation accuracy after 20,000 steps", vgg_cifar),
    Preset("plain-20", "Plain-20 on CIFAR-10",
           "He et al. 2016: 19 conv layers without shortcuts (6n + 2, n = 3).",
           "The baseline for plain-56: a plain net this deep still trains well.",
           "lower training error than plain-56", lambda: cifar_resnet(3, False), "plain-56"),
    Preset("plain-56", "Plain-56 on CIFAR-10",
           "The same plain net, 55 conv layers deep.",
           "He et al. 2016, Fig. 1 and 6: plain-56 has HIGHER training error than plain-20 "
           "(degradation, not overfitting). Gradient flow and the loss show why. "
           f"{_GPU}: about 25 minutes.",
           "higher training error than plain-20", lambda: cifar_resnet(9, False), "resnet-56"),
    Preset("resnet-20", "ResNet-20 on CIFAR-10",
           "He et al. 2016: plain-20 with identity shortcuts around every pair of convs.",
           "The paper reports 8.75% test error. Shortcuts keep gradient flow level. "
           f"{_GPU}: about 11 minutes for 64k steps.",
           "about 91% validation accuracy after 64k steps", lambda: cifar_resnet(3, True),
           "plain-20"),
    Preset("resnet-56", "ResNet-56 on CIFAR-10",
           "The 56-layer net with shortcuts.",
           "He et al. 2016: 6.97% test error; with shortcuts deeper is better again, where "
           f"plain-56 was worse than plain-20. {_GPU}: about 30 minutes.",
           "lower training error than plain-56", lambda: cifar_resnet(9, True), "plain-56"),
]
