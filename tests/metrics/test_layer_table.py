"""The terminal's layer table (`desklab runs show`, `desklab train`): every column
starts where its heading does, whatever the layers are named."""

import numpy as np

from desklab.metrics import N_BINS, N_STATS, LayerMeta, ProbeLayout, Snapshot
from desklab.metrics.report import layer_table


def table(names):
    metas = tuple(LayerMeta(n, "dense", "relu", (6, 16), 1234, (0.0, 4.0), True)
                  for n in names)
    stats = np.full((len(names), N_STATS), 0.25)
    return layer_table(Snapshot(3, ProbeLayout(metas), stats,
                                np.zeros((len(names), N_BINS + 2)))).splitlines()


def test_columns_line_up_under_long_module_paths():
    """A watched transformer's names ("enc.layers.0.self_attn", 22 characters) pushed
    their rows' columns right of the headings (the name column was 14 wide)."""
    for names in (["fc1", "fc2"], ["enc.layers.0.self_attn", "enc.layers.0.norm1", "o"]):
        head, rule, *rows = table(names)
        assert len(rule) == len(head)
        shape_end = head.index("out shape") + len("out shape")
        for name, row in zip(names, rows):
            assert row.startswith(name + " ") and len(row) == len(head), (head, row)
            assert row[:shape_end].endswith("6x16"), (head, row)  # right-aligned under it
