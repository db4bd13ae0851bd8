"""Draw Digitpad's icon with Pillow: a rounded blue tile with a hand-drawn "7" and a pen dot.

Writes ``assets/icon.png`` (256x256, used by the Tk window and by the Linux
release archive's desktop entry), ``assets/icon.ico`` (16..256 px, the Windows
executable's icon) and ``assets/icon.icns`` (16..1024 px, the macOS app
bundle's icon; build.spec uses it there). Run from the repository root:
``python assets/make_icon.py``.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZE = 1024  # drawn large, then scaled down for smooth edges
BLUE = (42, 122, 176, 255)
BLUE_DARK = (29, 88, 128, 255)
PAPER = (255, 255, 255, 255)
ORANGE = (217, 130, 43, 255)


def _stroke(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: float, fill) -> None:
    """A polyline with round caps and joints."""
    draw.line(pts, fill=fill, width=int(width))
    r = width / 2
    for x, y in pts:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def make_icon() -> Image.Image:
    """The icon at 1024x1024 (RGBA)."""
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    m = 40
    d.rounded_rectangle((m, m + 16, SIZE - m, SIZE - m + 16), radius=200, fill=BLUE_DARK)  # shadow
    d.rounded_rectangle((m, m, SIZE - m, SIZE - m), radius=200, fill=BLUE)
    # A white pad with a hand-written 7 and a recognition box.
    p = 190
    d.rounded_rectangle((p, p, SIZE - p, SIZE - p), radius=70, fill=PAPER)
    seven = [(350, 360), (520, 352), (660, 350), (600, 470), (540, 590), (480, 700)]
    _stroke(d, seven, 78, (27, 27, 27, 255))
    _stroke(d, [(470, 530), (620, 530)], 60, (27, 27, 27, 255))
    box = (300, 290, 720, 760)
    for i in range(0, 420, 70):  # a dashed box, like the pad draws round a digit
        d.line((box[0] + i, box[1], min(box[0] + i + 40, box[2]), box[1]), fill=ORANGE, width=18)
        d.line((box[0] + i, box[3], min(box[0] + i + 40, box[2]), box[3]), fill=ORANGE, width=18)
    for i in range(0, 470, 70):
        d.line((box[0], box[1] + i, box[0], min(box[1] + i + 40, box[3])), fill=ORANGE, width=18)
        d.line((box[2], box[1] + i, box[2], min(box[1] + i + 40, box[3])), fill=ORANGE, width=18)
    return img


def main() -> None:
    """Write icon.png, icon.ico and icon.icns beside this script."""
    big = make_icon()
    png = big.resize((256, 256), Image.Resampling.LANCZOS)
    png.save(HERE / "icon.png", optimize=True)
    png.save(HERE / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128),
                                       (256, 256)])
    # Pillow writes every ICNS size (16 to 1024 px, PNG-coded) from the full-size drawing.
    big.save(HERE / "icon.icns", format="ICNS")
    print(f"wrote {HERE / 'icon.png'}, {HERE / 'icon.ico'} and {HERE / 'icon.icns'}")


if __name__ == "__main__":
    main()
