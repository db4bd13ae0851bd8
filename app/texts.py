"""How the window, the dialogs and the command line write numbers for people.

Plain functions, no Tk: `app.cli` uses them without opening a window.
"""

from __future__ import annotations

import math


def percent(p: float | None, digits: int = 2, unknown: str = "unknown") -> str:
    """A fraction as a percentage with `digits` decimals (0.9920 -> "99.20%"); `unknown` for None."""
    return unknown if p is None else f"{100 * float(p):.{digits}f}%"


def clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour on; "--:--" when not known (NaN or infinite)."""
    if not math.isfinite(seconds):
        return "--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
