"""Real-handwriting quality of the shipped model, and the training-data machinery behind it."""

import json

import numpy as np
import pytest
from conftest import WEIGHTS, run_cli

from model.datasets import pendigits
from model.inputs import ink
from model.inputs.augment import augment_batch
from model.recognise import Recogniser
from model.validation import holdout_writers, pen_probabilities


def test_augmentation_keeps_labels_range_and_is_deterministic(mnist_test, shipped):
    X, y = mnist_test.X[:2000], mnist_test.y[:2000]
    a = augment_batch(X, np.random.default_rng(11))
    b = augment_batch(X, np.random.default_rng(11))
    c = augment_batch(X, np.random.default_rng(12))
    assert a.shape == X.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.abs(a - X).mean() > 0.02  # it really distorts
    # Labels are kept: the distorted digits still read as their label (row i stays row i).
    rec = Recogniser(shipped)
    acc = float((rec.classify(a).argmax(axis=1) == y).mean())
    print(f"shipped model on distorted MNIST test digits: {acc:.4f}")
    assert acc > 0.8  # chance is 0.1; a label-destroying distortion would sink this
    # Ink mass stays MNIST-like.
    assert abs(a.sum(axis=1).mean() / X.sum(axis=1).mean() - 1) < 0.1


def test_augmentation_is_the_same_whatever_the_chunks_and_threads(mnist_test):
    # The batch is distorted chunk by chunk on several threads; every random number is drawn
    # before, so neither the chunk size nor the thread count may change a single bit (the
    # shipped training command's bytes depend on it).
    X = mnist_test.X[:300]
    whole = augment_batch(X, np.random.default_rng([1, 2]), chunk=len(X), threads=1)
    for chunk, threads in ((7, 3), (64, 2), (299, 2)):
        np.testing.assert_array_equal(augment_batch(X, np.random.default_rng([1, 2]), chunk=chunk,
                                                     threads=threads), whole)
    assert not np.array_equal(whole, X)


def test_pen_training_data_is_rendered_by_the_pads_own_function(pen_samples):
    few = pen_samples[:5]
    X, y = pendigits.render_training_set(few, seed=0)
    n = len(pendigits.TRAIN_THICKNESSES)
    assert X.shape == (5 * n, 784) and list(y) == [s.label for s in few for _ in range(n)]
    for i, s in enumerate(few):
        # The first rendering of each sample is exactly what the pad shows the network.
        np.testing.assert_array_equal(X[i * n], ink.normalise(s.strokes).ravel())
    Xv, _ = pendigits.render_samples(few)
    np.testing.assert_array_equal(Xv, X[::n])
    X2, _ = pendigits.render_training_set(few, seed=0)
    np.testing.assert_array_equal(X, X2)


def test_shipped_model_was_trained_without_its_validation_writers(shipped):
    meta = shipped.meta
    assert meta.get("pen_holdout_writers"), "model.json must name the held-out writers"
    assert "pendigits" in meta["data"] and len(meta["data"]["pendigits"]["sha256"]) == 64
    assert "--pen" in meta["command"]


def test_shipped_weights_meet_the_mnist_target_through_evaluate():
    r = run_cli("evaluate", "--json", "--weights", str(WEIGHTS))
    assert r.returncode == 0, r.stderr
    acc = json.loads(r.stdout)["accuracy"]
    print(f"digitpad evaluate: {acc:.4f}")
    assert acc >= 0.988


def test_shipped_weights_read_held_out_pen_writers(shipped, pen_samples):
    writers = holdout_writers(shipped.meta)
    held = [s for s in pen_samples if s.writer in writers]
    labels = np.array([s.label for s in held])
    acc = float((pen_probabilities(Recogniser(shipped), held).argmax(axis=1) == labels).mean())
    print(f"held-out writers {writers}: {acc:.4f} of {len(held)}")
    assert len(held) > 1000
    assert acc >= 0.97
    assert shipped.meta["pen_holdout_accuracy"] == pytest.approx(acc, abs=1e-9)
