"""Pen strokes to an MNIST-like 28x28 image.

MNIST's digits were fitted, keeping their aspect ratio, into a 20x20 box,
anti-aliased, and placed in a 28x28 field so that their centre of mass is at
the centre. A drawing is turned into the same thing here, from its vector
strokes: the strokes are scaled so that the ink, *including* the pen's
thickness, fits the 20x20 box, drawn with round caps and joints at a fixed
MNIST-like thickness (whatever pen width the canvas used or the size the
person wrote at) on a 4x supersampled canvas, moved so that the centre of
mass lands on (13.5, 13.5), and box-filtered down to 28x28.

Left out: slant correction and stroke-order features; the network sees only
the picture.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from model.errors import InputError, NothingToRecognise

SIZE = 28
BOX = 20.0
SUPERSAMPLE = 4
DEFAULT_THICKNESS = 2.3
"""Stroke width in 28x28 pixels; chosen so that rendered pen digits carry the
same ink per image as MNIST's average (see tests/test_ink.py)."""

CENTRE = (SIZE - 1) / 2.0  # 13.5: the centre of a 28x28 grid of pixel centres 0..27

STROKE_POINTS = 1000
"""A stroke of more points than this is resampled to this many, evenly spaced along its length (a pen
held down, a tablet export): every later step costs at least in proportion to the points. A pen digit
has 10-185 points; a stroke on the pad about one per pixel of its length."""
DRAWING_POINTS = 10_000
"""A drawing of more points than this in all has its strokes resampled at one common spacing, so that
it holds about this many (20 strokes of 20,000 points; a 30-second scribble)."""
MAX_STROKES = 1000
"""An ink file of more strokes than this is refused (a 40-digit number has about 50)."""
MAX_FILE_BYTES = 16 * 2**20
"""An ink file larger than this is refused before it is parsed (about a million points)."""


@dataclass
class Ink:
    """A drawing: strokes in canvas pixels (y grows downward) and the canvas size."""

    strokes: list[np.ndarray]
    width: float = 0.0
    height: float = 0.0
    pen_width: float | None = None

    def to_json(self) -> dict:
        """The ink file format: ``{"width", "height", "strokes", "pen_width"?}``."""
        d = {
            "width": self.width,
            "height": self.height,
            "strokes": [[[round(float(x), 2), round(float(y), 2)] for x, y in s] for s in self.strokes],
        }
        if self.pen_width is not None:
            d["pen_width"] = self.pen_width
        return d


def as_strokes(strokes: Sequence[Sequence[Sequence[float]]]) -> list[np.ndarray]:
    """Convert nested point lists into (n, 2) float arrays, dropping empty strokes, within the bounds.

    Strokes of more than `STROKE_POINTS` points, and all strokes of a drawing of more than
    `DRAWING_POINTS`, are resampled evenly along their length (`bounded`); others are kept as they are.
    """
    return bounded(_arrays(strokes))


def _arrays(strokes: Sequence[Sequence[Sequence[float]]]) -> list[np.ndarray]:
    """Nested point lists as (n, 2) float arrays, empty strokes dropped (no bounds applied)."""
    out = []
    for s in strokes:
        a = np.asarray(s, dtype=np.float64).reshape(-1, 2)
        if len(a):
            out.append(a)
    return out


def resample(stroke: np.ndarray, n: int) -> np.ndarray:
    """`n` points (at least 2) evenly spaced along a polyline, both ends kept; a stroke of no length
    (a dot, however many times its point was recorded) is one point."""
    d = np.hypot(*np.diff(stroke, axis=0).T)
    keep = np.concatenate(([True], d > 0))
    stroke, d = stroke[keep], d[keep[1:]]
    if len(stroke) < 2:
        return stroke[:1].copy()
    along = np.concatenate(([0.0], np.cumsum(d)))
    t = np.linspace(0.0, along[-1], max(int(n), 2))
    return np.column_stack((np.interp(t, along, stroke[:, 0]), np.interp(t, along, stroke[:, 1])))


def bounded(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """The strokes with at most `STROKE_POINTS` points each and about `DRAWING_POINTS` in all.

    Linear in the points. Denser strokes are resampled (`resample`): each to the points it would have
    at one common spacing, the drawing's length over `DRAWING_POINTS` (or to `STROKE_POINTS`, if
    fewer). Strokes within both bounds come back unchanged (the same arrays), so normal writing is read
    exactly as before.
    """
    sizes = [len(s) for s in strokes]
    if not sizes or (max(sizes) <= STROKE_POINTS and sum(sizes) <= DRAWING_POINTS):
        return strokes
    lengths = [float(np.hypot(*np.diff(s, axis=0).T).sum()) for s in strokes]
    over = sum(sizes) > DRAWING_POINTS
    step = sum(lengths) / max(DRAWING_POINTS - 2 * len(strokes), len(strokes)) if over else 0.0
    out = []
    for s, n, length in zip(strokes, sizes, lengths, strict=True):
        most = STROKE_POINTS
        if over:  # the points this stroke has at the common spacing (a dot: one)
            most = min(most, int(length / step) + 2) if step > 0 else 1
        out.append(resample(s, most) if n > most else s)
    return out


def load_ink(path: str | os.PathLike) -> Ink:
    """Read an ink JSON file, with a one-line error naming the file if it is malformed."""
    from model.fileio import read_json

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_json names what is wrong with it
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: ink file too large ({size:,} bytes; at most {MAX_FILE_BYTES:,} are read)")
    return ink_from_json(read_json(path, InputError), path)


def ink_from_json(raw: object, path: str | os.PathLike) -> Ink:
    """An `Ink` from parsed ink JSON; `path` only names the file in the error message."""
    if not isinstance(raw, dict) or not isinstance(raw.get("strokes"), list):
        raise InputError(f"{path}: ink JSON needs an object with a \"strokes\" list")
    if len(raw["strokes"]) > MAX_STROKES:
        raise InputError(f"{path}: too many strokes ({len(raw['strokes']):,}; at most {MAX_STROKES:,} "
                         "are read)")
    try:
        strokes = _arrays(raw["strokes"])
        width = float(raw.get("width", 0) or 0)
        height = float(raw.get("height", 0) or 0)
        pen = raw.get("pen_width")
        pen = None if pen is None else float(pen)
    except (TypeError, ValueError, RecursionError):
        raise InputError(f"{path}: strokes must be lists of [x, y] number pairs") from None
    if any(not np.all(np.isfinite(s)) for s in strokes):
        raise InputError(f"{path}: stroke coordinates must be finite numbers")
    return Ink(strokes=bounded(strokes), width=width, height=height, pen_width=pen)


def save_ink(path: str | os.PathLike, ink: Ink) -> None:
    """Write an ink JSON file atomically."""
    from model.fileio import atomic_write_text

    atomic_write_text(Path(path), json.dumps(ink.to_json()) + "\n")


def bounds(strokes: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of all points."""
    pts = np.concatenate(strokes)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _draw(strokes: Sequence[np.ndarray], width_px: float, size: int) -> np.ndarray:
    """Rasterise strokes (already in target pixel coordinates) with round caps and joints."""
    img = Image.new("L", (size, size), 0)
    # Pillow's drawing core, called as ImageDraw.line/ellipse call it, without their
    # per-call colour lookup: the same pixels (every pen digit checked), in less time.
    core = ImageDraw.Draw(img).draw
    ink = core.draw_ink(255)
    r = width_px / 2.0
    w = max(1, int(round(width_px)))
    for s in strokes:
        s = np.asarray(s, dtype=np.float64)
        if len(s) > 1:
            core.draw_lines(s.ravel().tolist(), ink, w)
        x, y = s[:, 0], s[:, 1]
        for box in np.column_stack((x - r, y - r, x + r, y + r)).tolist():
            core.draw_ellipse(box, ink, 1)
    return np.asarray(img, dtype=np.float32)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel position."""
    total = img.sum()
    if total <= 0:
        return (img.shape[0] - 1) / 2.0, (img.shape[1] - 1) / 2.0
    rows = np.arange(img.shape[0], dtype=np.float64)
    cols = np.arange(img.shape[1], dtype=np.float64)
    return float(img.sum(axis=1) @ rows / total), float(img.sum(axis=0) @ cols / total)


def normalise(
    strokes: Sequence[Sequence[Sequence[float]]] | Sequence[np.ndarray],
    thickness: float = DEFAULT_THICKNESS,
) -> np.ndarray:
    """Render strokes as a 28x28 float32 image in 0..1, the way MNIST was prepared.

    Raises `NothingToRecognise` when there are no points at all.
    """
    strokes = as_strokes(strokes)
    if not strokes:
        raise NothingToRecognise("nothing to recognise: the drawing is empty")
    x0, y0, x1, y1 = bounds(strokes)
    extent = max(x1 - x0, y1 - y0)
    inner = BOX - thickness  # the skeleton's extent, so that ink with its width spans BOX
    scale = inner / extent if extent > 0 else 0.0
    ss = SUPERSAMPLE
    # Place the bounding box centred first, then move by the centre-of-mass error.
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    hi_centre = (CENTRE + 0.5) * ss - 0.5  # where 13.5 (low-res) lands on the supersampled grid

    def place(dx: float, dy: float) -> list[np.ndarray]:
        return [
            np.column_stack(((s[:, 0] - cx) * scale * ss + hi_centre + dx,
                             (s[:, 1] - cy) * scale * ss + hi_centre + dy))
            for s in strokes
        ]

    hi = _draw(place(0.0, 0.0), thickness * ss, SIZE * ss)
    r, c = centre_of_mass(hi)
    hi = _draw(place(hi_centre - c, hi_centre - r), thickness * ss, SIZE * ss)
    small = hi.reshape(SIZE, ss, SIZE, ss).mean(axis=(1, 3))
    small *= np.float32(1.0 / 255.0)
    return small


def render_canvas(ink: Ink, width: int | None = None, height: int | None = None,
                  pen_width: float = 12.0) -> Image.Image:
    """The drawing as a black-on-white picture at canvas size (for saving as PNG)."""
    w = int(width or ink.width or 280)
    h = int(height or ink.height or 280)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    pw = ink.pen_width or pen_width
    r = pw / 2.0
    for s in ink.strokes:
        pts = [(float(x), float(y)) for x, y in s]
        if len(pts) > 1:
            draw.line(pts, fill=0, width=max(1, int(round(pw))))
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return img
