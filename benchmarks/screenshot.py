"""Take the README screenshot: the app under Xvfb with a number drawn on the pad.

Starts a virtual X server, runs ``python -m app``, drags the mouse along the
strokes of real pen-written digits (pendigits) so the app reads "2026", and
saves the window as ``assets/screenshot.png``. Needs Xvfb, xdotool and
ImageMagick. Run from the repository root: ``python benchmarks/screenshot.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SHARED = Path(os.environ.get("DIGITPAD_SHARED", ROOT.parent / "shared" / "data"))
PEN_FILE = Path(os.environ.get("DIGITPAD_PEN_DATA", SHARED / "pendigits-train")) / "pendigits-orig.tra"


def number_strokes(text: str, scale: float = 0.95, spacing: float = 125.0):
    """Strokes of pendigits samples side by side that the shipped model reads as `text`."""
    from gui_driver import as_drawn, shifted

    from model.datasets import pendigits
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    rec = Recogniser(load_weights(ROOT / "weights"))
    pool: dict[int, list] = {}
    for s in pendigits.load(PEN_FILE):
        r = rec.read_strokes(as_drawn(s.strokes))
        if r.text == str(s.label) and r.confidence > 0.97:
            pool.setdefault(s.label, []).append(s)
    n = len(text)
    for k in range(20):
        strokes = []
        for i, ch in enumerate(text):
            cands = pool[int(ch)]
            strokes += shifted(cands[(k + 3 * i) % len(cands)].strokes,
                               dx=(i - (n - 1) / 2) * spacing, scale=scale)
        r = rec.read_strokes(as_drawn(strokes))
        if r.text == text and r.confidence > 0.9:
            return strokes
    raise SystemExit(f"no combination of samples reads as {text}")


def main() -> None:
    """Draw the number and save the screenshot."""
    from gui_driver import App, Xvfb

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", default="2026", help="the number to draw (2026)")
    p.add_argument("--out", default=str(ROOT / "assets" / "screenshot.png"))
    p.add_argument("--before", default="7,42", help="numbers written (and cleared) first, for the history")
    args = p.parse_args()
    earlier = [number_strokes(t) for t in args.before.split(",") if t]
    strokes = number_strokes(args.text)
    xvfb = Xvfb(1280, 1024)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = App(xvfb, Path(tmp))
            try:
                app.wait_ready()
                for t, ink in zip(args.before.split(","), earlier, strict=True):
                    app.draw_and_wait(ink, timeout=60)
                    app.copy_result(t)
                    app.key("Escape")
                    app.wait_state(lambda s: s["strokes"] == 0)
                st = app.draw_and_wait(strokes, timeout=60)
                app.xdo("mousemove", "1200", "1000")  # the pointer off the window
                app.wait_state(lambda s: s["selected"] == len(args.text) - 1, what="the last digit")
                app.screenshot(Path(args.out))
            finally:
                app.close()
    finally:
        xvfb.stop()
    print(f"read {st['text']!r} ({100 * st['confidence']:.1f}%); saved {args.out}")


if __name__ == "__main__":
    main()
