"""How fast the app feels: start-up, one digit's recognition, and batch prediction.

Measures, and prints (no assertions):

1. start to window ready: from spawning ``python -m app`` under Xvfb until the
   window is mapped and idle (the app writes ``"ready": true`` to its
   ``DIGITPAD_DEBUG_STATE`` file then); median of a few runs;
2. ink to probabilities for one digit: ``Recogniser.read_strokes`` on real
   pen-written digits (pendigits), median and 95th percentile;
3. ``digitpad predict`` on 1,000 ink JSON files in one call (process included);
4. a scan to digits: ``Recogniser.read_ink_map`` (paper and ink found, the
   number split by recognition in both passes, the committee) on USPS digits
   rendered as 96x96 scans, and on rows of 6 touching USPS digits as
   `benchmarks/bench_numbers.py` makes them; median and 95th percentile.

Run from the repository root: ``python benchmarks/bench_app.py [--runs 5]``.
Needs Xvfb and xdotool for (1); (2) and (3) run anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SHARED = Path(os.environ.get("DIGITPAD_SHARED", ROOT.parent / "shared" / "data"))
USPS_FILE = Path(os.environ.get("DIGITPAD_USPS_DATA", SHARED / "usps-train")) / "usps-train.npz"
PEN_FILE = Path(os.environ.get("DIGITPAD_PEN_DATA", SHARED / "pendigits-train")) / "pendigits-orig.tra"


def bench_startup(runs: int) -> list[float]:
    """Seconds from spawn to the window being ready, per run."""
    from gui_driver import App, Xvfb, missing_tools, wait_for

    if missing_tools():
        print(f"start-up: skipped (missing {', '.join(missing_tools())})")
        return []
    xvfb = Xvfb()
    times = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(runs):
                home = Path(tmp) / f"home{i}"
                home.mkdir()
                app = App(xvfb, home)
                try:
                    def ready(app=app):
                        return json.loads(app.state_file.read_text())["ready"]

                    wait_for(ready, timeout=120, interval=0.005, what="the window")
                    times.append(time.monotonic() - app.started)
                    app.wait_ready()
                finally:
                    app.close()
    finally:
        xvfb.stop()
    return times


def bench_recognise(n: int) -> list[float]:
    """Seconds for read_strokes on each of `n` pendigits samples (one digit each)."""
    from model.datasets import pendigits
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    rec = Recogniser(load_weights(ROOT / "weights"))
    samples = pendigits.load(PEN_FILE)[:n]
    for s in samples[:20]:  # warm up
        rec.read_strokes(s.strokes)
    times = []
    for s in samples:
        t = time.perf_counter()
        rec.read_strokes(s.strokes)
        times.append(time.perf_counter() - t)
    return times


def bench_predict(n: int) -> tuple[float, int]:
    """(seconds, lines printed) for one `digitpad predict` over `n` ink JSON files."""
    from model.datasets import pendigits
    from model.inputs import ink

    samples = pendigits.load(PEN_FILE)[:n]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, s in enumerate(samples):
            p = Path(tmp) / f"ink{i:04d}.json"
            ink.save_ink(p, ink.Ink(s.strokes, *pendigits.CANVAS))
            paths.append(str(p))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "app", "predict", *paths], env=env, cwd=ROOT,
                           capture_output=True, text=True)
        seconds = time.perf_counter() - t
        if r.returncode != 0:
            print(r.stderr[-2000:], file=sys.stderr)
        return seconds, len(r.stdout.splitlines())


def bench_scans(n: int, rows: int) -> tuple[list[float], list[float]]:
    """Seconds for read_ink_map on `n` single USPS scans and on `rows` rows of 6 touching ones."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_numbers

    from model.inputs import images
    from model.net.weights import load_weights
    from model.recognise import Recogniser
    from model.validation import as_scan

    rec = Recogniser(load_weights(ROOT / "weights"))
    X, y = bench_numbers.load_usps(USPS_FILE)
    singles = [as_scan(img) for img in X[:n]]
    rng = np.random.default_rng(0)
    lines = [bench_numbers.usps_row(X, y, rng, 6, gap=(0.0, 0.0))[0].astype(np.float32) / 255.0
             for _ in range(rows)]

    def timed(greys: list) -> list[float]:
        for g in greys[:5]:  # warm up
            rec.read_ink_map(images.ink_map(g))
        out = []
        for g in greys:
            t = time.perf_counter()
            rec.read_ink_map(images.ink_map(g))
            out.append(time.perf_counter() - t)
        return out

    return timed(singles), timed(lines)


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def _ms(x: float) -> str:
    return f"{1000 * x:.1f} ms"


def main() -> None:
    """Run the three benchmarks and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="start-up runs (5)")
    p.add_argument("--digits", type=int, default=2000, help="pen digits to recognise (2000)")
    p.add_argument("--files", type=int, default=1000, help="ink files for predict (1000)")
    p.add_argument("--scans", type=int, default=300, help="single USPS scans to read (300)")
    p.add_argument("--rows", type=int, default=50, help="rows of 6 touching USPS scans to read (50)")
    args = p.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")

    starts = bench_startup(args.runs)
    if starts:
        print(f"start to window ready      median {_ms(statistics.median(starts))}  "
              f"(min {_ms(min(starts))}, max {_ms(max(starts))}, {len(starts)} runs)")

    times = bench_recognise(args.digits)
    print(f"ink to probabilities       median {_ms(statistics.median(times))}  p95 {_ms(_p95(times))}  "
          f"({len(times)} pendigits samples, one digit each)")

    seconds, lines = bench_predict(args.files)
    print(f"digitpad predict           {seconds:.2f} s for {args.files} ink JSON files in one call "
          f"({_ms(seconds / max(1, args.files))} per file incl. start-up; {lines} results)")

    singles, rows = bench_scans(args.scans, args.rows)
    print(f"scan to digits, one digit  median {_ms(statistics.median(singles))}  p95 {_ms(_p95(singles))}  "
          f"({len(singles)} USPS digits as 96x96 scans)")
    print(f"scan to digits, 6 touching median {_ms(statistics.median(rows))}  p95 {_ms(_p95(rows))}  "
          f"({len(rows)} rows of 6 USPS digits, ink boxes touching)")


if __name__ == "__main__":
    main()
