"""DeskLab: design a network layer by layer and watch every layer train."""

__version__ = "0.1.0"


def watch(model, optimizer=None, every: int = 10, run=None, layers=None, ranks: str = "0",
          name=None, scaler=None, time_dim=None):
    """Watch a PyTorch training loop live: see `desklab.attach.watch` (torch is imported
    only when this is called, so ``import desklab`` stays light)."""
    from .attach import watch as start
    return start(model, optimizer, every, run, layers, ranks, name, scaler, time_dim)
