"""Findings keep their history: a start step, an end step once resolved, and one
episode (not a flicker of many) while a value hovers at a threshold."""

import json

from test_diagnostics import snapshot

from desklab.metrics import RunHistory
from desklab.metrics.history import RESUME_STEPS
from desklab.metrics.report import to_json

VANISHED = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4]  # fc1 gets 1e-4 of fc5's gradient
HEALTHY = [1e-3] * 5


def _run(grads_by_step):
    history = RunHistory()
    for step, grads in grads_by_step:
        history.add_snapshot(snapshot(step, activation="sigmoid", grad_mean_abs=grads))
        history.update_diagnosis()
    return history


def test_a_run_that_recovers_keeps_the_resolved_finding_with_its_span():
    history = _run([(s, VANISHED) for s in range(0, 660, 10)] +
                   [(s, HEALTHY) for s in range(660, 1500, 10)])
    (finding,) = [f for f in history.findings if f.kind == "vanishing"]
    assert (finding.step, finding.end, finding.layer) == (0, 660, "fc1")
    assert not finding.active and finding.span() == "steps 0 to 660, resolved"
    assert "fc1" in finding.message  # the heading's layer is the one the text names
    exported = json.loads(to_json({"findings": [f.as_dict() for f in history.findings]}))
    assert exported["findings"][0]["end"] == 660 and exported["findings"][0]["active"] is False


def test_still_active_findings_keep_their_first_step():
    history = _run([(s, VANISHED) for s in range(0, 300, 10)])
    (finding,) = history.findings
    assert (finding.step, finding.end) == (0, None) and finding.span().endswith("still active")


def test_what_happened_once_is_dated_not_still_active(capsys):
    """A divergence (the loop's own finding) happened at a step: the CLI says "at step
    N", where it said "since step N, still active" as of a rule's finding."""
    from desklab.cli import main
    assert main(["train", "--preset", "lr-too-high", "--quiet", "--no-record"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("[diverged, "))
    assert line.startswith("[diverged, at step ") and "still active" not in line, line


def test_flicker_at_a_threshold_is_one_episode_but_a_late_return_is_a_new_one():
    flicker = [(s, VANISHED if (s // 10) % 2 == 0 else HEALTHY) for s in range(0, 400, 10)]
    late = [(s, HEALTHY) for s in range(400, 400 + RESUME_STEPS + 100, 10)]
    again = [(s, VANISHED) for s in range(late[-1][0] + 10, late[-1][0] + 100, 10)]
    history = _run(flicker + late + again)
    spans = [(f.step, f.end) for f in history.findings if f.kind == "vanishing"]
    assert spans == [(again[0][0], None), (0, 390)]
