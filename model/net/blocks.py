"""Row blocks of a training set that keep only the input columns they use.

Four fifths of an MNIST pixel are zero, and a zero input contributes nothing
to the first layer: not to ``X @ W.T`` in the forward pass, not to
``delta.T @ X``, the first layer's weight gradient. Those two products are
most of a loss+gradient evaluation. The training set does not change between
L-BFGS-B evaluations, so it is cut once into blocks of rows whose ink lies in
the same place (split by the bounding box of the ink, like a k-d tree) and
each block keeps a dense copy of only the columns where any of its rows has
ink. A block of 2,048 digits uses about half of the 784 pixels, so both
products do about half the arithmetic, still as dense BLAS calls. The sums are
the same ones, without the zero terms.

`dense_blocks` cuts rows in order and keeps every column (views, no copy):
that is the reference the sparse blocks are tested against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ROWS_PER_BLOCK = 2048
"""At most this many rows per block: small enough that the ink of a block is
in one place, large enough that the products stay efficient BLAS calls."""


@dataclass(frozen=True)
class Block:
    """Some rows of a training set and the input columns they use."""

    X: np.ndarray
    """(rows, len(cols)) inputs, C-contiguous; all columns if `cols` is None."""
    Y: np.ndarray
    """(rows, n_out) one-hot targets."""
    cols: np.ndarray | None
    """Indices of the kept input columns, ascending; None keeps every column."""

    @property
    def rows(self) -> int:
        """Number of rows (samples) in the block."""
        return self.X.shape[0]


def dense_blocks(X: np.ndarray, Y: np.ndarray, rows: int) -> list[Block]:
    """Consecutive runs of `rows` rows with every column (views, no copies)."""
    if rows < 1:
        raise ValueError(f"rows per block must be at least 1, got {rows}")
    return [Block(X[s : s + rows], Y[s : s + rows], None) for s in range(0, X.shape[0], rows)]


def ink_boxes(X: np.ndarray) -> np.ndarray:
    """Bounding box ``(top, bottom, left, right)`` of each row's nonzero inputs.

    A row of n inputs is read as a square image when n is a square (784 ->
    28x28), else as one line of pixels. A row with no ink gets the whole
    image as its box.
    """
    return _boxes(X != 0)


def _boxes(ink: np.ndarray) -> np.ndarray:
    """`ink_boxes` of an (m, n) mask of the nonzero inputs."""
    m, n = ink.shape
    side = math.isqrt(n)
    ink = ink.reshape(m, *((side, side) if side * side == n else (1, n)))
    boxes = np.zeros((m, 4), dtype=np.intp)
    for axis, (lo, hi) in ((2, (0, 1)), (1, (2, 3))):  # rows of the image, then its columns
        used = ink.any(axis=axis)
        boxes[:, lo] = used.argmax(axis=1)
        boxes[:, hi] = used.shape[1] - 1 - used[:, ::-1].argmax(axis=1)
    return boxes


def _split(order: np.ndarray, keys: np.ndarray, rows: int) -> list[np.ndarray]:
    """k-d split of the row indices `order` until every part has at most `rows`.

    Each split sorts by the key that varies most within the part and cuts at
    the median, so every leaf holds rows whose ink boxes are alike.
    """
    parts, leaves = [order], []
    while parts:
        part = parts.pop()
        if len(part) <= rows:
            leaves.append(np.sort(part))
            continue
        k = keys[part]
        d = int(np.argmax(k.max(axis=0) - k.min(axis=0)))
        part = part[np.argsort(k[:, d], kind="stable")]
        half = len(part) // 2
        parts += [part[half:], part[:half]]
    return leaves


def ink_blocks(X: np.ndarray, Y: np.ndarray, rows: int = ROWS_PER_BLOCK) -> list[Block]:
    """Blocks of rows with alike ink boxes, each with only its nonzero columns.

    Every row of X lands in exactly one block; a column is dropped from a
    block only when it is zero in every row of that block. The copies are in
    X's dtype.
    """
    if rows < 1:
        raise ValueError(f"rows per block must be at least 1, got {rows}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but Y has {Y.shape[0]}")
    ink = X != 0
    blocks = []
    for part in _split(np.arange(X.shape[0]), _boxes(ink), rows):
        cols = np.flatnonzero(ink[part].any(axis=0))
        blocks.append(Block(np.ascontiguousarray(X[np.ix_(part, cols)]), Y[part], cols))
    return blocks


def density(blocks: list[Block], n_inputs: int) -> float:
    """Fraction of the full ``rows x n_inputs`` products the blocks compute."""
    kept = sum(b.rows * (n_inputs if b.cols is None else len(b.cols)) for b in blocks)
    total = sum(b.rows for b in blocks) * n_inputs
    return kept / total if total else 1.0
