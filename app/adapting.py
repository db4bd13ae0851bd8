"""Adapting the current network to the user's samples, as the app does it (no Tk in the worker).

`run_adapt` is the whole job, run in a worker thread: the user's samples to
network inputs (`model.personal.samples.training_arrays`), `model.personal.adapt.adapt` on
them mixed with the shipped replay set, then the figures the app shows and
decides with:

- the user's samples before and after (after estimated fairly by
  `model.personal.adapt`: each fold read by a network adapted without it);
- a *check set* of `CHECK_ROWS` replay digits held out of the adaptation
  (MNIST and pen digits of the shipped model's training writers), read by
  the current and the adapted network: what adapting may have cost
  everybody else's digits;
- MNIST test before and after, when the MNIST files are found (the app
  works offline without them).

The adapted weights come first (issue 26: in use within two seconds of
Adapt): `run_adapt` hands an outcome with the check set measured but
without the fair estimate or MNIST to `on_weights` as soon as they are
ready, and the full outcome when the estimate's extra adaptations and MNIST
are done.

`AdaptJob` runs it in a thread and hands its progress and outcomes to Tk
callbacks through a `queue.Queue` polled with ``after()``; Cancel sets an
Event that the trainer polls between iterations. Saving is left to the
caller: `apply_adapted` saves the adapted weights as the user's, keeping the
weights they replace aside so that `go_back` can put them back byte for
byte; `save_adapted` saves without keeping anything.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHECK_ROWS = 300
"""Replay digits kept out of the adaptation to check that nothing else was forgotten."""
CHECK_MARGIN = 0.01
"""The adapted weights may read the check set at most this much worse (3 of 300 digits)."""
POLL_MS = 50
APPLY_WAIT = 3.0
"""Seconds the worker waits, after handing the weights over, for the Tk side to have switched to them
before it starts the estimate (which would otherwise compete with saving and loading them)."""
BACKUP_NAME = ".weights-before-adapting"
"""Beside the user's weights folder: the weights the last adaptation replaced (`apply_adapted`)."""


@dataclass
class AdaptOutcome:
    """What an adaptation produced and the figures to judge it by (accuracies in 0..1)."""

    base: Any  # the model.net.weights.Model that was adapted
    meta: dict
    result: Any  # model.personal.adapt.AdaptResult (its networks are the adapted weights)
    n_samples: int
    samples_before: float | None
    samples_after: float | None
    check_before: float | None
    check_after: float | None
    mnist_before: float | None
    mnist_after: float | None
    cancelled: bool = False
    samples_fit: float | None = None
    """The adapted weights on the very samples they were adapted to."""
    complete: bool = True
    """False for the outcome handed over when the weights are ready: no fair estimate, no MNIST yet."""
    weights_seconds: float | None = None
    """Seconds from the start of `run_adapt` to the adapted weights (check set measured)."""
    estimate_cancelled: bool = False
    """Cancelled after the weights were ready: they are adapted, the estimate is missing."""

    def improves(self, margin: float = CHECK_MARGIN) -> bool:
        """Worth switching to without asking (Learn from corrections).

        The adapted weights must read the samples they learned better than the current ones,
        the fair estimate (samples held out of the adapting) must be no worse, and the
        check set at most `margin` worse. The fair estimate alone cannot be the gate: after
        three corrections of three different digits, no held-out one resembles the others,
        so it says "no better" even when each correction has been learned. Before the fair
        estimate is in (`complete` False) the other two decide; it can only say no afterwards.
        """
        if self.cancelled or self.samples_before is None or self.samples_fit is None:
            return False
        if self.samples_fit <= self.samples_before:
            return False
        if self.samples_after is not None and self.samples_after < self.samples_before:
            return False
        if self.check_before is not None and self.check_after is not None:
            return self.check_after >= self.check_before - margin
        return True

    def to_json(self) -> dict:
        """The figures, for the debug snapshot and tests."""
        keys = ("n_samples", "samples_before", "samples_after", "samples_fit", "check_before", "check_after",
                "mnist_before", "mnist_after", "cancelled", "complete", "weights_seconds",
                "estimate_cancelled")
        return {k: getattr(self, k) for k in keys} | {"improves": self.improves()}


def split_replay(replay, n_check: int = CHECK_ROWS):
    """(replay to train on, check rows X, y): every k-th row held out, k chosen for `n_check` rows."""
    n = len(replay)
    if n == 0 or n_check <= 0:
        return replay, None, None
    step = max(2, n // n_check)
    hold = np.zeros(n, bool)
    hold[::step] = True
    return replay.subset(~hold), replay.X[hold], replay.y[hold]


_shipped_replay: list = []
_shipped_lock = threading.Lock()


def load_shipped_replay():
    """The replay set shipped in ``assets/`` (works from source, wheel and bundle); read once per
    process (it is a read-only resource), so that what is kept about it is found again."""
    from app import paths
    from model.datasets.replay import load_replay, replay_path

    with _shipped_lock:
        if not _shipped_replay:
            _shipped_replay.append(load_replay(replay_path(paths.resource_root())))
        return _shipped_replay[0]


def warm_up(model) -> None:
    """Find or build the kept activations of `model` on the shipped replay set (`model.personal.adapt.
    kept_activations`), so that the first Adapt does not wait for them; for a background thread.
    Any error is left for the adaptation itself to report."""
    from model.personal.adapt import REPLAY_COPIES, as_networks, kept_activations

    try:
        replay = load_shipped_replay()
        nets = as_networks(model)
        if all(len(t) > 1 for t, _ in nets):
            kept_activations([(t[:-1], d) for t, d in nets], split_replay(replay)[0], REPLAY_COPIES)
    except Exception:  # noqa: BLE001 - a warm-up that fails only costs the first adaptation time
        pass


def _accuracy(weights, X, y) -> float | None:
    from model.personal.adapt import predict

    if X is None or not len(y):
        return None
    return float(np.mean(predict(weights, X) == np.asarray(y)))


def _mnist_test(data_dir: str | None):
    from model.datasets.mnist import load_mnist
    from model.errors import DigitpadError

    try:
        return load_mnist("test", data_dir)
    except DigitpadError:
        return None


def run_adapt(model, samples: Sequence, *, should_stop: threading.Event | Callable[[], bool] | None = None,
              progress: Callable[[Any], None] | None = None, seed: int = 0, mnist_dir: str | None = None,
              replay=None, measure_mnist: bool = True,
              on_weights: Callable[[AdaptOutcome], None] | None = None) -> AdaptOutcome:
    """Adapt `model` (a `Model`) to `samples`; measure; nothing is saved.

    As soon as the adapted weights are ready, `on_weights` gets an outcome (on the worker's thread)
    with the samples before, the fit and the check set measured, ``complete`` False; the returned
    outcome adds the fair estimate and MNIST test. Raises `DigitpadError` (one line) when no sample
    is usable or the replay set is missing.
    """
    from model.errors import InputError
    from model.personal.adapt import adapt, adapted_meta
    from model.personal.samples import training_arrays

    t0 = time.perf_counter()
    warnings: list[str] = []
    X, y, groups = training_arrays(list(samples), warnings=warnings)
    if not len(y):
        raise InputError("no usable samples to adapt to" + (f" ({warnings[0]})" if warnings else ""))
    replay = replay if replay is not None else load_shipped_replay()
    train_replay, Xc, yc = split_replay(replay)
    check_before = _accuracy(model, Xc, yc)
    figures: dict = {}

    def outcome_of(result, complete: bool) -> AdaptOutcome:
        if "check_after" not in figures:
            kept = np.setdiff1d(np.arange(len(y)), [i for i, _, _ in result.doubtful])  # without the slips
            figures["check_after"] = _accuracy(result.networks, Xc, yc)
            figures["fit"] = _accuracy(result.networks, X[kept], y[kept])
        meta = adapted_meta(model.meta, model.source, result, train_replay, n_files=len(samples))
        meta["adapt"]["check_set"] = {"rows": int(len(yc)) if yc is not None else 0,
                                      "held_out_of": "the replay set (every k-th row)",
                                      "accuracy_before": check_before,
                                      "accuracy_after": figures["check_after"]}
        figures.setdefault("weights_seconds", time.perf_counter() - t0)
        return AdaptOutcome(model, meta, result, len(samples), result.before, result.after,
                            check_before, figures["check_after"], None, None, samples_fit=figures["fit"],
                            complete=complete, weights_seconds=figures["weights_seconds"],
                            estimate_cancelled=result.estimate_cancelled)

    def weights_ready(result) -> None:
        early = outcome_of(result, complete=False)  # measures the check set, the fit and the time
        if on_weights is not None:
            on_weights(early)

    result = adapt(model, X, y, replay=train_replay, seed=seed, groups=groups, progress=progress,
                   should_stop=should_stop, base_meta=model.meta, on_weights=weights_ready)
    if result.cancelled:
        return AdaptOutcome(model, dict(model.meta), result, len(samples), result.before, None,
                            None, None, None, None, cancelled=True)
    outcome = outcome_of(result, complete=True)
    if result.estimate_cancelled:
        return outcome
    test = _mnist_test(mnist_dir) if measure_mnist else None
    if test is not None:
        outcome.mnist_before = _accuracy(model, test.X, test.y)
        outcome.mnist_after = _accuracy(result.networks, test.X, test.y)
        outcome.meta["test_accuracy"] = outcome.mnist_after
    return outcome


def save_adapted(outcome: AdaptOutcome, folder: Path | None = None) -> Path:
    """Write the adapted weights and their model.json (atomically) to the user's weights folder."""
    from app import paths
    from model.personal.adapt import save_adapted as save

    return save(folder or paths.user_weights_dir(), outcome.base, outcome.result, outcome.meta)


def apply_adapted(outcome: AdaptOutcome, folder: Path | None = None) -> Path:
    """`save_adapted`, keeping a copy of the weights folder it replaces (if there was one) beside it
    as `BACKUP_NAME`, for `go_back`. An older copy is dropped: only the last adaptation can be undone."""
    from app import paths

    folder = Path(folder or paths.user_weights_dir())
    backup = folder.parent / BACKUP_NAME
    folder.parent.mkdir(parents=True, exist_ok=True)
    if backup.exists():
        shutil.rmtree(backup)
    if folder.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f"{BACKUP_NAME}.", suffix=".tmp", dir=folder.parent))
        try:
            shutil.copytree(folder, tmp / "copy")
            os.replace(tmp / "copy", backup)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return save_adapted(outcome, folder)


def go_back(folder: Path | None = None) -> bool:
    """Undo the last `apply_adapted`: the weights folder it replaced is put back as it was (True), or,
    when there was none (the shipped weights were in use), the adapted one is removed (False)."""
    from app import paths

    folder = Path(folder or paths.user_weights_dir())
    backup = folder.parent / BACKUP_NAME
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    try:
        if backup.exists():
            os.replace(backup, folder)
            return True
        return False
    finally:
        shutil.rmtree(old, ignore_errors=True)


def update_saved_meta(outcome: AdaptOutcome, folder: Path | None = None) -> Path:
    """Add the fair estimate and MNIST figures of a complete outcome to the saved weights' model.json."""
    from app import paths
    from model.personal.adapt import update_adapted_meta

    return update_adapted_meta(folder or paths.user_weights_dir(), outcome.meta)


class AdaptJob:
    """One `run_adapt` in a worker thread, reporting to Tk callbacks via a queue and ``after()``.

    `on_progress(AdaptProgress)`, `on_weights(AdaptOutcome)` (the weights are ready, the
    estimate follows), `on_done(AdaptOutcome)` and `on_error(message)` are called on the Tk
    thread. `cancel()` stops it after the current iteration (the outcome then says cancelled,
    or, once the weights were handed over, estimate_cancelled); `shutdown()` (window closing)
    also stops polling and waits briefly.
    """

    def __init__(self, widget, model, samples: Sequence, *, on_done: Callable[[AdaptOutcome], None],
                 on_error: Callable[[str], None], on_progress: Callable[[Any], None] | None = None,
                 on_weights: Callable[[AdaptOutcome], None] | None = None, mnist_dir: str | None = None):
        self.widget = widget
        self.model = model
        self.samples = list(samples)
        self.on_done, self.on_error, self.on_progress = on_done, on_error, on_progress
        self.on_weights = on_weights
        self.weights_ready = False
        self.applied = threading.Event()
        self.mnist_dir = mnist_dir
        self.events: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._poll_job: str | None = None
        self.finished = False

    @property
    def running(self) -> bool:
        """True from `start` until the outcome (or error) has been handed over."""
        return self.thread is not None and not self.finished

    def start(self) -> None:
        """Start the worker and the polling."""
        self.thread = threading.Thread(target=self._work, name="digitpad-adapt", daemon=True)
        self.thread.start()
        self._poll_job = self.widget.after(POLL_MS, self._poll)

    def _work(self) -> None:
        from model.errors import DigitpadError

        try:
            outcome = run_adapt(self.model, self.samples, should_stop=self.stop,
                                progress=lambda p: self.events.put(("progress", p)), mnist_dir=self.mnist_dir,
                                on_weights=self._hand_over)
            self.events.put(("done", outcome))
        except DigitpadError as exc:
            self.events.put(("error", str(exc)))
        except MemoryError:
            self.events.put(("error", "not enough memory to adapt"))
        except Exception as exc:  # shown as one line, never a traceback
            self.events.put(("error", f"adapting failed: {type(exc).__name__}: {exc}"))

    def _hand_over(self, outcome: AdaptOutcome) -> None:
        """On the worker: pass the weights to the Tk thread, then let it switch to them in peace."""
        self.events.put(("weights", outcome))
        if self.on_weights is not None:
            self.applied.wait(APPLY_WAIT)

    def _poll(self) -> None:
        self._poll_job = None
        last = None
        while True:
            try:
                msg = self.events.get_nowait()
            except queue.Empty:
                break
            if msg[0] == "progress":
                last = msg[1]
            elif msg[0] == "weights":
                self.weights_ready = True
                try:
                    if self.on_weights is not None:
                        self.on_weights(msg[1])
                finally:
                    self.applied.set()  # the estimate may start
                if self.finished:  # the callback shut the job down
                    return
            else:
                self.finished = True
                if last is not None and self.on_progress:
                    self.on_progress(last)
                (self.on_done if msg[0] == "done" else self.on_error)(msg[1])
                return
        if last is not None and self.on_progress:
            self.on_progress(last)
        self._poll_job = self.widget.after(POLL_MS, self._poll)

    def cancel(self) -> None:
        """Ask the worker to stop after the current iteration."""
        self.stop.set()

    def shutdown(self, wait: float = 3.0) -> None:
        """Stop the worker and the polling (the window is closing); nothing is handed over."""
        self.stop.set()
        self.applied.set()
        self.finished = True
        if self._poll_job is not None:
            try:
                self.widget.after_cancel(self._poll_job)
            except Exception:  # the widget may be gone already
                pass
            self._poll_job = None
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(wait)
