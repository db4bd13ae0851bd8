"""A committee's answer: the mean of its networks' normalised probabilities.

Each network is a list of Thetas plus whether it reads deskewed inputs
(`model.inputs.deskew`); the batch is deskewed once and shared by every network
that wants it. One network alone is a committee of one, so the app, the
trainer's measurements and the benchmarks all score through `committee_proba`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.inputs.deskew import deskew
from model.net import mlp

Network = tuple[Sequence[np.ndarray], bool]
"""(Thetas, deskew) of one network."""


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Normalise the 10 sigmoid outputs of each row so they sum to 1."""
    outputs = np.asarray(outputs, dtype=np.float64)
    return outputs / np.maximum(outputs.sum(axis=1, keepdims=True), 1e-12)


def committee_proba(networks: Sequence[Network], X: np.ndarray, chunk: int = 20000) -> np.ndarray:
    """Mean probabilities (n, 10) of `networks` for the rows (n, 784) or images (n, 28, 28) of X."""
    if not networks:
        raise ValueError("a committee needs at least one network")
    X = np.asarray(X, dtype=mlp.DTYPE).reshape(-1, 784)
    out = np.zeros((len(X), 10))
    for start in range(0, len(X), chunk):
        part = X[start : start + chunk]
        skewed = deskew(part) if any(d for _, d in networks) else None
        for thetas, wants_deskew in networks:
            out[start : start + chunk] += probabilities(mlp.forward(thetas, skewed if wants_deskew else part))
    return out / len(networks)
