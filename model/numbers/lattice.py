"""The best and second-best reading of a drawing or an image, from scored candidate digits.

Segmentation by recognition (`model.numbers.segment_ink`, `model.numbers.segment_image`)
proposes candidate digits (a run of strokes, a piece of an image), asks the
network for each candidate's probabilities in one batch, adds simple priors
(size, shape, gaps) and searches for the cheapest way to cover the whole
input. This module holds what both searches share: the cost of a candidate
as a digit, and the result with its close alternative.

Costs are in nats: a candidate read as digit d costs ``-log P(d)`` plus its
priors, a reading costs the sum over its digits, and the score reported to
users is minus the cost (0 is certain, more negative is less likely).
Left out: a language model of numbers (any digit string is equally likely).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]
Classify = Callable[[np.ndarray], np.ndarray]
"""A classifier: 28x28 images (n, 28, 28) -> probabilities (n, 10)."""
Verify = Callable[[np.ndarray], np.ndarray]
"""A judge of candidates: 28x28 images (n, 28, 28) -> P(one whole digit) (n,) (`model.verifier`)."""

FLOOR = 1e-6
"""Probabilities are clipped at this before taking logs."""


def nll(probs: np.ndarray) -> np.ndarray:
    """``-log P`` of every digit, (n, 10)."""
    return -np.log(np.clip(np.asarray(probs, dtype=np.float64), FLOOR, 1.0))


@dataclass
class Alternative:
    """The second-best reading: its text, its score and which digits of the best reading it changes."""

    text: str
    score: float
    doubtful: list[int] = field(default_factory=list)


@dataclass
class Found:
    """The best reading of one input: per digit a 28x28 crop, a box and the probabilities."""

    crops: list[np.ndarray]
    boxes: list[Box]
    probs: np.ndarray
    score: float = 0.0
    alternative: Alternative | None = None


def best_alternative(paths: Sequence[tuple[float, list[int]]], probs: np.ndarray,
                     keys: Sequence[object], order: Callable[[list[int]], list[int]]) -> Alternative | None:
    """The cheapest reading whose text differs from the best path's.

    `paths` are (cost, candidate indices) with the cheapest first; `probs`
    the candidates' probabilities and `keys` something that identifies each
    candidate's ink (equal keys: the same digit). `order` puts a path's
    candidates left to right. Besides the other paths, each digit of each
    path may be swapped for its runner-up (the cost grows by the difference
    of their -log P).
    """
    if not paths:
        return None
    costs = nll(probs)
    best = paths[0][1]
    best = order(best)
    best_text = "".join(str(int(probs[c].argmax())) for c in best)
    found: dict[str, tuple[float, list[int]]] = {}
    for cost, path in paths:
        path = order(path)
        digits = [int(probs[c].argmax()) for c in path]
        text = "".join(map(str, digits))
        if text != best_text and (text not in found or cost < found[text][0]):
            found[text] = (cost, path)
        for k, c in enumerate(path):
            second = int(np.argsort(costs[c])[1])
            swapped = "".join(map(str, digits[:k] + [second] + digits[k + 1:]))
            extra = cost + costs[c, second] - costs[c, digits[k]]
            if swapped != best_text and (swapped not in found or extra < found[swapped][0]):
                found[swapped] = (extra, path)
    if not found:
        return None
    text, (cost, path) = min(found.items(), key=lambda kv: kv[1][0])
    if len(text) == len(best_text):  # the digits that read differently
        doubtful = [i for i, (a, b) in enumerate(zip(text, best_text, strict=True)) if a != b]
    else:
        mine = {keys[c] for c in path}
        doubtful = [i for i, c in enumerate(best) if keys[c] not in mine]
    return Alternative(text, -float(cost), doubtful)
