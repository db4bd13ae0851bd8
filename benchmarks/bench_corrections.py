"""Learn from corrections, simulated on the pen validation writers (issue 11).

Each validation writer (25-30, never in the shipped model's training) writes
their digits in the file's order on a fresh install. Every digit the current
weights misread is corrected: it becomes a labelled sample, and after every
`--every` corrections the app adapts to all corrections so far and switches
to the adapted weights only if `AdaptOutcome.improves` says so — exactly what
Model → Learn from corrections does (`app.adapting.run_adapt`, the shipped
replay set, the check set held out of it). Each digit is read as the
correction stores it: the whole drawing through `model.inputs.ink.normalise`.

Prints, per writer and in total: the misreads the writer saw with the shipped
weights alone and with learning, the adaptations tried and switched to, and
the mean adapt time (fair estimate included, as the app runs it).

Run: ``python benchmarks/bench_corrections.py [--every 3] [--writers 25,26,27,28,29,30] [--always]``
(``--always`` switches after every adaptation, to see what the check is worth).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from app.adapting import load_shipped_replay, run_adapt  # noqa: E402
from model.datasets import pendigits
from model.inputs import ink  # noqa: E402
from model.inputs.ink import Ink  # noqa: E402
from model.net.weights import load_weights  # noqa: E402
from model.personal.adapt import save_adapted  # noqa: E402
from model.personal.samples import SampleStore  # noqa: E402
from model.recognise import Recogniser  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def simulate(samples, shipped, replay, every: int, folder: Path, always: bool = False) -> dict:
    """One writer's session: misreads seen, adaptations tried / switched to, their times."""
    store = SampleStore(folder)
    model, reader = shipped, Recogniser(shipped)
    pending, seen, tried, switched, seconds = 0, 0, 0, 0, []
    for s in samples:
        img = ink.normalise(s.strokes)
        if int(reader.classify(img[None]).argmax()) == s.label:
            continue
        seen += 1
        store.add(Ink(strokes=[st.tolist() for st in s.strokes], width=560, height=320, pen_width=12),
                  str(s.label), source="correction")
        pending += 1
        if pending < every:
            continue
        pending = 0
        mine, _ = store.load()
        t0 = time.perf_counter()
        outcome = run_adapt(model, mine, replay=replay, measure_mnist=False)
        seconds.append(time.perf_counter() - t0)
        tried += 1
        if always or outcome.improves():
            switched += 1
            # as the app does: the adapted weights saved (here, to a scratch folder) and loaded
            model = load_weights(save_adapted(folder.parent / f"adapted{tried}", outcome.base,
                                              outcome.result, outcome.meta))
            reader = Recogniser(model)
    return {"seen": seen, "tried": tried, "switched": switched, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=3, help="adapt after this many corrections (3)")
    ap.add_argument("--writers", default=",".join(map(str, pendigits.DEFAULT_HOLDOUT)))
    ap.add_argument("--always", action="store_true", help="switch after every adaptation (no check)")
    args = ap.parse_args(argv)
    writers = [int(w) for w in args.writers.split(",")]
    shipped = load_weights(ROOT / "weights")
    replay = load_shipped_replay()
    pen = pendigits.load(pendigits.find_pen_file())
    reader = Recogniser(shipped)
    rows, total = [], {"n": 0, "base": 0, "seen": 0, "tried": 0, "switched": 0, "seconds": []}
    print(f"Learn from corrections: adapt after every {args.every} corrections, "
          + ("always switch" if args.always else "switch only if it helps"))
    print(f"{'writer':>6} {'digits':>6} {'shipped misreads':>16} {'with learning':>13} {'adapts':>6} "
          f"{'switched':>8} {'s/adapt':>7}")
    for w in writers:
        mine = [s for s in pen if s.writer == w]
        X = np.stack([ink.normalise(s.strokes).ravel() for s in mine])
        base = int(np.sum(reader.classify(X).argmax(axis=1) != np.array([s.label for s in mine])))
        with tempfile.TemporaryDirectory() as tmp:
            r = simulate(mine, shipped, replay, args.every, Path(tmp) / "samples", args.always)
        mean = f"{np.mean(r['seconds']):.1f}" if r["seconds"] else "-"
        print(f"{w:>6} {len(mine):>6} {base:>16} {r['seen']:>13} {r['tried']:>6} {r['switched']:>8} "
              f"{mean:>7}", flush=True)
        total["n"] += len(mine)
        total["base"] += base
        for k in ("seen", "tried", "switched"):
            total[k] += r[k]
        total["seconds"] += r["seconds"]
        rows.append(r)
    mean = f"{np.mean(total['seconds']):.1f}" if total["seconds"] else "-"
    print(f"{'all':>6} {total['n']:>6} {total['base']:>16} {total['seen']:>13} {total['tried']:>6} "
          f"{total['switched']:>8} {mean:>7}")
    if total["base"]:
        print(f"misreads cut by {100 * (1 - total['seen'] / total['base']):.0f}% "
              f"({total['base']} -> {total['seen']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
