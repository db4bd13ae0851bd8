"""Model → Inside the network…: the real window under Xvfb, driven with mouse and keyboard.

As in tests/test_gui.py nothing is mocked: the app runs as `python -m app`,
pen-written digits are dragged onto the pad with xdotool, the window's tabs
are visited with Ctrl+Tab and Alt+letter, a confusion cell is clicked, a PNG
is saved through the real file dialog and every tab is screenshot with
ImageMagick. Each app gets an empty user cache (XDG_CACHE_HOME), so the slow
views really compute in the background. All waits poll a condition; no time
is asserted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE, run_cli
from gui_driver import App, Xvfb, missing_tools, wait_for
from PIL import Image

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs X tools: {', '.join(missing_tools())}"),
    pytest.mark.skipif(not PEN_FILE.is_file(), reason=f"needs the pendigits file {PEN_FILE}"),
]


@pytest.fixture(scope="module")
def xvfb():
    """One virtual screen for the module."""
    server = Xvfb(1280, 1024)
    yield server
    server.stop()


def start(xvfb, tmp_path: Path, **env: str) -> App:
    """A fresh app with its own user data folder and an empty cache."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    app = App(xvfb, home, extra_env={"DIGITPAD_DATA": str(MNIST), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                                     **env})
    app.wait_ready()
    return app


def open_inside(app: App) -> str:
    """Ctrl+Shift+I in the main window; returns the Inside window's id once it shows."""
    app.key("ctrl+shift+i")
    wid = app.find_window("^Inside the network")
    app.wait_state(lambda s: s.get("inside", {}).get("tab") == "units", what="the Inside window")
    return wid


def inside(app: App, cond, what: str, timeout: float = 120.0) -> dict:
    """Wait until `cond(inside state)` holds; returns that part of the state."""
    return app.wait_state(lambda s: "inside" in s and cond(s["inside"]), timeout=timeout, what=what)["inside"]


def shot(app: App, wid: str, path: Path) -> np.ndarray:
    """Screenshot a window; returns its grey levels (checked not blank)."""
    app.screenshot(path, wid=wid)
    arr = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    assert arr.std() > 10, f"{path} looks blank"
    return arr


def save_as_png(app: App, wid: str, target: Path) -> None:
    """Ctrl+S in the Inside window, `target` typed into the file dialog; waits for the file."""
    app.key("ctrl+s", wid=wid)
    dialog = app.find_window("^Save as PNG$")
    app.type(str(target), wid=dialog)
    app.key("Return", wid=dialog)
    wait_for(lambda: target.is_file(), what=f"{target} to be written")


def inside_threads(state: dict) -> list[str]:
    return [t for t in state["threads"] if t.startswith("digitpad-inside")]


@pytest.fixture(scope="module")
def digits(pen_samples):
    """Two pen digits, a 7 and a 0, that the shipped model reads right through the app's pipeline."""
    from gui_driver import as_drawn

    from model.net.weights import load_weights
    from model.recognise import Recogniser

    rec = Recogniser(load_weights(Path(__file__).resolve().parent.parent / "weights"))
    found = {}
    for s in pen_samples[:600]:
        if s.label in (7, 0) and s.label not in found:
            r = rec.read_strokes(as_drawn(s.strokes))
            if r.text == str(s.label) and r.confidence > 0.95:
                found[s.label] = s
    assert set(found) == {7, 0}
    return found


def test_inside_window_every_tab(xvfb, tmp_path, digits):
    app = start(xvfb, tmp_path)
    try:
        wid = open_inside(app)
        # Keep the pad free: the window goes below the main window's pad.
        app.xdo("windowsize", wid, "1000", "620")
        app.xdo("windowmove", wid, "270", "400")
        st = inside(app, lambda s: s["input"] is False, "an empty pad")
        assert st["activation_sum"] is None and st["save_enabled"]
        shots = {"units-empty": shot(app, wid, tmp_path / "units-empty.png")}

        # Draw a 7: the activations appear; draw a 0 instead: they change.
        app.draw_and_wait(digits[7].strokes)
        st7 = inside(app, lambda s: s["winner"] == 7, "the 7's activations")
        assert st7["activation_sum"] > 0
        shots["units-7"] = shot(app, wid, tmp_path / "units-7.png")
        app.key("Escape")
        inside(app, lambda s: s["input"] is False, "the cleared pad")
        app.draw_and_wait(digits[0].strokes)
        st0 = inside(app, lambda s: s["winner"] == 0, "the 0's activations")
        assert st0["activations_head"] != st7["activations_head"]
        assert st0["updates"] > st7["updates"]

        # Sort by activation, then by push: the grid's first units change; click the first unit.
        orders = {}
        for mode in ("activation", "push"):
            x, y = st0["sort_buttons"][mode]
            app.xdo("mousemove", str(x), str(y), "click", "1")
            st = inside(app, lambda s, mode=mode: s["sort"] == mode and s["order_head"], f"sort by {mode}")
            orders[mode] = st["order_head"]
        assert orders["activation"] != orders["push"]
        gx, gy, scale, cols, cell = st["grid"]
        app.xdo("mousemove", str(round(gx + cell * scale / 2)), str(round(gy + cell * scale / 2)),
                "click", "1")
        st = inside(app, lambda s: s["pinned"] and s["unit"] == orders["push"][0], "the first unit's details")
        assert "push to 0: +" in st["unit_text"] and "activation" in st["unit_text"]
        shots["units-pinned"] = shot(app, wid, tmp_path / "units-pinned.png")

        # The shipped weights are a committee: one button per network; the last one's units,
        # activations and evidence replace the first's, and the reading stays the committee's.
        buttons = st["net_buttons"]
        assert st["network"] == 0 and len(buttons) >= 2
        x, y = buttons[-1]
        app.xdo("mousemove", str(x), str(y), "click", "1")
        last = len(buttons) - 1
        st = inside(app, lambda s: s["network"] == last and s["unit"] is None, "the last network's units")
        assert st["winner"] == 0 and st["activations_head"] != st0["activations_head"]
        shots["units-last-network"] = shot(app, wid, tmp_path / "units-last-network.png")

        # What the network sees.
        app.key("ctrl+Tab", wid=wid)
        st = inside(app, lambda s: s["tab"] == "sees", "the second tab")
        assert st["save_enabled"]
        shots["sees"] = shot(app, wid, tmp_path / "sees.png")

        # Confusion on MNIST test, computed in the background.
        app.key("ctrl+Tab", wid=wid)
        st = inside(app, lambda s: s["tab"] == "confusion" and s["confusion"]["status"] == "done"
                    and s["confusion"]["geometry"], "the confusion matrix")
        conf = st["confusion"]
        assert conf["matrix_sum"] == 10000
        assert conf["sets"][0].startswith("MNIST test") and any(s.startswith("pen") for s in conf["sets"])
        expected = json.loads(run_cli("evaluate", "--json").stdout)
        assert conf["matrix"] == expected["confusion"]
        shots["confusion"] = shot(app, wid, tmp_path / "confusion.png")
        # Click the most frequent misreading: its images show in the gallery.
        m = np.array(conf["matrix"])
        np.fill_diagonal(m, -1)
        r, c = (int(v) for v in np.unravel_index(m.argmax(), m.shape))
        cx, cy = conf["canvas"]
        x0, y0, cell, scale = conf["geometry"]
        app.xdo("mousemove", str(round(cx + (x0 + (c + 0.5) * cell) * scale)),
                str(round(cy + (y0 + (r + 0.5) * cell) * scale)), "click", "1")
        st = inside(app, lambda s: s["confusion"]["selected"] == [r, c], f"cell {r},{c} to be selected")
        assert st["confusion"]["gallery"] == conf["matrix"][r][c] > 0
        shots["gallery"] = shot(app, wid, tmp_path / "gallery.png")

        # Save as PNG through the file dialog: the heat map and the gallery.
        target = tmp_path / "saved-confusion.png"
        save_as_png(app, wid, target)
        st = inside(app, lambda s: s["saved"] == str(target), "the save to finish")
        with Image.open(target) as img:
            assert img.width >= 800 and img.height >= 600

        # Training: the shipped committee's member 2 recorded its history; the tab draws it.
        app.key("ctrl+Tab", wid=wid)
        st = inside(app, lambda s: s["tab"] == "training", "the Training tab")
        assert st["training"]["history"] is True and st["save_enabled"]
        shots["training"] = shot(app, wid, tmp_path / "training.png")

        # Robustness computes in the background; closing the window meanwhile stops it cleanly.
        app.key("ctrl+Tab", wid=wid)
        inside(app, lambda s: s["tab"] == "robustness" and s["robustness"]["status"] == "computing",
               "robustness to start")
        app.key("Escape", wid=wid)

        def closed_and_stopped() -> bool:
            app.key("ctrl+c")  # any action makes the main window write a fresh snapshot
            st = app.state()
            return "inside" not in st and not inside_threads(st)

        wait_for(closed_and_stopped, timeout=60, interval=0.5,
                 what="the window to close and its worker to stop")
        assert "Traceback" not in app.stderr()

        # Open again straight on Robustness (Alt+R) and let it finish.
        wid = open_inside(app)
        app.xdo("windowsize", wid, "1000", "620")
        app.xdo("windowmove", wid, "270", "400")
        app.key("alt+r", wid=wid)
        st = inside(app, lambda s: s["tab"] == "robustness" and s["robustness"]["status"] == "done",
                    "the robustness curves", timeout=300)
        assert st["save_enabled"]
        shots["robustness"] = shot(app, wid, tmp_path / "robustness.png")

        digests = {hashlib.sha256(a.tobytes()).hexdigest() for a in shots.values()}
        assert len(digests) == len(shots), "every tab should look different"
        # The main window still reads digits.
        app.key("Escape")
        st = app.draw_and_wait(digits[7].strokes)
        assert st["text"] == "7"
    finally:
        status = app.close()
    assert status == 0
    assert "Traceback" not in app.stderr()


def test_quit_while_robustness_computes(xvfb, tmp_path):
    app = start(xvfb, tmp_path)
    try:
        wid = open_inside(app)
        app.key("alt+r", wid=wid)
        inside(app, lambda s: s["robustness"]["status"] == "computing", "robustness to start")
        app.key("ctrl+q")
        app.proc.wait(60)
        assert app.proc.returncode == 0
        assert "Traceback" not in app.stderr()
    finally:
        app.close()


def test_training_tab_shows_the_history(xvfb, tmp_path):
    weights = tmp_path / "weights"
    r = run_cli("train", "--limit", "2000", "--max-iter", "5", "--hidden", "25", "--out", str(weights))
    assert r.returncode == 0, r.stderr
    app = start(xvfb, tmp_path, DIGITPAD_WEIGHTS=str(weights))
    try:
        wid = open_inside(app)
        app.key("alt+t", wid=wid)
        st = inside(app, lambda s: s["tab"] == "training", "the Training tab")
        assert st["training"]["history"] is True and st["save_enabled"]
        shot(app, wid, tmp_path / "training.png")
        target = tmp_path / "training-saved.png"
        save_as_png(app, wid, target)
        with Image.open(target) as img:
            assert img.width >= 800 and img.height >= 600
    finally:
        assert app.close() == 0


def test_retrain_dialog_draws_the_cost_live(xvfb, tmp_path):
    app = start(xvfb, tmp_path)
    try:
        app.key("ctrl+r")
        dialog = app.find_window("^Retrain")
        app.wait_state(lambda s: s.get("retrain", {}).get("phase") == "idle", what="the Retrain dialog")
        before = shot(app, dialog, tmp_path / "retrain-before.png")
        app.type("25\t1\t100000\t2000", wid=dialog)
        app.key("alt+s", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["phase"] == "training"
                            and s["retrain"]["chart_points"] >= 3,
                            timeout=180, what="the chart to show a few iterations")
        assert st["retrain"]["chart_points"] <= st["retrain"]["iteration"]
        during = shot(app, dialog, tmp_path / "retrain-during.png")
        assert during.shape == before.shape and np.abs(during - before).sum() > 0
        app.key("Escape", wid=dialog)
        st = app.wait_state(lambda s: s["retrain"]["phase"] == "done", timeout=120, what="the run to stop")
        assert st["retrain"]["chart_points"] == st["retrain"]["iteration"]
    finally:
        assert app.close() == 0
    assert "Traceback" not in app.stderr()


def test_missing_mnist_is_one_line_in_the_tabs(xvfb, tmp_path):
    missing = tmp_path / "no-mnist-here"
    app = start(xvfb, tmp_path, DIGITPAD_DATA=str(missing), DIGITPAD_PEN_DATA=str(tmp_path / "no-pen"))
    try:
        wid = open_inside(app)
        app.key("alt+c", wid=wid)
        st = inside(app, lambda s: s["confusion"]["status"] == "error", "the confusion error")
        assert str(missing) in st["confusion"]["error"] and "\n" not in st["confusion"]["error"]
        assert st["confusion"]["sets"] == [st["confusion"]["set"]]  # no pen file: MNIST test only
        assert not st["save_enabled"]
        app.key("alt+r", wid=wid)
        st = inside(app, lambda s: s["robustness"]["status"] == "error", "the robustness error")
        assert str(missing) in st["robustness"]["error"]
        # Failed work is not retried in a loop: the window stays idle.
        app.key("alt+h", wid=wid)
        app.key("alt+c", wid=wid)
        st = inside(app, lambda s: s["tab"] == "confusion", "the Confusion tab again")
        assert st["jobs"] == [] and st["confusion"]["status"] == "error"
    finally:
        assert app.close() == 0
    assert "Traceback" not in app.stderr()


def test_deeper_network_in_process(xvfb, tmp_path, monkeypatch, mnist_test):
    """A 784-30-12-10 network: later layers as bars, the unit's weights to layer 2, PNGs saved (real Tk)."""
    import tkinter as tk

    from app.inside import TABS, InsideWindow
    from model.net import mlp
    from model.net.layout import Layout
    from model.net.weights import Model
    from model.recognise import Recogniser

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layout = Layout.with_hidden([30, 12])
    rec = Recogniser(Model(mlp.init_thetas(layout, np.random.default_rng(0)), layout, {}, None))
    root = tk.Tk(screenName=xvfb.name)
    current: dict = {"img": None}
    closed = []
    try:
        w = InsideWindow(root, lambda: rec, lambda: current["img"], on_close=lambda: closed.append(True))

        def settle(cond) -> None:
            wait_for(lambda: (root.update(), cond())[1], timeout=30, interval=0.02, what="the window")

        settle(lambda: w.winfo_viewable())
        current["img"] = mnist_test.X[0].reshape(28, 28)
        settle(lambda: w.live is not None)
        assert [len(a) for a in w.live["hidden"]] == [30, 12]
        w.unit = 3
        w._render_unit_detail()  # noqa: SLF001 (as a hover does)
        settle(lambda: w.later.winfo_ismapped() and w.unit_bars.winfo_ismapped())
        assert "to the 12 units of layer 2" in w.unit_text.cget("text")
        for tab in ("units", "sees", "training"):
            w.notebook.select(TABS.index(tab))
            settle(lambda tab=tab: w.tab == tab)
            path = tmp_path / f"{tab}.png"
            w.save_png(path)
            if tab == "training":  # no history: nothing to save
                assert not path.exists() and str(w.save_buttons[tab].cget("state")) == "disabled"
            else:
                with Image.open(path) as img:
                    assert img.width >= 800 and img.height >= 600
                assert w.saved == str(path)
        w.close()
        assert closed == [True] and not w.workers.jobs
    finally:
        root.destroy()
