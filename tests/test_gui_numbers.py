"""Compact numbers and close calls in the real window under Xvfb (xdotool draws, xclip reads).

A 4-digit number whose digit boxes touch is dragged onto the pad and copied
back with Ctrl+C; a "10" written in one stroke (a close call between "10"
and "0") shows its runner-up under the result and marks the doubtful digit.
The drawings are checked first with `Recogniser` on exactly the points the
pad will record, so these tests check the GUI path, not the model.

Run: ``pytest -m gui tests/test_gui_numbers.py -x -q``
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PEN_FILE
from gui_driver import as_drawn, missing_tools
from test_gui import app, recogniser, samples, xvfb  # noqa: F401  (shared fixtures)
from test_segment_recognition import joined_ten

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs X tools: {', '.join(missing_tools())}"),
    pytest.mark.skipif(not PEN_FILE.is_file(), reason=f"needs the pendigits file {PEN_FILE}"),
]


def touching_number(recogniser, samples, digits: str, scale: float = 0.7) -> list:  # noqa: F811
    """Strokes of `digits` at `scale`, each digit's box touching the next one's, read back right."""
    for k in range(3):
        strokes: list = []
        right = None
        for i, d in enumerate(digits):
            pool = samples[int(d)]
            st = [np.asarray(s, dtype=np.float64) * scale for s in pool[(k + i) % len(pool)].strokes]
            pts = np.concatenate(st)
            x0, y0 = pts.min(axis=0)
            y1 = pts[:, 1].max()
            dx = (60.0 if right is None else right) - x0
            dy = 160.0 - (y0 + y1) / 2
            st = [s + np.array([dx, dy]) for s in st]
            right = float(np.concatenate(st)[:, 0].max())
            strokes += [[(float(x), float(y)) for x, y in s] for s in st]
        if recogniser.read_strokes(as_drawn(strokes)).text == digits:
            return strokes
    pytest.fail(f"no sample combination of touching digits reads as {digits}")


def test_compact_four_digit_number_is_copied(app, samples, recogniser):  # noqa: F811
    strokes = touching_number(recogniser, samples, "2047")
    assert max(x for s in strokes for x, _ in s) < app.state()["pad"]["width"]
    st = app.draw_and_wait(strokes)
    assert st["text"] == "2047", st
    assert len(st["boxes"]) == 4
    assert app.copy_result("2047") == "2047"
    # The geometric split alone would not have read it.
    assert recogniser.read_strokes_by_geometry(as_drawn(strokes)).text != "2047"


def test_close_call_shows_its_alternative(app, recogniser):  # noqa: F811
    strokes = [[(float(x), float(y)) for x, y in s] for s in joined_ten()]
    expected = recogniser.read_strokes(as_drawn(strokes))
    assert expected.close_call and len(expected.digits) == 2
    st = app.draw_and_wait(strokes)
    assert st["text"] == expected.text
    assert st["close_call"] is True
    assert st["alternative"] == expected.alternative.text
    assert st["info"].startswith(f"or {expected.alternative.text} — not sure about digit "), st["info"]
    assert st["doubtful"] == expected.alternative.doubtful
    assert app.copy_result(expected.text) == expected.text
