"""Why the network answered what it did: hidden activations, push and evidence maps.

All three come from one run of `model.net.mlp.forward` (``keep=True``), the
forward pass of training and prediction, and one backward pass through the
same activations:

- **activations**: every hidden layer's unit values (0..1) for one input;
- **push** of a first-layer unit towards a digit: its activation times its
  effective outgoing weight to that digit's score (for one hidden layer that
  is exactly ``a_j * Theta2[d, 1 + j]``; deeper, the derivative of the score
  with respect to the unit);
- **evidence** for a digit: input times the gradient of that digit's score
  with respect to the input, per pixel: red pixels raise the score, blue
  ones lower it.

"Score" is the output unit's input before its sigmoid (its logit): the
sigmoid of a confident answer is flat near 1, and its gradient would show
almost nothing. Input times gradient is zero where there is no ink, so the
maps show what the drawn strokes do, not where missing ink would help.

Uses one network's Thetas (for a committee, one member's); the
probabilities shown beside these maps come from the recogniser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.net import mlp


@dataclass
class Explanation:
    """One input seen through one network."""

    x: np.ndarray  # (784,) the input
    hidden: list[np.ndarray]  # each hidden layer's activations, first layer first
    scores: np.ndarray  # (10,) output logits
    outputs: np.ndarray  # (10,) sigmoid outputs


def explain(thetas: Sequence[np.ndarray], image: np.ndarray) -> Explanation:
    """Activations of every layer for one 28x28 image (or 784 row), in float64."""
    x = np.asarray(image, dtype=np.float64).reshape(1, -1)
    activations, z = mlp.forward(thetas, x, keep=True, dtype=np.float64)
    return Explanation(x=x[0], hidden=[a[0] for a in activations[1:-1]], scores=z[0],
                       outputs=activations[-1][0])


def score_gradients(thetas: Sequence[np.ndarray], ex: Explanation, digits: Sequence[int]) -> list[np.ndarray]:
    """d score[d] / d activation, for each layer from the input up to the last hidden layer.

    Returns a list, input first, of arrays (len(digits), units of that layer):
    one backward pass for all the requested digits at once.
    """
    ts = [np.asarray(t, dtype=np.float64) for t in thetas]
    layers = [ex.x, *ex.hidden]
    g = ts[-1][np.asarray(digits, dtype=np.intp), 1:]  # d score / d a_last_hidden
    grads = [g]
    for k in range(len(ts) - 1, 0, -1):
        a = layers[k]
        g = (g * (a * (1.0 - a))) @ ts[k - 1][:, 1:]  # through the sigmoid, then the weights
        grads.append(g)
    return grads[::-1]


def push(thetas: Sequence[np.ndarray], ex: Explanation, digit: int) -> np.ndarray:
    """(units of the first hidden layer,): activation x effective outgoing weight to `digit`'s score."""
    grads = score_gradients(thetas, ex, [digit])
    return ex.hidden[0] * grads[1][0]


def evidence(thetas: Sequence[np.ndarray], ex: Explanation, digits: Sequence[int]) -> np.ndarray:
    """(len(digits), 28, 28): input x gradient of each digit's score with respect to the input."""
    grads = score_gradients(thetas, ex, digits)
    return (ex.x[None, :] * grads[0]).reshape(len(digits), 28, 28)


def outgoing_weights(thetas: Sequence[np.ndarray], unit: int) -> np.ndarray:
    """The weights from first-layer `unit` to the next layer (to the 10 digits in a 784-h-10 net)."""
    return np.asarray(thetas[1], dtype=np.float64)[:, 1 + unit]
