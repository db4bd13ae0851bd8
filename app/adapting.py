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

`AdaptJob` runs it in a thread and hands its progress and outcome to Tk
callbacks through a `queue.Queue` polled with ``after()``; Cancel sets an
Event that the trainer polls between iterations. Saving is left to the
caller (`save_adapted`), once the user (or the learn-from-corrections rule,
`AdaptOutcome.improves`) has said yes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHECK_ROWS = 300
"""Replay digits kept out of the adaptation to check that nothing else was forgotten."""
CHECK_MARGIN = 0.01
"""The adapted weights may read the check set at most this much worse (3 of 300 digits)."""
POLL_MS = 100


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

    def improves(self, margin: float = CHECK_MARGIN) -> bool:
        """Worth switching to without asking (Learn from corrections).

        The adapted weights must read the samples they learned better than the current ones,
        the fair estimate (samples held out of the adapting) must be no worse, and the
        check set at most `margin` worse. The fair estimate alone cannot be the gate: after
        three corrections of three different digits, no held-out one resembles the others,
        so it says "no better" even when each correction has been learned.
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
                "mnist_before", "mnist_after", "cancelled")
        return {k: getattr(self, k) for k in keys} | {"improves": self.improves()}


def split_replay(replay, n_check: int = CHECK_ROWS):
    """(replay to train on, check rows X, y): every k-th row held out, k chosen for `n_check` rows."""
    from model.datasets.replay import Replay

    n = len(replay)
    if n == 0 or n_check <= 0:
        return replay, None, None
    step = max(2, n // n_check)
    hold = np.zeros(n, bool)
    hold[::step] = True
    keep = ~hold
    train = Replay(X=replay.X[keep], y=replay.y[keep], source=replay.source[keep],
                   provenance=replay.provenance, sha256=replay.sha256, path=replay.path)
    return train, replay.X[hold], replay.y[hold]


def load_shipped_replay():
    """The replay set shipped in ``assets/`` (works from source, wheel and bundle)."""
    from app import paths
    from model.datasets.replay import load_replay, replay_path

    return load_replay(replay_path(paths.resource_root()))


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
              replay=None, measure_mnist: bool = True) -> AdaptOutcome:
    """Adapt `model` (a `Model`) to `samples`; measure; nothing is saved.

    Raises `DigitpadError` (one line) when no sample is usable or the replay set is missing.
    """
    from model.errors import InputError
    from model.personal.adapt import adapt, adapted_meta
    from model.personal.samples import training_arrays

    warnings: list[str] = []
    X, y, groups = training_arrays(list(samples), warnings=warnings)
    if not len(y):
        raise InputError("no usable samples to adapt to" + (f" ({warnings[0]})" if warnings else ""))
    replay = replay if replay is not None else load_shipped_replay()
    train_replay, Xc, yc = split_replay(replay)
    result = adapt(model, X, y, replay=train_replay, seed=seed, groups=groups, progress=progress,
                   should_stop=should_stop, base_meta=model.meta)
    if result.cancelled:
        return AdaptOutcome(model, dict(model.meta), result, len(samples), result.before, None,
                            None, None, None, None, cancelled=True)
    kept = np.setdiff1d(np.arange(len(y)), [i for i, _, _ in result.doubtful])  # without the slips
    check_before, check_after = _accuracy(model, Xc, yc), _accuracy(result.networks, Xc, yc)
    test = _mnist_test(mnist_dir) if measure_mnist else None
    mnist_before = _accuracy(model, test.X, test.y) if test is not None else None
    mnist_after = _accuracy(result.networks, test.X, test.y) if test is not None else None
    meta = adapted_meta(model.meta, model.source, result, train_replay, n_files=len(samples))
    if mnist_after is not None:
        meta["test_accuracy"] = mnist_after
    meta["adapt"]["check_set"] = {"rows": int(len(yc)) if yc is not None else 0,
                                  "held_out_of": "the replay set (every k-th row)",
                                  "accuracy_before": check_before, "accuracy_after": check_after}
    return AdaptOutcome(model, meta, result, len(samples), result.before, result.after,
                        check_before, check_after, mnist_before, mnist_after,
                        samples_fit=_accuracy(result.networks, X[kept], y[kept]))


def save_adapted(outcome: AdaptOutcome, folder: Path | None = None) -> Path:
    """Write the adapted weights and their model.json (atomically) to the user's weights folder."""
    from app import paths
    from model.personal.adapt import save_adapted as save

    return save(folder or paths.user_weights_dir(), outcome.base, outcome.result, outcome.meta)


class AdaptJob:
    """One `run_adapt` in a worker thread, reporting to Tk callbacks via a queue and ``after()``.

    `on_progress(AdaptProgress)`, `on_done(AdaptOutcome)` and `on_error(message)` are
    called on the Tk thread. `cancel()` stops it after the current iteration (the outcome
    then says cancelled); `shutdown()` (window closing) also stops polling and waits briefly.
    """

    def __init__(self, widget, model, samples: Sequence, *, on_done: Callable[[AdaptOutcome], None],
                 on_error: Callable[[str], None], on_progress: Callable[[Any], None] | None = None,
                 mnist_dir: str | None = None):
        self.widget = widget
        self.model = model
        self.samples = list(samples)
        self.on_done, self.on_error, self.on_progress = on_done, on_error, on_progress
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
                                progress=lambda p: self.events.put(("progress", p)), mnist_dir=self.mnist_dir)
            self.events.put(("done", outcome))
        except DigitpadError as exc:
            self.events.put(("error", str(exc)))
        except MemoryError:
            self.events.put(("error", "not enough memory to adapt"))
        except Exception as exc:  # shown as one line, never a traceback
            self.events.put(("error", f"adapting failed: {type(exc).__name__}: {exc}"))

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
        self.finished = True
        if self._poll_job is not None:
            try:
                self.widget.after_cancel(self._poll_job)
            except Exception:  # the widget may be gone already
                pass
            self._poll_job = None
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(wait)
