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
from gui_driver import App, Xvfb, missing_tools

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
    from model.ink import Ink

    return Ink(strokes=[st.tolist() for st in p.strokes], width=560, height=320, pen_width=12)


def _store_samples(home, pen_samples, writer=26, per_digit=1):
    from model.samples import SampleStore, samples_dir

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
        assert r["recipe"] == "quick" and "MNIST only" in r["recipe_summary"]
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
