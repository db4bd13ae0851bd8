"""The network's maths: gradient against central differences, pack/unpack, layouts."""

import numpy as np
import pytest
from scipy.optimize import check_grad

from model.net import mlp
from model.net.layout import Layout, layout_from_shapes, parse_hidden


def test_gradient_matches_central_differences_two_hidden_layers():
    layout = Layout((12, 7, 5, 4))
    rng = np.random.default_rng(3)
    X = rng.random((30, 12))  # float64: the gradient check runs in double precision
    Y = mlp.one_hot(rng.integers(0, 4, 30), 4, dtype=np.float64)
    flat = mlp.pack(mlp.init_thetas(layout, rng))

    def f(p):
        return mlp.cost_and_grad(mlp.unpack(p, layout), X, Y, 0.8)[0]

    def g(p):
        return mlp.pack(mlp.cost_and_grad(mlp.unpack(p, layout), X, Y, 0.8)[1])

    err = check_grad(f, g, flat)
    assert err < 1e-6 * max(1.0, np.linalg.norm(g(flat))), err


def test_bias_weights_are_not_regularised():
    layout = Layout((3, 2, 2))
    rng = np.random.default_rng(0)
    X = rng.random((5, 3))
    Y = mlp.one_hot(rng.integers(0, 2, 5), 2, dtype=np.float64)
    thetas = mlp.init_thetas(layout, rng)
    c0, _ = mlp.cost_and_grad(thetas, X, Y, 0.0)
    c1, g1 = mlp.cost_and_grad(thetas, X, Y, 10.0)
    reg = sum(float((t[:, 1:] ** 2).sum()) for t in thetas)
    assert c1 - c0 == pytest.approx(10.0 / (2 * 5) * reg)
    _, g0 = mlp.cost_and_grad(thetas, X, Y, 0.0)
    for a, b in zip(g0, g1, strict=True):
        np.testing.assert_allclose(a[:, 0], b[:, 0])


def test_pack_unpack_round_trip_returns_views():
    layout = Layout((784, 30, 20, 10))
    thetas = mlp.init_thetas(layout, np.random.default_rng(1))
    flat = mlp.pack(thetas)
    assert flat.dtype == np.float64 and flat.shape == (layout.n_params,)
    back = mlp.unpack(flat, layout)
    for a, b in zip(thetas, back, strict=True):
        np.testing.assert_array_equal(a, b)
        assert np.shares_memory(b, flat)
    with pytest.raises(ValueError, match="expected"):
        mlp.unpack(flat[:-1], layout)


def test_sigmoid_is_safe_at_extremes():
    z = np.array([-1e4, -100, 0, 100, 1e4], dtype=np.float32)
    s = mlp.sigmoid(z.copy())
    assert np.all(np.isfinite(s))
    assert s[0] == 0 and s[2] == 0.5 and s[-1] == 1
    # The cost stays finite even with saturated outputs.
    layout = Layout((2, 2))
    X = np.array([[1000.0, -1000.0]])
    Y = mlp.one_hot(np.array([1]), 2, dtype=np.float64)
    c, _ = mlp.cost_and_grad([np.array([[0.0, 1, 0], [0, 1, 0]])], X, Y, 0.0)
    assert np.isfinite(c) and c > 100
    assert layout.n_params == 6


def test_forward_is_shared_and_float32():
    layout = Layout((4, 3, 2))
    thetas = mlp.init_thetas(layout, np.random.default_rng(2))
    X = np.random.default_rng(3).random((6, 4))
    out = mlp.predict_proba(thetas, X)
    acts, z = mlp.forward(thetas, X, keep=True)
    assert out.dtype == np.float32 and out.shape == (6, 2)
    np.testing.assert_allclose(acts[-1], out, rtol=1e-6)


def test_layouts():
    assert Layout.with_hidden([300, 100]).sizes == (784, 300, 100, 10)
    assert parse_hidden("300, 100") == [300, 100]
    with pytest.raises(ValueError, match="integers"):
        parse_hidden("300,x")
    with pytest.raises(ValueError):
        Layout((784,))
    with pytest.raises(ValueError, match="expected 31 columns"):
        layout_from_shapes([(30, 785), (10, 21)])
    assert str(layout_from_shapes([(30, 785), (10, 31)])) == "784-30-10"


def test_blocked_evaluation_equals_one_block():
    layout = Layout((10, 6, 3))
    rng = np.random.default_rng(9)
    X = rng.random((50, 10))
    Y = mlp.one_hot(rng.integers(0, 3, 50), 3, dtype=np.float64)
    thetas = mlp.init_thetas(layout, rng)
    c1, g1 = mlp.cost_and_grad(thetas, X, Y, 0.3, chunk=7)
    c2, g2 = mlp.cost_and_grad(thetas, X, Y, 0.3, chunk=1000)
    assert c1 == pytest.approx(c2, rel=1e-12)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
