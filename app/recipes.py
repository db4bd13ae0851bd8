"""The Retrain dialog's recipes (Quick, Full) and its keep-or-discard comparison; no Tk here.

- *Quick*: MNIST only, 784-300-10, lambda 1, 400 iterations: a few minutes.
- *Full*: whatever the shipped weights were trained with. Their ``model.json``
  records the exact ``digitpad train`` command; it is parsed by the CLI's own
  parser and turned into a `TrainConfig` by the CLI's own `train_config`, so
  a model shipped with another command (more stages, pen digits, new
  options) is retrained the same way without touching this module. Only the
  data folders are the user's, not the build machine's.
- *include my samples*: the user's labelled samples (`model.personal.samples`) as
  extra training rows, each digit with distorted copies so that a few dozen
  drawings weigh something among 60,000 images.

`compare` reads the same evaluation sets with the current and the new
network, both through `Recogniser.classify` (so any preprocessing the
recogniser adds applies to both): MNIST test, the pen writers held out of
the shipped model's training (when the pen file is there) and the user's
samples. Left out: choosing for the user; the dialog shows the figures and
asks.
"""

from __future__ import annotations

import contextlib
import copy
import io
import shlex
from dataclasses import dataclass, field

import numpy as np

from model.training_run import TrainConfig

QUICK = TrainConfig(hidden=[300], lam=1.0, max_iter=400)
SAMPLE_COPIES = 10
"""Distorted copies of each of the user's digits added to a retraining run (besides the original)."""


@dataclass
class Recipe:
    """A named training recipe: its settings, what it is, how long it took when it was measured."""

    key: str  # "quick", "full"
    config: TrainConfig | None
    summary: str
    expected_seconds: float | None = None
    problem: str = ""  # why the recipe cannot run (then config is None)


def quick_recipe() -> Recipe:
    """MNIST only, small and fast."""
    c = QUICK
    return Recipe("quick", copy.deepcopy(c),
                  f"MNIST only: 784-{'-'.join(map(str, c.hidden))}-10, λ {c.lam:g}, "
                  f"{c.max_iter} iterations (a few minutes).")


def parse_train_command(command: str) -> TrainConfig:
    """The `TrainConfig` of a recorded ``digitpad train ...`` command (ValueError: one line)."""
    from app.cli import build_parser, train_config

    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"cannot split the recorded command ({exc})") from None
    if words and words[0].endswith("digitpad"):
        words = words[1:]
    if not words or words[0] != "train":
        raise ValueError(f"the recorded command is not 'digitpad train': {command!r}")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = build_parser().parse_args(words)
    except SystemExit:
        last = err.getvalue().strip().splitlines()
        raise ValueError(f"the recorded command does not parse ({last[-1] if last else command})") from None
    return train_config(args, command)


def full_recipe(meta: dict) -> Recipe:
    """The recipe of the weights whose ``model.json`` is `meta` (normally the shipped ones)."""
    command = meta.get("command")
    if not isinstance(command, str) or not command.strip():
        return Recipe("full", None, "", problem="the shipped weights' model.json records no training command")
    try:
        config = parse_train_command(command)
    except ValueError as exc:
        return Recipe("full", None, "", problem=str(exc))
    config.data_dir = None  # the user's MNIST folder, set by the dialog
    config.pen_dir = None  # beside it (or $DIGITPAD_PEN_DATA), where `digitpad download` puts it
    config.command = f"Digitpad Retrain dialog, Full recipe: {command}"
    if len(config.members) > 1:
        nets = " and ".join(f"784-{'-'.join(map(str, m.hidden))}-10" + (" (deskewed)" if m.deskew else "")
                            for m in config.members)
        parts = [f"a committee of {nets} on MNIST"]
    else:
        parts = [f"784-{'-'.join(map(str, config.hidden))}-10 on MNIST"]
    if config.pen:
        parts.append("pen digits (held-out writers kept out)")
    if config.stages > 1 or config.augment:
        parts.append(f"{config.stages} stage{'s' * (config.stages != 1)} of fresh distortions"
                     f" ({config.augment} cop{'ies' if config.augment != 1 else 'y'} per image)")
    summary = (f"The shipped model's recipe: {' + '.join(parts)}, λ {config.lam:g}, "
               f"{config.max_iter} iterations, seed {config.seed}.")
    seconds = meta.get("training_seconds")
    return Recipe("full", config, summary,
                  expected_seconds=float(seconds) if isinstance(seconds, (int, float)) else None)


def sample_rows(samples, copies: int = SAMPLE_COPIES, seed: int = 0,
                warnings: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): every digit of the user's samples, plus `copies` distorted copies of each."""
    from model.inputs.augment import augment_batch
    from model.personal.samples import training_arrays

    X, y, _ = training_arrays(samples, warnings=warnings)
    if not len(y):
        return X, y.astype(np.uint8)
    rng = np.random.default_rng([seed, 11])
    Xs = [X, *(augment_batch(X, rng) for _ in range(copies))]
    return np.concatenate(Xs).astype(np.float32), np.tile(y, copies + 1).astype(np.uint8)


@dataclass
class EvalSet:
    """Images and labels to compare two networks on."""

    name: str
    X: np.ndarray
    y: np.ndarray


@dataclass
class Row:
    """One line of the comparison: accuracy of the current and of the new network."""

    name: str
    n: int
    current: float | None
    new: float | None
    note: str = ""


@dataclass
class Comparison:
    """The keep-or-discard table, plus sets that could not be read (with the reason)."""

    rows: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """Plain JSON for the dialog's debug snapshot."""
        return {"rows": [vars(r) for r in self.rows], "missing": self.missing}


def evaluation_sets(data_dir: str | None, samples, holdout: list[int] | None = None,
                    missing: list[str] | None = None) -> list[EvalSet]:
    """MNIST test, the held-out pen writers (if the pen file is found) and the user's samples."""
    from model.datasets import pendigits
    from model.datasets.mnist import load_mnist
    from model.errors import DigitpadError
    from model.personal.samples import training_arrays

    sets = []
    test = load_mnist("test", data_dir)
    sets.append(EvalSet("MNIST test", test.X, test.y))
    writers = list(pendigits.DEFAULT_HOLDOUT if holdout is None else holdout)
    try:
        pen = [s for s in pendigits.load(pendigits.find_pen_file(None, data_dir)) if s.writer in writers]
        if pen:
            X, y = pendigits.render_samples(pen)
            sets.append(EvalSet(f"pen writers {writers[0]}–{writers[-1]}", X, y))
    except DigitpadError as exc:
        if missing is not None:
            missing.append(f"pen digits: {exc}")
    if samples:
        X, y, _ = training_arrays(samples)
        if len(y):
            sets.append(EvalSet("your samples", X, y))
    return sets


def compare(current, new, sets: list[EvalSet], trained_on_samples: bool = False) -> Comparison:
    """Accuracy of the `current` and `new` `Model`s (either may be None) on each set."""
    from model.recognise import Recogniser

    readers = [Recogniser(m) if m is not None else None for m in (current, new)]
    out = Comparison()
    for s in sets:
        acc = [float(np.mean(r.classify(s.X).argmax(axis=1) == s.y)) if r is not None else None
               for r in readers]
        note = "trained on them" if trained_on_samples and s.name == "your samples" else ""
        out.rows.append(Row(s.name, int(len(s.y)), acc[0], acc[1], note))
    return out


def model_of(result):
    """A `Model` for a freshly trained `RunResult` (one network or a committee; not saved anywhere yet)."""
    from model.net.layout import layout_from_shapes
    from model.net.weights import Model

    def one(thetas, meta: dict) -> Model:
        return Model(thetas=list(thetas), layout=layout_from_shapes([np.shape(t) for t in thetas]), meta=meta)

    if result.members:
        members = [one(thetas, meta) for _, thetas, meta in result.members]
        return Model(members[0].thetas, members[0].layout, result.meta, members=members)
    return one(result.thetas, result.meta)


def fmt_duration(seconds: float | None) -> str:
    """"about 18 minutes", "about 40 seconds", "unknown"."""
    if seconds is None:
        return "unknown"
    if seconds >= 5400:
        return f"about {seconds / 3600:.1f} hours"
    if seconds >= 90:
        return f"about {round(seconds / 60)} minutes"
    return f"about {round(seconds)} seconds"
