"""Training speed: loss+gradient per evaluation on the full 60k MNIST training set.

Prints, for 784-100-10 and 784-300-10:
- seconds per loss+gradient evaluation (median of a few), plain dense (every
  pixel of every image) and on the ink blocks training uses (`model.net.blocks`:
  the zero pixels of each block of alike images left out), with the fraction
  of the dense products the blocks compute;
- seconds for one ``X @ W`` of the same size, measured in the same run, and
  the ratio (a dense loss+gradient needs at least two such products: forward
  and the first layer's weight gradient, so 2x is the dense floor);
- with scikit-learn installed (``pip install -e .[bench]``),
  ``MLPClassifier(activation="logistic", solver="lbfgs")`` on the same
  architecture, data, L2 penalty (sklearn's alpha is our lambda) and
  iteration count: seconds per iteration of each, the ratio, and the test
  accuracy of each. scikit-learn runs twice: as it comes, and with SciPy's
  BLAS held to one thread as `digitpad train` holds it (`model.net.blas`), to
  show how much of the difference that switch alone makes.

With ``--grow H`` it instead times growing-batch training (`train_growing`, H
halvings) against all rows throughout: 784-300-10, ``--iters`` L-BFGS-B
iterations on the first 50,000 training images, the two alternating
``--repeat`` times, printing each run's wall and CPU seconds (this process,
all threads) and its accuracy on the other 10,000 (validation; MNIST test is
not read).

Run: ``python benchmarks/bench_train.py [--iters 50] [--data DIR]``
or ``python benchmarks/bench_train.py --grow 2 --iters 200 --repeat 2``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from model.datasets.mnist import load_mnist  # noqa: E402
from model.net import mlp  # noqa: E402
from model.net.blas import one_thread, openblas, training_threads  # noqa: E402
from model.net.blocks import density, ink_blocks  # noqa: E402
from model.net.layout import Layout  # noqa: E402
from model.net.train import SHARES, accuracy, train, train_growing  # noqa: E402


def median_time(fn, repeat: int) -> float:
    """Median wall time of `repeat` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(label: str, figures: str) -> None:
    """One aligned line of the report."""
    print(f"  {label:<33} {figures}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA)")
    p.add_argument("--iters", type=int, default=50, help="L-BFGS iterations for the comparison")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--grow", type=int, metavar="H", help="time growing-batch training (H halvings) instead")
    args = p.parse_args()
    if args.grow is not None:
        grow_rows(args)
        return
    tr, te = load_mnist("train", args.data), load_mnist("test", args.data)
    X, y = tr.X, tr.y
    Y = mlp.one_hot(y)
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        MLPClassifier = None
        print("scikit-learn not installed: skipping the comparison (pip install -e .[bench])")

    t0 = time.perf_counter()
    blocks = ink_blocks(X, Y)
    t_blocks = time.perf_counter() - t0
    print(f"ink blocks: {len(blocks)} blocks computing {density(blocks, X.shape[1]):.1%} of the dense "
          f"products, cut once in {t_blocks:.2f} s")
    with training_threads() as threads:
        pass
    print(f"training runs the loss+gradient on {threads} thread(s); SciPy's BLAS "
          f"{'is held to one thread' if openblas('scipy') else 'could not be set'} meanwhile")

    for hidden in (100, 300):
        layout = Layout.with_hidden([hidden])
        thetas = mlp.init_thetas(layout, np.random.default_rng(0))
        t_dense = median_time(lambda th=thetas: mlp.cost_and_grad(th, X, Y, 1.0), args.repeat)
        t_grad = median_time(lambda th=thetas: mlp.cost_and_grad_blocks(th, blocks, 1.0), args.repeat)
        with training_threads() as threads, ThreadPoolExecutor(min(threads, SHARES)) as pool:
            t_par = median_time(
                lambda th=thetas: mlp.cost_and_grad_blocks(th, blocks, 1.0, pool, SHARES), args.repeat
            )
        W = np.ascontiguousarray(thetas[0][:, 1:].T, dtype=np.float32)
        t_mm = median_time(lambda w=W: X @ w, args.repeat)
        print(f"\n784-{hidden}-10 on {len(X)} images")
        row("one X @ W", f"{t_mm * 1000:8.1f} ms")
        row("loss+gradient, dense", f"{t_dense * 1000:8.1f} ms   ({t_dense / t_mm:.2f}x one X @ W)")
        threaded = f"... {SHARES} shares on {threads} threads"
        for label, t in (("loss+gradient, ink blocks", t_grad), (threaded, t_par)):
            row(label, f"{t * 1000:8.1f} ms   ({t / t_mm:.2f}x one X @ W, "
                f"{t_dense / t:.2f}x faster than dense)")
        if MLPClassifier is None:
            continue
        t0 = time.perf_counter()
        ours = train(X, y, layout, lam=1.0, max_iter=args.iters, seed=0)
        t_ours = (time.perf_counter() - t0) / max(ours.iterations, 1)
        acc_ours = accuracy(ours.thetas, te.X, te.y)
        row("digitpad train", f"{t_ours:8.3f} s/iter  test accuracy {acc_ours:.4f}  "
            f"({ours.iterations} iterations)")
        for label, pin in (("scikit-learn", False), ("scikit-learn, SciPy BLAS 1 thread", True)):
            clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="logistic", solver="lbfgs",
                                alpha=1.0, max_iter=args.iters, random_state=0)
            t0 = time.perf_counter()
            with warnings.catch_warnings(), one_thread("scipy") if pin else nullcontext():
                warnings.simplefilter("ignore")
                clf.fit(X, y)
            t_sk = (time.perf_counter() - t0) / max(clf.n_iter_, 1)
            acc_sk = clf.score(te.X, te.y)
            row(label, f"{t_sk:8.3f} s/iter  test accuracy {acc_sk:.4f}  ({clf.n_iter_} iterations)"
                f"  -> digitpad {t_sk / t_ours:.2f}x faster per iteration")

def grow_rows(args: argparse.Namespace) -> None:
    """Growing batch against all rows throughout: wall and CPU seconds and validation accuracy."""
    tr = load_mnist("train", args.data)
    X, y, Xv, yv = tr.X[:50000], tr.y[:50000], tr.X[50000:], tr.y[50000:]
    layout = Layout.with_hidden([300])
    print(f"784-300-10, {args.iters} iterations on 50,000 images, lambda 1; validation on the other 10,000")
    for rep in range(args.repeat):
        for label, halvings in (("all rows", 0), (f"grow {args.grow}", args.grow)):
            t0, c0 = time.perf_counter(), time.process_time()
            res = train_growing(X, y, layout, lam=1.0, max_iter=args.iters, seed=0, halvings=halvings)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            row(f"{label} (run {rep + 1})", f"{wall:7.1f} s wall {cpu:7.1f} s CPU  validation "
                f"{accuracy(res.thetas, Xv, yv):.4f}  ({res.iterations} iterations, "
                f"load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
