"""A sigmoid multi-layer perceptron in NumPy: forward pass, cost and gradient.

Parameters are a list of per-layer Theta arrays of shape
``(units_out, units_in + 1)`` whose column 0 is the bias, exactly as stored in
the Theta files. Only at the optimizer boundary are they flattened:
`pack` concatenates, `unpack` returns views into one flat vector.

Every layer, hidden and output, is a sigmoid (the original design); the cost
is the cross-entropy summed over the 10 sigmoid outputs plus
``lambda / (2 m) * sum(W**2)`` over all non-bias weights. The one `forward`
serves both training (keeping activations for backpropagation) and prediction.

Left out on purpose: other activations, softmax, mini-batches, momentum;
L-BFGS-B on the full batch does the optimisation (see `model.net.train`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from functools import partial

import numpy as np

from model.net.blocks import Block, dense_blocks
from model.net.layout import Layout

DTYPE = np.float32
"""Dtype of the matrix products: float32 halves memory and doubles BLAS speed;
costs are accumulated in float64 and the optimizer only ever sees float64."""


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), correct for any z.

    Written as exp, add, reciprocal (NumPy's SIMD loops, about 3x faster than
    `scipy.special.expit` in float32). For z below about -88 (float32) exp
    overflows to inf and 1 / (1 + inf) is exactly the limit 0, so the
    overflow warning is silenced rather than avoided.
    """
    out = np.negative(z, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow: the safe form of -log(sigmoid(-z))."""
    return np.logaddexp(np.zeros((), dtype=z.dtype), z)


def pack(thetas: Sequence[np.ndarray]) -> np.ndarray:
    """Flatten per-layer Thetas into one float64 vector for the optimizer."""
    return np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in thetas])


def unpack(flat: np.ndarray, layout: Layout) -> list[np.ndarray]:
    """Split a flat vector into per-layer Theta views (no copies)."""
    if flat.ndim != 1 or flat.size != layout.n_params:
        raise ValueError(
            f"flat parameter vector has shape {flat.shape}, expected ({layout.n_params},) "
            f"for layout {layout}"
        )
    thetas, start = [], 0
    for rows, cols in layout.shapes:
        thetas.append(flat[start : start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return thetas


def forward(
    thetas: Sequence[np.ndarray],
    X: np.ndarray,
    keep: bool = False,
    dtype: type = DTYPE,
    first_weights: np.ndarray | None = None,
):
    """Run the network on the rows of X: the one forward pass of training and prediction.

    Returns the output activations (m, 10). With ``keep=True`` returns
    ``(activations, z_out)``: the list of every layer's activations, input
    first, and the pre-sigmoid output (for a numerically safe cost).
    Computes in `dtype` (float64 for the gradient check). `first_weights`
    stands in for the first layer's weights ``thetas[0][:, 1:]``: a training
    block passes only the columns its inputs keep (`model.net.blocks`).
    """
    thetas = [np.asarray(t, dtype=dtype) for t in thetas]
    a = np.asarray(X, dtype=dtype)
    activations = [a]
    z = a
    last = len(thetas) - 1
    for i, theta in enumerate(thetas):
        W = first_weights if i == 0 and first_weights is not None else theta[:, 1:]
        z = a @ W.T
        z += theta[:, 0]
        # Only the output layer's z is needed afterwards (the cost from logits): the
        # hidden layers' activations overwrite theirs, one array fewer each.
        a = sigmoid(z) if keep and i == last else sigmoid(z, out=z)
        activations.append(a)
    if keep:
        return activations, z
    return a


def predict_proba(thetas: Sequence[np.ndarray], X: np.ndarray) -> np.ndarray:
    """Output activations for each row of X (each in 0..1, not normalised)."""
    return forward(thetas, np.atleast_2d(X))


def one_hot(y: np.ndarray, n_classes: int = 10, dtype=DTYPE) -> np.ndarray:
    """Rows of the identity matrix picked by the labels (vectorised)."""
    return np.eye(n_classes, dtype=dtype)[np.asarray(y, dtype=np.intp)]


CHUNK = 8192
"""Rows per block in `cost_and_grad`. Blocks keep every temporary (activations,
deltas) small enough to be reused from the heap instead of being mapped
afresh, and page-faulted in, on every evaluation; the sums are the same."""


def cost_and_grad(
    thetas: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray, lam: float, chunk: int = CHUNK
) -> tuple[float, list[np.ndarray]]:
    """Regularised cross-entropy cost and its gradient by backpropagation.

    X is (m, n_in), Y the one-hot targets (m, n_out). Works in the dtype of
    `DTYPE` unless X is float64 (used by the gradient check). The batch is
    processed in blocks of `chunk` rows whose costs and gradients are summed.
    """
    return cost_and_grad_blocks(thetas, dense_blocks(X, Y, chunk), lam)


def cost_and_grad_blocks(
    thetas: Sequence[np.ndarray],
    blocks: Sequence[Block],
    lam: float,
    pool: Executor | None = None,
    shares: int = 1,
) -> tuple[float, list[np.ndarray]]:
    """`cost_and_grad` over a training set already cut into `Block`s.

    A block that keeps only some input columns (`model.net.blocks.ink_blocks`)
    multiplies by, and takes the first layer's gradient for, only those
    columns: the others are zero in every one of its rows. Works in float64
    when the blocks do, else in `DTYPE`.

    With a thread `pool`, the blocks are dealt into `shares` shares summed in
    parallel (NumPy and BLAS release the GIL; see `model.net.blas`). The shares'
    sums are added in a fixed order, so the result does not depend on timing.
    """
    if not blocks:
        raise ValueError("no training rows: the list of blocks is empty")
    dtype = np.float64 if blocks[0].X.dtype == np.float64 else DTYPE
    thetas_c = [np.asarray(t, dtype=dtype) for t in thetas]
    m = sum(b.rows for b in blocks)
    if pool is None or shares <= 1:
        sums = [_data_sums(thetas_c, blocks)]
    else:
        sums = list(pool.map(partial(_data_sums, thetas_c), [blocks[k::shares] for k in range(shares)]))
    data_cost, grads = sums[0]
    for cost_k, grads_k in sums[1:]:
        data_cost += cost_k
        for g, g_k in zip(grads, grads_k, strict=True):
            g += g_k
    reg = 0.0
    for theta, g in zip(thetas_c, grads, strict=True):
        reg += float(np.vdot(theta[:, 1:], theta[:, 1:]))
        g /= m
        g[:, 1:] += (lam / m) * theta[:, 1:]
    cost = data_cost / m + lam / (2.0 * m) * reg
    return cost, grads


def _data_sums(thetas: list[np.ndarray], blocks: Sequence[Block]) -> tuple[float, list[np.ndarray]]:
    """Cross-entropy and its gradient summed over the rows of `blocks`, unregularised.

    `thetas` are already in the blocks' dtype.
    """
    dtype = thetas[0].dtype
    W_in = thetas[0][:, 1:]
    grads: list[np.ndarray] = [np.zeros_like(t) for t in thetas]
    G_in = grads[0][:, 1:]
    data_cost = 0.0
    for block in blocks:
        W = None if block.cols is None else W_in[:, block.cols]
        activations, z = forward(thetas, block.X, keep=True, dtype=dtype, first_weights=W)
        # Cross-entropy from logits: y*softplus(-z) + (1-y)*softplus(z) = softplus(z) - y*z.
        data_cost += float(softplus(z).sum(dtype=np.float64)) - float(np.vdot(block.Y, z))
        # Backward.
        delta = activations[-1] - block.Y
        for layer in range(len(thetas) - 1, -1, -1):
            a_prev = activations[layer]
            g = grads[layer]
            g[:, 0] += delta.sum(axis=0)
            if layer > 0:
                g[:, 1:] += delta.T @ a_prev
                delta = delta @ thetas[layer][:, 1:]
                slope = np.subtract(1.0, a_prev, dtype=dtype)  # sigmoid' = a (1 - a)
                slope *= a_prev
                delta *= slope
            elif block.cols is None:
                G_in += delta.T @ a_prev
            else:
                G_in[:, block.cols] += delta.T @ a_prev
    return data_cost, grads


def init_thetas(layout: Layout, rng: np.random.Generator) -> list[np.ndarray]:
    """Uniform initial weights in +-sqrt(6 / (fan_in + fan_out)), biases 0-ish too.

    The bound scales with the layer size so that every layer starts in the
    sigmoid's linear region whatever its width.
    """
    thetas = []
    for n_out, n_in_plus in layout.shapes:
        bound = np.sqrt(6.0 / (n_in_plus - 1 + n_out))
        thetas.append(rng.uniform(-bound, bound, size=(n_out, n_in_plus)))
    return thetas
