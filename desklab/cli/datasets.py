"""``desklab datasets``: every dataset a design can name, and whether it is here.

``desklab datasets --download NAME`` fetches a real one into the data folder.
"""

from __future__ import annotations

import argparse

from .common import CliError, fetch_dataset


def add_datasets_parser(sub, design_args) -> None:
    p = sub.add_parser("datasets", help="list the datasets (size, shape, classes, present)")
    p.add_argument("--data-root", metavar="DIR", help="the data folder to look in")
    p.add_argument("--download", metavar="NAME", help="download a real dataset now")
    p.set_defaults(func=cmd_datasets)


def cmd_datasets(args: argparse.Namespace) -> int:
    from ..design import DATASETS, NetworkDesign
    from ..engine.real_data import folder_of, missing_files
    from ..util.data_root import data_root, set_data_root
    if args.data_root:
        set_data_root(args.data_root)
    root = data_root()
    if args.download:
        entry = DATASETS.get(args.download)
        if entry is None or "real" not in entry.meta:
            real = [e.name for e in DATASETS if "real" in e.meta]
            raise CliError(f"{args.download!r} is not a downloadable dataset; try one of: "
                           f"{', '.join(real)}")
        design = NetworkDesign()
        design.input.dataset = entry.name
        fetch_dataset(design)
    rows = [("name", "examples", "shape", "classes", "here")]
    for entry in DATASETS:
        if entry.name == "file":
            continue
        p = entry.resolve({})
        real = entry.meta.get("real")
        shape = "x".join(map(str, entry.meta["shape"](p)))
        classes = entry.meta["classes"](p)
        if real is not None:
            size = f"{real.train:,} + {real.test:,} test"
            here = "yes" if not missing_files(real, root) else \
                f"no ({real.megabytes} MB download)"
        else:
            made = "bundled" if entry.meta.get("bundled") else "generated"
            size = f"{p['samples']:,}" + (" (generated)" if made == "generated" else "")
            here = f"yes ({made})"
        rows.append((entry.name, size, shape, "regression" if entry.meta["task"] ==
                     "regression" else str(classes), here))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"\ndata folder: {root}  (--data-root or DESKLAB_DATA to change)")
    for entry in DATASETS:
        real = entry.meta.get("real")
        if real is not None and not missing_files(real, root):
            print(f"  {real.label}: {folder_of(real, root)}")
    return 0
