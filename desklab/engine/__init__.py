"""torch, no Qt: build modules, init, datasets, probes, training, export."""

from .build import DeskNet, DesignInvalidError, ProbePoint, build
from .datasets import Dataset, make_dataset
from .device import DeviceError, available_devices, describe_device, resolve_device
from .optim import task_loss
from .probe import Prober
from .probe_reduce import reduce_activation
from .probe_init import probe_at_init

__all__ = [
    "Dataset", "DeskNet", "DesignInvalidError", "DeviceError", "ProbePoint", "Prober",
    "available_devices", "build", "describe_device", "make_dataset", "probe_at_init",
    "reduce_activation", "resolve_device", "task_loss",
]
