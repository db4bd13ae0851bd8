"""Real L-BFGS-B runs on small MNIST slices: learning, determinism, cancel."""

import threading

import numpy as np
import pytest

from model.net import mlp
from model.net.layout import Layout
from model.net.train import accuracy, train


@pytest.fixture(scope="module")
def slice5k(mnist_train):
    return mnist_train.X[:5000], mnist_train.y[:5000], mnist_train.X[-2000:], mnist_train.y[-2000:]


def test_short_run_on_5000_images_generalises(slice5k):
    X, y, Xv, yv = slice5k
    seen = []
    res = train(X, y, Layout.with_hidden([50]), lam=1.0, max_iter=80, seed=0, progress=seen.append)
    acc = accuracy(res.thetas, Xv, yv)
    print(f"5,000-image run: held-out accuracy {acc:.4f} after {res.iterations} iterations")
    assert acc > 0.90
    assert not res.cancelled and res.iterations == len(seen) > 10
    assert [p.iteration for p in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].cost < seen[0].cost and all(p.elapsed >= 0 for p in seen)
    assert res.cost == pytest.approx(min(p.cost for p in seen))


def test_same_seed_same_weights_other_seed_differs(slice5k):
    X, y = slice5k[0][:1000], slice5k[1][:1000]
    layout = Layout.with_hidden([10, 8])
    a = train(X, y, layout, lam=0.5, max_iter=8, seed=3)
    b = train(X, y, layout, lam=0.5, max_iter=8, seed=3)
    c = train(X, y, layout, lam=0.5, max_iter=8, seed=4)
    for ta, tb in zip(a.thetas, b.thetas, strict=True):
        np.testing.assert_array_equal(ta, tb)
    assert not np.array_equal(a.thetas[0], c.thetas[0])


def test_cancel_mid_run_returns_best_weights_so_far(slice5k):
    X, y, Xv, yv = slice5k
    cancel = threading.Event()
    costs = []

    def progress(p):
        costs.append(p.cost)
        if p.iteration == 25:
            cancel.set()

    res = train(X, y, Layout.with_hidden([40]), lam=1.0, max_iter=500, seed=1,
                progress=progress, cancel=cancel)
    assert res.cancelled and 25 <= res.iterations < 500
    assert res.cost == pytest.approx(min(costs))
    # The weights are usable: they classify far better than chance.
    assert accuracy(res.thetas, Xv, yv) > 0.7
    assert [t.shape for t in res.thetas] == Layout.with_hidden([40]).shapes


def test_initialisation_scales_with_layer_size():
    thetas = mlp.init_thetas(Layout((784, 1000, 10)), np.random.default_rng(0))
    assert np.abs(thetas[0]).max() <= np.sqrt(6 / 1784) + 1e-12
    assert np.abs(thetas[1]).max() <= np.sqrt(6 / 1010) + 1e-12
    assert np.abs(thetas[1]).max() > 0.5 * np.sqrt(6 / 1010)
