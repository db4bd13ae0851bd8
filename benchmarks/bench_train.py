"""Training speed: loss+gradient per evaluation on the full 60k MNIST training set.

Prints, for 784-100-10 and 784-300-10:
- seconds per loss+gradient evaluation (median of a few),
- seconds for one ``X @ W`` of the same size, measured in the same run, and
  the ratio (a loss+gradient needs at least two such products: forward and
  the first layer's weight gradient, so 2x is the floor),
- with scikit-learn installed (``pip install -e .[bench]``),
  ``MLPClassifier(activation="logistic", solver="lbfgs")`` on the same
  architecture, data, L2 penalty (sklearn's alpha is our lambda) and
  iteration count: seconds per iteration of each, the ratio, and the test
  accuracy of each.

Run: ``python benchmarks/bench_train.py [--iters 50] [--data DIR]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from model import mlp  # noqa: E402
from model.data import load_mnist  # noqa: E402
from model.layout import Layout  # noqa: E402
from model.train import accuracy, train  # noqa: E402


def median_time(fn, repeat: int) -> float:
    """Median wall time of `repeat` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA)")
    p.add_argument("--iters", type=int, default=50, help="L-BFGS iterations for the comparison")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    tr, te = load_mnist("train", args.data), load_mnist("test", args.data)
    X, y = tr.X, tr.y
    Y = mlp.one_hot(y)
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        MLPClassifier = None
        print("scikit-learn not installed: skipping the comparison (pip install -e .[bench])")

    for hidden in (100, 300):
        layout = Layout.with_hidden([hidden])
        thetas = mlp.init_thetas(layout, np.random.default_rng(0))
        t_grad = median_time(lambda th=thetas: mlp.cost_and_grad(th, X, Y, 1.0), args.repeat)
        W = np.ascontiguousarray(thetas[0][:, 1:].T, dtype=np.float32)
        t_mm = median_time(lambda w=W: X @ w, args.repeat)
        print(f"\n784-{hidden}-10 on {len(X)} images")
        print(f"  loss+gradient   {t_grad * 1000:8.1f} ms")
        print(f"  one X @ W       {t_mm * 1000:8.1f} ms   (ratio {t_grad / t_mm:.2f}x the matmul bound)")
        if MLPClassifier is None:
            continue
        t0 = time.perf_counter()
        ours = train(X, y, layout, lam=1.0, max_iter=args.iters, seed=0)
        t_ours = (time.perf_counter() - t0) / max(ours.iterations, 1)
        acc_ours = accuracy(ours.thetas, te.X, te.y)
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="logistic", solver="lbfgs",
                            alpha=1.0, max_iter=args.iters, random_state=0)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y)
        t_sk = (time.perf_counter() - t0) / max(clf.n_iter_, 1)
        acc_sk = clf.score(te.X, te.y)
        print(f"  digitpad train  {t_ours:8.3f} s/iter  test accuracy {acc_ours:.4f}  "
              f"({ours.iterations} iterations)")
        print(f"  scikit-learn    {t_sk:8.3f} s/iter  test accuracy {acc_sk:.4f}  ({clf.n_iter_} iterations)")
        print(f"  speed-up        {t_sk / t_ours:8.2f}x per iteration")


if __name__ == "__main__":
    main()
