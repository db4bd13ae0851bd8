"""Theta files: round trips, the classic two-file format, and every malformed case."""

import json

import numpy as np
import pytest

from model.errors import WeightsError
from model.net import mlp
from model.net.layout import Layout
from model.net.weights import load_weights, save_weights


def _thetas(layout, seed=0):
    return mlp.init_thetas(layout, np.random.default_rng(seed))


def test_save_load_round_trip(tmp_path):
    layout = Layout((784, 16, 12, 10))
    thetas = _thetas(layout)
    save_weights(tmp_path / "w", thetas, {"lambda": 0.5})
    m = load_weights(tmp_path / "w")
    assert m.layout == layout
    assert m.meta["lambda"] == 0.5 and m.meta["layer_sizes"] == [784, 16, 12, 10]
    for a, b in zip(thetas, m.thetas, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8)
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [
        "Theta1.txt", "Theta2.txt", "Theta3.txt", "model.json"]


def test_save_replaces_atomically_and_leaves_no_temp(tmp_path):
    out = tmp_path / "w"
    save_weights(out, _thetas(Layout((784, 5, 10)), 1))
    save_weights(out, _thetas(Layout((784, 7, 10)), 2))
    assert load_weights(out).layout.sizes == (784, 7, 10)
    assert [p.name for p in tmp_path.iterdir()] == ["w"]


def test_classic_two_file_pair_loads_without_model_json(tmp_path):
    """The classic recipe: Theta1 (100x785), Theta2 (10x101), bias column first, np.savetxt."""
    rng = np.random.default_rng(5)
    t1, t2 = rng.normal(size=(100, 785)), rng.normal(size=(10, 101))
    np.savetxt(tmp_path / "Theta1.txt", t1)
    np.savetxt(tmp_path / "Theta2.txt", t2)
    m = load_weights(tmp_path)
    assert m.layout.sizes == (784, 100, 10) and m.meta == {}
    X = rng.random((3, 784))
    expected = 1 / (1 + np.exp(-(np.c_[np.ones(3), 1 / (1 + np.exp(-(np.c_[np.ones(3), X] @ t1.T)))]
                                 @ t2.T)))
    np.testing.assert_allclose(mlp.predict_proba(m.thetas, X), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_theta2", "Theta2.txt: missing"),
        ("wrong_shapes", "expected 6 columns"),
        ("non_numeric", "not a numeric matrix"),
        ("nan", "NaN"),
        ("empty", "empty"),
        ("truncated", "Theta2.txt"),
        ("no_folder", "weights folder not found"),
        ("bad_json", "model.json: not valid JSON"),
        ("json_disagrees", "disagree"),
        ("not_784", "does not map 784"),
    ],
)
def test_malformed_weights_give_one_clear_line(tmp_path, case, message):
    folder = tmp_path / "w"
    save_weights(folder, _thetas(Layout((784, 5, 10))))
    t2 = folder / "Theta2.txt"
    if case == "missing_theta2":
        (folder / "Theta3.txt").write_text((folder / "Theta2.txt").read_text())
        t2.unlink()
    elif case == "wrong_shapes":
        np.savetxt(t2, np.zeros((10, 9)))
    elif case == "non_numeric":
        t2.write_text("1 2 3\nfoo bar baz\n")
    elif case == "nan":
        np.savetxt(t2, np.full((10, 6), np.nan))
    elif case == "empty":
        t2.write_text("")
    elif case == "truncated":
        t2.write_text(t2.read_text()[:40])
    elif case == "no_folder":
        folder = tmp_path / "nowhere"
    elif case == "bad_json":
        (folder / "model.json").write_text("{not json")
    elif case == "json_disagrees":
        (folder / "model.json").write_text(json.dumps({"layer_sizes": [784, 6, 10]}))
    elif case == "not_784":
        save_weights(folder, _thetas(Layout((100, 5, 10))))
    with pytest.raises(WeightsError) as err:
        load_weights(folder)
    text = str(err.value)
    assert message in text and "\n" not in text
    assert str(tmp_path) in text


def test_parsed_copy_is_reused_but_never_outlives_a_change(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "w"
    save_weights(folder, _thetas(Layout((784, 6, 10)), 1))
    first = load_weights(folder)
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 1
    again = load_weights(folder)
    for a, b in zip(first.thetas, again.thetas, strict=True):
        np.testing.assert_array_equal(a, b)
    (folder / "Theta2.txt").write_text("1 2 x\n")
    with pytest.raises(WeightsError, match="not a numeric matrix"):
        load_weights(folder)
