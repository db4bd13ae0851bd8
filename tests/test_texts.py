"""The little text helpers the window, the dialogs and the command line share (app.texts, app.help)."""

import math

from app.help import SHORTCUTS, model_info_text, shortcuts_text
from app.texts import clock, percent


def test_clock_writes_minutes_then_hours():
    assert clock(0) == "0:00"
    assert clock(59.6) == "1:00"
    assert clock(3599) == "59:59"
    assert clock(3725) == "1:02:05"


def test_clock_says_unknown_for_nan_and_infinity():
    for s in (math.nan, math.inf, -math.inf):
        assert clock(s) == "--:--"


def test_percent_digits_and_unknown():
    assert percent(0.992) == "99.20%"
    assert percent(0.5, 1, "—") == "50.0%"
    assert percent(None) == "unknown"
    assert percent(None, 1, "—") == "—"


def test_model_info_without_weights_and_shortcuts_listed():
    assert model_info_text(None, "shipped") == "No weights are loaded."
    lines = shortcuts_text().splitlines()
    assert len(lines) == len(SHORTCUTS)
    assert lines[0].startswith("Ctrl+C") and lines[0].endswith(SHORTCUTS[0][1])


def test_model_info_describes_the_shipped_weights():
    from app import paths
    from model.net.weights import load_weights

    model = load_weights(paths.shipped_weights_dir())
    text = model_info_text(model, "adapted")
    assert text.splitlines()[0] == (f"Layers: {model.describe()}  "
                                    f"({sum(n.layout.n_params for n in model.networks):,} weights)")
    assert "(adapted to your handwriting)" in text
    assert f"Test accuracy (MNIST): {percent(model.meta['test_accuracy'])}" in text
