"""Correcting a reading on the pad, and learning from corrections in the background.

`Corrector` turns "that digit is a 7" into a labelled sample (its strokes,
stored by `model.personal.samples.SampleStore`) and an override of the answer, so the
window shows the corrected digit at once. The strokes of a digit are found
from its box (the strokes lying inside it), which works whatever the
segmenter grouped, and an override is keyed by those strokes: it follows the
digit while other digits are written, and is dropped when strokes are
removed or replaced.

`Learner` (Model → Learn from corrections) counts the corrections and, after
`EVERY` of them, adapts the current weights to all of the user's samples in
the background (`app.adapting.AdaptJob`). It switches as soon as the adapted
weights are ready (about two seconds) if they read the samples they learned
better without losing more than `app.adapting.CHECK_MARGIN` on the check
set; then, when the fair estimate (samples held out of the adapting) comes,
it goes back to the weights it replaced if that says worse. The decision
and the status line are its own, the window only asks it. Both take
callbacks, not the window. Left out: undoing one correction (My samples
deletes samples).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

EVERY = 3
"""Adapt after this many corrections."""
SETTINGS_FILE = "settings.json"

Box = tuple[float, float, float, float]


def strokes_in_box(strokes: Sequence[Sequence[tuple[float, float]]], box: Box, slack: float = 2.0) -> tuple:
    """Indices of the strokes that lie inside `box` (else: whose centre does)."""
    x0, y0, x1, y1 = box
    inside, centred = [], []
    for i, s in enumerate(strokes):
        if not s:
            continue
        a = np.asarray(s, dtype=float).reshape(-1, 2)
        (sx0, sy0), (sx1, sy1) = a.min(axis=0), a.max(axis=0)
        if sx0 >= x0 - slack and sx1 <= x1 + slack and sy0 >= y0 - slack and sy1 <= y1 + slack:
            inside.append(i)
        cx, cy = (sx0 + sx1) / 2, (sy0 + sy1) / 2
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            centred.append(i)
    return tuple(inside or centred)


class Corrector:
    """Stores corrections as samples and shows them in the answer until the strokes change."""

    def __init__(self, store_folder: Callable[[], Path]):
        self._store_folder = store_folder
        self.overrides: dict[tuple, int] = {}
        self.kept: dict[tuple, Any] = {}  # the sample stored for each corrected digit
        self._version: int | None = None

    def store(self):
        """The user's `SampleStore` (the folder is looked up each time: $DIGITPAD_HOME may change)."""
        from model.personal.samples import SampleStore

        return SampleStore(self._store_folder())

    def correct(self, strokes: Sequence, reading, index: int, digit: int, version: int,
                size: tuple[int, int], pen_width: float):
        """Say digit `index` of `reading` is `digit`: store its strokes, override the answer.

        Returns (sample, changed) — changed is True for a new correction of a misread digit
        (False when the network had read it right: the sample is kept all the same, as a
        confirmation; and when the digit had been corrected already: relabelled). Raises
        `InputError` (one line) when the sample cannot be written; the override stays, so the
        answer is right either way.
        """
        from model.inputs.ink import Ink

        d = reading.digits[index]
        ids = strokes_in_box(strokes, d.box)
        if not ids:
            from model.errors import InputError

            raise InputError("no strokes found for that digit")
        self._sync(version)
        if self.overrides.get(ids) == int(digit):
            return self.kept.get(ids), False  # said already
        self.overrides[ids] = int(digit)
        changed = int(d.digit) != int(digit)
        earlier = self.kept.get(ids)
        if earlier is not None:  # corrected twice (a slip of the finger): relabel, do not keep both
            sample = self.store().relabel(earlier, str(digit))
        else:
            ink = Ink(strokes=[list(strokes[i]) for i in ids], width=size[0], height=size[1],
                      pen_width=pen_width)
            sample = self.store().add(ink, str(digit), source="correction" if changed else "confirmed")
        self.kept[ids] = sample
        return sample, changed and earlier is None

    def _sync(self, version: int) -> None:
        if version != self._version:
            self.overrides.clear()
            self.kept.clear()
            self._version = version

    def apply(self, reading, strokes: Sequence, version: int):
        """`reading` with the corrected digits replaced (probability 1 on the user's digit)."""
        self._sync(version)
        if reading is None or not self.overrides or not reading.digits:
            return reading
        digits = []
        for d in reading.digits:
            label = self.overrides.get(strokes_in_box(strokes, d.box))
            if label is None:
                digits.append(d)
            else:
                probs = np.zeros(10)
                probs[label] = 1.0
                digits.append(replace(d, digit=label, probs=probs))
        return replace(reading, digits=digits)

    def is_corrected(self, reading, strokes: Sequence, index: int) -> bool:
        """True when digit `index` shows the user's correction."""
        if reading is None or index is None or index >= len(reading.digits) or not self.overrides:
            return False
        return strokes_in_box(strokes, reading.digits[index].box) in self.overrides


def load_settings(home: Path) -> dict:
    """The app's small settings file (missing or damaged: defaults)."""
    from model.errors import DigitpadError
    from model.fileio import read_json

    path = home / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        data = read_json(path, DigitpadError)
    except DigitpadError:
        return {}
    return data if isinstance(data, dict) else {}


def save_setting(home: Path, key: str, value: Any) -> None:
    """Change one setting (atomically); a disk that refuses is not worth an error."""
    from model.fileio import atomic_write_text

    data = load_settings(home)
    data[key] = value
    try:
        atomic_write_text(home / SETTINGS_FILE, json.dumps(data, indent=1) + "\n")
    except OSError:
        pass


@dataclass
class LearnStatus:
    """What the learner is doing, for the status bar and the debug snapshot."""

    running: bool = False
    pending: int = 0  # corrections not yet adapted to
    text: str = ""  # "Adapted to 6 of your corrections", "Adapting to your corrections…"
    last: dict | None = None  # the last outcome's figures (``complete`` False until the estimate is in)


class Learner:
    """After every `every` corrections, adapt in the background and switch if it helps.

    `get_model()` gives the current `Model`; `samples()` the user's samples;
    `on_adapted(outcome)` must save and switch to the adapted weights (Tk thread);
    `on_back(outcome)` must go back to the weights they replaced, True if it did (False: the
    weights in use are no longer those); `on_estimated(outcome)` gets the complete outcome of
    weights that stay (to record its figures); `on_change()` is called whenever the status
    changes (to refresh the window).
    """

    def __init__(self, widget, *, get_model: Callable[[], Any], samples: Callable[[], list],
                 on_adapted: Callable[[Any], None], on_change: Callable[[], None], every: int = EVERY,
                 enabled: bool = True, on_back: Callable[[Any], bool] = lambda o: False,
                 on_estimated: Callable[[Any], None] = lambda o: None):
        self.widget = widget
        self.get_model, self.samples = get_model, samples
        self.on_adapted, self.on_change = on_adapted, on_change
        self.on_back, self.on_estimated = on_back, on_estimated
        self.every = every
        self.enabled = enabled
        self.status = LearnStatus()
        self.job = None
        self._base = None
        self._switched = False

    def corrected(self) -> None:
        """One more correction was stored: adapt once there are enough."""
        self.status.pending += 1
        self.maybe_start()
        self.on_change()

    def maybe_start(self) -> None:
        """Start adapting if learning is on, enough corrections wait and nothing runs."""
        if not self.enabled or self.status.pending < self.every or self.job is not None:
            return
        model = self.get_model()
        samples = self.samples()
        if model is None or not samples:
            return
        from app.adapting import AdaptJob

        self._base = model
        self._used = self.status.pending
        self._switched = False
        self.status.pending = 0
        self.status.running = True
        self.status.text = "Adapting to your corrections…"
        self.job = AdaptJob(self.widget, model, samples, on_done=self._done, on_error=self._error,
                            on_weights=self._weights)
        self.job.start()

    def _corrections(self) -> int:
        return sum(1 for s in self.samples() if s.source == "correction")

    def _weights(self, outcome) -> None:
        """The adapted weights are ready: switch now if they learned without forgetting; the fair
        estimate (which can only say no) goes on. If they did not, it cannot say yes: stop it."""
        self.status.last = outcome.to_json()
        if self.get_model() is not self._base:
            if self.job is not None:
                self.job.cancel()  # the weights changed meanwhile: forget it
        elif outcome.improves():
            n = self._corrections()
            # The status first: switching the weights refreshes the window, which shows it.
            self.status.text = f"Adapted to {n} of your correction{'s' * (n != 1)}; checking them…"
            self.on_adapted(outcome)
            self._switched = True
        else:
            if self.job is not None:
                self.job.cancel()
            self.status.text = self._kept_text(outcome)
        self.on_change()

    @staticmethod
    def _kept_text(outcome) -> str:
        if (outcome.samples_fit or 0) > (outcome.samples_before or 0) and outcome.check_after is not None \
                and outcome.check_before is not None and outcome.check_after < outcome.check_before:
            lost = 100 * (outcome.check_before - outcome.check_after)
            return f"Adapting would read other digits {lost:.1f} points worse; kept the current weights"
        return "Adapting did not read your samples better; kept the current weights"

    def _done(self, outcome) -> None:
        self.job = None
        self.status.running = False
        self.status.last = outcome.to_json()
        n = self._corrections()
        if outcome.cancelled:
            self.status.text = ""  # the weights changed meanwhile (or shutting down): forget it
        elif self._switched:
            if outcome.estimate_cancelled:
                self.status.text = f"Adapted to {n} of your correction{'s' * (n != 1)} (not checked)"
                self.on_estimated(outcome)  # says so in their model.json
            elif outcome.improves():
                self.status.text = f"Adapted to {n} of your correction{'s' * (n != 1)}"
                self.on_estimated(outcome)
            elif self.on_back(outcome):
                self.status.text = ("Went back: the adapted weights read your held-out samples worse; "
                                    "kept the weights you had")
            else:
                self.status.text = ""  # the weights were replaced meanwhile: nothing to undo
        elif self.get_model() is not self._base:
            self.status.text = ""
        elif not self.status.text.endswith("kept the current weights"):
            self.status.text = self._kept_text(outcome)
        self.maybe_start()
        self.on_change()

    def _error(self, message: str) -> None:
        self.job = None
        self.status.running = False
        if self._switched:
            self.status.text = f"Adapted, but could not check the new weights: {message}"
        else:
            self.status.text = f"Could not adapt: {message}"
        self.on_change()

    def set_enabled(self, on: bool) -> None:
        """The menu's check item."""
        self.enabled = on
        if on:
            self.maybe_start()
        self.on_change()

    def reset(self) -> None:
        """The weights were replaced by the user (restore, load, retrain): start counting again."""
        if self.job is not None:
            self.job.cancel()
        self.status.pending = 0
        self.status.text = ""

    def shutdown(self) -> None:
        """The window is closing: stop the worker."""
        if self.job is not None:
            self.job.shutdown()
            self.job = None
