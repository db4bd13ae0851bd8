"""Recognition's batches with NumPy's BLAS on its default threads or held to one, idle and busy.

Recognition scores a few to a few hundred candidate digits at a time
(`model.recognise.Recogniser.classify`, which holds NumPy's OpenBLAS to one
thread: `model.net.blas`). This prints, for batches of 1, 15 and 300 rows
through the shipped committee, the median and 95th percentile time with the
library's default thread pool and with one thread; first as the machine is,
then with one core kept busy by another process (as a desktop often is).
Prints figures only; nothing is asserted.

Run: ``python benchmarks/bench_threads.py [--repeat 40]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.net import blas  # noqa: E402
from model.net.ensemble import committee_proba  # noqa: E402
from model.net.weights import load_weights  # noqa: E402


def measure(networks, rows: int, one: bool, repeat: int) -> np.ndarray:
    """Seconds per committee pass over a random batch of `rows` rows."""
    X = np.random.default_rng(rows).random((rows, 784), dtype=np.float32)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        with blas.one_thread("numpy") if one else nullcontext():
            committee_proba(networks, X)
        times.append(time.perf_counter() - t)
    return np.array(times)


def report(tag: str, networks, repeat: int) -> None:
    """One line per batch size: default threads against one thread."""
    for rows in (1, 15, 300):
        cells = []
        for one in (False, True):
            t = 1000 * measure(networks, rows, one, repeat)
            cells.append(f"{'one thread' if one else 'default':10s} median {np.median(t):6.2f} ms "
                         f"p95 {np.percentile(t, 95):6.2f} ms")
        print(f"{tag:14s} {rows:3d} rows: {' | '.join(cells)}", flush=True)


def main() -> None:
    """Measure as the machine is, then with one core kept busy."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=40)
    args = p.parse_args()
    model = load_weights(ROOT / "weights")
    networks = [(n.thetas, n.deskew) for n in model.networks]
    control = blas.openblas("numpy")
    print(f"{os.cpu_count()} CPUs, NumPy's OpenBLAS default threads: "
          f"{control.get() if control else 'not found'}, load average {os.getloadavg()[0]:.2f}")
    report("as it is", networks, args.repeat)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)
        report("one core busy", networks, args.repeat)
    finally:
        busy.kill()
        busy.wait()


if __name__ == "__main__":
    main()
