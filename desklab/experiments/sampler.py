"""Random search whose draws belong to the trial, not to the process that runs it.

Optuna's `RandomSampler(seed)` draws from one generator per process: two processes
(or machines) joining one study with the same seed draw the same settings, trial for
trial, and the study holds each setting twice. Here trial N's value for a setting is
drawn from a generator seeded by (seed, N, the setting's name): the storage hands out
each trial number once, so every process draws different settings, and a search run
again with the same seed draws the same ones.
"""

from __future__ import annotations

import zlib

import numpy as np
import optuna


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """Independent uniform draws (log-uniform on a log scale), seeded per trial."""

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def infer_relative_search_space(self, study, trial) -> dict:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict:
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        entropy = [self.seed & 0xFFFFFFFF, trial.number, zlib.crc32(param_name.encode())]
        seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
        return optuna.samplers.RandomSampler(seed=seed).sample_independent(
            study, trial, param_name, param_distribution)
