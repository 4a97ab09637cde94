"""Watch any PyTorch training: `watch` hooks a user's own model and optimizer."""

from .watch import Watcher, watch

__all__ = ["Watcher", "watch"]
