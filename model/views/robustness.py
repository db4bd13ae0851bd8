"""How accuracy falls off as digits are rotated, scaled, shifted, thickened or made noisy.

Each axis applies one distortion at several strengths to fixed sets of
28x28 digits (a fixed sample of MNIST test, the pen validation writers
25-30) and measures the accuracy of a classifier at each strength. The
distortions act on the normalised 28x28 images, the same for both sets,
and are computed over the whole stack at once (`scipy.ndimage` with the
sample axis left alone), never one image at a time.

What this leaves out: the app's own normalisation would undo part of a
rotation's or scale's effect on a drawing (it refits the ink into 20x20);
these curves show what the network itself tolerates, not the whole app.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

VERSION = 1
"""Bumped when the axes, strengths or sample change (part of the cache key)."""
MNIST_SAMPLE = 1000
"""How many MNIST test images (a fixed random choice, seed 0) the curves use."""
CENTRE = 13.5


@dataclass(frozen=True)
class Axis:
    """One kind of distortion and the strengths it is measured at (`neutral` = undistorted)."""

    name: str
    label: str
    levels: tuple[float, ...]
    neutral: float


AXES = (
    Axis("rotation", "rotation (degrees, counter-clockwise)", (-30, -20, -10, 0, 10, 20, 30), 0),
    Axis("scale", "scale factor", (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4), 1.0),
    Axis("shift", "shift right and down (pixels of 28)", (-6, -4, -2, 0, 2, 4, 6), 0),
    Axis("thickness", "stroke width change (pixels of 28)", (-1, 0, 1, 2, 3), 0),
    Axis("noise", "added noise (standard deviation)", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5), 0.0),
)

Classify = Callable[[np.ndarray], np.ndarray]
"""Probabilities (n, 10) for images (n, 28, 28): `Recogniser.classify`."""


def _affine(stack: np.ndarray, A: np.ndarray, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Output pixel o samples input A @ (o - c - shift) + c, for every image of the stack at once."""
    M = np.eye(3)
    M[1:, 1:] = A
    c = np.array([CENTRE, CENTRE])
    offset = np.zeros(3)
    offset[1:] = c - A @ (c + np.asarray(shift, dtype=np.float64))
    return ndimage.affine_transform(stack, M, offset=offset, order=1, mode="constant", cval=0.0)


def distort(stack: np.ndarray, axis: str, level: float, seed: int = 0) -> np.ndarray:
    """A distorted copy of `stack` (n, 28, 28) in 0..1: `axis` at strength `level`."""
    X = np.asarray(stack, dtype=np.float32)
    if axis == "rotation":
        if level == 0:
            return X
        t = math.radians(level)
        # Rows grow downward: a counter-clockwise turn on screen maps (r, c) back by this matrix.
        A = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
        return _affine(X, A)
    if axis == "scale":
        return X if level == 1 else _affine(X, np.eye(2) / level)
    if axis == "shift":
        return X if level == 0 else _affine(X, np.eye(2), (level, level))
    if axis == "thickness":
        k = int(abs(level)) + 1
        if level == 0:
            return X
        op = ndimage.grey_dilation if level > 0 else ndimage.grey_erosion
        return op(X, size=(1, k, k))
    if axis == "noise":
        if level == 0:
            return X
        rng = np.random.default_rng([seed, int(round(level * 1000))])
        return np.clip(X + rng.normal(0.0, level, X.shape).astype(np.float32), 0.0, 1.0)
    raise ValueError(f"unknown distortion {axis!r}; expected one of {[a.name for a in AXES]}")


def mnist_sample(X: np.ndarray, y: np.ndarray, n: int = MNIST_SAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random choice (seed 0) of `n` rows, in their original order."""
    if len(y) <= n:
        return X, y
    idx = np.sort(np.random.default_rng(0).choice(len(y), n, replace=False))
    return X[idx], y[idx]


class Cancelled(Exception):
    """The caller asked the computation to stop."""


def measure(classify: Classify, sets: Sequence[tuple[str, np.ndarray, np.ndarray]],
            progress: Callable[[int, int], None] | None = None,
            cancel: threading.Event | None = None, axes: Sequence[Axis] = AXES) -> dict:
    """Accuracy of `classify` on every (set, axis, level); JSON-able.

    `sets` are (name, X (n, 784) or (n, 28, 28), labels). `progress(done,
    total)` is called after each step; a set `cancel` raises `Cancelled`.
    Returns ``{"version", "sets": {name: n}, "axes": [{"name", "label",
    "levels", "accuracy": {set name: [per level]}}]}``.
    """
    total = sum(len(a.levels) for a in axes) * len(sets)
    done = 0
    out_axes = []
    for axis in axes:
        acc: dict[str, list[float]] = {}
        for name, X, y in sets:
            stack = np.asarray(X, dtype=np.float32).reshape(-1, 28, 28)
            labels = np.asarray(y)
            row = []
            for level in axis.levels:
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                probs = classify(distort(stack, axis.name, level))
                row.append(float(np.mean(probs.argmax(axis=1) == labels)))
                done += 1
                if progress is not None:
                    progress(done, total)
            acc[name] = row
        out_axes.append({"name": axis.name, "label": axis.label, "levels": list(axis.levels),
                         "accuracy": acc})
    return {"version": VERSION, "sets": {name: int(len(y)) for name, _, y in sets}, "axes": out_axes}
