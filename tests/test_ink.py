"""Strokes to MNIST-like 28x28: centring, size, stroke width, empty ink, real pen replay."""

import numpy as np
import pytest

from model.datasets import pendigits
from model.errors import NothingToRecognise
from model.inputs import ink
from model.recognise import Recogniser


def stroke_width(img: np.ndarray) -> float:
    """Estimated stroke width in pixels: 2 * ink area / ink perimeter at a 0.5 threshold."""
    m = img > 0.5
    area = m.sum()
    m8 = m.astype(np.int8)
    perimeter = (np.diff(m8, axis=0) != 0).sum() + (np.diff(m8, axis=1) != 0).sum()
    return 2.0 * area / max(perimeter, 1)


@pytest.fixture(scope="module")
def mnist_width_range(mnist_test):
    widths = np.array([stroke_width(x.reshape(28, 28)) for x in mnist_test.X[:2000]])
    return np.percentile(widths, 10), np.percentile(widths, 90)


def synthetic_seven(scale: float, x0: float = 40, y0: float = 30) -> list[np.ndarray]:
    """A crossed 7 in two strokes, at any writing size."""
    top = np.array([[0, 0], [60, 0], [25, 100]], dtype=float) * scale + (x0, y0)
    bar = np.array([[15, 50], [55, 50]], dtype=float) * scale + (x0, y0)
    return [top, bar]


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_centred_by_mass_and_fits_20x20(scale):
    img = ink.normalise(synthetic_seven(scale))
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert 0 <= img.min() and img.max() <= 1.0 and img.max() > 0.9
    r, c = ink.centre_of_mass(img)
    assert abs(r - 13.5) < 0.25 and abs(c - 13.5) < 0.25
    rows = np.flatnonzero((img > 0.05).any(axis=1))
    cols = np.flatnonzero((img > 0.05).any(axis=0))
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (20, 21)  # 20 plus anti-aliasing
    assert min(rows[-1] - rows[0], cols[-1] - cols[0]) < 18  # aspect ratio kept


@pytest.mark.parametrize("scale", [0.25, 1.0, 4.0])
@pytest.mark.parametrize("pen_width", [2.0, 12.0, 40.0])
def test_stroke_width_stays_mnist_like_whatever_pen_and_size(scale, pen_width, mnist_width_range):
    lo, hi = mnist_width_range
    strokes = synthetic_seven(scale)
    img = ink.normalise(strokes)
    drawing = ink.Ink(strokes, 560, 320, pen_width)
    assert np.array_equal(img, ink.normalise(drawing.strokes))  # canvas pen width is not used
    w = stroke_width(img)
    print(f"scale {scale} pen {pen_width}: width {w:.2f} px (MNIST 10-90%: {lo:.2f}-{hi:.2f})")
    assert lo <= w <= hi


def test_default_thickness_matches_mnist_ink_mass(mnist_test, pen_samples):
    X, _ = pendigits.render_samples(pen_samples[::10])
    ours, theirs = X.sum(axis=1).mean(), mnist_test.X.sum(axis=1).mean()
    print(f"mean ink per image: pen {ours:.1f}, MNIST {theirs:.1f}")
    assert abs(ours / theirs - 1) < 0.08


def test_empty_ink_is_nothing_to_recognise(shipped):
    with pytest.raises(NothingToRecognise, match="nothing to recognise"):
        ink.normalise([])
    with pytest.raises(NothingToRecognise):
        Recogniser(shipped).read_strokes([[], []])


def test_a_single_tap_is_a_dot_not_a_crash():
    img = ink.normalise([[[100, 100]]])
    r, c = ink.centre_of_mass(img)
    assert img.max() > 0.5 and abs(r - 13.5) < 0.3 and abs(c - 13.5) < 0.3


def test_replay_all_pendigits_through_the_ink_pipeline(shipped, pen_samples):
    """All 7,494 real pen digits, in the default canvas, via the pad's own code path."""
    rec = Recogniser(shipped)
    X = np.stack([ink.normalise(s.strokes) for s in pen_samples])
    labels = np.array([s.label for s in pen_samples])
    pred = rec.classify(X).argmax(axis=1)
    acc = float((pred == labels).mean())
    print(f"pendigits replay: {acc:.4f} of {len(labels)} digits")
    assert len(labels) == 7494
    assert acc >= 0.85
    # The pad's entry point agrees with the batch path.
    for s in pen_samples[:20]:
        assert rec.read_strokes(s.strokes).digits[0].digit == rec.classify(ink.normalise(s.strokes)).argmax()


def _reference_draw(strokes, width_px: float, size: int) -> np.ndarray:
    """The plain Pillow way: ImageDraw.line through the points, a disc at every point."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    r = width_px / 2.0
    for s in strokes:
        pts = [(float(x), float(y)) for x, y in s]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, int(round(width_px))))
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img, dtype=np.float32)


@pytest.mark.parametrize("width_px", [1.0, 1.7 * 4, ink.DEFAULT_THICKNESS * 4, 2.9 * 4])
def test_raster_is_pixel_for_pixel_the_plain_pillow_drawing(pen_samples, width_px):
    """`_draw` calls Pillow's drawing core directly for speed; the pixels must not move by one,
    or the shipped weights would no longer be what their command trains."""
    rng = np.random.default_rng(5)
    for k in rng.choice(len(pen_samples), 150, replace=False):
        strokes = [np.asarray(s, dtype=np.float32) * 0.4 + rng.uniform(-3, 3, size=2)
                   for s in pen_samples[k].strokes]  # float32 and off-grid, as jittered copies are
        assert np.array_equal(ink._draw(strokes, width_px, 112), _reference_draw(strokes, width_px, 112)), k
