"""Choose lambda and the hidden size on validation data, never on the MNIST test set.

Each setting is trained on a slice of the MNIST training images plus the pen
digits of the 24 training writers (rendered through the ink pipeline, as for
the shipped model), with the last 10,000 MNIST training images held out
(`--validation`); it is scored on those and on the 6 held-out writers. The
MNIST test set is not looked at. A reduced budget (fewer images and
iterations than the shipped run) keeps the whole sweep to minutes.

Run: ``python benchmarks/sweep.py [--limit 20000] [--iters 150] [--hidden 300,500] [--lambdas 1,3,10]``
"""

from __future__ import annotations

import argparse
import time

import common  # noqa: F401  (repo on sys.path, default data location)

from model.training_run import TrainConfig, run_training


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=20000)
    p.add_argument("--iters", type=int, default=150)
    p.add_argument("--hidden", default="300,500")
    p.add_argument("--lambdas", default="1,3,10")
    args = p.parse_args()
    print(f"{'hidden':>7} {'lambda':>7} {'MNIST val':>10} {'pen held-out':>13} {'seconds':>8}")
    for h in (int(v) for v in args.hidden.split(",")):
        for lam in (float(v) for v in args.lambdas.split(",")):
            t = time.perf_counter()
            config = TrainConfig(hidden=[h], lam=lam, max_iter=args.iters, seed=1, limit=args.limit,
                                 pen=True, validation=10000, augment=1, stages=1)
            meta = run_training(config, out=None).meta
            print(f"{h:>7} {lam:>7g} {meta['validation_accuracy']:>10.4f} "
                  f"{meta['pen_holdout_accuracy']:>13.4f} {time.perf_counter() - t:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
