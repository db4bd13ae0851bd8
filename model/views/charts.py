"""Charts drawn with Pillow: line charts, heat maps, tile grids, galleries, bars.

These are the pictures of the "Inside the network" window and of
`digitpad report`: the window shows the very images written to the report
(as Tk photos), so one drawing code serves both. Everything is plain
`PIL.ImageDraw` on RGB images, with the colour maps computed in NumPy over
whole arrays; there is no matplotlib (a large dependency for a few charts).

Text uses Pillow's built-in scalable font when Pillow has FreeType, else its
small bitmap font (readable, only not scalable). Left out on purpose:
anti-aliased lines, interactive zoom, any chart type the app does not show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WHITE = (255, 255, 255)
INK = (34, 34, 34)
GRID = (225, 225, 225)
MUTED = (120, 120, 120)
NEGATIVE = np.array([33, 102, 172], dtype=np.float32)  # blue: lowers / negative weight
POSITIVE = np.array([178, 24, 43], dtype=np.float32)  # red: raises / positive weight
PALETTE = ((42, 122, 176), (217, 130, 43), (46, 125, 50), (142, 68, 173), (192, 57, 43), (90, 90, 90))
"""Series colours, in order."""
ACTIVE = np.array([230, 97, 1], dtype=np.float32)
"""Frame colour of a fully active unit (an inactive one has a light grey frame)."""
IDLE = np.array([236, 236, 236], dtype=np.float32)

Colour = tuple[int, int, int]


@lru_cache(maxsize=16)
def font(size: int = 14) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's default font at `size` pixels (the fixed bitmap font without FreeType)."""
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError, AttributeError):
        return ImageFont.load_default()


def text_size(draw: ImageDraw.ImageDraw, text: str, size: int) -> tuple[int, int]:
    """(width, height) of `text` in the font of `size`."""
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font(size))
    return x1 - x0, y1 - y0


def text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], s: str, size: int = 14,
         fill: Colour = INK, anchor: str = "la") -> None:
    """Draw `s` at `xy` with a Pillow anchor ("la" left-top, "mm" centred, "rm" right-middle...)."""
    draw.text(xy, s, fill=fill, font=font(size), anchor=anchor)


def title(draw: ImageDraw.ImageDraw, width: int, s: str, y: int = 10, size: int = 20) -> None:
    """A centred title line."""
    text(draw, (width / 2, y), s, size, anchor="ma")


# --------------------------------------------------------------------------- colour maps


def diverging(values: np.ndarray, vmax: float | np.ndarray | None = None) -> np.ndarray:
    """RGB uint8 for `values` on a blue (negative) - white (0) - red (positive) scale.

    `vmax` is the magnitude that gets the full colour: a number, or an array
    broadcasting against `values` (one scale per tile); by default the largest
    magnitude in `values`.
    """
    v = np.asarray(values, dtype=np.float32)
    if vmax is None:
        vmax = float(np.abs(v).max()) if v.size else 1.0
    t = np.clip(v / np.maximum(np.asarray(vmax, dtype=np.float32), 1e-12), -1.0, 1.0)[..., None]
    white = np.float32(255.0)
    rgb = np.where(t >= 0, white + t * (POSITIVE - white), white + (-t) * (NEGATIVE - white))
    return (rgb + 0.5).astype(np.uint8)


def sequential(values: np.ndarray, low: np.ndarray = IDLE, high: np.ndarray = ACTIVE) -> np.ndarray:
    """RGB uint8 for `values` in 0..1 from `low` to `high`."""
    t = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)[..., None]
    return (low + t * (high - low) + 0.5).astype(np.uint8)


def gray_rgb(img: np.ndarray) -> np.ndarray:
    """A 0..1 ink image (1 = ink) as RGB uint8, white ink on black like MNIST."""
    g = (np.clip(np.asarray(img, dtype=np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


def zoom(rgb: np.ndarray, k: int) -> np.ndarray:
    """Each pixel of an (h, w, 3) (or (n, h, w, 3)) array as a k x k block."""
    if k <= 1:
        return rgb
    return np.repeat(np.repeat(rgb, k, axis=-3), k, axis=-2)


def colour_legend(img: Image.Image, box: tuple[int, int, int, int], low: str, high: str) -> None:
    """A horizontal blue-white-red bar in `box` of `img` with captions at both ends."""
    x0, y0, x1, y1 = box
    ramp = diverging(np.linspace(-1, 1, max(2, x1 - x0)), 1.0)
    img.paste(Image.fromarray(np.repeat(ramp[None], max(1, y1 - y0), axis=0)), (x0, y0))
    draw = ImageDraw.Draw(img)
    draw.rectangle(box, outline=MUTED)
    text(draw, (x0, y1 + 4), low, 12, MUTED)
    text(draw, (x1, y1 + 4), high, 12, MUTED, anchor="ra")


# --------------------------------------------------------------------------- tiles


CELL_BORDER = 2


def weight_tiles(weights: np.ndarray) -> np.ndarray:
    """(n, 28, 28, 3) uint8: each row of `weights` (n, 784) as a 28x28 diverging image.

    Each tile has its own scale (its largest magnitude), so every unit's
    pattern shows whatever its overall size.
    """
    W = np.asarray(weights, dtype=np.float32).reshape(-1, 28, 28)
    vmax = np.abs(W).max(axis=(1, 2), keepdims=True)
    return diverging(W, vmax)


def grid_columns(n: int) -> int:
    """Columns for a grid of `n` tiles: a little wider than tall, with as few empty cells as possible."""
    low, high = math.ceil(math.sqrt(n)), math.ceil(math.sqrt(1.5 * n))
    def badness(c: int) -> tuple[int, float]:
        rows = math.ceil(n / c)
        return c * rows - n, abs(c / rows - 1.25)

    return min(range(low, high + 1), key=badness)


def tile_grid(tiles: np.ndarray, frames: np.ndarray | None = None, order: Sequence[int] | None = None,
              cols: int | None = None) -> tuple[np.ndarray, int]:
    """Tiles (n, t, t, 3) in a grid, each in a frame of colour `frames[i]`; returns (rgb, cols).

    `order` lists the tile indices in reading order (default 0..n-1). Each
    cell is the tile plus a `CELL_BORDER`-pixel frame; the grid is built with
    one reshape, no loop over tiles.
    """
    n, t = tiles.shape[0], tiles.shape[1]
    order = np.arange(n) if order is None else np.asarray(order, dtype=np.intp)
    cols = cols or grid_columns(n)
    rows = math.ceil(n / cols)
    c = t + 2 * CELL_BORDER
    cells = np.empty((rows * cols, c, c, 3), dtype=np.uint8)
    cells[:] = WHITE
    if frames is None:
        frames = np.broadcast_to(IDLE.astype(np.uint8), (n, 3))
    cells[: len(order)] = np.asarray(frames, dtype=np.uint8)[order][:, None, None, :]
    cells[: len(order), CELL_BORDER:CELL_BORDER + t, CELL_BORDER:CELL_BORDER + t] = tiles[order]
    grid = cells.reshape(rows, cols, c, c, 3).transpose(0, 2, 1, 3, 4).reshape(rows * c, cols * c, 3)
    return grid, cols


def grid_cell(x: float, y: float, cols: int, n: int, cell: float) -> int | None:
    """Index (in grid order) of the cell at (x, y) of a grid of `cols` columns of `cell` pixels."""
    if x < 0 or y < 0:
        return None
    i = int(y // cell) * cols + int(x // cell)
    return i if int(x // cell) < cols and i < n else None


# --------------------------------------------------------------------------- line charts


@dataclass
class Series:
    """One line of a chart: a label for the legend, x and y values, a colour."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    colour: Colour = PALETTE[0]
    markers: bool = False
    width: int = 2


@dataclass
class Panel:
    """What one chart shows: title, axis labels, series, optional fixed y range and vertical marks."""

    title: str
    xlabel: str
    ylabel: str
    series: list[Series] = field(default_factory=list)
    ylim: tuple[float, float] | None = None
    log_y: bool = False
    vlines: Sequence[float] = ()
    percent: bool = False
    note: str = ""
    legend: str = "top"
    """Where the legend sits inside the plot: "top" (right) or "bottom" (centre)."""


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About `n` round tick values covering lo..hi (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float, step: float, percent: bool) -> str:
    if percent:
        decimals = max(0, -math.floor(math.log10(step * 100))) if step > 0 else 0
        return f"{v * 100:.{decimals}f}%"
    if abs(v) >= 1000 or (step >= 1 and float(v).is_integer()):
        return f"{v:,.0f}"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 2
    return f"{v:.{decimals}f}"


def draw_panel(img: Image.Image, box: tuple[int, int, int, int], panel: Panel) -> None:
    """Draw `panel` as a line chart inside `box` (x0, y0, x1, y1) of `img`."""
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    text(draw, ((x0 + x1) / 2, y0 + 2), panel.title, 16, anchor="ma")
    left, top, right, bottom = x0 + 64, y0 + 30, x1 - 12, y1 - 44
    xs = [float(v) for s in panel.series for v in s.x]
    ys = [float(v) for s in panel.series for v in s.y if v is not None and math.isfinite(float(v))]
    if panel.log_y:
        ys = [v for v in ys if v > 0]
    if not xs or not ys:
        draw.rectangle((left, top, right, bottom), outline=MUTED)
        text(draw, ((left + right) / 2, (top + bottom) / 2), panel.note or "no data", 14, MUTED, "mm")
        return
    xlo, xhi = min(xs), max(xs)
    if xhi == xlo:
        xlo, xhi = xlo - 1, xhi + 1
    if panel.ylim is not None:
        ylo, yhi = panel.ylim
    else:
        ylo, yhi = min(ys), max(ys)
        pad = (yhi - ylo) * 0.08 or abs(yhi) * 0.05 or 1.0
        ylo, yhi = ylo - pad, yhi + pad

    def fy_lin(v: float) -> float:
        return bottom - (v - ylo) / (yhi - ylo) * (bottom - top)

    if panel.log_y:
        llo, lhi = math.log10(min(ys)), math.log10(max(ys))
        if lhi - llo < 0.3:
            llo, lhi = llo - 0.15, lhi + 0.15
        llo, lhi = llo - 0.03 * (lhi - llo), lhi + 0.03 * (lhi - llo)

        def fy(v: float) -> float:
            return bottom - (math.log10(max(v, 1e-300)) - llo) / (lhi - llo) * (bottom - top)

        yticks = [m * 10.0 ** e for e in range(math.floor(llo), math.ceil(lhi) + 1) for m in (1, 2, 5)
                  if llo <= math.log10(m * 10.0 ** e) <= lhi]
        if len(yticks) < 2:
            yticks = [10 ** llo, 10 ** lhi]
        ystep = min(yticks) if yticks else 1.0
    else:
        fy = fy_lin
        yticks = nice_ticks(ylo, yhi)
        ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0

    def fx(v: float) -> float:
        return left + (v - xlo) / (xhi - xlo) * (right - left)

    xticks = nice_ticks(xlo, xhi, 6)
    xstep = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0
    for t in yticks:
        y = fy(t)
        if top - 0.5 <= y <= bottom + 0.5:
            draw.line((left, y, right, y), fill=GRID)
            label = (f"{t:g}" if panel.log_y else _fmt(t, ystep, panel.percent))
            text(draw, (left - 6, y), label, 12, MUTED, "rm")
    for t in xticks:
        x = fx(t)
        if left - 0.5 <= x <= right + 0.5:
            draw.line((x, top, x, bottom), fill=GRID)
            text(draw, (x, bottom + 5), _fmt(t, xstep, False), 12, MUTED, "ma")
    for v in panel.vlines:
        x = fx(v)
        for yy in range(int(top), int(bottom), 8):
            draw.line((x, yy, x, min(yy + 4, bottom)), fill=MUTED)
    draw.rectangle((left, top, right, bottom), outline=MUTED)
    text(draw, ((left + right) / 2, bottom + 22), panel.xlabel, 13, anchor="ma")
    # The y label, written sideways.
    tw, th = text_size(draw, panel.ylabel, 13)
    label = Image.new("RGB", (tw + 4, th + 6), WHITE)
    text(ImageDraw.Draw(label), (2, 1), panel.ylabel, 13)
    img.paste(label.rotate(90, expand=True), (x0 + 2, int((top + bottom) / 2 - (tw + 4) / 2)))

    for s in panel.series:
        pts = [(fx(float(a)), fy(float(b))) for a, b in zip(s.x, s.y, strict=True)
               if b is not None and math.isfinite(float(b)) and (not panel.log_y or float(b) > 0)]
        pts = [(min(max(px, left), right), min(max(py, top), bottom)) for px, py in pts]
        if len(pts) > 1:
            draw.line(pts, fill=s.colour, width=s.width, joint="curve")
        if s.markers or len(pts) == 1:
            for px, py in pts:
                draw.ellipse((px - 4, py - 4, px + 4, py + 4), fill=s.colour, outline=WHITE)
    # Legend, top right inside the plot.
    labelled = [s for s in panel.series if s.label]
    if labelled:
        w = max(text_size(draw, s.label, 12)[0] for s in labelled) + 34
        lh = 8 + 18 * len(labelled)
        lx, ly = (right - w - 6, top + 6) if panel.legend == "top" else \
            ((left + right - w) / 2, bottom - lh - 6)
        draw.rectangle((lx, ly, lx + w, ly + lh), fill=WHITE, outline=GRID)
        for i, s in enumerate(labelled):
            yy = ly + 13 + 18 * i
            draw.line((lx + 6, yy, lx + 24, yy), fill=s.colour, width=3)
            text(draw, (lx + 29, yy), s.label, 12, anchor="lm")
    if panel.note:
        text(draw, (left + 6, bottom - 6), panel.note, 12, MUTED, "ld")


def panels_image(panels: Sequence[Panel], heading: str, size: tuple[int, int] = (1000, 700),
                 cols: int = 1, subtitle: str = "") -> Image.Image:
    """Several line charts in a grid of `cols` columns under one heading."""
    w, h = size
    img = Image.new("RGB", (w, h), WHITE)
    draw = ImageDraw.Draw(img)
    head = 0
    if heading:
        title(draw, w, heading)
        head = 40
    if subtitle:
        text(draw, (w / 2, head + 2), subtitle, 13, MUTED, "ma")
        head += 22
    rows = max(1, math.ceil(len(panels) / cols))
    pw, ph = w / cols, (h - head - 6) / rows
    for i, p in enumerate(panels):
        r, c = divmod(i, cols)
        box = (int(c * pw + 6), int(head + r * ph), int((c + 1) * pw - 6), int(head + (r + 1) * ph))
        draw_panel(img, box, p)
    return img


# --------------------------------------------------------------------------- heat map


@dataclass
class HeatGeometry:
    """Where the cells of a drawn heat map are: cell (r, c) spans x0 + c*cell .. and y0 + r*cell .."""

    x0: int
    y0: int
    cell: int
    rows: int
    cols: int

    def at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the cell under image point (x, y), or None."""
        c, r = math.floor((x - self.x0) / self.cell), math.floor((y - self.y0) / self.cell)
        return (r, c) if 0 <= r < self.rows and 0 <= c < self.cols else None


def confusion_heat_map(matrix: np.ndarray, heading: str, subtitle: str = "",
                       selected: tuple[int, int] | None = None,
                       size: tuple[int, int] = (860, 720)) -> tuple[Image.Image, HeatGeometry]:
    """A confusion matrix (rows true, columns predicted) with counts and per-row accuracy.

    The diagonal is coloured green by the row's accuracy; the other cells red
    by their count relative to the largest misread count, so that where the
    network fails stands out. Returns the image and where its cells are.
    """
    m = np.asarray(matrix, dtype=np.int64)
    n = m.shape[0]
    w, h = size
    img = Image.new("RGB", (w, h), WHITE)
    draw = ImageDraw.Draw(img)
    title(draw, w, heading)
    if subtitle:
        text(draw, (w / 2, 38), subtitle, 13, MUTED, "ma")
    cell = int(min((w - 280) / n, (h - 150) / n))  # room for the labels and the accuracy column
    gx0, gy0 = 80, 100
    rowsum = np.maximum(m.sum(axis=1), 1)
    off = m.copy()
    np.fill_diagonal(off, 0)
    offmax = max(int(off.max()), 1)
    strength = np.where(np.eye(n, dtype=bool), m / rowsum[:, None], np.sqrt(off / offmax))
    green = np.array([46, 125, 50], dtype=np.float32)
    red = np.array([192, 57, 43], dtype=np.float32)
    base = np.float32(255)
    colours = np.where(np.eye(n, dtype=bool)[..., None], base + strength[..., None] * (green - base),
                       base + strength[..., None] * (red - base)).astype(np.uint8)
    colours[(off == 0) & ~np.eye(n, dtype=bool)] = (250, 250, 250)
    for r in range(n):
        for c in range(n):
            x, y = gx0 + c * cell, gy0 + r * cell
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=tuple(int(v) for v in colours[r, c]),
                           outline=GRID)
            if m[r, c]:
                dark = strength[r, c] > 0.55
                text(draw, (x + cell / 2, y + cell / 2), f"{m[r, c]}", min(15, max(9, cell // 3)),
                     WHITE if dark else INK, "mm")
    if selected is not None:
        r, c = selected
        x, y = gx0 + c * cell, gy0 + r * cell
        draw.rectangle((x - 1, y - 1, x + cell, y + cell), outline=INK, width=3)
    for i in range(n):
        text(draw, (gx0 + i * cell + cell / 2, gy0 - 6), str(i), 15, anchor="md")
        text(draw, (gx0 - 8, gy0 + i * cell + cell / 2), str(i), 15, anchor="rm")
    text(draw, (gx0 + n * cell / 2, gy0 - 30), "predicted digit", 14, anchor="md")
    label = Image.new("RGB", (90, 20), WHITE)
    text(ImageDraw.Draw(label), (45, 10), "true digit", 14, anchor="mm")
    img.paste(label.rotate(90, expand=True), (20, int(gy0 + n * cell / 2 - 45)))
    # Per-digit accuracy column.
    ax = gx0 + n * cell + 24
    text(draw, (ax + 50, gy0 - 6), "accuracy", 14, anchor="md")
    for r in range(n):
        acc = m[r, r] / rowsum[r]
        y = gy0 + r * cell + cell / 2
        bw = 100 * acc
        draw.rectangle((ax, y - 7, ax + 100, y + 7), fill=(240, 240, 240))
        draw.rectangle((ax, y - 7, ax + bw, y + 7), fill=tuple(int(v) for v in green))
        text(draw, (ax + 108, y), f"{100 * acc:.1f}%", 13, anchor="lm")
    total = int(m.sum())
    correct = int(np.trace(m))
    text(draw, (gx0, gy0 + n * cell + 14),
         f"{correct:,} of {total:,} right ({100 * correct / max(total, 1):.2f}%); "
         f"rows: true digit, columns: the network's answer; click a cell for its images", 13, MUTED)
    return img, HeatGeometry(gx0, gy0, cell, n, n)


# --------------------------------------------------------------------------- galleries and bars


def gallery(images: Sequence[np.ndarray], captions: Sequence[str], heading: str, subtitle: str = "",
            cols: int = 10, scale: int = 3, min_size: tuple[int, int] = (0, 0),
            empty: str = "nothing to show") -> Image.Image:
    """28x28 images (white ink on black) in a grid, each with its caption (lines split at "\\n") under it."""
    tile = 28 * scale
    lines = max((c.count("\n") + 1 for c in captions), default=1)
    cw, ch = max(tile + 12, 100), tile + 18 + 16 * lines
    n = len(images)
    cols = max(1, min(cols, n)) if n else 1
    rows = math.ceil(n / cols) if n else 1
    head = 44 + (22 if subtitle else 0)
    w = max(min_size[0], cols * cw + 20)
    h = max(min_size[1], head + rows * ch + 20)
    img = Image.new("RGB", (w, h), WHITE)
    draw = ImageDraw.Draw(img)
    title(draw, w, heading)
    if subtitle:
        text(draw, (w / 2, 40), subtitle, 13, MUTED, "ma")
    if not n:
        text(draw, (w / 2, head + 40), empty, 14, MUTED, "ma")
        return img
    x_start = (w - cols * cw) // 2
    tiles = zoom(gray_rgb(np.asarray(images).reshape(n, 28, 28)), scale)
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = x_start + c * cw + (cw - tile) // 2, head + r * ch
        img.paste(Image.fromarray(tiles[i]), (x, y))
        for k, line in enumerate(captions[i].split("\n")):
            text(draw, (x + tile / 2, y + tile + 4 + 16 * k), line, 12, anchor="ma")
    return img


def bar_chart(values: Sequence[float], labels: Sequence[str], heading: str, size: tuple[int, int],
              highlight: int | None = None, signed: bool = True, ylabel: str = "") -> Image.Image:
    """Vertical bars (blue below zero, red above when `signed`, else one colour) with labels."""
    w, h = size
    img = Image.new("RGB", (w, h), WHITE)
    draw = ImageDraw.Draw(img)
    if heading:
        text(draw, (w / 2, 4), heading, 13, anchor="ma")
    vals = np.asarray(values, dtype=np.float64)
    n = len(vals)
    top, bottom, left, right = 24, h - 20, 8 + (40 if ylabel else 0), w - 6
    if ylabel:
        text(draw, (4, (top + bottom) / 2), ylabel, 11, MUTED, "lm")
    if n == 0:
        return img
    vmax = float(np.abs(vals).max()) or 1.0
    zero = (top + bottom) / 2 if signed and vals.min() < 0 else bottom
    scale_px = (zero - top) / vmax
    step = (right - left) / n
    draw.line((left, zero, right, zero), fill=MUTED)
    for i, v in enumerate(vals):
        x0, x1 = left + i * step + max(1, step * 0.15), left + (i + 1) * step - max(1, step * 0.15)
        y = zero - v * scale_px
        if signed:
            colour = tuple(int(c) for c in (POSITIVE if v >= 0 else NEGATIVE))
        else:
            colour = PALETTE[1] if i == highlight else PALETTE[0]
        if i == highlight and signed:
            draw.rectangle((x0 - 2, min(y, zero) - 2, x1 + 2, max(y, zero) + 2), outline=INK, width=2)
        draw.rectangle((x0, min(y, zero), x1, max(y, zero)), fill=colour)
        if labels and step >= 10:
            text(draw, ((x0 + x1) / 2, bottom + 3), labels[i], 11, INK, "ma")
    return img


def side_by_side(images: Sequence[Image.Image], gap: int = 10) -> Image.Image:
    """Images next to each other on white, top-aligned."""
    w = sum(i.width for i in images) + gap * (len(images) - 1)
    h = max(i.height for i in images)
    out = Image.new("RGB", (w, h), WHITE)
    x = 0
    for i in images:
        out.paste(i, (x, 0))
        x += i.width + gap
    return out
