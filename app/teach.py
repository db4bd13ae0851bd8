"""Model → Teach my handwriting… and Model → Adapt to my samples…

`TeachDialog` asks for each digit 0–9 in turn, for a few rounds (3 by
default, adjustable), on a pad of its own (`app.pad.Pad`). Each accepted
drawing is stored at once as a labelled sample (`model.personal.samples.SampleStore`,
source "teach"), so nothing is lost if the dialog closes; the grid shows
what the network sees for every cell, and clicking a cell redoes it (the
new drawing replaces the old sample). Then **Adapt**.

`AdaptPanel` (in both dialogs) adapts the current weights to all of the
user's samples in a background thread (`app.adapting.AdaptJob`) with a
progress bar and Cancel. The adapted weights are used as soon as they are
ready (issue 26: about two seconds), with **Go back** to the weights used
before; the panel says that the figures are coming and shows them as they
come: the held-out check set at once, then before/after on the user's
samples (fair estimate) and on MNIST test (when found). After going back,
**Use new weights** switches again. `AdaptDialog` is that panel alone,
started at once. Both dialogs take callbacks, not the main window.

Keyboard (Teach): Enter accepts the drawing, BackSpace clears the pad,
Ctrl+Z undoes a stroke, Alt+A adapts, Alt+G (or Alt+K) goes back, Alt+U
uses the new weights again, Escape cancels adapting (or the estimate) or
closes.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from app.pad import PEN_WIDTH, Pad, photo_from_gray
from app.texts import percent

THUMB_ZOOM = 2
DEFAULT_ROUNDS = 3


class AdaptPanel(ttk.Frame):
    """Adapt with progress and Cancel; the adapted weights are used as soon as they are ready, with
    Go back (and Use new weights again) while the fair estimate, check digits and MNIST follow.

    `on_use(outcome)` saves and switches to the adapted weights (raising `DigitpadError` or `OSError`
    if it cannot); `on_back(outcome)` returns to the weights used before, True if it did (False: the
    weights in use are no longer these); `on_estimated(outcome)` hands over the complete outcome while
    its weights are in use (to add the figures to their saved model.json).
    """

    def __init__(self, master: tk.Misc, *, get_model: Callable[[], Any], get_samples: Callable[[], list],
                 on_use: Callable[[Any], None], on_change: Callable[[], None] = lambda: None,
                 on_back: Callable[[Any], bool] = lambda o: False,
                 on_estimated: Callable[[Any], None] = lambda o: None):
        super().__init__(master)
        self.get_model, self.get_samples = get_model, get_samples
        self.on_use, self.on_change = on_use, on_change
        self.on_back, self.on_estimated = on_back, on_estimated
        self.phase = "idle"  # idle, running, estimating (weights ready), cancelling, done, failed
        self.job = None
        self.outcome = None
        self.progress = None
        self.error = ""
        self.accepted: str | None = None  # "used" (the adapted weights are in use), "back", None
        self.in_use_seconds: float | None = None
        self._started = 0.0
        self.columnconfigure(0, weight=1)
        self.bar = ttk.Progressbar(self, mode="determinate", maximum=1, length=420)
        self.bar.grid(row=0, column=0, columnspan=2, sticky="we")
        self.label = ttk.Label(self, text="", justify="left", wraplength=560)
        self.label.grid(row=1, column=0, columnspan=2, sticky="w", pady=(4, 0))
        buttons = ttk.Frame(self)
        buttons.grid(row=2, column=0, columnspan=2, sticky="e", pady=(8, 0))
        self.b_adapt = ttk.Button(buttons, text="Adapt", underline=0, command=self.start)
        self.b_cancel = ttk.Button(buttons, text="Cancel", command=self.cancel)
        self.b_use = ttk.Button(buttons, text="Use new weights", underline=0, command=self.use)
        self.b_back = ttk.Button(buttons, text="Go back", underline=0, command=self.back)
        for i, b in enumerate((self.b_use, self.b_back, self.b_adapt, self.b_cancel)):
            b.grid(row=0, column=i, padx=(6, 0))

    @property
    def busy(self) -> bool:
        """True while adapting or estimating."""
        return self.phase in ("running", "estimating", "cancelling")

    def can_start(self) -> bool:
        """Enough samples and a model, nothing running."""
        return not self.busy and self.get_model() is not None and len(self.get_samples()) >= 2

    def start(self) -> None:
        """Adapt the current weights to every stored sample, in a worker thread."""
        if not self.can_start():
            return
        from app.adapting import AdaptJob

        self.phase, self.outcome, self.progress, self.error, self.accepted = "running", None, None, "", None
        self.in_use_seconds = None
        self._started = time.monotonic()
        self.job = AdaptJob(self, self.get_model(), self.get_samples(), on_done=self._done,
                            on_error=self._failed, on_progress=self._progress, on_weights=self._weights)
        self.job.start()
        self.render()

    def _progress(self, p) -> None:
        self.progress = p
        self.render()

    def _weights(self, outcome) -> None:
        """The adapted weights are ready: use them at once; the estimate goes on in the background."""
        self.outcome = outcome
        if self.phase == "running":
            self.phase = "estimating"
        self.use()
        if self.accepted == "used":
            self.in_use_seconds = time.monotonic() - self._started
        self.render()

    def _done(self, outcome) -> None:
        self.job, self.outcome = None, outcome
        self.phase = "done"
        if self.accepted == "used" and outcome.complete and not outcome.cancelled:
            try:
                self.on_estimated(outcome)
            except Exception as exc:  # noqa: BLE001 - the weights are in use either way; say why
                self.error = f"Could not add the figures to the saved weights: {exc}"
        self.render()

    def _failed(self, message: str) -> None:
        self.job, self.error, self.phase = None, message, "failed"
        self.render()

    def cancel(self) -> None:
        """Stop adapting after the current iteration (nothing changes), or stop the estimate (the
        adapted weights stay in use)."""
        if self.phase in ("running", "estimating") and self.job is not None:
            self.job.cancel()
            self.phase = "cancelling"
            self.render()

    def use(self) -> None:
        """Use the adapted weights (the caller saves them in the user's weights folder)."""
        o = self.outcome
        if o is None or o.cancelled or self.accepted == "used" or self.phase in ("idle", "running", "failed"):
            return
        from model.errors import DigitpadError

        try:
            self.on_use(o)
        except (DigitpadError, OSError) as exc:
            self.error = f"Cannot save the weights: {exc}"
            self.render()
            return
        self.error = ""
        self.accepted = "used"
        self.render()

    def back(self) -> None:
        """Go back to the weights used before adapting."""
        if self.accepted != "used" or self.outcome is None:
            return
        from model.errors import DigitpadError

        try:
            went = self.on_back(self.outcome)
        except (DigitpadError, OSError) as exc:
            self.error = f"Cannot go back: {exc}"
            self.render()
            return
        if went:
            self.error = ""
            self.accepted = "back"
        else:
            self.error = "The weights in use changed since: nothing to go back to."
        self.render()

    keep = back  # Alt+K, as before the weights were used at once

    def shutdown(self) -> None:
        """The window is closing: stop the worker."""
        if self.job is not None:
            self.job.shutdown()
            self.job = None

    def _state_line(self, o) -> str:
        if self.accepted == "used":
            return ("Now using the adapted weights (saved; Go back returns to the weights you had)."
                    + ("" if not o.complete or o.improves() else "  They do not read your samples better."))
        if self.accepted == "back":
            return "Went back to the weights you had (Use new weights switches again)."
        return "Use the new weights?" + ("" if o.improves() else "  (They do not read your samples better.)")

    def text(self) -> str:
        """What the panel says now."""
        n = len(self.get_samples())
        p = self.progress
        if self.phase == "failed":
            lines = [f"Could not adapt: {self.error}"]
            if self.accepted == "used":
                lines.append("The adapted weights stay in use (Go back returns to the weights you had).")
            return "\n".join(lines)
        if self.phase == "running":
            where = f"{p.phase}: iteration {p.done}/{p.total}" if p else "preparing…"
            return f"Adapting to your {n} samples… {where}   ({time.monotonic() - self._started:.0f} s)"
        o = self.outcome
        if self.phase == "cancelling":
            return "Stopping the estimate…" if o is not None else "Cancelling…"
        if o is None:
            if n < 2:
                return "Adapting needs samples: teach a round of digits first."
            return f"Adapt the current weights to your {n} samples (about two seconds, then the figures)."
        if o.cancelled:
            return "Cancelled: nothing changed."
        check = (f"Check digits kept out of adapting: {percent(o.check_before, 1, '—')} → "
                 f"{percent(o.check_after, 1, '—')}")
        if self.phase == "estimating":
            digits = o.result.n_samples
            ready = (f"Adapted to your {digits} digits; in use {self.in_use_seconds:.1f} s after Adapt."
                     if self.in_use_seconds is not None else
                     f"Adapted to your {digits} digits in {o.weights_seconds or 0:.1f} s.")
            where = f"{p.phase}: iteration {p.done}/{p.total}" if p else "starting"
            lines = [ready, check,
                     f"Coming: your samples read fairly (each part by weights adapted without it) and MNIST "
                     f"test… {where}   ({time.monotonic() - self._started:.0f} s)"]
        else:
            if o.estimate_cancelled:
                samples = f"Your samples ({o.result.n_samples} digits): estimate cancelled"
                mnist = "MNIST test: not measured (cancelled)"
            else:
                samples = (f"Your samples ({o.result.n_samples} digits): "
                           f"{percent(o.samples_before, 1, '—')} → {percent(o.samples_after, 1, '—')} "
                           "(each part read by weights adapted without it)")
                mnist = (f"MNIST test: {percent(o.mnist_before, 1, '—')} → {percent(o.mnist_after, 1, '—')}"
                         if o.mnist_after is not None else "MNIST test: not measured (MNIST not found)")
            secs = self.in_use_seconds
            in_use = f"; in use {secs:.1f} s after Adapt" if secs is not None else ""
            lines = [samples, check, mnist, f"Took {o.result.seconds:.1f} s in all{in_use}."]
        lines[1:1] = [f"Left out a digit labelled {label} that reads as {read} and looks like your "
                      f"other {read}s (a slip? relabel it in My samples)."
                      for _, label, read in o.result.doubtful]
        lines.append(self._state_line(o))
        if self.error:
            lines.append(self.error)
        return "\n".join(lines)

    def render(self) -> None:
        """Map the panel's state onto its widgets."""
        p = self.progress
        self.bar.configure(maximum=max(1, p.total if p else 1), value=(p.done if p and self.busy else 0))
        if self.phase == "done":
            self.bar.configure(value=self.bar.cget("maximum"))
        self.label.configure(text=self.text(), foreground="#b00020" if self.phase == "failed" else "")
        self.b_adapt.configure(state="normal" if self.can_start() else "disabled")
        self.b_cancel.configure(state="normal" if self.phase in ("running", "estimating") else "disabled",
                                text="Stop estimate" if self.phase == "estimating" else "Cancel")
        o = self.outcome
        offer = o is not None and not o.cancelled and self.phase in ("estimating", "done", "failed")
        shown = ((self.b_use, offer and self.accepted != "used"), (self.b_back, self.accepted == "used"))
        for b, show in shown:
            if show:
                b.grid()
            else:
                b.grid_remove()
        self.on_change()

    def debug_state(self) -> dict:
        """JSON-able snapshot for tests."""
        return {"phase": self.phase, "accepted": self.accepted, "text": self.label.cget("text"),
                "outcome": self.outcome.to_json() if self.outcome is not None else None,
                "adapt_enabled": str(self.b_adapt.cget("state")) == "normal",
                "in_use_seconds": self.in_use_seconds}


class _Dialog(tk.Toplevel):
    """Common parts: placement beside the parent, close handling, the adapt panel's keys."""

    panel: AdaptPanel

    def __init__(self, master: tk.Misc, title: str, on_close: Callable[[], None]):
        super().__init__(master)
        self.title(title)
        self.transient(master)
        self.on_close = on_close
        self.protocol("WM_DELETE_WINDOW", self.close)
        for seq, fn in (("<Alt-a>", lambda: self.panel.start()), ("<Alt-A>", lambda: self.panel.start()),
                        ("<Alt-u>", lambda: self.panel.use()), ("<Alt-U>", lambda: self.panel.use()),
                        ("<Alt-k>", lambda: self.panel.back()), ("<Alt-K>", lambda: self.panel.back()),
                        ("<Alt-g>", lambda: self.panel.back()), ("<Alt-G>", lambda: self.panel.back()),
                        ("<Escape>", self.escape)):
            self.bind(seq, lambda e, fn=fn: (fn(), "break")[1])

    def place_beside(self, root: tk.Misc) -> None:
        """To the right of the main window when the screen has room, else over it."""
        self.update_idletasks()
        w = self.winfo_reqwidth()
        rx, ry, rw = root.winfo_rootx(), root.winfo_rooty(), root.winfo_width()
        x = rx + rw + 12 if rx + rw + 12 + w <= self.winfo_screenwidth() else max(0, rx + 40)
        self.geometry(f"+{x}+{max(0, ry)}")

    def escape(self) -> None:
        """Escape: cancel adapting, else close."""
        if self.panel.busy:
            self.panel.cancel()
        else:
            self.close()

    def close(self) -> None:
        """Close (stopping any adaptation; the samples are already saved)."""
        self.shutdown()
        self.on_close()
        self.destroy()

    def shutdown(self) -> None:
        """Stop the worker (the main window is closing, or this dialog)."""
        self.panel.shutdown()


class AdaptDialog(_Dialog):
    """Model → Adapt to my samples…: the adapt panel alone, started at once."""

    def __init__(self, master: tk.Misc, *, model, samples: list, on_use: Callable[[Any], None],
                 on_close: Callable[[], None], on_change: Callable[[], None] = lambda: None,
                 on_back: Callable[[Any], bool] = lambda o: False,
                 on_estimated: Callable[[Any], None] = lambda o: None):
        super().__init__(master, "Adapt — Digitpad", on_close)
        frame = ttk.Frame(self, padding=12)
        frame.grid(row=0, column=0, sticky="nsew")
        self.panel = AdaptPanel(frame, get_model=lambda: model, get_samples=lambda: samples, on_use=on_use,
                                on_change=on_change, on_back=on_back, on_estimated=on_estimated)
        self.panel.grid(row=0, column=0, sticky="nsew")
        self.panel.render()
        self.place_beside(master)
        self.panel.start()

    def debug_state(self) -> dict:
        """JSON-able snapshot for tests."""
        return self.panel.debug_state()


class TeachDialog(_Dialog):
    """Model → Teach my handwriting…: each digit in turn, a few rounds, then Adapt."""

    def __init__(self, master: tk.Misc, *, get_model: Callable[[], Any], on_use: Callable[[Any], None],
                 on_samples_changed: Callable[[], None], on_close: Callable[[], None],
                 on_change: Callable[[], None] = lambda: None, rounds: int = DEFAULT_ROUNDS, store=None,
                 on_back: Callable[[Any], bool] = lambda o: False,
                 on_estimated: Callable[[Any], None] = lambda o: None):
        super().__init__(master, "Teach my handwriting — Digitpad", on_close)
        self.on_back, self.on_estimated = on_back, on_estimated
        from model.personal.samples import SampleStore, samples_dir

        self.store = store or SampleStore(samples_dir())
        self.on_samples_changed = on_samples_changed
        self.on_change = on_change
        self.rounds = rounds
        self.cells: dict[tuple[int, int], Any] = {}  # (round, digit) -> Sample
        self.thumbs: dict[tuple[int, int], tk.PhotoImage] = {}
        self.current = (0, 0)
        self.strokes: list[list[tuple[float, float]]] = []
        self.live: list[tuple[float, float]] | None = None
        self.version = 0
        self.error = ""
        self._samples_cache: list | None = None
        self._build(get_model, on_use)
        self.render()
        self.place_beside(master)
        self.pad.focus_set()

    # -- construction -----------------------------------------------------------
    def _build(self, get_model, on_use) -> None:
        f = ttk.Frame(self, padding=12)
        f.grid(row=0, column=0, sticky="nsew")
        top = ttk.Frame(f)
        top.grid(row=0, column=0, columnspan=2, sticky="we")
        self.prompt = ttk.Label(top, text="", font=("TkDefaultFont", 16, "bold"))
        self.prompt.grid(row=0, column=0, sticky="w")
        ttk.Label(top, text="Rounds").grid(row=0, column=1, sticky="e", padx=(24, 4))
        self.v_rounds = tk.StringVar(self, str(self.rounds))
        self.s_rounds = ttk.Spinbox(top, from_=1, to=10, width=3, textvariable=self.v_rounds,
                                    command=self._rounds_changed)
        self.s_rounds.grid(row=0, column=2, sticky="e")
        self.s_rounds.bind("<Return>", lambda e: (self._rounds_changed(), "break")[1])
        top.columnconfigure(0, weight=1)

        pad_frame = tk.Frame(f, background="#c8c8c8", padx=1, pady=1)
        pad_frame.grid(row=1, column=0, sticky="nw", pady=(8, 0))
        self.pad = Pad(pad_frame, on_press=self._press, on_drag=self._drag, on_release=self._release,
                       width=360, height=280)
        self.pad.grid(row=0, column=0)
        side = ttk.Frame(f, padding=(12, 8, 0, 0))
        side.grid(row=1, column=1, sticky="nw")
        self.b_next = ttk.Button(side, text="Next (Enter)", command=self.accept)
        self.b_clear = ttk.Button(side, text="Clear (BackSpace)", command=self.clear_pad)
        self.b_undo = ttk.Button(side, text="Undo stroke (Ctrl+Z)", command=self.undo)
        for i, b in enumerate((self.b_next, self.b_clear, self.b_undo)):
            b.grid(row=i, column=0, sticky="we", pady=2)
        self.hint = ttk.Label(side, text="Click a cell below\nto write it again.", foreground="#777777")
        self.hint.grid(row=3, column=0, sticky="w", pady=(10, 0))

        self.grid_frame = ttk.Frame(f)
        self.grid_frame.grid(row=2, column=0, columnspan=2, sticky="w", pady=(10, 0))
        self._build_grid()

        ttk.Separator(f).grid(row=3, column=0, columnspan=2, sticky="we", pady=10)
        self.panel = AdaptPanel(f, get_model=get_model, get_samples=self._all_samples, on_use=on_use,
                                on_change=self.on_change, on_back=self.on_back,
                                on_estimated=self.on_estimated)
        self.panel.grid(row=4, column=0, columnspan=2, sticky="we")
        for seq, fn in (("<Return>", self.accept), ("<KP_Enter>", self.accept),
                        ("<BackSpace>", self.clear_pad), ("<Control-z>", self.undo),
                        ("<Control-Z>", self.undo)):
            self.bind(seq, lambda e, fn=fn: (fn(), "break")[1] if e.widget is not self.s_rounds else None)

    def _build_grid(self) -> None:
        for w in self.grid_frame.winfo_children():
            w.destroy()
        size = 28 * THUMB_ZOOM
        self._blank = photo_from_gray([[0.0] * 28] * 28, THUMB_ZOOM, master=self)
        self.cell_widgets: dict[tuple[int, int], tk.Label] = {}
        for d in range(10):
            ttk.Label(self.grid_frame, text=str(d), anchor="center").grid(row=0, column=d + 1)
        for r in range(self.rounds):
            ttk.Label(self.grid_frame, text=f"{r + 1}", foreground="#777777").grid(
                row=r + 1, column=0, padx=(0, 4))
            for d in range(10):
                lab = tk.Label(self.grid_frame, image=self._blank, width=size, height=size, borderwidth=0,
                               highlightthickness=2, highlightbackground="#dddddd", background="black",
                               cursor="hand2")
                lab.grid(row=r + 1, column=d + 1, padx=1, pady=1)
                lab.bind("<Button-1>", lambda e, key=(r, d): self.choose_cell(key))
                self.cell_widgets[(r, d)] = lab

    # -- pad ------------------------------------------------------------------------
    def _press(self, x: float, y: float) -> None:
        self.live = [(x, y)]

    def _drag(self, x: float, y: float) -> None:
        if self.live is not None:
            self.live.append((x, y))

    def _release(self) -> None:
        if self.live:
            self.strokes.append(self.live)
        self.live = None
        self.render()

    def clear_pad(self) -> None:
        """Start the current cell's drawing again."""
        self.strokes = []
        self.version += 1
        self.render()

    def undo(self) -> None:
        """Remove the last stroke."""
        if self.strokes:
            self.strokes.pop()
            self.version += 1
            self.render()

    # -- cells ------------------------------------------------------------------------
    def _all_samples(self) -> list:
        if self._samples_cache is None:
            self._samples_cache, _ = self.store.load()
        return self._samples_cache

    def choose_cell(self, key: tuple[int, int]) -> None:
        """Make `key` (round, digit) the cell to write next (redo it if filled)."""
        if self.panel.busy:
            return
        self.current = key
        self.clear_pad()

    def _next_empty(self) -> tuple[int, int] | None:
        r0, d0 = self.current
        order = [(r, d) for r in range(self.rounds) for d in range(10)]
        start = order.index((r0, d0)) if (r0, d0) in order else 0
        for key in order[start:] + order[:start]:
            if key not in self.cells:
                return key
        return None

    def accept(self) -> None:
        """Keep the drawing as the current cell's sample (replacing a redone cell's), move on."""
        from model.errors import DigitpadError
        from model.inputs.ink import Ink

        if not self.strokes or self.panel.busy or self.current is None:
            return
        r, d = self.current
        w, h = self.pad.size()
        ink = Ink(strokes=[list(s) for s in self.strokes], width=w, height=h, pen_width=PEN_WIDTH)
        try:
            sample = self.store.add(ink, str(d), source="teach")
            old = self.cells.get((r, d))
            if old is not None:
                self.store.delete(old)
        except DigitpadError as exc:
            self.error = str(exc)
            self.render()
            return
        self.error = ""
        self.cells[(r, d)] = sample
        self.thumbs[(r, d)] = self._thumb(self.strokes)
        self._samples_cache = None
        self.strokes = []
        self.version += 1
        self.current = self._next_empty()
        self.render()
        self.on_samples_changed()

    def _thumb(self, strokes) -> tk.PhotoImage:
        from model.inputs.ink import as_strokes, normalise

        return photo_from_gray(normalise(as_strokes(strokes)), THUMB_ZOOM, master=self)

    def _rounds_changed(self) -> None:
        try:
            n = int(self.v_rounds.get())
        except ValueError:
            n = self.rounds
        n = max(1, min(10, n))
        self.v_rounds.set(str(n))
        if n == self.rounds:
            return
        self.rounds = n  # cells beyond the new count stay stored as samples; they are just not shown
        self.cells = {k: v for k, v in self.cells.items() if k[0] < n}
        self.thumbs = {k: v for k, v in self.thumbs.items() if k[0] < n}
        if self.current is None or self.current[0] >= n:
            self.current = (0, 0)
        self.current = self._next_empty()
        self._build_grid()
        self.render()

    # -- state -> widgets ---------------------------------------------------------------
    def render(self) -> None:
        """Map the dialog's state onto its widgets."""
        filled = len(self.cells)
        total = self.rounds * 10
        if self.current is None:
            self.prompt.configure(text=f"All {total} written — press Adapt")
        else:
            r, d = self.current
            redo = " again" if self.current in self.cells else ""
            self.prompt.configure(text=f"Write a {d}{redo}   (round {r + 1} of {self.rounds})")
        self.pad.draw_strokes(self.strokes, self.version)
        for key, lab in self.cell_widgets.items():
            lab.configure(image=self.thumbs.get(key, self._blank),
                          highlightbackground="#d9822b" if key == self.current else
                          ("#2e7d32" if key in self.cells else "#dddddd"))
        busy = self.panel.busy
        self.b_next.configure(state="normal" if self.strokes and not busy and self.current else "disabled")
        self.b_clear.configure(state="normal" if self.strokes else "disabled")
        self.b_undo.configure(state="normal" if self.strokes else "disabled")
        hint = f"{filled} of {total} written.\nClick a cell to write it again."
        self.hint.configure(text=self.error or hint,
                            foreground="#b00020" if self.error else "#777777")
        self.panel.render()

    def debug_state(self) -> dict:
        """JSON-able snapshot for tests."""
        return {
            "pad": {"x": self.pad.winfo_rootx(), "y": self.pad.winfo_rooty(),
                    "width": self.pad.winfo_width(), "height": self.pad.winfo_height()},
            "strokes": len(self.strokes), "drawing": self.live is not None,
            "current": list(self.current) if self.current else None, "rounds": self.rounds,
            "filled": sorted([list(k) for k in self.cells]), "prompt": self.prompt.cget("text"),
            "error": self.error, **{"adapt_" + k: v for k, v in self.panel.debug_state().items()},
            "cells": {f"{r},{d}": [w.winfo_rootx() + w.winfo_width() // 2,
                                   w.winfo_rooty() + w.winfo_height() // 2]
                      for (r, d), w in self.cell_widgets.items()},
            "cell_files": {f"{r},{d}": s.path.name for (r, d), s in self.cells.items()},
        }
