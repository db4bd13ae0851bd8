"""Committees: every member is trained, saved, loaded and used; deskewing is the same in training and use."""

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import MNIST

from model.errors import WeightsError
from model.evaluate import report
from model.net.weights import is_weights_folder, load_weights
from model.recognise import Recogniser
from model.training_run import MemberSpec, TrainConfig, run_committee


@pytest.fixture(scope="module")
def committee(tmp_path_factory):
    out = tmp_path_factory.mktemp("c") / "weights"
    config = TrainConfig(hidden=[10], lam=1.0, max_iter=12, seed=2, data_dir=str(MNIST), limit=3000,
                         stages=2, augment=1, command="test")
    members = (MemberSpec((24,)), MemberSpec((16,), deskew=True))
    result = run_committee(replace(config, members=members), out)
    return out, result


def test_committee_folder_holds_every_member(committee):
    out, result = committee
    assert sorted(p.name for p in out.iterdir()) == ["member1", "member2", "model.json"]
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # staging cleaned up
    model = load_weights(out)
    assert is_weights_folder(out)
    assert [n.layout.sizes for n in model.networks] == [(784, 24, 10), (784, 16, 10)]
    assert [n.deskew for n in model.networks] == [False, True]
    assert model.meta["members"] == ["24", "16:deskew"] and not result.cancelled


def test_every_member_counts_and_figures_match_what_the_app_computes(committee, mnist_test):
    out, _ = committee
    model = load_weights(out)
    rec = Recogniser(model)
    X, y = mnist_test.X, mnist_test.y
    probs = rec.classify(X)
    singles = [Recogniser(n).classify(X) for n in model.networks]
    np.testing.assert_allclose(probs, np.mean(singles, axis=0), rtol=1e-9)
    for single in singles:  # dropping either member changes answers
        assert (single.argmax(1) != probs.argmax(1)).any()
    # model.json's accuracy is the committee's, computed as `digitpad evaluate` does
    assert model.meta["test_accuracy"] == report(y, probs.argmax(1))["accuracy"]
    # each member's own figure was measured on what that member sees (deskewed or not)
    for net, single in zip(model.networks, singles, strict=True):
        assert net.meta["test_accuracy"] == pytest.approx(float((single.argmax(1) == y).mean()), abs=1e-9)


def test_member_spec_parsing():
    assert MemberSpec.parse("800:deskew:pen6") == MemberSpec((800,), True, 6)
    assert MemberSpec.parse("300,100") == MemberSpec((300, 100))
    assert str(MemberSpec.parse("300,100:pen5")) == "300,100:pen5"
    for bad in ("800:tilt", "x", "800:pen0"):
        with pytest.raises(ValueError, match="--member"):
            MemberSpec.parse(bad)


def test_broken_committees_give_one_line(committee, tmp_path):
    out, _ = committee
    import shutil

    broken = tmp_path / "w"
    shutil.copytree(out, broken)
    shutil.rmtree(broken / "member2")
    with pytest.raises(WeightsError, match="member2: committee member folder not found"):
        load_weights(broken)
    meta = json.loads((broken / "model.json").read_text())
    meta["committee"] = ["../elsewhere"]
    (broken / "model.json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="must list member folder names"):
        load_weights(broken)
    (broken / "model.json").write_text("[" * 100_000)
    with pytest.raises(WeightsError, match="nested too deeply"):
        load_weights(broken)


def test_a_stopped_run_resumes_with_finished_members_and_retrains_changed_ones(committee, tmp_path):
    import shutil

    out, _ = committee
    staging = tmp_path / ".w.members"
    shutil.copytree(out / "member1", staging / "member1")
    config = TrainConfig(hidden=[10], lam=1.0, max_iter=12, seed=2, data_dir=str(MNIST), limit=3000,
                         stages=2, augment=1, command="test")
    members = (MemberSpec((24,)), MemberSpec((16,), deskew=True))
    lines: list[str] = []
    run_committee(replace(config, members=members), tmp_path / "w", log=lines.append)
    assert any("committee member 1: reusing" in line for line in lines)
    again = load_weights(tmp_path / "w")
    for a, b in zip(again.networks, load_weights(out).networks, strict=True):
        for ta, tb in zip(a.thetas, b.thetas, strict=True):  # the same bytes as a full run
            np.testing.assert_array_equal(ta, tb)
    # a member trained with other settings is not reused
    shutil.copytree(out / "member1", staging / "member1")
    lines.clear()
    run_committee(replace(config, seed=3, members=members[:1]), tmp_path / "w3", log=lines.append)
    assert not any("reusing" in line for line in lines)


def test_one_member_alone_trains_the_same_network_as_inside_a_committee(committee, tmp_path):
    """`--member 16:deskew` alone writes the Thetas that member has in the committee run, bit for bit
    (the shipped network was trained as member 2 of a committee; docs/measurements.md gives the
    single command)."""
    from model.training_run import train_model

    out, _ = committee
    config = TrainConfig(hidden=[10], lam=1.0, max_iter=12, seed=2, data_dir=str(MNIST), limit=3000,
                         stages=2, augment=1, command="test", members=(MemberSpec((16,), deskew=True),))
    alone = train_model(config, tmp_path / "alone")
    assert alone.meta["deskew"] is True and not alone.members
    for name in ("Theta1.txt", "Theta2.txt"):
        assert (tmp_path / "alone" / name).read_bytes() == (out / "member2" / name).read_bytes()


def test_average_stages_keeps_the_mean_of_the_last_stage_ends(tmp_path, mnist_test):
    """`--average-stages 2` writes each member as the mean of its weights after the last two stages
    (what `on_stage` saw), records it, measures the averaged weights, and is not mistaken for a
    finished member of a run without averaging."""
    config = TrainConfig(hidden=[10], lam=1.0, max_iter=12, seed=2, data_dir=str(MNIST), limit=3000,
                         stages=3, augment=1, average_stages=2, command="test",
                         members=(MemberSpec((12,)), MemberSpec((8,), deskew=True)))
    seen: dict[tuple[str, int], list[np.ndarray]] = {}
    result = run_committee(config, tmp_path / "w",
                           on_stage=lambda name, k, th: seen.__setitem__((name, k), [t.copy() for t in th]))
    assert sorted(seen) == [(m, k) for m in ("member1", "member2") for k in (1, 2, 3)]
    saved = load_weights(tmp_path / "w")
    assert saved.meta["average_stages"] == 2
    for name, net in zip(("member1", "member2"), saved.networks, strict=True):
        assert net.meta["average_stages"] == 2
        for i, theta in enumerate(net.thetas):
            mean = (seen[(name, 2)][i] + seen[(name, 3)][i]) / 2
            np.testing.assert_allclose(theta, mean, rtol=1e-6, atol=1e-7)
            assert not np.allclose(theta, seen[(name, 3)][i], rtol=1e-4, atol=1e-5)  # not the last stage's
    got = Recogniser(saved.networks[0]).classify(mnist_test.X).argmax(1) == mnist_test.y
    assert result.members[0][2]["test_accuracy"] == pytest.approx(float(got.mean()), abs=2e-4)  # the mean's
    # the same run without averaging does not reuse these members from the staging folder
    import shutil

    staging = tmp_path / ".w1.members"
    shutil.copytree(tmp_path / "w" / "member1", staging / "member1")
    lines: list[str] = []
    run_committee(replace(config, average_stages=1, members=config.members[:1] * 2), tmp_path / "w1",
                  log=lines.append)
    assert not any("reusing" in line for line in lines)


def test_copies_only_trains_each_stage_on_the_distorted_copies_alone(tmp_path):
    """`--copies-only`: every stage trains on its fresh distorted copies without the originals (half
    the rows with one copy), is recorded, changes the weights, and a finished member trained with
    the originals is not reused for it (nor the other way round)."""
    from model.training_run import _finished_member, run_training

    config = TrainConfig(hidden=[10], lam=1.0, max_iter=8, seed=2, data_dir=str(MNIST), limit=500,
                         stages=2, augment=1, command="test")
    logs: dict[bool, list[str]] = {True: [], False: []}
    runs = {only: run_training(replace(config, copies_only=only), tmp_path / f"w{only}",
                               log=logs[only].append) for only in (True, False)}
    assert [line for line in logs[True] if line.startswith("stage ")] == \
        ["stage 1/2: 4 iterations on 500 images", "stage 2/2: 4 iterations on 500 images"]
    assert "stage 1/2: 4 iterations on 1000 images" in logs[False]
    assert runs[True].meta["copies_only"] is True and runs[True].meta["training_images"] == 500
    assert "copies_only" not in runs[False].meta and runs[False].meta["training_images"] == 1000
    assert not np.allclose(runs[True].thetas[0], runs[False].thetas[0])
    for only in (True, False):
        assert _finished_member(tmp_path / f"w{only}", replace(config, copies_only=only)) is not None
        assert _finished_member(tmp_path / f"w{only}", replace(config, copies_only=not only)) is None
