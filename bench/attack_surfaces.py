"""Attack the run store, downloads and dataset readers, search, landscape and watch,
each case in its own process with a timeout, and print issue 26's table.

    python bench/attack_surfaces.py [--seed 0] [--fuzz 20] [--timeout 90] [--only SURFACE]

Outcomes: ``clean`` (refused in one ``desklab:`` line, exit 2), ``ok`` (done and
right), ``traceback``, ``crash`` (a signal, exit 134/139), ``hang`` (over the timeout),
``silent wrong`` (accepted what it should refuse, or done but wrong), ``data lost`` (a
file the user had changed or removed), ``path escaped`` (something written outside the
case's folder, or through a planted link). The cases: `attack_cases.py`.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"  # the tests' corpora: run_files, fake_datasets
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(HERE))

import attack_cases  # noqa: E402 - after the path
import attack_net_cases  # noqa: E402
from attack_inputs import print_table  # noqa: E402

COLUMNS = ("clean", "ok", "traceback", "crash", "hang", "silent wrong", "data lost",
           "path escaped")


def run(case: dict, timeout: float, env: dict) -> tuple[str, str, str, str]:
    """(outcome by exit status, detail, stdout, stderr)."""
    if "argv" in case:
        command = [sys.executable, "-m", "desklab", *case["argv"]]
    else:
        command = [sys.executable, "-c", case["code"]]
    try:
        p = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                           env={**env, **case.get("env", {})}, stdin=subprocess.DEVNULL,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return "hang", "", "", ""
    err = p.stderr
    if p.returncode < 0 or p.returncode in (134, 139):
        return "crash", f"rc {p.returncode}", p.stdout, err
    if "Traceback (most recent call last)" in err:
        return "traceback", err.strip().splitlines()[-1][:200], p.stdout, err
    # one line saying what is wrong, last (a progress line may come before it)
    last = ([line for line in err.splitlines() if line.strip()] or [""])[-1]
    if p.returncode == 2 and last.startswith("desklab: "):
        return "clean", last[:160], p.stdout, err
    if p.returncode == 0:
        return "ok", "", p.stdout, err
    return "other", f"rc {p.returncode}: {err.strip()[-200:]}", p.stdout, err


def judge(case: dict, outcome: str, out: str, err: str) -> str:
    expect = case["expect"]
    if outcome == "ok" and expect == "clean":
        return "silent wrong"
    if outcome == "ok" and case.get("check") and not case["check"](out, err):
        return "silent wrong"
    if outcome == "clean" and expect == "ok":
        return "silent wrong"  # refused what it should do
    return "traceback" if outcome == "other" else outcome


def tree(folder: Path) -> dict:
    return {str(p): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in folder.rglob("*")} if folder.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fuzz", type=int, default=20, help="fuzzed run-store metas")
    parser.add_argument("--timeout", type=float, default=90)
    parser.add_argument("--only", help="one surface (e.g. 'search')")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="desklab-surfaces-"))
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"keep me")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(TESTS)]),
               QT_QPA_PLATFORM="offscreen",
               DESKLAB_RUNS=str(tmp / "store"), DESKLAB_DATA=str(tmp / "data"))
    builders = [lambda: attack_cases.run_store(tmp / "a", random.Random(args.seed),
                                               args.fuzz),
                lambda: attack_cases.datasets(tmp / "b"),
                lambda: attack_net_cases.mirrors(tmp / "c"),
                lambda: attack_net_cases.search(tmp / "d"),
                lambda: attack_net_cases.landscape(tmp / "e"),
                lambda: attack_net_cases.watch(tmp / "f"),
                lambda: attack_net_cases.train_flags(tmp / "g")]
    for sub in "abcdefg":
        (tmp / sub).mkdir()
    cases = [c for build in builders for c in build()
             if not args.only or c["surface"] == args.only]
    table = collections.defaultdict(collections.Counter)
    bad = []
    began = time.perf_counter()
    known = {"a", "b", "c", "d", "e", "f", "g", "outside", "store", "data"}
    for case in cases:
        owned = {p: p.read_bytes() for p in case.get("owned", []) if p.is_file()}
        before_outside = tree(outside)
        outcome, detail, out, err = run(case, args.timeout, env)
        outcome = judge(case, outcome, out, err)
        if any(not p.exists() or p.read_bytes() != data for p, data in owned.items()):
            outcome = "data lost"
        stray = {p.name for p in tmp.iterdir()} - known  # a path cut short lands here
        if tree(outside) != before_outside or stray:
            outcome = "path escaped"
            known |= stray
        table[case["surface"]][outcome] += 1
        if outcome not in ("clean", "ok"):
            bad.append((case["surface"], case["name"], outcome, detail or err[-300:]))
    print(f"{len(cases)} inputs in {time.perf_counter() - began:.0f} s (folder {tmp})")
    print_table("surface", table, COLUMNS, bad)


if __name__ == "__main__":
    main()
