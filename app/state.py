"""What the main window shows, as plain data: `AppState` and the pieces it holds.

`app.main_window.MainWindow.refresh` maps this state onto the widgets; event
handlers change it. Nothing here touches Tk, so the retrain dialog and tests
can use these classes without a window. `load_initial_model` picks the
weights the window starts with.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import paths
from model.errors import DigitpadError
from model.net.weights import Model, load_weights

if TYPE_CHECKING:
    from model.recognise import Reading, Recogniser
    from model.verifier import Verifier

Point = tuple[float, float]
Box = tuple[float, float, float, float]

HISTORY_SIZE = 8
"""How many recent results the window lists."""
EMPTY_MESSAGE = "Draw a digit"
LOADING_MESSAGE = "Loading the network…"
"""Shown while the start-up weights are read and their recogniser built (a worker thread's job)."""


@dataclass
class TrainingState:
    """What the main window needs to know about a retraining run."""

    running: bool = False
    iteration: int = 0
    max_iter: int = 0
    status: str = ""


@dataclass
class Picture:
    """An opened image: its grey levels (0 black .. 1 white) and file."""

    path: Path
    gray: Any  # np.ndarray (h, w)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in image pixels."""
        h, w = self.gray.shape
        return int(w), int(h)


@dataclass
class AppState:
    """Everything the window shows, in one place."""

    strokes: list[list[Point]] = field(default_factory=list)
    current: list[Point] | None = None  # the stroke being drawn
    version: int = 0  # bumped when strokes are removed or replaced (not when one is added)
    reading: Reading | None = None
    message: str = EMPTY_MESSAGE  # shown instead of a result
    hover: int | None = None  # digit under the mouse
    picture: Picture | None = None
    model: Model | None = None
    recogniser: Recogniser | None = None
    weights_kind: str = "shipped"  # "shipped", "retrained" or "loaded"
    history: deque = field(default_factory=lambda: deque(maxlen=HISTORY_SIZE))
    training: TrainingState = field(default_factory=TrainingState)
    note: str = ""  # a passing remark in the status bar ("Copied 42")
    loading: bool = False  # the start-up network is still being loaded (strokes are kept meanwhile)
    shown: bool = False  # the window is mapped and idle: it takes input
    ready: bool = False  # shown, and the start-up network is loaded (or known to be missing)

    def all_strokes(self) -> list[list[Point]]:
        """Finished strokes plus the one being drawn."""
        if self.current:
            return [*self.strokes, self.current]
        return list(self.strokes)

    @property
    def selected(self) -> int | None:
        """Index of the digit whose details are shown: under the mouse, else the last written."""
        r = self.reading
        if r is None or not r.digits:
            return None
        if self.hover is not None and self.hover < len(r.digits):
            return self.hover
        strokes = self.all_strokes()
        if self.picture is None and strokes:
            xs = [p[0] for p in strokes[-1]]
            cx = (min(xs) + max(xs)) / 2
            return min(range(len(r.digits)),
                       key=lambda i: 0 if r.digits[i].box[0] <= cx <= r.digits[i].box[2]
                       else min(abs(cx - r.digits[i].box[0]), abs(cx - r.digits[i].box[2])))
        return len(r.digits) - 1


@functools.lru_cache(maxsize=1)
def shipped_verifier() -> tuple[Verifier | None, str]:
    """(the shipped one-whole-digit network, warning): read once from ``assets/`` (`model.verifier`).
    Missing or malformed files leave it out (None) with a one-line warning naming the file: scanned
    rows are then split as before it existed."""
    from model.verifier import load_verifier

    try:
        return load_verifier(paths.resource("assets")), ""
    except DigitpadError as exc:
        return None, f"{exc}; scanned rows are split into digits without it."


def make_recogniser(model: Model) -> Recogniser:
    """A `Recogniser` for `model` with the shipped verifier (`shipped_verifier`) when it loads."""
    from model.recognise import Recogniser

    return Recogniser(model, shipped_verifier()[0])


def load_initial_model() -> tuple[Model | None, str, str]:
    """(model, kind, warning) for start-up: $DIGITPAD_WEIGHTS, else the active weights.

    Corrupt retrained weights fall back to the shipped ones; `warning` then
    says what happened (empty when all went well).
    """
    warnings = []
    candidates: list[tuple[Path, str]] = []
    env = os.environ.get("DIGITPAD_WEIGHTS")
    if env:
        candidates.append((Path(env), "loaded"))
    active = paths.active_weights_dir()
    if active != paths.shipped_weights_dir():
        candidates.append((active, "retrained"))
    candidates.append((paths.shipped_weights_dir(), "shipped"))
    for folder, kind in candidates:
        try:
            return load_weights(folder), kind, "\n\n".join(warnings)
        except DigitpadError as exc:
            warnings.append(str(exc))
    warnings.append("No usable weights: recognition is off until you load or retrain weights.")
    return None, "none", "\n\n".join(warnings)
