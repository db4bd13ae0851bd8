"""Compact numbers and close calls in the real window under Xvfb (xdotool draws, xclip reads).

A 4-digit number whose digit boxes touch is dragged onto the pad and copied
back with Ctrl+C; a compact number whose reading is a close call, opened as a
drawing (File > Open drawing), shows its runner-up under the result and marks
the doubtful digit. The drawings are checked first with `Recogniser` on the
points the pad will hold, so these tests check the GUI path, not the model.
A close call is opened rather than dragged: how close two readings are moves
by a few tenths of a nat with the pointer motion Xvfb happens to deliver
(some points merged or dropped), so a dragged one is a close call only some
of the time.

Run: ``pytest -m gui tests/test_gui_numbers.py -x -q``
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import PEN_FILE, bench_numbers
from gui_driver import as_drawn, missing_tools
from test_gui import app, samples, xvfb  # noqa: F401  (shared fixtures)

bench = bench_numbers()

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs X tools: {', '.join(missing_tools())}"),
    pytest.mark.skipif(not PEN_FILE.is_file(), reason=f"needs the pendigits file {PEN_FILE}"),
]


def touching_number(recogniser, samples, digits: str, scale: float = 0.7) -> list | None:  # noqa: F811
    """Strokes of `digits` at `scale`, each digit's box touching the next one's, read back right
    (and not by the geometric split), or None."""
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
        drawn = as_drawn(strokes)
        # One that the new reading gets right (from every point and from every other point: the pad
        # gets the pointer motion Xvfb delivers) and grouping by geometry alone does not.
        if recogniser.read_strokes(drawn).text == digits != recogniser.read_strokes_by_geometry(drawn).text \
                and recogniser.read_strokes(as_drawn(strokes, step=2)).text == digits:
            return strokes
    return None


def test_compact_four_digit_number_is_copied(app, samples, recogniser):  # noqa: F811
    found = ((d, st) for d in ("2047", "3581", "6190", "4712", "9365")
             if (st := touching_number(recogniser, samples, d)) is not None)
    digits, strokes = next(found, (None, None))
    assert strokes is not None, "no touching 4-digit number that only the new reading gets right"
    assert max(x for s in strokes for x, _ in s) < app.state()["pad"]["width"]
    st = app.draw_and_wait(strokes)
    assert st["text"] == digits, st
    assert len(st["boxes"]) == 4
    assert app.copy_result(digits) == digits


def close_call_number(recogniser, pen_samples) -> list:  # noqa: F811
    """The first compact one-writer number (2-4 digits, writers 25-30) whose reading is a close call."""
    held = [s for s in pen_samples if s.writer in bench.HOLDOUT_WRITERS]
    for strokes, _, _ in bench.compact_numbers(held, 1000, 4, (-0.05, 0.20), lengths=(2, 4)):
        drawn = [[(float(x), float(y)) for x, y in s] for s in strokes]
        if max(x for s in drawn for x, _ in s) >= 520:
            continue
        if recogniser.read_strokes(drawn).close_call:
            return drawn
    pytest.fail("no close call among 1,000 compact numbers")


def test_close_call_shows_its_alternative(app, recogniser, pen_samples, tmp_path):  # noqa: F811
    strokes = close_call_number(recogniser, pen_samples)
    expected = recogniser.read_strokes(strokes)
    assert expected.close_call and len(expected.digits) >= 2
    path = tmp_path / "close-call.json"
    path.write_text(json.dumps({"width": 560, "height": 320, "strokes": strokes}))
    app.key("Escape")
    app.wait_state(lambda s: s["strokes"] == 0, what="a clear pad")
    app.key("ctrl+shift+o")
    dialog = app.find_window("^Open drawing$")
    app.type(str(path), wid=dialog)
    app.key("Return", wid=dialog)
    st = app.wait_state(lambda s: s["strokes"] == len(strokes) and s["text"], what="the drawing to be read")
    assert st["text"] == expected.text
    assert st["close_call"] is True
    assert st["alternative"] == expected.alternative.text
    assert st["info"].startswith(f"or {expected.alternative.text} — not sure about digit "), st["info"]
    assert st["doubtful"] == expected.alternative.doubtful
    assert app.copy_result(expected.text) == expected.text
