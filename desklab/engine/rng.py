"""One lock for torch's global random generator.

Dropout and PyTorch's default inits draw from a process-wide generator. The
at-init preview (its own thread) saves, reseeds and restores that generator
while a run may be training in another thread; without a lock the two
interleave and a seeded run stops being reproducible. Every user of the global
generator holds this lock; `fork_rng` restores the exact state, so holders do
not disturb each other's streams.
"""

import threading

GLOBAL_RNG_LOCK = threading.RLock()
