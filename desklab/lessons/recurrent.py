"""Recurrent nets: the gradient through time (Hochreiter 1991; Bengio, Simard & Frasconi
1994; Pascanu, Mikolov & Bengio 2013).

Each pair differs in one idea: the cell (a tanh RNN against an LSTM on the adding
problem), the clipping of an exploding RNN, the recurrent init. Their claims are checked
headless by tests/claims/test_recurrent_lessons.py with the fixed seeds below.
"""

from __future__ import annotations

from ..design import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig
from .presets import Preset


def sequence_net(kind: str, length: int, dataset: str = "adding", steps: int = 2000,
                 recurrent_init: str = "orthogonal", gain: float = 1.0, hidden: int = 64,
                 **train) -> NetworkDesign:
    """One recurrent layer returning h_T, then the head, on a generated sequence task
    (10 000 sequences, 10% held out, raw inputs). Adam at 1e-2 unless ``train`` says."""
    task = "regression" if dataset == "adding" else "classes"
    settings = dict(optimizer="adam", lr=1e-2, batch_size=64, steps=steps, probe_every=25,
                    eval_every=100)
    settings.update(train)
    return NetworkDesign(
        input=InputSpec(dataset, {"samples": 10000, "length": length}, val_fraction=0.1,
                        preprocess="none"),
        layers=[LayerSpec.make(kind, hidden=hidden, recurrent_init=recurrent_init,
                               recurrent_gain=gain)],
        output=OutputSpec(task),
        train=TrainConfig(**settings))


_ADDING = ("The adding problem: T steps of (value, marker); the target is the sum of the "
           "two marked values, one in each half. Predicting 1 always scores MSE 0.167.")
_LOOK_TIME = ("Gradient through time (bottom right): the heatmap's rows are training "
              "steps, its columns time steps; blue means the gradient reaching that step is "
              "decades below the one at the last step.")

RECURRENT = [
    Preset("rnn-adding", "Tanh RNN on the adding problem (T = 100)",
           f"{_ADDING} A tanh RNN's gradient fades on its way back through 100 steps.",
           f"{_LOOK_TIME} The RNN's left columns turn deep blue as it trains: the first "
           "marker's step gets almost no gradient, and validation MSE stays near 0.167.",
           "||dL/dh_1|| / ||dL/dh_T|| at least 3 decades below the LSTM's; loss near 0.167",
           lambda: sequence_net("rnn", 100, steps=2500), pair="lstm-adding"),
    Preset("lstm-adding", "LSTM on the adding problem (T = 100)",
           f"{_ADDING} The LSTM's cell can carry the gradient back through all 100 steps.",
           f"{_LOOK_TIME} At first the LSTM's gradient fades too (10^-9 at step 1): it has "
           "not found the markers yet. When it does (about step 1400) the left columns turn "
           "light within a few probes, the gradient at step 1 is 10^-1 of the last step's, "
           "and the validation MSE falls from 0.167 to about 0.001.",
           "solves the task (validation MSE < 0.05) and its gradient through time opens: "
           "at least 3 decades above the RNN's",
           lambda: sequence_net("lstm", 100, steps=2500), pair="rnn-adding"),
    Preset("rnn-exploding", "Exploding RNN (recurrent gain 2)",
           "A tanh RNN whose W_hh is 2 x orthogonal, trained by SGD: each step back doubles "
           "the gradient, so at the start it explodes through time (Pascanu et al. 2013).",
           f"{_LOOK_TIME} Red on the left at the start: the gradient at step 1 is about "
           "10^4 times the last step's. The huge updates throw the tanh units into "
           "saturation (Unit shares: nearly all saturated), and from there the gradient "
           "vanishes through time instead: the heatmap turns from red to deep blue.",
           "an exploding-through-time finding at the start; then over 90% of the units "
           "saturated and the gradient vanishing through time",
           lambda: sequence_net("rnn", 50, steps=600, gain=2.0, optimizer="sgd", lr=0.01,
                                momentum=0.9), pair="rnn-clipped"),
    Preset("rnn-clipped", "The same RNN with gradient clipping",
           "The exploding RNN with the gradient norm clipped at 1 (Pascanu et al. 2013): "
           "the direction of each step is kept, its length bounded.",
           "The same explosion at the start, but bounded steps shrink the recurrent "
           "weights gradually: the gradient at step 1 falls from 10^4 to about the last "
           "step's, and the units stay out of saturation.",
           "the ratio ends within 3 decades of 1 and under half of the units saturated",
           lambda: sequence_net("rnn", 50, steps=600, gain=2.0, optimizer="sgd", lr=0.01,
                                momentum=0.9, grad_clip=1.0), pair="rnn-exploding"),
    Preset("rnn-gaussian-init", "RNN with a Gaussian recurrent init",
           "W_hh ~ N(0, 1/hidden): spectral radius about 1, but its singular values spread "
           "from 0 to 2, so some directions shrink at every step back.",
           f"{_LOOK_TIME} Compare with the orthogonal init: within a few dozen steps the "
           "gradient at step 1 is 10^-12 of the last step's here, 10^-4 there.",
           "||dL/dh_1|| / ||dL/dh_T|| at least 3 decades below the orthogonal init's",
           lambda: sequence_net("rnn", 100, steps=600, recurrent_init="gaussian", lr=1e-3),
           pair="rnn-orthogonal-init"),
    Preset("rnn-orthogonal-init", "RNN with an orthogonal recurrent init",
           "W_hh orthogonal: every singular value is exactly 1, so a step back keeps the "
           "gradient's norm, apart from tanh's slope (Saxe et al. 2014).",
           f"{_LOOK_TIME} Lighter than the Gaussian init's: more gradient reaches the early "
           "steps.",
           "||dL/dh_1|| / ||dL/dh_T|| at least 3 decades above the Gaussian init's",
           lambda: sequence_net("rnn", 100, steps=600, lr=1e-3), pair="rnn-gaussian-init"),
]
