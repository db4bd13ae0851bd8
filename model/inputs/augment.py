"""Label-preserving distortions of 28x28 digits, vectorised over the whole batch.

Each image gets its own random affine map (rotation, scale, shear,
translation) composed with an elastic displacement field (Simard, Steinkraus
and Platt, 2003: uniform noise smoothed by a Gaussian, scaled by alpha), and
a random stroke-width change (a grey dilation or erosion). Everything is one
`scipy.ndimage.map_coordinates` call over the (n, 28, 28) stack, so no
Python loop touches a pixel. Deterministic for a given generator state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Distortion:
    """Ranges of the random distortions."""

    rotate_deg: float = 10.0
    scale: float = 0.10
    shear: float = 0.2
    shift_px: float = 1.5
    elastic_alpha: float = 16.0
    elastic_sigma: float = 4.0
    width_change: float = 0.3  # probability of thinning, and of thickening


DEFAULT = Distortion()


def augment_batch(X: np.ndarray, rng: np.random.Generator, d: Distortion = DEFAULT) -> np.ndarray:
    """Distorted copies of the rows of X ((n, 784) floats in 0..1), same dtype and range."""
    n = len(X)
    imgs = np.asarray(X, dtype=np.float32).reshape(n, 28, 28)
    # Per-sample affine matrices mapping output coordinates to input coordinates.
    theta = np.deg2rad(rng.uniform(-d.rotate_deg, d.rotate_deg, n))
    s = np.exp(rng.uniform(-d.scale, d.scale, (n, 2)))
    sh = rng.uniform(-d.shear, d.shear, n)
    c, si = np.cos(theta), np.sin(theta)
    # A = R @ Shear @ diag(s), inverse applied to the output grid.
    a00 = c * s[:, 0]
    a01 = (c * sh - si) * s[:, 1]
    a10 = si * s[:, 0]
    a11 = (si * sh + c) * s[:, 1]
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    t = rng.uniform(-d.shift_px, d.shift_px, (n, 2))
    centre = 13.5
    rr, cc = np.meshgrid(np.arange(28, dtype=np.float32) - centre,
                         np.arange(28, dtype=np.float32) - centre, indexing="ij")
    # (x=col, y=row) convention: [x', y'] = Ainv @ ([x, y] - t)
    xo = cc[None] - t[:, 0, None, None]
    yo = rr[None] - t[:, 1, None, None]
    src_x = i00[:, None, None] * xo + i01[:, None, None] * yo + centre
    src_y = i10[:, None, None] * xo + i11[:, None, None] * yo + centre
    if d.elastic_alpha > 0:
        field = rng.uniform(-1, 1, (2, n, 28, 28)).astype(np.float32)
        field = ndimage.gaussian_filter(field, sigma=(0, 0, d.elastic_sigma, d.elastic_sigma))
        field *= np.float32(d.elastic_alpha)
        src_x = src_x + field[0]
        src_y = src_y + field[1]
    idx = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None], (n, 28, 28))
    out = ndimage.map_coordinates(imgs, [idx, src_y, src_x], order=1, mode="constant", cval=0.0)
    out = _vary_width(out, rng, d.width_change)
    np.clip(out, 0.0, 1.0, out=out)
    return out.reshape(n, 784).astype(np.float32, copy=False)


def _vary_width(imgs: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Thicken a fraction p of the images, thin another p, leave the rest."""
    if p <= 0:
        return imgs
    u = rng.random(len(imgs))
    thick, thin = u < p, (u >= p) & (u < 2 * p)
    foot = np.zeros((1, 3, 3), bool)
    foot[0, 1, :] = foot[0, :, 1] = True  # a plus-shaped neighbourhood, per image
    out = imgs.copy()
    if thick.any():
        dil = ndimage.grey_dilation(imgs[thick], footprint=foot)
        out[thick] = 0.5 * imgs[thick] + 0.5 * dil
    if thin.any():
        ero = ndimage.grey_erosion(imgs[thin], footprint=foot)
        out[thin] = 0.5 * imgs[thin] + 0.5 * ero
    return out
