"""Scans and photos of digits: reading files safely, ink maps, MNIST-like normalisation, accuracy.

Accuracy is measured on USPS digits (scanned ZIP codes, never trained on)
rendered as scans by `benchmarks/bench_numbers.py`: upscaled to 64-96 px,
dark ink on grey-white paper, blurred, lit unevenly and noisy; single digits
and rows of 2-6. Pen digits drawn with thin and thick pens and scanned the
same way (a quarter light on dark) check the stroke-width normalisation.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import USPS_FILE, bench_numbers
from PIL import Image

from model.errors import InputError, NothingToRecognise
from model.inputs import images, ink
from model.numbers import segment

bench = bench_numbers()


@pytest.fixture(scope="module")
def usps():
    return bench.load_usps(USPS_FILE)


def _read_grey(recogniser, grey: np.ndarray):
    return recogniser.read_ink_map(images.ink_map(grey.astype(np.float32) / 255.0))


# --------------------------------------------------------------------------- accuracy


def test_usps_rows_are_split_and_read(recogniser, usps):
    X, y = usps
    rows = bench.usps_rows(X, y, 90, seed=11)
    score, misses = bench.score(bench.read_grey(recogniser), rows)
    print(f"\nUSPS rows of 2-6 digits (n={score.n}): count right {score.count_rate:.4f}, "
          f"whole string right {score.string_rate:.4f}")
    assert score.count_rate >= 0.95, misses[:20]
    assert score.string_rate >= 0.80, misses[:20]


def test_usps_single_digit_scans_are_read(recogniser, usps):
    X, y = usps
    singles = bench.usps_rows(X, y, 150, seed=12, lengths=(1, 1))
    score, misses = bench.score(bench.read_grey(recogniser), singles)
    print(f"\nUSPS single-digit scans (n={score.n}): right {score.string_rate:.4f} "
          f"(count right {score.count_rate:.4f})")
    assert score.count_rate >= 0.97, misses[:20]
    assert score.string_rate >= 0.90, misses[:20]


def test_pen_scans_thin_and_thick_light_and_dark(recogniser, pen_samples):
    held = [s for s in pen_samples if s.writer in bench.HOLDOUT_WRITERS]
    scans = bench.pen_scans(held, 60, seed=13)
    score, misses = bench.score(bench.read_grey(recogniser), scans)
    print(f"\npen numbers drawn with 2-14 px pens, scanned (n={score.n}): count right "
          f"{score.count_rate:.4f}, whole string right {score.string_rate:.4f}")
    assert score.count_rate >= 0.95, misses[:20]
    assert score.string_rate >= 0.80, misses[:20]


def test_colour_photo_files_either_polarity(recogniser, usps, tmp_path):
    """Colour JPEGs (blue ink on cream paper, and the negative) go through `load_gray`."""
    X, y = usps
    rng = np.random.default_rng(14)
    ok = total = 0
    for k, (grey, text) in enumerate(bench.usps_rows(X, y, 30, seed=15, lengths=(1, 4))):
        g = grey.astype(np.float32) / 255.0
        rgb = np.stack([0.25 + 0.72 * g, 0.3 + 0.66 * g, 0.55 + 0.35 * g], axis=-1)
        if k % 2:
            rgb = 1.0 - rgb
        path = tmp_path / f"photo{k}.jpg"
        quality = int(rng.integers(60, 95))
        Image.fromarray((rgb * 255).astype(np.uint8), mode="RGB").save(path, quality=quality)
        reading = recogniser.read_path(path)
        ok += reading.text == text
        total += 1
    print(f"\ncolour JPEG photos, half of them negative (n={total}): right {ok / total:.3f}")
    assert ok / total >= 0.8


def test_tightly_cropped_digits_of_any_size(recogniser, usps):
    """A digit filling its whole picture (no margin), from 16 px (USPS's own size) to 300 px."""
    X, y = usps
    idx = np.random.default_rng(19).choice(len(X), 100, replace=False)
    for size in (16, 48, 300):
        ok = 0
        for i in idx:
            cell = X[i] if size == 16 else np.asarray(
                Image.fromarray(X[i]).resize((size, size), Image.Resampling.BICUBIC))
            reading = recogniser.read_ink_map(images.ink_map(1.0 - cell.astype(np.float32) / 255.0))
            ok += reading.text == str(y[i])
        print(f"\ntight {size}x{size} crops (n={len(idx)}): right {ok / len(idx):.3f}")
        assert ok / len(idx) >= 0.93


# --------------------------------------------------------------------------- normalisation


def test_mnist_stroke_width_constants_are_measured(mnist_test):
    widths = images.stroke_width(mnist_test.X.reshape(-1, 28, 28))
    assert abs(float(np.median(widths)) - images.MNIST_STROKE_WIDTH) < 0.05
    assert abs(float(np.percentile(widths, 90)) - images.MNIST_THICKEST) < 0.05


def test_scans_are_centred_where_mnist_digits_are(mnist_train):
    """MNIST_CENTRE is the training digits' mean centre of mass, and a scanned digit is put there."""
    imgs = mnist_train.X.reshape(-1, 28, 28).astype(np.float64)
    coords = np.arange(28.0)
    mass = imgs.sum(axis=(1, 2))
    rows, cols = imgs.sum(axis=2) @ coords / mass, imgs.sum(axis=1) @ coords / mass
    assert abs(rows.mean() - images.MNIST_CENTRE) < 0.05 and abs(cols.mean() - images.MNIST_CENTRE) < 0.05
    rng = np.random.default_rng(3)
    found = []
    for _ in range(40):  # L shapes of random sizes: whole-pixel centring is off by up to half a pixel each
        h, w = rng.integers(60, 200), rng.integers(30, 200)
        crop = np.zeros((h, w), dtype=np.float32)
        crop[:, : max(w // 4, 8)] = 1.0
        crop[-max(h // 5, 8) :, :] = 1.0
        found.append(ink.centre_of_mass(images.to_mnist(crop)))
    off = np.array(found) - images.MNIST_CENTRE
    assert np.all(np.abs(off) <= 0.6)  # each within (about) half a pixel
    assert np.all(np.abs(off.mean(axis=0)) < 0.2)  # and no bias: at 13.5 the mean was 13.64, 13.55


def _pen_digit_crop(strokes, pen_width: float) -> np.ndarray:
    picture = ink.render_canvas(ink.Ink(strokes, 560, 320), pen_width=pen_width)
    inkmap = 1.0 - np.asarray(picture, dtype=np.float32) / 255.0
    (crop, _), = segment.split_image(inkmap)
    return crop


def test_stroke_width_is_brought_into_mnists_range(pen_samples):
    """Digits written with a 2 px pen come out with MNIST's median stroke width, with a 24 px
    marker with MNIST's 90th percentile, with an 8 px pen in between.

    (A marker can fill a digit's loops in; a filled loop cannot be thinned back,
    so for the marker only the typical width is checked.)
    """
    widths = {2.0: [], 8.0: [], 24.0: []}
    raw = {2.0: [], 8.0: [], 24.0: []}
    for sample in pen_samples[:200:10]:
        for pen, got in widths.items():
            crop = _pen_digit_crop(sample.strokes, pen)
            raw[pen].append(images.stroke_width(images.to_mnist(crop, stroke=None, thickest=99.0)))
            got.append(images.stroke_width(images.to_mnist(crop)))
    lo, hi = images.MNIST_STROKE_WIDTH, images.MNIST_THICKEST
    print(f"\nstroke width before -> after (MNIST {lo} to {hi}): " + ", ".join(
        f"{pen:g} px pen {np.median(raw[pen]):.2f} -> {np.median(w):.2f}" for pen, w in widths.items()))
    assert np.median(raw[2.0]) < lo - 1.0 and np.median(raw[24.0]) > hi + 1.0  # the inputs really differ
    assert abs(np.median(widths[2.0]) - lo) < 0.25
    assert np.all(np.abs(np.array(widths[2.0]) - lo) < 0.45), widths[2.0]
    assert abs(np.median(widths[24.0]) - hi) < 0.3
    assert np.all((np.array(widths[8.0]) > lo - 0.35) & (np.array(widths[8.0]) < hi + 0.35)), widths[8.0]


def test_to_mnist_fits_20x20_and_centres_by_mass():
    crop = np.zeros((300, 120), dtype=np.float32)
    crop[20:280, 50:70] = 1.0  # a tall bar, a "1"
    crop[20:40, 20:70] = 1.0
    out = images.to_mnist(crop)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    rows = np.flatnonzero(out.max(axis=1) > 0.05)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21
    r, c = ink.centre_of_mass(out)
    assert abs(r - images.MNIST_CENTRE) <= 0.5 and abs(c - images.MNIST_CENTRE) <= 0.5
    with pytest.raises(NothingToRecognise):
        images.to_mnist(np.zeros((10, 10), dtype=np.float32))


# --------------------------------------------------------------------------- ink maps


def _row_with_two_digits(usps) -> tuple[np.ndarray, str]:
    X, y = usps
    rng = np.random.default_rng(16)
    return bench.usps_row(X, y, rng, 2, bench.ScanStyle(gradient=0.5, noise=0.05))


def test_polarity_lighting_and_noise_do_not_change_the_digits(recogniser, usps):
    grey, text = _row_with_two_digits(usps)
    g = grey.astype(np.float32) / 255.0
    h, w = g.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    variants = {
        "as scanned": g,
        "light on dark": 1.0 - g,
        "dim corner": g * (1.0 - 0.6 * (xx + yy) / 2),
        "low contrast": 0.55 + 0.3 * g,
    }
    for name, v in variants.items():
        reading = recogniser.read_ink_map(images.ink_map(v.astype(np.float32)))
        assert reading.text == text, name


def test_ink_map_is_0_on_paper_and_1_on_ink(usps):
    X, _ = usps
    cell = np.asarray(Image.fromarray(X[0]).resize((80, 80), Image.Resampling.BICUBIC)) / 255.0
    page = np.full((160, 200), 0.9, dtype=np.float32)
    page[40:120, 60:140] -= 0.75 * cell.astype(np.float32)
    m = images.ink_map(page)
    assert m.dtype == np.float32 and m.shape == page.shape
    assert m[:30].max() == 0.0  # paper
    assert np.median(m[40:120, 60:140][cell > 0.9]) > 0.9  # the strokes' core


BLANKS = ["white", "black", "grey", "gradient with noise", "noise", "dim corner noise"]


@pytest.mark.parametrize("name", BLANKS)
def test_blank_pages_have_nothing_to_recognise(recogniser, name):
    rng = np.random.default_rng(17)
    yy, xx = np.mgrid[0:240, 0:320] / 320.0
    page = {
        "white": np.ones_like(xx),
        "black": np.zeros_like(xx),
        "grey": np.full_like(xx, 0.5),
        "gradient with noise": 0.5 + 0.4 * xx + rng.normal(0, 0.04, xx.shape),
        "noise": 0.8 + rng.normal(0, 0.08, xx.shape),
        "dim corner noise": 0.9 - 0.5 * xx - 0.3 * yy + rng.normal(0, 0.06, xx.shape),
    }[name]
    with pytest.raises(NothingToRecognise, match="nothing to recognise"):
        recogniser.read_ink_map(images.ink_map(np.clip(page, 0, 1).astype(np.float32)))


def test_specks_are_dropped_and_broken_strokes_joined(recogniser, usps):
    X, y = usps
    i = int(np.flatnonzero(y == 7)[0])
    cell = np.asarray(Image.fromarray(X[i]).resize((80, 80), Image.Resampling.BICUBIC)) / 255.0
    inkmap = np.zeros((140, 160), dtype=np.float32)
    inkmap[30:110, 40:120] = cell
    inkmap[30:110, 78:81] = 0.0  # a break through the digit
    rng = np.random.default_rng(18)
    specks = rng.integers(0, 140, 12), rng.integers(0, 160, 12)
    inkmap[specks] = 1.0  # single-pixel dust
    found = segment.split_image(inkmap)
    assert len(found) == 1
    x0, y0, x1, y1 = found[0][1]
    assert 35 <= x0 and x1 <= 125 and 25 <= y0 and y1 <= 115
    assert recogniser.read_ink_map(inkmap).text == "7"


def test_boxes_are_in_image_coordinates(usps):
    grey, text = _row_with_two_digits(usps)
    found = segment.split_image(images.ink_map(grey.astype(np.float32) / 255.0))
    assert len(found) == len(text)
    for crop, (x0, y0, x1, y1) in found:
        assert 0 <= x0 < x1 <= grey.shape[1] and 0 <= y0 < y1 <= grey.shape[0]
        assert crop.shape[0] >= y1 - y0 and crop.shape[1] >= x1 - x0
    assert found[0][1][2] <= found[1][1][0]  # left to right, not overlapping


# --------------------------------------------------------------------------- reading files


def test_load_gray_reads_every_kind_of_image(tmp_path):
    ramp = np.linspace(0, 1, 64, dtype=np.float32)[None, :].repeat(16, axis=0)
    cases = {
        "grey.png": Image.fromarray((ramp * 255).astype(np.uint8), mode="L"),
        "deep.png": Image.fromarray((ramp * 65535).astype(np.uint16)),  # 16-bit: Pillow's "L" would clip it
        "float.tif": Image.fromarray(ramp, mode="F"),
        "colour.bmp": Image.fromarray(np.stack([(ramp * 255).astype(np.uint8)] * 3, axis=-1), mode="RGB"),
    }
    for name, img in cases.items():
        img.save(tmp_path / name)
        g = images.load_gray(tmp_path / name)
        assert g.dtype == np.float32 and g.shape == (16, 64), name
        assert abs(float(g[0, 0])) < 0.02 and abs(float(g[0, -1]) - 1.0) < 0.02, name
        assert np.all(np.diff(g[0]) >= -1e-6), name


def test_load_gray_transparency_is_paper_and_exif_rotation_is_applied(tmp_path):
    rgba = np.zeros((10, 30, 4), dtype=np.uint8)  # fully transparent black...
    rgba[:, :5] = (0, 0, 0, 255)  # ...except an opaque black band on the left
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "t.png")
    g = images.load_gray(tmp_path / "t.png")
    assert g[:, :5].max() == 0.0 and g[:, 5:].min() == 1.0

    img = Image.fromarray(np.where(np.arange(30)[None, :] < 5, 0, 255).astype(np.uint8).repeat(10, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    img.save(tmp_path / "r.jpg", exif=exif, quality=95)
    g = images.load_gray(tmp_path / "r.jpg")
    assert g.shape == (30, 10)
    assert g[:5].mean() < 0.2 and g[5:].mean() > 0.8  # the dark band is now on top


def test_load_gray_refuses_bad_files_with_one_line(tmp_path):
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")  # 400 megapixels, ~50 kB
    Image.new("1", (7000, 6000)).save(tmp_path / "big.png")  # over our 40 MP limit, under Pillow's
    good = tmp_path / "good.png"
    Image.new("L", (40, 30), 255).save(good)
    (tmp_path / "half.png").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (tmp_path / "notes.png").write_text("not an image\n")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "folder.png").mkdir()
    expect = {
        "bomb.png": "too large", "big.png": "too large", "half.png": "cannot read image",
        "notes.png": "not an image", "empty.png": "not an image", "folder.png": "folder",
        "missing.png": "no such file",
    }
    for name, words in expect.items():
        with pytest.raises(InputError) as info:
            images.load_gray(tmp_path / name)
        msg = str(info.value)
        assert msg.startswith(str(tmp_path / name) + ": "), msg
        assert words in msg and "\n" not in msg, msg


def test_a_blank_image_file_has_nothing_to_recognise(recogniser, tmp_path):
    Image.new("L", (300, 200), 255).save(tmp_path / "white.png")
    with pytest.raises(NothingToRecognise, match=r"white\.png: nothing to recognise"):
        recogniser.read_path(tmp_path / "white.png")
