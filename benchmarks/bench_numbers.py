"""Numbers and scans: how well whole numbers are split into digits and read.

Two synthetic but realistic sets are built from real handwriting:

* ink numbers: 2-6 pendigits samples (real pen strokes) placed side by side
  with realistic gaps, some of them rescaled about their centre so that the
  digits of one number have different heights;
* image rows: USPS digits (scanned ZIP codes) upscaled to 64-96 px, inverted
  to dark ink on white paper, placed side by side, then blurred, lit unevenly
  and made noisy like a scan or a phone photo;
* pen scans: ink numbers drawn with a 2-14 px pen and "scanned" the same way
  (a quarter of them light on dark), which tests the stroke-width
  normalisation of the image path.

Each input goes through the app's own pipeline (`model.recognise.Recogniser`)
and the script prints how often the digit count is right, how often the whole
string is right, and the time per digit. The generators are also used by the
tests (tests/test_segment.py, tests/test_images.py), on smaller sets.

Each set is read by the new segmentation (by recognition) and by the old
one (geometry alone) on the same inputs; one-writer pen numbers are reported
by the gap between digit boxes (spaced 5-20% of the height, touching,
overlapping 3-5% and 5-10%; and the touching ones written uphill and downhill), USPS rows by
spacing (spaced, touching, overlapping by 3-6% and by 5-10% of the size), with the
close-call rates and the time to re-read a 10-digit number after each stroke.

Run:  python benchmarks/bench_numbers.py [--weights DIR] [--n 1000] [--n-scans 300] [--seed 0]
      [--only pen|scans] [--rise 0.2] [--set NAME=VALUE ...]
      python benchmarks/bench_numbers.py --folds [--n 200] [--set NAME=VALUE ...]   (cross-validation)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOLDOUT_WRITERS = (25, 26, 27, 28, 29, 30)


# --------------------------------------------------------------------------- ink numbers


def rescale_strokes(strokes: Sequence[np.ndarray], factor: float) -> list[np.ndarray]:
    """Strokes scaled by `factor` about the centre of their bounding box."""
    pts = np.concatenate(strokes)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
    return [(s - centre) * factor + centre for s in strokes]


def pen_number(samples: Sequence, rng: np.random.Generator, n_digits: int,
               vary_height: bool = False,
               pen: float = 0.0) -> tuple[list[np.ndarray], str, list[list[np.ndarray]]]:
    """A number written with real pen digits: (strokes, the digits as a string, strokes per digit).

    The digits are placed left to right with a gap of 10-50% of the digit
    height (at least 6 px) between their bounding boxes and a small vertical
    wobble; with `vary_height` each digit is also rescaled about its centre
    by 0.65-1.35. `pen` (the pen width the strokes will be drawn with) is
    added to each gap, so that the gap is between the edges of the ink.
    """
    strokes: list[np.ndarray] = []
    digits: list[list[np.ndarray]] = []
    text = ""
    right = 0.0
    for k in range(n_digits):
        s = samples[int(rng.integers(len(samples)))]
        st = [np.asarray(a, dtype=np.float64) for a in s.strokes]
        factor = float(rng.uniform(0.65, 1.35)) if vary_height else float(rng.uniform(0.9, 1.1))
        st = rescale_strokes(st, factor)
        pts = np.concatenate(st)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        h = max(y1 - y0, 1.0)
        gap = 0.0 if k == 0 else float(rng.uniform(0.10, 0.50)) * max(h, 60.0) + pen
        dx = right + gap - x0
        dy = 160.0 - (y0 + y1) / 2.0 + float(rng.normal(0.0, 0.05)) * h
        st = [a + np.array([dx, dy]) for a in st]
        right = x1 + dx
        strokes.extend(st)
        digits.append(st)
        text += str(s.label)
    return strokes, text, digits


def pen_numbers(samples: Sequence, n: int, seed: int, vary_every: int = 3,
                lengths: tuple[int, int] = (2, 6)) -> list[tuple[list[np.ndarray], str, list]]:
    """`n` numbers of 2-6 digits; every `vary_every`-th one has digits of different heights."""
    rng = np.random.default_rng(seed)
    return [pen_number(samples, rng, int(rng.integers(lengths[0], lengths[1] + 1)),
                       vary_height=(i % vary_every == 0)) for i in range(n)]


GAP_BUCKETS = {
    "spaced": (0.05, 0.20),
    "touching": (0.0, 0.0),
    "overlapping": (-0.05, -0.03),
    "overlapping 5-10%": (-0.10, -0.05),
}
"""Gap between neighbouring digit boxes as a fraction of the digit height (negative: overlap; "overlapping"
is 3-5% of the height)."""
FOLDS = tuple(tuple(range(k, k + 6)) for k in (1, 7, 13, 19, 25))
"""Pen writers in five folds of six, the validation writers 25-30 last (`--folds`): a segmentation constant
is kept only if it helps on the folds it was not chosen on. The network has seen the digits of writers 1-24,
so their numbers show the geometric failures (merging, splitting) more than misread digits."""
RISE = 0.2
"""The uphill (downhill) set: each digit of the touching numbers written this fraction of its height above
(below) the last, about 14 degrees, to catch priors that lean on the generated numbers' level line."""


def by_writer(samples: Sequence) -> dict[int, list]:
    """Samples grouped by writer id."""
    out: dict[int, list] = {}
    for s in samples:
        out.setdefault(s.writer, []).append(s)
    return out


def compact_number(samples: Sequence, rng: np.random.Generator, n_digits: int,
                   gap: tuple[float, float]) -> tuple[list[np.ndarray], str, list[list[np.ndarray]]]:
    """A number written by one writer with a given spacing: (strokes, text, strokes per digit).

    `samples` are one writer's digits. Each digit is rescaled by 0.9-1.1 and
    placed so that the gap between its bounding box and the previous one's is
    drawn from `gap` (a fraction of the two digits' mean height; negative
    values make the boxes overlap), with a vertical wobble of 3% of the height.
    The strokes keep the order they were written in, digit after digit.
    """
    strokes: list[np.ndarray] = []
    digits: list[list[np.ndarray]] = []
    text = ""
    right, last_h = 0.0, 0.0
    for k in range(n_digits):
        s = samples[int(rng.integers(len(samples)))]
        st = rescale_strokes([np.asarray(a, dtype=np.float64) for a in s.strokes],
                             float(rng.uniform(0.9, 1.1)))
        pts = np.concatenate(st)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        h = max(y1 - y0, 1.0)
        g = 0.0 if k == 0 else float(rng.uniform(*gap)) * (h + last_h) / 2.0
        dx = (right + g - x0) if k else 40.0 - x0
        dy = 160.0 - (y0 + y1) / 2.0 + float(rng.normal(0.0, 0.03)) * h
        st = [a + np.array([dx, dy]) for a in st]
        right, last_h = x1 + dx, h
        strokes.extend(st)
        digits.append(st)
        text += str(s.label)
    return strokes, text, digits


def rising(digits: Sequence[Sequence[np.ndarray]], per_digit: float) -> list[np.ndarray]:
    """The strokes of a number written uphill: digit k raised by k x `per_digit` of its own height
    (negative: downhill)."""
    out: list[np.ndarray] = []
    for k, strokes in enumerate(digits):
        h = float(np.ptp(np.concatenate(strokes)[:, 1]))
        out.extend(s - np.array([0.0, k * per_digit * h]) for s in strokes)
    return out


def compact_numbers(samples: Sequence, n: int, seed: int, gap: tuple[float, float],
                    lengths: tuple[int, int] = (2, 6)) -> list[tuple[list[np.ndarray], str, list]]:
    """`n` one-writer numbers of 2-6 digits with gaps drawn from `gap` (see `compact_number`)."""
    rng = np.random.default_rng(seed)
    writers = by_writer(samples)
    ids = sorted(writers)
    out = []
    for _ in range(n):
        w = ids[int(rng.integers(len(ids)))]
        out.append(compact_number(writers[w], rng, int(rng.integers(lengths[0], lengths[1] + 1)), gap))
    return out


# --------------------------------------------------------------------------- image rows


def load_usps(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """USPS images (n, 16, 16) uint8, 255 = ink, and labels."""
    with np.load(path) as d:
        return d["images"], d["labels"]


def _upscale(img16: np.ndarray, size: int) -> np.ndarray:
    """A 16x16 uint8 digit as a size x size float ink map (0..1), bicubic."""
    im = Image.fromarray(img16, mode="L").resize((size, size), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(im, dtype=np.float32) / 255.0, 0.0, 1.0)


@dataclass
class ScanStyle:
    """How a synthetic scan looks."""

    paper: float = 0.92
    ink: float = 0.15
    blur: float = 1.0
    noise: float = 0.04
    gradient: float = 0.35
    light_on_dark: bool = False


def random_style(rng: np.random.Generator) -> ScanStyle:
    """A plausible scan/photo: grey paper, dark ink, some blur, noise and uneven light."""
    return ScanStyle(
        paper=float(rng.uniform(0.80, 0.97)),
        ink=float(rng.uniform(0.05, 0.35)),
        blur=float(rng.uniform(0.5, 1.5)),
        noise=float(rng.uniform(0.02, 0.06)),
        gradient=float(rng.uniform(0.15, 0.45)),
    )


def render_scan(ink: np.ndarray, style: ScanStyle, rng: np.random.Generator) -> np.ndarray:
    """An ink map (0..1) as a grey uint8 picture: paper, ink, blur, uneven light, noise."""
    h, w = ink.shape
    grey = style.paper + (style.ink - style.paper) * ink
    grey = ndimage.gaussian_filter(grey, style.blur)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(angle) * xx / max(w, 1) + np.sin(angle) * yy / max(h, 1))
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - style.gradient * ramp
    grey = grey * light + rng.normal(0.0, style.noise, size=grey.shape)
    if style.light_on_dark:
        grey = 1.0 - grey
    return (np.clip(grey, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def _ink_columns(cell: np.ndarray) -> tuple[int, int]:
    """First and one-past-last column of a cell holding ink (above 0.3)."""
    cols = np.flatnonzero((cell > 0.3).any(axis=0))
    return (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, cell.shape[1])


def usps_row(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_digits: int,
             style: ScanStyle | None = None,
             gap: tuple[float, float] | None = None) -> tuple[np.ndarray, str]:
    """A row of USPS digits as a dark-on-white scan: (grey uint8 image, the digits).

    Each 16x16 digit is upscaled to 64-96 px (one size per row, +-8% per
    digit), the cells are separated by 10-40% of the size, with a margin of
    30-60% around the row and a small vertical wobble. With `gap`, the gap
    between the *ink* of neighbouring digits is drawn from that range instead
    (a fraction of the size; 0 makes the ink boxes touch, negative overlap).
    """
    size = int(rng.integers(64, 97))
    margin = int(size * rng.uniform(0.3, 0.6))
    idx = rng.integers(len(X), size=n_digits)
    cells = [_upscale(X[i], max(16, int(round(size * rng.uniform(0.92, 1.08))))) for i in idx]
    if gap is None:
        gaps = [int(size * rng.uniform(0.10, 0.40)) for _ in range(n_digits - 1)]
    else:  # cell gap = wanted ink gap - the blank columns at the touching edges
        ink_cols = [_ink_columns(c) for c in cells]
        gaps = [int(round(size * rng.uniform(*gap))) - (a.shape[1] - ink_cols[k][1]) - ink_cols[k + 1][0]
                for k, a in enumerate(cells[:-1])]
    width = sum(c.shape[1] for c in cells) + sum(gaps) + 2 * margin
    height = max(c.shape[0] for c in cells) + 2 * margin + size // 5
    ink = np.zeros((height, width), dtype=np.float32)
    x = margin
    for k, c in enumerate(cells):
        top = margin + int(rng.integers(0, size // 5 + 1))
        ink[top:top + c.shape[0], x:x + c.shape[1]] = np.maximum(
            ink[top:top + c.shape[0], x:x + c.shape[1]], c)
        x += c.shape[1] + (gaps[k] if k < len(gaps) else 0)
    style = style or random_style(rng)
    return render_scan(ink, style, rng), "".join(str(int(y[i])) for i in idx)


def usps_rows(X: np.ndarray, y: np.ndarray, n: int, seed: int, lengths: tuple[int, int] = (2, 6),
              gap: tuple[float, float] | None = None) -> list[tuple[np.ndarray, str]]:
    """`n` rows of 2-6 USPS digits (lengths (1, 1) gives single-digit scans); `gap` as in `usps_row`."""
    rng = np.random.default_rng(seed)
    return [usps_row(X, y, rng, int(rng.integers(lengths[0], lengths[1] + 1)), gap=gap) for _ in range(n)]


def pen_scans(samples: Sequence, n: int, seed: int, lengths: tuple[int, int] = (1, 4),
              light_on_dark: float = 0.25) -> list[tuple[np.ndarray, str]]:
    """Pen numbers drawn with a 2-14 px pen (digits about 70 px tall), then scanned (`render_scan`).

    A fraction `light_on_dark` of them is inverted (chalk on a board, a
    screenshot of white on black).
    """
    from model.inputs import ink as ink_mod

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        pen = float(rng.uniform(2.0, 14.0))
        strokes, text, _ = pen_number(samples, rng, int(rng.integers(lengths[0], lengths[1] + 1)),
                                      pen=pen)
        pts = np.concatenate(strokes)
        lo = pts.min(axis=0) - 40
        size = pts.max(axis=0) + 40 - lo
        shifted = [s - lo for s in strokes]
        pic = ink_mod.render_canvas(ink_mod.Ink(shifted, float(size[0]), float(size[1])),
                                    int(size[0]), int(size[1]), pen_width=pen)
        style = random_style(rng)
        style.light_on_dark = bool(rng.random() < light_on_dark)
        out.append((render_scan(1.0 - np.asarray(pic, dtype=np.float32) / 255.0, style, rng), text))
    return out


# --------------------------------------------------------------------------- scoring


@dataclass
class Score:
    """Accuracy of a set of readings."""

    n: int = 0
    count_ok: int = 0
    string_ok: int = 0
    digits: int = 0
    seconds: float = 0.0

    @property
    def count_rate(self) -> float:
        """Fraction of inputs with the right number of digits."""
        return self.count_ok / max(self.n, 1)

    @property
    def string_rate(self) -> float:
        """Fraction of inputs read exactly."""
        return self.string_ok / max(self.n, 1)

    def line(self, name: str) -> str:
        """One printable summary line."""
        ms = 1000.0 * self.seconds / max(self.digits, 1)
        return (f"{name:28s} n={self.n:5d}  count {self.count_rate:.4f}  "
                f"string {self.string_rate:.4f}  {ms:.2f} ms/digit")


def score(read, cases: Sequence[tuple]) -> tuple[Score, list[tuple[str, str]]]:
    """Run `read(input) -> Reading` on each case ``(input, truth, ...)``; the score and the misses.

    A failure to read (an exception) counts as a wrong count and a wrong string.
    """
    s = Score()
    misses = []
    t0 = time.perf_counter()
    for inp, truth, *_ in cases:
        try:
            got = read(inp).text
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it doesn't stop
            got = f"<{type(exc).__name__}>"
        s.n += 1
        s.digits += len(truth)
        s.count_ok += len(got) == len(truth)
        s.string_ok += got == truth
        if got != truth:
            misses.append((truth, got))
    s.seconds = time.perf_counter() - t0
    return s, misses


def oracle_strings(recogniser, cases: Sequence[tuple]) -> float:
    """Whole-string accuracy if the digits were split perfectly (each digit read on its own).

    For ink numbers ``(strokes, text, strokes per digit)``: the ceiling that
    the network's per-digit accuracy sets on the string accuracy.
    """
    from model.inputs import ink

    digits = [d for _, _, parts in cases for d in parts]
    probs = recogniser.classify(np.stack([ink.normalise(d) for d in digits]))
    got = iter(probs.argmax(axis=1))
    ok = 0
    for _, text, parts in cases:
        ok += "".join(str(next(got)) for _ in parts) == text
    return ok / max(len(cases), 1)


def read_grey(recogniser):
    """A reader for grey uint8 pictures, through the same steps as an image file."""
    from model.inputs import images

    def read(grey: np.ndarray):
        return recogniser.read_ink_map(images.ink_map(grey.astype(np.float32) / 255.0))

    return read


USPS_GAPS = {
    "spaced": None,
    "touching": (0.0, 0.0),
    "overlapping": (-0.06, -0.03),
    "overlapping 5-10%": (-0.10, -0.05),
}
"""USPS rows: spaced (cells 10-40% apart), ink boxes touching, ink overlapping by 3-6% and by 5-10% of the
size."""


def read_geometry(recogniser):
    """The earlier segmentation (geometry alone), for comparison on the same inputs."""
    return recogniser.read_strokes_by_geometry


def read_grey_geometry(recogniser):
    """The earlier image segmentation (geometry alone) for grey uint8 pictures."""
    from model.inputs import images

    def read(grey: np.ndarray):
        return recogniser.read_ink_map_by_geometry(images.ink_map(grey.astype(np.float32) / 255.0))

    return read


def close_call_rates(read, cases: Sequence[tuple]) -> tuple[float, float]:
    """(fraction of wrong readings flagged as close calls, fraction of right ones flagged)."""
    flagged = {True: [0, 0], False: [0, 0]}
    for inp, truth, *_ in cases:
        r = read(inp)
        ok = r.text == truth
        flagged[ok][0] += bool(r.close_call)
        flagged[ok][1] += 1
    return flagged[False][0] / max(flagged[False][1], 1), flagged[True][0] / max(flagged[True][1], 1)


def live_times(model, cases: Sequence[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Seconds to read each whole drawing from cold, and to re-read it after each stroke as the pad does.

    Each case gets a fresh `Recogniser` (an empty candidate cache); the
    second array holds the time of every re-reading after a stroke is added.
    """
    from model.recognise import Recogniser

    cold, live = [], []
    for strokes, *_ in cases:
        rec = Recogniser(model)
        t0 = time.perf_counter()
        rec.read_strokes(strokes)
        cold.append(time.perf_counter() - t0)
        rec = Recogniser(model)
        for k in range(1, len(strokes) + 1):
            t0 = time.perf_counter()
            rec.read_strokes(strokes[:k])
            live.append(time.perf_counter() - t0)
    return np.array(cold), np.array(live)


def main(argv: list[str] | None = None) -> int:
    """Print count/string accuracy and time per digit, new segmentation against the old, by spacing."""
    from model.datasets import pendigits
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(ROOT / "weights"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--n", type=int, default=1000, help="pen numbers per set (1000)")
    ap.add_argument("--n-scans", type=int, default=300, help="scanned rows per set (300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--misses", type=int, default=0, help="print this many misses per set")
    ap.add_argument("--only", choices=("pen", "scans"), help="run only the pen or only the scan sets")
    ap.add_argument("--rise", type=float, default=RISE,
                    help=f"slope of the uphill and downhill sets, in digit heights per digit ({RISE})")
    ap.add_argument("--folds", action="store_true",
                    help="instead: pen numbers by gap and split lone digits for each fold of six writers "
                         "(1-6, ..., 25-30), with the mean and the spread across folds")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a constant of model.numbers.segment_ink, segment_image or segment_cuts "
                         "(the first that has it, or MODULE.NAME: segment_cuts.DIGIT_COST) for this run "
                         "(repeatable)")
    ap.add_argument("--no-verifier", action="store_true",
                    help="split scans without the shipped one-whole-digit network (model.verifier)")
    args = ap.parse_args(argv)

    from model.numbers import segment_cuts, segment_image, segment_ink

    modules = {"segment_ink": segment_ink, "segment_image": segment_image, "segment_cuts": segment_cuts}
    for item in args.set:
        name, _, value = item.partition("=")
        where, _, name = name.rpartition(".")
        if where and where not in modules:
            ap.error(f"--set {item}: expected MODULE.NAME with MODULE one of {', '.join(modules)}")
        candidates = [modules[where]] if where else list(modules.values())
        owner = next((m for m in candidates if hasattr(m, name)), None)
        if owner is None or not name.isupper():
            ap.error(f"--set {item}: model.numbers.{where or 'segment_ink, segment_image and segment_cuts'} "
                     f"{'has' if where else 'have'} no constant {name}")
        setattr(owner, name, type(getattr(owner, name))(value))
    from model.verifier import load_verifier

    rec = Recogniser(load_weights(args.weights), None if args.no_verifier else load_verifier(ROOT / "assets"))
    data = Path(args.data)
    pen = pendigits.load(data / "pendigits-train" / pendigits.FILE_NAME)
    held = [s for s in pen if s.writer in HOLDOUT_WRITERS]
    X, y = load_usps(data / "usps-train" / "usps-train.npz")
    print(f"weights {args.weights}  seed {args.seed}  (new = segmentation by recognition, "
          f"old = geometry alone, on the same inputs)" + "".join(f"  {x}" for x in args.set)
          + ("  without the verifier" if args.no_verifier else ""))
    if args.folds:
        fold_sets(args, rec, pen)
        return 0

    def show(name: str, cases, new, old=None) -> None:
        s, misses = score(new, cases)
        line = s.line(name + " new")
        if old is not None:
            o, _ = score(old, cases)
            line += f"   | old: count {o.count_rate:.4f}  string {o.string_rate:.4f}"
        print(line, flush=True)
        for truth, got in misses[: args.misses]:
            print(f"    {truth} -> {got}")

    if args.only != "scans":
        pen_sets(args, rec, pen, held, show)
    if args.only != "pen":
        scan_sets(args, rec, held, X, y, show)
    return 0


def pen_sets(args, rec, pen, held, show) -> None:
    """Single pen digits (and how many lone digits of the training writers split), one-writer numbers by
    gap, close calls, live-update time."""
    singles = [(s.strokes, str(s.label)) for s in held]
    show("pen single (writers 25-30)", singles, rec.read_strokes, read_geometry(rec))
    split = np.mean([len(rec.read_strokes(st).digits) > 1 for st, _ in singles])
    print(f"  a lone pen digit read as two or more digits: {100 * split:.2f}% of {len(singles)}")
    seen = [s for s in pen if s.writer not in HOLDOUT_WRITERS]
    split_seen = sum(len(rec.read_strokes(s.strokes).digits) != 1 for s in seen)
    print(f"  lone digits of the training writers (seen by the network) read as other than one digit: "
          f"{split_seen} of {len(seen)}", flush=True)
    by_gap = {}
    for k, (bucket, gap) in enumerate(GAP_BUCKETS.items()):
        cases = by_gap[bucket] = compact_numbers(held, args.n, args.seed + 10 + k, gap)
        show(f"pen numbers {bucket}", cases, rec.read_strokes, read_geometry(rec))
        print(f"  (perfect split: string {oracle_strings(rec, cases):.4f})")
    uphill = [(rising(d, args.rise), text, d) for _, text, d in by_gap["touching"]]
    show(f"pen numbers touching, uphill {args.rise:.0%}/digit", uphill, rec.read_strokes, read_geometry(rec))
    downhill = [(rising(d, -args.rise), text, d) for _, text, d in by_gap["touching"]]
    show(f"pen numbers touching, downhill {args.rise:.0%}/digit", downhill, rec.read_strokes,
         read_geometry(rec))
    mixed = compact_numbers(held, args.n, args.seed + 20, (-0.05, 0.20))
    show("pen numbers gap -5..+20%", mixed, rec.read_strokes, read_geometry(rec))
    flagged_wrong, flagged_right = close_call_rates(rec.read_strokes, mixed)
    print(f"  close calls: {100 * flagged_wrong:.1f}% of wrong readings, {100 * flagged_right:.1f}% "
          f"of right ones")
    ten = compact_numbers(held, 100, args.seed + 30, (-0.05, 0.20), lengths=(10, 10))
    cold, live = live_times(rec.model, ten)
    print(f"10-digit numbers, whole drawing from cold: median {1000 * np.median(cold):.1f} ms, "
          f"p95 {1000 * np.percentile(cold, 95):.1f} ms; re-read after each stroke while writing: "
          f"median {1000 * np.median(live):.1f} ms, p95 {1000 * np.percentile(live, 95):.1f} ms, "
          f"max {1000 * live.max():.1f} ms", flush=True)


def fold_sets(args, rec, pen) -> None:
    """For each fold of writers (`FOLDS`): lone digits read as other than one digit, and the whole-number
    accuracy of one-writer numbers by gap (`GAP_BUCKETS`); then each column's mean and range over folds."""
    rows = []
    print(f"{'writers':8s} {'lone split':>14s}" + "".join(f"{b:>19s}" for b in GAP_BUCKETS), flush=True)
    for k, writers in enumerate(FOLDS):
        samples = [s for s in pen if s.writer in writers]
        split = sum(len(rec.read_strokes(s.strokes).digits) != 1 for s in samples)
        rates = [score(rec.read_strokes, compact_numbers(samples, args.n, args.seed + 100 * k + j, gap))[0]
                 .string_rate for j, gap in enumerate(GAP_BUCKETS.values())]
        rows.append([split / len(samples), *rates])
        print(f"{writers[0]:>2d}-{writers[-1]:<5d} {split:>5d} of {len(samples):<5d}"
              + "".join(f"{100 * r:>18.1f}%" for r in rates), flush=True)
    a = np.array(rows)
    for name, f in (("mean", np.mean), ("min", np.min), ("max", np.max)):
        cols = f(a[:, 1:], axis=0)
        print(f"{name:8s} {100 * f(a[:, 0]):>13.2f}%" + "".join(f"{100 * v:>18.1f}%" for v in cols))


def scan_sets(args, rec, held, X, y, show) -> None:
    """USPS single digits and rows by spacing, pen numbers drawn and scanned."""
    show("usps single scans", usps_rows(X, y, args.n_scans, args.seed + 2, (1, 1)), read_grey(rec),
         read_grey_geometry(rec))
    for k, (bucket, gap) in enumerate(USPS_GAPS.items()):
        show(f"usps rows {bucket}", usps_rows(X, y, args.n_scans, args.seed + 3 + 10 * k, gap=gap),
             read_grey(rec), read_grey_geometry(rec))
    show("pen scans (writers 25-30)", pen_scans(held, args.n_scans, args.seed + 4), read_grey(rec),
         read_grey_geometry(rec))


if __name__ == "__main__":
    sys.exit(main())
