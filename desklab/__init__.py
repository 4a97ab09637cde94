"""DeskLab: design a network layer by layer and watch every layer train."""

__version__ = "0.1.0"
