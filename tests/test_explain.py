"""Push and evidence against independent references; distortions against hand-made images; charts."""

from __future__ import annotations

import numpy as np
import pytest

from model.net import mlp
from model.net.layout import Layout
from model.views import charts, explain, robustness


@pytest.fixture(scope="module", params=[(20,), (12, 7)], ids=["one-hidden", "two-hidden"])
def net(request):
    rng = np.random.default_rng(3)
    thetas = [t * 3 for t in mlp.init_thetas(Layout.with_hidden(request.param), rng)]
    image = rng.random((28, 28)) * (rng.random((28, 28)) > 0.6)
    return thetas, image


def logits(thetas, x: np.ndarray) -> np.ndarray:
    _, z = mlp.forward(thetas, x.reshape(1, -1), keep=True, dtype=np.float64)
    return z[0]


def test_evidence_is_input_times_finite_difference_gradient(net):
    thetas, image = net
    ex = explain.explain(thetas, image)
    digits = [3, 8]
    maps = explain.evidence(thetas, ex, digits)
    x = image.ravel()
    eps = 1e-6
    pixels = np.flatnonzero(x)[:40]
    for k, d in enumerate(digits):
        for p in pixels:
            up, down = x.copy(), x.copy()
            up[p] += eps
            down[p] -= eps
            grad = (logits(thetas, up)[d] - logits(thetas, down)[d]) / (2 * eps)
            assert maps[k].ravel()[p] == pytest.approx(x[p] * grad, rel=1e-5, abs=1e-9)
    assert np.all(maps.reshape(2, -1)[:, x == 0] == 0)


def test_push_is_activation_times_effective_outgoing_weight(net):
    thetas, image = net
    ex = explain.explain(thetas, image)
    d = 4
    p = explain.push(thetas, ex, d)
    if len(thetas) == 2:
        assert np.allclose(p, ex.hidden[0] * thetas[1][d, 1:])
    # Either way: d score / d a1 by finite differences on the first hidden layer.
    a1 = ex.hidden[0]
    eps = 1e-6
    for j in range(len(a1)):
        def score(a: np.ndarray) -> float:
            out = a
            for t in thetas[1:-1]:
                out = mlp.sigmoid(t[:, 1:] @ out + t[:, 0])
            return float(thetas[-1][d, 1:] @ out + thetas[-1][d, 0])

        up, down = a1.copy(), a1.copy()
        up[j] += eps
        down[j] -= eps
        assert p[j] == pytest.approx(a1[j] * (score(up) - score(down)) / (2 * eps), rel=1e-5, abs=1e-9)


def test_explanation_uses_the_shared_forward_pass(net):
    thetas, image = net
    ex = explain.explain(thetas, image)
    assert np.allclose(ex.outputs, mlp.predict_proba(thetas, image.reshape(1, -1))[0], atol=1e-6)
    assert np.allclose(ex.scores, logits(thetas, image.ravel()))


def test_distortions_move_pixels_where_expected():
    img = np.zeros((1, 28, 28), dtype=np.float32)
    img[0, 5, 9] = 1.0
    shifted = robustness.distort(img, "shift", 2)
    assert shifted[0, 7, 11] == pytest.approx(1.0) and shifted.sum() == pytest.approx(1.0)
    turned = robustness.distort(img, "rotation", 180)
    assert turned[0, 22, 18] == pytest.approx(1.0, abs=1e-5)
    quarter = robustness.distort(img, "rotation", 90)  # counter-clockwise: top-left goes bottom-left
    r, c = np.unravel_index(quarter[0].argmax(), (28, 28))
    assert (r, c) == (27 - 9, 5)
    dot = np.zeros((1, 28, 28), dtype=np.float32)
    dot[0, 10, 12] = 1.0
    big = robustness.distort(dot, "scale", 2.0)  # away from the centre (13.5, 13.5), twice as far
    r, c = np.unravel_index(big[0].argmax(), (28, 28))
    assert abs(r - 6.5) <= 1 and abs(c - 10.5) <= 1 and big.sum() == pytest.approx(4.0, rel=0.3)
    assert robustness.distort(img, "thickness", 2).sum() == 9
    assert robustness.distort(img, "thickness", -1).sum() == 0
    noisy = robustness.distort(np.zeros((50, 28, 28)), "noise", 0.3)
    assert noisy.min() >= 0 and 0.05 < noisy.mean() < 0.2
    with pytest.raises(ValueError, match="unknown distortion"):
        robustness.distort(img, "blur", 1)


def test_measure_stops_when_cancelled():
    import threading

    cancel = threading.Event()
    cancel.set()
    X = np.zeros((4, 784), dtype=np.float32)
    with pytest.raises(robustness.Cancelled):
        robustness.measure(lambda b: np.ones((len(b), 10)), [("s", X, np.zeros(4))], cancel=cancel)


def test_diverging_colours_and_tile_grid():
    rgb = charts.diverging(np.array([-2.0, 0.0, 2.0]), 2.0)
    assert tuple(rgb[0]) == tuple(charts.NEGATIVE.astype(int))
    assert tuple(rgb[1]) == (255, 255, 255)
    assert tuple(rgb[2]) == tuple(charts.POSITIVE.astype(int))
    tiles = np.stack([np.full((28, 28, 3), i, dtype=np.uint8) for i in range(7)])
    grid, cols = charts.tile_grid(tiles, order=[6, 5, 4, 3, 2, 1, 0])
    cell = 28 + 2 * charts.CELL_BORDER
    assert grid.shape == (cell * int(np.ceil(7 / cols)), cell * cols, 3)
    # The first cell holds tile 6, the second tile 5; a click maps back to the grid position.
    assert grid[cell // 2, cell // 2, 0] == 6 and grid[cell // 2, cell + cell // 2, 0] == 5
    assert charts.grid_cell(cell + 3, 3, cols, 7, cell) == 1
    assert charts.grid_cell(cell * cols + 1, 3, cols, 7, cell) is None


def test_heat_map_geometry_finds_cells():
    m = np.diag(np.arange(1, 11)) + 1
    img, geom = charts.confusion_heat_map(m, "t")
    assert img.size == (860, 720)
    x, y = geom.x0 + 3.5 * geom.cell, geom.y0 + 7.5 * geom.cell
    assert geom.at(x, y) == (7, 3)
    assert geom.at(geom.x0 - 1, y) is None
