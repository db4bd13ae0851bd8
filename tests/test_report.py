"""`digitpad report` end to end (subprocess), and the training history it draws.

The report runs on the shipped weights and real MNIST; its numbers are
checked against `digitpad evaluate --json` and against an independent
computation, never against hard-coded values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE, WEIGHTS, run_cli
from PIL import Image

from model.views.report import history_of

PNGS = ("units.png", "confusion.png", "misreads.png", "robustness.png")


def test_report_writes_every_file(shipped_report, shipped):
    out, rep = shipped_report
    history = history_of(shipped) is not None  # a committee: its last member's
    expected = {*PNGS, "report.json", "index.html"} | ({"training.png"} if history else set())
    assert {p.name for p in out.iterdir()} == expected
    assert set(rep["files"]) == expected
    page = (out / "index.html").read_text()
    for name in expected - {"index.html"}:
        assert f'"{name}"' in page, name
    assert page.count("<figcaption>") == len(expected) - 2


def test_report_pngs_are_readable_sizes(shipped_report):
    out, _ = shipped_report
    for name in PNGS:
        with Image.open(out / name) as img:
            assert img.format == "PNG"
            assert img.width >= 800 and img.height >= 600, (name, img.size)
            arr = np.asarray(img.convert("L"), dtype=np.float32)
        assert arr.std() > 10, f"{name} looks blank"


def test_report_accuracy_is_evaluates(shipped_report):
    _, rep = shipped_report
    r = run_cli("evaluate", "--json", "--weights", str(WEIGHTS))
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert rep["accuracy"] == ev["accuracy"]
    assert rep["per_class"] == ev["per_class"]
    assert rep["confusion"] == ev["confusion"]
    assert sum(map(sum, rep["confusion"])) == 10000
    assert rep["misread"] == 10000 - rep["correct"]


def test_report_robustness_curves(shipped_report, shipped, mnist_test):
    from model.recognise import Recogniser
    from model.views import robustness

    _, rep = shipped_report
    curves = rep["robustness"]
    names = {a["name"] for a in curves["axes"]}
    assert names == {"rotation", "scale", "shift", "thickness", "noise"}
    sets = list(curves["sets"])
    assert sets[0].startswith("MNIST test") and curves["sets"][sets[0]] == robustness.MNIST_SAMPLE
    if PEN_FILE.is_file():
        assert len(sets) == 2 and curves["sets"][sets[1]] == 1498
    # At the undistorted level every curve is the plain accuracy on its sample, computed here
    # independently; the strongest distortions cost accuracy.
    X, y = robustness.mnist_sample(mnist_test.X, mnist_test.y)
    plain = float(np.mean(Recogniser(shipped).classify(X).argmax(axis=1) == y))
    for axis in curves["axes"]:
        spec = next(a for a in robustness.AXES if a.name == axis["name"])
        assert axis["levels"] == list(spec.levels)
        acc = axis["accuracy"][sets[0]]
        assert len(acc) == len(spec.levels) and all(0 <= a <= 1 for a in acc)
        assert acc[spec.levels.index(spec.neutral)] == pytest.approx(plain)
        assert min(acc[0], acc[-1]) < plain


def test_report_reuses_the_cache(shipped_report, tmp_path):
    """A second report on the same weights reads the cached curves and writes the same numbers."""
    first, rep = shipped_report
    cache = first.parent / "cache"  # the user cache the first report filled
    assert any(cache.rglob("*.json")) and any(cache.rglob("*.npy"))
    out = tmp_path / "again"
    r = run_cli("report", "--weights", str(WEIGHTS), "--out", str(out), env={"XDG_CACHE_HOME": str(cache)})
    assert r.returncode == 0, r.stderr
    again = json.loads((out / "report.json").read_text())
    assert again["robustness"] == rep["robustness"] and again["confusion"] == rep["confusion"]


@pytest.mark.parametrize("case", ["no-weights", "bad-theta", "no-data", "out-is-a-file"])
def test_report_bad_input_one_line(tmp_path, case):
    args = ["report", "--out", str(tmp_path / "out")]
    if case == "no-weights":
        args += ["--weights", str(tmp_path / "missing")]
        named = str(tmp_path / "missing")
    elif case == "bad-theta":
        folder = tmp_path / "bad"
        folder.mkdir()
        (folder / "Theta1.txt").write_text("1 2 three\n")
        args += ["--weights", str(folder)]
        named = str(folder / "Theta1.txt")
    elif case == "no-data":
        args += ["--weights", str(WEIGHTS), "--data", str(tmp_path / "no-mnist")]
        named = str(tmp_path / "no-mnist")
    else:
        (tmp_path / "file").write_text("x")
        args = ["report", "--weights", str(WEIGHTS), "--out", str(tmp_path / "file")]
        named = str(tmp_path / "file")
    r = run_cli(*args, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("digitpad: error:")]
    assert len(errors) == 1 and named in errors[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_short_training_records_history_and_report_draws_it(tmp_path):
    weights = tmp_path / "weights"
    r = run_cli("train", "--limit", "2000", "--max-iter", "5", "--hidden", "25", "--out", str(weights))
    assert r.returncode == 0, r.stderr
    meta = json.loads((weights / "model.json").read_text())
    history = meta["history"]
    assert len(history["cost"]) == meta["iterations"] == 5
    assert all(a >= b for a, b in zip(history["cost"], history["cost"][1:], strict=False))
    assert history["cost"][-1] == pytest.approx(meta_cost(weights, 2000, meta["lambda"]), rel=1e-3)
    [stage] = history["stages"]
    assert stage["iteration"] == 5 and stage["test_accuracy"] == meta["test_accuracy"]

    out = tmp_path / "report"
    r = run_cli("report", "--weights", str(weights), "--out", str(out),
                env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert "training.png" in json.loads((out / "report.json").read_text())["files"]
    with Image.open(out / "training.png") as img:
        assert img.width >= 800 and img.height >= 600
        arr = np.asarray(img.convert("RGB"), dtype=np.int16)
    # The cost line is drawn in the first series colour.
    from model.views.charts import PALETTE

    assert np.all(arr == PALETTE[0], axis=-1).sum() > 200


def meta_cost(weights: Path, limit: int, lam: float) -> float:
    """The regularised cost of the saved weights on the first `limit` MNIST training images."""
    from model.datasets.mnist import load_mnist
    from model.net import mlp
    from model.net.weights import load_weights

    train = load_mnist("train", MNIST)
    thetas = load_weights(weights, use_cache=False).thetas
    X = train.X[:limit].astype(np.float64)
    cost, _ = mlp.cost_and_grad(thetas, X, mlp.one_hot(train.y[:limit], dtype=np.float64), lam)
    return float(cost)
