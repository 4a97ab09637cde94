"""Attack the CLI with bad inputs, each in its own process, and count what happens.

    python bench/attack_inputs.py [--seed 0] [--random 40] [--timeout 60]

Every case runs ``python -m desklab ...`` as a user would. Outcomes: ``clean`` (exit 2
and one ``desklab:`` line on stderr), ``ok`` (accepted and did its job), ``traceback``
(a Python traceback), ``crash`` (killed by a signal, or exit 134/139), ``hang`` (over
the timeout), ``lost`` (a file the user already had was changed or removed when the
command failed). The table is the closing note's evidence for issue #14.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]


def design_text(**edits) -> str:
    sys.path.insert(0, str(HERE))
    from desklab.design import dumps
    from desklab.lessons import get_preset
    text = dumps(get_preset("deep-relu"))
    for old, new in edits.items():
        text = text.replace(old, new)
    return text


def cases(tmp: Path, rng: random.Random, n_random: int):
    """(kind, name, argv, files the user owns that must survive unchanged)."""
    good = tmp / "good.json"
    good.write_text(design_text())
    out = []

    def design(name: str, content: bytes | str):
        p = tmp / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8",
                                                                               "surrogatepass"))
        out.append(("design file", name, ["probe", str(p)], []))

    for name, content in {
        "malformed.json": '{"format": "desklab.design/1", "layers": [',
        "random.json": bytes(range(256)) * 8,
        "empty.json": b"",
        "nested.json": "[" * 60000 + "]" * 60000,
        "bom.json": b"\xef\xbb\xbf" + design_text().encode(),
        "nan.json": design_text(**{'"val_fraction": 0.2': '"val_fraction": NaN'}),
        "inf-lr.json": design_text(**{'"lr": 0.01': '"lr": 1e400'}),
        "digits.json": design_text(**{'"seed": 0': '"seed": ' + "9" * 5000}),
        "shape.json": design_text(**{'"shape": [\n      2\n    ]': '"shape": 5'}),
        "surrogate.json": design_text(**{'"name": "deep-relu"': '"name": "a\\ud800b"'}),
        "quotes.json": design_text(**{'"name": "deep-relu"':
                                      '"name": "x\\"\\"\\"; import os; os.system(\'id\')#"'}),
        "steps.json": design_text(**{'"steps": 2000': '"steps": 1000000000000'}),
        "layers.json": json.dumps({"format": "desklab.design/1",
                                   "layers": [{"kind": "dense", "units": 8}] * 100000}),
        "huge-data.json": design_text(**{'"dataset": "spiral"': '"dataset": "gaussian"',
                                         '"params": {\n      "noise": 0.1\n    }':
                                         '"params": {"samples": 200000, "dim": 8192}'}),
    }.items():
        design(name, content)
    base = design_text().encode()
    for i in range(n_random):  # truncations and byte flips of a valid design
        cut = bytearray(base[:rng.randrange(len(base))])
        for _ in range(rng.randrange(4)):
            if cut:
                cut[rng.randrange(len(cut))] = rng.randrange(256)
        design(f"mutant{i}.json", bytes(cut))
    fifo = tmp / "fifo.json"
    os.mkfifo(fifo)
    out.append(("design file", "FIFO", ["probe", str(fifo)], []))
    out.append(("design file", "/dev/zero", ["probe", "/dev/zero"], []))
    out.append(("design file", "a folder", ["probe", str(tmp)], []))

    def data(name: str, content: bytes):
        p = tmp / name
        p.write_bytes(content)
        out.append(("data file", name, ["train", "--preset", "deep-relu", "--steps", "3",
                                        "--data", str(p)], []))

    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in
                     np.random.default_rng(0).normal(size=(50, 2)))
    for name, content in {
        "text.csv": b"a,b,label\n1,x,0\n2,3,1\n", "ragged.csv": b"a,b,label\n1,2,0\n2,1\n",
        "inf.csv": b"a,label\n1,0\n1e39,1\n", "nan-label.csv": b"a,label\n1,0\n2,nan\n",
        "one-class.csv": b"a,label\n1,0\n2,0\n3,0\n",
        "wide.csv": b"a,l\n" + b"1" * 140000 + b",0\n",
        "binary.csv": bytes(range(256)) * 4, "sensor_idx.csv": ("a,b,l\n" + rows).encode(),
        "short-images-idx3-ubyte": b"\0\0\x08\x03\0\0",
        "noise.npz": bytes(rng.randrange(256) for _ in range(500)),
        "truncated.npz": _npz()[:300], "nan-y.npz": _npz(y=np.array([0, np.nan] * 10)),
        "text-y.npz": _npz(y=np.array(["a", "b"] * 10)),
        "zero-d.npz": _npz(x=np.float32(1), y=np.float32(0)),
        "no-features.npz": _npz(x=np.zeros((20, 0))),
    }.items():
        data(name, content)

    onnx = ["export", "--preset", "deep-relu", "--format", "onnx", "-o"]
    for name, content in {"garbage.pt": b"garbage", "evil.pt": _evil_pickle(tmp),
                          "other-net.pt": _state({"x": np.zeros(2)})}.items():
        p = tmp / name
        p.write_bytes(content)
        out.append(("weights file", name, onnx + [str(tmp / "m.onnx"), "--weights", str(p)],
                    []))

    kept = tmp / "kept.py"
    kept.write_text("# the user's file\n")
    kept.chmod(0o444)
    link_target = tmp / "real.py"
    link_target.write_text("# real\n")
    (tmp / "link.py").symlink_to(link_target)
    export = ["export", "--preset", "deep-relu", "-o"]
    out += [
        ("output path", "missing folder", export + [str(tmp / "no" / "m.py")], []),
        ("output path", "a folder", export + [str(tmp)], []),
        ("output path", "read-only file", export + [str(kept)], [kept]),
        ("output path", "/dev/null (device)", export + ["/dev/null"], []),
        ("output path", "ONNX into missing folder", onnx + [str(tmp / "no" / "m.onnx")], []),
        ("output path", "report into a folder", ["probe", "--preset", "deep-relu", "--json",
                                                 str(tmp)], []),
        ("output path", "CSV into missing folder", ["train", "--preset", "deep-relu", "--steps",
                                                    "3", "--csv", str(tmp / "no" / "s.csv")],
         []),
        ("output path", "TensorBoard onto a file", ["train", "--preset", "deep-relu", "--steps",
                                                    "3", "--tensorboard", str(kept)], [kept]),
        ("output path", "through a symlink (must work)", export + [str(tmp / "link.py")], []),
    ]
    return out, kept, link_target


def _npz(x=None, y=None) -> bytes:
    import io
    buffer = io.BytesIO()
    x = np.random.default_rng(0).normal(size=(20, 2)) if x is None else x
    y = (np.arange(20) % 2) if y is None else y
    np.savez(buffer, X=x, y=y)
    return buffer.getvalue()


def _state(arrays) -> bytes:
    import io

    import torch
    buffer = io.BytesIO()
    torch.save({k: torch.from_numpy(v) for k, v in arrays.items()}, buffer)
    return buffer.getvalue()


def _evil_pickle(tmp: Path) -> bytes:
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp / 'PWNED'}",))
    return pickle.dumps(Evil())


def run(argv, timeout: float) -> tuple[str, str]:
    env = dict(os.environ, PYTHONPATH=str(HERE), QT_QPA_PLATFORM="offscreen")
    try:
        p = subprocess.run([sys.executable, "-m", "desklab", *argv], capture_output=True,
                           text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hang", ""
    err = p.stderr
    if p.returncode < 0 or p.returncode in (134, 139):
        return "crash", f"rc {p.returncode}"
    if "Traceback (most recent call last)" in err:
        return "traceback", err.strip().splitlines()[-1]
    lines = [line for line in err.splitlines() if line.startswith("desklab: ")]
    if p.returncode == 2 and len(lines) == 1:
        return "clean", lines[0]
    if p.returncode == 0:
        return "ok", ""
    return "other", f"rc {p.returncode}: {err.strip()[-200:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random", type=int, default=40, help="mutated designs")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="desklab-attack-"))
    found, kept, link_target = cases(tmp, random.Random(args.seed), args.random)
    table = collections.defaultdict(collections.Counter)
    bad = []
    began = time.perf_counter()
    for kind, name, argv, owned in found:
        before = {p: p.read_bytes() for p in owned}
        outcome, detail = run(argv, args.timeout)
        if any(not p.exists() or p.read_bytes() != before[p] for p in owned):
            outcome = "lost"
        table[kind][outcome] += 1
        if outcome not in ("clean", "ok"):
            bad.append((kind, name, outcome, detail))
    table["code execution"]["ok" if not (tmp / "PWNED").exists() else "crash"] += 1
    symlink_ok = (tmp / "link.py").is_symlink() and "class" in link_target.read_text()
    print(f"{len(found)} inputs in {time.perf_counter() - began:.0f} s; symlink kept and "
          f"target written: {symlink_ok}; read-only file unchanged: "
          f"{kept.read_text() == '# the user' + chr(39) + 's file' + chr(10)}; "
          f"mode {stat.filemode(kept.stat().st_mode)}")
    print_table("input kind", table, ("clean", "ok", "traceback", "crash", "hang", "lost",
                                      "other"), bad)


def print_table(first: str, table: dict, columns: tuple, bad: list) -> None:
    """The outcome counts as a Markdown table (a row per kind), then each input that
    was not handled cleanly."""
    print(f"| {first:<16} | tried | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 2))
    for kind, counts in table.items():
        print(f"| {kind:<16} | {sum(counts.values()):>5} | "
              + " | ".join(str(counts[c]) for c in columns) + " |")
    for item in bad:
        print("NOT CLEAN:", *item)


if __name__ == "__main__":
    main()
