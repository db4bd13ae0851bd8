"""Label-preserving distortions of 28x28 digits, vectorised over the whole batch.

Each image gets its own random affine map (rotation, scale, shear,
translation) composed with an elastic displacement field (Simard, Steinkraus
and Platt, 2003: uniform noise smoothed by a Gaussian, scaled by alpha), and
a random stroke-width change (a grey dilation or erosion). Every image is
moved by `scipy.ndimage.map_coordinates` over (n, 28, 28) stacks, chunk by
chunk on up to one thread per core, so no Python loop touches a pixel.
Deterministic for a given generator state, whatever the threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from model.inputs.chunks import CHUNK, each_chunk


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


def augment_batch(X: np.ndarray, rng: np.random.Generator, d: Distortion = DEFAULT,
                  chunk: int = CHUNK, threads: int | None = None) -> np.ndarray:
    """Distorted copies of the rows of X ((n, 784) floats in 0..1), same dtype and range.

    Every random number is drawn first, for the whole batch and in one fixed
    order; then the images are distorted in chunks of `chunk` on up to
    `threads` threads (`model.inputs.chunks`), each image on its own, so the
    result depends on the generator's state alone.
    """
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
    inv = np.stack([a11 / det, -a01 / det, -a10 / det, a00 / det])
    t = rng.uniform(-d.shift_px, d.shift_px, (n, 2))
    noise = rng.uniform(-1, 1, (2, n, 28, 28)).astype(np.float32) if d.elastic_alpha > 0 else None
    u = rng.random(n) if d.width_change > 0 else None
    out = np.empty((n, 28, 28), dtype=np.float32)

    def work(part: slice) -> None:
        src_x, src_y = _source_grid(inv[:, part], t[part])
        if noise is not None:
            field = ndimage.gaussian_filter(noise[:, part], sigma=(0, 0, d.elastic_sigma, d.elastic_sigma))
            field *= np.float32(d.elastic_alpha)
            src_x = src_x + field[0]
            src_y = src_y + field[1]
        m = len(src_x)
        idx = np.broadcast_to(np.arange(m, dtype=np.float32)[:, None, None], (m, 28, 28))
        moved = ndimage.map_coordinates(imgs[part], [idx, src_y, src_x], order=1, mode="constant", cval=0.0)
        if u is not None:
            moved = _vary_width(moved, u[part], d.width_change)
        out[part] = np.clip(moved, 0.0, 1.0)

    each_chunk(n, chunk, work, threads)
    return out.reshape(n, 784)


def _source_grid(inv: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel of each image reads from: ``[x', y'] = Ainv @ ([x, y] - t)``
    about the centre, (x = column, y = row); `inv` holds Ainv's entries (4, n), `t` the shifts (n, 2)."""
    centre = 13.5
    rr, cc = np.meshgrid(np.arange(28, dtype=np.float32) - centre,
                         np.arange(28, dtype=np.float32) - centre, indexing="ij")
    xo = cc[None] - t[:, 0, None, None]
    yo = rr[None] - t[:, 1, None, None]
    i00, i01, i10, i11 = (v[:, None, None] for v in inv)
    return i00 * xo + i01 * yo + centre, i10 * xo + i11 * yo + centre


def _vary_width(imgs: np.ndarray, u: np.ndarray, p: float) -> np.ndarray:
    """Thicken the images whose draw `u` is below p, thin those from p to 2p, leave the rest."""
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
