"""The real image datasets: where their files live and what they hold (pure facts).

Folders, file names, mirrors and MD5 sums are torchvision's own (``torchvision.datasets``
MNIST, FashionMNIST, KMNIST, CIFAR10), so a data folder a user already filled with
torchvision works here unchanged, and one filled here works with torchvision.
Mean and std are the training split's per-channel statistics of pixels in [0, 1], as
published with each set (used only to describe it; training computes its own).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RealDataset:
    """One downloadable dataset in torchvision's layout under the data root."""

    name: str  # catalog name
    label: str
    folder: str  # relative to the data root, as torchvision lays it out
    files: tuple[tuple[str, str], ...]  # (file name, MD5) to download into ``folder``
    mirrors: tuple[str, ...]  # base URLs, tried in order
    shape: tuple[int, int, int]  # one image (C, H, W)
    train: int  # training images
    test: int  # test images (DeskLab's validation split)
    megabytes: int  # download size
    fmt: str  # "idx" (MNIST family) or "cifar" (CIFAR's python batches)
    flip_ok: bool  # a horizontal flip keeps the class (not for digits or characters)
    citation: str
    class_names: tuple[str, ...] = ()  # label i's name where it is not the digit i


_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx(md5s: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(zip(_IDX_FILES, md5s))


REAL_DATASETS = {d.name: d for d in (
    RealDataset("mnist", "MNIST", "MNIST/raw", _idx((
        "f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
        "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")),
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        (1, 28, 28), 60000, 10000, 12, "idx", False,
        "LeCun et al. 1998, handwritten digits"),
    RealDataset("fashion_mnist", "Fashion-MNIST", "FashionMNIST/raw", _idx((
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
        "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")),
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        (1, 28, 28), 60000, 10000, 30, "idx", True,
        "Xiao et al. 2017, Zalando clothing images",
        ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
         "sneaker", "bag", "ankle boot")),
    RealDataset("kmnist", "KMNIST", "KMNIST/raw", _idx((
        "bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
        "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134")),
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        (1, 28, 28), 60000, 10000, 20, "idx", False,
        "Clanuwat et al. 2018, cursive Japanese characters",
        ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),  # the hiragana, romanised
    RealDataset("cifar10", "CIFAR-10", "cifar-10-batches-py",
                (("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
                ("https://www.cs.toronto.edu/~kriz/",),
                (3, 32, 32), 50000, 10000, 163, "cifar", True,
                "Krizhevsky 2009, 32x32 colour photos",
                ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck")),
)}

# CIFAR-10's python batches inside its archive (torchvision checks the same MD5s).
CIFAR_BATCHES = (
    ("data_batch_1", "c99cafc152244af753f735de768cd75f"),
    ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
    ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
    ("data_batch_4", "634d18415352ddfa80567beed471001a"),
    ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
    ("test_batch", "40351d587109b95175f43aff81a1287e"),
)
