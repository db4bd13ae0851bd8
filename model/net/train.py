"""Full-batch training with SciPy's L-BFGS-B on the analytic gradient.

`train` is the one entry point: it packs the per-layer Thetas into a float64
vector only for the optimizer, reports progress once per iteration, and can
be stopped at any time (a cancel flag or Ctrl+C) keeping the best weights seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from model.net import mlp
from model.net.blas import training_threads
from model.net.blocks import ink_blocks
from model.net.layout import Layout

SHARES = 8
"""Each loss+gradient is summed in this many shares of the ink blocks, run on
up to this many threads. A fixed number, not one per core, so that the float32
sums are split and added in the same order on every machine."""


@dataclass
class Progress:
    """One iteration's report: what a progress line or bar needs."""

    iteration: int
    max_iter: int
    cost: float
    elapsed: float

    @property
    def eta(self) -> float:
        """Seconds left if the remaining iterations take as long as the past ones."""
        if self.iteration <= 0:
            return float("nan")
        return self.elapsed / self.iteration * (self.max_iter - self.iteration)


@dataclass
class TrainResult:
    """What training produced."""

    thetas: list[np.ndarray]
    cost: float
    iterations: int
    seconds: float
    cancelled: bool
    message: str
    costs: list[float] = field(default_factory=list)
    """The best cost after each iteration (the training history's curve)."""


class _Stop(Exception):
    pass


def train(
    X: np.ndarray,
    y: np.ndarray,
    layout: Layout,
    lam: float = 1.0,
    max_iter: int = 400,
    seed: int = 0,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    init: Sequence[np.ndarray] | None = None,
    anchor: Sequence[np.ndarray] | None = None,
    maxcor: int = 10,
) -> TrainResult:
    """Minimise the regularised cross-entropy with L-BFGS-B.

    X: (m, 784) floats in 0..1; y: labels 0..9. The result holds the weights
    with the lowest cost seen (so a cancelled run is still usable). With the
    same data, layout and seed the result is the same, whatever the number of
    cores. `init` warm-starts from existing Thetas instead of the seeded
    random initialisation. `y` may also be (m, n_out) target rows in 0..1
    (soft targets, e.g. another network's outputs) instead of labels.
    `anchor` regularises towards those Thetas instead of towards zero
    (lambda/(2m)·Σ(W - anchor)², biases excluded), for fine-tuning that should
    stay near a trained network (`model.personal.adapt`). `maxcor` is the number
    of past steps L-BFGS-B keeps for its curvature estimate (SciPy's default, 10).

    The data is cut once into ink blocks (`model.net.blocks`) and each loss and
    gradient is summed over them in `SHARES` shares on up to one thread per
    core, with both BLAS libraries held to one thread meanwhile
    (`model.net.blas`).
    """
    if X.shape[1] != layout.sizes[0]:
        raise ValueError(f"X has {X.shape[1]} columns, layout {layout} expects {layout.sizes[0]}")
    # The data is fixed for the whole run: cut it once into blocks that skip
    # the pixels their rows never use (see model.net.blocks).
    y = np.asarray(y)
    Y = y.astype(mlp.DTYPE) if y.ndim == 2 else mlp.one_hot(y, layout.sizes[-1])
    blocks = ink_blocks(np.asarray(X, dtype=mlp.DTYPE), Y)
    anchors = None if anchor is None else [np.asarray(a, dtype=np.float64)[:, 1:] for a in anchor]
    rng = np.random.default_rng(seed)
    start_thetas = init if init is not None else mlp.init_thetas(layout, rng)
    x0 = mlp.pack(start_thetas)
    best = {"cost": np.inf, "x": x0.copy()}
    iteration = [0]
    costs: list[float] = []
    t0 = time.perf_counter()

    def fun(flat: np.ndarray, pool: ThreadPoolExecutor) -> tuple[float, np.ndarray]:
        if cancel is not None and cancel.is_set():
            raise _Stop
        thetas = mlp.unpack(flat, layout)
        cost, grads = mlp.cost_and_grad_blocks(thetas, blocks, lam if anchors is None else 0.0, pool, SHARES)
        if anchors is not None:
            cost += _anchor_penalty(thetas, anchors, grads, lam, len(X))
        if cost < best["cost"]:
            best["cost"] = cost
            best["x"] = flat.copy()
        return cost, mlp.pack(grads)

    def callback(intermediate_result=None) -> None:
        iteration[0] += 1
        costs.append(float(best["cost"]))
        if progress is not None:
            progress(Progress(iteration[0], max_iter, float(best["cost"]), time.perf_counter() - t0))
        if cancel is not None and cancel.is_set():
            raise StopIteration

    cancelled = False
    message = ""
    try:
        with training_threads() as threads, ThreadPoolExecutor(min(threads, SHARES)) as pool:
            res = minimize(
                fun,
                x0,
                args=(pool,),
                jac=True,
                method="L-BFGS-B",
                callback=callback,
                options={"maxiter": max_iter, "maxfun": max_iter * 2 + 20, "maxcor": maxcor},
            )
        message = str(res.message)
        cancelled = cancel is not None and cancel.is_set()
    except (_Stop, KeyboardInterrupt):
        cancelled = True
        message = "cancelled"
    seconds = time.perf_counter() - t0
    thetas = [t.copy() for t in mlp.unpack(best["x"], layout)]
    return TrainResult(thetas, float(best["cost"]), iteration[0], seconds, cancelled, message, costs)


def grow_schedule(rows: int, max_iter: int, halvings: int) -> list[tuple[int, int]]:
    """(rows, iterations) of each phase of a growing-batch run: ``rows / 2**halvings`` rows
    first, doubling to all `rows`; the iterations split evenly, later phases first
    to take any remainder. A phase that would get no iterations is left out (so a
    run shorter than its phases ends on all the rows)."""
    if halvings < 0:
        raise ValueError(f"growing-batch halvings must be 0 or more, got {halvings}")
    phases = halvings + 1
    sizes = [max(1, -(-rows // 2 ** (halvings - k))) for k in range(phases)]
    iters = [max_iter // phases + (k >= phases - max_iter % phases) for k in range(phases)]
    return [(n, i) for n, i in zip(sizes, iters, strict=True) if i > 0]


def train_growing(
    X: np.ndarray,
    y: np.ndarray,
    layout: Layout,
    lam: float = 1.0,
    max_iter: int = 400,
    seed: int = 0,
    halvings: int = 2,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    init: Sequence[np.ndarray] | None = None,
    maxcor: int = 10,
) -> TrainResult:
    """`train` in growing-batch phases (Byrd, Chin, Nocedal & Wu 2012, "Sample size
    selection in optimization methods for machine learning"): the first iterations
    run on a random ``1/2**halvings`` of the rows, each next phase on twice as many
    (the earlier rows among them) and the last on all of them, each phase starting
    L-BFGS-B afresh from the weights the previous one reached (`grow_schedule`).

    A phase on s of the m rows uses lambda·s/m, so its penalty λ/(2m)·Σw² weighs as
    much as in the full objective: every phase minimises an estimate of the same
    function. The subsets come from a generator seeded by `seed` alone and keep the
    rows' order, so the same data and seed give the same bytes. ``halvings=0`` is
    plain `train`. The costs history holds each phase's own costs (on its rows);
    the result's weights are those of the last phase that ran.
    """
    m = len(y)
    schedule = grow_schedule(m, max_iter, halvings)
    order = np.random.default_rng([seed, 0x6772]).permutation(m)
    thetas = init
    done = 0
    costs: list[float] = []
    seconds = 0.0
    result = None
    t0 = time.perf_counter()
    for rows, iters in schedule:
        idx = np.sort(order[:rows]) if rows < m else slice(None)

        def phase_progress(p: Progress, done: int = done) -> None:
            if progress is not None:
                progress(Progress(done + p.iteration, max_iter, p.cost, time.perf_counter() - t0))

        result = train(X[idx], np.asarray(y)[idx], layout, lam=lam * rows / m, max_iter=iters, seed=seed,
                       progress=phase_progress, cancel=cancel, init=thetas, maxcor=maxcor)
        thetas = result.thetas
        done += result.iterations
        costs += result.costs
        seconds += result.seconds
        if result.cancelled:
            break
    assert result is not None
    return TrainResult(result.thetas, result.cost, done, seconds, result.cancelled, result.message, costs)


HARD_SURE = 0.9
"""A row is hard when the network gives its label less than this probability (or reads it wrong)."""


def hard_rows(thetas: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray, keep: float, seed,
              batch: int = 10000) -> np.ndarray:
    """The rows a hard-example stage trains on, in their order: every row whose label the network
    (`thetas`) gives less than `HARD_SURE`, plus a random `keep` fraction of the others (drawn by a
    generator seeded with `seed` alone, so the same weights, data and seed give the same rows)."""
    y = np.asarray(y)
    p_label = np.take_along_axis(predict_proba(thetas, X, batch), y[:, None], axis=1)[:, 0]
    hard = p_label < HARD_SURE
    easy = np.random.default_rng(seed).random(len(y)) < keep
    return np.flatnonzero(hard | easy)


def _anchor_penalty(thetas: Sequence[np.ndarray], anchors: Sequence[np.ndarray],
                    grads: list[np.ndarray], lam: float, m: int) -> float:
    """lambda/(2m)·Σ(W - anchor)² over the non-bias weights; adds its gradient to `grads`."""
    cost = 0.0
    for theta, a, g in zip(thetas, anchors, grads, strict=True):
        d = theta[:, 1:] - a
        cost += lam / (2.0 * m) * float(np.vdot(d, d))
        g[:, 1:] += (lam / m) * d
    return cost


def accuracy(thetas: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray, batch: int = 10000) -> float:
    """Fraction of rows whose most probable class equals the label."""
    return float(np.mean(predict_labels(thetas, X, batch) == y))


def predict_proba(thetas: Sequence[np.ndarray], X: np.ndarray, batch: int = 10000) -> np.ndarray:
    """The network's outputs for every row, (n, classes), computed in batches to bound the hidden
    layers' memory."""
    out = [mlp.predict_proba(thetas, X[i : i + batch]) for i in range(0, len(X), batch)]
    return np.concatenate(out) if out else np.empty((0, thetas[-1].shape[0]))


def predict_labels(thetas: Sequence[np.ndarray], X: np.ndarray, batch: int = 10000) -> np.ndarray:
    """argmax of the network's outputs, computed in batches to bound memory."""
    return predict_proba(thetas, X, batch).argmax(axis=1)
