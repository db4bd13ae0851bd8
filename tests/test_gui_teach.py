"""Issue 11 in the real window under Xvfb: recipes, corrections, Teach, My samples, adapted weights.

Driven like tests/test_gui.py: the app runs as `python -m app`, xdotool moves
the mouse and types, and the app's JSON snapshot (``DIGITPAD_DEBUG_STATE``) is
polled for conditions; nothing is mocked and no wait asserts a time. The
strokes are real pen-written digits (pendigits).

Run: ``pytest -m gui tests/test_gui_teach.py -x -q``
"""

from __future__ import annotations

import json

import pytest
from conftest import MNIST, PEN_FILE, WEIGHTS
from gui_driver import App, Xvfb, as_drawn, missing_tools

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs X tools: {', '.join(missing_tools())}"),
]

APP_ENV = {"DIGITPAD_DATA": str(MNIST), "DIGITPAD_PEN_DATA": str(PEN_FILE.parent)}


@pytest.fixture(scope="module")
def xvfb():
    """One virtual screen for this module."""
    server = Xvfb(1280, 1024)
    yield server
    server.stop()


def _ink(p):
    from model.inputs.ink import Ink

    return Ink(strokes=[st.tolist() for st in p.strokes], width=560, height=320, pen_width=12)


def _store_samples(home, pen_samples, writer=26, per_digit=1):
    from model.personal.samples import SampleStore, samples_dir

    store = SampleStore(samples_dir(home))
    for d in range(10):
        for p in [p for p in pen_samples if p.writer == writer and p.label == d][:per_digit]:
            store.add(_ink(p), str(d))
    return store


def test_retrain_recipes_and_comparison(xvfb, tmp_path, pen_samples):
    from app.recipes import fmt_duration

    home = tmp_path / "home"
    _store_samples(home, pen_samples)
    meta = json.loads((WEIGHTS / "model.json").read_text())
    app = App(xvfb, home, extra_env=APP_ENV)
    try:
        app.wait_ready()
        app.key("ctrl+r")
        dialog = app.find_window("^Retrain")
        st = app.wait_state(lambda s: s.get("retrain", {}).get("phase") == "idle", what="the dialog")
        r = st["retrain"]
        assert r["recipe"] == "standard" and "From scratch" in r["recipe_summary"]
        assert r["samples_enabled"] and r["include_samples"]  # on, since there are samples
        # Full: the shipped command's settings and the time it took.
        app.key("alt+f", wid=dialog)
        r = app.wait_state(lambda s: s["retrain"]["recipe"] == "full", what="Full")["retrain"]
        assert fmt_duration(meta["training_seconds"]) in r["recipe_summary"]
        assert f"{meta['max_iter']} iterations" in r["recipe_summary"]
        assert "pen digits beside it" in r["data"] and r["start_enabled"]
        # Typing in a field makes it Custom; a small run with the samples included.
        app.type("20\t1\t15\t1500", wid=dialog)
        app.wait_state(lambda s: s["retrain"]["recipe"] == "custom", what="Custom")
        app.key("alt+s", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["phase"] == "done", timeout=300, what="the run to end")
        rows = {row["name"]: row for row in st["retrain"]["comparison"]["rows"]}
        assert set(rows) == {"MNIST test", "pen writers 25–30", "your samples"}
        assert abs(rows["MNIST test"]["current"] - meta["test_accuracy"]) < 0.003
        assert rows["your samples"]["n"] == 10 and rows["your samples"]["note"] == "trained on them"
        assert "your samples (10): current" in st["retrain"]["status"]
        app.key("alt+k", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["accepted"] == "kept", what="kept")
        assert st["weights_kind"] == "shipped"
    finally:
        assert app.close() == 0
    assert "Traceback" not in (home / "app-stderr.log").read_text()


@pytest.fixture(scope="module")
def recogniser():
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    return Recogniser(load_weights(WEIGHTS))


def _read(recogniser, strokes):
    return recogniser.read_strokes(as_drawn(strokes))


def _misread(held_out, recogniser, n):
    """`n` pen digits of the held-out writers (conftest's `held_out`: 25-30, never trained on;
    reading all 10,992 digits took half a minute) that the shipped weights read as one wrong
    digit: one per writer first, then (the shipped committee misreads only writers 28 and 30
    firmly) of labels not taken yet.

    Only firm misreads count (the wrong digit at p >= 0.9, and the same answer from every other
    point): the pad gets the pointer motion Xvfb delivers, which may drop or merge a few points,
    and a misread at p = 0.5 then flips to right now and then."""
    found, writers, labels, rest = [], set(), set(), []
    for p in held_out:
        if len(found) == n:
            return found
        r = _read(recogniser, p.strokes)
        if len(r.digits) != 1 or r.text == str(p.label) or float(max(r.digits[0].probs)) < 0.9:
            continue
        if recogniser.read_strokes(as_drawn(p.strokes, step=2)).text != r.text:
            continue
        if p.writer in writers:
            rest.append(p)
            continue
        found.append(p)
        writers.add(p.writer)
        labels.add(p.label)
    for p in rest:
        if len(found) == n:
            return found
        if p.label not in labels:
            found.append(p)
            labels.add(p.label)
    if len(found) == n:
        return found
    pytest.fail("the shipped weights read too many pen digits right for this test")


def _samples_on_disk(home):
    from model.personal.samples import SampleStore, samples_dir

    samples, warnings = SampleStore(samples_dir(home)).load()
    assert not warnings
    return samples


def test_correct_with_a_key_and_the_right_click_menu_then_learn(xvfb, tmp_path, held_out, recogniser):
    home = tmp_path / "home"
    home.mkdir()
    wrong = _misread(held_out, recogniser, 3)
    app = App(xvfb, home, extra_env=APP_ENV)
    try:
        app.wait_ready()
        # 1: a digit key corrects the last digit written.
        p = wrong[0]
        st = app.draw_and_wait(p.strokes)
        assert st["text"] != str(p.label)
        app.key(str(p.label))
        st = app.wait_state(lambda s: s["text"] == str(p.label) and s["n_samples"] == 1,
                            what="the corrected answer")
        assert st["corrected"] and st["learn"]["pending"] == 1 and not st["learn"]["running"]
        assert st["info"] == "Corrected by you (kept as your sample)"
        (sample,) = _samples_on_disk(home)
        assert sample.label == str(p.label) and sample.source == "correction"
        assert len(sample.ink.strokes) == len(p.strokes)
        app.key("Escape")
        app.wait_state(lambda s: s["strokes"] == 0, what="a clear pad")
        # 2: the right-click menu on the digit; a digit key picks the entry.
        p = wrong[1]
        st = app.draw_and_wait(p.strokes)
        x0, y0, x1, y1 = st["boxes"][0]
        pad = st["pad"]
        app.xdo("mousemove", str(round(pad["x"] + (x0 + x1) / 2)), str(round(pad["y"] + (y0 + y1) / 2)),
                "click", "3")
        menu = app.find_window("")  # the posted menu is the newest visible window of the app
        app.xdo("key", "--window", menu, str(p.label), check=False)
        st = app.wait_state(lambda s: s["text"] == str(p.label) and s["n_samples"] == 2,
                            what="the correction from the menu")
        app.key("Escape")
        app.wait_state(lambda s: s["strokes"] == 0, what="a clear pad")
        # 3: the third correction starts adapting in the background; the window stays usable.
        p = wrong[2]
        app.draw_and_wait(p.strokes)
        app.key(str(p.label))
        st = app.wait_state(lambda s: s["learn"]["running"] or s["learn"]["last"], what="adapting to start")
        # The decision comes with the weights (the fair estimate follows, and can only undo it).
        st = app.wait_state(lambda s: s["learn"]["last"] is not None, timeout=600, what="the adapted weights")
        if st["learn"]["last"]["improves"] and st["learn"]["running"]:
            assert st["weights_kind"] == "adapted" and "checking them" in st["learn"]["text"]
        st = app.wait_state(lambda s: not s["learn"]["running"] and s["learn"]["last"]["complete"],
                            timeout=600, what="adapting and its estimate to end")
        last = st["learn"]["last"]
        assert last["samples_before"] == 0.0  # all three were misread
        assert last["samples_fit"] > 0  # it learned what it was told
        # It switches only if the held-out check digits lost at most 1 point (the rule, either way;
        # the fair estimate cannot say worse than the 0% before).
        assert last["improves"] == (last["check_after"] >= last["check_before"] - 0.01)
        if last["improves"]:
            assert st["weights_kind"] == "adapted"
            assert st["learn"]["text"] == "Adapted to 3 of your corrections"
            meta = json.loads((home / "weights" / "model.json").read_text())
            assert meta["adapt"]["n_samples"] == 3 and "adapted_from" in meta
            assert meta["adapt"]["samples_accuracy_after"] == last["samples_after"] is not None
        else:
            assert st["weights_kind"] == "shipped" and not (home / "weights").exists()
            assert "kept the current weights" in st["learn"]["text"]
        # The window answered all along, and the next digit is read as usual.
        app.key("Escape")
        st = app.wait_state(lambda s: s["strokes"] == 0, what="a clear pad")
        assert st["learn"]["pending"] == 0
    finally:
        assert app.close() == 0
    assert "Traceback" not in (home / "app-stderr.log").read_text()


def _draw_on(app, origin, strokes, scale=0.8, centre=(180.0, 140.0)):
    """Drag the mouse along pen strokes (560x320 canvas coordinates) on a pad at `origin`."""
    ox, oy = origin
    for s in strokes:
        pts = [(round(ox + (x - 280) * scale + centre[0]), round(oy + (y - 160) * scale + centre[1]))
               for x, y in s]
        args = ["mousemove", str(pts[0][0]), str(pts[0][1]), "sleep", "0.03", "mousedown", "1"]
        for x, y in pts[1:]:
            args += ["mousemove", str(x), str(y), "sleep", "0.004"]
        args += ["sleep", "0.02", "mouseup", "1", "sleep", "0.02"]
        app.xdo(*args)


def test_teach_a_round_adapt_restart_my_samples_restore(xvfb, tmp_path, pen_samples):
    home = tmp_path / "home"
    home.mkdir()
    writer = [p for p in pen_samples if p.writer == 27]
    app = App(xvfb, home, extra_env=APP_ENV)
    try:
        app.wait_ready()
        app.key("ctrl+t")
        dialog = app.find_window("^Teach my handwriting")
        st = app.wait_state(lambda s: "teach" in s, what="the Teach dialog")
        t = st["teach"]
        assert t["rounds"] == 3 and t["current"] == [0, 0] and "Write a 0" in t["prompt"]
        assert not t["adapt_adapt_enabled"]
        origin = (t["pad"]["x"], t["pad"]["y"])
        for d in range(10):
            p = next(p for p in writer if p.label == d)
            _draw_on(app, origin, p.strokes)
            n = len(p.strokes)
            app.wait_state(lambda s, n=n: s["teach"]["strokes"] == n and not s["teach"]["drawing"],
                           what=f"the strokes of {d}")
            app.key("Return", wid=dialog)
            app.wait_state(lambda s, d=d: len(s["teach"]["filled"]) == d + 1, what=f"cell {d} filled")
        st = app.state()
        assert st["teach"]["current"] == [1, 0] and "round 2 of 3" in st["teach"]["prompt"]
        assert st["n_samples"] == 10
        assert sorted(s.label for s in _samples_on_disk(home)) == [str(d) for d in range(10)]
        # Redo a cell: click it, write again; the new sample replaces the old one.
        redo = [p for p in writer if p.label == 4][1]
        old_file = st["teach"]["cell_files"]["0,4"]
        x, y = st["teach"]["cells"]["0,4"]
        app.xdo("mousemove", str(x), str(y), "click", "1")
        app.wait_state(lambda s: s["teach"]["current"] == [0, 4] and "again" in s["teach"]["prompt"],
                       what="cell 0,4 chosen")
        _draw_on(app, origin, redo.strokes)
        app.wait_state(lambda s: s["teach"]["strokes"] == len(redo.strokes), what="strokes")
        app.key("Return", wid=dialog)
        st = app.wait_state(lambda s: s["teach"]["cell_files"]["0,4"] != old_file, what="the redone cell")
        on_disk = {s.path.name: s.label for s in _samples_on_disk(home)}
        assert len(on_disk) == 10 and old_file not in on_disk
        assert on_disk[st["teach"]["cell_files"]["0,4"]] == "4"
        assert st["teach"]["current"] == [1, 0]
        # Adapt: the adapted weights are in use as soon as they are ready; the dialog says the
        # figures are coming (the check digits are there already) and offers to go back.
        app.key("alt+a", wid=dialog)
        st = app.wait_state(lambda s: s["weights_kind"] == "adapted", timeout=600,
                            what="the adapted weights in use")
        t = st["teach"]
        assert t["adapt_phase"] == "estimating" and t["adapt_accepted"] == "used"
        assert t["adapt_in_use_seconds"] > 0
        early = t["adapt_outcome"]
        assert not early["complete"] and early["samples_after"] is None and early["mnist_after"] is None
        assert early["check_after"] is not None and early["samples_fit"] is not None
        assert "Coming: your samples read fairly" in t["adapt_text"] and "Check digits" in t["adapt_text"]
        meta = json.loads((home / "weights" / "model.json").read_text())
        assert meta["adapt"]["n_samples"] == 10 and meta["adapt"]["samples_accuracy_after"] is None
        st = app.wait_state(lambda s: s["teach"]["adapt_phase"] == "done", timeout=600, what="the estimate")
        out = st["teach"]["adapt_outcome"]
        assert out["n_samples"] == 10 and not out["cancelled"] and out["complete"]
        assert out["samples_after"] is not None and out["mnist_after"] is not None
        text = st["teach"]["adapt_text"]
        assert "Your samples (10 digits)" in text and "MNIST test" in text and "Go back" in text
        meta = json.loads((home / "weights" / "model.json").read_text())  # the figures added to it
        assert meta["test_accuracy"] == out["mnist_after"]
        assert meta["adapt"]["samples_accuracy_after"] == out["samples_after"]
        # Go back (Alt+G): the shipped weights, and no user weights folder, as before; then Use new
        # weights (Alt+U) again, with the figures.
        app.key("alt+g", wid=dialog)
        st = app.wait_state(lambda s: s["weights_kind"] == "shipped", what="the weights we had")
        assert st["teach"]["adapt_accepted"] == "back" and not (home / "weights").exists()
        assert "Went back to the weights you had" in st["teach"]["adapt_text"]
        app.key("alt+u", wid=dialog)
        st = app.wait_state(lambda s: s["weights_kind"] == "adapted", what="the adapted weights again")
        meta = json.loads((home / "weights" / "model.json").read_text())
        assert meta["adapt"]["n_samples"] == 10 and meta["test_accuracy"] == out["mnist_after"]
        app.key("Escape", wid=dialog)
        app.wait_state(lambda s: "teach" not in s, what="the dialog to close")
    finally:
        assert app.close() == 0
    again = App(xvfb, home, extra_env=APP_ENV)
    try:
        st = again.wait_ready()
        assert st["weights_kind"] == "adapted" and st["weights"] == str(home / "weights")
        assert st["n_samples"] == 10
        # Model → My samples… (Alt+M, Y): select the first sample with the arrow key, delete it.
        again.key("alt+m")
        again.key("y")
        samples_win = again.find_window("^My samples")
        st = again.wait_state(lambda s: "samples_dialog" in s, what="My samples")
        assert st["samples_dialog"]["count"] == 10
        assert st["samples_dialog"]["groups"] == {str(d): 1 for d in range(10)}
        again.key("Right", wid=samples_win)
        st = again.wait_state(lambda s: s["samples_dialog"]["selected"], what="a selection")
        gone = st["samples_dialog"]["selected"]
        again.key("Delete", wid=samples_win)
        st = again.wait_state(lambda s: s["samples_dialog"]["count"] == 9 and s["n_samples"] == 9,
                              what="one sample fewer")
        assert gone not in {s.path.name for s in _samples_on_disk(home)}
        again.key("Escape", wid=samples_win)
        again.wait_state(lambda s: "samples_dialog" not in s, what="My samples to close")
        # Model → Restore shipped weights: the adapted weights go, the samples stay.
        again.key("alt+m")
        again.key("s")
        confirm = again.find_window("^Restore shipped weights$")
        again.key("Return", wid=confirm)
        st = again.wait_state(lambda s: s["weights_kind"] == "shipped", what="the shipped weights")
        assert not (home / "weights").exists() and st["n_samples"] == 9
    finally:
        assert again.close() == 0
    assert "Traceback" not in (home / "app-stderr.log").read_text()


def test_bad_samples_folder_cancel_adapt_and_learn_toggle(xvfb, tmp_path, held_out, recogniser):
    home = tmp_path / "home"
    home.mkdir()
    (home / "samples").write_text("a file where the samples folder should be")
    p = _misread(held_out, recogniser, 1)[0]
    # An empty user cache: the first Adapt builds the replay's kept activations (seconds), so the
    # Escape below lands before the weights are ready, on any machine.
    app = App(xvfb, home, extra_env={**APP_ENV, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        app.wait_ready()
        st = app.draw_and_wait(p.strokes)
        app.key(str(p.label))
        err = app.find_window("^Cannot keep the sample$")
        st = app.wait_state(lambda s: s["text"] == str(p.label), what="the answer corrected all the same")
        app.key("Return", wid=err)
        assert (home / "samples").read_text().startswith("a file")  # nothing of it lost
        (home / "samples").unlink()
        _store_samples(home, held_out, writer=28, per_digit=1)
        (home / "samples" / "damaged.json").write_text("[" * 100_000)
        app.key("Escape")
        app.key("1")  # corrections without a digit on the pad: a note, nothing stored
        st = app.wait_state(lambda s: "Write a digit first" in s["note"], what="the note")
        # Model → Adapt to my samples… (Alt+M, A) starts at once; Escape cancels: nothing changes.
        app.key("alt+m")
        app.key("a")
        dialog = app.find_window("^Adapt")
        app.wait_state(lambda s: s.get("adapt", {}).get("phase") == "running", what="adapting")
        app.key("Escape", wid=dialog)
        st = app.wait_state(lambda s: s["adapt"]["phase"] == "done", timeout=300, what="the cancel")
        assert st["adapt"]["outcome"]["cancelled"] and "Cancelled" in st["adapt"]["text"]
        assert st["adapt"]["in_use_seconds"] is None and st["adapt"]["accepted"] is None
        assert st["weights_kind"] == "shipped" and not (home / "weights").exists()
        app.key("Escape", wid=dialog)
        app.wait_state(lambda s: "adapt" not in s, what="the dialog to close")
        # My samples lists the damaged file as skipped, and keeps it.
        app.key("alt+m")
        app.key("y")
        win = app.find_window("^My samples")
        st = app.wait_state(lambda s: "samples_dialog" in s, what="My samples")
        assert st["samples_dialog"]["count"] == 10
        assert "damaged.json: not a usable JSON file (nested too deeply)" in st["samples_dialog"]["summary"]
        # Relabel (F2) the first sample, a 0, as a 6: the same file, rewritten.
        app.key("Right", wid=win)
        st = app.wait_state(lambda s: s["samples_dialog"]["selected"], what="a selection")
        chosen = st["samples_dialog"]["selected"]
        app.key("F2", wid=win)
        ask = app.find_window("^Relabel$")
        app.type("6", wid=ask)
        app.key("Return", wid=ask)
        st = app.wait_state(lambda s: s["samples_dialog"]["groups"].get("6") == 2,
                            what="the relabelled sample")
        assert "0" not in st["samples_dialog"]["groups"]
        from model.personal.samples import load_sample

        assert load_sample(home / "samples" / chosen).label == "6"
        app.key("Escape", wid=win)
        assert (home / "samples" / "damaged.json").exists()
        # Learn from corrections (Alt+M, C) is on by default; turning it off is remembered.
        assert st["learn"]["enabled"]
        app.key("alt+m")
        app.key("c")
        app.wait_state(lambda s: not s["learn"]["enabled"], what="learning off")
        assert json.loads((home / "settings.json").read_text()) == {"learn_from_corrections": False}
    finally:
        assert app.close() == 0
    again = App(xvfb, home, extra_env=APP_ENV)
    try:
        st = again.wait_ready()
        assert not st["learn"]["enabled"] and st["n_samples"] == 11  # sample files, the damaged one too
    finally:
        again.close()
    assert "Traceback" not in (home / "app-stderr.log").read_text()


def test_full_recipe_without_pen_digits_offers_the_download(xvfb, tmp_path):
    mnist = tmp_path / "cache" / "mnist"
    mnist.mkdir(parents=True)
    for f in MNIST.glob("*.gz"):
        (mnist / f.name).symlink_to(f)
    home = tmp_path / "home"
    home.mkdir()
    app = App(xvfb, home, extra_env={"DIGITPAD_DATA": str(mnist), "DIGITPAD_PEN_DATA": ""})
    try:
        app.wait_ready()
        app.key("ctrl+r")
        dialog = app.find_window("^Retrain")
        st = app.wait_state(lambda s: "retrain" in s, what="the dialog")
        # Standard (the default) needs the pen digits too; Custom needs MNIST only, which is there.
        assert not st["retrain"]["start_enabled"] and st["retrain"]["download_enabled"]
        app.key("alt+c", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["recipe"] == "custom", what="Custom")
        assert st["retrain"]["start_enabled"] and not st["retrain"]["download_enabled"]
        assert not st["retrain"]["samples_enabled"] and not st["retrain"]["include_samples"]  # no samples
        app.key("alt+f", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["recipe"] == "full", what="Full")
        assert "pen digits missing" in st["retrain"]["data"]
        assert st["retrain"]["download_enabled"] and not st["retrain"]["start_enabled"]
        (tmp_path / "cache" / "pendigits-train").mkdir()
        (tmp_path / "cache" / "pendigits-train" / "pendigits-orig.tra").symlink_to(PEN_FILE)
        app.key("alt+q", wid=dialog)
        app.key("alt+f", wid=dialog)  # the files are looked for again: now Full can start
        st = app.wait_state(lambda s: s["retrain"]["start_enabled"] and s["retrain"]["recipe"] == "full",
                            what="Full ready")
        assert "pen digits beside it" in st["retrain"]["data"]
    finally:
        assert app.close() == 0
