"""What a run measures: snapshots, history, diagnostics, reports. numpy only."""

from .snapshot import N_BINS, N_STATS, STAT_INDEX, STATS, LayerMeta, ProbeLayout, Snapshot

__all__ = ["N_BINS", "N_STATS", "STAT_INDEX", "STATS", "LayerMeta", "ProbeLayout", "Snapshot"]
