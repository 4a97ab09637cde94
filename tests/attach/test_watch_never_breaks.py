"""desklab.watch never breaks the user's training (issue 26): a second run of the
README's example, a folder it cannot write, an empty batch, log() after close() each
let the loop finish; arguments that cannot work are refused at watch()."""

import math
import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

import desklab
from desklab.runs import RunReader

ROOT = Path(__file__).resolve().parents[2]


def model_and_optimizer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def train(watcher, model, optimizer, steps=12, batch=lambda i: 16):
    """The user's loop; returns the steps it finished."""
    done = 0
    for i in range(steps):
        n = batch(i)
        x, y = torch.randn(n, 4), torch.randint(0, 3, (n,))
        out = model(x)
        loss = nn.functional.cross_entropy(out, y) if n else out.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watcher.log(loss=loss)
        done += 1
    return done


def example(*args, env):
    done = subprocess.run([sys.executable, "examples/watch_plain.py", *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_the_readme_example_twice_in_a_row(tmp_path, monkeypatch):
    """The README's example twice with a path (the second run goes beside the first),
    and twice with a bare name (both in the run store, where `desklab runs show NAME`
    finds them)."""
    env = {**os.environ, "DESKLAB_RUNS": str(tmp_path / "store")}
    for _ in range(2):
        example("--run", str(tmp_path / "runs" / "my-run"), "--steps", "30", env=env)
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path / "store"))
    for _ in range(2):  # the same loop in this process (a process start costs seconds)
        model, optimizer = model_and_optimizer()
        with desklab.watch(model, optimizer, every=10, run="my-run") as watcher:
            train(watcher, model, optimizer, steps=30)
    beside = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert beside == ["my-run-2.desklab-run", "my-run.desklab-run"], beside
    stored = sorted((tmp_path / "store").glob("*my-run*.desklab-run"))
    assert len(stored) == 2, stored
    for path in [*stored, *(tmp_path / "runs").iterdir()]:
        reader = RunReader(path)
        assert reader.meta["status"] == "finished" and reader.last_step() == 29
        reader.close()
    shown = subprocess.run([sys.executable, "-m", "desklab", "runs", "show", "my-run"],
                           capture_output=True, text=True, timeout=60, env=env)
    assert shown.returncode == 0 and "finished, 30 steps" in shown.stdout, shown


def test_a_folder_it_cannot_write_lets_the_loop_finish(tmp_path):
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        run = folder / "r"
    else:  # root writes through permission bits: a file system nobody can write
        run = Path("/proc/desklab-test/r")
    model, optimizer = model_and_optimizer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watcher = desklab.watch(model, optimizer, every=2, run=run)
        assert train(watcher, model, optimizer) == 12
        watcher.close()
    ours = [w for w in caught if "desklab.watch stopped recording" in str(w.message)]
    assert len(ours) == 1 and issubclass(ours[0].category, RuntimeWarning), \
        [str(w.message) for w in caught]
    assert "goes on unwatched" in str(ours[0].message)


def test_an_empty_batch_is_skipped_and_the_next_step_probed(tmp_path):
    model, optimizer = model_and_optimizer()
    watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about either
        assert train(watcher, model, optimizer, steps=9,
                     batch=lambda i: 0 if i == 4 else 16) == 9
        watcher.close()
    reader = RunReader(tmp_path / "r.desklab-run")
    steps = [s.step for s in reader.history().snapshots]
    reader.close()
    assert steps == [2, 5, 6, 8], steps  # step 4's batch was empty: probed at 5 instead


def test_log_after_close_and_a_second_close_do_not_raise(tmp_path):
    model, optimizer = model_and_optimizer()
    watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "r")
    train(watcher, model, optimizer, steps=4)
    watcher.close()
    with pytest.warns(RuntimeWarning, match="after close"):
        train(watcher, model, optimizer, steps=3)
    watcher.close()
    reader = RunReader(tmp_path / "r.desklab-run")
    assert reader.meta["status"] == "finished" and reader.last_step() == 3
    reader.close()


@pytest.mark.parametrize("kwargs, error", [
    ({"every": math.nan}, ValueError), ({"every": 0}, ValueError),
    ({"every": True}, ValueError), ({"every": 2.5}, ValueError),
    ({"ranks": "1"}, ValueError), ({"run": 3}, TypeError), ({"run": ""}, TypeError),
    ({"name": 5}, TypeError), ({"model": "not a model"}, TypeError),
    ({"optimizer": object()}, TypeError),
])
def test_arguments_that_cannot_work_are_refused_at_watch(tmp_path, kwargs, error):
    model, optimizer = model_and_optimizer()
    args = {"model": model, "optimizer": optimizer, "run": tmp_path / "r", **kwargs}
    with pytest.raises(error):
        desklab.watch(**args)
    assert not list(tmp_path.iterdir())  # nothing written


def _fail(*args, **kwargs):
    raise ZeroDivisionError("a fault made on purpose")


@pytest.mark.parametrize("where, target", [
    ("the first forward", "desklab.attach.discover.first_float"),
    ("a probed forward", "desklab.attach.forwards.StepProber._keep"),
    ("the backward", "desklab.attach.forwards.StepProber._reduced_grad"),
    ("zero_grad", "desklab.attach.forwards.StepProber.gradients_zeroed"),
    ("before the step", "desklab.attach.forwards.StepProber.weights_before"),
    ("after the step", "desklab.attach.forwards.weight_grad_norms"),
])
def test_a_fault_in_a_hook_inside_the_step_never_reaches_the_loop(tmp_path, monkeypatch,
                                                                   where, target):
    """DeskLab's hooks run inside the user's forward, backward, zero_grad and optimizer
    step. A fault in any of them (made here on purpose) must not reach the loop: it
    trains exactly as it would unwatched, one warning names the fault, and the run
    ends "failed" with what it recorded before."""
    model, optimizer = model_and_optimizer()
    twin, twin_optimizer = model_and_optimizer()
    torch.manual_seed(1)
    unwatched = _Nothing()
    train(unwatched, twin, twin_optimizer)
    monkeypatch.setattr(target, _fail)
    torch.manual_seed(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watcher = desklab.watch(model, optimizer, every=2, run=tmp_path / "r")
        assert train(watcher, model, optimizer) == 12
        watcher.close()
    for ours, theirs in zip(model.parameters(), twin.parameters()):
        assert torch.equal(ours, theirs), where  # the training was left untouched
    ours = [str(w.message) for w in caught if "stopped recording" in str(w.message)]
    assert len(ours) == 1 and "ZeroDivisionError: a fault made on purpose" in ours[0], \
        [str(w.message) for w in caught]
    if (tmp_path / "r.desklab-run").exists():  # (the first forward: never opened)
        reader = RunReader(tmp_path / "r.desklab-run")
        assert reader.meta["status"] == "failed"  # and `runs show` says why:
        assert "ZeroDivisionError: a fault made on purpose" in reader.meta["cause"]
        reader.close()


class _Nothing:
    def log(self, loss=None):
        pass


def test_watching_a_model_again_closes_the_watcher_left_open(tmp_path):
    """A notebook cell with watch() run twice: the first watcher was never closed, so
    its hooks stayed on the model and optimizer and its run read "running" for as long
    as the kernel lived. The second closes it (finished at the step it reached) and
    says so once; a second model's watcher is left alone."""
    model, optimizer = model_and_optimizer()
    other, other_optimizer = model_and_optimizer()
    keep = desklab.watch(other, other_optimizer, every=2, run=tmp_path / "other")
    first = desklab.watch(model, optimizer, every=2, run=tmp_path / "cell")
    train(first, model, optimizer, steps=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = desklab.watch(model, optimizer, every=2, run=tmp_path / "cell")
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and "cell.desklab-run" in said[0] and "step 4" in said[0], said
    assert caught[0].filename == __file__  # pointed at the user's watch() line
    assert len(optimizer._optimizer_step_pre_hooks) == 1  # the second's only
    train(second, model, optimizer, steps=5)
    train(keep, other, other_optimizer, steps=3)
    for w in (second, keep):
        w.close()
    assert not optimizer._optimizer_step_pre_hooks and not model[0]._forward_hooks
    for name, steps in (("cell", 4), ("cell-2", 4), ("other", 2)):
        reader = RunReader(tmp_path / f"{name}.desklab-run")
        assert (reader.meta["status"], reader.last_step()) == ("finished", steps), name
        reader.close()


NEVER_CLOSED = """
import sys, torch
from torch import nn
import desklab
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
watcher = desklab.watch(model, optimizer, every=4, run=sys.argv[1])
for step in range(10):
    if step == int(sys.argv[2]):
        raise ValueError("the user's own error")
    loss = nn.functional.cross_entropy(model(torch.randn(16, 4)), torch.randint(0, 3, (16,)))
    optimizer.zero_grad(); loss.backward(); optimizer.step()
    watcher.log(loss=loss)
"""


@pytest.mark.parametrize("crash_at, status, last", [(99, "finished", 9), (7, "failed", 6)],
                         ids=["ends", "raises"])
def test_a_script_that_never_closes_its_watcher(tmp_path, crash_at, status, last):
    """No close(), no with: the run read "interrupted" and lost the steps after its
    last probe. At exit it is closed: "finished" with every step when the script ends,
    "failed" when an exception ended it, with every step logged before it (steps 5 and 6
    came after the last probe: the losses just before a crash are the ones to see)."""
    run = tmp_path / "r"
    done = subprocess.run([sys.executable, "-c", NEVER_CLOSED, str(run), str(crash_at)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (done.returncode == 0) == (status == "finished"), done.stderr[-2000:]
    reader = RunReader(tmp_path / "r.desklab-run")
    assert (reader.meta["status"], reader.last_step()) == (status, last)
    assert reader.meta.get("cause") == (None if status == "finished" else
                                        "the script ended with ValueError: the user's own "
                                        "error")
    reader.close()


FORKS = """
import os, sys, torch
from torch import nn
import desklab
from desklab.runs import RunReader
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
watcher = desklab.watch(model, optimizer, every=2, run=sys.argv[1])
def steps(n):
    for _ in range(n):
        loss = nn.functional.cross_entropy(model(torch.randn(16, 4)), torch.randint(0, 3, (16,)))
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        watcher.log(loss=loss)
steps(5)
child = os.fork()
if child == 0:
    sys.exit(0)  # the child's exit runs the interpreter's exit handlers
os.waitpid(child, 0)
reader = RunReader(watcher.path)
print("after the child:", reader.meta["status"])
reader.close()
steps(5)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_forked_child_that_exits_leaves_its_parents_run_open(tmp_path):
    """The watchers left open are closed at exit, but only by the process that made
    them: a child forked from the training script (a worker, a subprocess helper) that
    exits must not end its parent's run while the parent trains on."""
    done = subprocess.run([sys.executable, "-c", FORKS, str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "after the child: running" in done.stdout, done.stdout
    reader = RunReader(tmp_path / "r.desklab-run")
    assert (reader.meta["status"], reader.last_step()) == ("finished", 9)
    reader.close()


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")  # (torch's own)
@pytest.mark.parametrize("how", ["script", "trace"])
def test_a_torchscript_model_is_refused_at_watch(tmp_path, how):
    """A scripted model raised torch's own "register_forward_hook is not supported on
    ScriptModules" from watch(); a traced one was accepted, measured nothing, and gave
    up three probes later saying the forward did not go through the model."""
    model, optimizer = model_and_optimizer()
    compiled = torch.jit.script(model) if how == "script" else torch.jit.trace(
        model, torch.randn(2, 4))
    with pytest.raises(TypeError, match="cannot measure a TorchScript module"):
        desklab.watch(compiled, optimizer, run=tmp_path / "r")
    assert not list(tmp_path.iterdir())
