"""Adapting to a writer (model/personal/adapt.py, digitpad adapt): real L-BFGS-B, real pen digits, real MNIST.

The writer is pen validation writer 28 (never in the shipped model's
training), the one the shipped weights read worst: 94% of their other digits.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from model.datasets import pendigits
from model.datasets.replay import Replay, load_replay, replay_path
from model.inputs.ink import Ink
from model.personal import adapt
from model.personal.samples import SampleStore
from tests.conftest import MNIST, ROOT, WEIGHTS, run_cli

WRITER = 28
K = 5
SHIPPED_MISSES = 0.965
"""Floor on the writer's other digits: the shipped committee reads 95.0% of them, adapted 98.0%."""
MNIST_FLOOR = 0.988
"""MNIST test after adapting to this writer: issue 11's floor (shipped: 99.20%; adapted: 98.95% in
bench_adapt, where the full-layer recipe gave 98.52%)."""


@pytest.fixture(autouse=True)
def _own_kept_dir(tmp_path, monkeypatch):
    """Kept activations made in this process go to the test's folder, not the user cache (the CLI
    runs, subprocesses, use the user cache as `digitpad adapt` does)."""
    monkeypatch.setattr(adapt, "kept_dir", lambda: tmp_path / "kept")


def first_k(samples, k):
    seen: dict[int, int] = {}
    taught, rest = [], []
    for s in samples:
        (taught if seen.get(s.label, 0) < k else rest).append(s)
        seen[s.label] = seen.get(s.label, 0) + 1
    return taught, rest


@pytest.fixture(scope="module")
def writer(pen_samples, tmp_path_factory):
    """(folder of the writer's first K labelled samples of each digit, the other samples)."""
    mine = [s for s in pen_samples if s.writer == WRITER]
    taught, rest = first_k(mine, K)
    folder = tmp_path_factory.mktemp("taught")
    store = SampleStore(folder)
    for s in taught:
        store.add(Ink(s.strokes, *pendigits.CANVAS, 12), str(s.label))
    return folder, rest


def _env(home):
    return {"DIGITPAD_HOME": str(home), "DIGITPAD_DATA": str(MNIST)}


def read_rest(weights_dir, rest) -> float:
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    rec = Recogniser(load_weights(weights_dir, use_cache=False))
    X, y = pendigits.render_samples(rest)
    return float(np.mean(rec.classify(X).argmax(axis=1) == y))


@pytest.mark.slow
def test_cli_adapt_learns_the_writer(writer, tmp_path, mnist_test, shipped):
    from model.datasets.mnist import sha256_of

    folder, rest = writer
    home = tmp_path / "home"
    r = run_cli("adapt", str(folder), env=_env(home), timeout=1800)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    out = home / "weights"  # the default --out: the user's weights, which become the active ones
    assert "your samples (3-fold estimate by round)" in r.stdout
    assert f"MNIST test: {100 * shipped.meta['test_accuracy']:.2f}% -> " in r.stdout
    assert f"weights written to {out} (now the active weights)" in r.stdout
    # The weights are written first, on a line of their own, and the estimates follow.
    lines = r.stdout.splitlines()
    ready = [i for i, line in enumerate(lines) if re.fullmatch(r"weights ready in \d+\.\d s", line)]
    assert len(ready) == 1, r.stdout
    order = [next(i for i, line in enumerate(lines) if line.startswith(start))
             for start in ("adapting ", "weights ready in", "weights written to", "your samples",
                           "MNIST test", "estimates in")]
    assert order == sorted(order), r.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in WEIGHTS.iterdir())  # same shape
    assert not [p for p in home.iterdir() if p.name.startswith(".")]  # no temporary folder left
    shipped_acc = read_rest(WEIGHTS, rest)
    adapted = read_rest(out, rest)
    assert shipped_acc < SHIPPED_MISSES <= adapted, (shipped_acc, adapted)
    from model.net.weights import load_weights

    m = load_weights(out, use_cache=False)
    assert [n.deskew for n in m.networks] == [n.deskew for n in shipped.networks]
    test_acc = float(np.mean(adapt.predict(m, mnist_test.X) == mnist_test.y))
    assert test_acc >= MNIST_FLOOR, test_acc
    meta = m.meta
    assert meta["test_accuracy"] == pytest.approx(test_acc, abs=1e-4)  # added once measured
    assert meta["adapt"]["n_samples"] == 10 * K and meta["adapt"]["samples_accuracy_after"] is not None
    assert meta["adapt"]["estimate"].startswith("3 folds by round")
    assert meta["committee"] == ["member1", "member2"]
    assert 0 < meta["adapt"]["seconds_to_weights"] <= meta["adapt"]["seconds"]
    sums = meta["adapted_from"]["theta_sha256"]
    assert sums and all(sums[rel] == sha256_of(WEIGHTS / rel) for rel in sums)
    assert set(sums) == {p.relative_to(WEIGHTS).as_posix() for p in WEIGHTS.rglob("Theta*.txt")}
    assert meta["replay"]["sha256"] == load_replay(replay_path(ROOT)).sha256
    assert meta["replay"]["provenance"]["rows"] == {"mnist": 3000, "pen": 1000}
    # The app starts on the adapted weights: they are the active ones for this data folder.
    probe = subprocess.run([sys.executable, "-c", "from app import paths; print(paths.active_weights_dir())"],
                           capture_output=True, text=True, cwd=ROOT, env={**os.environ, **_env(home)})
    assert probe.stdout.strip() == str(out)


def test_cli_interrupt_writes_nothing(writer, tmp_path):
    """Ctrl+C while adapting: exit 130, one line, the old weights folder byte for byte as it was.

    The user cache is empty (XDG_CACHE_HOME), so the replay's kept activations are being built
    (seconds) when the Ctrl+C comes: it lands before the weights are ready."""
    import shutil

    folder, _ = writer
    out = tmp_path / "out"
    shutil.copytree(WEIGHTS, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    env = {**os.environ, **_env(tmp_path / "home"), "PYTHONPATH": str(ROOT),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "app", "adapt", "--out", str(out), str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        line = proc.stdout.readline()  # "adapting ...": the work has started
        assert line.startswith("adapting "), line + proc.stderr.read()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "weights ready" not in stdout
    assert "adapting cancelled: no weights were written" in stderr
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") in (["home", "out"], ["out"])


def test_cli_interrupt_during_the_estimate_keeps_the_adapted_weights(writer, tmp_path):
    """Ctrl+C after "weights ready": the adapted weights stay written (and load), exit 130 with one
    line saying the estimate is missing, and their model.json says so too."""
    from model.net.weights import load_weights

    folder, _ = writer
    out = tmp_path / "out"
    env = {**os.environ, **_env(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app", "adapt", "--out", str(out), str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("weights written to"):
                break
        assert seen and seen[-1].startswith("weights written to"), "".join(seen) + proc.stderr.read()
        proc.send_signal(signal.SIGINT)  # the three estimate adaptations take seconds more
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(seen) + stdout + stderr
    assert "Traceback" not in stderr and "your samples" not in stdout
    assert f"estimate cancelled: the adapted weights are in {out}, without the estimate" in stderr
    m = load_weights(out, use_cache=False)
    assert [n.deskew for n in m.networks] == [True, True] and "adapted_from" in m.meta
    assert m.meta["adapt"]["estimate"] == "cancelled" and m.meta["adapt"]["samples_accuracy_after"] is None
    assert "test_accuracy" not in m.meta


def test_cli_bad_sample_files_one_line_each(tmp_path):
    one = Ink([np.array([[100.0, 40], [102, 180]])], 560, 320, 12).to_json()
    files = {
        "unlabelled.json": json.dumps(one),
        "mislabelled.json": json.dumps({**one, "label": "12"}),
        "corrupt.json": '{"strokes": [[[1, 2], ',
        "empty.json": "",
        "nested.json": "[" * 100_000 + "]" * 100_000,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    r = run_cli("adapt", *(str(tmp_path / n) for n in files), str(tmp_path / "missing.json"),
                env=_env(tmp_path / "home"), timeout=600)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == len(files) + 2  # one per file, one for the missing one, then "nothing to adapt"
    for name in [*files, "missing.json"]:
        assert sum(name in line for line in lines) == 1, (name, lines)
    assert 'label has 2 digits but the drawing has 1' in r.stderr
    assert lines[-1].startswith("digitpad: error: no usable labelled samples")
    assert not (tmp_path / "home" / "weights").exists()


def test_cli_no_samples_in_the_user_folder(tmp_path):
    r = run_cli("adapt", env=_env(tmp_path / "home"), timeout=600)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    where = tmp_path / "home" / "samples"
    assert r.stderr.strip() == f"digitpad: error: no usable labelled samples in {where}: nothing to adapt to"


def _small_replay(n: int = 200) -> Replay:
    full = load_replay(replay_path(ROOT))
    idx = np.r_[0:n // 2, len(full) - n // 2:len(full)]
    return Replay(full.X[idx], full.y[idx], full.source[idx], full.provenance, full.sha256, full.path)


def test_any_depth_and_a_committee_cancel_returns_the_given_weights():
    rng = np.random.default_rng(0)
    from model.net.layout import Layout
    from model.net.mlp import init_thetas

    deep = init_thetas(Layout.with_hidden([20, 12]), rng)
    shallow = init_thetas(Layout.with_hidden([16]), rng)
    replay = _small_replay()
    X, y = replay.X[:30], replay.y[:30]
    groups = np.arange(30) % 3
    res = adapt.adapt(deep, X, y, replay=replay, groups=groups, iters=3, copies=2)
    assert not res.cancelled and [t.shape for t in res.thetas] == [t.shape for t in deep]
    assert res.folds == 3 and sum(t for _, t in res.per_fold) == 30 and res.after is not None
    assert not all(np.array_equal(a, b) for a, b in zip(res.thetas, deep, strict=True))
    com = adapt.adapt([deep, shallow], X, y, replay=replay, iters=3, copies=1, estimate=False)
    assert len(com.thetas) == 2 and [t.shape for t in com.thetas[1]] == [t.shape for t in shallow]
    assert com.after is None and com.before is not None
    seen = []

    def stop_after_first() -> bool:
        return len(seen) > 0

    cancelled = adapt.adapt(deep, X, y, replay=replay, groups=groups, iters=50, copies=1,
                            progress=seen.append, should_stop=stop_after_first)
    assert cancelled.cancelled and cancelled.thetas is not deep
    assert all(a is b for a, b in zip(cancelled.thetas, deep, strict=True))
    assert seen and seen[0].total == 4 * 50


def test_lambda_matches_the_shipped_runs_ratio(shipped):
    for net in shipped.networks:  # each member is adapted with its own run's lambda/m
        lam = adapt.scaled_lambda(net.meta, 5050)
        assert lam / 5050 == pytest.approx(net.meta["lambda"] / net.meta["training_images"])
    assert adapt.scaled_lambda({}, 1000) == pytest.approx(1000 * 3.0 / 155_976)


def test_a_committee_with_a_deskewing_member_adapts_and_saves_in_its_own_shape(tmp_path):
    """Each member is adapted on the inputs it reads (deskewed or not) and saved back as a committee."""
    from model.net.layout import Layout
    from model.net.mlp import init_thetas
    from model.net.weights import load_weights, save_committee
    from model.recognise import Recogniser

    rng = np.random.default_rng(4)
    base_dir = save_committee(tmp_path / "base", [
        ("plain", init_thetas(Layout.with_hidden([14]), rng), {}),
        ("slanted", init_thetas(Layout.with_hidden([12]), rng), {"deskew": True}),
    ], {"lambda": 3.0, "training_images": 155_976})
    base = load_weights(base_dir)
    replay = _small_replay()
    X, y = replay.X[:30], replay.y[:30]
    res = adapt.adapt(base, X, y, replay=replay, iters=4, copies=1, estimate=False)
    assert [d for _, d in res.networks] == [False, True]
    meta = adapt.adapted_meta(base.meta, base.source, res, replay)
    out = adapt.save_adapted(tmp_path / "adapted", base, res, meta)
    got = load_weights(out)
    assert [n.source.name for n in got.networks] == ["plain", "slanted"]
    assert [n.deskew for n in got.networks] == [False, True]
    # what adapt measured with is what the app will compute from the saved files
    app_labels = Recogniser(got).classify(replay.X).argmax(1)
    np.testing.assert_array_equal(app_labels, adapt.predict(res.networks, replay.X))
    # the deskewing member is fine-tuned on deskewed rows, not on the raw ones
    slanted = base.networks[1].thetas
    on_deskewed = adapt.adapt_network(slanted, X, y, replay=replay, iters=2, copies=0, deskewed=True)
    on_raw = adapt.adapt_network(slanted, X, y, replay=replay, iters=2, copies=0, deskewed=False)
    assert not np.allclose(on_deskewed.thetas[-1], on_raw.thetas[-1])


def test_only_the_output_layer_is_tuned_unless_asked_and_replay_copies_are_distilled():
    """The default fine-tunes the last layer on the given hidden layers' outputs (they come back as
    given); layers="all" moves every layer. Each replay row gets `replay_copies` distorted copies,
    whose targets are the given network's outputs on them."""
    from model.net import mlp
    from model.net.layout import Layout

    rng = np.random.default_rng(5)
    deep = init = mlp.init_thetas(Layout.with_hidden([20, 12]), rng)
    replay = _small_replay(40)
    X, y = replay.X[:10], replay.y[:10]
    out = adapt.adapt_network(deep, X, y, replay=replay, iters=3, copies=1)
    assert adapt.LAYERS == "output"
    assert all(np.array_equal(a, b) for a, b in zip(out.thetas[:-1], init[:-1], strict=True))
    assert not np.allclose(out.thetas[-1], init[-1])
    every = adapt.adapt_network(deep, X, y, replay=replay, iters=3, copies=1, layers="all")
    assert not any(np.allclose(a, b) for a, b in zip(every.thetas, init, strict=True))
    with pytest.raises(ValueError, match="layers"):
        adapt.adapt_network(deep, X, y, replay=replay, iters=1, layers="hidden")

    Xt, Yt = adapt.training_set(X, y, replay, 2, np.random.default_rng(0), teacher=deep, replay_copies=3)
    assert len(Xt) == len(Yt) == 10 * 3 + 40 * 4
    copies = Xt[30 + 40:]
    assert not np.allclose(copies[:40], replay.X)  # distorted, not repeated
    np.testing.assert_allclose(Yt[30:], mlp.predict_proba(deep, Xt[30:]), atol=1e-6)
    _, labels = adapt.training_set(X, y, replay, 0, np.random.default_rng(0), replay_copies=1)
    np.testing.assert_array_equal(labels[10:].argmax(1), np.tile(replay.y, 2))


def test_a_slip_of_label_is_left_out_but_a_habit_is_learned(shipped, pen_samples):
    """Pen writer 30's file has a 2 labelled 3 (look at it: a plain 2): adapting on it taught the
    network to read that writer's other 2s as 3s. It is left out; writer 28's 9s that read as 7s
    (their habit: their other 9s look the same) are kept, and so is a made-up slip with too few
    other digits of its label to judge by."""
    from model.datasets import pendigits

    taught30, _ = first_k([s for s in pen_samples if s.writer == 30], K)
    X, y = pendigits.render_samples(taught30)
    slips = adapt.doubtful_labels(shipped, X, y)
    assert [(int(y[i]), int(adapt.predict(shipped, X[i:i + 1])[0])) for i in slips] == [(3, 2)]

    taught28, _ = first_k([s for s in pen_samples if s.writer == 28], K)
    X28, y28 = pendigits.render_samples(taught28)
    read = adapt.predict(shipped, X28)
    assert np.any((y28 == 9) & (read == 7))  # the habit is there ...
    assert len(adapt.doubtful_labels(shipped, X28, y28)) == 0  # ... and not doubted
    wrong = y28.copy()
    from model.net.ensemble import committee_proba

    sure = committee_proba([(n.thetas, n.deskew) for n in shipped.networks], X28).max(axis=1) > 0.95
    two = int(np.flatnonzero((y28 == 2) & (read == 2) & sure)[0])
    wrong[two] = 5  # a 2 saved as a 5
    assert adapt.doubtful_labels(shipped, X28, wrong).tolist() == [two]
    few = np.flatnonzero(y28 != 5)[: 2 * 10]  # no other 5 left: nothing to compare with
    few = np.append(few[few != two], two)
    assert len(adapt.doubtful_labels(shipped, X28[few], wrong[few])) == 0

    res = adapt.adapt(shipped, X, y.astype(np.int64), replay=None, iters=1, copies=0, estimate=False)
    assert [(lab, r) for _, lab, r in res.doubtful] == [(3, 2)] and res.n_samples == len(y) - 1


def test_kept_activations_give_the_same_weights_as_computing_them_afresh(shipped, pen_samples, tmp_path):
    """The replay rows' hidden activations (and their distorted copies') are computed once per set of
    hidden layers and kept, in memory and in a file. Adapting the shipped committee with them, read
    back from memory or from the file, gives exactly the weights (array_equal) that computing them
    afresh gives; a damaged file is built again. And they are what the hidden layers compute on
    those rows: the fine-tuning rows match the plain route (distort, deskew, forward everything)."""
    from app.adapting import split_replay
    from model.net import mlp

    taught, _ = first_k([s for s in pen_samples if s.writer == WRITER], 1)
    X, y = pendigits.render_samples(taught)
    part = split_replay(load_replay(replay_path(ROOT)))[0]  # the app's share: rows looked up by number
    kw = dict(replay=part, iters=8, copies=4, estimate=False, cache_dir=tmp_path)
    adapt._kept_memo.clear()
    fresh = adapt.adapt(shipped, X, y, reuse=False, **kw)
    assert fresh.kept == "built" and not list(tmp_path.iterdir())  # afresh: nothing kept
    built = adapt.adapt(shipped, X, y, **kw)
    files = sorted(tmp_path.glob("*.npy"))
    assert built.kept == "built" and len(files) == 2  # one per member
    adapt._kept_memo.clear()
    from_disk = adapt.adapt(shipped, X, y, **kw)
    in_memory = adapt.adapt(shipped, X, y, **kw)
    assert (from_disk.kept, in_memory.kept) == ("disk", "memory")
    files[0].write_bytes(b"not an array")
    adapt._kept_memo.clear()
    rebuilt = adapt.adapt(shipped, X, y, **kw)
    assert rebuilt.kept == "built" and np.load(files[0]).dtype == np.float32
    for res in (built, from_disk, in_memory, rebuilt):
        for (got, _), (want, _) in zip(res.networks, fresh.networks, strict=True):
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
    assert not np.allclose(fresh.networks[1][0][-1], shipped.networks[1].thetas[-1])  # it did adapt

    net = shipped.networks[1]
    (kept,), _ = adapt.kept_activations([(net.thetas[:-1], True)], part, 1, cache_dir=tmp_path)
    assert kept.shape == (2 * len(part.whole), net.thetas[0].shape[0])
    H, Y = adapt.last_layer_rows(net.thetas, X, y, part, 4, np.random.default_rng(3), kept=kept,
                                 deskewed=True, replay_copies=1)
    Xp, Yp = adapt.training_set(X, y, part, 4, np.random.default_rng(3), teacher=net.thetas,
                                deskewed=True, replay_copies=1)
    assert len(H) == len(Xp) == 5 * len(y) + 2 * len(part)
    # The same float32 products, on 8,000 rows at once rather than these rows: BLAS may block them
    # differently, which moves a sigmoid output in 0..1 by float32 rounding (~1e-7), no more.
    plain = mlp.forward([np.asarray(t) for t in net.thetas[:-1]], Xp)
    np.testing.assert_allclose(H, plain, rtol=0, atol=1e-5)
    np.testing.assert_allclose(Y, Yp, rtol=0, atol=1e-5)


def test_the_weights_come_first_then_the_estimate(tmp_path):
    """`adapt` hands the adapted weights over before the fair estimate's extra adaptations run; a
    cancel after that keeps them (``estimate_cancelled``), one before gives the given weights back."""
    import threading

    from model.net.layout import Layout
    from model.net.mlp import init_thetas

    net = init_thetas(Layout.with_hidden([16]), np.random.default_rng(1))
    replay = _small_replay()
    X, y = replay.X[:30], replay.y[:30]
    groups = np.arange(30) % 3
    events: list = []
    res = adapt.adapt(net, X, y, replay=replay, groups=groups, iters=3, copies=2, cache_dir=tmp_path,
                      progress=lambda p: events.append(p.phase), on_weights=lambda r: events.append(r))
    at = [i for i, e in enumerate(events) if isinstance(e, adapt.AdaptResult)]
    assert len(at) == 1 and set(events[:at[0]]) == {"adapt"}
    assert events[at[0] + 1:] and all(e.startswith("estimate") for e in events[at[0] + 1:])
    early = events[at[0]]
    assert early.after is None and early.folds == 0 and res.after is not None and res.folds == 3
    assert all(np.array_equal(a, b) for a, b in zip(early.thetas, res.thetas, strict=True))
    assert 0 < res.weights_seconds <= res.seconds and early.run == res.run

    stop = threading.Event()
    later = adapt.adapt(net, X, y, replay=replay, groups=groups, iters=3, copies=2, should_stop=stop,
                        cache_dir=tmp_path, on_weights=lambda r: stop.set())
    assert not later.cancelled and later.estimate_cancelled and later.after is None
    assert all(np.array_equal(a, b) for a, b in zip(later.thetas, res.thetas, strict=True))  # same seed


def test_the_last_layer_fit_is_train_on_one_layer_and_the_same_on_any_number_of_threads():
    """`fit_last_layer` minimises `model.net.train.train`'s anchored cost on one layer: after the
    same few L-BFGS-B iterations from the same start both reach the same cost and weights (to the
    float32 sums' order: their rows are summed in other shares), and its own result is the same
    bytes on one thread or two."""
    from model.net import mlp
    from model.net import train as _train
    from model.net.layout import layout_from_shapes

    rng = np.random.default_rng(0)
    H = rng.random((3000, 40), dtype=np.float32)
    W0 = rng.normal(0, 0.3, (10, 41))
    Y = mlp.predict_proba([W0], H)
    Y[:500] = mlp.one_hot(rng.integers(0, 10, 500))  # "the user's digits": something to learn
    one = adapt.fit_last_layer(H, Y, W0, lam=0.5, iters=5, threads=1)
    two = adapt.fit_last_layer(H, Y, W0, lam=0.5, iters=5, threads=2)
    np.testing.assert_array_equal(one.thetas[0], two.thetas[0])
    ref = _train.train(H, Y, layout_from_shapes([W0.shape]), lam=0.5, max_iter=5, init=[W0], anchor=[W0])
    assert one.cost == pytest.approx(ref.cost, rel=1e-6) and one.iterations == ref.iterations == 5
    assert np.abs(one.thetas[0] - W0).max() > 0.05  # it moved, and moved where train moves
    np.testing.assert_allclose(one.thetas[0], ref.thetas[0], rtol=0, atol=1e-4)


def test_saved_adapted_weights_copy_the_hidden_layers_and_load_as_the_app_holds_them(shipped, tmp_path):
    """`save_adapted` copies the hidden layers' Theta files that adapting left unchanged (byte for
    byte) and writes the tuned layer; `adapted_model` (what the app switches to without parsing the
    text again) equals what `load_weights` reads back: the same model.json files, layouts, hidden
    layers, and the tuned layer in float32, which the app computes in."""
    from model.net.weights import load_weights

    replay = _small_replay()
    X, y = replay.X[:20], replay.y[:20]
    res = adapt.adapt(shipped, X, y, replay=replay, iters=2, copies=1, estimate=False, cache_dir=tmp_path)
    meta = adapt.adapted_meta(shipped.meta, shipped.source, res, replay)
    folder = adapt.save_adapted(tmp_path / "adapted", shipped, res, meta)
    for member in ("member1", "member2"):
        assert (folder / member / "Theta1.txt").read_bytes() == (WEIGHTS / member / "Theta1.txt").read_bytes()
        assert (folder / member / "Theta2.txt").read_bytes() != (WEIGHTS / member / "Theta2.txt").read_bytes()
    held, loaded = adapt.adapted_model(folder, res), load_weights(folder, use_cache=False)
    assert held.meta == loaded.meta and held.source == loaded.source == folder
    for a, b in zip(held.networks, loaded.networks, strict=True):
        assert a.meta == b.meta and a.source == b.source and str(a.layout) == str(b.layout)
        np.testing.assert_array_equal(a.thetas[0], b.thetas[0])
        np.testing.assert_array_equal(a.thetas[1].astype(np.float32), b.thetas[1].astype(np.float32))
    # a base file that no longer holds what was read from it is not copied: the layer is written
    other = tmp_path / "base"
    import shutil

    shutil.copytree(WEIGHTS, other)
    base = load_weights(other, use_cache=False)
    (other / "member1" / "Theta1.txt").write_text("1 2 3\n")
    again = adapt.save_adapted(tmp_path / "again", base, res, meta)
    written = (again / "member1" / "Theta1.txt").read_bytes()
    assert written == (WEIGHTS / "member1" / "Theta1.txt").read_bytes()  # the same numbers, formatted


def test_cli_unwritable_out_is_one_line(writer, tmp_path):
    """An --out that cannot be made (its parent is a file): one line naming it, exit status 2."""
    folder, _ = writer
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = run_cli("adapt", "--out", str(blocker / "weights"), str(folder), env=_env(tmp_path / "home"),
                timeout=600)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"digitpad: error: {blocker / 'weights'}: cannot write the adapted weights")
    assert "weights ready" not in r.stdout


def test_kept_activation_files_are_pruned_to_the_most_recently_used(tmp_path):
    """Writing a new kept-activations file leaves at most `KEPT_ON_DISK` in the folder: the most
    recently written or read ones (those of weights replaced since go first)."""
    import os

    from model.net.layout import Layout
    from model.net.mlp import init_thetas

    replay = _small_replay()
    for i in range(5):
        old = tmp_path / f"{i:064x}.npy"
        np.save(old, np.zeros((2, 2), np.float32))
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    nets = [(init_thetas(Layout.with_hidden([h]), np.random.default_rng(h))[:-1], False) for h in (6, 7)]
    adapt._kept_memo.clear()
    (a, b), source = adapt.kept_activations(nets, replay, 1, cache_dir=tmp_path)
    assert source == "built" and a.shape == (400, 6) and b.shape == (400, 7)
    left = sorted(p.name for p in tmp_path.glob("*.npy"))
    new = sorted(f"{adapt.kept_key(f, d, replay, 1)}.npy" for f, d in nets)
    assert len(left) == adapt.KEPT_ON_DISK == 4
    assert set(left) == set(new) | {f"{3:064x}.npy", f"{4:064x}.npy"}  # the two newest old ones stay
