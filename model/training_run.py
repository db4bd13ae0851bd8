"""One reproducible training run: gather data, train (in stages), measure, save.

This is what `digitpad train` and the app's Retrain dialog both call, so a
model trained either way carries the same `model.json`: every data source and
its SHA-256, the settings, the time it took and the accuracies it reached.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model import train as _train
from model.data import find_data_dir, load_mnist, sha256_of
from model.layout import Layout
from model.weights import PREPROCESSING_VERSION, save_weights


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
    stages: int = 1
    validation: int = 0
    command: str = ""


@dataclass
class RunResult:
    """The trained Thetas, their metadata (as saved) and whether the run was cut short."""

    thetas: list[np.ndarray]
    meta: dict
    cancelled: bool


@dataclass
class _RunData:
    """The data a run trains on and measures with."""

    X_base: np.ndarray
    y_base: np.ndarray
    n_mnist: int
    test: object
    sources: dict
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    holdout: list[int] = field(default_factory=list)
    pen_val: tuple[np.ndarray, np.ndarray] | None = None


def _measure(config: TrainConfig, layout: Layout, thetas, d: _RunData, total_iter: int,
             seconds: float, cancelled: bool) -> dict:
    """The model.json of a run: settings, data checksums, time and accuracies."""
    X_base, y_base, n_mnist, test_split = d.X_base, d.y_base, d.n_mnist, d.test
    X_val, y_val, holdout, pen_val = d.X_val, d.y_val, d.holdout, d.pen_val
    stages = max(1, config.stages)
    n_images = int(len(X_base) * (config.augment + 1))
    meta = {
        "layer_sizes": list(layout.sizes),
        "lambda": config.lam,
        "iterations": total_iter,
        "max_iter": config.max_iter,
        "stages": stages,
        "augment": config.augment,
        "seed": config.seed,
        "training_seconds": round(seconds, 1),
        "training_images": n_images,
        "train_accuracy": _train.accuracy(thetas, X_base[:n_mnist], y_base[:n_mnist]),
        "test_accuracy": _train.accuracy(thetas, test_split.X, test_split.y),
        "data": d.sources,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "preprocessing_version": PREPROCESSING_VERSION,
        "command": config.command,
        "cancelled": cancelled,
    }
    if X_val is not None:
        meta["validation_images"] = int(len(y_val))
        meta["validation_accuracy"] = _train.accuracy(thetas, X_val, y_val)
    if config.pen:
        meta["pen_holdout_writers"] = holdout
        if pen_val is not None:
            Xv, yv = pen_val
            meta["pen_holdout_accuracy"] = _train.accuracy(thetas, Xv, yv)
    return meta


def run_training(
    config: TrainConfig,
    out: Path | None,
    progress: Callable[[_train.Progress], None] | None = None,
    cancel: threading.Event | None = None,
    log: Callable[[str], None] = lambda s: None,
    extra: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> RunResult:
    """Train as `config` says; write the weights folder to `out` (if given).

    `extra` = (X, y, name) adds more training rows (the user's own samples, from the
    Retrain dialog); they are recorded in model.json under ``data[name]``.
    """
    layout = Layout.with_hidden(config.hidden)
    train_split = load_mnist("train", config.data_dir)
    test_split = load_mnist("test", config.data_dir)
    X_base, y_base = train_split.X, train_split.y
    X_val = y_val = None
    if config.validation:
        X_val, y_val = X_base[-config.validation :], y_base[-config.validation :]
        X_base, y_base = X_base[: -config.validation], y_base[: -config.validation]
    if config.limit:
        X_base, y_base = X_base[: config.limit], y_base[: config.limit]
    n_mnist = len(y_base)
    sources = {"mnist": {"folder": str(find_data_dir(config.data_dir)), "sha256": train_split.sha256}}
    sources["mnist"]["sha256"].update(test_split.sha256)

    pen_val = None
    holdout: list[int] = []
    if config.pen:
        from model import pendigits

        pen_path = pendigits.find_pen_file(config.pen_dir, config.data_dir)
        samples = pendigits.load(pen_path)
        holdout = pendigits.parse_holdout(config.pen_holdout)
        train_s = [s for s in samples if s.writer not in holdout]
        val_s = [s for s in samples if s.writer in holdout]
        X_pen, y_pen = pendigits.render_training_set(train_s, seed=config.seed)
        log(f"pen digits: {len(train_s)} samples from {len({s.writer for s in train_s})} writers "
            f"-> {len(X_pen)} renderings; {len(val_s)} held out (writers {holdout})")
        X_base = np.concatenate([X_base, X_pen])
        y_base = np.concatenate([y_base, y_pen])
        sources["pendigits"] = {"file": str(pen_path), "sha256": sha256_of(pen_path)}
        if val_s:
            pen_val = pendigits.render_samples(val_s)

    if extra is not None and len(extra[1]):
        X_base = np.concatenate([X_base, np.asarray(extra[0], dtype=X_base.dtype).reshape(-1, 784)])
        y_base = np.concatenate([y_base, np.asarray(extra[1], dtype=y_base.dtype)])
        sources[extra[2]] = {"rows": int(len(extra[1]))}
        log(f"{extra[2]}: {len(extra[1])} rows added")

    data = _RunData(X_base, y_base, n_mnist, test_split, sources, X_val, y_val, holdout, pen_val)
    stages = max(1, config.stages)
    per_stage = [config.max_iter // stages + (i < config.max_iter % stages) for i in range(stages)]
    thetas = None
    total_iter = 0
    t0 = time.perf_counter()
    cancelled = False
    for stage, n_iter in enumerate(per_stage):
        if config.augment:
            from model.augment import augment_batch

            rng = np.random.default_rng([config.seed, stage])
            copies = [augment_batch(X_base, rng) for _ in range(config.augment)]
            X = np.concatenate([X_base, *copies])
            y = np.tile(y_base, config.augment + 1)
        else:
            X, y = X_base, y_base
        if stages > 1 or config.augment:
            log(f"stage {stage + 1}/{stages}: {n_iter} iterations on {len(X)} images")
        done_before = total_iter

        def stage_progress(p: _train.Progress, done_before=done_before) -> None:
            if progress:
                progress(_train.Progress(done_before + p.iteration, config.max_iter, p.cost,
                                         time.perf_counter() - t0))

        result = _train.train(X, y, layout, lam=config.lam, max_iter=n_iter, seed=config.seed,
                              progress=stage_progress, cancel=cancel, init=thetas)
        thetas = result.thetas
        total_iter += result.iterations
        del X, y
        if result.cancelled:
            cancelled = True
            break
        if stages > 1 and stage < stages - 1:
            interim = _measure(config, layout, thetas, data, total_iter, time.perf_counter() - t0, False)
            interim["completed_stages"] = stage + 1
            log(f"after stage {stage + 1}: test {interim['test_accuracy']:.4f}"
                + (f"  held-out pen {interim['pen_holdout_accuracy']:.4f}"
                   if "pen_holdout_accuracy" in interim else ""))
            if out is not None:
                save_weights(out, thetas, interim)
    seconds = time.perf_counter() - t0

    meta = _measure(config, layout, thetas, data, total_iter, seconds, cancelled)
    if out is not None:
        save_weights(out, thetas, meta)
    return RunResult(thetas=thetas, meta=meta, cancelled=cancelled)
