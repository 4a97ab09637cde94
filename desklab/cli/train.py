"""``desklab train``: headless training with a progress bar and reports."""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import sys

from .common import CliError, fetch_dataset, load_input


def add_train_parser(sub, design_args) -> None:
    p = sub.add_parser("train", help="train headless and write reports")
    design_args(p)
    p.add_argument("--steps", type=int, metavar="N", help="training steps")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--probe-every", type=int, metavar="K", dest="probe_every",
                   help="probe every K steps (0 = off; default 10)")
    p.add_argument("--cuda-graphs", action="store_const", const=True, dest="cuda_graphs",
                   help="replay steps from CUDA graphs (CUDA only; see the cuda_graphs "
                   "training setting)")
    p.add_argument("--json", metavar="PATH", help="write the report JSON ('-' = stdout)")
    p.add_argument("--csv", metavar="PATH", help="write per-layer stats, one row per "
                   "probed step and layer")
    p.add_argument("--save-weights", metavar="PATH", dest="save_weights",
                   help="save the trained state_dict (torch.save)")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="write TensorBoard event files (needs the tensorboard extra)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, metavar="N", default=0,
                   help="CPU threads for training (default: chosen by a short "
                   "measurement, never more than the free cores)")
    p.add_argument("--no-record", action="store_true", dest="no_record",
                   help="do not keep the run in the run store (see 'desklab runs')")
    p.set_defaults(func=cmd_train)


class _CsvStream:
    """Rows written as they come to a temp file beside the target, renamed at the end."""

    def __init__(self, path: str):
        from ..metrics.report import CSV_HEADER
        from ..util.files import atomic_path
        self._files = contextlib.ExitStack()  # closing it renames the temp file into place
        try:
            tmp = self._files.enter_context(atomic_path(path))
        except OSError as exc:
            raise CliError(f"cannot write the CSV to {path}: {exc.strerror or exc}") from None
        self.file = self._files.enter_context(open(tmp, "w", newline="", encoding="utf-8"))
        self.writer = csv.writer(self.file)
        self.writer.writerow(CSV_HEADER)

    def add(self, snap) -> None:
        from ..metrics.report import snapshot_rows
        self.writer.writerows(snapshot_rows(snap))

    def close(self) -> None:
        self._files.close()


def _bar(step: int, total: int, rate: float, loss: float) -> str:
    width = 30
    done = int(width * step / max(total, 1))
    loss_text = f"loss {loss:.4f}" if math.isfinite(loss) else "loss -"
    return (f"\r[{'#' * done}{'.' * (width - done)}] {step}/{total}  {rate:7.1f} steps/s  "
            f"{loss_text}")


def _busy_others(before) -> float:
    """Cores other programs kept busy since ``before`` (at least 0.1 s of reading)."""
    import time

    from ..util.cpu_load import busy_other_cores, sample
    wait = 0.1 - (time.monotonic() - before.wall)
    if wait > 0:
        time.sleep(wait)
    return busy_other_cores(before, sample())


def _record_over_inputs(record, trainer) -> None:
    """The data points and the trained model's boundary or curve over them, once at the
    end (the app draws them again when the run is reopened or followed)."""
    from ..engine.boundary import drawn_over, over_inputs
    data = trainer.data
    if not drawn_over(data):
        return
    try:
        drawing = over_inputs(trainer.model, data.x_train.to(trainer.device))
    except (RuntimeError, MemoryError):  # e.g. out of device memory: the run is whole
        return
    record.record("points", (data.x_train.numpy(), data.y_train.numpy()))
    if drawing is not None:  # None: not drawable (the store leaves out NaNs itself)
        record.record("drawing", (trainer.step, drawing))


def cmd_train(args: argparse.Namespace) -> int:
    design = load_input(args)
    fetch_dataset(design)
    from ..engine import DeviceError
    from ..engine.trainer import Trainer
    from ..metrics import RunHistory
    from ..design.catalog import class_names
    from ..metrics.report import layer_table, most_confused, to_json, train_report
    from ..engine.threads import choose_threads
    from ..util.cpu_load import sample
    from ..util.cpu_load import cpu_count
    most = 4 * cpu_count()  # beyond this only waiting (and OpenMP crashed at 100000)
    if not 0 <= args.threads <= most:
        raise CliError(f"--threads must be 1 to {most} on this machine (0: choose), not "
                       f"{args.threads}")
    before = sample()  # the build's time is the window over which others' load is read
    try:
        trainer = Trainer(design)
    except DeviceError as exc:
        raise CliError(str(exc)) from None
    threads = choose_threads(trainer, args.threads, busy_others=_busy_others(before))
    history = RunHistory(trainer.layout)
    record = None
    if not args.no_record:  # the run store: desklab runs, the app's Runs panel
        from ..runs import RunWriter, new_run_path
        from ..runs.store import design_meta
        try:
            record = RunWriter(new_run_path(design.name), {**design_meta(
                design, trainer.device_name, trainer.model_total_params),
                "threads": threads.as_dict()}, next_free=True)
        except OSError as exc:
            raise CliError(f"cannot record the run: {exc}") from None
    board = None
    if args.tensorboard:
        from ..engine.tensorboard_log import TensorBoardLogger, TensorBoardUnavailable
        try:
            board = TensorBoardLogger(args.tensorboard)
        except TensorBoardUnavailable as exc:
            raise CliError(str(exc)) from None
    stream = _CsvStream(args.csv) if args.csv else None
    show = not args.quiet and args.json != "-"
    last_loss = math.nan
    try:
        for event in trainer.events():
            history.record(event.kind, event.payload)
            if record:
                record.record(event.kind, event.payload)
            if event.kind == "snapshot":
                if stream:
                    stream.add(event.payload)
                if board:
                    board.add_snapshot(event.payload)
            elif event.kind == "metrics" and board:
                board.add_metrics(event.payload)
            elif event.kind == "steps" and len(event.payload.loss):
                last_loss = float(event.payload.loss[-1])
            if show and event.kind in ("progress", "ended"):
                print(_bar(event.step, design.train.steps, event.steps_per_second, last_loss),
                      end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        trainer.state = "interrupted"
    finally:
        if record:
            _record_over_inputs(record, trainer)
            record.set_meta(threads=threads.as_dict(), train_seconds=trainer.train_seconds,
                            steps_per_second=trainer.step / max(trainer.train_seconds, 1e-9))
            record.close(trainer.state)
    if show:
        print(file=sys.stderr)
    if stream:
        stream.close()
    if board:
        board.close()
    history.update_diagnosis()
    out = sys.stderr if args.json == "-" else sys.stdout
    steps_per_second = trainer.step / max(trainer.train_seconds, 1e-9)
    where = (f"at step {history.diverged_step}" if history.diverged_step is not None
             else f"after {trainer.step} steps")
    thread_text = f", {threads.threads} thread{'s' if threads.threads > 1 else ''}" \
        if threads.how != "device" else ""
    if trainer.graph is not None and trainer.graph.replays:
        thread_text += f", {trainer.graph.replays} steps replayed from a CUDA graph"
    print(f"{design.name}: {trainer.state} {where} on {trainer.device_name} "
          f"({steps_per_second:.1f} steps/s{thread_text})", file=out)
    if len(history.metrics):
        m = {k: v[-1] for k, v in history.metrics_dict().items()}
        parts = [f"{k} {m[k]:.4f}" for k in ("loss", "val_loss", "train_acc", "val_acc",
                                              "val_top5") if m[k] is not None]
        print("final: " + ", ".join(parts), file=out)
    names = class_names(design.input.dataset, design.input.params)
    summary = most_confused(history.confusion.counts, names) if history.confusion else None
    if summary:
        print(summary, file=out)
    if history.latest is not None:
        print(layer_table(history.latest), file=out)
    for finding in history.findings:
        print(finding.told(), file=out)
    if record:
        print(f"run recorded: {record.path} (desklab runs show {record.path.name})", file=out)
    if args.save_weights:
        from ..engine.weights import save_weights
        try:
            save_weights(trainer.model, args.save_weights)
        except OSError as exc:
            raise CliError(f"cannot save weights to {args.save_weights}: "
                           f"{exc.strerror or exc}") from None
    if args.json:
        from .common import write_text
        report = train_report(design, trainer, history, names)
        report["threads"] = threads.as_dict()
        if trainer.graph is not None:  # asked for: what happened
            report["cuda_graphs"] = trainer.graph.as_dict()
        write_text(args.json, to_json(report), "the report")
    return 1 if trainer.state == "failed" else 0
