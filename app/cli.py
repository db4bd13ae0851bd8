"""The `digitpad` command: the app with no arguments, else train / evaluate / predict / adapt / report /
download.

Every user error (a bad file, a missing data set) is printed as one line
naming the file and the problem, with exit status 2 and no traceback. Heavy
imports (Tk, SciPy) happen only in the sub-command that needs them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app import __version__
from app.texts import clock

EXIT_USAGE = 2


def _error(msg: str) -> None:
    print(f"digitpad: error: {msg}", file=sys.stderr, flush=True)


@contextmanager
def _ctrl_c_cancels(cancel: threading.Event, stopping: str | Callable[[], str]) -> Iterator[None]:
    """While the body runs, the first Ctrl+C sets `cancel` (printing `stopping`, or what it returns
    then), a second one aborts."""

    def on_sigint(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        text = stopping() if callable(stopping) else stopping
        print(f"\n{text} (Ctrl+C again to abort)...", file=sys.stderr)

    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _weights_dir(arg: str | None) -> Path:
    from app import paths

    return Path(arg) if arg else paths.active_weights_dir()


def train_config(args: argparse.Namespace, command: str):
    """The `TrainConfig` of parsed `digitpad train` arguments: a ``--recipe``'s settings (the
    Retrain dialog's own, `app.recipes`) with the options given over them (ValueError: one line,
    e.g. an unknown recipe or bad layer sizes)."""
    from model.train_settings import config_from_args

    base = None
    if getattr(args, "recipe", None):
        from app.recipes import recipe_config

        base = recipe_config(args.recipe)
    return config_from_args(args, command, base)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network and write its weights folder."""
    from model.training_run import stage_saver, train_model

    try:
        config = train_config(args, " ".join(["digitpad", *sys.argv[1:]]))
    except ValueError as exc:
        _error(str(exc))
        return EXIT_USAGE
    cancel = threading.Event()
    tty = sys.stderr.isatty()
    last = [0.0]

    def progress(p) -> None:
        now = time.monotonic()
        if not tty and now - last[0] < 5 and p.iteration != p.max_iter:
            return
        last[0] = now
        line = (
            f"iter {p.iteration:4d}/{p.max_iter}  cost {p.cost:.5f}  "
            f"elapsed {clock(p.elapsed)}  eta {clock(p.eta)}"
        )
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    on_stage = None
    if args.save_stages:
        try:
            Path(args.save_stages).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _error(f"{args.save_stages}: cannot write stage weights there ({exc.strerror or exc})")
            return EXIT_USAGE
        on_stage = stage_saver(Path(args.save_stages), config, log=print)
    with _ctrl_c_cancels(cancel, "stopping after this iteration"):
        result = train_model(config, Path(args.out), progress=progress, cancel=cancel, log=print,
                             on_stage=on_stage)
    if tty:
        print(file=sys.stderr)
    meta = result.meta
    if "train_accuracy" in meta:
        print(f"train accuracy {meta['train_accuracy']:.4f}", end="  ")
    print(f"test accuracy {meta['test_accuracy']:.4f}")
    for key, label in (("validation_accuracy", "MNIST validation"), ("pen_holdout_accuracy", "held-out pen")):
        if key in meta:
            print(f"{label} accuracy {meta[key]:.4f}")
    print(f"weights written to {args.out}" + ("  (stopped early: best so far)" if result.cancelled else ""))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Test-set accuracy, per-digit accuracy and confusion matrix."""
    from model.datasets.mnist import load_mnist
    from model.evaluate import report as labels_report
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    model = load_weights(_weights_dir(args.weights))
    test = load_mnist("test", args.data)
    report = labels_report(test.y, Recogniser(model).classify(test.X).argmax(axis=1))
    if args.json:
        print(json.dumps({"weights": str(model.source), "layer_sizes": list(model.layout.sizes),
                          "networks": model.describe(), **report}))
        return 0
    print(f"weights   {model.source}  ({model.describe()})")
    print(f"accuracy  {report['accuracy']:.4f}  ({report['correct']}/{report['n']} test images)")
    print("per digit " + "  ".join(f"{d}:{a:.3f}" for d, a in enumerate(report["per_class"])))
    print("confusion (rows: true digit, columns: predicted)")
    print("     " + "".join(f"{d:>6}" for d in range(10)))
    for d, row in enumerate(report["confusion"]):
        print(f"  {d}  " + "".join(f"{v:>6}" for v in row))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Recognise each path; bad paths get an error line but the rest are answered."""
    from app.state import make_recogniser, shipped_verifier
    from model.errors import DigitpadError
    from model.net.weights import load_weights

    recogniser = make_recogniser(load_weights(_weights_dir(args.weights)))
    missing = shipped_verifier()[1]
    if missing:
        print(f"digitpad: warning: {missing}", file=sys.stderr)
    status = 0
    for path in args.paths:
        try:
            result = recogniser.read_path(path)
        except DigitpadError as exc:
            _error(str(exc))
            status = EXIT_USAGE
            continue
        if args.json:
            print(json.dumps({"path": path, **result.to_json()}), flush=False)
        else:
            print(f"{path}\t{result.text}\t{result.confidence:.4f}", flush=False)
    sys.stdout.flush()
    return status


def cmd_report(args: argparse.Namespace) -> int:
    """Write the views of "Inside the network" (PNG), report.json and index.html into --out."""
    from model.net.weights import load_weights
    from model.recognise import Recogniser
    from model.views.report import write_report

    recogniser = Recogniser(load_weights(_weights_dir(args.weights)))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        _error(f"{out}: exists and is not a folder")
        return EXIT_USAGE
    try:
        report = write_report(recogniser, out, args.data, args.pen_data,
                              log=lambda s: print(s, file=sys.stderr, flush=True))
    except OSError as exc:
        _error(f"{exc.filename or out}: cannot write ({exc.strerror or exc})")
        return EXIT_USAGE
    print(f"accuracy  {report['accuracy']:.4f}  ({report['correct']}/{report['n']} MNIST test images)")
    curves = report["robustness"]
    for name in curves["sets"]:
        print(f"robustness on {name}:")
        for axis in curves["axes"]:
            points = "  ".join(f"{level:g}: {100 * acc:.1f}%"
                               for level, acc in zip(axis["levels"], axis["accuracy"][name], strict=True))
            print(f"  {axis['name']:<10} {points}")
    print(f"report written to {out}: " + ", ".join(report["files"]))


def cmd_adapt(args: argparse.Namespace) -> int:
    """Adapt the weights to labelled samples (files, folders, else the user's samples) and save them
    as soon as they are adapted (``weights ready in X.X s``); then estimate how well they read the
    samples (folds) and MNIST test, and add the figures to the saved model.json."""
    from app import paths
    from model.datasets.mnist import load_mnist
    from model.datasets.replay import load_replay, replay_path
    from model.errors import DataError, WeightsError
    from model.net.weights import load_weights
    from model.personal import adapt, samples

    t_start = time.perf_counter()
    model = load_weights(_weights_dir(args.weights))
    if args.paths:
        found, warnings = samples.load_samples(args.paths)
        where = "the files given"
    else:
        folder = samples.samples_dir()
        found, warnings = samples.SampleStore(folder).load()
        where = str(folder)
    X, y, groups = samples.training_arrays(found, warnings=warnings)
    for w in warnings:
        _error(w)
    if len(y) == 0:
        _error(f"no usable labelled samples in {where}: nothing to adapt to")
        return EXIT_USAGE
    replay = load_replay(replay_path(paths.resource_root()))
    print(f"adapting {model.source} ({model.describe()}) to {len(y)} digits from {len(found)} samples "
          f"({len(set(groups.tolist()))} rounds), with {len(replay):,} replay digits", flush=True)
    cancel = threading.Event()
    tty = sys.stderr.isatty()
    out = Path(args.out) if args.out else paths.user_weights_dir()
    ready: dict = {}

    def progress(p) -> None:
        if tty:
            print(f"\r{p.phase:14s} {p.done:4d}/{p.total} iterations  elapsed {clock(p.elapsed)}",
                  end="", file=sys.stderr, flush=True)

    def on_weights(res) -> None:
        try:
            adapt.save_adapted(out, model, res, adapt.adapted_meta(model.meta, model.source, res, replay,
                                                                    n_files=len(found)))
        except OSError as exc:
            raise WeightsError(f"{out}: cannot write the adapted weights ({exc.strerror or exc})") from None
        ready["seconds"] = time.perf_counter() - t_start
        if tty:
            print(file=sys.stderr)
        print(f"weights ready in {ready['seconds']:.1f} s", flush=True)
        kept = {"built": "built once for these weights", "disk": "read from the cache",
                "memory": "kept in memory"}.get(res.kept, "")
        kept_note = f"; the replay's hidden activations {kept} in {res.kept_seconds:.1f} s" if kept else ""
        print(f"({res.iters} iterations on {res.n_train:,} images{kept_note})")
        active = " (now the active weights)" if out == paths.user_weights_dir() else ""
        print(f"weights written to {out}{active}", flush=True)
        for _, label, read in res.doubtful:
            _error(f"left out a digit labelled {label} that reads as {read} and looks like your other "
                   f"{read}s (a slip? relabel it in My samples)")

    def stopping() -> str:
        return ("stopping the estimate: the adapted weights stay written" if ready
                else "stopping: nothing will be written")

    with _ctrl_c_cancels(cancel, stopping):
        result = adapt.adapt(model, X, y, replay=replay, seed=args.seed, groups=groups, base_meta=model.meta,
                             progress=progress, should_stop=cancel, on_weights=on_weights)
    if tty:
        print(file=sys.stderr)
    if result.cancelled:
        _error("adapting cancelled: no weights were written")
        return 130
    if result.estimate_cancelled:
        adapt.update_adapted_meta(out, adapt.adapted_meta(model.meta, model.source, result, replay,
                                                          n_files=len(found)))
        _error(f"estimate cancelled: the adapted weights are in {out}, without the estimate")
        return 130
    t_est = time.perf_counter()
    meta = adapt.adapted_meta(model.meta, model.source, result, replay, n_files=len(found))

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.2f}%"

    est = f"{result.folds}-fold estimate by round" if result.after is not None else "too few to hold any out"
    print(f"your samples ({est}): {pct(result.before)} -> {pct(result.after)}")
    try:
        test = load_mnist("test", args.data)
    except DataError as exc:
        print(f"MNIST test: not measured ({exc})")
    else:
        before_test = float((adapt.predict(model, test.X) == test.y).mean())
        after_test = float((adapt.predict(result.networks, test.X) == test.y).mean())
        meta["test_accuracy"] = after_test
        print(f"MNIST test: {pct(before_test)} -> {pct(after_test)}")
    adapt.update_adapted_meta(out, meta)
    more = result.seconds - result.weights_seconds + time.perf_counter() - t_est
    print(f"estimates in {more:.1f} s more"
          + (f" ({result.folds} more adaptations for the estimate)" if result.folds else "")
          + f"; added to {out / 'model.json'}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Fetch MNIST and the pen digits into the cache (or --dest) with checksum verification."""
    from model.datasets import mnist, pendigits

    def progress(name: str, done: int, total: int) -> None:
        pct = f"{100 * done / total:5.1f}%" if total else f"{done} bytes"
        end = "\n" if total and done >= total else ""
        print(f"\r{name:30s} {pct}", end=end, file=sys.stderr, flush=True)

    mirrors = tuple(args.mirror) if args.mirror else mnist.MIRRORS
    folder = mnist.download(args.dest, mirrors=mirrors, progress=progress)
    print(f"MNIST ready in {folder}")
    pen_mirrors = tuple(args.mirror) if args.mirror else pendigits.MIRRORS
    pen = pendigits.download(pendigits.default_pen_dir(folder), mirrors=pen_mirrors, progress=progress)
    print(f"Pen digits ready in {pen.parent}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    p = argparse.ArgumentParser(
        prog="digitpad",
        description="Draw digits and see them recognised. With no command, opens the app.",
    )
    p.add_argument("--version", action="version", version=f"digitpad {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a network with L-BFGS-B and write its weights")
    from model.train_settings import add_train_arguments

    add_train_arguments(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="accuracy on the 10,000 MNIST test images")
    e.add_argument("--weights", help="weights folder (default: the active weights)")
    e.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA, else the user cache)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="recognise the digits in image or ink files")
    r.add_argument("--weights", help="weights folder (default: the active weights)")
    r.add_argument("--json", action="store_true", help="one JSON object per line")
    r.add_argument("paths", nargs="+", metavar="PATH", help="PNG/JPEG/BMP/GIF/TIFF image or .json ink")
    r.set_defaults(func=cmd_predict)

    rp = sub.add_parser("report", help="write the network's views (PNG), report.json and index.html")
    rp.add_argument("--weights", help="weights folder (default: the active weights)")
    rp.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA, else the user cache)")
    rp.add_argument("--pen-data", help="pendigits folder (default: beside the MNIST folder)")
    rp.add_argument("--out", required=True, help="folder to write the report into")
    rp.set_defaults(func=cmd_report)

    a = sub.add_parser("adapt", help="adapt the weights to labelled samples of your handwriting")
    a.add_argument("--weights", help="weights to start from (default: the active weights)")
    a.add_argument("--out", help="weights folder to write (default: the user data folder's, then active)")
    a.add_argument("--seed", type=int, default=0, help="random seed (0)")
    a.add_argument("--data", help="MNIST folder for the test figure (default: $DIGITPAD_DATA)")
    a.add_argument("paths", nargs="*", metavar="PATH",
                   help="labelled ink files or folders of them (default: your samples)")
    a.set_defaults(func=cmd_adapt)

    d = sub.add_parser("download", help="fetch MNIST and the UCI pen digits into the user cache, "
                                        "checking SHA-256")
    d.add_argument("--dest", help="MNIST folder to download into (default: the user cache); the pen "
                                  "digits go to pendigits-train beside it")
    d.add_argument("--mirror", action="append", help="base URL to fetch from (repeatable)")
    d.set_defaults(func=cmd_download)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `digitpad` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from app.main_window import run_app

        return run_app()
    from model.errors import DigitpadError

    try:
        return args.func(args)
    except DigitpadError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
