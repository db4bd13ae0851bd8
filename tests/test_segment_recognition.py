"""Segmentation by recognition: touching, overlapping and joined digits, out-of-order strokes, close calls.

Hand-made ink files cover the cases the issue names (a "10" and a "00"
written in one stroke, a 7 crossed after the next digit, a 4 in two strokes
touching a 1, "2026" with overlapping boxes); generated one-writer numbers
from the validation writers (25-30) check the accuracy floors against the
earlier geometric segmentation on the same numbers; a scribble and a 40-digit
row must come back (a hang fails the test through the subprocess timeout).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import bench_numbers, run_cli

from model.inputs import ink
from model.numbers import segment_ink

bench = bench_numbers()


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float, n: int = 48,
             turn: float = 1.0) -> np.ndarray:
    t = start + turn * np.linspace(0, 2 * np.pi, n)
    return np.column_stack((cx + rx * np.cos(t), cy + ry * np.sin(t)))


def _save(tmp_path, name: str, strokes) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"width": 560, "height": 320,
                                "strokes": [np.asarray(s).tolist() for s in strokes]}))
    return str(path)


def joined_ten() -> list[np.ndarray]:
    """"10" in one stroke: down the 1, along the baseline (the ligature), round the 0."""
    one = np.array([[118.0, 60.0], [110.0, 200.0]])
    ligature = np.array([[160.0, 201.0], [240.0, 200.0]])
    return [np.vstack([one, ligature, _ellipse(250.0, 130.0, 50.0, 70.0, np.pi / 2)])]


def joined_double_zero() -> list[np.ndarray]:
    """"00" in one stroke: round the first 0 from its top, across the top to the second, round it."""
    first = _ellipse(150.0, 130.0, 45.0, 70.0, -np.pi / 2, turn=-1.0)
    second = _ellipse(255.0, 130.0, 45.0, 70.0, -np.pi / 2, turn=-1.0)
    return [np.vstack([first, second])]


def late_crossed_seven() -> list[np.ndarray]:
    """A 7, then a 1 touching it, then the 7's crossbar (written after the 1)."""
    seven = np.array([[100.0, 60.0], [190.0, 60.0], [135.0, 200.0]])
    one = np.array([[205.0, 62.0], [200.0, 200.0]])
    bar = np.array([[130.0, 132.0], [180.0, 128.0]])
    return [seven, one, bar]


def four_touching_one() -> list[np.ndarray]:
    """A 4 in two strokes (the open corner, then the down stroke) and a 1 whose box overlaps it."""
    corner = np.array([[150.0, 60.0], [100.0, 150.0], [190.0, 150.0]])
    down = np.array([[165.0, 90.0], [165.0, 210.0]])
    one = np.array([[195.0, 65.0], [188.0, 205.0]])
    return [corner, down, one]


@pytest.mark.parametrize("name, strokes, text", [
    ("ten", joined_ten(), "10"),
    ("double-zero", joined_double_zero(), "00"),
    ("late-seven", late_crossed_seven(), "71"),
    ("four-one", four_touching_one(), "41"),
])
def test_hand_made_ink_files_are_read_right(recogniser, tmp_path, name, strokes, text):
    reading = recogniser.read_path(_save(tmp_path, name, strokes))
    print(f"\n{name}: {reading.text!r} (score {reading.score:.2f}, alternative {reading.alternative})")
    assert reading.text == text
    # The boxes come left to right and do not swallow each other.
    centres = [(d.box[0] + d.box[2]) / 2 for d in reading.digits]
    assert centres == sorted(centres)


def test_the_old_geometric_split_fails_the_hand_made_cases(recogniser):
    """The cases above are the ones grouping by horizontal overlap gets wrong (what this issue fixes)."""
    wrong = [s for s, t in [(late_crossed_seven(), "71"), (four_touching_one(), "41")]
             if recogniser.read_strokes_by_geometry(s).text != t]
    assert wrong


def test_a_joining_line_is_left_out_of_both_digits(recogniser):
    reading = recogniser.read_strokes(joined_ten())
    a, b = (d.box for d in reading.digits)
    assert a[2] < b[0]
    assert a[2] - a[0] < 40  # the 1 alone, without the baseline stroke


def _number_from(samples, labels: str, gap: float) -> list[np.ndarray]:
    """The first sample of each label placed left to right with boxes `gap` x height apart."""
    out: list[np.ndarray] = []
    right = None
    for ch in labels:
        s = next(x for x in samples if x.label == int(ch))
        st = [np.asarray(a, dtype=np.float64) for a in s.strokes]
        pts = np.concatenate(st)
        x0, x1 = pts[:, 0].min(), pts[:, 0].max()
        h = np.ptp(pts[:, 1])
        dx = 40.0 - x0 if right is None else right + gap * h - x0
        out += [a + np.array([dx, 0.0]) for a in st]
        right = x1 + dx
    return out


def test_2026_with_every_pair_of_boxes_overlapping(recogniser, held_out, tmp_path):
    writers = bench.by_writer(held_out)
    got = {}
    for w, samples in sorted(writers.items()):
        path = _save(tmp_path, f"2026-{w}", _number_from(samples, "2026", -0.04))
        got[w] = recogniser.read_path(path).text
    print(f"\n2026 overlapping by 4% of the height, per validation writer: {got}")
    assert sum(t == "2026" for t in got.values()) >= len(got) - 1, got


def six_then_one(overlap: float) -> list[np.ndarray]:
    """A 6 (down its left side from the top right, then round its loop), then a 1 whose box overlaps
    the 6's by `overlap` x its height."""
    t = np.linspace(0, 1, 20)
    down = np.column_stack((100.0 + 90.0 * (0.85 - 0.75 * np.sin(t * np.pi / 2)), 60.0 + 90.0 * t))
    six = np.vstack([down, _ellipse(145.0, 172.5, 45.0, 37.5, np.pi, n=40)])
    x = six[:, 0].max() - overlap * 150.0
    return [six, np.array([[x + 4.5, 60.0], [x, 210.0]])]


@pytest.mark.parametrize("overlap", [0.05, 0.10])
def test_a_one_overlapping_a_six_stays_sixty_one(recogniser, overlap):
    """Merged, the 6 and the 1 look like an 8 to the network (p 0.45) and starting a digit at a stroke
    that lies over the previous one costs `CUT_COST`; the two runs in writing order, each a sure digit as
    tall as the whole, cost `RUN_COST` more read as one."""
    reading = recogniser.read_strokes(six_then_one(overlap))
    print(f"\n6 then 1 overlapping by {overlap:.0%} of the height: {reading.text!r}")
    assert reading.text == "61"


def test_a_four_written_as_an_l_then_a_stem_stays_whole(recogniser):
    """An L, then a stem down through the end of its bar and below it: the L alone is no sure digit,
    so the two runs are free to merge."""
    for stem_top in (70.0, 110.0, 150.0):
        strokes = [np.array([[100.0, 60.0], [100.0, 150.0], [190.0, 150.0]]),
                   np.array([[165.0, stem_top], [165.0, 230.0]])]
        assert recogniser.read_strokes(strokes).text == "4", stem_top


def small_zero_then_four(bottom: bool) -> list[np.ndarray]:
    """A 0 two fifths as tall as the 4 written after it (centred on it or on its baseline), its box
    overlapping the 4's by a tenth of the 4's height; the 4 is an open corner, then a down stroke."""
    ry = 0.4 * 150.0 / 2
    zero = _ellipse(100.0 + 15.0 - 0.7 * ry, 210.0 - ry if bottom else 135.0, 0.7 * ry, ry, -np.pi / 2,
                    turn=-1.0)
    corner = np.array([[150.0, 60.0], [100.0, 150.0], [190.0, 150.0]])
    down = np.array([[165.0, 90.0], [165.0, 210.0]])
    return [zero, corner, down]


@pytest.mark.parametrize("bottom", [False, True])
def test_a_small_zero_before_a_four_is_not_swallowed(recogniser, monkeypatch, bottom):
    """The small 0 lies inside the 4's box and reads as part of a sure 4; the two runs are sure digits
    whose centres lie a quarter of the height apart (`RUN_SHIFT`), so reading them as one costs
    `RUN_COST` although the 0 is far shorter than `RUN_TALL`. Without that cue the 0 is lost."""
    strokes = small_zero_then_four(bottom)
    got = recogniser.read_strokes(strokes).text
    charged = _charged(recogniser, strokes)[(0, 1, 2)]
    monkeypatch.setattr(segment_ink, "RUN_SHIFT", 99.0)
    without = recogniser.read_strokes(strokes).text
    print(f"\nsmall 0 then 4 ({'on the baseline' if bottom else 'centred'}): {got!r}, without RUN_SHIFT "
          f"{without!r}")
    assert got == "04"
    # The cue is what charges the merged reading (the 0.1.0 weights lost the 0 without it; today's
    # network may read the drawing right either way).
    assert charged == 1.0 and _charged(recogniser, strokes)[(0, 1, 2)] == 0.0


def test_three_sure_digits_in_a_row_are_not_read_as_one(recogniser, monkeypatch):
    """6, 1 overlapping it by a tenth of the height, then a 4 (open corner, down stroke) just right of
    the 1: merged, the four strokes read as a 4. The rule cuts the candidate into sure runs, up to three
    or four of them (`RUN_PARTS`), to charge `RUN_COST`."""
    six, one = six_then_one(0.10)
    x = one[:, 0].max() + 2.0
    strokes = [six, one, np.array([[x + 50.0, 60.0], [x, 150.0], [x + 90.0, 150.0]]),
               np.array([[x + 65.0, 90.0], [x + 65.0, 210.0]])]
    got = recogniser.read_strokes(strokes).text
    charged = _charged(recogniser, strokes)[(0, 1, 2, 3)]
    monkeypatch.setattr(segment_ink, "RUN_PARTS", 2)
    two = recogniser.read_strokes(strokes).text
    print(f"\n6, 1, 4 in a row: {got!r}, looking for two runs only {two!r}")
    assert got == "614"
    # Charged as three sure runs (with the 0.1.0 weights no two of them were sure digits, so two runs
    # alone did not charge it; today's network reads "61" or "14" as sure too, so it need not).
    assert charged == 1.0


def _charged(recogniser, strokes) -> dict[tuple[int, ...], float]:
    """For each in-order candidate (its atoms), whether the writing-order rule charges it `RUN_COST`."""
    strokes = ink.as_strokes(strokes)
    H = segment_ink.reference_height(strokes)
    atoms = segment_ink.atoms_of(strokes, H)
    cands, boxes, _, probs = segment_ink.classified(atoms, H, recogniser.classify)
    runs = segment_ink._two_sure_runs(atoms, cands, probs, boxes)
    return {c.members: float(runs[k]) for k, c in enumerate(cands) if not c.late}


@pytest.mark.parametrize("gap", [-0.04, -0.10])
def test_2026_and_61_overlapping_by_up_to_a_tenth_of_the_height(recogniser, held_out, gap):
    """Each validation writer's first 2, 0, 2, 6 (and 6, 1) with every pair of boxes overlapping."""
    writers = bench.by_writer(held_out)
    got = {text: {w: recogniser.read_strokes(_number_from(samples, text, gap)).text
                  for w, samples in sorted(writers.items())} for text in ("2026", "61")}
    print(f"\noverlapping by {-gap:.0%} of the height, per validation writer: {got}")
    assert all(t == "2026" for t in got["2026"].values()), got
    assert sum(t == "61" for t in got["61"].values()) >= len(writers) - 1, got


def test_numbers_overlapping_by_five_to_ten_percent(recogniser, held_out, monkeypatch):
    """One-writer numbers of the validation writers 25-30 (held out of the choice of `RUN_COST`, made
    on writers 1-24) with boxes overlapping by 5-10% of the height: a floor that the segmentation
    without the writing-order rule fails."""
    cases = bench.compact_numbers(held_out, 150, 77, bench.GAP_BUCKETS["overlapping 5-10%"])
    new, misses = bench.score(recogniser.read_strokes, cases)
    monkeypatch.setattr(segment_ink, "RUN_COST", 0.0)
    old, _ = bench.score(recogniser.read_strokes, cases)
    print(f"\npen numbers overlapping 5-10% (n={new.n}): whole string right {new.string_rate:.4f} "
          f"(without RUN_COST {old.string_rate:.4f}), digit count right {new.count_rate:.4f}")
    assert old.string_rate < 0.89 <= new.string_rate, misses[:20]


@pytest.mark.parametrize("bucket, floor", [("touching", 0.88), ("overlapping", 0.85)])
def test_compact_one_writer_numbers(recogniser, held_out, bucket, floor):
    cases = bench.compact_numbers(held_out, 150, 77, bench.GAP_BUCKETS[bucket])
    new, misses = bench.score(recogniser.read_strokes, cases)
    old, _ = bench.score(recogniser.read_strokes_by_geometry, cases)
    print(f"\npen numbers, boxes {bucket} (n={new.n}): whole string right {new.string_rate:.4f} "
          f"(geometry alone: {old.string_rate:.4f}), digit count right {new.count_rate:.4f}")
    assert old.string_rate < floor  # the floor is one the earlier segmentation fails...
    assert new.string_rate >= floor, misses[:20]  # ...and this one passes


@pytest.mark.parametrize("way, rise", [("uphill", 1.0), ("downhill", -1.0)])
def test_numbers_written_on_a_slope_read_as_well_as_level_ones(recogniser, held_out, way, rise):
    """The generated numbers sit on a level line; a prior that leans on that (or on a 4's stem hanging
    below its bar, `HANG_FACTOR`) must not cost writing that climbs or falls."""
    cases = bench.compact_numbers(held_out, 150, 77, bench.GAP_BUCKETS["touching"])
    level, _ = bench.score(recogniser.read_strokes, cases)
    sloped, misses = bench.score(recogniser.read_strokes,
                                 [(bench.rising(d, rise * bench.RISE), text, d) for _, text, d in cases])
    print(f"\ntouching pen numbers, level {level.string_rate:.4f}, {way} {sloped.string_rate:.4f}")
    assert sloped.string_rate >= level.string_rate - 0.02, misses[:20]


def test_spaced_numbers_lose_nothing(recogniser, held_out):
    cases = bench.compact_numbers(held_out, 150, 78, bench.GAP_BUCKETS["spaced"])
    new, misses = bench.score(recogniser.read_strokes, cases)
    old, _ = bench.score(recogniser.read_strokes_by_geometry, cases)
    print(f"\npen numbers, spaced (n={new.n}): {new.string_rate:.4f} (geometry alone: {old.string_rate:.4f})")
    assert new.string_rate >= old.string_rate - 0.01, misses[:20]


def test_a_lone_digit_is_never_split(recogniser, held_out):
    """Every lone digit of the validation writers reads as one digit.

    Two 4s written as an L, then a stem hanging below its corner, read "61" without
    `HANG_FACTOR` (writer 30's) or without `LONE_BONUS` (writer 29's).
    """
    split = [(k, s.label) for k, s in enumerate(held_out)
             if len(recogniser.read_strokes(s.strokes).digits) != 1]
    print(f"\nlone pen digits read as more than one digit: {len(split)} of {len(held_out)} {split}")
    assert split == []


def test_a_four_written_as_an_l_and_a_hanging_stem_stays_whole(recogniser, pen_samples, monkeypatch):
    """Several writers draw 4 as an L, then a stem that starts beside the end of its bar and hangs below
    it; each part alone reads as a sure 1 or 6. `HANG_FACTOR`, `LONE_BONUS` and `TEE_BONUS` (the L's end
    meets the stem) keep them whole; without the last, twice as many or more are misread."""
    fours = [s for s in pen_samples if s.label == 4 and len(s.strokes) == 2]

    def misread() -> list[str]:
        return [t for s in fours if (t := recogniser.read_strokes(s.strokes).text) != "4"]

    tee = misread()
    monkeypatch.setattr(segment_ink, "TEE_BONUS", 0.0)
    without = misread()
    print(f"\nlone two-stroke pen 4s (all writers) misread: {len(tee)} of {len(fours)} {tee}; "
          f"without TEE_BONUS {len(without)}")
    assert len(tee) <= 0.03 * len(fours)
    assert 2 * len(tee) <= len(without)


def test_reading_carries_its_runner_up(recogniser, tmp_path):
    r = recogniser.read_strokes(joined_ten())
    assert r.alternative is not None and r.alternative.text != r.text
    assert r.score is not None and r.alternative.score <= r.score
    out = r.to_json()
    assert out["alternative"]["digits"] == r.alternative.text
    assert out["alternative"]["score"] <= out["score"]
    assert isinstance(out["close_call"], bool)
    assert all(0 <= i < len(r.digits) for i in out["alternative"]["doubtful"])
    # The same through `digitpad predict --json`.
    res = run_cli("predict", "--json", _save(tmp_path, "ten", joined_ten()))
    assert res.returncode == 0, res.stderr
    line = json.loads(res.stdout.splitlines()[0])
    assert line["digits"] == "10" and line["alternative"]["digits"] != "10"


def test_a_close_call_names_the_doubtful_digit(recogniser, held_out):
    """Some compact numbers are close calls; their alternative differs at the doubtful digits."""
    cases = bench.compact_numbers(held_out, 60, 79, (-0.05, 0.20))
    close = [r for r in (recogniser.read_strokes(c[0]) for c in cases) if r.close_call]
    assert close
    for r in close:
        assert r.alternative.doubtful
        if len(r.alternative.text) == len(r.text):
            assert all(r.alternative.text[i] != r.text[i] for i in r.alternative.doubtful)


def _forty_digit_row(held_out) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return bench.compact_number(bench.by_writer(held_out)[26], rng, 40, (-0.05, 0.2))


def test_forty_digits_and_a_scribble_finish(held_out, tmp_path):
    strokes, text, _ = _forty_digit_row(held_out)
    rng = np.random.default_rng(0)
    scribble = [np.cumsum(rng.normal(0, 15, size=(int(rng.integers(2, 30)), 2)), axis=0) + [280, 160]
                for _ in range(300)]
    row = _save(tmp_path, "row40", strokes)
    mess = _save(tmp_path, "scribble", scribble)
    res = run_cli("predict", row, mess, timeout=300)  # a hang fails here; no time is asserted
    assert res.returncode == 0, res.stderr
    lines = dict(line.split("\t")[:2] for line in res.stdout.splitlines())
    print(f"\n40 digits: {text}\n     read {lines[row]}\nscribble read as {len(lines[mess])} digits")
    assert len(lines[row]) == 40
    assert sum(a == b for a, b in zip(lines[row], text, strict=True)) >= 36
    assert lines[mess].isdigit()


def test_the_search_is_bounded(held_out):
    """Many atoms fall back to geometry; a long row keeps its search states bounded."""
    strokes, _, _ = _forty_digit_row(held_out)
    H = segment_ink.reference_height(ink.as_strokes(strokes))
    atoms = segment_ink.atoms_of(ink.as_strokes(strokes), H)
    cands = segment_ink.candidates(atoms, H)
    assert len(cands) <= 12 * len(atoms)


# --------------------------------------------------------------------------- images


@pytest.fixture(scope="module")
def usps():
    from conftest import USPS_FILE

    return bench.load_usps(USPS_FILE)


def test_touching_scanned_rows_are_read(recogniser, usps):
    X, y = usps
    cases = bench.usps_rows(X, y, 60, 91, gap=(0.0, 0.0))
    new, misses = bench.score(bench.read_grey(recogniser), cases)
    old, _ = bench.score(bench.read_grey_geometry(recogniser), cases)
    print(f"\nUSPS rows, ink boxes touching (n={new.n}): count {new.count_rate:.4f} "
          f"string {new.string_rate:.4f} (geometry alone: count {old.count_rate:.4f} "
          f"string {old.string_rate:.4f})")
    assert old.string_rate < 0.5
    assert new.string_rate >= 0.55 and new.count_rate >= 0.65, misses[:20]


def test_a_broken_five_stays_one_digit(recogniser):
    """A 5 whose top bar stands apart from its body is one digit, alone and between two others."""
    body = np.array([[120.0, 110.0], [116.0, 160.0], [150.0, 150.0], [172.0, 175.0], [170.0, 210.0],
                     [150.0, 232.0], [112.0, 228.0]])
    bar = np.array([[128.0, 92.0], [185.0, 92.0]])  # 18 px above the body: not touching
    one = np.array([[60.0, 90.0], [58.0, 232.0]])
    strokes = {"5": [body, bar], "151": [one, body, bar, one + [190.0, 0.0]]}
    for text, st in strokes.items():
        picture = ink.render_canvas(ink.Ink(st, 320, 300), pen_width=10)
        reading = recogniser.read_ink_map(1.0 - np.asarray(picture, dtype=np.float32) / 255.0)
        assert reading.text == text, (text, reading.text)
