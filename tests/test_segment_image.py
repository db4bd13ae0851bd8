"""Scanned rows whose digits touch or overlap: the cuts `model.numbers.segment_cuts` proposes and reads.

Rows are built from real USPS digits (usps-train) by `benchmarks/bench_numbers.py`
with the ink of neighbouring digits overlapping by a few pixels (4-5% of the
digit size), rendered as grey scans and read through the app's image steps.
The segmentation before the cut lattice (valley columns, cuts held within a
few pixels of them, pieces narrower than their height never cut) read none
of the four fixed rows right; it lost the 1s pressed against a neighbour.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import USPS_FILE, bench_numbers

from model.inputs import images
from model.numbers import segment_cuts, segment_image

bench = bench_numbers()

OVERLAP = (-0.05, -0.04)
"""Gap between the ink of neighbouring digits, as a fraction of the digit size (negative: overlap)."""


@pytest.fixture(scope="module")
def usps():
    return bench.load_usps(USPS_FILE)


def _row(usps, seed: int) -> tuple[np.ndarray, str]:
    X, y = usps
    return bench.usps_row(X, y, np.random.default_rng(seed), 4, bench.ScanStyle(), gap=OVERLAP)


def _read(recogniser, grey: np.ndarray):
    return recogniser.read_ink_map(images.ink_map(grey.astype(np.float32) / 255.0))


@pytest.mark.parametrize("seed", [200, 202, 205, 209])
def test_a_row_with_overlapping_ink_is_read(recogniser, usps, seed):
    """Four digits whose ink overlaps by 3-5 px (among them 1s fused to a neighbour) are four digits."""
    grey, text = _row(usps, seed)
    reading = _read(recogniser, grey)
    assert len(reading.text) == len(text), (text, reading.text)
    assert reading.text == text


def test_a_fused_pair_of_strokes_is_cut_down_the_middle():
    """Two upright bars lying side by side (ink overlapping) get a cut between them, not through them."""
    mask = np.zeros((60, 40), dtype=bool)
    mask[:, 8:18] = True  # a bar 10 px wide...
    mask[5:, 15:25] = True  # ...and another overlapping it by 3 px
    ink = mask.astype(np.float32)
    width = images.stroke_width(mask)
    weight = segment_cuts._weight(mask, ink, width)
    cuts = segment_cuts._seams(mask, weight, 60.0, width)
    assert cuts, "no cut proposed"
    middle = [path for path, _ in cuts if 14 <= np.median(path) <= 19]
    assert middle, [np.median(p) for p, _ in cuts]


def test_overlapping_rows_beat_the_geometric_split(recogniser, usps):
    X, y = usps
    cases = bench.usps_rows(X, y, 50, 93, gap=bench.USPS_GAPS["overlapping"])
    new, misses = bench.score(bench.read_grey(recogniser), cases)
    old, _ = bench.score(bench.read_grey_geometry(recogniser), cases)
    print(f"\nUSPS rows, ink overlapping by 3-6% (n={new.n}): count {new.count_rate:.4f} "
          f"string {new.string_rate:.4f} (geometry alone: string {old.string_rate:.4f})")
    assert old.string_rate < 0.3
    assert new.count_rate >= 0.8 and new.string_rate >= 0.7, misses[:20]


def test_lone_scanned_digits_are_not_cut(recogniser, usps):
    """Cutting narrower pieces must not split single digits."""
    X, y = usps
    singles = bench.usps_rows(X, y, 80, 94, lengths=(1, 1))
    split = [t for g, t in singles if len(_read(recogniser, g).text) != 1]
    assert len(split) <= 1, split


def test_a_sure_first_reading_keeps_a_flat_lone_two_whole(shipped, usps):
    """USPS digit 922, a flat 2 with a long tail, comes apart in the cut lattice ("22", each half
    sure too); the first reading (light columns only) is sure of it as one 2 and the lattice's
    reading scores less than `SURE_CUTS_WIN_BY` better, so an image of it reads 2. (Digit 171, the
    example until scans were centred at MNIST's centre of mass, now scores 0.78 nats better cut
    in two and reads "22": one of the lone scans README counts as not read as one digit.)

    The rule without the verifier (`model.verifier`), which gives this 2 only 0.16 of being one whole
    digit: with it the lattice's "22" wins by 0.74 nats and the app reads 22. Over all 7,291 lone USPS
    scans the verifier reads more as exactly one digit (`benchmarks/accuracy.py`: 99.77% against
    99.66%)."""
    from model.recognise import Recogniser
    from model.validation import as_scan

    recogniser = Recogniser(shipped)

    X, y = usps
    ink = images.ink_map(as_scan(X[922]))
    assert int(y[922]) == 2
    lattice = segment_cuts.read(ink, recogniser.classify)
    assert len(lattice.crops) == 2
    first = segment_image.read_columns(ink, recogniser.classify)
    assert first.probs.max(axis=1).min() >= segment_image.SURE
    assert lattice.probs.max(axis=1).min() >= segment_image.SURE  # so the stricter rule applies
    assert first.score + 0.2 < lattice.score <= first.score + segment_image.SURE_CUTS_WIN_BY
    assert recogniser.read_ink_map(ink).text == "2"


def test_a_forty_digit_scanned_row_and_a_noisy_page_finish(usps, tmp_path):
    """Both image readings run on every image: a row of 40 touching digits and a page of noise (a
    great many pieces and cuts) must come back, through `digitpad predict` (a hang fails through the
    subprocess timeout; no time is asserted)."""
    from conftest import run_cli
    from PIL import Image

    X, y = usps
    grey, text = bench.usps_row(X, y, np.random.default_rng(40), 40, bench.ScanStyle(), gap=(0.0, 0.0))
    row = tmp_path / "row40.png"
    Image.fromarray(grey).save(row)
    rng = np.random.default_rng(1)
    noise = tmp_path / "noise.png"
    Image.fromarray(np.where(rng.random((400, 600)) < 0.08, 0, 230).astype(np.uint8)).save(noise)
    res = run_cli("predict", str(row), str(noise), timeout=300)
    lines = dict(line.split("\t")[:2] for line in res.stdout.splitlines() if "\t" in line)
    print(f"\n40 digits: {text}\n     read {lines.get(str(row))}")
    read = lines[str(row)]
    assert len(read) == 40
    assert sum(a == b for a, b in zip(read, text, strict=True)) >= 36
    assert str(noise) in res.stdout + res.stderr  # an answer or a one-line message naming the file
    assert "Traceback" not in res.stderr


@pytest.fixture(scope="module")
def overlapping_rows(usps):
    """The overlapping rows of `bench_numbers.py --only scans` (seed 0), the set the lattice is tuned on."""
    X, y = usps
    return bench.usps_rows(X, y, 300, 23, gap=bench.USPS_GAPS["overlapping"])


def test_a_one_pressed_into_a_two_is_not_read_as_part_of_it(recogniser, overlapping_rows):
    """Row 120 is 12 with the 1 pressed into the 2's top. The whole piece still reads as a (wide) 2,
    and so does the piece with the 1 cut off: the union is charged `STRIP` for ink its reading does
    not need, and the lattice reads 12 (it read 2 before, by 0.1 nats). The first reading (one sure 2)
    still stands for the whole image: the lattice does not score `SURE_CUTS_WIN_BY` better."""
    grey, text = overlapping_rows[120]
    assert text == "12"
    ink = images.ink_map(grey.astype(np.float32) / 255.0)
    pieces = segment_cuts.pieces_of(ink)
    lat = segment_cuts.lattice(ink, pieces, recogniser.classify)
    scored = len(lat.probs)  # the joining lines after the candidates have no probabilities
    strips = segment_cuts._strips(lat.spans[:scored], lat.probs, lat.one[:scored])
    whole = lat.spans.index((0, len(lat.nodes) - 1))
    assert lat.probs[whole].argmax() == 2 and strips[whole] == 1.0
    reading = segment_cuts.read(ink, recogniser.classify)
    assert "".join(str(int(p.argmax())) for p in reading.probs) == "12"


def test_the_seam_between_two_fused_ones_is_proposed(recogniser, overlapping_rows):
    """Row 201 is 1090, its 1 fused with the 0. Many light paths through the thin 0 and 9 are cheaper
    than the seam beside the 1, and used to take up the piece's budget of cuts; paths lighter than their
    neighbours' come first now, and the row reads 1090 (090 before)."""
    grey, text = overlapping_rows[201]
    assert text == "1090"
    assert _read(recogniser, grey).text == "1090"


def test_two_ones_side_by_side_are_read_as_two(recogniser, overlapping_rows):
    """Row 239 is 1171, its first two 1s fused into one thick bar with a faint seam down the middle.
    The seam (a local minimum crossing under `LIGHT` stroke widths) is kept beyond the piece's budget of
    cuts, and the bar read as one 1 costs `PAIR` more since that seam splits it into two straight,
    full-height 1s: the row reads 1171 (171 before)."""
    grey, text = overlapping_rows[239]
    assert text == "1171"
    ink = images.ink_map(grey.astype(np.float32) / 255.0)
    lat = segment_cuts.lattice(ink, segment_cuts.pieces_of(ink), recogniser.classify)
    scored = len(lat.probs)  # the joining lines after the candidates have no probabilities
    pairs = segment_cuts._pairs(lat.nodes, lat.spans[:scored], lat.probs, lat.one[:scored])
    assert pairs.any()
    assert _read(recogniser, grey).text == "1171"


def test_straight_cuts_are_proposed_along_both_sides_of_a_bar():
    """A bar crossing its neighbour's horizontal stroke (a 1 pressed into a 2's base): every seam
    crosses ink, but straight cuts run along both sides of the bar."""
    mask = np.zeros((60, 60), dtype=bool)
    mask[:, 12:18] = True  # the bar, 6 px wide, full height...
    mask[50:56, 4:56] = True  # ...across a horizontal stroke
    mask[10:56, 50:56] = True  # the neighbour's upright
    width = images.stroke_width(mask)
    cuts = segment_cuts._stem_cuts(mask, 60.0, width)
    reach = int(np.ceil(1.5 * width))  # how far from the bar a cut may stand (flat counts are walked over)
    left = [c for c in cuts if 12 - reach <= np.median(c) <= 12]
    right = [c for c in cuts if 18 <= np.median(c) <= 18 + reach]
    assert left and right, [np.median(c) for c in cuts]


@pytest.mark.parametrize("row, text", [(84, "61019"), (160, "846010"), (79, "77212")])
def test_a_one_pressed_into_its_neighbours_stroke_is_cut_out(recogniser, overlapping_rows, row, text):
    """Rows 84 and 160 hold a 1 pressed into a 0 (the cut beside it crosses 0.96-1.1 stroke widths), row
    79 a 1 pressed into a 2 (only a straight cut along the 1's stem separates them, 1.5 stroke widths):
    with the ink those cuts cross beyond `THIN` eased for the straight 1 (`EASE`), they read whole
    (6019, 84660, 7722 before)."""
    grey, truth = overlapping_rows[row]
    assert truth == text
    assert _read(recogniser, grey).text == text


def test_a_sure_lattice_reading_of_a_row_needs_a_smaller_margin(recogniser, overlapping_rows):
    """Where the first reading of a row is sure of its several digits and the lattice reads the row
    otherwise, sure too, the lattice's reading stands if it scores `ROW_CUTS_WIN_BY` better, not the
    `CUTS_WIN_BY` an unsure lattice needs. (With the 0.1.0 weights row 290, 2314 read 234 first, was won by
    0.4 nats; with today's, the rows it decided won by 0.6-0.95, read right. With the verifier, which charges
    both readings, row 20, 213 read 28 first, is won by 0.76, and 0260, which the lattice reads 020 by 0.65,
    keeps its first reading.)"""
    decided = []
    for k, (grey, text) in enumerate(overlapping_rows):
        ink = images.ink_map(grey.astype(np.float32) / 255.0)
        first = segment_image.read_columns(ink, recogniser.classify, recogniser.verify)
        if len(first.crops) < 2 or not segment_image._sure(first):
            continue
        cuts = segment_cuts.read(ink, recogniser.classify, recogniser.verify)
        if not segment_image._sure(cuts) or _digits(cuts) == _digits(first):
            continue
        margin = cuts.score - first.score
        got = recogniser.read_ink_map(ink).text
        want = _digits(cuts) if margin > segment_image.ROW_CUTS_WIN_BY else _digits(first)
        assert got == want, (k, margin)
        if segment_image.ROW_CUTS_WIN_BY < margin <= segment_image.CUTS_WIN_BY:
            decided.append((k, text, _digits(first), got, round(margin, 2)))
    print(f"\nrows a sure lattice wins by less than CUTS_WIN_BY (truth, first, read, margin): {decided}")
    # Each is read closer to the truth than the first reading had it.
    assert decided and all(_edits(got, text) < _edits(first, text) for _, text, first, got, _ in decided)


def _digits(found) -> str:
    return "".join(str(int(d)) for d in found.probs.argmax(axis=1))


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: digits inserted, dropped or changed to turn `a` into `b`."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]
