"""Retrain recipes: Full follows the shipped model.json, samples join a run, the comparison is fair."""

import json
import re

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE, WEIGHTS

from app import recipes
from model.inputs.ink import Ink
from model.personal.samples import SampleStore


def test_full_recipe_is_the_shipped_run():
    meta = json.loads((WEIGHTS / "model.json").read_text())
    r = recipes.full_recipe(meta)
    assert r.problem == "" and r.config is not None
    c = r.config
    if "members" in meta:  # a committee: each member's size and preprocessing, as the command gave them
        assert [str(m) for m in c.members] == meta["members"]
    else:
        assert [784, *c.hidden, 10] == meta["layer_sizes"]
    assert (c.lam, c.max_iter, c.seed) == (meta["lambda"], meta["max_iter"], meta["seed"])
    assert (c.stages, c.augment) == (meta["stages"], meta["augment"])
    assert c.pen == ("pendigits" in meta["data"])
    # The build machine's folders are not the user's: the dialog's MNIST folder and the default pen place.
    assert c.data_dir is None and c.pen_dir is None
    assert r.expected_seconds == meta["training_seconds"]
    assert meta["command"] in c.command


def test_full_recipe_reads_recorded_settings_not_the_command():
    """A model.json with "settings" is read from that data; the command is only for people."""
    from model.train_settings import MemberSpec, TrainConfig, settings_json

    ran = TrainConfig(members=(MemberSpec((40,), True, 2), MemberSpec((30,))), lam=2.0, max_iter=70,
                      stages=2, augment=1, pen=True, seed=5, grow=1, maxcor=7, recipe="standard",
                      data_dir="/build/mnist")
    meta = {"settings": settings_json(ran), "command": "digitpad train --recipe standard (edited by hand)",
            "training_seconds": 12.5}
    r = recipes.full_recipe(meta)
    assert r.problem == "" and r.config is not None
    c = r.config
    assert c.members == ran.members and (c.lam, c.max_iter, c.stages, c.augment, c.seed) == (2.0, 70, 2, 1, 5)
    assert (c.pen, c.grow, c.maxcor, c.recipe) == (True, 1, 7, "full") and c.data_dir is None
    assert r.expected_seconds == 12.5 and "edited by hand" in c.command


def test_settings_round_trip_and_bad_records_are_one_line():
    from model.train_settings import TrainConfig, config_from_settings, settings_json

    config = TrainConfig(hidden=[64, 32], limit=500, validation=100, copies_only=True, augment=2)
    again = config_from_settings(settings_json(config), "cmd")
    assert settings_json(again) == settings_json(config) and again.command == "cmd"
    assert config_from_settings({}).max_iter == TrainConfig().max_iter  # an older record: defaults
    for bad, word in (({"max_iter": "many"}, "max_iter"), ({"hidden": [0]}, "hidden"),
                      ({"pen": 1}, "pen"), ({"members": ["500:wobbly"]}, "500:wobbly"),
                      ({"average_stages": 3}, "--average-stages"), ([], "not a JSON object")):
        with pytest.raises(ValueError, match=word) as info:
            config_from_settings(bad)
        assert "\n" not in str(info.value)


def test_recipes_by_name():
    for name in recipes.NAMES:
        r = recipes.recipe(name)
        assert r.key == name and r.config is not None and r.config.recipe == name, r.problem
    with pytest.raises(ValueError, match="no such recipe; expected one of quick, standard, full"):
        recipes.recipe("fast")


@pytest.mark.parametrize("meta, message", [
    ({}, "records no training command"),
    ({"settings": {"hidden": "300"}}, "hidden layers"),
    ({"command": "digitpad evaluate"}, "not 'digitpad train'"),
    ({"command": "digitpad train --hidden many"}, "does not parse"),
    ({"command": "digitpad train --hidden-layers 0"}, "hidden"),
    ({"command": "digitpad train --pen 'unclosed"}, "cannot split"),
])
def test_full_recipe_unavailable_says_why(meta, message):
    r = recipes.full_recipe(meta)
    assert r.config is None and message in r.problem and "\n" not in r.problem


@pytest.fixture
def store(tmp_path, pen_samples):
    """Two rounds of every digit by pen writer 25, stored as the user's samples."""
    s = SampleStore(tmp_path / "samples")
    for d in range(10):
        for p in [p for p in pen_samples if p.writer == 25 and p.label == d][:2]:
            s.add(Ink(strokes=[st.tolist() for st in p.strokes], width=560, height=320, pen_width=12), str(d))
    return s


def test_samples_join_a_run_and_the_comparison_reads_both(store, shipped, tmp_path):
    from model.training_run import TrainConfig, run_training

    samples, warnings = store.load()
    assert len(samples) == 20 and not warnings
    X, y = recipes.sample_rows(samples, copies=3)
    assert X.shape == (80, 784) and np.bincount(y).tolist() == [8] * 10
    assert not np.array_equal(X[:20], X[20:40])  # the copies are distorted, not repeated
    config = TrainConfig(hidden=[20], lam=1.0, max_iter=5, limit=500, data_dir=str(MNIST))
    result = run_training(config, None, extra=(X, y, "user_samples"))
    assert result.meta["data"]["user_samples"] == {"rows": 80}
    assert result.meta["training_images"] == 580

    missing = []
    sets = recipes.evaluation_sets(str(MNIST), samples, None, missing)
    assert [s.name for s in sets] == ["MNIST test", "pen writers 25–30", "your samples"] and not missing
    table = recipes.compare(shipped, recipes.model_of(result), sets, True)
    mnist, pen, mine = table.rows
    assert abs(mnist.current - shipped.meta["test_accuracy"]) < 0.003  # the shipped model, read the same way
    assert mnist.new < mnist.current  # 5 iterations on 580 images cannot match it
    assert pen.n == sum(1 for _ in sets[1].y) and pen.current > 0.95
    assert mine.n == 20 and mine.note == "trained on them"


def test_no_pen_file_is_a_note_not_a_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_PEN_DATA", str(tmp_path / "nowhere"))
    missing = []
    sets = recipes.evaluation_sets(str(MNIST), [], None, missing)
    assert [s.name for s in sets] == ["MNIST test"]
    assert len(missing) == 1 and "pendigits file not found" in missing[0]
    assert PEN_FILE.is_file()


def test_quick_is_a_fine_tune_of_the_shipped_weights():
    meta = json.loads((WEIGHTS / "model.json").read_text())
    r = recipes.recipe("quick")
    c = r.config
    assert r.problem == "" and c.init == str(WEIGHTS) and c.max_iter == recipes.QUICK_ITERATIONS
    assert [str(m) for m in c.members] == meta.get("members", [str(m) for m in c.members])
    assert (c.lam, c.pen, c.stages, c.grow) == (meta["lambda"], True, 1, 0) and "fine-tune" in r.summary


def _theta_bytes(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("Theta*.txt"))}


def test_fine_tune_starts_from_the_given_weights_same_bytes(tmp_path):
    """`init`: a committee's members start from their own trained weights (a lower first cost than
    from random weights), the same settings give the same bytes, and weights of another shape are
    one clear line."""
    from model.errors import DigitpadError
    from model.train_settings import MemberSpec, TrainConfig
    from model.training_run import train_model

    base = TrainConfig(members=(MemberSpec((16,)), MemberSpec((12,), True)), max_iter=6, limit=300,
                       data_dir=str(MNIST))
    first = train_model(base, tmp_path / "first")
    tuned = TrainConfig(**{**vars(base), "init": str(tmp_path / "first"), "max_iter": 3, "augment": 1})
    a = train_model(tuned, tmp_path / "a")
    train_model(tuned, tmp_path / "b")
    assert _theta_bytes(tmp_path / "a") == _theta_bytes(tmp_path / "b")
    for (_, _, fresh), (_, _, warm) in zip(first.members, a.members, strict=True):
        assert warm["history"]["cost"][0] < fresh["history"]["cost"][0]
        assert warm["data"]["init"] == {"folder": str(tmp_path / "first")}
    assert a.meta["settings"]["init"] == str(tmp_path / "first")
    wrong = TrainConfig(hidden=[16], init=str(tmp_path / "first"), max_iter=2, limit=300, data_dir=str(MNIST))
    with pytest.raises(DigitpadError, match="cannot start from them") as info:
        train_model(wrong, None)
    assert str(tmp_path / "first") in str(info.value) and "\n" not in str(info.value)


def test_hard_example_stages_same_seed_same_bytes(tmp_path):
    """Hard-example stages (`--hard`) through the run, real L-BFGS-B on a small slice: the later stage
    trains on fewer rows than the first (its log says so), the same seed writes the same bytes, another
    seed other ones, and model.json records the setting."""
    import json
    from dataclasses import replace

    from model.training_run import train_model

    config = replace(recipes.recipe("standard").config, hidden=[12], pen=False, deskew=False, limit=600,
                     max_iter=40, stages=2, grow=0, augment=1, hard=0.3, data_dir=str(MNIST))
    logs: dict[str, list[str]] = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        logs[name] = []
        train_model(replace(config, seed=seed), tmp_path / name, log=logs[name].append)
    assert _theta_bytes(tmp_path / "a") == _theta_bytes(tmp_path / "b")
    assert _theta_bytes(tmp_path / "a") != _theta_bytes(tmp_path / "c")
    hard = [s for s in logs["a"] if "the hard ones" in s]  # one line for the hard stage, not two
    assert len(hard) == 1 and hard[0].startswith("stage 2/2: ")
    found = re.search(r"(\d+) iterations on (\d+) images of (\d+), the hard ones", hard[0])
    kept, total = int(found[2]), int(found[3])
    assert total == 1200 and 0 < kept < total
    meta = json.loads((tmp_path / "a" / "model.json").read_text())
    assert meta["settings"]["hard"] == 0.3


def test_growing_stages_same_seed_same_bytes(tmp_path):
    """The standard recipe's mechanisms (growing batch in distortion stages, maxcor) through the run:
    the same seed writes the same bytes, another seed other ones."""
    from dataclasses import replace

    from model.training_run import train_model

    config = replace(recipes.recipe("standard").config, hidden=[12], pen=False, deskew=False, limit=400,
                     max_iter=8, stages=2, grow=2, grow_stages=2, maxcor=5, data_dir=str(MNIST))
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        train_model(replace(config, seed=seed), tmp_path / name)
    assert _theta_bytes(tmp_path / "a") == _theta_bytes(tmp_path / "b")
    assert _theta_bytes(tmp_path / "a") != _theta_bytes(tmp_path / "c")


def test_bench_recipes_prints_rows_and_stage_figures():
    """benchmarks/bench_recipes.py at a tiny scale: one row per --try; with --stage-figures each network's
    figures after every stage, its last two stages averaged, and a committee of those means; without it,
    no stage lines (a run without the option once failed after training)."""
    import subprocess
    import sys

    from conftest import ROOT

    def bench(*extra: str) -> list[str]:
        r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_recipes.py"), "--no-shipped",
                            "--set", "hidden=12,limit=300,pen=false,max_iter=3,stages=2,grow=0", *extra],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    plain = bench("--try", "")
    assert [s.split()[0] for s in plain[2:]] == ["standard"] and plain[2].count("%") == 3
    staged = bench("--try", "members=8:deskew+12:deskew", "--stage-figures")
    labels = [s.split("  ")[1] if s.startswith("  ") else s.split()[0] for s in staged[2:]]
    members = [f"member{m} {what}" for m in (1, 2)
               for what in ("after stage 1", "after stage 2", "mean of stages 1-2")]
    assert labels == ["standard", *members, "committee of those means"]
    assert all(s.count("%") == 3 for s in staged[2:])
