"""Scanned or photographed digits to MNIST-like 28x28 inputs.

Reading (`load_gray`): an image file is opened with Pillow, refusing
non-images, truncated files and decompression bombs with a one-line error
that names the file; EXIF rotation is applied, transparency counts as white
paper and 16-bit or floating-point greys are scaled by their own range
(Pillow's ``convert("L")`` would clip them to white).

Ink (`ink_map`): whatever the polarity (dark on light or light on dark) and
the lighting, the picture becomes a map of ink in 0..1 with the paper at 0:

1. polarity: the ink is the minority that stands out of the paper, so the
   sign of the skew of a copy with its large-scale light taken away tells
   dark ink from light ink, and where that is unclear, the border (mostly
   paper) does;
2. uneven lighting: the paper's brightness is estimated on a reduced copy,
   as a quadratic surface fitted to the paper times a grey closing (a max
   filter then a min filter, wider than any stroke) of what that leaves,
   smoothed and scaled back up; the ink is ``1 - picture / paper``, which
   cancels a lighting gradient (it multiplies paper and ink alike);
3. noise: the paper's level (the histogram's peak) and the noise (median
   difference of neighbouring pixels, relative to the local paper level) are
   measured and the paper plus three noise deviations taken off; a page
   whose strongest marks are within the noise is blank.

Binarising (`binarise`): Otsu's threshold on the ink map, with hysteresis.

MNIST-like digit (`to_mnist`): NIST's binary digits were anti-aliased into
a 20x20 box (aspect kept) and centred by centre of mass in 28x28. A crop is
binarised at a working resolution, its strokes thickened or thinned (a
distance-transform dilation or erosion) so that the stroke width at the
28x28 scale lies in MNIST's usual range (`MNIST_STROKE_WIDTH` to
`MNIST_THICKEST`), then box-filtered into 20x20 and centred where MNIST's
digits are centred (`MNIST_CENTRE`, not the grid's middle). Stroke width is
estimated as ``2 * area / perimeter`` of the binarised 28x28 digit (for a
stroke of width w and length L: area w L, perimeter about 2 L), the same
estimator that gives those two constants on MNIST itself.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from model.errors import InputError, NothingToRecognise
from model.inputs.ink import BOX, SIZE, centre_of_mass

MAX_PIXELS = 40_000_000
"""Images with more pixels than this are refused (a decompression-bomb guard).

Pillow refuses more than twice ``Image.MAX_IMAGE_PIXELS`` (about 179 million)
by itself, when the file is opened and before anything is decoded, and warns
above half that; the warning is turned into an error here and this stricter
limit is checked on the declared size, still before decoding."""

MNIST_STROKE_WIDTH = 2.0
"""Median of ``stroke_width`` over the 10,000 MNIST test digits (see
tests/test_images.py, which measures it again): thinner strokes are thickened to it."""

MNIST_THICKEST = 2.8
"""90th percentile of ``stroke_width`` over the MNIST test digits: strokes thicker than
this are thinned down to it (thinning a marker's strokes loses detail, so only the
unusually thick ones are)."""

MNIST_CENTRE = 14.0
"""Row and column, in pixel indices 0..27, that a digit's centre of mass is moved to:
the mean centre of mass of the 60,000 MNIST training digits is (14.00, 14.01) (see
tests/test_images.py, which measures it again), half a pixel below and right of the
grid's middle (13.5). Centring scans at 13.5 put them half a pixel up and left of
where the networks learned MNIST's digits: the shipped committee misread 79 of the
7,291 USPS scans read as single digits at 13.5, 64 at 14.0. (The ink pipeline keeps
13.5: the pen digits the networks trained on were rendered there.)"""

WORK_SIZE = 80
"""Long side, in pixels, of the working copy a digit is binarised and
re-stroked at (4x the 20x20 box, so the box filter anti-aliases like NIST's)."""

BLANK_CONTRAST = 0.12
"""Marks fainter than this (as a fraction of the paper's brightness) are not ink."""


# --------------------------------------------------------------------------- reading


def _to_unit_grey(img: Image.Image) -> np.ndarray:
    """Grey levels in 0..1 from any Pillow mode (transparency over white paper)."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = float(arr.max()) if arr.size else 1.0
        scale = 255.0 if top <= 255 else 65535.0 if top <= 65535 else top
        if img.mode == "F" and top <= 1.0:
            scale = 1.0
        return np.clip(arr / max(scale, 1e-12), 0.0, 1.0).astype(np.float32)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        grey = Image.alpha_composite(paper, rgba).convert("L")
    else:
        grey = img.convert("L")
    return np.asarray(grey, dtype=np.float32) / np.float32(255.0)


def _bomb_message(path: Path, exc: Exception) -> str:
    m = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(m.group(1)):,} pixels" if m else "too many pixels"
    return f"{path}: image too large ({size}; at most {MAX_PIXELS:,} allowed)"


def load_gray(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as float32 grey levels in 0..1 (0 black, 1 white).

    Transparent pixels count as white paper, EXIF rotation is applied, only
    the first frame of an animation is used. Raises `InputError` with a
    ``"PATH: problem"`` message for a missing path, a folder, a file that is
    not an image, a truncated or corrupt image and an image larger than
    `MAX_PIXELS` (checked before the pixels are decoded).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    try:
        with warnings.catch_warnings():
            # Pillow's other warnings (odd palettes, EXIF quirks) would be noise on stderr.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise InputError(f"{path}: image too large ({w}x{h} = {w * h:,} pixels; "
                                     f"at most {MAX_PIXELS:,} allowed)")
                if w == 0 or h == 0:
                    raise InputError(f"{path}: image is empty (0 pixels)")
                img.seek(0)
                img.load()
                if img.getexif().get(0x0112, 1) not in (0, 1):  # EXIF orientation: rotated
                    upright = ImageOps.exif_transpose(img)
                    arr = _to_unit_grey(upright if upright is not None else img)
                else:
                    arr = _to_unit_grey(img)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(_bomb_message(path, exc)) from None
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image file (Pillow cannot identify it)") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except MemoryError:
        raise InputError(f"{path}: image too large to decode in memory") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError,
            ZeroDivisionError) as exc:
        # Truncated or corrupt files surface as any of these, depending on the format.
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read image ({detail})") from None
    return arr


# --------------------------------------------------------------------------- ink map


def otsu_threshold(values: np.ndarray) -> float:
    """Otsu's threshold for values in 0..1 (maximises between-class variance)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        return 0.5
    hist, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    # The threshold sits between the bins: values above it are the bright class.
    return float(edges[int(np.argmax(between)) + 1])


def _reduced(gray: np.ndarray, short: int = 160) -> tuple[np.ndarray, float]:
    """A box-filtered copy whose short side is about `short` px, and the reduction factor."""
    h, w = gray.shape
    f = max(1.0, min(h, w) / short)
    if f <= 1.0:
        return gray.astype(np.float32, copy=True), 1.0
    size = (max(1, int(round(w / f))), max(1, int(round(h / f))))
    img = Image.fromarray(gray.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32), f


def _sample(img: np.ndarray, most: int = 60_000) -> np.ndarray:
    """Every k-th pixel, at most about `most` of them (for statistics of big pictures)."""
    flat = img.ravel()
    return flat[:: max(1, flat.size // most)]


def _skew(x: np.ndarray) -> float:
    x = x.astype(np.float64).ravel()
    x = x - x.mean()
    sd = x.std()
    return float((x ** 3).mean() / sd ** 3) if sd > 1e-9 else 0.0


def _smooth_light(small: np.ndarray, paper_only: bool = False) -> np.ndarray:
    """A least-squares quadratic surface through a (small) picture: its large-scale light.

    Fitted on a 24-pixel reduction (a 6-parameter fit needs no more), evaluated
    at every pixel of `small`. With `paper_only` (a dark-ink picture), only
    the pixels above Otsu's threshold (the paper) take part, twice more
    without those left well below the fit, and the surface is kept within the
    picture's range of levels.
    """
    def design(h: int, w: int) -> np.ndarray:
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        x = ((x + 0.5) / w - 0.5).ravel()
        y = ((y + 0.5) / h - 0.5).ravel()
        return np.column_stack((np.ones_like(x), x, y, x * x, x * y, y * y))

    tiny, _ = _reduced(small, 24)
    A = design(*tiny.shape)
    b = tiny.ravel().astype(np.float64)
    keep = np.ones(b.shape, dtype=bool)
    if paper_only:
        lo, hi = float(b.min()), float(b.max())
        if hi > lo:
            keep = b > lo + (hi - lo) * otsu_threshold((b - lo) / (hi - lo))
    coef = np.zeros(6)
    for _ in range(3 if paper_only else 1):
        if keep.sum() < 12:
            coef = np.array([float(np.median(b[keep])) if keep.any() else float(b.mean()), 0, 0, 0, 0, 0])
            break
        Ak = A[keep]
        coef = np.linalg.solve(Ak.T @ Ak + 1e-9 * np.eye(6), Ak.T @ b[keep])
        resid = b - A @ coef
        spread = 1.4826 * float(np.median(np.abs(resid[keep]))) + 1e-6
        keep = keep & (resid > -2.0 * spread)
    light = (design(*small.shape) @ coef).reshape(small.shape)
    if paper_only:
        light = np.clip(light, float(b.min()), float(b.max()))
    return light


def ink_is_dark(gray: np.ndarray) -> bool:
    """True when the ink is darker than the paper (the usual scan), False for light on dark.

    Two clues: the ink is the minority that departs from the paper, so once
    the large-scale light (a quadratic surface) is taken away its pixels form
    the long tail (negative skew for dark ink); and the paper makes up most
    of the picture's border. A strong skew decides; otherwise a clear
    majority of the border does; otherwise a weak skew; a featureless
    picture is taken for dark ink on light paper when it is light.
    """
    small, _ = _reduced(gray, 64)
    s = _skew(small - _smooth_light(small))
    if abs(s) > 1.0:
        return s < 0
    lo, hi = float(small.min()), float(small.max())
    if hi - lo > 1e-3:
        t = lo + (hi - lo) * otsu_threshold((small - lo) / (hi - lo))
        border = np.concatenate([small[0], small[-1], small[1:-1, 0], small[1:-1, -1]])
        light = float((border > t).mean())
        if abs(light - 0.5) > 0.2:
            return light > 0.5
    if abs(s) > 0.2:
        return s < 0
    return bool(np.median(_sample(gray)) >= 0.5)


def _block_median(img: np.ndarray, b: int) -> np.ndarray:
    """Median of each b x b block (edge blocks padded by repetition): shape ceil(h/b) x ceil(w/b)."""
    h, w = img.shape
    ph, pw = -h % b, -w % b
    p = np.pad(img, ((0, ph), (0, pw)), mode="edge")
    blocks = p.reshape(p.shape[0] // b, b, p.shape[1] // b, b).transpose(0, 2, 1, 3)
    return np.median(blocks.reshape(blocks.shape[0], blocks.shape[1], b * b), axis=2)


def paper_level(dark_ink: np.ndarray) -> np.ndarray:
    """The paper's brightness under each pixel of a dark-ink picture (same shape).

    On a reduced, slightly smoothed copy: the large-scale light is a
    quadratic surface fitted to the paper (so that gradients and vignetting
    are followed right up to the border), and what it leaves is flattened by a
    grey closing wider than the strokes (a brightness max filter then a min
    filter over a window a third of the short side, padded by reflection),
    which removes the ink, then a box blur of the same width. The max filter
    rides on the noise's peaks, so the estimate is brought back down to the
    local median of the paper (blocks of half the window; by at most three
    noise deviations, so that a block full of ink changes nothing). The
    result is scaled back up with bilinear interpolation.
    """
    small, f = _reduced(dark_ink)
    k = max(3, int(min(small.shape) / 3) | 1)
    smooth = ndimage.gaussian_filter(small, 1.0, mode="nearest")
    light = np.maximum(_smooth_light(smooth, paper_only=True), 0.05)
    flat = np.pad(smooth / light, k, mode="reflect")
    bg = ndimage.grey_closing(flat, size=(k, k), mode="nearest")
    bg = ndimage.uniform_filter(bg, size=k, mode="nearest")[k:-k, k:-k] * light
    b = max(2, k // 2)
    bias = _block_median(smooth - bg, b)
    bias = np.clip(bias, -3.0 * 0.2821 * noise_level(small), 0.0)
    bg = bg + ndimage.zoom(bias, (bg.shape[0] / bias.shape[0], bg.shape[1] / bias.shape[1]),
                           order=1, mode="nearest", grid_mode=True)[: bg.shape[0], : bg.shape[1]]
    if f > 1.0:
        h, w = dark_ink.shape
        bg = np.asarray(Image.fromarray(np.ascontiguousarray(bg, dtype=np.float32), mode="F")
                        .resize((w, h), Image.Resampling.BILINEAR))
    return np.maximum(bg, 0.05).astype(np.float32)


def noise_level(img: np.ndarray) -> float:
    """Standard deviation of pixel noise, from neighbouring-pixel differences.

    The median absolute difference between horizontal neighbours is robust to
    the ink (strokes are smooth inside and their edges are a minority), so it
    works however much of the picture is ink.
    """
    if img.shape[1] < 2:
        return 0.0
    rows = img[:: max(1, img.size // 60_000)]
    d = np.abs(np.diff(rows, axis=1)).ravel()
    return float(np.median(d)) * 1.4826 / np.sqrt(2.0)


def _paper_offset(ink: np.ndarray) -> float:
    """The most common ink value near zero: where the (flattened) paper sits."""
    hist, edges = np.histogram(ink, bins=200, range=(-0.5, 0.5))
    if hist.sum() == 0:
        return float(np.median(ink))
    hist = ndimage.gaussian_filter1d(hist.astype(np.float64), 2.0)
    k = int(np.argmax(hist))
    return float((edges[k] + edges[k + 1]) / 2)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Ink intensity in 0..1 (1 = full ink, 0 = paper), whatever the polarity and lighting.

    See the module docstring. A noisy picture is smoothed a little (a
    Gaussian of one pixel, which keeps a thin pen's line and takes the noise
    down about 3.5 times). The noise is measured on the picture's grey levels
    and divided by the local paper brightness, so that the floor taken off
    is higher where the paper is dark and the same noise weighs more. A blank
    page (no mark stronger than `BLANK_CONTRAST` and well above the noise)
    gives all zeros.
    """
    gray = np.asarray(gray, dtype=np.float32)
    if gray.size == 0:
        return np.zeros_like(gray)
    dark = gray if ink_is_dark(gray) else 1.0 - gray
    paper = paper_level(dark)
    noise = noise_level(dark)
    ink = 1.0 - dark / paper
    ink -= _paper_offset(_sample(ink))
    if noise > 0.005 and min(ink.shape) > 8:
        ink = ndimage.gaussian_filter(ink, 1.0, mode="nearest")
        noise *= 0.2821  # 1 / (2 sqrt(pi) sigma): the noise left after a Gaussian of sigma 1
    sigma = noise / paper  # the noise in units of ink, pixel by pixel
    ink -= np.maximum(3.0 * sigma, 0.02)
    strong = float(ink.max())
    if strong < BLANK_CONTRAST or not (ink > 4.0 * sigma).any():
        return np.zeros_like(gray)
    sample = _sample(ink)
    marked = sample[sample > 0.3 * strong]
    top = float(np.percentile(marked, 90)) if marked.size >= 20 else strong
    ink /= max(top, 1e-6)
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink.astype(np.float32, copy=False)


def binarise(ink: np.ndarray) -> np.ndarray:
    """Boolean ink mask by hysteresis around Otsu's threshold.

    Pixels above Otsu's threshold over the marked pixels (kept within
    0.2..0.6) are ink, and so are fainter pixels (above half of it) connected
    to them, which keeps thin or faint joins of a stroke from breaking.
    """
    marked = ink[ink > 0.0]
    if marked.size == 0:
        return np.zeros(ink.shape, dtype=bool)
    t = min(max(otsu_threshold(marked), 0.2), 0.6)
    low = ink > 0.5 * t
    labels, n = ndimage.label(low, structure=np.ones((3, 3), bool))
    if n == 0:
        return low
    strong = np.zeros(n + 1, dtype=bool)
    strong[np.unique(labels[ink > t])] = True
    strong[0] = False
    return strong[labels]


# --------------------------------------------------------------------------- MNIST-like digit


def stroke_width(img: np.ndarray, threshold: float = 0.5) -> float | np.ndarray:
    """Mean stroke width in pixels, ``2 * area / perimeter`` of ``img > threshold``.

    The perimeter counts pixel edges between ink and paper (4-neighbours).
    `img` is one image (a float is returned) or a stack (..., h, w) (an array,
    0 where there is no ink).
    """
    m = np.asarray(img) > threshold
    pad = [(0, 0)] * (m.ndim - 2) + [(1, 1), (1, 1)]
    p = np.pad(m, pad)
    perim = (np.diff(p, axis=-2) != 0).sum(axis=(-2, -1)) + (np.diff(p, axis=-1) != 0).sum(axis=(-2, -1))
    area = m.sum(axis=(-2, -1))
    width = np.where(perim > 0, 2.0 * area / np.maximum(perim, 1), 0.0)
    return float(width) if width.ndim == 0 else width


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _working_mask(crop: np.ndarray) -> np.ndarray:
    """The crop's ink (above half its strongest) with its long side resized to `WORK_SIZE`, padded.

    Enlarging interpolates the grey levels before binarising (smooth edges);
    shrinking binarises first and keeps the pixels at least half covered, plus
    the ridge of strokes too thin to cover half a working pixel anywhere.
    """
    h, w = crop.shape
    f = WORK_SIZE / max(h, w)
    nh, nw = max(1, int(round(h * f))), max(1, int(round(w * f)))
    top = float(crop.max())
    if f > 1:
        img = Image.fromarray(np.asarray(crop, dtype=np.float32), mode="F")
        work = np.asarray(img.resize((nw, nh), Image.Resampling.BILINEAR), dtype=np.float32)
        mask = work > 0.5 * top
    else:
        native = (crop > 0.5 * top).astype(np.float32)
        cover = np.asarray(Image.fromarray(native, mode="F").resize((nw, nh), Image.Resampling.BOX),
                           dtype=np.float32)
        ridge = cover >= 0.5 * ndimage.maximum_filter(cover, size=3)
        mask = (cover >= 0.5) | (ridge & (cover > 0.02))
    return np.pad(mask, WORK_SIZE // 8)  # room to thicken the strokes


def _restroke(mask: np.ndarray, radius: float) -> np.ndarray:
    """Thicken (radius > 0) or thin (radius < 0) a mask's strokes by |radius| pixels."""
    if abs(radius) < 0.25:
        return mask
    # Pixel centres lie half a pixel inside the edge: the first layer is at distance 1.
    if radius > 0:
        return ndimage.distance_transform_edt(~mask) <= radius + 0.5
    thin = ndimage.distance_transform_edt(mask) > -radius + 0.5
    # Never erase a stroke altogether: keep the skeleton-ish core where thinning empties a part.
    lab, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n and thin.any():
        kept = np.unique(lab[thin])
        lost = np.setdiff1d(np.arange(1, n + 1), kept)
        if lost.size:
            thin |= np.isin(lab, lost)
    return thin if thin.any() else mask


def _box20(mask: np.ndarray) -> np.ndarray:
    """A mask's ink fitted into 20x20 (aspect kept) with a box filter: float 0..1."""
    bb = _bbox(mask)
    if bb is None:
        return np.zeros((1, 1), dtype=np.float32)
    t, left, b, r = bb
    m = mask[t:b, left:r].astype(np.float32)
    h, w = m.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    img = Image.fromarray(m, mode="F").resize((nw, nh), Image.Resampling.BOX)
    return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)


def _centre(small: np.ndarray) -> np.ndarray:
    """Paste a <=20x20 digit into 28x28 with its centre of mass at `MNIST_CENTRE` (whole pixels)."""
    nh, nw = small.shape
    r, c = centre_of_mass(small)
    top = int(round(MNIST_CENTRE - r))
    left = int(round(MNIST_CENTRE - c))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + nh, SIZE), min(left + nw, SIZE)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = small[r0 - top : r1 - top, c0 - left : c1 - left]
    return out


def to_mnist(crop: np.ndarray, stroke: float | None = MNIST_STROKE_WIDTH,
             thickest: float = MNIST_THICKEST) -> np.ndarray:
    """A digit's ink crop (0..1) as MNIST would have it: 28x28 float32 in 0..1.

    The ink is binarised at a working resolution, its stroke width (at the
    28x28 scale) brought into MNIST's range, from `stroke` (thinner strokes
    are thickened to it; None leaves the width as drawn) to `thickest`
    (thicker strokes are thinned to it), then fitted into 20x20 keeping the
    aspect ratio with box-filter anti-aliasing, and centred by centre of mass.
    """
    crop = np.asarray(crop, dtype=np.float32)
    if crop.ndim != 2 or crop.size == 0 or not (crop.max() > 0):
        raise NothingToRecognise("nothing to recognise: no ink")
    bb = _bbox(crop > 0.5 * float(crop.max()))
    t, left, b, r = bb  # type: ignore[misc]  # max > 0, so some pixel passes
    mask = _working_mask(crop[t:b, left:r])
    if not mask.any():
        raise NothingToRecognise("nothing to recognise: no ink")
    if stroke is not None:
        for _ in range(3):
            t, left, b, r = _bbox(mask)  # type: ignore[misc]  # the mask is never emptied
            per = max(b - t, r - left) / BOX  # working pixels per pixel of the 20x20 box
            width = stroke_width(_centre(_box20(mask)))
            if width <= 0:  # too thin to reach half intensity at 28x28: measure at working size
                width = stroke_width(mask) / per
            goal = min(max(width, stroke), max(stroke, thickest))
            if abs(width - goal) < 0.15:
                break
            mask = _restroke(mask, (goal - width) / 2.0 * per)
    return _centre(_box20(mask))


def ink_bbox(ink: np.ndarray, threshold: float | None = None) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) exclusive bounds of the ink (Otsu mask, or ``ink > threshold``)."""
    mask = binarise(ink) if threshold is None else ink > threshold
    return _bbox(mask)


def single_digit(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The whole image as one digit: (28x28, box as (x0, y0, x1, y1))."""
    box = ink_bbox(ink)
    if box is None:
        raise NothingToRecognise("nothing to recognise: the image has no ink")
    t, left, b, r = box
    return to_mnist(ink[t:b, left:r]), (left, t, r, b)
