"""Slant normalisation: shear each 28x28 digit upright by its second moments.

A digit's slant is read from its ink as a weighted regression of x on y:
``alpha = cov(x, y) / var(y)`` about the centre of mass. Shearing the image
by ``x -> x - alpha (y - cy)`` makes that regression vertical and keeps the
centre of mass where it was (so an MNIST-centred digit stays centred).
This is the classic "deskewing" step for classifiers that do not learn
shift- or shear-invariance themselves.

`deskew` is the one function used for every input a deskewing network
sees: pad and ink files (after `model.inputs.ink.normalise`), scans (after
`model.inputs.images.to_mnist`) and the training images (after augmentation), so
what the network meets in use is what it was trained on. It works on a
batch at once (one `map_coordinates` call per chunk, no loop over images or
pixels). Left out: rotation (a slant of handwriting is a shear, not a turn)
and any change of size.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from model.inputs.chunks import CHUNK, each_chunk

SIZE = 28
MAX_SLANT = 1.0
"""The largest |alpha| applied (45 degrees); beyond it the moment estimate is
dominated by a stray mark rather than a slant."""


def slant(images: np.ndarray) -> np.ndarray:
    """The slant ``cov(x, y) / var(y)`` of each image ((n, 28, 28) or (n, 784)), 0 for blank ones."""
    imgs = np.asarray(images, dtype=np.float64).reshape(-1, SIZE, SIZE)
    coords = np.arange(SIZE, dtype=np.float64)
    mass = imgs.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    row_mass = imgs.sum(axis=2)  # (n, 28): ink per row
    cy = row_mass @ coords / safe
    cx = imgs.sum(axis=1) @ coords / safe
    dy = coords[None, :] - cy[:, None]  # (n, 28)
    dx = coords[None, :] - cx[:, None]
    var_y = (row_mass * dy**2).sum(axis=1) / safe
    cov_xy = np.einsum("nrc,nr,nc->n", imgs, dy, dx) / safe
    alpha = np.where((mass > 0) & (var_y > 1e-6), cov_xy / np.maximum(var_y, 1e-6), 0.0)
    return np.clip(alpha, -MAX_SLANT, MAX_SLANT)


def _deskew_chunk(imgs: np.ndarray) -> np.ndarray:
    n = len(imgs)
    alpha = slant(imgs)
    mass = imgs.sum(axis=(1, 2), dtype=np.float64)
    coords = np.arange(SIZE, dtype=np.float64)
    cy = imgs.sum(axis=2, dtype=np.float64) @ coords / np.where(mass > 0, mass, 1.0)
    rows = np.broadcast_to(coords[None, :, None], (n, SIZE, SIZE))
    cols = coords[None, None, :] + alpha[:, None, None] * (coords[None, :, None] - cy[:, None, None])
    index = np.broadcast_to(np.arange(n, dtype=np.float64)[:, None, None], (n, SIZE, SIZE))
    out = ndimage.map_coordinates(imgs, [index, rows, cols], order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0)


def deskew(images: np.ndarray, chunk: int = CHUNK, threads: int | None = None) -> np.ndarray:
    """Each image sheared upright about its centre of mass; same shape and dtype as given.

    Accepts one 28x28 image, a stack (n, 28, 28) or rows (n, 784) with values in 0..1.
    A batch of more than `chunk` images is deskewed in chunks on up to `threads`
    threads (default one per core; `model.inputs.chunks`): the same result, faster.
    """
    arr = np.asarray(images)
    shape, dtype = arr.shape, arr.dtype if arr.dtype.kind == "f" else np.float32
    if arr.size % (SIZE * SIZE):
        raise ValueError(f"deskew expects 28x28 images or rows of 784 pixels, got shape {shape}")
    imgs = arr.reshape(-1, SIZE, SIZE).astype(np.float32, copy=False)
    out = np.empty(imgs.shape, dtype=np.float32)

    def work(s: slice) -> None:
        out[s] = _deskew_chunk(imgs[s])

    each_chunk(len(imgs), chunk, work, threads)
    return out.reshape(shape).astype(dtype, copy=False)
