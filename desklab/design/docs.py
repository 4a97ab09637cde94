"""Markdown reference of the catalog, generated from the registry itself.

``python -m desklab.design.docs > docs/catalog.md``; a test keeps the file current.
"""

from __future__ import annotations

from .catalog import (
    ACTIVATIONS, COMMON_PARAMS, DATASETS, INITS, LAYER_KINDS, NORMS, OPTIMIZERS, TRAIN_PARAMS,
)
from .schema import Param


def _param_line(p: Param) -> str:
    if p.kind == "choice":
        rng = " / ".join(p.choices)
    elif p.kind == "bool":
        rng = "true / false"
    elif p.kind == "text":
        rng = "text"
    else:
        rng = f"{p.low:g} .. {p.high:g}"
    return f"| `{p.name}` | {p.kind} | `{p.default}` | {rng} | {p.help} |"


def _params_table(params) -> list[str]:
    if not params:
        return ["(no settings)", ""]
    return ["| setting | type | default | range | meaning |", "|---|---|---|---|---|",
            *(_param_line(p) for p in params), ""]


def catalog_markdown() -> str:
    out = ["# DeskLab catalog", "",
           "Generated from `desklab/design/catalog/` by "
           "`python -m desklab.design.docs`; do not edit by hand.", ""]
    for registry in (LAYER_KINDS, ACTIVATIONS, INITS, NORMS, DATASETS, OPTIMIZERS):
        out += [f"## {registry.title.capitalize()}", ""]
        for entry in registry:
            extra = f" Formula: `{entry.meta['formula']}`." if "formula" in entry.meta else ""
            out += [f"### `{entry.name}`: {entry.label}", "", entry.help + extra, ""]
            if entry.params:
                out += _params_table(entry.params)
    out += ["## Per-layer fields (dense, conv2d; residual has activation and init)", ""]
    out += _params_table(COMMON_PARAMS)
    out += ["## Training settings (`train`)", ""]
    out += _params_table(TRAIN_PARAMS)
    return "\n".join(out)


if __name__ == "__main__":
    print(catalog_markdown())
