"""The main window's File menu: save the drawing (PNG or ink JSON), open a drawing or an image.

`FilesMixin` is mixed into `app.main_window.MainWindow`, like
`app.teaching.TeachingMixin`. It relies on the window's ``root``, ``state``,
``pad``, ``refresh``, ``recognise``, ``_remember`` and ``_picture_cache``.
Every file error is one line in a dialog naming the file; the pad is left as
it was.
"""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import filedialog, messagebox
from typing import Any

from app.pad import PEN_WIDTH
from app.state import AppState, Picture
from model.errors import DigitpadError


class FilesMixin:
    """File → Save drawing…, Open drawing…, Open image… (see the module doc)."""

    root: tk.Tk
    state: AppState
    pad: Any
    _picture_cache: Any

    def _ink(self):
        from model.inputs.ink import Ink

        w, h = self.pad.size()
        return Ink(strokes=[list(s) for s in self.state.strokes], width=w, height=h, pen_width=PEN_WIDTH)

    def save_drawing(self) -> None:
        """File → Save drawing…: the strokes as a PNG picture or an ink JSON file."""
        if not self.state.strokes:
            self.state.note = "Nothing to save: draw something first"
            self.refresh()
            return
        path = filedialog.asksaveasfilename(
            parent=self.root, title="Save drawing", defaultextension=".png",
            filetypes=[("PNG image", "*.png"), ("Ink JSON", "*.json")])
        if not path:
            return
        self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the drawing to `path`: ink JSON for ``.json``, else a PNG picture."""
        import io

        from model.fileio import atomic_write_bytes
        from model.inputs import ink

        try:
            if path.suffix.lower() == ".json":
                ink.save_ink(path, self._ink())
            else:
                buf = io.BytesIO()
                ink.render_canvas(self._ink()).save(buf, format="PNG")
                atomic_write_bytes(path, buf.getvalue())
        except OSError as exc:
            messagebox.showerror("Cannot save", f"{path}: {exc.strerror or exc}", parent=self.root)
            return
        self.state.note = f"Saved {path.name}"
        self.refresh()

    def open_drawing(self) -> None:
        """File → Open drawing…: an ink JSON file, or a PNG (opened as an image)."""
        path = filedialog.askopenfilename(
            parent=self.root, title="Open drawing",
            filetypes=[("Drawings", "*.json *.png"), ("Ink JSON", "*.json"), ("PNG image", "*.png"),
                       ("All files", "*")])
        if path:
            self.open_path(Path(path))

    def open_image(self) -> None:
        """File → Open image…: find and read the digits in a picture."""
        path = filedialog.askopenfilename(
            parent=self.root, title="Open image",
            filetypes=[("Images", "*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff"), ("All files", "*")])
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        """Open an ink JSON drawing or an image file; errors name the file."""
        from model.inputs import images, ink

        s = self.state
        try:
            if path.suffix.lower() == ".json":
                drawing = ink.load_ink(path)
                self._remember()
                s.picture = None
                s.strokes = [[(float(x), float(y)) for x, y in st] for st in drawing.strokes]
            else:
                gray = images.load_gray(path)
                self._remember()
                s.picture = Picture(path, gray)
                s.strokes = []
        except DigitpadError as exc:
            messagebox.showerror("Cannot open", str(exc), parent=self.root)
            return
        s.version += 1
        s.hover = None
        self._picture_cache = None
        self.recognise()
        self._remember()
        s.note = f"Opened {path.name}"
        self.refresh()
