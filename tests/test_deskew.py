"""Slant normalisation: one function for the pad's ink, scanned images and training images."""

import numpy as np
import pytest

from model.inputs import images, ink
from model.inputs.deskew import deskew, slant
from model.net import mlp
from model.net.layout import Layout
from model.net.weights import Model
from model.recognise import Recogniser


def slanted_one(lean: float) -> list[np.ndarray]:
    """A '1' written as a single stroke leaning right by `lean` (dx per dy), y downward."""
    y = np.linspace(0, 100, 30)
    return [np.column_stack((50 - lean * (y - 50), y + 20))]


def column_spread(img: np.ndarray) -> float:
    """Ink-weighted standard deviation of the column index: small for an upright stroke."""
    cols = np.arange(28)
    w = img.sum(axis=0)
    mean = w @ cols / w.sum()
    return float(np.sqrt(w @ (cols - mean) ** 2 / w.sum()))


def test_slanted_stroke_comes_out_upright_and_centred():
    img = ink.normalise(slanted_one(0.5))
    assert abs(slant(img[None])[0]) > 0.3  # the stroke really leans
    out = deskew(img)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert abs(slant(out[None])[0]) < 0.05
    assert column_spread(out) < 0.5 * column_spread(img)
    # the shear keeps the centre of mass (MNIST centring) and the amount of ink
    assert np.allclose(ink.centre_of_mass(out), ink.centre_of_mass(img), atol=0.15)
    assert abs(out.sum() - img.sum()) < 0.03 * img.sum()


def test_upright_digit_is_left_alone_and_blank_stays_blank():
    img = ink.normalise(slanted_one(0.0))
    np.testing.assert_allclose(deskew(img), img, atol=1e-4)
    assert not deskew(np.zeros((2, 784), np.float32)).any()


def test_batch_rows_and_single_images_agree():
    imgs = np.stack([ink.normalise(slanted_one(lean)) for lean in (-0.6, 0.0, 0.3, 0.7)])
    rows = deskew(imgs.reshape(4, 784))
    assert rows.shape == (4, 784)
    for i in range(4):
        np.testing.assert_allclose(rows[i].reshape(28, 28), deskew(imgs[i]), atol=1e-6)
    with pytest.raises(ValueError, match="28x28"):
        deskew(np.zeros((3, 100)))


def test_chunks_on_threads_give_the_same_bits():
    imgs = np.stack([ink.normalise(slanted_one(lean)) for lean in np.linspace(-0.8, 0.8, 23)])
    whole = deskew(imgs, chunk=len(imgs), threads=1)
    for chunk, threads in ((1, 2), (5, 3), (22, 2)):
        np.testing.assert_array_equal(deskew(imgs, chunk=chunk, threads=threads), whole)


def test_a_failing_chunk_is_raised_and_every_chunk_is_covered_once():
    from model.inputs.chunks import chunk_slices, each_chunk

    assert [(s.start, s.stop) for s in chunk_slices(10, 4)] == [(0, 4), (4, 8), (8, 10)]
    seen = np.zeros(10, int)

    def count(s):
        seen[s] += 1

    each_chunk(10, 3, count, threads=2)
    assert seen.tolist() == [1] * 10

    def fail(s):
        if s.start == 6:
            raise ValueError("chunk 6 failed")

    with pytest.raises(ValueError, match="chunk 6 failed"):
        each_chunk(10, 3, fail, threads=2)
    with pytest.raises(ValueError, match="at least 1 row"):
        chunk_slices(10, 0)


def test_recogniser_feeds_a_deskew_network_the_deskewed_ink_and_scan():
    """Pad ink and a scanned image reach a deskewing network through the same `deskew`."""
    layout = Layout((784, 12, 10))
    thetas = mlp.init_thetas(layout, np.random.default_rng(3))
    straight = Recogniser(Model(thetas, layout, {}))
    skewing = Recogniser(Model(thetas, layout, {"deskew": True}))
    strokes = slanted_one(0.6)
    seen = ink.normalise(strokes)
    expected = straight.classify(deskew(seen)[None])
    np.testing.assert_allclose(skewing.read_strokes(strokes).digits[0].probs, expected[0], rtol=1e-6)
    assert not np.allclose(straight.read_strokes(strokes).digits[0].probs, expected[0], rtol=1e-3)

    page = ink.render_canvas(ink.Ink(strokes=strokes, width=120, height=160), pen_width=8)
    ink_map = images.ink_map(np.asarray(page, dtype=np.float32) / 255.0)
    reading = skewing.read_ink_map(ink_map)
    crop = reading.digits[0].image
    np.testing.assert_allclose(reading.digits[0].probs, straight.classify(deskew(crop)[None])[0], rtol=1e-6)
