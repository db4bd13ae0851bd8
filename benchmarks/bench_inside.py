"""How fast "Inside the network" is: opening the window, and each live update as the pen moves.

Measures, and prints (no assertions), with the shipped weights, in one process
under a private Xvfb:

1. window open: from constructing `app.inside.InsideWindow` until it is mapped
   and idle, the Hidden units tab drawn (the first open also imports its
   modules, as the menu command does); median of the later opens;
2. per live update: a new 28x28 input (real pen-written digits through the
   app's ink pipeline) taken from the getter, explained (activations, push,
   evidence) and drawn, for the Hidden units tab and for the What the network
   sees tab; median and 95th percentile, against the main window's live
   recognition interval (`LIVE_INTERVAL_MS`);
3. `digitpad report` on the shipped weights, with an empty cache and again
   with the cache the first run filled.

Run from the repository root: ``python benchmarks/bench_inside.py [--opens 5] [--updates 300]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path, sets DIGITPAD_DATA)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def ms(seconds: list[float]) -> str:
    """'median X ms, p95 Y ms'."""
    s = sorted(seconds)
    return f"median {1000 * statistics.median(s):.1f} ms, p95 {1000 * s[int(0.95 * (len(s) - 1))]:.1f} ms"


def pen_inputs(n: int) -> list:
    """28x28 inputs of real pen digits (held-out writers) through the app's ink pipeline."""
    from model.datasets import pendigits
    from model.inputs import ink

    samples = [s for s in pendigits.load(pendigits.find_pen_file()) if s.writer in pendigits.DEFAULT_HOLDOUT]
    return [ink.normalise(s.strokes) for s in samples[:n]]


def bench_window(opens: int, updates: int) -> None:
    import tkinter as tk

    from app.main_window import LIVE_INTERVAL_MS
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    t0 = time.perf_counter()
    from app import inside

    imports = time.perf_counter() - t0
    root = tk.Tk()
    root.geometry("600x400+0+0")
    rec = Recogniser(load_weights(ROOT / "weights"))
    current = {"img": None}
    times = []
    for _ in range(opens):
        t0 = time.perf_counter()
        w = inside.InsideWindow(root, lambda: rec, lambda: current["img"])
        while not w.winfo_viewable():
            root.update()
        root.update()
        times.append(time.perf_counter() - t0)
        w.close()
        root.update()
    print(f"window open: first {1000 * (imports + times[0]):.0f} ms (of which importing its modules "
          f"{1000 * imports:.0f} ms), then median {1000 * statistics.median(times[1:]):.0f} ms "
          f"over {len(times) - 1} more opens")

    imgs = pen_inputs(updates)
    w = inside.InsideWindow(root, lambda: rec, lambda: current["img"])
    while not w.winfo_viewable():
        root.update()
    root.update()
    for tab in ("units", "sees"):
        w.notebook.select(inside.TABS.index(tab))
        root.update()
        per = []
        for img in imgs:
            current["img"] = img
            t0 = time.perf_counter()
            w._check_input()  # noqa: SLF001 (what each tick does when the input changed)
            w.refresh()
            root.update_idletasks()
            per.append(time.perf_counter() - t0)
        print(f"live update, {inside.TAB_TITLES[tab]} tab: {ms(per)} over {len(per)} pen digits "
              f"(the pad recognises every {LIVE_INTERVAL_MS} ms while drawing)")
    w.close()
    root.destroy()


def bench_report() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        env["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        for label in ("empty cache", "cache filled by the first run"):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "app", "report", "--weights", str(ROOT / "weights"),
                                "--out", str(Path(tmp) / "out")], env=env, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"digitpad report failed: {r.stderr.strip()}")
                return
            print(f"digitpad report ({label}): {time.perf_counter() - t0:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--opens", type=int, default=5)
    p.add_argument("--updates", type=int, default=300)
    args = p.parse_args()
    from gui_driver import Xvfb, missing_tools

    if missing_tools():
        print(f"window: skipped (missing {', '.join(missing_tools())})")
    else:
        xvfb = Xvfb()
        os.environ["DISPLAY"] = xvfb.name
        try:
            bench_window(args.opens, args.updates)
        finally:
            xvfb.stop()
    bench_report()


if __name__ == "__main__":
    main()
