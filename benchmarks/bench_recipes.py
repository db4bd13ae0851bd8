"""The training recipes side by side: wall time and validation figures, one table, one run.

Every row trains a recipe of `app.recipes` (the settings `digitpad train
--recipe NAME` and the Retrain dialog run) with the last 10,000 MNIST
training images held out, then reads the three validation sets of
`benchmarks/recipes.py`: MNIST validation (those 10,000), the pen writers
25-30 replayed through the pad's ink pipeline, and usps-train rendered as
scans through the image pipeline. The MNIST test set is never read. The
first row reads the shipped weights on the same sets, without training
(they were trained on all 60,000 MNIST images, the validation rows
included, so their MNIST validation figure is a training figure).

A reduced scale keeps a row to minutes on a shared machine: ``--set`` puts
settings over every recipe (``--set limit=20000 --set hidden=300``), and each
``--try`` adds a row of the first recipe with more settings over it (``--try
grow=2 --try grow=2,maxcor=20``; ``--try ""`` is the recipe as set). Each
row prints the load average before and after it, because wall times on a
shared machine mean little without it, and the process's CPU seconds (all
its threads), which other processes' load disturbs less.

``--stage-figures`` prints, under a row, each network's figures after every stage
and with the mean of its last two stages' weights (``--average-stages 2``
without training again).

Run: ``python benchmarks/bench_recipes.py [--recipes standard,full] [--set F=V ...] [--try F=V,... ...]
[--stage-figures]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (repo on sys.path, default data location)
from recipes import validation_sets  # noqa: E402

from app import recipes as app_recipes  # noqa: E402
from model.net.ensemble import committee_proba  # noqa: E402
from model.net.layout import parse_hidden  # noqa: E402
from model.train_settings import TrainConfig, config_from_settings, settings_json  # noqa: E402
from model.training_run import average_weights, train_model  # noqa: E402

VALIDATION = 10000


def with_settings(config: TrainConfig, text: str) -> TrainConfig:
    """`config` with ``FIELD=VALUE[,FIELD=VALUE...]`` put over it (hidden: ``300`` or ``300-100``;
    members: ``500:deskew+800:deskew``); ValueError for a bad field or value."""
    settings = settings_json(config)
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in settings or key == "command":
            raise ValueError(f"--set/--try {item!r}: expected FIELD=VALUE with a TrainConfig field")
        if key == "hidden":
            settings[key] = parse_hidden(value.replace("-", ","))
            settings["members"] = []
        elif key == "members":
            settings[key] = value.split("+") if value else []
        elif value.lower() in ("true", "false"):
            settings[key] = value.lower() == "true"
        elif value.lower() == "none":
            settings[key] = None
        else:
            try:
                settings[key] = int(value)
            except ValueError:
                try:
                    settings[key] = float(value)
                except ValueError:
                    settings[key] = value
    return config_from_settings(settings, config.command)


def networks_of(result) -> list[tuple[list[np.ndarray], bool]]:
    """(Thetas, deskew) of each network a run trained (one, or a committee's members)."""
    if result.members:
        return [(thetas, bool(meta.get("deskew"))) for _, thetas, meta in result.members]
    return [(result.thetas, bool(result.meta.get("deskew")))]


def shipped_networks() -> list[tuple[list[np.ndarray], bool]]:
    """The shipped committee's networks."""
    from model.net.weights import load_weights

    model = load_weights(common.ROOT / "weights")
    return [(m.thetas, m.deskew) for m in (model.members or [model])]


def stage_lines(line, stage_ends: dict[str, dict[int, list[np.ndarray]]],
                networks: list[tuple[list[np.ndarray], bool]]) -> None:
    """``--stage-figures``: each network's figures after every stage (`stage_ends`: network name ->
    stage -> Thetas, filled in the run's order, so member1 comes before member10, as in `networks`),
    with the mean of its last two stages' weights, and a committee of those means."""
    means = []
    for (name, ends), (_, deskewed) in zip(stage_ends.items(), networks, strict=True):
        for k in sorted(ends):
            line(f"  {name} after stage {k}", [(ends[k], deskewed)], None, "-", "")
        if len(ends) > 1:
            last = sorted(ends)[-2:]
            means.append((average_weights([ends[k] for k in last]), deskewed))
            line(f"  {name} mean of stages {last[0]}-{last[1]}", means[-1:], None, "-", "")
    if len(means) > 1:
        line("  committee of those means", means, None, "-", "")


def load() -> str:
    """The 1-minute load average, as a short figure."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", default="standard", help="comma-separated recipe names (standard)")
    p.add_argument("--set", action="append", default=[], metavar="F=V,...",
                   help="settings put over every recipe (the reduced scale)")
    p.add_argument("--try", dest="tries", action="append", default=[], metavar="F=V,...",
                   help="one more row: the first recipe with these settings over it")
    p.add_argument("--no-shipped", action="store_true", help="leave out the shipped weights' row")
    p.add_argument("--stage-figures", action="store_true",
                   help="under each row: every network's figures after each stage, and with the mean of its "
                        "last two stages' weights (and a committee of those means)")
    args = p.parse_args()

    sets = validation_sets()
    rows: list[tuple[str, TrainConfig]] = []
    for name in args.recipes.split(","):
        config = app_recipes.recipe_config(name)
        for s in args.set:
            config = with_settings(config, s)
        rows.append((name, config))
    first_name, first = rows[0]
    rows = rows[:1] * (not args.tries) + rows[1:] + [
        (f"{first_name} {t}".strip(), with_settings(first, t)) for t in args.tries]

    head = (f"{'recipe':<34}" + "".join(f"{n:>11}" for n in sets)
            + f"{'wall s':>9}{'cpu s':>8}{'iters':>7}  load")
    print(f"# cpus {os.cpu_count()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; settings over "
          f"every recipe: {' '.join(args.set) or '(none)'}", flush=True)
    print(head, flush=True)

    def line(label: str, networks, seconds: tuple[float, float] | None, iters: str, loads: str) -> None:
        accs = [float((committee_proba(networks, X).argmax(1) == y).mean()) for X, y in sets.values()]
        times = f"{seconds[0]:>9.0f}{seconds[1]:>8.0f}" if seconds is not None else f"{'-':>9}{'-':>8}"
        print(f"{label:<34}" + "".join(f"{100 * a:>10.2f}%" for a in accs) + f"{times}{iters:>7}  {loads}",
              flush=True)

    if not args.no_shipped:
        line("shipped weights (trained on val)", shipped_networks(), None, "-", load())
    for label, config in rows:
        config = replace(config, validation=VALIDATION, command=f"benchmarks/bench_recipes.py: {label}")
        before = load()
        stage_ends: dict[str, dict[int, list[np.ndarray]]] = {}  # network name -> stage -> Thetas

        def keep(name: str, k: int, thetas: list[np.ndarray], stage_ends=stage_ends) -> None:
            stage_ends.setdefault(name, {})[k] = [t.copy() for t in thetas]

        t0, c0 = time.perf_counter(), time.process_time()
        result = train_model(config, None, on_stage=keep if args.stage_figures else None)
        seconds = (time.perf_counter() - t0, time.process_time() - c0)
        networks = networks_of(result)
        line(label, networks, seconds, str(result.meta.get("iterations", "-")), f"{before}->{load()}")
        if args.stage_figures:
            stage_lines(line, stage_ends, networks)


if __name__ == "__main__":
    main()
