"""Splitting ink into digits: real pen digits composed into numbers, multi-stroke digits, touching digits.

The numbers are built from the UCI pendigits strokes of writers 25-30 (held
out of the shipped model's training) by `benchmarks/bench_numbers.py`: 2-6
digits side by side with gaps of 10-50% of a digit's height, every third
number with digits rescaled to different heights. They go through
`Recogniser.read_strokes`, the pad's own path.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import bench_numbers

from model.inputs import ink
from model.numbers import segment

bench = bench_numbers()

N_NUMBERS = 300
SEED = 2026


@pytest.fixture(scope="module")
def numbers(held_out):
    return bench.pen_numbers(held_out, N_NUMBERS, SEED)


@pytest.fixture(scope="module")
def numbers_score(recogniser, numbers):
    score, misses = bench.score(recogniser.read_strokes, numbers)
    return score, misses


def test_composed_numbers_have_the_right_digit_count(numbers_score):
    score, misses = numbers_score
    print(f"\npen numbers (writers 25-30, n={score.n}): digit count right {score.count_rate:.4f}, "
          f"whole string right {score.string_rate:.4f}")
    assert score.n == N_NUMBERS
    assert score.count_rate >= 0.97, [m for m in misses if len(m[0]) != len(m[1])][:20]


def test_composed_numbers_are_read_whole(recogniser, numbers, numbers_score, shipped):
    score, misses = numbers_score
    perfect = bench.oracle_strings(recogniser, numbers)
    print(f"\npen numbers: whole string right {score.string_rate:.4f} "
          f"(with a perfect split: {perfect:.4f})")
    # Splitting loses (almost) nothing against reading each true digit on its own...
    assert score.string_rate >= perfect - 0.02, misses[:20]
    # ...and with a pen-trained model the whole string is right in at least 85% of numbers.
    if score.string_rate < 0.85 and "pen_holdout_accuracy" not in shipped.meta:
        pytest.xfail(f"shipped weights are MNIST-only (no pen training): string accuracy "
                     f"{score.string_rate:.3f} is capped by per-digit pen accuracy")
    assert score.string_rate >= 0.85, misses[:20]


def test_digits_of_different_heights_are_counted(recogniser, held_out):
    cases = bench.pen_numbers(held_out, 100, SEED + 1, vary_every=1)
    score, misses = bench.score(recogniser.read_strokes, cases)
    print(f"\npen numbers, mixed heights (n={score.n}): count {score.count_rate:.4f}, "
          f"string {score.string_rate:.4f}")
    assert score.count_rate >= 0.97, misses[:20]


def test_multi_stroke_digits_stay_whole(pen_samples):
    """A 4, a 5 or a crossed 7 drawn in two or three strokes is one digit."""
    multi = [s for s in pen_samples if len(s.strokes) > 1 and s.label in (4, 5, 7)]
    assert len(multi) > 1000
    whole = np.mean([len(segment.split_strokes(s.strokes)) == 1 for s in multi])
    print(f"\nmulti-stroke 4/5/7 kept whole: {whole:.4f} of {len(multi)}")
    assert whole >= 0.97
    every = np.mean([len(segment.split_strokes(s.strokes)) == 1 for s in pen_samples[::4]])
    assert every >= 0.99


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float, n: int = 48) -> np.ndarray:
    t = np.linspace(start, start + 2 * np.pi, n)
    return np.column_stack((cx + rx * np.cos(t), cy + ry * np.sin(t)))


def _joined_ten() -> list[np.ndarray]:
    """A "1" and a "0" written in one stroke: down the 1, along the baseline, round the 0."""
    one = np.array([[118.0, 60.0], [110.0, 200.0]])
    ligature = np.array([[160.0, 201.0], [240.0, 200.0]])
    zero = _ellipse(250.0, 130.0, 50.0, 70.0, np.pi / 2)  # starts at the bottom of the 0
    return [np.vstack([one, ligature, zero])]


def test_touching_digits_in_one_stroke_are_cut(recogniser, tmp_path):
    path = tmp_path / "ten.json"
    path.write_text(json.dumps({"width": 560, "height": 320,
                                "strokes": [s.tolist() for s in _joined_ten()]}))
    reading = recogniser.read_path(path)
    print(f"\njoined 10 read as {reading.text!r} "
          f"({', '.join(f'{d.confidence:.2f}' for d in reading.digits)})")
    assert len(reading.digits) == 2
    assert reading.text == "10"
    # The two boxes do not overlap and the joining line was left out of both.
    (a, b) = (d.box for d in reading.digits)
    assert a[2] < b[0]
    assert a[2] - a[0] < 40


def test_touching_digits_in_an_image_are_cut(recogniser):
    picture = ink.render_canvas(ink.Ink(_joined_ten(), 400, 260), pen_width=10)
    reading = recogniser.read_ink_map(1.0 - np.asarray(picture, dtype=np.float32) / 255.0)
    assert reading.text == "10"


def test_a_lone_wide_digit_is_not_cut(recogniser):
    """A round 0 drawn a little wide stays one digit (only a single thin joining line is cut)."""
    zero = [_ellipse(200.0, 130.0, 80.0, 60.0, np.pi / 2)]
    assert len(segment.split_strokes(zero)) == 1
    assert recogniser.read_strokes(zero).text == "0"


def test_groups_come_left_to_right_whatever_the_drawing_order(pen_samples):
    a, b, c = pen_samples[0], pen_samples[1], pen_samples[2]
    shifted = [[st + np.array([k * 90.0, 0.0]) for st in s.strokes] for k, s in enumerate((a, b, c))]
    drawn = shifted[2] + shifted[0] + shifted[1]  # right digit first
    groups = segment.split_strokes(drawn)
    assert len(groups) == 3
    xs = [np.concatenate(g)[:, 0].mean() for g in groups]
    assert xs == sorted(xs)


def test_stray_dots_flat_marks_and_empty_input():
    assert segment.split_strokes([]) == []
    assert segment.split_strokes([np.zeros((0, 2))]) == []
    one = np.array([[100.0, 50.0], [100.0, 200.0]])
    dot = np.array([[200.0, 240.0]])
    assert len(segment.split_strokes([one, dot])) == 1
    assert len(segment.split_strokes([dot])) == 1  # a dot alone is still something to read
    assert len(segment.split_strokes([dot, dot + 150.0])) == 2  # never nothing out of something
    dash = np.array([[10.0, 100.0], [500.0, 100.0]])
    wave = np.column_stack([np.linspace(0, 500, 400), 100 + 20 * np.sin(np.linspace(0, 30, 400))])
    assert len(segment.split_strokes([dash])) == 1 and len(segment.split_strokes([wave])) == 1


def test_an_upright_stroke_within_another_overlaps_it_fully():
    """A stroke with no width (drawn perfectly upright) inside another's columns overlaps it as any
    narrow stroke does; only outside them is it a gap. (It once counted as 0 / 0 = no overlap, so
    the down stroke of a hand-made 4 cost as much to join as a stroke beside it.)"""
    corner = np.array([100.0, 60.0, 190.0, 150.0])
    assert segment._overlap_fraction(corner, np.array([165.0, 90.0, 165.0, 210.0])) == 1.0
    assert segment._overlap_fraction(corner, np.array([165.0, 90.0, 165.5, 210.0])) == 1.0
    assert segment._overlap_fraction(corner, np.array([200.0, 90.0, 200.0, 210.0])) < -1.0
