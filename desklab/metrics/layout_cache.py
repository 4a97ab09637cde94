"""Values computed once per probe layout (a run's layout never changes).

The diagnostic rules run on every snapshot, with up to a few hundred layers; what
depends only on the layout (output sizes, which layers qualify for a rule) is
computed at its first use and kept, keyed by the layout object's identity: free,
where hashing hundreds of layer records on every call is not.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

_CACHE: dict[tuple[int, str], tuple[object, np.ndarray]] = {}
MAX_ENTRIES = 64


def per_layout(layout, what: str, compute: Callable[[object], np.ndarray]) -> np.ndarray:
    """``compute(layout)``, computed once per layout object and ``what``."""
    key = (id(layout), what)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not layout:
        if len(_CACHE) > MAX_ENTRIES:
            _CACHE.clear()
        hit = _CACHE[key] = (layout, compute(layout))  # holding it keeps the id unique
    return hit[1]
