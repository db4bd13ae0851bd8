"""The real Tk window under Xvfb, driven like a person would with mouse and keyboard.

Nothing is mocked: the app runs as `python -m app`, strokes of real pen-written
digits (pendigits) are dragged with xdotool, results are read back through
the X clipboard with xclip and screenshots with ImageMagick. The samples are
picked so that the shipped model reads them correctly through the same
pipeline (computed here with `Recogniser`), so these tests check the GUI path,
not the model's accuracy. All waits poll for a condition; none asserts a time.

Run: ``pytest -m gui tests/test_gui.py -x -q``
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE
from gui_driver import App, Xvfb, as_drawn, missing_tools, shifted, wait_for

from model.net.weights import load_weights

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs X tools: {', '.join(missing_tools())}"),
    pytest.mark.skipif(not PEN_FILE.is_file(), reason=f"needs the pendigits file {PEN_FILE}"),
]

APP_ENV = {"DIGITPAD_DATA": str(MNIST)}


@pytest.fixture(scope="session")
def xvfb():
    """One virtual screen for the whole session."""
    server = Xvfb(1280, 1024)
    yield server
    server.stop()


def _reads_as(recogniser, strokes, text: str, min_conf: float = 0.95) -> bool:
    r = recogniser.read_strokes(as_drawn(strokes))
    return r.text == text and r.confidence >= min_conf


@pytest.fixture(scope="session")
def samples(pen_samples, recogniser):
    """For each digit, the first few pendigits samples the shipped model reads confidently."""
    found: dict[int, list] = {d: [] for d in range(10)}
    for s in pen_samples[:600]:
        if len(found[s.label]) < 3 and _reads_as(recogniser, s.strokes, str(s.label)):
            found[s.label].append(s)
    assert all(found.values()), "the shipped model should read some of every digit"
    return found


def number_strokes(recogniser, samples, digits: str):
    """Strokes for a number written left to right, each digit at 0.7 size, read back as `digits`."""
    n = len(digits)
    for k in range(3):
        strokes = []
        for i, d in enumerate(digits):
            pool = samples[int(d)]
            dx = (i - (n - 1) / 2) * 170
            strokes += shifted(pool[(k + i) % len(pool)].strokes, dx=dx, scale=0.7)
        if _reads_as(recogniser, strokes, digits, 0.9):
            return strokes
    pytest.fail(f"no sample combination reads as {digits}")


@pytest.fixture
def app(xvfb, tmp_path):
    """A fresh app with its own user data folder."""
    home = tmp_path / "home"
    home.mkdir()
    a = App(xvfb, home, extra_env=APP_ENV)
    try:
        a.wait_ready()
        yield a
    finally:
        a.close()


def _non_blank(png: Path) -> float:
    from PIL import Image

    arr = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
    return float(arr.std())


def test_window_opens_ready_to_draw(app):
    st = app.state()
    assert st["message"] == "Draw a digit"
    assert st["pad"]["width"] >= 500 and st["pad"]["height"] >= 300
    assert st["weights_kind"] == "shipped" and st["layer_sizes"][0] == 784
    name = app.xdo("getwindowname", app.wid).stdout.strip()
    assert name == "Digitpad"
    # The pad grows with the window.
    w, h = st["pad"]["width"], st["pad"]["height"]
    app.xdo("windowsize", app.wid, "1100", "700")
    st = app.wait_state(lambda s: s["pad"]["width"] > w + 100 and s["pad"]["height"] > h + 100,
                        what="the pad to grow with the window")


def test_draw_single_digits_and_copy(app, samples):
    for d in (3, 7, 0):
        s = samples[d][0]
        st = app.draw_and_wait(s.strokes)
        assert st["text"] == str(d), st
        assert len(st["boxes"]) == 1
        assert app.copy_result(str(d)) == str(d)
        app.key("Escape")
        app.wait_state(lambda s: s["strokes"] == 0 and s["text"] == "", what="cleared pad")
    st = app.state()
    assert st["message"] == "Draw a digit"
    assert st["history"][-3:] == ["3", "7", "0"]


def test_unsure_digit_says_so(app, pen_samples, recogniser):
    unsure = next(s for s in pen_samples[:2000]
                  if len((r := recogniser.read_strokes(as_drawn(s.strokes))).digits) == 1
                  and r.confidence < 0.65)
    st = app.draw_and_wait(unsure.strokes)
    assert st["unsure"] is True
    assert st["info"].startswith("Not sure — looks like "), st["info"]


def test_undo_and_clear(app, samples, recogniser):
    strokes = number_strokes(recogniser, samples, "21")
    first = recogniser.read_strokes(as_drawn(strokes[:-1])).text
    st = app.draw_and_wait(strokes)
    assert st["text"] == "21"
    assert app.copy_result("21") == "21"

    app.key("ctrl+z")
    st = app.wait_state(lambda s: s["strokes"] == len(strokes) - 1, what="one stroke fewer")
    assert st["text"] == first
    assert app.copy_result(first) == first

    app.key("Escape")
    st = app.wait_state(lambda s: s["strokes"] == 0, what="an empty pad")
    assert st["text"] == "" and st["message"] == "Draw a digit"
    # Ctrl+C on an empty pad leaves the clipboard alone.
    app.key("ctrl+c")
    app.wait_state(lambda s: s["note"] == "Nothing to copy", what="the 'nothing to copy' note")
    assert app.clipboard() == first

    # Delete clears too.
    app.draw_and_wait(samples[5][0].strokes)
    app.key("Delete")
    app.wait_state(lambda s: s["strokes"] == 0, what="Delete to clear the pad")


def test_three_digit_number_and_screenshot(app, samples, recogniser, tmp_path):
    strokes = number_strokes(recogniser, samples, "905")
    st = app.draw_and_wait(strokes)
    assert st["text"] == "905"
    assert len(st["boxes"]) == 3
    assert app.copy_result("905") == "905"
    # The digit details follow the mouse: the last written digit, or the one pointed at.
    assert st["selected"] == 2
    pad = st["pad"]
    x0, y0, x1, y1 = st["boxes"][0]
    app.xdo("mousemove", str(round(pad["x"] + (x0 + x1) / 2)), str(round(pad["y"] + (y0 + y1) / 2)))
    app.wait_state(lambda s: s["selected"] == 0, what="the first digit to be selected")
    app.xdo("mousemove", "1270", "1010")
    app.wait_state(lambda s: s["selected"] == 2, what="the last digit to be selected again")
    shot = app.screenshot(tmp_path / "window.png")
    assert _non_blank(shot) > 10


def test_open_image_through_file_dialog(app, samples, recogniser, tmp_path):
    from model.inputs import ink

    strokes = number_strokes(recogniser, samples, "468")
    png = tmp_path / "number.png"
    ink.render_canvas(ink.Ink(strokes, 560, 320)).save(png)
    expected = recogniser.read_path(png).text
    assert expected == "468"

    app.key("ctrl+o")
    dialog = app.find_window("^Open image$")
    app.type(str(png), wid=dialog)
    app.key("Return", wid=dialog)
    st = app.wait_state(lambda s: s["picture"] and s["text"], what="the image to be read")
    assert st["text"] == expected
    assert len(st["boxes"]) == 3
    assert app.copy_result(expected) == expected
    assert _non_blank(app.screenshot(tmp_path / "image.png")) > 10

    # A file that is not an image: a small error dialog, and the app carries on.
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    app.key("ctrl+o")
    dialog = app.find_window("^Open image$")
    app.type(str(bad), wid=dialog)
    app.key("Return", wid=dialog)
    error = app.find_window("^Cannot open$")
    app.key("Return", wid=error)
    wait_for(lambda: not app.xdo("search", "--onlyvisible", "--name", "^Cannot open$",
                                 check=False).stdout.strip(), what="the error dialog to close")
    assert app.state()["text"] == expected


@pytest.mark.parametrize("suffix", [".json", ".png"])
def test_save_and_reopen_drawing(app, samples, recogniser, tmp_path, suffix):
    strokes = number_strokes(recogniser, samples, "72")
    st = app.draw_and_wait(strokes)
    assert st["text"] == "72"
    path = tmp_path / f"drawing{suffix}"

    app.key("ctrl+s")
    dialog = app.find_window("^Save drawing$")
    app.type(str(path), wid=dialog)
    app.key("Return", wid=dialog)
    wait_for(lambda: path.is_file(), what=f"{path} to be written")
    app.wait_state(lambda s: s["note"] == f"Saved {path.name}", what="the save to finish")

    app.key("Escape")
    app.wait_state(lambda s: s["strokes"] == 0)
    app.key("ctrl+shift+o")
    dialog = app.find_window("^Open drawing$")
    app.type(str(path), wid=dialog)
    app.key("Return", wid=dialog)
    st = app.wait_state(lambda s: s["text"], what="the drawing to be read")
    assert st["text"] == "72"
    if suffix == ".json":
        assert st["strokes"] == len(strokes) and st["picture"] is None
    else:
        assert st["picture"] == str(path)
    assert app.copy_result("72") == "72"


def test_corrupt_user_weights_fall_back_to_shipped(xvfb, tmp_path):
    home = tmp_path / "home"
    (home / "weights").mkdir(parents=True)
    (home / "weights" / "Theta1.txt").write_text("1 2 three\n")
    app = App(xvfb, home, extra_env=APP_ENV)
    try:
        warning = app.find_window("^Weights problem$", timeout=60)
        app.key("Return", wid=warning)
        st = app.wait_ready()
        assert st["weights_kind"] == "shipped"
        assert st["weights"] == str(Path(__file__).resolve().parent.parent / "weights")
    finally:
        app.close()


def _retrain_dialog(app) -> str:
    app.key("ctrl+r")
    wid = app.find_window("^Retrain")
    app.wait_state(lambda s: s.get("retrain", {}).get("phase") == "idle", what="the Retrain dialog")
    return wid


def test_retrain_cancel_then_use_new_weights_after_restart(xvfb, tmp_path, samples):
    home = tmp_path / "home"
    home.mkdir()
    shipped_dir = Path(__file__).resolve().parent.parent / "weights"
    shipped_before = {p.relative_to(shipped_dir): p.read_bytes()
                      for p in shipped_dir.rglob("*") if p.is_file()}
    shipped_sizes = list(load_weights(shipped_dir).layout.sizes)  # a committee reports its first member's
    app = App(xvfb, home, extra_env=APP_ENV)
    try:
        app.wait_ready()
        dialog = _retrain_dialog(app)
        # A long run, cancelled once it moves.
        app.type("25\t1\t100000\t2000", wid=dialog)
        app.key("alt+s", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["iteration"] >= 2, timeout=180,
                            what="training to make progress")
        assert st["training"]["running"] and st["training"]["max_iter"] == 100000
        app.key("Escape", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["phase"] == "done", timeout=120,
                            what="the cancelled run to end")
        assert st["retrain"]["cancelled"] is True
        assert "Cancelled" in st["retrain"]["status"]
        assert not st["training"]["running"]
        # The main window still responds.
        st = app.draw_and_wait(samples[6][0].strokes)
        assert st["text"] == "6"
        assert app.copy_result("6") == "6"

        # A short run that finishes; use its weights.
        app.type("25\t1\t30\t2000", wid=dialog)
        app.key("alt+s", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["phase"] == "training", what="the second run")
        st = app.wait_state(lambda s: s["retrain"]["phase"] == "done", timeout=300,
                            what="the short run to finish")
        assert st["retrain"]["cancelled"] is False and st["retrain"]["iteration"] > 2
        assert 0.1 < st["retrain"]["test_accuracy"] <= 1.0
        app.key("alt+u", wid=dialog)
        st = app.wait_state(lambda s: s["weights_kind"] == "retrained", what="the new weights in use")
        assert st["layer_sizes"] == [784, 25, 10]
        meta = json.loads((home / "weights" / "model.json").read_text())
        assert meta["layer_sizes"] == [784, 25, 10] and meta["cancelled"] is False
        app.key("Escape", wid=dialog)
        app.wait_state(lambda s: "retrain" not in s, what="the dialog to close")
    finally:
        assert app.close() == 0
    # The shipped weights were not touched and the new ones survive a restart.
    assert {p.relative_to(shipped_dir): p.read_bytes() for p in shipped_dir.rglob("*") if p.is_file()} \
        == shipped_before
    again = App(xvfb, home, extra_env=APP_ENV)
    try:
        st = again.wait_ready()
        assert st["weights_kind"] == "retrained" and st["layer_sizes"] == [784, 25, 10]
        assert st["weights"] == str(home / "weights")
        # Model → Restore shipped weights, through the menu with the keyboard, then confirm.
        again.key("alt+m")
        again.key("s")
        confirm = again.find_window("^Restore shipped weights$")
        again.key("Return", wid=confirm)
        st = again.wait_state(lambda s: s["weights_kind"] == "shipped", what="the shipped weights")
        assert st["layer_sizes"] == shipped_sizes
        assert not (home / "weights").exists()
    finally:
        again.close()


def test_quit_during_training_exits_cleanly(xvfb, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    app = App(xvfb, home, extra_env=APP_ENV)
    try:
        app.wait_ready()
        dialog = _retrain_dialog(app)
        app.type("25\t1\t100000\t2000", wid=dialog)
        app.key("alt+s", wid=dialog)
        app.wait_state(lambda s: s["retrain"]["iteration"] >= 1, timeout=180, what="training to start")
        app.key("ctrl+q")
        app.proc.wait(60)
        assert app.proc.returncode == 0
        assert "Traceback" not in app.stderr()
        assert not (home / "weights").exists()
    finally:
        app.close()


def test_missing_mnist_shows_download(xvfb, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    app = App(xvfb, home, extra_env={"DIGITPAD_DATA": str(tmp_path / "no-mnist-here")})
    try:
        app.wait_ready()
        app.key("ctrl+r")
        app.find_window("^Retrain")
        st = app.wait_state(lambda s: "retrain" in s, what="the Retrain dialog")
        assert st["retrain"]["phase"] == "idle"
        assert "MNIST files missing" in st["retrain"]["data"]
        assert st["retrain"]["download_enabled"] and not st["retrain"]["start_enabled"]
        shot = app.screenshot(tmp_path / "retrain.png", wid=app.find_window("^Retrain"))
        assert _non_blank(shot) > 5
    finally:
        app.close()

