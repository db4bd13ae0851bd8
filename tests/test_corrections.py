"""Corrections on the pad (strokes of a digit, overrides, samples) and the learn-or-keep rule."""

import numpy as np
import pytest
from conftest import WEIGHTS

from app.adapting import AdaptOutcome, split_replay
from app.corrections import Corrector, strokes_in_box
from model.personal.samples import SampleStore


def test_strokes_in_box_picks_the_digit_strokes():
    one = [(10, 10), (10, 50)]
    seven_top, seven_leg = [(100, 10), (140, 10)], [(140, 10), (110, 60)]
    strokes = [one, seven_top, seven_leg]
    assert strokes_in_box(strokes, (10, 10, 10, 50)) == (0,)
    assert strokes_in_box(strokes, (100, 10, 140, 60)) == (1, 2)
    # A stroke cut by the segmenter fits no box whole: its centre decides.
    assert strokes_in_box([[(0, 0), (200, 0)]], (90, -5, 110, 5)) == (0,)


@pytest.fixture
def reader():
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    return Recogniser(load_weights(WEIGHTS))


def test_correct_overrides_and_stores_then_relabels(tmp_path, reader, pen_samples):
    a = next(p for p in pen_samples if p.label == 3)
    b = next(p for p in pen_samples if p.label == 5)
    strokes = [s.tolist() for s in a.strokes] + [(s + [250, 0]).tolist() for s in b.strokes]
    reading = reader.read_strokes(strokes)
    assert reading.text == "35"
    c = Corrector(lambda: tmp_path / "samples")
    sample, changed = c.correct(strokes, reading, 1, 6, version=1, size=(900, 320), pen_width=12)
    assert changed and sample.label == "6" and sample.source == "correction"
    assert len(sample.ink.strokes) == len(b.strokes)
    shown = c.apply(reader.read_strokes(strokes), strokes, version=1)
    assert shown.text == "36" and shown.digits[1].confidence == 1.0 and not shown.unsure
    # The same again: nothing new; another digit: the same file relabelled, not a second one.
    assert c.correct(strokes, shown, 1, 6, 1, (900, 320), 12)[1] is False
    again, changed = c.correct(strokes, shown, 1, 8, 1, (900, 320), 12)
    assert not changed and again.path == sample.path
    samples, _ = SampleStore(tmp_path / "samples").load()
    assert [s.label for s in samples] == ["8"]
    # Writing more keeps the override; removing strokes (a new version) drops it.
    more = strokes + [[(700.0, 100.0), (700.0, 200.0)]]
    assert c.apply(reader.read_strokes(more), more, version=1).text.startswith("38")
    assert c.apply(reader.read_strokes(strokes), strokes, version=2).text == "35"
    # A digit read right: kept as a confirmation, not counted as a correction.
    s2, changed = c.correct(strokes, reading, 0, 3, 2, (900, 320), 12)
    assert not changed and s2.source == "confirmed"


def _outcome(**kw):
    base = dict(base=None, meta={}, result=None, n_samples=3, samples_before=0.0, samples_after=0.0,
                check_before=1.0, check_after=0.995, mnist_before=None, mnist_after=None, samples_fit=1.0)
    base.update(kw)
    return AdaptOutcome(**base)


@pytest.mark.parametrize("kw, switch", [
    ({}, True),  # learned, estimate no worse, check within 1 point
    ({"samples_fit": 0.0}, False),  # learned nothing
    ({"samples_before": 0.5, "samples_after": 0.4}, False),  # held-out estimate got worse
    ({"check_after": 0.985}, False),  # cost other digits 1.5 points
    ({"cancelled": True}, False),
    ({"samples_after": None}, True),  # too few samples to hold any out: the other checks decide
])
def test_learn_or_keep_rule(kw, switch):
    assert _outcome(**kw).improves() is switch


def test_check_rows_are_kept_out_of_the_replay():
    from model.datasets.replay import Replay

    X = np.zeros((4000, 784), np.float32)
    X[:, 0] = np.arange(4000)  # every row unique
    rep = Replay(X=X, y=np.arange(4000) % 10, source=np.zeros(4000, np.int64))
    train, Xc, yc = split_replay(rep, 300)
    assert len(train) + len(yc) == 4000 and len(yc) == 308  # every 13th row
    assert not set(train.X[:, 0].tolist()) & set(Xc[:, 0].tolist())
    assert np.bincount(yc, minlength=10).min() >= 30  # every digit checked
