"""Experiments made of many runs: the hyperparameter search (each trial a recorded run)."""
