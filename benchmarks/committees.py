"""Read every subset of some networks as a committee, on validation data only.

For choosing which trained networks to ship together (issue 13): each subset
is read on the pen validation writers 25-30 (replayed through the pad's ink
pipeline) and on the USPS scans (through the image pipeline), and the errors
are printed, the pen errors also by writer (a few writers' habits, such as
one writer's 9s with a collapsed loop, make up most of them). MNIST test is
not read.

Run: ``python benchmarks/committees.py FOLDER FOLDER [FOLDER ...]`` where each
FOLDER is one network's Theta folder (e.g. a committee's ``weights/member1``,
or a member of an earlier committee: ``git worktree add ../old <commit>``).
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

from model.datasets import pendigits  # noqa: E402
from model.net.weights import Model, load_weights  # noqa: E402
from model.recognise import Recogniser  # noqa: E402
from model.validation import load_usps, pen_probabilities, read_scans  # noqa: E402

WRITERS = [25, 26, 27, 28, 29, 30]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", help="one network's weights folder each")
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA); pendigits and USPS beside it")
    p.add_argument("--pen-only", action="store_true", help="skip the USPS scans (seconds instead of minutes)")
    args = p.parse_args()

    nets = [load_weights(f) for f in args.folders]
    samples = pendigits.load(pendigits.find_pen_file(None, args.data))
    held = [s for s in samples if s.writer in WRITERS]
    labels = np.array([s.label for s in held])
    writers = np.array([s.writer for s in held])
    uimgs, ulabels = (None, None) if args.pen_only else load_usps(None)
    for i, f in enumerate(args.folders):
        print(f"{i + 1}: {f} ({nets[i].describe()})")
    for r in range(1, len(nets) + 1):
        for combo in itertools.combinations(range(len(nets)), r):
            chosen = [nets[i] for i in combo]
            model = chosen[0] if len(chosen) == 1 else Model(
                thetas=chosen[0].thetas, layout=chosen[0].layout, source=None, members=chosen,
                meta={"pen_holdout_writers": WRITERS})
            rec = Recogniser(model)
            t0 = time.perf_counter()
            wrong = pen_probabilities(rec, held).argmax(axis=1) != labels
            pen_err = int(wrong.sum())
            by_writer = "/".join(str(int(wrong[writers == w].sum())) for w in WRITERS)
            usps = ""
            if uimgs is not None:
                scans = read_scans(rec, uimgs)
                usps_err = sum(t != str(lbl) for (t, _), lbl in zip(scans, ulabels, strict=True))
                usps = f"  usps {usps_err:4d} errors of {len(ulabels)}"
            print(f"{'+'.join(str(i + 1) for i in combo):8s} pen {pen_err:3d} errors of {len(labels)} "
                  f"(writers {WRITERS[0]}-{WRITERS[-1]}: {by_writer}){usps}  "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
