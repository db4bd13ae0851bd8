"""Measurements of a model on data it was not trained on.

Shared by `benchmarks/accuracy.py` (which prints them and records them in
``model.json``) and the tests (which assert the quality bars), so the
figures in README, ``docs/measurements.md``, ``weights/model.json`` and the tests come from one code
path: the same ink and image pipelines the app uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from model.datasets.pendigits import DEFAULT_HOLDOUT, PenSample
from model.errors import DataError, DigitpadError
from model.inputs import images, ink
from model.recognise import Recogniser

USPS_ENV = "DIGITPAD_USPS_DATA"
SCAN_SIZE = 96


def holdout_writers(meta: dict) -> list[int]:
    """The writers a model was not trained on, as its model.json names them."""
    return list(meta.get("pen_holdout_writers") or DEFAULT_HOLDOUT)


def pen_probabilities(rec: Recogniser, samples: list[PenSample], scale: float = 1.0) -> np.ndarray:
    """Probabilities for each pen sample replayed at `scale` times the default canvas size.

    Each sample is one digit, so it is normalised whole (as the pad does for one digit).
    """
    X = np.stack([ink.normalise([st * scale for st in s.strokes]) for s in samples])
    return rec.classify(X)


def find_usps(path: str | os.PathLike | None = None) -> Path:
    """The USPS npz: `path`, else $DIGITPAD_USPS_DATA, else usps-train beside MNIST."""
    from model.datasets.mnist import find_data_dir

    folder = Path(path or os.environ.get(USPS_ENV) or find_data_dir().resolve().parent / "usps-train")
    p = folder / "usps-train.npz" if folder.suffix != ".npz" else folder
    if not p.is_file():
        raise DataError(f"{p}: USPS file not found (set {USPS_ENV})")
    return p


def load_usps(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """USPS images (n, 16, 16) uint8 with 255 = ink, and labels."""
    with np.load(find_usps(path)) as z:
        return z["images"], z["labels"]


def as_scan(img16: np.ndarray, size: int = SCAN_SIZE) -> np.ndarray:
    """A USPS digit as a scan would look: dark ink on white paper, upscaled, grey 0..1."""
    up = Image.fromarray(255 - img16).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(up, dtype=np.float32) / 255.0


def scan_inputs(imgs16: np.ndarray, size: int = SCAN_SIZE) -> np.ndarray:
    """Each USPS digit rendered as a scan and read whole as one digit by the image pipeline:
    (n, 28, 28) network inputs, blank where the pipeline finds nothing to read."""
    out = np.zeros((len(imgs16), 28, 28), dtype=np.float32)
    for k, img in enumerate(imgs16):
        try:
            out[k] = images.single_digit(images.ink_map(as_scan(img, size)))[0]
        except DigitpadError:
            pass
    return out


def read_scans(rec: Recogniser, imgs16: np.ndarray, size: int = SCAN_SIZE) -> list[tuple[str, float]]:
    """(digits read, confidence) for each USPS digit rendered as a scan, via the image pipeline."""
    out = []
    for img in imgs16:
        try:
            r = rec.read_ink_map(images.ink_map(as_scan(img, size)))
            out.append((r.text, r.confidence))
        except DigitpadError:
            out.append(("", 0.0))
    return out


MAX_CORRECT_FLAGGED = 0.05
"""The "not sure" flag may interrupt at most this share of correct answers."""


def choose_threshold(confidence: np.ndarray, correct: np.ndarray,
                     max_correct_flagged: float = MAX_CORRECT_FLAGGED) -> float:
    """The confidence threshold that flags the most errors while flagging few correct answers.

    On validation data: the highest threshold on a 0.01 grid (higher flags
    more) whose share of flagged correct answers stays within
    `max_correct_flagged`.
    """
    grid = np.round(np.arange(0.30, 0.995, 0.01), 2)
    ok = confidence[correct]
    flagged_ok = (ok[:, None] < grid).mean(axis=0) if len(ok) else np.zeros_like(grid)
    allowed = np.flatnonzero(flagged_ok <= max_correct_flagged)
    return float(grid[allowed[-1]]) if len(allowed) else float(grid[0])


def flag_rates(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> tuple[float, float]:
    """(share of errors flagged "not sure", share of correct answers flagged)."""
    flagged = confidence < threshold
    errors = (~correct).sum()
    return (float(flagged[~correct].sum() / errors) if errors else 0.0,
            float(flagged[correct].sum() / max(correct.sum(), 1)))
