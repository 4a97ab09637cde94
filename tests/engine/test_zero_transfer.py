"""The GPU path proven on the CPU: unprobed steps never bring data to the host.

Every way a tensor's value reaches Python (``item``, ``cpu``, ``tolist``, ``numpy``,
``__bool__``, ``__float__``, ``__int__``, ``__index__``) and ``torch.cuda.synchronize``
are wrapped for a whole run of ResNet-20 on (fake) CIFAR-10 with augmentation. Inside
a step's device work there must be none at all; after a step, one transfer when it was
probed, two at an evaluation (the step log, the metrics with the confusion counts),
none after any other step.
"""

import contextlib

import torch

from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from desklab.util.data_root import set_data_root
from fake_datasets import write_cifar

WATCHED = ("item", "cpu", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


def test_unprobed_steps_never_transfer(tmp_path, monkeypatch):
    write_cifar(tmp_path, per_batch=16)
    set_data_root(tmp_path)
    try:
        design = get_preset("resnet-20")
        design.train.steps, design.train.batch_size = 40, 8
        design.train.probe_every, design.train.eval_every = 5, 20
        trainer = Trainer(design, device="cpu")  # on a GPU: tests/engine/test_cuda.py
    finally:
        set_data_root(None)
    assert trainer.data.prep.augment
    calls: list[tuple[str, int, bool]] = []  # (what, trainer.step, inside a step's work)
    state = {"in_step": False}

    def watch(name, original):
        def wrapper(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            if name in ("numpy", "tolist") and getattr(self, "_brought_to_host", False):
                return result  # .cpu().numpy() is one transfer, counted at .cpu()
            if name == "cpu" and isinstance(result, torch.Tensor):
                result._brought_to_host = True
            calls.append((name, trainer.step, state["in_step"]))
            return result
        return wrapper

    for name in WATCHED:
        monkeypatch.setattr(torch.Tensor, name, watch(name, getattr(torch.Tensor, name)))
    # (a CUDA graph's capture synchronises once, at the second probe: outside any step)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a, **k: calls.append(
        ("synchronize", trainer.step, state["in_step"])))

    @contextlib.contextmanager
    def step_guard():
        state["in_step"] = True
        try:
            yield
        finally:
            state["in_step"] = False

    trainer.step_guard = step_guard
    kinds = [event.kind for event in trainer.events()]
    monkeypatch.undo()
    assert trainer.state == "finished" and kinds.count("snapshot") == 9  # and the last
    assert kinds.count("confusion") == 2  # ...riding the metrics' transfer (below)

    assert sum(c[0] == "synchronize" for c in calls) <= (trainer.device.type == "cuda")
    inside = [c for c in calls if c[2]]
    assert inside == [], f"host transfers inside a step's device work: {inside[:5]}"
    for done in range(1, 41):  # trainer.step after step done - 1 has run
        probed = (done - 1) % 5 == 0 or done == 40  # every 5th step and the last
        evaluated = done % 20 == 0
        got = [c[0] for c in calls if c[1] == done and c[0] != "synchronize"]
        # the per-step log rides with a probe, or crosses on its own before an
        # evaluation, whose metrics are the second transfer
        assert len(got) == (probed or evaluated) + evaluated, (done - 1, got)
    assert sum(c[1] % 5 != 1 and c[1] % 20 != 0 for c in calls
               if c[0] != "synchronize") == 0  # unprobed: none
