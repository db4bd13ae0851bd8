"""The main window's side of issue 11: corrections, learning from them, and the three dialogs.

`TeachingMixin` is mixed into `app.main_window.MainWindow` so that the
window file keeps only menu entries, key bindings and one-line calls. It
wires the window's state to `app.corrections` (Corrector, Learner) and opens
the dialogs (`app.teach.TeachDialog`, `app.teach.AdaptDialog`,
`app.samples_dialog.SamplesDialog`), handing them callbacks, never the
window itself. It relies on the window's ``root``, ``state``, ``pad``,
``refresh``, ``set_model`` and ``_pad_boxes``.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import messagebox
from typing import Any

from app import paths
from app.corrections import Corrector, Learner, load_settings, save_setting
from app.pad import PEN_WIDTH
from model.errors import DigitpadError


class TeachingMixin:
    """Corrections, Learn from corrections, Teach / Adapt / My samples (see the module doc)."""

    root: tk.Tk
    state: Any

    # -- set-up -----------------------------------------------------------------
    def _init_teaching(self) -> None:
        from model.personal.samples import samples_dir

        self.corrector = Corrector(lambda: samples_dir())
        settings = load_settings(paths.user_data_dir())
        self.v_learn = tk.BooleanVar(self.root, bool(settings.get("learn_from_corrections", True)))
        self.learner = Learner(self.root, get_model=lambda: self.state.model, samples=self._load_samples,
                               on_adapted=self._use_adapted, on_change=self.refresh,
                               on_back=self._go_back, on_estimated=self._estimated,
                               enabled=self.v_learn.get())
        self._applied: dict | None = None  # the last adaptation switched to: what Go back undoes
        self._warmed: Any = None
        self.teach_dialog: Any = None
        self.adapt_dialog: Any = None
        self.samples_dialog: Any = None
        self._menu_index: int | None = None
        self.n_samples = self._count_samples()

    def _build_teach_menu(self, m: tk.Menu) -> None:
        """Model menu entries: Teach, Adapt, My samples, Learn from corrections."""
        m.add_command(label="Teach my handwriting…", accelerator="Ctrl+T", command=self.open_teach,
                      underline=0)
        m.add_command(label="Adapt to my samples…", command=self.open_adapt, underline=0)
        m.add_command(label="My samples…", command=self.open_samples, underline=1)
        m.add_checkbutton(label="Learn from corrections", variable=self.v_learn, underline=11,
                          command=self._learn_toggled)
        m.configure(postcommand=self.samples_changed)  # samples may have come from elsewhere
        self.digit_menu = dm = tk.Menu(self.root, tearoff=False)
        dm.add_command(label="This digit is…", state=tk.DISABLED)
        for d in range(10):
            dm.add_command(label=str(d), underline=0, command=lambda d=d: self._menu_correct(d))

    def _load_samples(self) -> list:
        from model.personal.samples import SampleStore, samples_dir

        samples, _ = SampleStore(samples_dir()).load()
        return samples

    @staticmethod
    def _count_samples() -> int:
        """Sample files in the samples folder (cheap: not parsed; a damaged one counts too)."""
        from model.personal.samples import SUFFIX, samples_dir

        try:
            return sum(1 for f in samples_dir().iterdir()
                       if f.suffix == SUFFIX and not f.name.startswith("."))
        except OSError:
            return 0

    def samples_changed(self) -> None:
        """A dialog added, removed or relabelled samples: count them again."""
        self.n_samples = self._count_samples()
        self.refresh()

    # -- correct a reading --------------------------------------------------------
    def correct_selected(self, digit: int) -> None:
        """A digit key: the selected digit (under the mouse, else the last written) is `digit`."""
        s = self.state
        if s.current is not None:
            return
        if s.picture is not None:
            s.note = "Corrections are kept for drawn digits only"
        elif s.selected is None:
            s.note = "Write a digit first, then press what it is"
        else:
            self.correct_digit(s.selected, digit)
            return
        self.refresh()

    def correct_digit(self, index: int, digit: int) -> None:
        """Digit `index` of the reading is really `digit`: answer at once, keep its strokes."""
        s = self.state
        if s.reading is None or index >= len(s.reading.digits) or s.picture is not None:
            return
        try:
            sample, changed = self.corrector.correct(s.strokes, s.reading, index, digit, s.version,
                                                     self.pad.size(), PEN_WIDTH)
        except DigitpadError as exc:
            s.reading = self.corrector.apply(s.reading, s.strokes, s.version)
            self.refresh()
            messagebox.showerror("Cannot keep the sample", str(exc), parent=self.root)
            return
        s.reading = self.corrector.apply(s.reading, s.strokes, s.version)
        s.note = f"Kept as your {digit}" if sample is not None else f"Already kept as your {digit}"
        self.n_samples = self._count_samples()
        if changed:
            if self.learner.enabled:
                self._warm_adapt()
            self.learner.corrected()
        self.refresh()

    def _pad_menu(self, event: tk.Event) -> None:
        """Right click on a digit: a menu of the ten digits to say what it is."""
        x, y = float(self.pad.canvasx(event.x)), float(self.pad.canvasy(event.y))
        hit = next((i for i, (x0, y0, x1, y1) in enumerate(self._pad_boxes())
                    if x0 - 8 <= x <= x1 + 8 and y0 - 8 <= y <= y1 + 8), None)
        if hit is None or self.state.picture is not None or self.state.current is not None:
            return
        self.state.hover = hit
        self._menu_index = hit
        self.refresh()
        self.digit_menu.tk_popup(event.x_root, event.y_root, 1)

    def _menu_correct(self, digit: int) -> None:
        if self._menu_index is not None:
            self.correct_digit(self._menu_index, digit)

    # -- learning -------------------------------------------------------------------
    def _learn_toggled(self) -> None:
        on = bool(self.v_learn.get())
        save_setting(paths.user_data_dir(), "learn_from_corrections", on)
        self.learner.set_enabled(on)

    def _use_adapted(self, outcome) -> None:
        """Save adapted weights in the user's weights folder (the ones they replace kept aside) and
        switch to them; remember what to go back to."""
        from app.adapting import apply_adapted
        from model.personal.adapt import adapted_model

        previous = (self.state.model, self.state.weights_kind)
        folder = apply_adapted(outcome)
        self.set_model(adapted_model(folder, outcome.result), "retrained")  # as loaded, without parsing
        self._applied = {"run": outcome.result.run, "model": self.state.model, "previous": previous}

    def _in_use(self, outcome) -> bool:
        """True while the weights of `outcome`, as switched to by `_use_adapted`, are the ones in use."""
        a = self._applied
        return a is not None and a["run"] == outcome.result.run and self.state.model is a["model"]

    def _go_back(self, outcome) -> bool:
        """Back to the weights used before `outcome`'s were switched to (their folder restored as it was,
        or removed if the shipped weights were in use); False if the weights in use are not those."""
        from app.adapting import go_back

        if not self._in_use(outcome):
            return False
        model, kind = self._applied["previous"]
        go_back()
        self._applied = None
        self.set_model(model, kind)
        self.state.note = "Back to the weights you had"
        self.refresh()
        return True

    def _estimated(self, outcome) -> None:
        """The fair estimate and MNIST figures of the weights in use: add them to their model.json."""
        import json

        from app.adapting import update_saved_meta

        if self._in_use(outcome) and outcome.complete:
            path = update_saved_meta(outcome)
            self.state.model.meta = json.loads(path.read_text(encoding="utf-8"))

    def _warm_adapt(self) -> None:
        """Find or build the kept activations of the weights in use in the background, once per model,
        so that the next Adapt does not wait for them (`app.adapting.warm_up`)."""
        import threading

        from app.adapting import warm_up

        model = self.state.model
        if model is None or model is self._warmed:
            return
        self._warmed = model
        threading.Thread(target=warm_up, args=(model,), name="digitpad-adapt-warm-up", daemon=True).start()

    def _use_adapted_from_dialog(self, outcome) -> None:
        self._use_adapted(outcome)
        self.learner.reset()
        n = outcome.n_samples
        self.state.note = f"Now using weights adapted to {n} of your sample{'s' * (n != 1)}"
        self.refresh()

    # -- dialogs --------------------------------------------------------------------
    def _raise(self, dialog) -> bool:
        if dialog is not None and dialog.winfo_exists():
            dialog.deiconify()
            dialog.lift()
            dialog.focus_set()
            return True
        return False

    def open_teach(self) -> None:
        """Model → Teach my handwriting…"""
        from app.teach import TeachDialog

        if self.state.model is None or self._raise(self.teach_dialog):
            return
        self.teach_dialog = TeachDialog(
            self.root, get_model=lambda: self.state.model, on_use=self._use_adapted_from_dialog,
            on_samples_changed=self.samples_changed, on_close=lambda: self._closed("teach_dialog"),
            on_change=self.refresh, on_back=self._go_back, on_estimated=self._estimated)
        self._warm_adapt()
        self.refresh()

    def open_adapt(self) -> None:
        """Model → Adapt to my samples…"""
        from app.teach import AdaptDialog

        if self.state.model is None or self._raise(self.adapt_dialog):
            return
        samples = self._load_samples()
        if not samples:
            self.state.note = "No samples yet: Model → Teach my handwriting…, or correct a digit"
            self.refresh()
            return
        self.adapt_dialog = AdaptDialog(self.root, model=self.state.model, samples=samples,
                                        on_use=self._use_adapted_from_dialog,
                                        on_close=lambda: self._closed("adapt_dialog"), on_change=self.refresh,
                                        on_back=self._go_back, on_estimated=self._estimated)
        self.refresh()

    def open_samples(self) -> None:
        """Model → My samples…"""
        from app.samples_dialog import SamplesDialog
        from model.personal.samples import SampleStore, samples_dir

        if self._raise(self.samples_dialog):
            return
        self.samples_dialog = SamplesDialog(self.root, store=SampleStore(samples_dir()),
                                            on_changed=self.samples_changed,
                                            on_close=lambda: self._closed("samples_dialog"),
                                            on_change=self.refresh)
        self.refresh()

    def _closed(self, name: str) -> None:
        setattr(self, name, None)
        self.refresh()

    def _shutdown_teaching(self) -> None:
        """The window is closing: stop every adaptation that runs."""
        self.learner.shutdown()
        for d in (self.teach_dialog, self.adapt_dialog):
            if d is not None:
                d.shutdown()

    def _teaching_debug_state(self) -> dict:
        """Issue 11's part of the debug snapshot."""
        info: dict = {"learn": {"enabled": self.learner.enabled, "running": self.learner.status.running,
                                "pending": self.learner.status.pending, "text": self.learner.status.text,
                                "last": self.learner.status.last},
                      "n_samples": self.n_samples}
        r, sel = self.state.reading, self.state.selected
        info["corrected"] = sel is not None and self.corrector.is_corrected(r, self.state.strokes, sel)
        for key, d in (("teach", self.teach_dialog), ("adapt", self.adapt_dialog),
                       ("samples_dialog", self.samples_dialog)):
            if d is not None and d.winfo_exists():
                info[key] = d.debug_state()
        return info
