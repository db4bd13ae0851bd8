"""The one-whole-digit network (`model.verifier`): its composed training pictures, a real L-BFGS-B run
on a slice, its files, and what it buys where scanned digits overlap (USPS rows made with a seed used
neither to choose `VERIFY_COST` nor by the benchmark)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, USPS_FILE, bench_numbers

from model.errors import WeightsError
from model.inputs import images
from model.recognise import Recogniser
from model.verifier import compose, load_verifier, paths, save_verifier, train_verifier

ASSETS = ROOT / "assets"


def test_composed_pictures_are_repeatable_and_of_both_kinds(mnist_train):
    X = mnist_train.X[:400]
    a, la = compose(X, 200, seed=5)
    b, lb = compose(X, 200, seed=5)
    assert a.tobytes() == b.tobytes() and np.array_equal(la, lb)
    assert compose(X, 200, seed=6)[0].tobytes() != a.tobytes()
    assert a.shape == (200, 784) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert 0.35 < la.mean() < 0.65  # half one whole digit, half two digits or part of one
    # Every picture is normalised as a candidate is: ink within MNIST's 20x20 box, centred by mass.
    ink = a.reshape(-1, 28, 28)
    rows = np.arange(28)
    mass = ink.sum(axis=(1, 2))
    cy = (ink.sum(axis=2) * rows).sum(axis=1) / mass
    cx = (ink.sum(axis=1) * rows).sum(axis=1) / mass
    assert np.all(np.abs(cy - 13.5) < 2.0) and np.all(np.abs(cx - 13.5) < 2.0)


def test_training_on_a_slice_is_repeatable_and_survives_saving(mnist_train, tmp_path):
    X = mnist_train.X
    one = train_verifier(X, n=400, hidden=12, max_iter=15, seed=3, check_n=200)
    two = train_verifier(X, n=400, hidden=12, max_iter=15, seed=3, check_n=200)
    save_verifier(one, tmp_path / "a")
    save_verifier(two, tmp_path / "b")
    for pa, pb in zip(paths(tmp_path / "a")[:2], paths(tmp_path / "b")[:2], strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name  # same seed, same bytes
    back = load_verifier(tmp_path / "a")
    assert [t.shape for t in back.thetas] == [(12, 785), (2, 13)]
    crops = compose(X[50_000:50_100], 50, seed=9)[0]
    np.testing.assert_allclose(back.p_single(crops), one.p_single(crops), atol=1e-5)
    assert back.meta["check_images"] == 200 and back.meta["iterations"] <= 15
    assert 0.0 <= back.meta["check_accuracy"] <= 1.0


def test_unreadable_files_are_one_line_naming_the_file(tmp_path):
    with pytest.raises(WeightsError) as missing:
        load_verifier(tmp_path)
    assert str(missing.value) == f"{paths(tmp_path)[0]}: missing"
    first, second, _ = paths(tmp_path)
    first.write_text("1 2 x\n", encoding="utf-8")
    with pytest.raises(WeightsError) as bad:
        load_verifier(tmp_path)
    assert str(first) in str(bad.value) and "\n" not in str(bad.value)
    np.savetxt(first, np.zeros((3, 785)))
    np.savetxt(second, np.zeros((2, 5)))  # 4 hidden units, the first file has 3
    with pytest.raises(WeightsError, match="expected 2 rows x 4 columns"):
        load_verifier(tmp_path)


def test_the_shipped_verifier_tells_one_digit_from_two(mnist_train):
    """On pictures composed from MNIST's validation rows (not those it was trained on)."""
    verifier = load_verifier(ASSETS)
    X, labels = compose(mnist_train.X[50_000:], 2000, seed=99)
    right = float(((verifier.p_single(X) >= 0.5) == (labels == 1)).mean())
    print(f"\nshipped verifier on 2,000 composed validation pictures: {right:.1%} right")
    assert right >= 0.85


@pytest.fixture(scope="module")
def overlapping_rows():
    bench = bench_numbers()
    X, y = bench.load_usps(USPS_FILE)
    return bench.usps_rows(X, y, 60, 500, gap=bench.USPS_GAPS["overlapping 5-10%"])


def test_rows_overlapping_five_to_ten_percent_lose_fewer_digits(shipped, overlapping_rows):
    """USPS rows whose digits overlap by 5-10% of their size: the verifier charges a candidate that is
    two digits read as one of them, and more rows are read whole."""

    def whole(rec: Recogniser) -> int:
        return sum(rec.read_ink_map(images.ink_map(g.astype(np.float32) / 255.0)).text == t
                   for g, t in overlapping_rows)

    without = whole(Recogniser(shipped))
    with_it = whole(Recogniser(shipped, load_verifier(ASSETS)))
    print(f"\nrows overlapping 5-10% read whole, of {len(overlapping_rows)}: {without} without the verifier, "
          f"{with_it} with it")
    assert with_it >= without + 3
