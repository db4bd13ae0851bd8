"""The training recipes (`digitpad train --recipe NAME` and the Retrain dialog) and the
dialog's keep-or-discard comparison; no Tk here.

Both the command and the dialog get a recipe's settings from `recipe` (a
`TrainConfig` naming the recipe): the command puts the options it was given
over them, the dialog shows them in its fields and runs them.

- *quick*: a fine-tune of the shipped weights (`TrainConfig.init`): their own
  settings (MNIST, pen digits, one stage of fresh distortions) for a few
  dozen iterations from where they are, each member of a committee from its
  own weights. Minutes, not the hour a from-scratch run of them takes; with
  the user's samples included it is the quick way to teach them a hand.
- *standard* (the dialog's default): from scratch on MNIST and the pen
  digits, one deskewed network trained in distortion stages, the first stage
  on a growing batch (`model.net.train.train_growing`).
- *full*: whatever the shipped weights were trained with. Their
  ``model.json`` records the run's settings as data (``"settings"``, the
  `TrainConfig` fields) beside the command kept for people to read; weights
  written before that key are read from the command with the train options
  themselves (`model.train_settings.config_of_meta`), never with the CLI's
  parser. Only the data folders are the user's, not the build machine's.
- *include my samples*: the user's labelled samples (`model.personal.samples`) as
  extra training rows, each digit with distorted copies so that a few dozen
  drawings weigh something among 60,000 images.

A recipe's time estimate is measured, not guessed: `MEASURED` keeps the
seconds a run took, with the command and the date (the full recipe's come
from the shipped model.json).

`compare` reads the same evaluation sets with the current and the new
network, both through `Recogniser.classify` (so any preprocessing the
recogniser adds applies to both): MNIST test, the pen writers held out of
the shipped model's training (when the pen file is there) and the user's
samples. Left out: choosing for the user; the dialog shows the figures and
asks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from model.train_settings import TrainConfig, config_of_meta

NAMES = ("quick", "standard", "full")
"""The recipes, in the dialog's order; `DEFAULT` is preselected."""
DEFAULT = "standard"

QUICK_ITERATIONS = 30
"""L-BFGS-B iterations of the quick fine-tune (for each member of a committee)."""
STANDARD = TrainConfig(hidden=[500], deskew=True, pen=True, pen_copies=8, lam=3.0, max_iter=560, stages=4,
                       augment=1, grow=2, seed=1, recipe="standard")
"""One deskewed 784-500-10 (8 pen renderings, λ 3) for 4 stages of 140 iterations, the first on a growing
batch (1/4, 1/2, then all of the rows). With 6 pen renderings and 4 x 150 iterations (until 0.2.0) it read
compact numbers 1.3 points under the shipped committee (overlapping 5-10%); 8 renderings close that gap
(docs/measurements.md, Training recipes)."""


@dataclass(frozen=True)
class Measured:
    """How long a recipe's run took, and where that figure comes from."""

    seconds: float
    command: str
    date: str
    note: str = ""


MEASURED: dict[str, Measured] = {
    # training_seconds of the model.json it wrote, on an idle machine (187% CPU of 2 cores; 13:18 wall with
    # loading and rendering the data); it read MNIST test 99.14% and held-out pen writers 99.00% (shipped
    # committee: 99.41%, 99.07%). Run as `--recipe standard --member 500:deskew:pen8 --max-iter 560`, these
    # settings. The settings before (6 pen renderings, 600 iterations) trained in 648.9 s on an earlier idle
    # run; 8 renderings with 600 iterations took 905.1 s, 10 took 926.6 s that afternoon.
    "standard": Measured(773.9, "digitpad train --recipe standard", "2026-12-03", "idle machine, 2 cores"),
    # A fine-tune of the 8-stage committee with MNIST's last 10,000 held out: pen writers 25-30 99.13%
    # (the shipped weights 99.07%), USPS 99.09%; 249 CPU s. On 2026-12-02, under load, of the 0.1.0
    # committee: 539 s.
    "quick": Measured(144.0, "python benchmarks/bench_recipes.py --recipes quick --no-shipped", "2026-12-03",
                      "idle machine, 2 cores"),
}
"""Measured wall times of the recipes with fixed settings (full: the shipped model.json's)."""

SAMPLE_COPIES = 10
"""Distorted copies of each of the user's digits added to a retraining run (besides the original)."""


@dataclass
class Recipe:
    """A named training recipe: its settings, what it is, how long it took when it was measured."""

    key: str  # one of NAMES
    config: TrainConfig | None
    summary: str
    expected_seconds: float | None = None
    problem: str = ""  # why the recipe cannot run (then config is None)
    measured: str = ""  # where expected_seconds comes from


def describe(config: TrainConfig) -> str:
    """One line of what a config trains: the network(s), the data, the schedule."""
    def net(hidden, deskew_it: bool) -> str:
        return f"784-{'-'.join(map(str, hidden))}-10" + (" (deskewed)" if deskew_it else "")

    if len(config.members) > 1:
        parts = ["a committee of " + " and ".join(net(m.hidden, m.deskew) for m in config.members)
                 + " on MNIST"]
    elif config.members:
        parts = [f"{net(config.members[0].hidden, config.members[0].deskew)} on MNIST"]
    else:
        parts = [f"{net(config.hidden, config.deskew)} on MNIST"]
    if config.pen:
        parts.append("pen digits (held-out writers kept out)")
    if config.stages > 1 or config.augment:
        parts.append(f"{config.stages} stage{'s' * (config.stages != 1)} of fresh distortions"
                     f" ({config.augment} cop{'ies' if config.augment != 1 else 'y'} per image)")
    extra = f", growing batch from 1/{2 ** config.grow} of the rows" if config.grow else ""
    if config.hard:
        extra += f", later stages on the hard rows and {config.hard:.0%} of the rest"
    return (f"{' + '.join(parts)}, λ {config.lam:g}, {config.max_iter} iterations{extra}, "
            f"seed {config.seed}")


def _fixed(key: str, config: TrainConfig, what: str) -> Recipe:
    m = MEASURED.get(key)
    note = f"on {m.date}, {m.command}" + (f", {m.note}" if m.note else "") if m else ""
    return Recipe(key, copy.deepcopy(config), f"{what}: {describe(config)}.",
                  expected_seconds=m.seconds if m else None, measured=note)


def quick_recipe(meta: dict, folder: str) -> Recipe:
    """A fine-tune of the weights in `folder` (normally the shipped ones), whose model.json is `meta`."""
    try:
        config = config_of_meta(meta)
    except ValueError as exc:
        return Recipe("quick", None, "", problem=f"cannot read the shipped weights' settings: {exc}")
    config = replace(config, init=str(folder), max_iter=QUICK_ITERATIONS, stages=1, average_stages=1, grow=0,
                     data_dir=None, pen_dir=None, recipe="quick",
                     command=f"Digitpad Retrain dialog, Quick recipe (a fine-tune of {folder})")
    return _fixed("quick", config, "A fine-tune of the shipped weights")


def standard_recipe() -> Recipe:
    """From scratch on MNIST and the pen digits in about a quarter of an hour."""
    return _fixed("standard", STANDARD, "From scratch")


def full_recipe(meta: dict) -> Recipe:
    """The recipe of the weights whose ``model.json`` is `meta` (normally the shipped ones)."""
    try:
        config = config_of_meta(meta)
    except ValueError as exc:
        return Recipe("full", None, "", problem=str(exc))
    command = meta.get("command") if isinstance(meta.get("command"), str) else ""
    config = replace(config, data_dir=None,  # the user's MNIST folder, set by the dialog
                     pen_dir=None,  # beside it (or $DIGITPAD_PEN_DATA), where `digitpad download` puts it
                     recipe="full", command=f"Digitpad Retrain dialog, Full recipe: {command}")
    seconds = meta.get("training_seconds")
    return Recipe("full", config, f"The shipped model's recipe: {describe(config)}.",
                  expected_seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
                  measured="by the shipped model.json's training_seconds")


def shipped_meta() -> dict:
    """The shipped weights' model.json (DigitpadError if it cannot be read)."""
    from app import paths
    from model.errors import DigitpadError
    from model.fileio import read_json

    meta = read_json(paths.shipped_weights_dir() / "model.json", DigitpadError)
    return meta if isinstance(meta, dict) else {}


def recipe(name: str, meta: dict | None = None, folder: str | None = None) -> Recipe:
    """The recipe called `name` (one of `NAMES`). *quick* and *full* read the shipped weights:
    `meta` is their model.json and `folder` where they are (both read from the shipped weights
    when None). An unknown name is a ValueError (one line)."""
    if name == "standard":
        return standard_recipe()
    if name not in NAMES:
        raise ValueError(f"--recipe {name!r}: no such recipe; expected one of {', '.join(NAMES)}")
    if folder is None:
        from app import paths

        folder = str(paths.shipped_weights_dir())
    if meta is None:
        from model.errors import DigitpadError

        try:
            meta = shipped_meta()
        except DigitpadError as exc:
            return Recipe(name, None, "", problem=str(exc))
    return quick_recipe(meta, folder) if name == "quick" else full_recipe(meta)


def recipe_config(name: str) -> TrainConfig:
    """`recipe(name)`'s settings for `digitpad train --recipe NAME` (ValueError, one line, for an
    unknown name or a recipe that cannot run here)."""
    r = recipe(name)
    if r.config is None:
        raise ValueError(f"--recipe {name}: not available ({r.problem})")
    return r.config


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
