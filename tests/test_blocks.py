"""Ink blocks (training rows grouped by where their ink is, zero columns dropped)
against the plain dense computation, shared out over threads, and the BLAS thread switch."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.optimize import check_grad

from model.net import blas, mlp
from model.net.blocks import dense_blocks, density, ink_blocks, ink_boxes
from model.net.layout import Layout


def _rebuild(blocks, n_inputs):
    """Every block's rows put back to full width, with their targets, in one array."""
    rows = []
    for b in blocks:
        full = np.zeros((b.rows, n_inputs), dtype=b.X.dtype)
        full[:, slice(None) if b.cols is None else b.cols] = b.X
        rows.append(np.hstack([full, b.Y]))
    return np.vstack(rows)


def _sorted_rows(a):
    return a[np.lexsort(a.T[::-1])]


def test_ink_boxes_of_drawn_images():
    img = np.zeros((3, 28, 28), dtype=np.float32)
    img[0, 5:9, 10:20] = 1.0
    img[1, 27, 0] = 0.5
    X = img.reshape(3, 784)
    np.testing.assert_array_equal(ink_boxes(X), [[5, 8, 10, 19], [27, 27, 0, 0], [0, 27, 0, 27]])
    # Not a square: one line of pixels.
    np.testing.assert_array_equal(ink_boxes(np.array([[0, 0, 3.0, 0, 1]])), [[0, 0, 2, 4]])


def test_ink_blocks_keep_every_row_once_and_every_nonzero(mnist_train):
    X, Y = mnist_train.X[:5000], mlp.one_hot(mnist_train.y[:5000])
    blocks = ink_blocks(X, Y, rows=600)
    assert sum(b.rows for b in blocks) == 5000
    assert max(b.rows for b in blocks) <= 600
    for b in blocks:
        assert b.X.flags.c_contiguous and b.X.dtype == X.dtype
        assert np.all(np.diff(b.cols) > 0)
        assert np.all((b.X != 0).any(axis=0)), "a kept column is zero in every row of its block"
    np.testing.assert_array_equal(_sorted_rows(_rebuild(blocks, 784)), _sorted_rows(np.hstack([X, Y])))


def test_ink_blocks_skip_about_half_of_mnist(mnist_train):
    X, Y = mnist_train.X, mlp.one_hot(mnist_train.y)
    assert density(ink_blocks(X, Y), 784) < 0.6
    assert density(dense_blocks(X, Y, 8192), 784) == 1.0


def test_blocks_give_the_dense_cost_and_gradient_on_mnist(mnist_train):
    X = mnist_train.X[:3000].astype(np.float64)
    Y = mlp.one_hot(mnist_train.y[:3000], dtype=np.float64)
    thetas = mlp.init_thetas(Layout((784, 40, 20, 10)), np.random.default_rng(5))
    c_dense, g_dense = mlp.cost_and_grad(thetas, X, Y, 2.0)
    c_blocks, g_blocks = mlp.cost_and_grad_blocks(thetas, ink_blocks(X, Y, rows=256), 2.0)
    assert c_blocks == pytest.approx(c_dense, rel=1e-12)
    for a, b in zip(g_dense, g_blocks, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_blocks_gradient_matches_central_differences():
    rng = np.random.default_rng(8)
    X = rng.random((40, 16)) * (rng.random((40, 16)) < 0.3)  # sparse rows, float64
    X[:, 3] = 0.0  # a column no row uses
    Y = mlp.one_hot(rng.integers(0, 3, 40), 3, dtype=np.float64)
    layout = Layout((16, 6, 3))
    blocks = ink_blocks(X, Y, rows=7)
    assert density(blocks, 16) < 1.0
    flat = mlp.pack(mlp.init_thetas(layout, rng))

    def f(p):
        return mlp.cost_and_grad_blocks(mlp.unpack(p, layout), blocks, 0.5)[0]

    def g(p):
        return mlp.pack(mlp.cost_and_grad_blocks(mlp.unpack(p, layout), blocks, 0.5)[1])

    assert check_grad(f, g, flat) < 1e-6 * max(1.0, np.linalg.norm(g(flat)))


def test_empty_or_mismatched_input_is_refused():
    with pytest.raises(ValueError, match="empty"):
        mlp.cost_and_grad_blocks([np.zeros((2, 4))], [], 1.0)
    with pytest.raises(ValueError, match="rows"):
        ink_blocks(np.zeros((3, 4)), np.zeros((2, 2)))


def test_shares_on_threads_give_the_sequential_sums(mnist_train):
    X = mnist_train.X[:4000].astype(np.float64)
    Y = mlp.one_hot(mnist_train.y[:4000], dtype=np.float64)
    thetas = mlp.init_thetas(Layout((784, 30, 10)), np.random.default_rng(2))
    blocks = ink_blocks(X, Y, rows=300)
    c_seq, g_seq = mlp.cost_and_grad_blocks(thetas, blocks, 1.5)
    with blas.training_threads() as threads, ThreadPoolExecutor(3) as pool, ThreadPoolExecutor(1) as one:
        assert threads >= 1
        c_par, g_par = mlp.cost_and_grad_blocks(thetas, blocks, 1.5, pool, shares=8)
        c_one, g_one = mlp.cost_and_grad_blocks(thetas, blocks, 1.5, one, shares=8)
    assert c_par == pytest.approx(c_seq, rel=1e-12)
    for a, b, c in zip(g_seq, g_par, g_one, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(b, c)  # the same shares, added in the same order, on 3 threads or 1
    assert c_par == c_one


def test_training_threads_hold_both_blas_libraries_to_one_thread_and_restore_them():
    controls = [blas.openblas("scipy"), blas.openblas("numpy")]
    assert all(c is not None for c in controls), "an OpenBLAS was not found among the loaded libraries"
    assert controls[0].path != controls[1].path
    before = [c.get() for c in controls]
    with blas.training_threads() as threads:
        assert [c.get() for c in controls] == [1, 1]
        assert threads == before[1]
    assert [c.get() for c in controls] == before
    with pytest.raises(RuntimeError), blas.training_threads():
        raise RuntimeError("training failed")
    assert [c.get() for c in controls] == before


def test_holds_from_two_threads_overlap_and_the_last_one_out_restores_the_count():
    """The window's recognitions and a training worker hold NumPy's BLAS at once, in any order."""
    import threading

    control = blas.openblas("numpy")
    before = control.get()
    assert before > 1, "needs a multi-threaded OpenBLAS to tell 1 from the default"
    entered, release_a, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def worker():  # enters first, leaves while the main thread still holds
        with blas.training_threads() as threads:
            seen["threads"] = threads
            entered.set()
            release_a.wait(10)
        seen["after_worker"] = control.get()
        a_out.set()

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(10)
    with blas.one_thread("numpy") as count:
        assert count == before  # the count before any hold, not the 1 the worker set
        release_a.set()
        assert a_out.wait(10)
        assert control.get() == 1  # the worker has left; this hold keeps one thread
    t.join(10)
    assert seen == {"threads": before, "after_worker": 1}
    assert control.get() == before


def test_recognising_leaves_the_blas_thread_count_as_it_was(recogniser):
    control = blas.openblas("numpy")
    before = control.get()
    probs = recogniser.classify(np.zeros((3, 28, 28), dtype=np.float32))
    assert probs.shape == (3, 10)
    assert control.get() == before
