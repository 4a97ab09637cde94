#!/usr/bin/env bash
# Every GPU figure of issue 30 in one run, meant to finish in under 8 minutes on one GPU:
#
#   OUT=results bash bench/gpu_check.sh          # DEVICE=cpu QUICK=1: try it here first
#   ONLY="probes resnet20" bash bench/gpu_check.sh   # some steps again
#
# On the lent machine (bench/gpu_wheels.sh run here first): the device tool's run with
# command "bash bench/gpu_check.sh", carry [".whl", ".gl"], timeout_s 540; $OUT is set
# there, and what comes back is two files: gpu_check.json and logs.txt.
#
# Steps, each with a time limit of its own (490 s in all, so that a device call of
# 540 s leaves time for the wheels and the report even when every step runs out):
#   cuda-tests  the CUDA tests (GPU statistics equal the CPU's, no host sync in a step)
#   probes      bench_probes: bench-mlp bare / probes off / every 10th / every step, each
#               again with train.cuda_graphs, and CUDA's sync-debug mode "error" around
#               every unprobed step's work (eager and replayed)
#   resnet20    bench_resnet20: ResNet-20 probes off / every 10th / every step, each again
#               with train.cuda_graphs
#   lessons     bench_lessons: each real-size lesson's step, evaluation and whole run
#   watch       bench_watch --no-peers: desklab.watch on the MLP, CNN, BERT-small, LSTM
#   live-tax    bench_live_tax: the app's Train against desklab train (needs PySide6 and
#               pyqtgraph; where they do not import, the step says so and is skipped)
# Everything ends in $OUT/gpu_check.json (each step's exit status, seconds and what it
# printed last, every table the benches wrote through $DESKLAB_BENCH_JSON, the live-tax
# figures) and $OUT/logs.txt (every step's whole output). Python packages the machine
# lacks are installed from .whl/ under /tmp/site, and on a GPU machine the system
# libraries in .gl/ are unpacked first (bench/gpu_wheels.sh fetches both).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
QUICK=${QUICK:-0}  # 1: a few rounds of each, to see the script work, not for figures
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)  # the steps' logs and JSON lines, gathered into $OUT at the end
export DESKLAB_BENCH_JSON="$WORK/tables.jsonl" PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
if [ "$DEVICE" = cuda ] && compgen -G ".gl/*.deb" >/dev/null; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
LESSONS=()  # every real-size lesson; QUICK: the two smallest
# desklab.resources is the top-level resources/ folder under the name it installs as;
# run from the source tree (PYTHONPATH), the app reaches it through a link made here
LINKED=0
if ! "$PY" -c "import desklab.resources" 2>/dev/null && [ ! -e desklab/resources ]; then
    ln -s ../resources desklab/resources && LINKED=1
fi
if [ "$QUICK" = 1 ]; then R=(2 2 2 1 0.2); LESSONS=(--lessons lenet-mnist,mnist-relu-mlp)
else R=(30 20 30 2 2); fi

ONLY=${ONLY:-}  # names of the steps to run (a rerun of some); empty: all of them

step() {  # step NAME SECONDS COMMAND...: run it, log it, note its status and time
    local name=$1 limit=$2 start rc
    shift 2
    if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
    start=$(date +%s.%N)
    echo "== $name (limit ${limit} s): $*"
    timeout "$limit" "$@" >"$WORK/$name.log" 2>&1
    rc=$?
    "$PY" - "$name" "$rc" "$start" "$WORK/$name.log" >>"$WORK/steps.jsonl" <<'EOF'
import json, sys, time
name, rc, start, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
with open(log, errors="replace") as f:
    tail = f.read()[-4000:]
print(json.dumps({"step": name, "rc": rc, "timed_out": rc in (124, 137),
                  "seconds": round(time.time() - start, 1), "tail": tail}))
EOF
    echo "   rc $rc"
}

step cuda-tests 90 "$PY" -m pytest -q -p no:cacheprovider tests/engine/test_cuda.py \
    tests/engine/test_probe_independent.py tests/engine/test_zero_transfer.py
step probes 80 "$PY" bench/bench_probes.py --device "$DEVICE" --rounds "${R[0]}"
step resnet20 85 "$PY" bench/bench_resnet20.py --device "$DEVICE" --rounds "${R[1]}"
step lessons 80 "$PY" bench/bench_lessons.py --device "$DEVICE" --seconds "${R[4]}" \
    "${LESSONS[@]}"
step watch 70 "$PY" bench/bench_watch.py --model all --device "$DEVICE" --no-peers \
    --rounds "${R[2]}"
# issue 24's one-core-busy figure wants more than two cores; this machine has them (CPU
# only: the GPU hidden). Not in a plain run (its time is the live view's): ONLY names it.
if [[ " $ONLY " == *" threads "* ]]; then
    step threads 150 env CUDA_VISIBLE_DEVICES= "$PY" bench/bench_threads.py --skip-resnet \
        --rounds "${R[3]}"
fi
if [ -n "$ONLY" ] && [[ " $ONLY " != *" live-tax "* ]]; then
    :
elif "$PY" -c "import PySide6.QtWidgets, pyqtgraph" 2>/dev/null; then
    step live-tax 85 "$PY" bench/bench_live_tax.py --device "$DEVICE" --rounds "${R[3]}" \
        --json "$WORK/live_tax.json"
else
    echo '{"step": "live-tax", "rc": null, "skipped": "PySide6 or pyqtgraph does not import here (bench/gpu_wheels.sh)"}' >>"$WORK/steps.jsonl"
fi

for f in "$WORK"/*.log; do echo "===== $(basename "$f")"; cat "$f"; done >"$OUT/logs.txt"
"$PY" - "$OUT" "$DEVICE" "$WORK" <<'EOF'
import json, pathlib, sys
out, device, work = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
lines = lambda name: [json.loads(line) for line in (work / name).read_text().splitlines()
                      if line.strip()] if (work / name).exists() else []
report = {"device": device, "steps": lines("steps.jsonl"), "tables": lines("tables.jsonl")}
try:
    import torch
    report["torch"] = torch.__version__
    if torch.cuda.is_available():
        report["gpu"] = torch.cuda.get_device_name(0)
except Exception as exc:  # noqa: BLE001 - the report is written whatever happened
    report["torch"] = f"does not import: {exc}"
live = work / "live_tax.json"
if live.exists():
    report["live_tax"] = json.loads(live.read_text())
(out / "gpu_check.json").write_text(json.dumps(report, indent=1))
for s in report["steps"]:
    print(f"{s['step']:<11} rc {s.get('rc')}  {s.get('seconds', '-')} s  {s.get('skipped', '')}")
for t in report["tables"]:
    cells = ", ".join(f"{k} {v['median_ratio']:.3f}" for k, v in t.get("results", {}).items())
    cells = cells or ", ".join(f"{k} {v['ms_per_step']:.2f} ms {v['minutes']:.1f} min"
                               for k, v in t.get("lessons", {}).items())
    sync = " | ".join(str(t[k]) for k in ("sync_check", "sync_check_cuda_graphs") if k in t)
    print(f"{t['label']}: {cells or sync or t.get('launches') or t.get('graphs', '')}")
EOF
rm -rf "$WORK"
if [ "$LINKED" = 1 ]; then rm -f desklab/resources; fi
