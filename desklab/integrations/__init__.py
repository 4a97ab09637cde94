"""DeskLab inside other training frameworks (optional extras)."""
