"""Accuracy, per-class accuracy and confusion matrix of a network on labelled data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.net.train import predict_labels


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = 10) -> np.ndarray:
    """counts[true, predicted], built without a Python loop over samples."""
    return np.bincount(np.asarray(y_true) * n + np.asarray(y_pred), minlength=n * n).reshape(n, n)


def evaluate(thetas: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray) -> dict:
    """Report of one network as plain Python types: accuracy, per_class, confusion, correct, n."""
    return report(y, predict_labels(thetas, X))


def report(y: np.ndarray, pred: np.ndarray) -> dict:
    """Accuracy, per_class, confusion, correct and n of predicted labels against true ones."""
    conf = confusion_matrix(y, pred)
    per_class = np.diag(conf) / np.maximum(conf.sum(axis=1), 1)
    correct = int(np.trace(conf))
    return {
        "accuracy": correct / max(len(y), 1),
        "correct": correct,
        "n": int(len(y)),
        "per_class": [float(v) for v in per_class],
        "confusion": conf.tolist(),
    }
