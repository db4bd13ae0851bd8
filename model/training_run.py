"""One reproducible training run: gather data, train (in stages), measure, save.

This is what `digitpad train` and the app's Retrain dialog both call, so a
model trained either way carries the same `model.json`: every data source and
its SHA-256, the settings, the time it took, the accuracies it reached and its
history (the cost after every iteration, the accuracies after every stage).
"""

from __future__ import annotations

import datetime as _dt
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from model.datasets.mnist import Split, find_data_dir, load_mnist, sha256_of
from model.errors import DigitpadError
from model.inputs.deskew import deskew
from model.net import train as _train
from model.net.ensemble import committee_proba
from model.net.layout import Layout
from model.net.weights import PREPROCESSING_VERSION, save_committee, save_weights
from model.train_settings import (  # noqa: F401  (the settings live there, light enough for the CLI parser)
    MemberSpec,
    TrainConfig,
    add_train_arguments,
    config_from_args,
    config_from_settings,
    config_of_meta,
    parse_train_command,
    settings_json,
)


@dataclass
class RunResult:
    """The trained Thetas, their metadata (as saved) and whether the run was cut short."""

    thetas: list[np.ndarray]
    meta: dict
    cancelled: bool
    members: list[tuple[str, list[np.ndarray], dict]] = field(default_factory=list)
    """A committee's (folder name, Thetas, model.json) per member; empty for one network."""

    def save(self, folder: str | Path) -> Path:
        """Write these weights (one network or the whole committee) atomically into `folder`."""
        if self.members:
            return save_committee(folder, self.members, self.meta)
        return save_weights(folder, self.thetas, self.meta)


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


def _recipe(config: TrainConfig) -> dict:
    """The training schedule of a run, as model.json records it for one network and for a committee."""
    return {
        "max_iter": config.max_iter,
        "stages": max(1, config.stages),
        **({"average_stages": config.average_stages} if config.average_stages > 1 else {}),
        "augment": config.augment,
        **({"copies_only": True} if config.copies_only else {}),
        "seed": config.seed,
    }


def _provenance(config: TrainConfig, cancelled: bool) -> dict:
    """When and how a run's weights were made: the last keys of every model.json a run writes."""
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "preprocessing_version": PREPROCESSING_VERSION,
        "settings": settings_json(config),
        "command": config.command,
        "cancelled": cancelled,
    }


def _measure(config: TrainConfig, layout: Layout, thetas, d: _RunData, total_iter: int,
             seconds: float, cancelled: bool) -> dict:
    """The model.json of a run: settings, data checksums, time and accuracies."""
    X_base, y_base, n_mnist, test_split = d.X_base, d.y_base, d.n_mnist, d.test
    X_val, y_val, holdout, pen_val = d.X_val, d.y_val, d.holdout, d.pen_val
    n_images = int(len(X_base) * config.rows_per_image)
    meta = {
        "layer_sizes": list(layout.sizes),
        "lambda": config.lam,
        "iterations": total_iter,
        **_recipe(config),
        "deskew": config.deskew,
        "pen_copies": config.pen_copies if config.pen else 0,
        "limit": config.limit or None,
        "training_seconds": round(seconds, 1),
        "training_images": n_images,
        "train_accuracy": _train.accuracy(thetas, X_base[:n_mnist], y_base[:n_mnist]),
        "test_accuracy": _train.accuracy(thetas, test_split.X, test_split.y),
        "data": d.sources,
        **_provenance(config, cancelled),
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


def _stage_record(stage: int, iteration: int, meta: dict) -> dict:
    """One entry of the history's "stages": where the stage ended and the accuracies measured then."""
    keys = ("train_accuracy", "validation_accuracy", "pen_holdout_accuracy", "test_accuracy")
    return {"stage": stage, "iteration": iteration, **{k: meta[k] for k in keys if k in meta}}


def run_training(
    config: TrainConfig,
    out: Path | None,
    progress: Callable[[_train.Progress], None] | None = None,
    cancel: threading.Event | None = None,
    log: Callable[[str], None] = lambda s: None,
    extra: tuple[np.ndarray, np.ndarray, str] | None = None,
    on_stage: Callable[[int, list[np.ndarray]], None] | None = None,
    start: list[np.ndarray] | None = None,
) -> RunResult:
    """Train as `config` says; write the weights folder to `out` (if given).

    `extra` = (X, y, name) adds more training rows (the user's own samples, from the
    Retrain dialog); they are recorded in model.json under ``data[name]``.
    `on_stage(k, thetas)` is called with the weights at the end of every completed
    stage k (1-based), before any averaging.
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
        from model.datasets import pendigits

        pen_path = pendigits.find_pen_file(config.pen_dir, config.data_dir)
        samples = pendigits.load(pen_path)
        holdout = pendigits.parse_holdout(config.pen_holdout)
        train_s = [s for s in samples if s.writer not in holdout]
        val_s = [s for s in samples if s.writer in holdout]
        X_pen, y_pen = pendigits.render_training_set(train_s, seed=config.seed, copies=config.pen_copies)
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

    if config.deskew:
        # Everything this network sees, training and measuring alike, is deskewed first,
        # as the Recogniser does for a network whose model.json says "deskew": true.
        X_base = deskew(X_base)
        test_split = Split(deskew(test_split.X), test_split.y, test_split.sha256)
        if X_val is not None:
            X_val = deskew(X_val)
        if pen_val is not None:
            pen_val = (deskew(pen_val[0]), pen_val[1])
    data = _RunData(X_base, y_base, n_mnist, test_split, sources, X_val, y_val, holdout, pen_val)
    stages = max(1, config.stages)
    per_stage = [config.max_iter // stages + (i < config.max_iter % stages) for i in range(stages)]
    thetas = None if start is None else [np.asarray(t, dtype=np.float64) for t in start]
    if start is not None:
        sources["init"] = {"folder": config.init}
    total_iter = 0
    history: dict = {"cost": [], "stages": []}  # model.json's "history": the Training chart's data
    t0 = time.perf_counter()
    cancelled = False
    keep = max(1, config.average_stages)
    stage_ends: list[list[np.ndarray]] = []  # the last `keep` stages' weights, for averaging
    for stage, n_iter in enumerate(per_stage):
        if config.augment:
            from model.inputs.augment import augment_batch

            rng = np.random.default_rng([config.seed, stage])
            copies = [augment_batch(X_base, rng) for _ in range(config.augment)]
            if config.deskew:
                copies = [deskew(c) for c in copies]
            X = np.concatenate(copies if config.copies_only else [X_base, *copies])
            y = np.tile(y_base, config.rows_per_image)
        else:
            X, y = X_base, y_base
        lam, which = config.lam, ""
        if config.hard and thetas is not None:  # a hard-example stage, lambda scaled to its rows
            idx = _train.hard_rows(thetas, X, y, config.hard, seed=[config.seed, stage, 0x68617264])
            lam = config.lam * len(idx) / len(y)
            which = f" of {len(y)}, the hard ones and {config.hard:.0%} of the rest"
            X, y = X[idx], y[idx]
        if stages > 1 or config.augment:
            log(f"stage {stage + 1}/{stages}: {n_iter} iterations on {len(X)} images{which}")
        done_before = total_iter

        def stage_progress(p: _train.Progress, done_before=done_before) -> None:
            if progress:
                progress(_train.Progress(done_before + p.iteration, config.max_iter, p.cost,
                                         time.perf_counter() - t0))

        if config.grow and stage < config.grow_stages:
            result = _train.train_growing(X, y, layout, lam=lam, max_iter=n_iter,
                                          seed=config.seed + stage, halvings=config.grow,
                                          progress=stage_progress, cancel=cancel, init=thetas,
                                          maxcor=config.maxcor)
        else:
            result = _train.train(X, y, layout, lam=lam, max_iter=n_iter, seed=config.seed,
                                  progress=stage_progress, cancel=cancel, init=thetas, maxcor=config.maxcor)
        thetas = result.thetas
        total_iter += result.iterations
        history["cost"] += [float(f"{c:.7g}") for c in result.costs]
        del X, y
        if result.cancelled:
            cancelled = True
            break
        if on_stage is not None:
            on_stage(stage + 1, thetas)
        stage_ends = [*stage_ends, thetas][-keep:]
        if stages > 1 and stage < stages - 1:
            interim = _measure(config, layout, thetas, data, total_iter, time.perf_counter() - t0, False)
            interim["completed_stages"] = stage + 1
            history["stages"].append(_stage_record(stage + 1, total_iter, interim))
            interim["history"] = history
            log(f"after stage {stage + 1}: test {interim['test_accuracy']:.4f}"
                + (f"  held-out pen {interim['pen_holdout_accuracy']:.4f}"
                   if "pen_holdout_accuracy" in interim else ""))
            if out is not None:
                save_weights(out, thetas, interim)
    if keep > 1 and not cancelled:
        thetas = average_weights(stage_ends)
        log(f"kept the mean of the last {len(stage_ends)} stages' weights")
    seconds = time.perf_counter() - t0

    meta = _measure(config, layout, thetas, data, total_iter, seconds, cancelled)
    history["stages"].append(_stage_record(len(history["stages"]) + 1, total_iter, meta))
    meta["history"] = history
    if out is not None:
        save_weights(out, thetas, meta)
    return RunResult(thetas=thetas, meta=meta, cancelled=cancelled)


def average_weights(snapshots: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several sets of Thetas of one layout (stage ends of one run)."""
    if not snapshots:
        raise ValueError("average_weights: expected at least one set of Thetas, got none")
    return [np.mean(np.stack(layer), axis=0) for layer in zip(*snapshots, strict=True)]


def stage_saver(folder: Path, config: TrainConfig,
                log: Callable[[str], None] = lambda s: None) -> Callable[[str, int, list[np.ndarray]], None]:
    """An `on_stage` hook for `train_model` that writes every stage's weights as a Theta folder,
    ``folder/NAME-stageK`` (NAME: ``network``, or a committee's ``memberN``), for reading
    stage against stage later (`benchmarks/committees.py`); each records its stage and the
    preprocessing its member wants (``deskew``). A stage that cannot be written is logged in
    one line and training goes on."""
    specs = {f"member{i + 1}": m for i, m in enumerate(config.members)} if len(config.members) > 1 else {}
    single = config.members[0].deskew if len(config.members) == 1 else config.deskew

    def save(name: str, k: int, thetas: list[np.ndarray]) -> None:
        target = Path(folder) / f"{name}-stage{k}"
        deskew_it = specs[name].deskew if name in specs else single
        try:
            save_weights(target, thetas, {"stage": k, "stages": max(1, config.stages), "deskew": deskew_it,
                                          "command": config.command})
        except OSError as exc:
            log(f"{target}: cannot save this stage's weights ({exc.strerror or exc}); training goes on")

    return save


def train_model(
    config: TrainConfig,
    out: Path | None,
    progress: Callable[[_train.Progress], None] | None = None,
    cancel: threading.Event | None = None,
    log: Callable[[str], None] = lambda s: None,
    extra: tuple[np.ndarray, np.ndarray, str] | None = None,
    on_stage: Callable[[str, int, list[np.ndarray]], None] | None = None,
) -> RunResult:
    """What `digitpad train` and the Retrain dialog run: a committee when `config.members` has
    two or more members, else one network (shaped by the single member, if one is given).
    `on_stage(name, k, thetas)` sees the weights at the end of every stage (name: a committee
    member's, else ``network``)."""
    if len(config.members) > 1:
        return run_committee(config, out, progress, cancel, log, extra, on_stage)
    if config.members:
        m = config.members[0]
        config = replace(config, hidden=list(m.hidden), deskew=m.deskew, pen_copies=m.pen_copies, members=())
    one = None if on_stage is None else (lambda k, thetas: on_stage("network", k, thetas))
    starts = start_networks(config)
    return run_training(config, out, progress, cancel, log, extra, one, starts[0] if starts else None)


def start_networks(config: TrainConfig) -> list[list[np.ndarray]] | None:
    """The Thetas each network of a run starts from: ``config.init``'s networks (checked against
    the run's layer sizes and preprocessing), or None for seeded random weights."""
    if not config.init:
        return None
    from model.net.weights import load_weights

    model = load_weights(config.init)
    want = ([(tuple(m.hidden), m.deskew) for m in config.members] if len(config.members) > 1
            else [(tuple(config.hidden), config.deskew)])
    have = [(n.layout.hidden, n.deskew) for n in model.networks]
    if have != want:
        def nets(pairs) -> str:
            return " + ".join(f"784-{'-'.join(map(str, h))}-10" + " (deskewed)" * d for h, d in pairs)
        raise DigitpadError(f"{config.init}: these weights are {nets(have)}; the run trains {nets(want)}, "
                            "so it cannot start from them")
    return [[t.copy() for t in n.thetas] for n in model.networks]


def run_committee(
    config: TrainConfig,
    out: Path | None,
    progress: Callable[[_train.Progress], None] | None = None,
    cancel: threading.Event | None = None,
    log: Callable[[str], None] = lambda s: None,
    extra: tuple[np.ndarray, np.ndarray, str] | None = None,
    on_stage: Callable[[str, int, list[np.ndarray]], None] | None = None,
) -> RunResult:
    """Train each member as `config` says but with its own size and preprocessing, then save them together.

    Members are trained one after another into a staging folder beside `out`
    (``.NAME.members/``; each written after every stage, as a single run is);
    the committee replaces `out` only when all of them are done (or the run
    was cancelled, keeping the best weights so far). A run that was stopped
    resumes: a member whose staging folder holds finished weights trained with
    the same settings and data is reused, not trained again (the trainer is
    deterministic, so training it again would write the same bytes).
    ``RunResult.thetas`` are the first member's; ``meta`` describes the
    committee and its averaged accuracies. `on_stage(member name, k, thetas)`
    sees every trained member's weights at the end of its stage k.
    """
    members = list(config.members)
    t0 = time.perf_counter()
    total = [config.max_iter * len(members)]  # iterations this run trains (reused members excluded)
    trained = [0]
    results: list[tuple[str, RunResult, MemberSpec]] = []
    staging = out.parent / f".{out.name}.members" if out is not None else None
    starts = start_networks(config)
    for i, spec in enumerate(members):
        name = f"member{i + 1}"
        log(f"committee member {i + 1}/{len(members)}: hidden {list(spec.hidden)}"
            + (", deskewed" if spec.deskew else "") + f", {spec.pen_copies} pen copies")
        cfg = replace(config, hidden=list(spec.hidden), deskew=spec.deskew, pen_copies=spec.pen_copies,
                      members=())

        def member_progress(p: _train.Progress) -> None:
            if progress:
                elapsed = time.perf_counter() - t0
                progress(_train.Progress(trained[0] + p.iteration, total[0], p.cost, elapsed))

        finished = _finished_member(staging / name, cfg) if staging else None
        if finished is not None:
            log(f"committee member {i + 1}: reusing the finished weights in {staging / name} "
                f"(trained with these very settings and data)")
            result = finished
            total[0] -= config.max_iter
        else:
            member_stage = None if on_stage is None else (lambda k, th, name=name: on_stage(name, k, th))
            result = run_training(cfg, staging / name if staging else None, member_progress, cancel, log,
                                  extra, member_stage, starts[i] if starts else None)
            trained[0] += config.max_iter
        results.append((name, result, spec))
        if result.cancelled:
            break
    cancelled = any(r.cancelled for _, r, _ in results)
    networks = [(r.thetas, spec.deskew) for _, r, spec in results]
    meta = _committee_meta(config, results, networks, cancelled)
    log(f"committee of {len(results)}: test {meta['test_accuracy']:.4f}"
        + (f"  held-out pen {meta['pen_holdout_accuracy']:.4f}" if "pen_holdout_accuracy" in meta else ""))
    run = RunResult(thetas=results[0][1].thetas, meta=meta, cancelled=cancelled,
                    members=[(name, r.thetas, r.meta) for name, r, _ in results])
    if out is not None:
        run.save(out)
        shutil.rmtree(staging, ignore_errors=True)
    return run


def _finished_member(folder: Path, cfg: TrainConfig) -> RunResult | None:
    """The member in `folder` if it finished training with exactly `cfg`'s settings and data, else None."""
    from model.net.weights import load_weights

    try:
        model = load_weights(folder)
        test = load_mnist("test", cfg.data_dir)
        train_sha = load_mnist("train", cfg.data_dir).sha256
    except DigitpadError:
        return None
    meta = model.meta
    want = {
        "layer_sizes": list(Layout.with_hidden(cfg.hidden).sizes), "lambda": cfg.lam,
        "max_iter": cfg.max_iter, "stages": max(1, cfg.stages), "augment": cfg.augment, "seed": cfg.seed,
        "deskew": cfg.deskew, "pen_copies": cfg.pen_copies if cfg.pen else 0,
        "mnist": {**train_sha, **test.sha256}, "limit": cfg.limit or None,
        "validation_images": cfg.validation or None, "average_stages": max(1, cfg.average_stages),
        "copies_only": cfg.copies_only,
    }
    if cfg.pen:
        from model.datasets import pendigits

        want["pen_holdout_writers"] = pendigits.parse_holdout(cfg.pen_holdout)
    got = {k: meta.get(k) for k in want}
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    for key in ("grow", "grow_stages", "maxcor", "init"):
        want[key] = getattr(cfg, key)
        got[key] = settings.get(key, getattr(TrainConfig(), key))
    got["average_stages"] = meta.get("average_stages", 1)
    got["copies_only"] = meta.get("copies_only", False)
    got["deskew"] = meta.get("deskew", False)
    got["pen_copies"] = meta.get("pen_copies", 3 if "pen_holdout_writers" in meta else 0)
    got["mnist"] = meta.get("data", {}).get("mnist", {}).get("sha256")
    if got != want or meta.get("cancelled") or "completed_stages" in meta or model.members:
        return None
    if cfg.pen:
        from model.datasets import pendigits

        pen_sha = sha256_of(pendigits.find_pen_file(cfg.pen_dir, cfg.data_dir))
        if meta.get("data", {}).get("pendigits", {}).get("sha256") != pen_sha:
            return None
    return RunResult(thetas=model.thetas, meta=meta, cancelled=False)


def _committee_meta(config: TrainConfig, results, networks, cancelled: bool) -> dict:
    """The committee's model.json: its members, the shared settings and the averaged accuracies."""
    test = load_mnist("test", config.data_dir)
    first = results[0][1].meta
    meta = {
        "committee": [name for name, _, _ in results],
        "members": [str(spec) for _, _, spec in results],
        "lambda": config.lam,
        **_recipe(config),
        "training_seconds": round(sum(r.meta.get("training_seconds", 0.0) for _, r, _ in results), 1),
        "test_accuracy": float((committee_proba(networks, test.X).argmax(1) == test.y).mean()),
        "data": first["data"],
        **_provenance(config, cancelled),
    }
    if config.validation:
        train = load_mnist("train", config.data_dir)
        Xv, yv = train.X[-config.validation :], train.y[-config.validation :]
        meta["validation_accuracy"] = float((committee_proba(networks, Xv).argmax(1) == yv).mean())
    if config.pen and "pen_holdout_writers" in first:
        from model.datasets import pendigits

        meta["pen_holdout_writers"] = first["pen_holdout_writers"]
        samples = pendigits.load(pendigits.find_pen_file(config.pen_dir, config.data_dir))
        held = [s for s in samples if s.writer in first["pen_holdout_writers"]]
        if held:
            Xp, yp = pendigits.render_samples(held)
            meta["pen_holdout_accuracy"] = float((committee_proba(networks, Xp).argmax(1) == yp).mean())
    return meta

