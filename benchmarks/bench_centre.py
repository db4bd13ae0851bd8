"""Where to put a digit's centre of mass: errors of the shipped weights by centre (issue 13).

For each centre, the USPS scans are read as single digits through the image
pipeline and the pen validation writers 25-30 through the ink pipeline, with
both pipelines placing the centre of mass there (validation data only; MNIST
test is not read). The shipped pipelines use `images.MNIST_CENTRE` (14.0) for
scans and `ink.CENTRE` (13.5) for ink.

Run: ``python benchmarks/bench_centre.py [--weights weights] [--centres 13.5,13.75,14.0]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from model.datasets import pendigits  # noqa: E402
from model.inputs import images, ink  # noqa: E402
from model.net.weights import load_weights  # noqa: E402
from model.recognise import Recogniser  # noqa: E402
from model.validation import load_usps, scan_inputs  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(common.ROOT / "weights"))
    p.add_argument("--centres", default="13.5,13.75,14.0")
    args = p.parse_args()
    rec = Recogniser(load_weights(args.weights))
    uimgs, ulabels = load_usps(None)
    held = [s for s in pendigits.load(pendigits.find_pen_file()) if s.writer in pendigits.DEFAULT_HOLDOUT]
    plabels = np.array([s.label for s in held])
    shipped = (images.MNIST_CENTRE, ink.CENTRE)
    try:
        for c in (float(v) for v in args.centres.split(",")):
            images.MNIST_CENTRE, ink.CENTRE = c, c
            usps = int((rec.classify(scan_inputs(uimgs)).argmax(1) != ulabels).sum())
            pen_x = np.stack([ink.normalise(s.strokes) for s in held])
            pen = int((rec.classify(pen_x).argmax(1) != plabels).sum())
            print(f"centre {c:5.2f}  USPS single-digit scans {usps:3d} errors of {len(ulabels)}  "
                  f"pen 25-30 {pen:3d} errors of {len(plabels)}", flush=True)
    finally:
        images.MNIST_CENTRE, ink.CENTRE = shipped


if __name__ == "__main__":
    main()
