"""Fixed enlarged set or fresh distortions per stage: which reaches a given accuracy sooner?

L-BFGS-B needs a fixed objective, so augmentation can enter training in two
ways: (a) one fixed set holding the originals plus K distorted copies,
trained in one go; (b) stages, each on the originals plus freshly distorted
copies, warm-starting from the previous stage. Both runs below see the same
number of iterations on a slice of MNIST with a small network; the script
prints, for each, the held-out accuracy (last 10,000 MNIST training images,
never the test set) and the training time.

Run: ``python benchmarks/bench_augment.py [--limit 10000] [--hidden 100] [--iters 300]``
"""

from __future__ import annotations

import argparse
import time

import common  # noqa: F401  (repo on sys.path, default data location)
import numpy as np

from model.datasets.mnist import load_mnist
from model.inputs.augment import augment_batch
from model.net.layout import Layout
from model.net.train import accuracy, train


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--copies", type=int, default=2, help="distorted copies in the fixed set")
    p.add_argument("--stages", type=int, default=3)
    p.add_argument("--lam", type=float, default=1.0)
    args = p.parse_args()
    tr = load_mnist("train")
    X, y = tr.X[: args.limit], tr.y[: args.limit]
    Xv, yv = tr.X[-10000:], tr.y[-10000:]
    layout = Layout.with_hidden([args.hidden])

    t0 = time.perf_counter()
    res = train(X, y, layout, lam=args.lam, max_iter=args.iters, seed=0)
    t_plain = time.perf_counter() - t0
    print(f"no augmentation          {accuracy(res.thetas, Xv, yv):.4f}  {t_plain:6.1f} s  "
          f"({len(X)} images, {res.iterations} iterations)")

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    Xf = np.concatenate([X, *[augment_batch(X, rng) for _ in range(args.copies)]])
    yf = np.tile(y, args.copies + 1)
    res = train(Xf, yf, layout, lam=args.lam, max_iter=args.iters, seed=0)
    t_fixed = time.perf_counter() - t0
    print(f"fixed set (+{args.copies} copies)    {accuracy(res.thetas, Xv, yv):.4f}  {t_fixed:6.1f} s  "
          f"({len(Xf)} images, {res.iterations} iterations)")

    t0 = time.perf_counter()
    thetas = None
    per = args.iters // args.stages
    total = 0
    for stage in range(args.stages):
        srng = np.random.default_rng([0, stage])
        Xs = np.concatenate([X, augment_batch(X, srng)])
        ys = np.tile(y, 2)
        res = train(Xs, ys, layout, lam=args.lam, max_iter=per, seed=0, init=thetas)
        thetas = res.thetas
        total += res.iterations
    t_staged = time.perf_counter() - t0
    print(f"{args.stages} stages (+1 fresh copy) {accuracy(thetas, Xv, yv):.4f}  {t_staged:6.1f} s  "
          f"({2 * len(X)} images per stage, {total} iterations)")


if __name__ == "__main__":
    main()
