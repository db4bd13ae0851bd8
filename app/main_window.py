"""Digitpad's main window: draw digits with the mouse and see them recognised live.

Design (as in CPython's idlelib and turtledemo): everything the window shows
is derived from one `AppState` object, and one method, `MainWindow.refresh`,
maps that state onto the widgets (labels, bars, the preview, the boxes on the
pad, menu entries enabled or not). Event handlers only change the state and
call `refresh`.

Environment variables (for tests and benchmarks; none is needed to use the app):

``DIGITPAD_HOME``
    The user data folder (retrained weights live in ``$DIGITPAD_HOME/weights``).
``DIGITPAD_WEIGHTS``
    A weights folder to use at start instead of the active ones.
``DIGITPAD_DEBUG_STATE``
    A file path: the window writes a small JSON snapshot of its state there
    (the pad's position on screen, the recognised text, the training
    progress, ``"shown": true`` once the window is first mapped and idle,
    ``"ready": true`` once it is shown and the start-up network is loaded)
    each time it refreshes, so that GUI tests can wait for conditions
    instead of sleeping.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import sys
import threading
import time
import tkinter as tk
import traceback
from collections.abc import Callable
from pathlib import Path
from tkinter import filedialog, font, messagebox, ttk
from typing import TYPE_CHECKING

from app import help as app_help
from app import paths
from app.files import FilesMixin
from app.pad import Pad, photo_from_gray, photo_from_pil
from app.state import (
    EMPTY_MESSAGE,
    LOADING_MESSAGE,
    AppState,
    Box,
    TrainingState,
    load_initial_model,
    make_recogniser,
    shipped_verifier,
)
from app.teaching import TeachingMixin
from app.texts import percent
from model.errors import DigitpadError, NothingToRecognise
from model.net.weights import Model, load_weights

if TYPE_CHECKING:
    from app.inside import InsideWindow
    from app.retrain import RetrainDialog
    from model.recognise import Recogniser

TITLE = "Digitpad"
LIVE_INTERVAL_MS = 80
"""While drawing, recognise at most this often."""
PREVIEW_ZOOM = 4
BARS_HEIGHT = 86
BAR_STEP = 26
ACCENT = "#2a7ab0"
MUTED = "#777777"
WARN = "#b35900"




class MainWindow(TeachingMixin, FilesMixin):
    """The Digitpad window: a pad, the live result and the menus."""

    def __init__(self, root: tk.Tk):
        self.root = root
        self.state = AppState()
        self.retrain_dialog: RetrainDialog | None = None
        self.inside_window: InsideWindow | None = None
        self._live_job: str | None = None
        self._resize_job: str | None = None
        self._picture_cache: tuple[tuple, tk.PhotoImage, float, float, float] | None = None
        self._preview_key: object = None
        self._debug_path = os.environ.get("DIGITPAD_DEBUG_STATE") or None
        self._debug_job: str | None = None
        self._start_loading: Callable[[], None] | None = None
        self._init_teaching()
        root.title(TITLE)
        root.report_callback_exception = self.report_exception
        root.protocol("WM_DELETE_WINDOW", self.quit)
        self._set_icon()
        self._build_fonts()
        self._build_menus()
        self._build_widgets()
        self._bind_keys()

    # -- construction ---------------------------------------------------------
    def _set_icon(self) -> None:
        icon = paths.resource("assets", "icon.png")
        if icon.is_file():
            try:
                self._icon = tk.PhotoImage(master=self.root, file=str(icon))
                self.root.iconphoto(True, self._icon)
            except tk.TclError:
                pass

    def _build_fonts(self) -> None:
        base = font.nametofont("TkDefaultFont")
        family = base.actual("family")
        self.font_result = font.Font(root=self.root, family=family, size=32, weight="bold")
        self.font_info = font.Font(root=self.root, family=family, size=11)
        self.font_small = font.Font(root=self.root, family=family, size=9)

    def _build_menus(self) -> None:
        root = self.root
        root.option_add("*tearOff", False)
        bar = tk.Menu(root)
        self.menu_file = m = tk.Menu(bar)
        m.add_command(label="Save drawing…", accelerator="Ctrl+S", command=self.save_drawing, underline=0)
        m.add_command(label="Open drawing…", accelerator="Ctrl+Shift+O", command=self.open_drawing,
                      underline=0)
        m.add_command(label="Open image…", accelerator="Ctrl+O", command=self.open_image, underline=5)
        m.add_separator()
        m.add_command(label="Quit", accelerator="Ctrl+Q", command=self.quit, underline=0)
        bar.add_cascade(label="File", menu=m, underline=0)
        self.menu_edit = m = tk.Menu(bar)
        m.add_command(label="Undo", accelerator="Ctrl+Z", command=self.undo, underline=0)
        m.add_command(label="Clear", accelerator="Esc", command=self.clear, underline=1)
        m.add_separator()
        m.add_command(label="Copy result", accelerator="Ctrl+C", command=self.copy_result, underline=0)
        bar.add_cascade(label="Edit", menu=m, underline=0)
        self.menu_model = m = tk.Menu(bar)
        m.add_command(label="Retrain…", accelerator="Ctrl+R", command=self.open_retrain, underline=0)
        m.add_command(label="Load weights…", command=self.load_weights_dialog, underline=0)
        m.add_command(label="Restore shipped weights", command=self.restore_shipped, underline=2)
        m.add_separator()
        self._build_teach_menu(m)
        m.add_separator()
        m.add_command(label="Model info", accelerator="Ctrl+I", command=self.show_model_info, underline=6)
        m.add_command(label="Inside the network…", accelerator="Ctrl+Shift+I", command=self.open_inside,
                      underline=0)
        bar.add_cascade(label="Model", menu=m, underline=0)
        self.menu_help = m = tk.Menu(bar)
        m.add_command(label="Keyboard shortcuts", accelerator="F1",
                      command=lambda: app_help.show_shortcuts(self.root), underline=0)
        m.add_command(label="About Digitpad", command=lambda: app_help.show_about(self.root), underline=0)
        bar.add_cascade(label="Help", menu=m, underline=0)
        root.config(menu=bar)

    def _build_widgets(self) -> None:
        root = self.root
        outer = ttk.Frame(root, padding=8)
        outer.grid(row=0, column=0, sticky="nsew")
        root.rowconfigure(0, weight=1)
        root.columnconfigure(0, weight=1)
        outer.rowconfigure(0, weight=1)
        outer.columnconfigure(0, weight=1)

        pad_frame = tk.Frame(outer, background="#c8c8c8", padx=1, pady=1)
        pad_frame.grid(row=0, column=0, sticky="nsew")
        pad_frame.rowconfigure(0, weight=1)
        pad_frame.columnconfigure(0, weight=1)
        self.pad = Pad(pad_frame, on_press=self._stroke_start, on_drag=self._stroke_point,
                       on_release=self._stroke_end, on_hover=self._hover, on_leave=self._leave,
                       on_resize=self._pad_resized)
        self.pad.grid(row=0, column=0, sticky="nsew")

        side = ttk.Frame(outer, padding=(12, 0, 0, 0), width=270)
        side.grid(row=0, column=1, sticky="ns")
        self.result_label = tk.Label(side, text="", font=self.font_result, anchor="w", width=10,
                                     foreground=ACCENT)
        self.result_label.grid(row=0, column=0, sticky="ew")
        self.info_label = tk.Label(side, text="", font=self.font_info, anchor="w", justify="left",
                                   wraplength=260)
        self.info_label.grid(row=1, column=0, sticky="ew", pady=(0, 4))

        self.digit_caption = ttk.Label(side, text="", font=self.font_small, foreground=MUTED)
        self.digit_caption.grid(row=2, column=0, sticky="w")
        self.bars = tk.Canvas(side, width=264, height=BARS_HEIGHT, highlightthickness=0,
                              background="#f4f4f4")
        self.bars.grid(row=3, column=0, sticky="w", pady=(1, 4))
        self._bar_items = self._build_bars()

        below = ttk.Frame(side)
        below.grid(row=4, column=0, sticky="nsew")
        side.rowconfigure(4, weight=1)
        below.columnconfigure(1, weight=1)
        below.rowconfigure(1, weight=1)
        ttk.Label(below, text="Network sees", font=self.font_small, foreground=MUTED).grid(
            row=0, column=0, sticky="w")
        ttk.Label(below, text="Recent results", font=self.font_small, foreground=MUTED).grid(
            row=0, column=1, sticky="w", padx=(10, 0))
        size = 28 * PREVIEW_ZOOM
        self._blank_preview = photo_from_gray([[0.0] * 28] * 28, PREVIEW_ZOOM, master=root)
        self.preview = tk.Label(below, image=self._blank_preview, width=size, height=size,
                                borderwidth=0, background="black")
        self.preview.grid(row=1, column=0, sticky="nw")
        self.history_list = tk.Listbox(below, height=6, width=16, activestyle="none",
                                       takefocus=0, exportselection=False, font=self.font_small)
        self.history_list.grid(row=1, column=1, sticky="nsew", padx=(10, 0))
        self.history_list.bind("<Double-Button-1>", self._history_copy)

        self.status = ttk.Label(root, text="", anchor="w", padding=(8, 2), relief="sunken",
                                font=self.font_small)
        self.status.grid(row=1, column=0, sticky="ew")
        root.minsize(520, 360)

    def _build_bars(self) -> list[tuple[int, int, int]]:
        items = []
        base = BARS_HEIGHT - 16
        for d in range(10):
            x = 2 + d * BAR_STEP
            bar = self.bars.create_rectangle(x + 3, base, x + BAR_STEP - 3, base, fill=ACCENT, outline="")
            pct = self.bars.create_text(x + BAR_STEP / 2, base - 2, text="", font=self.font_small,
                                        anchor="s")
            self.bars.create_text(x + BAR_STEP / 2, base + 8, text=str(d), font=self.font_small)
            items.append((bar, pct, x))
        return items

    def _bind_keys(self) -> None:
        r = self.root
        for seq, fn in (
            ("<Control-c>", self.copy_result), ("<Control-C>", self.copy_result),
            ("<Control-z>", self.undo), ("<Control-Z>", self.undo),
            ("<Escape>", self.clear), ("<Delete>", self.clear),
            ("<Control-s>", self.save_drawing), ("<Control-S>", self.save_drawing),
            ("<Control-o>", self.open_image), ("<Control-O>", self.open_drawing),
            ("<Control-r>", self.open_retrain), ("<Control-i>", self.show_model_info),
            ("<Control-I>", self.open_inside),
            ("<Control-q>", self.quit), ("<Control-Q>", self.quit),
            ("<F1>", lambda: app_help.show_shortcuts(self.root)),
            ("<Control-t>", self.open_teach), ("<Control-T>", self.open_teach),
        ):
            r.bind(seq, lambda e, fn=fn: (fn(), "break")[1])
        for d in range(10):
            for seq in (f"<Key-{d}>", f"<KP_{d}>"):
                r.bind(seq, lambda e, d=d: (self.correct_selected(d), "break")[1])
        self.pad.bind("<Button-3>", self._pad_menu)

    # -- model ----------------------------------------------------------------
    def set_model(self, model: Model | None, kind: str, recogniser: Recogniser | None = None) -> None:
        """Use `model` from now on (None: recognition off) and re-read the pad; `recogniser`, if
        given, is `model`'s, built already (by the start-up loader)."""
        if kind == "retrained" and model is not None and "adapted_from" in model.meta:
            kind = "adapted"
        self.state.model = model
        if recogniser is None and model is not None:
            recogniser = make_recogniser(model)
        self.state.recogniser = recogniser if model is not None else None
        self.state.weights_kind = kind
        self.recognise()

    def use_new_weights(self, result) -> Path:
        """Save a retrained `RunResult` (one network or a committee) as the user's weights, atomically,
        and switch to them."""
        folder = result.save(paths.user_weights_dir())
        self.set_model(load_weights(folder), "retrained")
        self.state.note = "Now using the retrained weights"
        self.refresh()
        return folder

    def load_weights_dialog(self) -> None:
        """Model → Load weights…: use another weights folder for this session."""
        folder = filedialog.askdirectory(parent=self.root, title="Load weights folder",
                                         mustexist=True)
        if not folder:
            return
        try:
            model = load_weights(folder)
        except DigitpadError as exc:
            messagebox.showerror("Cannot load weights", f"{exc}\n\nStill using the weights I had.",
                                 parent=self.root)
            return
        self.set_model(model, "loaded")

    def restore_shipped(self) -> None:
        """Model → Restore shipped weights: delete the retrained weights, reload the shipped."""
        user = paths.user_weights_dir()
        if user.exists():
            if not messagebox.askyesno("Restore shipped weights",
                                       f"Delete your retrained weights in\n{user}\n"
                                       "and use the shipped weights again?", parent=self.root):
                return
            try:
                shutil.rmtree(user)
            except OSError as exc:
                messagebox.showerror("Cannot delete", f"{user}: {exc.strerror or exc}", parent=self.root)
                return
        from app.adapting import BACKUP_NAME  # what Go back would restore: retrained weights too

        shutil.rmtree(user.parent / BACKUP_NAME, ignore_errors=True)
        try:
            model = load_weights(paths.shipped_weights_dir())
        except DigitpadError as exc:
            messagebox.showerror("Cannot load weights", str(exc), parent=self.root)
            return
        self.set_model(model, "shipped")
        self.learner.reset()
        self.state.note = "Shipped weights restored"
        self.refresh()

    # -- drawing events -------------------------------------------------------
    def _stroke_start(self, x: float, y: float) -> None:
        s = self.state
        if s.picture is not None:  # drawing replaces an opened image
            s.picture = None
            s.strokes = []
            s.version += 1
            self._picture_cache = None
        s.current = [(x, y)]
        s.hover = None
        s.note = ""

    def _stroke_point(self, x: float, y: float) -> None:
        if self.state.current is None:
            return
        self.state.current.append((x, y))
        if self._live_job is None:
            self._live_job = self.root.after(LIVE_INTERVAL_MS, self._live_recognise)

    def _live_recognise(self) -> None:
        self._live_job = None
        if self.state.current is not None:
            self.recognise()

    def _stroke_end(self) -> None:
        s = self.state
        if self._live_job is not None:
            self.root.after_cancel(self._live_job)
            self._live_job = None
        if s.current:
            s.strokes.append(s.current)
        s.current = None
        self.recognise()

    def _hover(self, x: float, y: float) -> None:
        boxes = self._pad_boxes()
        hit = next((i for i, (x0, y0, x1, y1) in enumerate(boxes)
                    if x0 - 8 <= x <= x1 + 8 and y0 - 8 <= y <= y1 + 8), None)
        if hit != self.state.hover:
            self.state.hover = hit
            self.refresh()

    def _leave(self) -> None:
        if self.state.hover is not None:
            self.state.hover = None
            self.refresh()

    def _pad_resized(self, width: int, height: int) -> None:
        """Refit an opened picture (and report the new size), once the resizing settles."""
        if self._resize_job is not None:
            self.root.after_cancel(self._resize_job)
        self._resize_job = self.root.after(60, self._after_resize)

    def _after_resize(self) -> None:
        self._resize_job = None
        self.refresh()

    # -- actions --------------------------------------------------------------
    def recognise(self) -> None:
        """Read the pad (or the opened image) again and refresh the window."""
        s = self.state
        s.reading = None
        if s.recogniser is None:
            s.message = LOADING_MESSAGE if s.loading else "No weights loaded"
        elif s.picture is not None:
            from model.inputs import images

            try:
                s.reading = s.recogniser.read_ink_map(images.ink_map(s.picture.gray))
                s.message = ""
            except NothingToRecognise:
                s.message = "No digits found in the image"
        else:
            try:
                s.reading = s.recogniser.read_strokes(s.all_strokes())
                s.reading = self.corrector.apply(s.reading, s.strokes, s.version)
                s.message = ""
            except NothingToRecognise:
                s.message = EMPTY_MESSAGE
        self.refresh()

    def _remember(self) -> None:
        r = self.state.reading
        if r is None or not r.digits:
            return
        entry = (r.text, r.confidence, r.unsure)
        if not self.state.history or self.state.history[-1][0] != r.text:
            self.state.history.append(entry)

    def undo(self) -> None:
        """Remove the last stroke."""
        s = self.state
        if s.picture is not None:
            self.clear()
            return
        if not s.strokes or s.current is not None:
            return
        s.strokes.pop()
        s.version += 1
        s.hover = None
        s.note = ""
        self.recognise()

    def clear(self) -> None:
        """Empty the pad (the result goes to the history list)."""
        s = self.state
        if s.current is not None:
            return
        self._remember()
        s.strokes = []
        s.picture = None
        s.version += 1
        s.hover = None
        s.note = ""
        self._picture_cache = None
        self.recognise()

    def copy_result(self) -> None:
        """Put the recognised number on the clipboard."""
        r = self.state.reading
        if r is None or not r.digits:
            self.state.note = "Nothing to copy"
        else:
            self._copy(r.text)
            self._remember()
        self.refresh()

    def _copy(self, text: str) -> None:
        self.root.clipboard_clear()
        self.root.clipboard_append(text)
        self.state.note = f"Copied {text}"

    def _history_copy(self, event: tk.Event) -> None:
        sel = self.history_list.curselection()
        if sel:
            items = list(reversed(self.state.history))
            self._copy(items[sel[0]][0])
            self.refresh()

    def open_retrain(self) -> None:
        """Model → Retrain…: open (or raise) the retraining dialog."""
        from app.retrain import RetrainDialog

        if self.retrain_dialog is not None and self.retrain_dialog.winfo_exists():
            self.retrain_dialog.lift()
            self.retrain_dialog.focus_set()
            return
        self.retrain_dialog = RetrainDialog(self.root, current_model=lambda: self.state.model,
                                            on_training=self.training_changed,
                                            use_weights=self.use_new_weights,
                                            on_closed=self._retrain_closed)
        self.refresh()

    def _retrain_closed(self) -> None:
        self.retrain_dialog = None
        self.training_changed(TrainingState())

    def training_changed(self, training: TrainingState) -> None:
        """Called by the retrain dialog (on the Tk thread) when its run starts, moves or ends."""
        self.state.training = training
        self.refresh()

    def open_inside(self) -> None:
        """Model → Inside the network…: open (or raise) the window that shows the network's views."""
        from app.inside import InsideWindow

        if self.inside_window is not None and self.inside_window.winfo_exists():
            self.inside_window.lift()
            self.inside_window.focus_set()
            return
        self.inside_window = InsideWindow(self.root, get_recogniser=lambda: self.state.recogniser,
                                          get_input=self.current_input, sets=self._confusion_sets,
                                          on_close=self._inside_closed, on_change=self._write_debug_state)
        self.refresh()

    def _confusion_sets(self) -> list:
        """The Inside window's confusion sets: MNIST test, pen writers 25-30 and, when there are any,
        the user's own samples (loaded, like the others, only when chosen)."""
        from model.views import report

        sets = report.labelled_sets()
        if self.n_samples:
            def mine():
                from model.personal.samples import SampleStore, samples_dir, training_arrays

                X, y, _ = training_arrays(SampleStore(samples_dir()).load()[0])
                return X, y

            sets.append(("your samples", mine))
        return sets

    def _inside_closed(self) -> None:
        self.inside_window = None
        self.refresh()

    def current_input(self):
        """The 28x28 image the network sees for the selected digit, or None (for the Inside window)."""
        r, i = self.state.reading, self.state.selected
        return r.digits[i].image if r is not None and i is not None else None

    def quit(self) -> None:
        """Close the window, stopping any training run first."""
        if self.inside_window is not None:
            self.inside_window.shutdown()
        if self.retrain_dialog is not None:
            self.retrain_dialog.shutdown()
        self._shutdown_teaching()
        self.root.destroy()

    # -- information ----------------------------------------------------------
    def show_model_info(self) -> None:
        """Model → Model info."""
        app_help.show_model_info(self.root, self.state.model, self.state.weights_kind)

    def report_exception(self, exc_type, exc, tb) -> None:
        """Tk's callback error hook: one line in a dialog, the details in a log file, no traceback."""
        if isinstance(exc, DigitpadError):
            messagebox.showerror(TITLE, str(exc), parent=self.root)
            return
        log = paths.user_data_dir() / "error.log"
        where = ""
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as f:
                f.write(time.strftime("%Y-%m-%d %H:%M:%S\n"))
                f.write("".join(traceback.format_exception(exc_type, exc, tb)) + "\n")
            where = f"\n\nDetails were written to {log}"
        except OSError:
            pass
        messagebox.showerror(TITLE, f"Something went wrong: {exc_type.__name__}: {exc}{where}",
                             parent=self.root)

    # -- state -> widgets -------------------------------------------------------
    def _picture_layout(self) -> tuple[tk.PhotoImage, float, float, float] | None:
        """The opened image scaled to fit the pad: (photo, scale, x offset, y offset)."""
        pic = self.state.picture
        if pic is None:
            return None
        pw, ph = self.pad.size()
        iw, ih = pic.size
        scale = min((pw - 16) / iw, (ph - 16) / ih)
        scale = max(scale, 1e-3)
        w, h = max(1, round(iw * scale)), max(1, round(ih * scale))
        key = (id(pic), w, h)
        if self._picture_cache is None or self._picture_cache[0] != key:
            import numpy as np
            from PIL import Image

            img = Image.fromarray((np.clip(pic.gray, 0, 1) * 255).astype(np.uint8), mode="L")
            photo = photo_from_pil(img.resize((w, h), Image.Resampling.LANCZOS), master=self.root)
            self._picture_cache = (key, photo, scale, (pw - w) / 2, (ph - h) / 2)
        _, photo, scale, ox, oy = self._picture_cache
        return photo, scale, ox, oy

    def _pad_boxes(self) -> list[Box]:
        """The recognised digits' boxes in pad coordinates."""
        r = self.state.reading
        if r is None:
            return []
        layout = self._picture_layout()
        if layout is None:
            return [d.box for d in r.digits]
        _, k, ox, oy = layout
        return [(x0 * k + ox, y0 * k + oy, x1 * k + ox, y1 * k + oy) for x0, y0, x1, y1 in
                (d.box for d in r.digits)]

    def _result_texts(self) -> tuple[str, str, str]:
        """(big result, the line under it, its colour)."""
        s = self.state
        r = s.reading
        if r is None or not r.digits:
            return "", s.message, MUTED
        if self.corrector.is_corrected(r, s.strokes, s.selected):
            return r.text, "Corrected by you (kept as your sample)", "#2e7d32"
        if self._doubtful():  # a number with a close runner-up: "or 2076", naming the doubtful digit
            return r.text, f"or {r.alternative.text} — not sure about digit {self._doubtful()[0] + 1}", WARN
        if r.unsure:
            worst = min(range(len(r.digits)), key=lambda i: r.digits[i].confidence)
            p = r.digits[worst].probs
            a, b = (int(i) for i in p.argsort()[::-1][:2])
            which = f" about digit {worst + 1} of {len(r.digits)}" if len(r.digits) > 1 else ""
            return r.text, f"Not sure{which} — looks like {a} or {b}", WARN
        return r.text, f"Confidence {100 * r.confidence:.1f}%", "#2e7d32"

    def _doubtful(self) -> list[int]:
        """Positions of the digits a close runner-up reading disputes (none unless a close call)."""
        r = self.state.reading
        if r is None or len(r.digits) < 2 or not r.close_call or r.alternative is None:
            return []  # a single digit's doubt is the "Not sure — looks like 7 or 2" line
        return list(r.alternative.doubtful)

    def refresh(self) -> None:
        """Map the app state onto every widget: the one place the window is updated."""
        s = self.state
        reading = s.reading
        selected = s.selected

        # Result and message.
        big, line, colour = self._result_texts()
        doubtful = self._doubtful()
        self.result_label.configure(text=big, foreground=WARN if colour == WARN else ACCENT,
                                    underline=doubtful[0] if doubtful else -1)
        self.info_label.configure(text=line, foreground=colour)

        # The pad: picture, strokes, boxes.
        layout = self._picture_layout()
        if layout is None:
            self.pad.show_picture(None)
        else:
            photo, _, ox, oy = layout
            self.pad.show_picture(photo, ox, oy)
        self.pad.draw_strokes(s.strokes, s.version)
        self.pad.show_boxes(self._pad_boxes(), selected)
        self.pad.delete("doubt")
        boxes = self._pad_boxes()
        for i in doubtful:  # a "?" over each digit the runner-up reading disputes
            if i < len(boxes):
                self.pad.create_text((boxes[i][0] + boxes[i][2]) / 2, boxes[i][1] - 18, text="?",
                                     fill=WARN, font=self.font_info, tags=("doubt",))

        # Bars and preview of the selected digit.
        digit = reading.digits[selected] if reading is not None and selected is not None else None
        if digit is None:
            self.digit_caption.configure(text="Probabilities")
        else:
            n = len(reading.digits)
            self.digit_caption.configure(
                text=f"Probabilities for digit {selected + 1} of {n}" if n > 1 else "Probabilities")
        top = int(digit.probs.argmax()) if digit is not None else -1
        for d, (bar, pct, x) in enumerate(self._bar_items):
            p = float(digit.probs[d]) if digit is not None else 0.0
            base = BARS_HEIGHT - 16
            top_y = base - max((base - 16) * p, 0.5)
            self.bars.coords(bar, x + 3, top_y, x + BAR_STEP - 3, base)
            self.bars.coords(pct, x + BAR_STEP / 2, top_y - 1)
            self.bars.itemconfigure(bar, fill=ACCENT if d == top else "#9bbfd8")
            self.bars.itemconfigure(pct, text=f"{round(100 * p)}" if digit is not None and p >= 0.005 else "")
        if digit is None:
            if self._preview_key is not None:
                self.preview.configure(image=self._blank_preview)
                self._preview_key = None
        elif self._preview_key is not digit:
            self._preview_photo = photo_from_gray(digit.image, PREVIEW_ZOOM, master=self.root)
            self.preview.configure(image=self._preview_photo)
            self._preview_key = digit

        # History, newest first.
        self.history_list.delete(0, tk.END)
        for text, conf, unsure in reversed(s.history):
            self.history_list.insert(tk.END, f"{text}  ({100 * conf:.0f}%{'?' if unsure else ''})")

        # Menus.
        busy = s.training.running
        has_strokes = bool(s.strokes)
        self._menu_state(self.menu_edit, "Undo", has_strokes or s.picture is not None)
        self._menu_state(self.menu_edit, "Clear", has_strokes or s.picture is not None)
        self._menu_state(self.menu_edit, "Copy result", reading is not None and bool(reading.digits))
        self._menu_state(self.menu_file, "Save drawing…", has_strokes)
        self._menu_state(self.menu_model, "Retrain…", not busy)
        self._menu_state(self.menu_model, "Load weights…", not busy)
        self._menu_state(self.menu_model, "Restore shipped weights",
                         not busy and (s.weights_kind != "shipped" or paths.user_weights_dir().exists()))
        self._menu_state(self.menu_model, "Model info", s.model is not None)
        self._menu_state(self.menu_model, "Inside the network…", s.model is not None)
        self._menu_state(self.menu_model, "Teach my handwriting…", s.model is not None)
        self._menu_state(self.menu_model, "Adapt to my samples…",
                         s.model is not None and self.n_samples > 0 and not self.learner.status.running)

        # Status bar.
        parts = []
        if s.model is not None:
            parts.append(f"Network {s.model.describe()} ({s.weights_kind} weights, test accuracy "
                         f"{percent(s.model.meta.get('test_accuracy'))})")
        else:
            parts.append(LOADING_MESSAGE if s.loading else "No weights loaded")
        if busy:
            parts.append(f"Training: iteration {s.training.iteration}/{s.training.max_iter}")
        elif s.training.status:
            parts.append(s.training.status)
        if self.learner.status.text:
            parts.append(self.learner.status.text)
        if s.note:
            parts.append(s.note)
        self.status.configure(text="   ·   ".join(parts))
        self._write_debug_state()

    @staticmethod
    def _menu_state(menu: tk.Menu, label: str, enabled: bool) -> None:
        menu.entryconfigure(label, state=tk.NORMAL if enabled else tk.DISABLED)

    # -- test hook ------------------------------------------------------------
    def mark_ready(self) -> None:
        """Called once the window is mapped and idle: from now on the app takes input (strokes
        drawn before the start-up network is there are kept and read when it comes)."""
        if not self.pad.winfo_viewable():
            self.root.after(20, self.mark_ready)
            return
        self.state.shown = True
        self.state.ready = not self.state.loading
        self.refresh()
        if self._start_loading is not None:
            self._start_loading()

    def load_network(self) -> None:
        """Read the start-up weights and build their recogniser in a worker thread.

        Building the recogniser imports the segmentation and image code, and SciPy with
        them (about half a second), so the window shows first and says "Loading the
        network…" meanwhile; the worker hands model and recogniser over through a queue
        that the Tk thread polls, and the pad is read as soon as they are in place.
        """
        self.state.loading = True
        self.state.message = LOADING_MESSAGE
        results: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                model, kind, warning = load_initial_model()
                recogniser = None
                if model is not None:
                    recogniser = make_recogniser(model)
                    missing = shipped_verifier()[1]
                    warning = "\n\n".join(w for w in (warning, missing) if w)
                results.put((model, kind, warning, recogniser, None))
            except BaseException as exc:  # handed to the Tk thread, which reports it
                results.put((None, "none", "", None, exc))

        def start() -> None:
            self._start_loading = None
            threading.Thread(target=work, name="digitpad-load-network", daemon=True).start()
            self.root.after(10, self._network_loaded, results)

        self._start_loading = start  # once the window shows (mark_ready), not to slow it down

    def _network_loaded(self, results: queue.Queue) -> None:
        try:
            model, kind, warning, recogniser, error = results.get_nowait()
        except queue.Empty:
            self.root.after(10, self._network_loaded, results)
            return
        s = self.state
        s.loading = False
        s.ready = s.shown
        if s.message == LOADING_MESSAGE:
            s.message = EMPTY_MESSAGE
        if warning:
            self.root.after_idle(lambda: messagebox.showwarning("Weights problem", warning, parent=self.root))
        self.set_model(model, kind, recogniser)
        if error is not None:
            raise error

    def debug_state(self) -> dict:
        """A JSON-able snapshot of the state (what tests wait on)."""
        s = self.state
        r = s.reading
        pad = self.pad
        info = {
            "ready": s.ready,
            "shown": s.shown,
            "loading": s.loading,
            "pid": os.getpid(),
            "pad": {"x": pad.winfo_rootx(), "y": pad.winfo_rooty(),
                    "width": pad.winfo_width(), "height": pad.winfo_height()},
            "strokes": len(s.strokes),
            "drawing": s.current is not None,
            "picture": str(s.picture.path) if s.picture else None,
            "text": r.text if r else "",
            "confidence": r.confidence if r else None,
            "unsure": r.unsure if r else None,
            "alternative": r.alternative.text if r and r.alternative else None,
            "close_call": r.close_call if r else None,
            "doubtful": self._doubtful(),
            "message": s.message,
            "info": self.info_label.cget("text"),
            "boxes": [list(b) for b in self._pad_boxes()],
            "selected": s.selected,
            "history": [h[0] for h in s.history],
            "weights": str(s.model.source) if s.model else None,
            "weights_kind": s.weights_kind,
            "layer_sizes": list(s.model.layout.sizes) if s.model else None,
            "training": vars(s.training),
            "note": s.note,
        }
        if self.retrain_dialog is not None and self.retrain_dialog.winfo_exists():
            info["retrain"] = self.retrain_dialog.debug_state()
        if self.inside_window is not None and self.inside_window.winfo_exists():
            info["inside"] = self.inside_window.debug_state()
        info["threads"] = sorted(t.name for t in threading.enumerate())
        info.update(self._teaching_debug_state())
        return info

    def _write_debug_state(self) -> None:
        """Write the snapshot once the current Tk callback has finished (at idle), so that a
        callback that refreshes twice on its way (a dialog's redraw, then the sample count)
        never leaves a half-updated snapshot for a test to read."""
        if self._debug_path and self.state.shown and self._debug_job is None:
            self._debug_job = self.root.after_idle(self._flush_debug_state)

    def _flush_debug_state(self) -> None:
        self._debug_job = None
        tmp = f"{self._debug_path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.debug_state(), f, default=str)
            os.replace(tmp, self._debug_path)
        except OSError:
            pass


def run_app(open_path: str | os.PathLike | None = None) -> int:
    """Open the Digitpad window and run it until it is closed; returns the exit status.

    `open_path` (an image or ink JSON file) is opened once the window shows.
    """
    try:
        root = tk.Tk(className="Digitpad")
    except tk.TclError as exc:
        print(f"digitpad: error: cannot open a window ({exc})", file=sys.stderr)
        return 1
    window = MainWindow(root)
    window.load_network()
    if open_path:
        root.after_idle(lambda: window.open_path(Path(open_path)))
    root.after_idle(window.mark_ready)
    root.mainloop()
    exit_if_workers_remain()
    return 0


def exit_if_workers_remain() -> None:
    """End the process at once if a worker thread outlived the window's joins.

    Quitting cancels every worker and waits a few seconds for it, but a worker
    may still be inside NumPy after that (a big training run's last accuracy
    pass, say). Left alone, it would run on while the interpreter tears itself
    down, which can crash the process (a CI run of the quit-during-training test
    died with SIGSEGV). Nothing of the user's is in flight: workers compute, and
    what they produce is saved from the Tk thread, atomically (a data download
    writes a temporary file that is renamed only when complete, as a daemon
    thread's would be left at any exit). Output is flushed and the process ends
    with status 0.
    """
    if any(t.is_alive() for t in threading.enumerate() if t.name.startswith("digitpad-")):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_app())
