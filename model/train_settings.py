"""A training run's settings: `TrainConfig`, model.json's record of them, the train options.

Light on purpose (no NumPy, no SciPy): the ``digitpad`` parser is built from
`add_train_arguments` at every start, and a Retrain dialog reads a
model.json's ``"settings"`` (written by `settings_json`) with
`config_of_meta`, falling back, for weights written before that key, to the
recorded ``digitpad train`` command read by these same options
(`parse_train_command`). `model.training_run` runs what a `TrainConfig` says.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
from dataclasses import dataclass, field, fields, replace

from model.net.layout import Layout


@dataclass(frozen=True)
class MemberSpec:
    """What sets one committee member apart; everything else comes from the run's TrainConfig."""

    hidden: tuple[int, ...]
    deskew: bool = False
    pen_copies: int = 3

    @classmethod
    def parse(cls, text: str) -> MemberSpec:
        """``HIDDEN[:deskew][:penN]``, e.g. ``500``, ``800:deskew``, ``300,100:deskew:pen6``."""
        from model.net.layout import parse_hidden

        parts = text.strip().split(":")
        try:
            hidden = tuple(parse_hidden(parts[0]))
        except ValueError as exc:
            raise ValueError(f"--member {text!r}: {exc}") from None
        deskew_it, pen_copies = False, 3
        for extra in parts[1:]:
            if extra == "deskew":
                deskew_it = True
            elif extra.startswith("pen") and extra[3:].isdigit() and int(extra[3:]) >= 1:
                pen_copies = int(extra[3:])
            else:
                raise ValueError(f"--member {text!r}: expected HIDDEN[:deskew][:penN], e.g. 800:deskew:pen6; "
                                 f"got {extra!r}")
        return cls(hidden, deskew_it, pen_copies)

    def __str__(self) -> str:
        return ",".join(map(str, self.hidden)) + (":deskew" if self.deskew else "") + (
            f":pen{self.pen_copies}" if self.pen_copies != 3 else "")


@dataclass
class TrainConfig:
    """Everything that determines a training run's result."""

    hidden: list[int] = field(default_factory=lambda: [300])
    lam: float = 1.0
    max_iter: int = 400
    seed: int = 0
    data_dir: str | None = None
    limit: int | None = None
    pen: bool = False
    pen_dir: str | None = None
    pen_holdout: str = "default"
    augment: int = 0
    copies_only: bool = False
    """Each stage trains on its `augment` distorted copies alone, not on the originals too
    (with ``augment=1``: half the arithmetic a stage)."""
    stages: int = 1
    validation: int = 0
    deskew: bool = False
    pen_copies: int = 3
    average_stages: int = 1
    """Keep the mean of the weights at the end of the last this-many stages (1: the last stage's own)."""
    members: tuple[MemberSpec, ...] = ()
    """Two or more: train a committee (`run_committee`), each member with its own size and preprocessing."""
    grow: int = 0
    """Growing-batch halvings (`model.net.train.train_growing`): each of the first `grow_stages`
    stages starts on 1/2**grow of its rows, doubling to all of them (0: all rows throughout)."""
    grow_stages: int = 1
    maxcor: int = 10
    """Past steps L-BFGS-B keeps for its curvature estimate (SciPy's default, 10)."""
    hard: float = 0.0
    """Hard-example stages (`model.net.train.hard_rows`): every stage that starts from trained weights (all
    but the first, or all of a fine-tune) trains on the rows the network reads wrong or unsurely, plus
    this fraction of the rest, lambda scaled to the rows (0: all rows in every stage)."""
    init: str = ""
    """A weights folder to start from instead of random weights (a fine-tune), "" for none: one
    network, or a committee whose members start this run's members in order (same layer sizes
    and preprocessing)."""
    recipe: str = ""
    """The named recipe (`app.recipes`) these settings started from, "" for none."""
    command: str = ""

    @property
    def rows_per_image(self) -> int:
        """Training rows each base image gives a stage: its `augment` distorted copies, plus
        itself unless `copies_only` (which needs copies to act)."""
        return self.augment + (0 if self.copies_only and self.augment else 1)


# -- a run's settings as data, and the `digitpad train` options that set them -------------------

def settings_json(config: TrainConfig) -> dict:
    """Every `TrainConfig` field but the command, as plain JSON (model.json's ``"settings"``)."""
    out = {}
    for f in fields(TrainConfig):
        if f.name == "command":
            continue
        value = getattr(config, f.name)
        if f.name == "members":
            value = [str(m) for m in value]
        elif f.name == "hidden":
            value = list(value)
        out[f.name] = value
    return out


def config_from_settings(settings: dict, command: str = "") -> TrainConfig:
    """The `TrainConfig` that `settings_json` recorded (ValueError, one line, for a bad record).
    Fields the record lacks (an older version's) keep their defaults."""
    if not isinstance(settings, dict):
        raise ValueError(f"the recorded settings are not a JSON object: {type(settings).__name__}")
    defaults = TrainConfig()
    kwargs: dict = {}
    for f in fields(TrainConfig):
        if f.name == "command" or f.name not in settings:
            continue
        value, default = settings[f.name], getattr(defaults, f.name)
        if f.name == "members":
            if not isinstance(value, list):
                raise ValueError(f"the recorded settings' members are not a list: {value!r}")
            value = tuple(MemberSpec.parse(str(m)) for m in value)
        elif f.name == "hidden":
            if not (isinstance(value, list) and value and all(isinstance(h, int) and h > 0 for h in value)):
                raise ValueError(f"the recorded hidden layers are not positive whole numbers: {value!r}")
            value = list(value)
        elif default is None:
            kind = int if f.name == "limit" else str
            if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
                raise ValueError(f"the recorded setting {f.name} has the wrong type: {value!r}")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"the recorded setting {f.name} is not true or false: {value!r}")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(default, int) and not float(value).is_integer()):
                raise ValueError(f"the recorded setting {f.name} is not the right kind of number: {value!r}")
            value = type(default)(value)
        elif not isinstance(value, type(default)):
            raise ValueError(f"the recorded setting {f.name} has the wrong type: {value!r}")
        kwargs[f.name] = value
    config = TrainConfig(**kwargs, command=command)
    _check(config)
    return config


def config_of_meta(meta: dict) -> TrainConfig:
    """The settings a model.json records: its ``"settings"`` data, else (weights written before
    that key existed) its ``digitpad train`` command, read with the train options below.
    ValueError (one line) when neither is there or usable."""
    command = meta.get("command")
    command = command if isinstance(command, str) else ""
    if "settings" in meta:
        return config_from_settings(meta["settings"], command)
    if not command.strip():
        raise ValueError("the model.json records no training command and no settings")
    return parse_train_command(command)


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``digitpad train``. Those that set a `TrainConfig` field default to None,
    so that `config_from_args` can tell what the command line gave (over a recipe's settings)."""
    d = TrainConfig()
    p.add_argument("--recipe", metavar="NAME",
                   help="start from a named recipe (quick, standard, full); options given as well override "
                        "its settings")
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA, else the user cache)")
    p.add_argument("--hidden", type=int, help=f"size of a single hidden layer ({d.hidden[0]})")
    p.add_argument("--hidden-layers", help="several hidden layers, e.g. 300,100 (overrides --hidden)")
    p.add_argument("--member", action="append", metavar="HIDDEN[:deskew][:penN]",
                   help="train a committee: one network per --member, e.g. --member 500 --member 800:deskew "
                        "(deskew: slant-normalised inputs; penN: N renderings of each pen digit, default 3); "
                        "one --member sets the single network's size and preprocessing")
    p.add_argument("--lambda", dest="lam", type=float, help=f"L2 regularisation ({d.lam})")
    p.add_argument("--max-iter", type=int, help=f"L-BFGS-B iterations ({d.max_iter})")
    p.add_argument("--seed", type=int, help=f"random seed ({d.seed})")
    p.add_argument("--out", default="weights-new", help="weights folder to write (weights-new)")
    p.add_argument("--limit", type=int, help="use only the first N training images")
    p.add_argument("--pen", action="store_true", default=None, help="add the pen-written digits (pendigits)")
    p.add_argument("--pen-data", help="pendigits folder (default: beside the MNIST folder)")
    p.add_argument("--pen-holdout",
                   help="comma-separated writer ids kept out of training for validation (default: 25-30)")
    p.add_argument("--augment", type=int,
                   help="distorted copies of each training image per stage (0: none)")
    p.add_argument("--copies-only", action="store_true", default=None,
                   help="train each stage on the distorted copies alone, not the originals too")
    p.add_argument("--stages", type=int,
                   help="split --max-iter over this many stages, each on fresh distortions (1)")
    p.add_argument("--average-stages", type=int, metavar="K",
                   help="keep the mean of the weights at the end of the last K stages (1: the last stage's)")
    p.add_argument("--grow", type=int, metavar="H",
                   help="growing batch: the first stage starts on 1/2^H of its rows, doubling to all of "
                        "them, its iterations split evenly (0: all rows throughout)")
    p.add_argument("--grow-stages", type=int, metavar="K",
                   help="grow the batch in each of the first K stages (1)")
    p.add_argument("--maxcor", type=int, metavar="M",
                   help=f"past steps L-BFGS-B keeps for its curvature estimate ({d.maxcor})")
    p.add_argument("--hard", type=float, metavar="F",
                   help="hard-example stages: each stage that starts from trained weights trains on the rows "
                        "the network reads wrong or unsurely plus this fraction of the others (0: all rows)")
    p.add_argument("--init", metavar="DIR",
                   help="start from the weights in DIR (a fine-tune) instead of random weights; a "
                        "committee's members start the --member networks in order")
    p.add_argument("--save-stages", metavar="DIR",
                   help="also write every stage's weights to DIR/NAME-stageK (NAME: network or memberN), "
                        "to compare stages with benchmarks/committees.py")
    p.add_argument("--validation", type=int,
                   help="hold out the last N MNIST training images to report validation accuracy")


_ARG_FIELDS = {  # argparse dest -> TrainConfig field (those that map one to one)
    "lam": "lam", "max_iter": "max_iter", "seed": "seed", "data": "data_dir", "limit": "limit", "pen": "pen",
    "pen_data": "pen_dir", "pen_holdout": "pen_holdout", "augment": "augment", "copies_only": "copies_only",
    "stages": "stages", "average_stages": "average_stages", "validation": "validation", "grow": "grow",
    "grow_stages": "grow_stages", "maxcor": "maxcor", "init": "init", "hard": "hard",
}


def config_from_args(args: argparse.Namespace, command: str, base: TrainConfig | None = None) -> TrainConfig:
    """The `TrainConfig` of parsed train options (`add_train_arguments`): `base`'s settings (a
    recipe's; default `TrainConfig()`) with every option the command line gave put over them.
    ValueError (one line) for settings that cannot run together."""
    from model.net.layout import parse_hidden

    config = replace(base if base is not None else TrainConfig(), command=command)
    given = {f: getattr(args, dest) for dest, f in _ARG_FIELDS.items()
             if getattr(args, dest, None) is not None}
    if getattr(args, "hidden_layers", None):
        given["hidden"] = parse_hidden(args.hidden_layers)
    elif getattr(args, "hidden", None) is not None:
        given["hidden"] = [args.hidden]
    if getattr(args, "member", None):
        members = tuple(MemberSpec.parse(m) for m in args.member)
        if len(members) == 1:  # one network, shaped as its member says (what `train_model` runs)
            m = members[0]
            given.update(hidden=list(m.hidden), deskew=m.deskew, pen_copies=m.pen_copies, members=())
        else:
            given["members"] = members
    elif "hidden" in given:
        given["members"] = ()  # a size given on the command line replaces a recipe's members
    config = replace(config, **given)
    _check(config)
    return config


def _check(config: TrainConfig) -> None:
    """ValueError (one line) for settings that cannot run together."""
    Layout.with_hidden(config.hidden)
    for m in config.members:
        Layout.with_hidden(list(m.hidden))
    if not 1 <= config.average_stages <= max(1, config.stages):
        raise ValueError(f"--average-stages {config.average_stages}: expected a number from 1 to --stages "
                         f"({config.stages})")
    if config.copies_only and config.augment < 1:
        raise ValueError("--copies-only trains on the distorted copies alone: it needs --augment 1 or more")
    if not 0 <= config.grow <= 10:
        raise ValueError(f"--grow {config.grow}: expected 0 to 10 halvings")
    if config.grow_stages < 1:
        raise ValueError(f"--grow-stages {config.grow_stages}: expected 1 or more")
    if config.maxcor < 1:
        raise ValueError(f"--maxcor {config.maxcor}: expected 1 or more")
    if not 0.0 <= config.hard <= 1.0:
        raise ValueError(f"--hard {config.hard:g}: expected a fraction from 0 to 1")


def parse_train_command(command: str) -> TrainConfig:
    """The `TrainConfig` of a recorded ``digitpad train ...`` command, read with the train options
    (model.json of weights written before it recorded ``"settings"``); ValueError, one line.
    A ``--recipe`` in it is not resolved here: the recipe's settings are recorded as data."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"cannot split the recorded command ({exc})") from None
    if words and words[0].endswith("digitpad"):
        words = words[1:]
    if not words or words[0] != "train":
        raise ValueError(f"the recorded command is not 'digitpad train': {command!r}")
    p = argparse.ArgumentParser(prog="digitpad train", add_help=False)
    add_train_arguments(p)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = p.parse_args(words[1:])
    except SystemExit:
        last = err.getvalue().strip().splitlines()
        raise ValueError(f"the recorded command does not parse ({last[-1] if last else command})") from None
    return config_from_args(args, command)
