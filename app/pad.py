"""The drawing pad: a Tk canvas that turns mouse drags into vector strokes.

The pad records nothing itself beyond the stroke being drawn: it reports
each point to its owner through callbacks (press, drag, release, hover) and
draws what it is told to show (`show`): the finished strokes, an optional
picture, and one box per recognised digit. Strokes are lists of (x, y)
points in canvas pixels with y growing downward; the screen is never read.
"""

from __future__ import annotations

import io
import tkinter as tk
from collections.abc import Callable, Sequence

Point = tuple[float, float]
Box = tuple[float, float, float, float]

PEN_WIDTH = 12.0
"""Stroke width on the pad, in canvas pixels (also saved as the ink's ``pen_width``)."""
INK = "#1b1b1b"
PAPER = "#ffffff"
BOX_COLOURS = ("#2a7ab0", "#d9822b")  # normal, selected
MIN_STEP = 1.0
"""Points closer than this (in pixels) to the previous one are not recorded."""


def photo_from_gray(pixels, zoom: int = 1, master: tk.Misc | None = None) -> tk.PhotoImage:
    """A PhotoImage from a 2-D array of grey levels in 0..1 (0 black), scaled up `zoom` times.

    Built from a binary PGM string, so neither PIL.ImageTk nor Tk's PNG
    support is needed.
    """
    import numpy as np

    a = np.asarray(pixels, dtype=np.float32)
    g = (np.clip(a, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    if zoom > 1:
        g = np.repeat(np.repeat(g, zoom, axis=0), zoom, axis=1)
    h, w = g.shape
    data = f"P5 {w} {h} 255\n".encode("ascii") + g.tobytes()
    return tk.PhotoImage(master=master, data=data, format="PPM")


def photo_from_pil(img, master: tk.Misc | None = None) -> tk.PhotoImage:
    """A PhotoImage from a Pillow image (converted to RGB, passed as a PPM string)."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PPM")
    return tk.PhotoImage(master=master, data=buf.getvalue(), format="PPM")


class Pad(tk.Canvas):
    """A canvas to draw digits on with the mouse (button 1).

    Callbacks receive canvas coordinates: ``on_press(x, y)`` at the start of a
    stroke, ``on_drag(x, y)`` for each new point, ``on_release()`` at its end,
    ``on_hover(x, y)`` when the mouse moves with no button held and
    ``on_leave()`` when it leaves the pad.
    """

    def __init__(
        self,
        master: tk.Misc,
        on_press: Callable[[float, float], None],
        on_drag: Callable[[float, float], None],
        on_release: Callable[[], None],
        on_hover: Callable[[float, float], None] | None = None,
        on_leave: Callable[[], None] | None = None,
        on_resize: Callable[[int, int], None] | None = None,
        width: int = 560,
        height: int = 320,
    ):
        super().__init__(master, width=width, height=height, background=PAPER,
                         highlightthickness=0, borderwidth=0, cursor="pencil", takefocus=0)
        self._on_press, self._on_drag, self._on_release = on_press, on_drag, on_release
        self._on_hover, self._on_leave, self._on_resize = on_hover, on_leave, on_resize
        self._live: list[float] = []
        self._live_item: int | None = None
        self._drawing = False
        self._shown_strokes: tuple[int, int] | None = None  # (version, count) drawn
        self._photo: tk.PhotoImage | None = None
        self.bind("<ButtonPress-1>", self._press)
        self.bind("<B1-Motion>", self._drag)
        self.bind("<ButtonRelease-1>", self._release)
        self.bind("<Motion>", self._hover)
        self.bind("<Leave>", lambda e: self._on_leave and self._on_leave())
        self.bind("<Configure>", self._configure)

    # -- events -------------------------------------------------------------
    @property
    def drawing(self) -> bool:
        """True while button 1 is held down on the pad."""
        return self._drawing

    def _press(self, event: tk.Event) -> None:
        self._drawing = True
        x, y = float(self.canvasx(event.x)), float(self.canvasy(event.y))
        self._live = [x, y]
        r = PEN_WIDTH / 2
        # A dot (an oval) until the stroke has a second point, so a tap shows.
        self._live_item = self.create_oval(x - r, y - r, x + r, y + r, fill=INK, outline="",
                                           tags=("ink", "live"))
        self._on_press(x, y)

    def _drag(self, event: tk.Event) -> None:
        if not self._drawing:
            return
        x, y = float(self.canvasx(event.x)), float(self.canvasy(event.y))
        if abs(x - self._live[-2]) + abs(y - self._live[-1]) < MIN_STEP:
            return
        self._live += [x, y]
        if len(self._live) == 4:
            self.delete("live")
            self._live_item = self.create_line(*self._live, **self._line_options(), tags=("ink", "live"))
        else:
            self.coords(self._live_item, *self._live)
        self._on_drag(x, y)

    def _release(self, event: tk.Event) -> None:
        if not self._drawing:
            return
        self._drawing = False
        self.dtag("live", "live")
        self._live = []
        self._on_release()

    def _hover(self, event: tk.Event) -> None:
        if not self._drawing and self._on_hover:
            self._on_hover(float(self.canvasx(event.x)), float(self.canvasy(event.y)))

    def _configure(self, event: tk.Event) -> None:
        if self._on_resize:
            self._on_resize(event.width, event.height)

    # -- drawing ------------------------------------------------------------
    @staticmethod
    def _line_options() -> dict:
        return dict(fill=INK, width=PEN_WIDTH, capstyle=tk.ROUND, joinstyle=tk.ROUND,
                    smooth=True, splinesteps=8)

    def draw_strokes(self, strokes: Sequence[Sequence[Point]], version: int) -> None:
        """Redraw all finished strokes, unless this `version` of them is already shown."""
        key = (version, len(strokes))
        if self._shown_strokes == key or self._drawing:
            return
        if self._shown_strokes is not None and self._shown_strokes[0] == version \
                and self._shown_strokes[1] + 1 == len(strokes):
            # Only a stroke was added, and the pad drew it live already.
            self._shown_strokes = key
            return
        self.delete("ink")
        r = PEN_WIDTH / 2
        for s in strokes:
            if len(s) == 1:
                (x, y), = s
                self.create_oval(x - r, y - r, x + r, y + r, fill=INK, outline="", tags=("ink",))
            elif s:
                flat = [c for p in s for c in p]
                self.create_line(*flat, **self._line_options(), tags=("ink",))
        self._shown_strokes = key

    def show_picture(self, photo: tk.PhotoImage | None, x: float = 0, y: float = 0) -> None:
        """Show a picture (or none) under the ink, its top-left corner at (x, y)."""
        self.delete("picture")
        self._photo = photo  # keep a reference, or Tk shows nothing
        if photo is not None:
            self.create_image(x, y, image=photo, anchor=tk.NW, tags=("picture",))
            self.tag_lower("picture")

    def show_boxes(self, boxes: Sequence[Box], selected: int | None, pad: float = 8.0) -> None:
        """Outline each digit's box (grown by `pad` pixels), the selected one highlighted."""
        self.delete("box")
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            colour = BOX_COLOURS[1] if i == selected else BOX_COLOURS[0]
            self.create_rectangle(x0 - pad, y0 - pad, x1 + pad, y1 + pad, outline=colour,
                                  width=3 if i == selected else 2, dash=() if i == selected else (6, 4),
                                  tags=("box",))
        self.tag_raise("box")

    def size(self) -> tuple[int, int]:
        """The pad's current width and height in pixels."""
        return max(1, self.winfo_width()), max(1, self.winfo_height())
