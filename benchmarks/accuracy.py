"""How well a model reads what people draw and scan, not only MNIST's test set.

Prints: MNIST test accuracy; accuracy on the pen writers held out from
training (replayed through the pad's ink pipeline at the default canvas
size); how that varies at half and double size and with thin and thick
canvas pens; the pen confusion matrix; USPS digits rendered as scans
(dark on white, 96x96) through the image pipeline; the "not sure" threshold
chosen on the held-out pen writers and its rates; the training time.

With ``--write`` the figures (and the chosen threshold, which the app and
``digitpad predict`` then use) are recorded in the weights' model.json.

Run: ``python benchmarks/accuracy.py [--weights weights] [--write]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from model.datasets import pendigits  # noqa: E402
from model.datasets.mnist import load_mnist  # noqa: E402
from model.evaluate import confusion_matrix, report  # noqa: E402
from model.fileio import atomic_write_text  # noqa: E402
from model.net.weights import load_weights  # noqa: E402
from model.recognise import Recogniser  # noqa: E402
from model.validation import (  # noqa: E402
    MAX_CORRECT_FLAGGED,
    choose_threshold,
    flag_rates,
    holdout_writers,
    load_usps,
    pen_probabilities,
    read_scans,
)
from model.verifier import load_verifier  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZES = (0.5, 1.0, 2.0)
PENS = (("thin", 4.0), ("default", 12.0), ("thick", 24.0))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(ROOT / "weights"))
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA)")
    p.add_argument("--pen-data", help="pendigits folder (default: beside MNIST)")
    p.add_argument("--usps", help="USPS folder (default: beside MNIST)")
    p.add_argument("--write", action="store_true", help="record the figures in model.json")
    p.add_argument("--no-verifier", action="store_true",
                   help="split scans without the shipped one-whole-digit network (model.verifier)")
    args = p.parse_args()

    model = load_weights(args.weights)
    rec = Recogniser(model, None if args.no_verifier else load_verifier(ROOT / "assets"))
    meta = model.meta
    figures: dict = {}
    print(f"weights {args.weights} ({model.describe()})"
          + ("  without the verifier" if args.no_verifier else ""))

    test = load_mnist("test", args.data)
    mnist_probs = rec.classify(test.X)
    mn = report(test.y, mnist_probs.argmax(axis=1))  # as `digitpad evaluate` computes it
    figures["test_accuracy"] = mn["accuracy"]
    mnist_conf = mnist_probs.max(axis=1)
    mnist_ok = mnist_probs.argmax(axis=1) == test.y
    print(f"MNIST test accuracy            {mn['accuracy']:.4f}  (10,000 images)")

    writers = holdout_writers(meta)
    samples = pendigits.load(pendigits.find_pen_file(args.pen_data, args.data))
    held = [s for s in samples if s.writer in writers]
    labels = np.array([s.label for s in held])
    probs = pen_probabilities(rec, held)
    pred = probs.argmax(axis=1)
    pen_acc = float((pred == labels).mean())
    figures["pen_holdout_accuracy"] = pen_acc
    print(f"pen, held-out writers {writers}: {pen_acc:.4f}  ({len(held)} digits)")

    print("\npen accuracy by canvas size and pen width (held-out writers)")
    print("  size  " + "".join(f"{name:>10}" for name, _ in PENS))
    table = {}
    for scale in SIZES:
        # The canvas pen width only changes how the pad looks: normalisation redraws the
        # strokes at MNIST's width, so the pen is not an input and one run serves its row.
        acc = float((pen_probabilities(rec, held, scale).argmax(axis=1) == labels).mean())
        for name, _width in PENS:
            table[f"{scale}x/{name}"] = round(acc, 4)
        print(f"  {scale:>4}x " + "".join(f"{acc:>10.4f}" for _ in PENS))
    figures["pen_size_pen_table"] = table

    print("\npen confusion matrix (rows: true digit, columns: predicted)")
    conf = confusion_matrix(labels, pred)
    print("     " + "".join(f"{d:>5}" for d in range(10)))
    for d, row in enumerate(conf):
        print(f"  {d}  " + "".join(f"{v:>5}" for v in row))
    figures["pen_confusion"] = conf.tolist()

    uimgs, ulabels = load_usps(args.usps)
    reads = read_scans(rec, uimgs)
    u_ok = np.array([t == str(lbl) for (t, _), lbl in zip(reads, ulabels, strict=True)])
    u_conf = np.array([c for _, c in reads])
    figures["usps_scan_accuracy"] = float(u_ok.mean())
    one = float(np.mean([len(t) == 1 for t, _ in reads]))
    print(f"\nUSPS as 96x96 scans            {u_ok.mean():.4f}  ({len(ulabels)} digits; "
          f"read as exactly one digit: {one:.4f})")

    pen_conf = probs.max(axis=1)
    pen_ok = pred == labels
    thr = choose_threshold(pen_conf, pen_ok)
    figures["unsure_threshold"] = thr
    print(f"\n\"not sure\" threshold, chosen on the held-out pen writers to flag at most "
          f"{MAX_CORRECT_FLAGGED:.0%} of correct answers: confidence < {thr:.2f}")
    rates = {}
    for name, c, ok in (("pen held-out", pen_conf, pen_ok), ("MNIST test", mnist_conf, mnist_ok),
                        ("USPS scans", u_conf, u_ok)):
        flagged_err, flagged_ok = flag_rates(c, ok, thr)
        rates[name] = {"errors_flagged": round(flagged_err, 4), "correct_flagged": round(flagged_ok, 4)}
        print(f"  {name:14s} errors flagged {flagged_err:.3f}   correct answers flagged {flagged_ok:.4f}")
    figures["unsure_rates"] = rates

    secs = meta.get("training_seconds")
    if secs is not None:
        how = (f"members {', '.join(meta['members'])}, {meta.get('max_iter')} iterations each"
               if "members" in meta
               else f"{meta.get('iterations')} iterations, {meta.get('training_images')} images per stage")
        print(f"\ntraining time                  {secs / 60:.1f} min  ({how})")

    if args.write:
        meta_path = Path(args.weights) / "model.json"
        new_meta = dict(meta)
        new_meta.update(figures)
        new_meta["measured_by"] = "python benchmarks/accuracy.py --write"
        atomic_write_text(meta_path, json.dumps(new_meta, indent=2) + "\n")
        print(f"\nrecorded in {meta_path}")


if __name__ == "__main__":
    main()
