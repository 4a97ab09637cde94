"""A run is checked against the memory free on this machine before anything is
allocated: too big is one clear line with the numbers, in the CLI and the app."""

import pytest
import torch

from desklab.cli import main
from desklab.engine import resources
from desklab.engine.resources import DoesNotFitError, check_fits, estimate_bytes
from desklab.lessons import get_preset


def test_estimate_counts_data_parameters_and_activations():
    design = get_preset("bench-mlp")  # moons 5000 x 2, 8 x 256, batch 256
    need = estimate_bytes(design)
    assert need["data"] == 5000 * 2 * 4
    params = 2 * 256 + 256 + 7 * (256 * 256 + 256) + 256 * 2 + 2
    assert need["parameters"] == params * 16
    assert need["activations"] == 256 * (8 * 256 + 2) * 4 * 6


def test_too_big_for_the_free_memory_is_refused_with_numbers():
    design = get_preset("bench-mlp")
    with pytest.raises(DoesNotFitError, match=r"needs about 0\.\d GiB .* only 0\.0 GiB of RAM"):
        check_fits(design, torch.device("cpu"), free=4 * 2**20)
    check_fits(design, torch.device("cpu"), free=64 * 2**30)  # fits: no error


def test_cli_and_app_refuse_before_allocating(monkeypatch, capsys, window, qtbot):
    monkeypatch.setattr(resources, "free_bytes", lambda device: 2**20)
    assert main(["train", "--preset", "bench-mlp", "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("desklab: this run needs about") and err.count("\n") == 1
    # the app's trainer process checks too (told by the test-only fault hook that 1 MiB
    # is free)
    monkeypatch.setenv("DESKLAB_TRAINER_FAULT", f"free={2**20}")
    window.training.start(get_preset("bench-mlp"))
    qtbot.waitUntil(lambda: window.training.controller.state == "failed", timeout=10000)
    texts = [f.message for f in window.training.controller.history.findings]
    assert any("this run needs about" in t for t in texts)
