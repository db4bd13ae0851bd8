"""Compare training recipes on validation data only (issue 13), committees included.

Each recipe is trained at a reduced scale (a slice of the MNIST training
images plus the 24 training pen writers, fewer iterations than the shipped
run) with the last 10,000 MNIST training images held out. Every trained
network's probabilities on the three validation sets are kept, so a
committee (the average of its members' probabilities) is scored without
training anything again:

- MNIST validation: the last 10,000 training images;
- pen, held-out writers 25-30, replayed through the pad's ink pipeline;
- usps-train digits rendered as 96x96 scans, through the image pipeline.

The named recipes of `digitpad train --recipe` and the Retrain dialog are
compared the same way, with their wall and CPU time, by
``benchmarks/bench_recipes.py``. The MNIST test set is not used. Run:
``python benchmarks/recipes.py [--limit 20000] [--iters 200] [--hidden 300] [--recipes plain,deskew,...]``
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from model.datasets import pendigits
from model.datasets.mnist import load_mnist  # noqa: E402
from model.inputs import ink
from model.inputs.deskew import deskew  # noqa: E402
from model.net import mlp  # noqa: E402
from model.net.ensemble import probabilities  # noqa: E402
from model.training_run import TrainConfig, run_training  # noqa: E402
from model.validation import load_usps, scan_inputs  # noqa: E402

RECIPES = {
    "plain": {},
    "deskew": {"deskew": True},
    "pen6": {"pen_copies": 6},
    "deskew-pen6": {"deskew": True, "pen_copies": 6},
}


def validation_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (28x28 rows as the app would feed them, labels)."""
    train = load_mnist("train")
    sets = {"MNIST val": (train.X[-10000:], train.y[-10000:])}
    held = [s for s in pendigits.load(pendigits.find_pen_file()) if s.writer in pendigits.DEFAULT_HOLDOUT]
    sets["pen 25-30"] = (np.stack([ink.normalise(s.strokes).ravel() for s in held]),
                         np.array([s.label for s in held]))
    imgs, labels = load_usps()
    sets["USPS scans"] = (scan_inputs(imgs).reshape(-1, 784), labels)
    return sets


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=20000)
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--stages", type=int, default=2)
    p.add_argument("--hidden", type=int, default=300)
    p.add_argument("--recipes", default=",".join(RECIPES))
    args = p.parse_args()
    sets = validation_sets()
    names = list(sets)
    probs: dict[str, dict[str, np.ndarray]] = {}
    print(f"{'recipe':>22} " + "".join(f"{n:>12}" for n in names) + f"{'seconds':>9}", flush=True)
    for name in args.recipes.split(","):
        t = time.perf_counter()
        config = TrainConfig(hidden=[args.hidden], lam=3.0, max_iter=args.iters, seed=1, limit=args.limit,
                             pen=True, validation=10000, augment=1, stages=args.stages, **RECIPES[name])
        thetas = run_training(config, out=None).thetas
        prep = deskew if config.deskew else (lambda X: X)
        probs[name] = {n: probabilities(mlp.forward(thetas, prep(X))) for n, (X, _) in sets.items()}
        accs = [float((probs[name][n].argmax(1) == y).mean()) for n, (_, y) in sets.items()]
        print(f"{name:>22} " + "".join(f"{a:>12.4f}" for a in accs) + f"{time.perf_counter() - t:>9.0f}",
              flush=True)
    for a, b in itertools.combinations(probs, 2):
        accs = [float(((probs[a][n] + probs[b][n]).argmax(1) == y).mean()) for n, (_, y) in sets.items()]
        print(f"{a + '+' + b:>22} " + "".join(f"{v:>12.4f}" for v in accs), flush=True)


if __name__ == "__main__":
    main()
