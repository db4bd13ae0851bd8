"""Between two L-BFGS-B stages: distorting and deskewing the training images, on one thread and on all.

Each training stage starts by drawing a fresh distorted copy of every training
image (`model.inputs.augment.augment_batch`) and, for a deskewing network,
deskewing it (`model.inputs.deskew.deskew`); meanwhile the loss and gradient
wait. Both work image by image in chunks (`model.inputs.chunks`). This prints
the time for the 60,000 MNIST training images on one thread and on the
default one thread per core, and checks that both give the same bits.

Run: ``python benchmarks/bench_stage_prep.py [--data DIR] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import common  # noqa: F401  (repo on sys.path, default data location)
import numpy as np

from model.datasets.mnist import load_mnist
from model.inputs.augment import augment_batch
from model.inputs.deskew import deskew


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA)")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    X = load_mnist("train", args.data).X
    cores = os.cpu_count() or 1
    print(f"{len(X)} images, {cores} cores; median of {args.repeat} runs each, interleaved")
    times: dict[tuple[str, str], list[float]] = {}
    outputs: dict[tuple[str, str], np.ndarray] = {}
    for _ in range(args.repeat):
        for label, threads in (("1 thread", 1), (f"{cores} threads", None)):
            t = time.perf_counter()
            copy = augment_batch(X, np.random.default_rng([1, 0]), threads=threads)
            times.setdefault(("distort", label), []).append(time.perf_counter() - t)
            t = time.perf_counter()
            upright = deskew(copy, threads=threads)
            times.setdefault(("deskew", label), []).append(time.perf_counter() - t)
            outputs[("distort", label)], outputs[("deskew", label)] = copy, upright
    for step in ("distort", "deskew"):
        one, many = (statistics.median(times[(step, lab)]) for lab in ("1 thread", f"{cores} threads"))
        same = np.array_equal(outputs[(step, "1 thread")], outputs[(step, f"{cores} threads")])
        print(f"  {step:8s} 1 thread {one:6.2f} s   {cores} threads {many:6.2f} s   "
              f"({one / many:.2f}x; same bits: {'yes' if same else 'NO'})")


if __name__ == "__main__":
    main()
