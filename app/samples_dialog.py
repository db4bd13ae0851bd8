"""Model → My samples…: every stored sample as a thumbnail, grouped by label.

Each thumbnail is what the network sees (`model.inputs.ink.normalise`; a written
number shows its digits side by side). Select one (click, or the arrow keys)
to delete it (Delete) or relabel it (Relabel…, F2); Clear all removes every
sample after asking; Export copies them to a folder (a backup, or for
another machine) and Import adds a folder's samples, skipping duplicates
and bad files with one line each. Damaged or foreign files in the samples
folder are listed, never deleted. All changes go through
`model.personal.samples.SampleStore` (atomic writes); `on_changed()` tells the main
window. The dialog takes callbacks, not the window.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import filedialog, messagebox, simpledialog, ttk

import numpy as np

from app.pad import photo_from_gray

THUMB_ZOOM = 2
PER_ROW = 12


def thumbnail(sample) -> np.ndarray:
    """The 28x28 image(s) the network sees for a sample, side by side for a number."""
    from model.errors import DigitpadError
    from model.inputs.ink import as_strokes, normalise
    from model.personal.samples import digit_images

    try:
        imgs = digit_images(sample.ink, len(sample.label))
    except DigitpadError:
        imgs = [normalise(as_strokes(sample.ink.strokes))]
    return np.concatenate(imgs, axis=1)


class SamplesDialog(tk.Toplevel):
    """The My samples window."""

    def __init__(self, master: tk.Misc, *, store, on_changed: Callable[[], None],
                 on_close: Callable[[], None], on_change: Callable[[], None] = lambda: None):
        super().__init__(master)
        self.title("My samples — Digitpad")
        self.transient(master)
        self.store = store
        self.on_changed, self.on_close, self.on_change = on_changed, on_close, on_change
        self.samples: list = []
        self.warnings: list[str] = []
        self.selected: int | None = None
        self.note = ""
        self._photos: list[tk.PhotoImage] = []
        self._cells: list[tk.Label] = []
        self.protocol("WM_DELETE_WINDOW", self.close)
        self._build()
        self.reload()
        self.update_idletasks()
        self.geometry(f"+{master.winfo_rootx() + 40}+{master.winfo_rooty() + 40}")
        self.focus_set()

    def _build(self) -> None:
        f = ttk.Frame(self, padding=12)
        f.grid(row=0, column=0, sticky="nsew")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        f.rowconfigure(1, weight=1)
        f.columnconfigure(0, weight=1)
        self.summary = ttk.Label(f, text="", justify="left", wraplength=640)
        self.summary.grid(row=0, column=0, columnspan=2, sticky="w")
        self.canvas = tk.Canvas(f, width=PER_ROW * (28 * THUMB_ZOOM + 6) + 60, height=420,
                                highlightthickness=0, background="#f4f4f4")
        self.canvas.grid(row=1, column=0, sticky="nsew", pady=(6, 0))
        sb = ttk.Scrollbar(f, orient="vertical", command=self.canvas.yview)
        sb.grid(row=1, column=1, sticky="ns", pady=(6, 0))
        self.canvas.configure(yscrollcommand=sb.set)
        self.inner = tk.Frame(self.canvas, background="#f4f4f4")
        self.canvas.create_window(0, 0, window=self.inner, anchor="nw")
        self.inner.bind("<Configure>", lambda e: self.canvas.configure(scrollregion=self.canvas.bbox("all")))
        for seq, delta in (("<Button-4>", -1), ("<Button-5>", 1)):
            self.canvas.bind_all(seq, lambda e, d=delta: self.canvas.yview_scroll(d, "units")
                                 if str(e.widget).startswith(str(self)) else None)
        buttons = ttk.Frame(f)
        buttons.grid(row=2, column=0, columnspan=2, sticky="we", pady=(10, 0))
        self.b_delete = ttk.Button(buttons, text="Delete", underline=0, command=self.delete_selected)
        self.b_relabel = ttk.Button(buttons, text="Relabel…", underline=0, command=self.relabel_selected)
        self.b_clear = ttk.Button(buttons, text="Clear all…", underline=1, command=self.clear_all)
        self.b_export = ttk.Button(buttons, text="Export…", underline=0, command=self.export)
        self.b_import = ttk.Button(buttons, text="Import…", underline=0, command=self.import_)
        self.b_close = ttk.Button(buttons, text="Close", command=self.close)
        for i, b in enumerate((self.b_delete, self.b_relabel, self.b_clear, self.b_export, self.b_import)):
            b.grid(row=0, column=i, padx=(0, 6))
        self.b_close.grid(row=0, column=6, sticky="e")
        buttons.columnconfigure(5, weight=1)
        for seq, fn in (("<Delete>", self.delete_selected), ("<F2>", self.relabel_selected),
                        ("<Alt-d>", self.delete_selected), ("<Alt-r>", self.relabel_selected),
                        ("<Alt-l>", self.clear_all), ("<Alt-e>", self.export), ("<Alt-i>", self.import_),
                        ("<Escape>", self.close), ("<Right>", lambda: self.move(1)),
                        ("<Left>", lambda: self.move(-1)), ("<Down>", lambda: self.move(PER_ROW)),
                        ("<Up>", lambda: self.move(-PER_ROW))):
            self.bind(seq, lambda e, fn=fn: (fn(), "break")[1])

    # -- data ---------------------------------------------------------------------
    def reload(self) -> None:
        """Read the samples folder again and rebuild the grid."""
        self.samples, self.warnings = self.store.load()
        self.samples.sort(key=lambda s: (len(s.label) > 1, s.label, s.created))
        if self.selected is not None and self.selected >= len(self.samples):
            self.selected = len(self.samples) - 1 if self.samples else None
        self._build_grid()
        self.render()

    def _build_grid(self) -> None:
        for w in self.inner.winfo_children():
            w.destroy()
        self._photos, self._cells = [], []
        row = 0
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(self.samples):
            groups.setdefault(s.label if len(s.label) == 1 else "numbers", []).append(i)
        for name in [*map(str, range(10)), "numbers"]:
            idx = groups.get(name)
            if not idx:
                continue
            title = f"{name}  ({len(idx)})" if name != "numbers" else f"Numbers  ({len(idx)})"
            tk.Label(self.inner, text=title, font=("TkDefaultFont", 11, "bold"), background="#f4f4f4").grid(
                row=row, column=0, columnspan=PER_ROW, sticky="w", pady=(6, 2))
            row += 1
            for k, i in enumerate(idx):
                photo = photo_from_gray(thumbnail(self.samples[i]), THUMB_ZOOM, master=self)
                self._photos.append(photo)
                cell = tk.Label(self.inner, image=photo, borderwidth=0, highlightthickness=3,
                                highlightbackground="#f4f4f4", background="black", cursor="hand2")
                cell.grid(row=row + k // PER_ROW, column=k % PER_ROW, padx=2, pady=2, sticky="w")
                cell.bind("<Button-1>", lambda e, i=i: self.select(i))
                cell.sample_index = i  # type: ignore[attr-defined]
                self._cells.append(cell)
            row += (len(idx) + PER_ROW - 1) // PER_ROW

    # -- actions --------------------------------------------------------------------
    def select(self, i: int | None) -> None:
        """Select sample `i` (an index into `samples`)."""
        self.selected = i
        self.render()

    def move(self, step: int) -> None:
        """Arrow keys: move the selection through the grid's order."""
        if not self._cells:
            return
        order = [c.sample_index for c in self._cells]  # type: ignore[attr-defined]
        if self.selected not in order:
            self.select(order[0])
            return
        k = order.index(self.selected) + step
        self.select(order[max(0, min(len(order) - 1, k))])

    def _changed(self, note: str) -> None:
        self.note = note
        self.reload()
        self.on_changed()

    def _error(self, title: str, exc: Exception) -> None:
        messagebox.showerror(title, str(exc), parent=self)

    def delete_selected(self) -> None:
        """Delete the selected sample's file."""
        from model.errors import DigitpadError

        if self.selected is None:
            return
        s = self.samples[self.selected]
        try:
            self.store.delete(s)
        except DigitpadError as exc:
            self._error("Cannot delete", exc)
            return
        self._changed(f"Deleted a sample of {s.label}")

    def relabel_selected(self) -> None:
        """Ask for the right label of the selected sample and rewrite it."""
        from model.errors import DigitpadError
        from model.personal.samples import count_digits

        if self.selected is None:
            return
        s = self.samples[self.selected]
        label = simpledialog.askstring("Relabel", f"What does this drawing say? (now \"{s.label}\")",
                                       initialvalue=s.label, parent=self)
        if label is None or label.strip() == s.label:
            return
        try:
            new = label.strip()
            self.store.relabel(s, new, count_digits=count_digits if len(new) > 1 else None)
        except DigitpadError as exc:
            self._error("Cannot relabel", exc)
            return
        self._changed(f"Relabelled {s.label} as {label.strip()}")

    def clear_all(self) -> None:
        """Delete every sample (after asking)."""
        from model.errors import DigitpadError

        if not self.samples or not messagebox.askyesno(
                "Clear all samples", f"Delete all {len(self.samples)} of your samples?\n"
                "(Export them first to keep a copy.)", parent=self):
            return
        try:
            n = self.store.clear()
        except DigitpadError as exc:
            self._error("Cannot clear", exc)
            self.reload()
            return
        self.selected = None
        self._changed(f"Deleted {n} samples")

    def export(self, folder: str | None = None) -> None:
        """Copy every sample file into a folder."""
        from model.errors import DigitpadError

        folder = folder or filedialog.askdirectory(parent=self, title="Export samples to folder",
                                                   mustexist=False)
        if not folder:
            return
        try:
            n = self.store.export_to(folder)
        except DigitpadError as exc:
            self._error("Cannot export", exc)
            return
        self.note = f"Exported {n} samples to {folder}"
        self.render()

    def import_(self, folder: str | None = None) -> None:
        """Add the samples of a folder (duplicates and bad files skipped, one line each)."""
        from model.errors import DigitpadError

        folder = folder or filedialog.askdirectory(parent=self, title="Import samples from folder",
                                                   mustexist=True)
        if not folder:
            return
        try:
            n, warnings = self.store.import_from(folder)
        except DigitpadError as exc:
            self._error("Cannot import", exc)
            return
        self._changed(f"Imported {n} samples" + (f"; skipped {len(warnings)}: {warnings[0]}"
                                                   + (" …" if len(warnings) > 1 else "") if warnings else ""))

    def close(self) -> None:
        """Close the window."""
        self.canvas.unbind_all("<Button-4>")
        self.canvas.unbind_all("<Button-5>")
        self.on_close()
        self.destroy()

    # -- state -> widgets -------------------------------------------------------------
    def render(self) -> None:
        """Map the dialog's state onto its widgets."""
        n = len(self.samples)
        lines = [f"{n} sample{'s' * (n != 1)} in {self.store.folder}" if n else
                 f"No samples yet in {self.store.folder}: Model → Teach my handwriting…, or correct a digit "
                 "on the pad with a digit key."]
        if self.warnings:
            k = len(self.warnings)
            lines.append(f"{k} file{'s' * (k != 1)} skipped: {self.warnings[0]}" + (" …" if k > 1 else ""))
        if self.selected is not None:
            s = self.samples[self.selected]
            when = s.created[:19].replace("T", " ")
            lines.append(f"Selected: \"{s.label}\" ({s.source or 'sample'}, {when})")
        if self.note:
            lines.append(self.note)
        self.summary.configure(text="\n".join(lines))
        for c in self._cells:
            sel = c.sample_index == self.selected  # type: ignore[attr-defined]
            c.configure(highlightbackground="#d9822b" if sel else "#f4f4f4")
        has = self.selected is not None
        self.b_delete.configure(state="normal" if has else "disabled")
        self.b_relabel.configure(state="normal" if has else "disabled")
        self.b_clear.configure(state="normal" if n else "disabled")
        self.b_export.configure(state="normal" if n else "disabled")
        self.on_change()

    def debug_state(self) -> dict:
        """JSON-able snapshot for tests."""
        groups: dict[str, int] = {}
        for s in self.samples:
            groups[s.label] = groups.get(s.label, 0) + 1
        return {"count": len(self.samples), "groups": groups, "warnings": self.warnings,
                "selected": self.samples[self.selected].path.name if self.selected is not None else None,
                "summary": self.summary.cget("text")}
