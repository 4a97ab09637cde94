"""Image batches prepared on the training device: scale, normalise, augment.

The whole training set sits on the device as uint8; each batch is sliced there and
turned into float32 here, so no DataLoader workers and no host copies are needed at
these sizes. Augmentation is the CIFAR standard (random crop after 4 pixels of zero
padding, horizontal flip), done for the whole batch at once with a seeded generator
on the device. Nothing here reads a value back to the host.
"""

from __future__ import annotations

import numpy as np
import torch

PAD = 4  # pixels of zero padding before the random crop (He et al. 2016 on CIFAR-10)


def channel_stats(x: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) of uint8 images (N, C, H, W) scaled to [0, 1].

    ``mode`` is the design's preprocess: none (0, 1), center (mean, 1) or standardize.
    Accumulated in float64 over chunks: CIFAR-10 as float would be 600 MB.
    """
    channels = x.shape[1]
    mean, std = np.zeros(channels), np.ones(channels)
    if mode == "none" or len(x) == 0:
        return mean.astype(np.float32), std.astype(np.float32)
    total, square, count = np.zeros(channels), np.zeros(channels), 0
    for start in range(0, len(x), 4096):
        chunk = x[start:start + 4096].astype(np.float64) / 255.0  # (n, C, H, W)
        total += chunk.sum((0, 2, 3))
        square += np.square(chunk).sum((0, 2, 3))
        count += chunk.shape[0] * chunk.shape[2] * chunk.shape[3]
    mean = total / count
    if mode == "standardize":
        std = np.sqrt(np.maximum(square / count - mean**2, 0.0))
        std = np.where(std < 1e-6, 1.0, std)  # a constant channel stays 0, never inf
    return mean.astype(np.float32), std.astype(np.float32)


class ImagePrep:
    """Turns uint8 batches (B, C, H, W) into normalised float32 batches on the device."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, augment: bool, flip: bool):
        self.mean = torch.as_tensor(mean).view(1, -1, 1, 1)  # (1, C, 1, 1)
        self.std = torch.as_tensor(std).view(1, -1, 1, 1)
        self.augment, self.flip = augment, flip
        self._gen: torch.Generator | None = None

    def start(self, device: torch.device, seed: int) -> None:
        """Move the statistics to ``device`` and seed this run's augmentation stream."""
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        self._gen = torch.Generator(device=device).manual_seed(seed)

    def for_eval(self, x: torch.Tensor) -> torch.Tensor:
        """Scale and normalise (validation, probes at init)."""
        x = x.to(self.mean.device, non_blocking=True)
        return (x.float() / 255.0 - self.mean) / self.std

    def for_train(self, x: torch.Tensor) -> torch.Tensor:
        """Scale, augment (when on) and normalise a training batch."""
        x = x.float() / 255.0
        if self.augment:
            x = self._crop(x)
            if self.flip:
                flip = torch.rand(x.shape[0], device=x.device, generator=self._gen) < 0.5
                x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
        return (x - self.mean) / self.std

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        padded = torch.nn.functional.pad(x, (PAD, PAD, PAD, PAD))  # (B, C, H+8, W+8)
        dy = torch.randint(0, 2 * PAD + 1, (b,), device=x.device, generator=self._gen)
        dx = torch.randint(0, 2 * PAD + 1, (b,), device=x.device, generator=self._gen)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (B,1,H,1)
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (B,1,1,W)
        batch = torch.arange(b, device=x.device)[:, None, None, None]
        chans = torch.arange(c, device=x.device)[None, :, None, None]
        return padded[batch, chans, rows, cols]  # (B, C, H, W)
