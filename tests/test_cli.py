"""The `digitpad` command end to end, as a user runs it (subprocess)."""

import json

import numpy as np
import pytest
import tomllib
from conftest import ROOT, WEIGHTS, run_cli
from PIL import Image


@pytest.fixture(scope="module")
def digit_pngs(tmp_path_factory, mnist_test):
    """A few MNIST test digits saved as PNG: white on black (as MNIST) and dark on light."""
    folder = tmp_path_factory.mktemp("pngs")
    paths = []
    for i in range(6):
        img = (mnist_test.X[i].reshape(28, 28) * 255).astype(np.uint8)
        if i % 2:
            img = 255 - img
        p = folder / f"digit{i}.png"
        Image.fromarray(img).resize((112, 112), Image.Resampling.BILINEAR).save(p)
        paths.append((p, int(mnist_test.y[i])))
    return paths


def test_version_matches_pyproject():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"digitpad {version}"


@pytest.mark.parametrize("sub", [[], ["train"], ["evaluate"], ["predict"], ["report"], ["download"]])
def test_help_everywhere(sub):
    r = run_cli(*sub, "--help")
    assert r.returncode == 0 and "usage: digitpad" in r.stdout


def test_evaluate_json_on_shipped_weights(shipped):
    r = run_cli("evaluate", "--json", "--weights", str(WEIGHTS))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert 0.98 <= report["accuracy"] <= 1.0
    assert len(report["per_class"]) == 10 and len(report["confusion"]) == 10
    assert sum(map(sum, report["confusion"])) == 10000
    assert report["layer_sizes"] == list(shipped.layout.sizes)


def test_evaluate_text_report():
    r = run_cli("evaluate", "--weights", str(WEIGHTS))
    assert r.returncode == 0 and "accuracy" in r.stdout and "confusion" in r.stdout


def test_predict_pngs_of_mnist_digits(digit_pngs):
    r = run_cli("predict", "--weights", str(WEIGHTS), *[str(p) for p, _ in digit_pngs])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == len(digit_pngs)
    for line, (path, label) in zip(lines, digit_pngs, strict=True):
        got_path, digit, conf = line.split("\t")
        assert got_path == str(path) and digit == str(label) and 0 < float(conf) <= 1


def test_predict_json_has_probabilities(digit_pngs):
    path, label = digit_pngs[0]
    r = run_cli("predict", "--json", "--weights", str(WEIGHTS), str(path))
    obj = json.loads(r.stdout)
    assert obj["digits"] == str(label)
    probs = obj["per_digit"][0]["probabilities"]
    assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-3 and np.argmax(probs) == label


def test_predict_errors_name_the_file_and_others_still_answered(tmp_path, digit_pngs):
    bad = tmp_path / "bad.png"
    bad.write_text("this is not a png")
    good, label = digit_pngs[0]
    missing = tmp_path / "missing.png"
    r = run_cli("predict", "--weights", str(WEIGHTS), str(bad), str(good), str(missing))
    assert r.returncode == 2
    assert r.stdout.strip() == f"{good}\t{label}\t" + r.stdout.strip().split("\t")[2]
    err = r.stderr.strip().splitlines()
    assert len(err) == 2 and str(bad) in err[0] and str(missing) in err[1]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("damage", ["missing", "garbage", "shape"])
def test_bad_weights_folder_exit_2(tmp_path, digit_pngs, damage):
    w = tmp_path / "w"
    w.mkdir()
    (w / "Theta1.txt").write_text((WEIGHTS / "member1" / "Theta1.txt").read_text())
    if damage == "garbage":
        (w / "Theta2.txt").write_text("1 2 x\n")
    elif damage == "shape":
        np.savetxt(w / "Theta2.txt", np.zeros((10, 3)))
    r = run_cli("predict", "--weights", str(w), str(digit_pngs[0][0]))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and str(w) in r.stderr


def test_corrupt_idx_exit_2(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 20)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01")
    r = run_cli("evaluate", "--weights", str(WEIGHTS), "--data", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "t10k-images-idx3-ubyte" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_train_cli_small_run_writes_weights(tmp_path):
    out = tmp_path / "w"
    r = run_cli("train", "--hidden-layers", "20,12", "--max-iter", "15", "--limit", "1000",
                "--lambda", "0.5", "--seed", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stdout and "iter" in r.stderr and "eta" in r.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["layer_sizes"] == [784, 20, 12, 10] and meta["iterations"] == 15
    assert meta["lambda"] == 0.5 and len(meta["data"]["mnist"]["sha256"]) == 4
    assert {"training_seconds", "train_accuracy", "test_accuracy", "date",
            "preprocessing_version", "command"} <= set(meta)
    r2 = run_cli("evaluate", "--json", "--weights", str(out))
    assert json.loads(r2.stdout)["accuracy"] == pytest.approx(meta["test_accuracy"])


def test_train_rejects_bad_hidden_layers():
    r = run_cli("train", "--hidden-layers", "300,abc")
    assert r.returncode == 2 and "300,abc" in r.stderr and "Traceback" not in r.stderr


def test_train_saves_every_stage_of_every_member(tmp_path):
    """--save-stages writes each member's weights after each stage (a real, tiny L-BFGS-B run):
    the last stage's are the member's shipped files byte for byte, and each folder loads with
    its member's preprocessing."""
    from model.net.weights import load_weights

    stages, out = tmp_path / "stages", tmp_path / "w"
    r = run_cli("train", "--limit", "300", "--max-iter", "6", "--stages", "2", "--seed", "3",
                "--member", "20", "--member", "20:deskew", "--save-stages", str(stages), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in stages.iterdir()) == [
        "member1-stage1", "member1-stage2", "member2-stage1", "member2-stage2"]
    for m, deskewed in (("member1", False), ("member2", True)):
        first, last = load_weights(stages / f"{m}-stage1"), load_weights(stages / f"{m}-stage2")
        assert first.deskew == last.deskew == deskewed and last.meta["stage"] == 2
        assert not np.array_equal(first.thetas[0], last.thetas[0])
        for name in ("Theta1.txt", "Theta2.txt"):
            assert (stages / f"{m}-stage2" / name).read_bytes() == (out / m / name).read_bytes()


def test_train_save_stages_into_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("train", "--limit", "100", "--max-iter", "2", "--save-stages", str(blocker / "sub"),
                "--out", str(tmp_path / "w"))
    assert r.returncode == 2 and str(blocker / "sub") in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "w").exists()


@pytest.mark.parametrize("k", ["0", "3"])
def test_train_rejects_average_stages_outside_the_stages(k):
    r = run_cli("train", "--stages", "2", "--average-stages", k)
    assert r.returncode == 2 and "--average-stages" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("f", ["-0.1", "1.5"])
def test_train_rejects_a_hard_fraction_outside_0_to_1(f):
    r = run_cli("train", "--hard", f, "--max-iter", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"digitpad: error: --hard {float(f):g}: expected a fraction from 0 to 1"]


def test_train_copies_only_needs_augment():
    r = run_cli("train", "--copies-only", "--max-iter", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "--copies-only" in r.stderr and "--augment" in r.stderr


def test_train_unknown_recipe_is_one_line():
    r = run_cli("train", "--recipe", "fastest", "--max-iter", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "digitpad: error: --recipe 'fastest': no such recipe; expected one of quick, standard, full"]


def test_train_standard_recipe_small_slice_records_the_recipe(tmp_path):
    """`--recipe standard` runs the dialog's Standard settings (`app.recipes.recipe`) with the options
    given put over them, and model.json names the recipe and records every setting as data."""
    from dataclasses import replace

    from app import recipes
    from model.train_settings import settings_json

    out = tmp_path / "w"
    r = run_cli("train", "--recipe", "standard", "--limit", "200", "--max-iter", "6", "--stages", "2",
                "--member", "16:deskew:pen1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "model.json").read_text())
    dialog = recipes.recipe("standard").config
    want = replace(dialog, limit=200, max_iter=6, stages=2, hidden=[16], deskew=True, pen_copies=1)
    assert meta["settings"] == {**settings_json(want), "data_dir": meta["settings"]["data_dir"]}
    assert meta["settings"]["recipe"] == "standard" and meta["settings"]["grow"] == dialog.grow > 0
    assert meta["command"].startswith("digitpad train --recipe standard --limit 200")
    assert meta["layer_sizes"] == [784, 16, 10] and meta["deskew"] and meta["lambda"] == dialog.lam
    assert meta["pen_copies"] == 1 and meta["iterations"] <= 6 and "pen_holdout_accuracy" in meta
