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


def test_grow_schedule_doubles_to_all_rows():
    from model.net.train import grow_schedule

    assert grow_schedule(50000, 200, 2) == [(12500, 66), (25000, 67), (50000, 67)]
    assert grow_schedule(7, 10, 3) == [(1, 2), (2, 2), (4, 3), (7, 3)]
    assert grow_schedule(1000, 2, 3) == [(500, 1), (1000, 1)]  # a short run still ends on all rows
    assert grow_schedule(1000, 5, 0) == [(1000, 5)]
    with pytest.raises(ValueError, match="halvings"):
        grow_schedule(1000, 5, -1)


def test_growing_batch_same_seed_same_bytes(slice5k):
    """Real L-BFGS-B phases on 1/4, 1/2 and all of 2,000 images: the same seed gives the same bytes,
    another seed other subsets (so other weights); no halvings is plain `train`, bit for bit."""
    from model.net.train import train_growing

    X, y = slice5k[0][:2000], slice5k[1][:2000]
    layout = Layout.with_hidden([16])
    seen = []
    a = train_growing(X, y, layout, lam=1.0, max_iter=9, seed=3, halvings=2, progress=seen.append)
    b = train_growing(X, y, layout, lam=1.0, max_iter=9, seed=3, halvings=2)
    c = train_growing(X, y, layout, lam=1.0, max_iter=9, seed=4, halvings=2)
    for ta, tb in zip(a.thetas, b.thetas, strict=True):
        assert ta.tobytes() == tb.tobytes()
    assert not np.array_equal(a.thetas[0], c.thetas[0])
    assert a.iterations == len(seen) == len(a.costs) and [p.iteration for p in seen] == list(range(1, 10))
    assert all(p.max_iter == 9 for p in seen)
    plain = train(X, y, layout, lam=1.0, max_iter=9, seed=3)
    none = train_growing(X, y, layout, lam=1.0, max_iter=9, seed=3, halvings=0)
    for ta, tb in zip(plain.thetas, none.thetas, strict=True):
        assert ta.tobytes() == tb.tobytes()
    # Growing reached weights that read held-out digits (it trained, not just shuffled).
    assert accuracy(a.thetas, slice5k[2], slice5k[3]) > 0.5


def test_growing_batch_uses_lambda_scaled_to_the_subset(slice5k):
    """A one-phase-subset run equals plain `train` on those rows with lambda·s/m: the regulariser
    weighs as in the full objective."""
    from model.net.train import grow_schedule, train_growing

    X, y = slice5k[0][:1000], slice5k[1][:1000]
    layout = Layout.with_hidden([12])
    # max_iter 1 with one halving runs only the last phase (all rows); 2 runs one on each half.
    rows, iters = grow_schedule(1000, 2, 1)[0]
    order = np.random.default_rng([5, 0x6772]).permutation(1000)
    idx = np.sort(order[:rows])
    first = train(X[idx], y[idx], layout, lam=2.0 * rows / 1000, max_iter=iters, seed=5)
    second = train(X, y, layout, lam=2.0, max_iter=1, seed=5, init=first.thetas)
    grown = train_growing(X, y, layout, lam=2.0, max_iter=2, seed=5, halvings=1)
    for ta, tb in zip(second.thetas, grown.thetas, strict=True):
        assert ta.tobytes() == tb.tobytes()


def test_maxcor_reaches_the_optimizer(slice5k):
    X, y = slice5k[0][:1000], slice5k[1][:1000]
    layout = Layout.with_hidden([12])
    a = train(X, y, layout, max_iter=12, seed=1, maxcor=3)
    b = train(X, y, layout, max_iter=12, seed=1)
    assert not np.array_equal(a.thetas[0], b.thetas[0])  # fewer pairs, other steps after the third


def test_hard_rows_are_the_unsure_ones_plus_a_seeded_share_of_the_rest(slice5k):
    """`hard_rows` against the network's own probabilities, computed here row by row: every row whose
    label gets less than HARD_SURE is kept, about `keep` of the others, the same rows for the same seed."""
    from model.net.train import HARD_SURE, hard_rows

    X, y = slice5k[0][:3000], slice5k[1][:3000]
    thetas = train(X, y, Layout.with_hidden([16]), lam=1.0, max_iter=30, seed=0).thetas
    p_label = np.array([mlp.predict_proba(thetas, X[i:i + 1])[0, y[i]] for i in range(len(y))])
    unsure = np.flatnonzero(p_label < HARD_SURE)
    rows = hard_rows(thetas, X, y, 0.25, seed=7, batch=700)  # batches that do not divide the rows
    assert 0 < len(unsure) < len(y) and set(unsure) <= set(rows) and np.all(np.diff(rows) > 0)
    easy = np.setdiff1d(rows, unsure)
    assert 0.18 < len(easy) / (len(y) - len(unsure)) < 0.32
    assert np.array_equal(rows, hard_rows(thetas, X, y, 0.25, seed=7))
    assert not np.array_equal(rows, hard_rows(thetas, X, y, 0.25, seed=8))
    assert np.array_equal(hard_rows(thetas, X, y, 0.0, seed=7), unsure)
    assert len(hard_rows(thetas, X, y, 1.0, seed=7)) == len(y)
