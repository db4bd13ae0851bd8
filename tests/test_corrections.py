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
    # the parts know where their rows are in the whole set (what the kept activations are looked up by)
    assert train.whole is rep and np.array_equal(rep.X[train.rows], train.X)
    spread = np.linspace(0, len(train) - 1, 100).round().astype(int)
    assert np.array_equal(train.take(100).rows, train.rows[spread])


def test_the_weights_come_first_are_applied_and_going_back_restores_the_folder(tmp_path, pen_samples,
                                                                              monkeypatch):
    """`run_adapt` hands over the adapted weights (check set measured, no estimate yet) before the
    complete outcome; `apply_adapted` saves them over the user's weights keeping the old folder
    aside, `go_back` puts it back byte for byte (or removes the adapted folder if there was none),
    and `update_saved_meta` adds the estimate to the saved model.json."""
    import json
    import shutil

    from app.adapting import BACKUP_NAME, apply_adapted, go_back, run_adapt, update_saved_meta
    from model.net.layout import Layout
    from model.net.mlp import init_thetas
    from model.net.weights import load_weights, save_committee
    from model.personal import adapt

    monkeypatch.setattr(adapt, "kept_dir", lambda: tmp_path / "kept")  # not the user cache
    rng = np.random.default_rng(2)
    base = load_weights(save_committee(tmp_path / "base", [
        ("a", init_thetas(Layout.with_hidden([12]), rng), {"deskew": True}),
        ("b", init_thetas(Layout.with_hidden([10]), rng), {}),
    ], {"lambda": 3.0, "training_images": 155_976}))
    store = SampleStore(tmp_path / "samples")
    from model.inputs.ink import Ink

    for r in range(2):
        for d in range(10):
            p = [p for p in pen_samples if p.writer == 27 and p.label == d][r]
            store.add(Ink([s.tolist() for s in p.strokes], 560, 320, 12), str(d))
    samples, _ = store.load()
    seen = []
    outcome = run_adapt(base, samples, measure_mnist=False, on_weights=seen.append,
                        progress=lambda p: seen.append(p.phase))
    early = next(o for o in seen if isinstance(o, AdaptOutcome))
    assert not early.complete and early.samples_after is None and early.check_after is not None
    assert all(isinstance(e, str) and e.startswith("estimate") for e in seen[seen.index(early) + 1:])
    assert outcome.complete and outcome.samples_after is not None and early.weights_seconds > 0
    assert outcome.result.run == early.result.run

    user = tmp_path / "home" / "weights"
    shutil.copytree(tmp_path / "base", user)  # the user's own weights, say retrained ones
    before = {p.relative_to(user): p.read_bytes() for p in user.rglob("*") if p.is_file()}
    apply_adapted(early, user)
    assert "adapted_from" in load_weights(user, use_cache=False).meta
    assert json.loads((user / "model.json").read_text())["adapt"]["samples_accuracy_after"] is None
    meta = json.loads(update_saved_meta(outcome, user).read_text())
    assert meta["adapt"]["samples_accuracy_after"] == outcome.samples_after
    assert meta["committee"] == ["a", "b"] and load_weights(user, use_cache=False).meta == meta
    assert go_back(user) is True
    assert {p.relative_to(user): p.read_bytes() for p in user.rglob("*") if p.is_file()} == before
    assert not (user.parent / BACKUP_NAME).exists()
    shutil.rmtree(user)  # the shipped weights in use: going back removes the adapted folder
    apply_adapted(outcome, user)
    assert go_back(user) is False and not user.exists()
