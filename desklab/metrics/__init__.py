"""What a run measures: snapshots, history, diagnostics, reports. numpy only."""

from .diagnostics import diagnose
from .history import METRIC_FIELDS, DecimatingSeries, RunHistory
from .records import Confusion, Finding, Metrics
from .snapshot import N_BINS, N_STATS, STAT_INDEX, STATS, LayerMeta, ProbeLayout, Snapshot

__all__ = ["METRIC_FIELDS", "N_BINS", "N_STATS", "STAT_INDEX", "STATS", "Confusion",
           "DecimatingSeries", "Finding", "LayerMeta", "Metrics", "ProbeLayout", "RunHistory",
           "Snapshot", "diagnose"]
