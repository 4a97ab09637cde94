"""Optimizers, learning-rate schedules and the training settings' schemas."""

from __future__ import annotations

from ..schema import Entry, Param, Registry

OPTIMIZERS = Registry(
    "optimizers",
    [
        Entry("sgd", "SGD", "Plain stochastic gradient descent, optional (Nesterov) momentum."),
        Entry("adam", "Adam", "Adaptive moments; robust default."),
        Entry("adamw", "AdamW", "Adam with decoupled weight decay (uses the L2 setting)."),
        Entry("rmsprop", "RMSprop", "Scales steps by a running average of squared gradients."),
    ],
)
SCHEDULES = ("constant", "step", "cosine")

# Schema of TrainConfig, field by field (TrainConfig's defaults are read from here).
TRAIN_PARAMS = (
    Param("optimizer", "choice", "adam", "Optimizer.", choices=OPTIMIZERS.names()),
    Param("lr", "float", 1e-3, "Learning rate.", 1e-7, 10.0, log_scale=True),
    Param("momentum", "float", 0.9, "Momentum (SGD) or smoothing (RMSprop).", 0.0, 0.999),
    Param("nesterov", "bool", False, "Nesterov momentum (SGD)."),
    Param("batch_size", "int", 128, "Examples per step.", 1, 65536),
    Param("steps", "int", 1000, "Training steps.", 1, 10_000_000),
    Param("l1", "float", 0.0, "L1 weight penalty (sum |W|).", 0.0, 10.0),
    Param("l2", "float", 0.0, "L2 weight penalty (sum W²).", 0.0, 10.0),
    Param("grad_clip", "float", 0.0, "Clip the global gradient norm to this; 0 = off.",
          0.0, 1e6),
    Param("schedule", "choice", "constant", "Learning-rate schedule.", choices=SCHEDULES),
    Param("early_stopping", "int", 0,
          "Stop after this many evaluations without a better validation loss; 0 = off.",
          0, 10000),
    Param("probe_every", "int", 10, "Probe the layers every K steps and at the last; 0 = off.",
          0, 100000),
    Param("eval_every", "int", 50, "Measure train / validation metrics every N steps.",
          1, 100000),
    Param("seed", "int", 0, "Random seed (data split, init, batches).", 0, 2**31 - 1),
    Param("device", "choice", "auto", "auto picks cuda, then mps, then cpu.",
          choices=("auto", "cpu", "cuda", "mps")),
    Param("precision", "choice", "fp32", "fp32, or bf16 autocast for the training forward "
          "pass (faster on recent GPUs); probes and evaluation still measure in float32.",
          choices=("fp32", "bf16")),
    Param("channels_last", "bool", False, "Conv nets in NHWC memory layout (faster "
          "convolutions on GPUs with tensor cores); the numbers are the same."),
    Param("cuda_graphs", "bool", False, "On a CUDA GPU, replay each step (a probed one "
          "with its probe) from a recorded CUDA graph: one launch instead of one per "
          "operation (small nets train faster); the numbers are the eager run's."),
)
