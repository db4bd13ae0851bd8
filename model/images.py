"""Scanned or photographed digits to MNIST-like 28x28 inputs.

An image file is read with Pillow (refusing decompression bombs and
non-images with a one-line error), turned into an "ink" map in 0..1 whatever
its polarity (dark on light or light on dark), and each digit's crop is
fitted into 20x20 keeping its aspect ratio and centred by centre of mass in
28x28, as MNIST was.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from model.errors import InputError, NothingToRecognise
from model.ink import BOX, CENTRE, SIZE, centre_of_mass

MAX_PIXELS = 40_000_000
"""Images with more pixels than this are refused (a decompression-bomb guard)."""


def load_gray(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as float32 grey levels in 0..1 (0 black, 1 white).

    Transparent pixels count as white paper; only the first frame of an
    animation is used.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise InputError(f"{path}: image too large ({w}x{h} pixels, at most "
                                     f"{MAX_PIXELS:,} allowed)")
                if w == 0 or h == 0:
                    raise InputError(f"{path}: image is empty (0 pixels)")
                img.seek(0)
                if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                    rgba = img.convert("RGBA")
                    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    grey = Image.alpha_composite(paper, rgba).convert("L")
                else:
                    grey = img.convert("L")
                arr = np.asarray(grey, dtype=np.float32)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{path}: image too large (decompression bomb guard)") from None
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image file Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"{path}: cannot read image ({exc})") from None
    return arr / np.float32(255.0)


def otsu_threshold(values: np.ndarray) -> float:
    """Otsu's threshold for values in 0..1 (maximises between-class variance)."""
    hist, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centres[int(np.argmax(between))])


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Ink intensity in 0..1 (1 = full ink, 0 = paper), whatever the polarity.

    The paper is whichever level the image border mostly has; ink levels are
    stretched so that the paper is 0 and the darkest ink (on light paper) is 1.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    ink = 1.0 - gray if paper >= 0.5 else gray.copy()
    lo = float(np.percentile(ink, 5))
    hi = float(np.percentile(ink, 99.9))
    if hi - lo < 0.1:  # a blank page (or nearly so)
        return np.zeros_like(ink)
    ink = (ink - lo) / (hi - lo)
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def to_mnist(crop: np.ndarray) -> np.ndarray:
    """Fit a digit's ink crop into 20x20 (aspect kept), centre by mass in 28x28."""
    h, w = crop.shape
    if h == 0 or w == 0 or crop.max() <= 0:
        raise NothingToRecognise("nothing to recognise: no ink")
    scale = BOX / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    img = Image.fromarray((crop * 255).astype(np.uint8), mode="L")
    small = np.asarray(img.resize((nw, nh), Image.Resampling.LANCZOS if scale < 1
                                  else Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    np.clip(small, 0.0, 1.0, out=small)
    r, c = centre_of_mass(small)
    top = int(round(CENTRE - r))
    left = int(round(CENTRE - c))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    # Paste with clipping at the 28x28 border.
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + nh, SIZE), min(left + nw, SIZE)
    out[r0:r1, c0:c1] = small[r0 - top : r1 - top, c0 - left : c1 - left]
    return out


def ink_bbox(ink: np.ndarray, threshold: float | None = None) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) exclusive bounds of pixels above the threshold."""
    t = otsu_threshold(ink[ink > 0.02]) if threshold is None and (ink > 0.02).any() else (threshold or 0.5)
    mask = ink > t
    if not mask.any():
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def single_digit(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The whole image as one digit: (28x28, box as (x0, y0, x1, y1))."""
    box = ink_bbox(ink)
    if box is None:
        raise NothingToRecognise("nothing to recognise: the image has no ink")
    t, left, b, r = box
    return to_mnist(ink[t:b, left:r]), (left, t, r, b)
