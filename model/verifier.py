"""Is a candidate one whole digit? A small network that says so, for reading scanned rows.

Segmentation by recognition (`model.numbers.segment_cuts`) asks the digit
network what each candidate piece of ink is, and the digit network answers
with a digit even when the piece is two overlapping digits: a 4 pressed into
the next 4 reads as a 4, a 1 fused into an 8's stroke as an 8, and the row
loses a digit. This module trains and runs a second sigmoid network
(784-100-2, the same forward pass and L-BFGS-B training as the digit
network) whose output is the probability that a normalised candidate is one
whole digit rather than two overlapping digits or part of one; the lattice
charges ``-log`` of it (`model.numbers.segment_cuts.VERIFY_COST`).

Its training images are composed from MNIST training digits (rows 0-49,999:
the last 10,000 stay validation rows), each brought to MNIST's form by
`model.inputs.images.to_mnist`, as every candidate is:

- **one digit** (label 1), half of them with a sliver (3-20% of the width) of
  a neighbour touching or overlapping it, as cut candidates often carry;
- **two digits** (label 0) whose ink overlaps by up to 25% of the height or
  is 5% apart, the outer one cut to 50-100% of its width;
- **part of a digit** (label 0): one side of a digit cut through at 30-70%
  of its width.

Digits are stretched sideways at random (scans fill their box wider than
MNIST's digits). Left out: pen ink (`model.numbers.segment_ink` has the
writing order instead), and rows of three or more digits in one candidate.
The shipped files are ``assets/verifier_Theta1.txt``, ``..._Theta2.txt`` and
``assets/verifier.json``, made by ``python -m model.verifier``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from model.errors import NothingToRecognise, WeightsError
from model.fileio import atomic_write_text
from model.inputs import images
from model.net import mlp
from model.net.layout import Layout
from model.net.weights import load_theta

PREFIX = "verifier"
"""The files are ``PREFIX_Theta1.txt``, ``PREFIX_Theta2.txt`` and ``PREFIX.json`` in the assets folder."""
TRAIN_ROWS = (0, 50_000)
"""MNIST training rows the training images are composed from (the rest are validation rows)."""
CHECK_ROWS = (50_000, 60_000)
"""MNIST training rows the held-out check images are composed from."""
SINGLE, PAIR = 0.5, 0.35
"""Shares of one-digit and two-digit images; the rest are parts of a digit."""
STRETCH = (-0.25, 0.35)
"""Log of the sideways stretch of each digit (scans are wider than MNIST's digits)."""
SCALE = 3.0
"""MNIST's 28x28 digits are composed at this many times their size (then normalised back)."""


@dataclass
class Verifier:
    """The one-whole-digit network: its Thetas and how it was made."""

    thetas: list[np.ndarray]
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._forward = [np.asarray(t, dtype=mlp.DTYPE) for t in self.thetas]

    def p_single(self, crops: np.ndarray) -> np.ndarray:
        """P(one whole digit) for each normalised candidate ((n, 28, 28) or (n, 784)), shape (n,)."""
        X = np.asarray(crops, dtype=mlp.DTYPE).reshape(len(crops), -1)
        if X.shape[1] != 784:
            raise ValueError(f"expected 28x28 crops (784 values each), got {X.shape[1]} values each")
        return mlp.predict_proba(self._forward, X)[:, 1].astype(np.float64)


def _digit_ink(image28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit's ink box, enlarged `SCALE` times (+-8%) and stretched sideways (`STRETCH`)."""
    a = image28.reshape(28, 28)
    rows = np.flatnonzero(a.max(axis=1) > 0.1)
    cols = np.flatnonzero(a.max(axis=0) > 0.1)
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    s = SCALE * np.exp(rng.uniform(-0.08, 0.08))
    sx = s * np.exp(rng.uniform(*STRETCH))
    h, w = a.shape
    size = (max(1, round(w * sx)), max(1, round(h * s)))
    im = Image.fromarray((a * 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0


def _side_by_side(parts: Sequence[np.ndarray], gap: int, rng: np.random.Generator) -> np.ndarray:
    """One or two ink arrays side by side, `gap` pixels apart (negative: overlapping), each a little
    higher or lower."""
    height = max(p.shape[0] for p in parts)
    tops = [int(rng.integers(0, int(0.08 * height) + 1)) for _ in parts]
    xs = [0] if len(parts) == 1 else [0, parts[0].shape[1] + gap]
    shift = -min(xs)
    xs = [x + shift for x in xs]
    canvas = np.zeros((max(t + p.shape[0] for t, p in zip(tops, parts, strict=True)) + 4,
                       max(x + p.shape[1] for x, p in zip(xs, parts, strict=True)) + 4), dtype=np.float32)
    for x, t, p in zip(xs, tops, parts, strict=True):
        view = canvas[t + 2:t + 2 + p.shape[0], x + 2:x + 2 + p.shape[1]]
        np.maximum(view, p, out=view)
    return canvas


def _compose_one(X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One training picture (ink, unnormalised) and its label (1: one whole digit)."""
    u = rng.random()
    i, j = rng.integers(len(X), size=2)
    a, b = _digit_ink(X[i], rng), _digit_ink(X[j], rng)
    height = max(a.shape[0], b.shape[0])
    left = rng.random() < 0.5
    if u < SINGLE:
        if rng.random() < 0.5:
            return _side_by_side([a], 0, rng), 1
        k = max(1, round(rng.uniform(0.03, 0.2) * b.shape[1]))
        gap = round(rng.uniform(-0.06, 0.02) * height)
        return _side_by_side([b[:, -k:], a] if left else [a, b[:, :k]], gap, rng), 1
    if u < SINGLE + PAIR:
        k = max(1, round(rng.uniform(0.5, 1.0) * b.shape[1]))
        gap = round(rng.uniform(-0.25, 0.05) * height)
        return _side_by_side([b[:, -k:], a] if left else [a, b[:, :k]], gap, rng), 0
    k = max(1, round(rng.uniform(0.3, 0.7) * a.shape[1]))
    return _side_by_side([a[:, :k] if left else a[:, k:]], 0, rng), 0


def compose(X: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` normalised pictures ((n, 784) float32) composed from MNIST digits `X`, and their labels
    (1: one whole digit, 0: two digits or part of one). The same seed gives the same bytes."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 784), dtype=np.float32)
    labels = np.zeros(n, dtype=np.int64)
    for t in range(n):
        ink, label = _compose_one(X, rng)
        try:
            out[t] = images.to_mnist(ink).ravel()
        except NothingToRecognise:  # a part too faint to keep: an empty picture, labelled "no digit"
            label = 0
        labels[t] = label
    return out, labels


def train_verifier(X: np.ndarray, n: int = 60_000, hidden: int = 100, max_iter: int = 300,
                   lam: float = 1.0, seed: int = 1, check_n: int = 10_000, progress=None) -> Verifier:
    """Train the network on `n` pictures composed from `X` (MNIST training images, `TRAIN_ROWS` of
    them) and check it on `check_n` composed from `CHECK_ROWS`; the check's accuracy is in the meta."""
    from model.net.train import train

    t0 = time.perf_counter()
    train_X, train_y = compose(X[TRAIN_ROWS[0]:TRAIN_ROWS[1]], n, seed)
    check_X, check_y = compose(X[CHECK_ROWS[0]:CHECK_ROWS[1]], check_n, seed + 1)
    made = time.perf_counter() - t0
    result = train(train_X, train_y, Layout((784, hidden, 2)), lam=lam, max_iter=max_iter, seed=seed,
                   progress=progress)
    verifier = Verifier(result.thetas)
    check = float(((verifier.p_single(check_X) >= 0.5) == (check_y == 1)).mean())
    verifier.meta = {
        "what": "P(one whole digit) of a normalised candidate (model.verifier)",
        "layer_sizes": [784, hidden, 2], "lambda": lam, "max_iter": max_iter, "seed": seed,
        "training_images": n, "check_images": check_n,
        "mnist_rows": list(TRAIN_ROWS), "check_rows": list(CHECK_ROWS),
        "check_accuracy": round(check, 4), "composing_seconds": round(made, 1),
        "training_seconds": round(result.seconds, 1), "iterations": result.iterations,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return verifier


def paths(folder: str | Path) -> tuple[Path, Path, Path]:
    """The verifier's two Theta files and its JSON in `folder` (the assets folder)."""
    folder = Path(folder)
    return (folder / f"{PREFIX}_Theta1.txt", folder / f"{PREFIX}_Theta2.txt", folder / f"{PREFIX}.json")


def save_verifier(verifier: Verifier, folder: str | Path) -> None:
    """Write the Theta files (9 significant digits: float32 exactly) and the JSON, each atomically."""
    *thetas, meta = paths(folder)
    for path, t in zip(thetas, verifier.thetas, strict=True):
        buf = io.StringIO()
        np.savetxt(buf, np.asarray(t, dtype=np.float64), fmt="%.9g")
        atomic_write_text(path, buf.getvalue())
    atomic_write_text(meta, json.dumps(verifier.meta, indent=2) + "\n")


def _matrix(path: Path, rows: int | None, cols: int | None) -> np.ndarray:
    """A Theta file (`model.net.weights.load_theta`) with that many rows/columns (None: any)."""
    t = load_theta(path)
    if (rows is not None and t.shape[0] != rows) or (cols is not None and t.shape[1] != cols):
        want = " x ".join(f"{n} {what}" for n, what in ((rows, "rows"), (cols, "columns")) if n is not None)
        raise WeightsError(f"{path}: a {t.shape[0]}x{t.shape[1]} matrix, expected {want}")
    return t


def load_verifier(folder: str | Path) -> Verifier:
    """Read the verifier from `folder`; `WeightsError` naming the file if one is missing or malformed."""
    first_path, second_path, meta_path = paths(folder)
    first = _matrix(first_path, None, 785)
    second = _matrix(second_path, 2, first.shape[0] + 1)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # how it was made is for people; the Thetas are what it needs
        meta = {}
    return Verifier([first, second], meta if isinstance(meta, dict) else {})


def main(argv: list[str] | None = None) -> int:
    """``python -m model.verifier --data MNIST_DIR [--out assets]``: train and save the verifier."""
    from model.datasets.mnist import load_mnist

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="MNIST folder")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "assets"),
                    help="folder to write the verifier's files to (default: this checkout's assets/)")
    ap.add_argument("--n", type=int, default=60_000, help="training pictures (60000)")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        X = load_mnist("train", args.data).X
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        print(f"digitpad verifier: {exc}", file=sys.stderr)
        return 2
    v = train_verifier(X, n=args.n, hidden=args.hidden, max_iter=args.max_iter, seed=args.seed)
    v.meta["command"] = "python -m model.verifier " + " ".join(argv if argv is not None else sys.argv[1:])
    save_verifier(v, args.out)
    m = v.meta
    print(f"verifier: {m['check_accuracy']:.2%} right on {m['check_images']:,} held-out pictures; composing "
          f"{m['composing_seconds']} s, training {m['training_seconds']} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
