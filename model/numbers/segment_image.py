"""Split an image into digits by recognition, in two passes.

A first reading cuts only wide components, at their lightest columns
(below). The image is also read by `model.numbers.segment_cuts`, whose lattice of
seam-like cuts separates digits that touch or overlap (a 1 pressed against
a 0) but cuts some wide lone digits (a flat 2 with a long tail). The first
reading stands when the network is sure of each of its digits (at least
`SURE`) and the lattice's reading does not score `CUTS_WIN_BY` nats better
(`SURE_CUTS_WIN_BY` if the network is sure of each of the lattice's digits
too, `ROW_CUTS_WIN_BY` if the first reading has two digits or more);
otherwise the lattice's reading is the answer. With a verifier
(`model.verifier`), both readings charge each candidate for looking like
more or less than one whole digit (`segment_cuts.VERIFY_COST`).

The first reading:

1. **Pieces.** The ink map is binarised and its connected components are
   grouped as in `model.numbers.segment.split_mask` (specks dropped; parts of a
   broken digit, such as a 5 whose bar stands apart, merged), without its
   geometric cuts.
2. **Atoms.** A piece wider than `CUTTABLE` x the writing's height is cut
   at candidate columns (the lightest columns of the column profile, where
   two digits touch or a joining line runs), each cut following the
   top-to-bottom path through the fewest ink pixels near its column.
3. **Candidates.** Runs of 1-4 neighbouring atoms, left to right, no wider
   than two digits; each is cropped (its own pixels only) and brought to
   MNIST's form (`model.inputs.images.to_mnist`), and all go through the network in
   one batch. A candidate costs ``-log P(its best digit)`` plus priors: a
   constant per digit, too small or too wide against the writing's height,
   a gap between its pieces; cutting a piece costs more the more ink the cut
   goes through.
4. **Search.** Dynamic programming over the atoms left to right keeps the
   few cheapest readings at each position; the runner-up is reported.

The first reading leaves out cuts that cross (two digits interlocked over
more than a few pixels); both passes put single digits wider than their
height at some risk of being cut (measured by benchmarks/bench_numbers.py
and benchmarks/accuracy.py: lone USPS scans read as exactly one digit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.inputs import images
from model.numbers import segment, segment_cuts
from model.numbers.lattice import Classify, Found, Verify, best_alternative, nll

SURE = 0.9
"""A first reading is unsure when the network gives one of its digits less than this probability..."""
CUTS_WIN_BY = 1.0
"""...and a sure one gives way to the cut lattice's only if that scores this many nats better, or
`SURE_CUTS_WIN_BY` better when the lattice is itself sure of each of its digits (at least `SURE`).
All chosen on USPS (benchmarks/bench_numbers.py's touching and overlapping rows, and all 7,291
usps-train digits as lone scans): the most rows read without splitting more lone digits."""
SURE_CUTS_WIN_BY = 0.6
ROW_CUTS_WIN_BY = 0.7
"""`SURE_CUTS_WIN_BY` when the first reading has two digits or more (a row: the lone digits the 0.6 nats
protect from being cut, flat 2s and narrow 0s, read as one). Chosen on the same rows: 0.3-0.35 read two
more overlapping rows (0327, 2314) and no other row or lone scan differently; 0.2 loses a touching row,
0.4 gains one row. With the verifier (`segment_cuts.VERIFY_COST`, which charges both readings) 0.3, 0.7
and 1.0 read the same rows made with other seeds (1.0 one more spaced row), and 0.7 keeps the benchmark's
overlapping row 0260 (a sure first reading, the lattice's 020 0.65 nats better) and 213 (the lattice's,
0.76 better than the first reading's 28)."""
MAX_RUN = 4
"""A digit is made of at most this many neighbouring atoms."""
MAX_CUTS = 6
"""At most this many candidate cuts per piece."""
MAX_ATOMS = 200
"""More atoms than this: the geometric split (`model.numbers.segment.split_image`) is used as it is."""
KEEP = 4
"""Readings kept per position."""
CUTTABLE = 1.0
"""Only pieces wider than this many times the writing's height are cut (narrower: one digit)."""
WIDEST = 1.6
"""No candidate digit is wider than this many times the writing's height."""

# The priors on a candidate digit (size, width, joined pieces, too narrow for its digit) are the cut
# lattice's (`model.numbers.segment_cuts`); only what a cut through ink costs differs.
CUT_INK = 1.0
"""Cost per stroke width of ink a cut crosses (the lattice's ``CUT_COST`` for any cut)."""
THIN = 1.5
"""A cut through less ink than this many stroke widths (two digits barely touching) is a bonus."""


@dataclass
class _Atom:
    piece: segment.Piece
    source: int  # index of the piece it was cut from
    cut_ink: float  # stroke widths of ink the cut on its left goes through (0: not cut)


def _valleys(mask: np.ndarray, typical: float, width: float) -> list[tuple[int, float]]:
    """Candidate cut columns of a piece and the ink each crosses (in stroke widths).

    The column profile (ink pixels per column, lightly smoothed) is scanned
    with a window of 0.3 x the writing's height; the lightest column of each
    window position is a candidate, and the lightest candidates at least
    0.15 x the height apart are kept.
    """
    h, w = mask.shape
    if w < CUTTABLE * typical or w < 6:
        return []
    ink = mask.sum(axis=0).astype(np.float64)
    ink = np.convolve(ink, np.ones(3) / 3.0, mode="same")
    margin = max(2, int(0.15 * typical))
    lo, hi = margin, w - margin
    if hi - lo < 2:
        return []
    win = max(3, int(0.3 * typical))
    starts = np.arange(lo, max(lo + 1, hi - win + 1), max(1, win // 3))
    found = {int(a + np.argmin(ink[a:min(a + win, hi)])) for a in starts}
    order = sorted(found, key=lambda c: (ink[c], c))
    chosen: list[int] = []
    spacing = max(2, int(0.15 * typical))
    for c in order:
        if all(abs(c - k) >= spacing for k in chosen):
            chosen.append(c)
        if len(chosen) >= min(MAX_CUTS, int(np.ceil(2.5 * w / typical))):
            break
    return [(c, float(ink[c]) / max(width, 1.0)) for c in sorted(chosen)]


def _cut_path(mask: np.ndarray, centre: int, half: int) -> np.ndarray:
    """The top-to-bottom path through the fewest ink pixels within `half` columns of `centre`.

    Dynamic programming over the rows: each row's column is within one of the
    row above's; a sideways step costs a tenth of an ink pixel, so the path
    stays straight where nothing is in its way. Returns the column per row.
    """
    h, w = mask.shape
    lo, hi = max(0, centre - half), min(w, centre + half + 1)
    ink = mask[:, lo:hi].astype(np.float64)
    n = hi - lo
    total = ink[0].copy()
    back = np.zeros((h, n), dtype=np.int64)
    idx = np.arange(n)
    for r in range(1, h):
        stay = total
        left = np.concatenate(([np.inf], total[:-1])) + 0.1
        right = np.concatenate((total[1:], [np.inf])) + 0.1
        options = np.stack([left, stay, right])
        k = options.argmin(axis=0)
        back[r] = idx + k - 1
        total = options[k, idx] + ink[r]
    path = np.empty(h, dtype=np.int64)
    path[-1] = int(total.argmin())
    for r in range(h - 1, 0, -1):
        path[r - 1] = back[r, path[r]]
    return path + lo


def atoms_of(pieces: list[segment.Piece], typical: float) -> list[_Atom]:
    """The pieces, wide ones cut along paths through their valleys, left to right (step 2)."""
    out: list[_Atom] = []
    for k, p in enumerate(pieces):
        m = p.mask
        h, w = m.shape
        width = max(images.stroke_width(m), 1.0) if m.any() else 1.0
        cuts = _valleys(m, typical, width)
        half = max(0, max(2, int(0.15 * typical)) // 2 - 1)
        cols = np.arange(w)[None, :]
        start = np.zeros(h, dtype=np.int64)
        ink_here = 0.0
        for c, _ in cuts + [(w, 0.0)]:
            if c < w:
                stop = _cut_path(m, c, half)
                crossing = float(m[np.arange(h), stop].sum()) / width
            else:
                stop, crossing = np.full(h, w, dtype=np.int64), 0.0
            region = m & (cols >= start[:, None]) & (cols < stop[:, None])
            piece = segment.Piece(region, p.top, p.left)
            if piece.mask.any():
                out.append(_Atom(piece, k, ink_here))
            start, ink_here = stop, crossing
    return out


def _union(atoms: list[_Atom]) -> segment.Piece:
    boxes = np.array([a.piece.box for a in atoms], dtype=int)
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    m = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for a in atoms:
        h, w = a.piece.mask.shape
        r, c = a.piece.top - y0, a.piece.left - x0
        m[r:r + h, c:c + w] |= a.piece.mask
    return segment.Piece(m, int(y0), int(x0))


def _prior(atoms: list[_Atom], box: tuple[float, float, float, float], typical: float) -> float:
    c = segment_cuts  # the lattice's priors, read when called (a benchmark's --set reaches both readings)
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    cost = c.DIGIT_COST + c.SMALL_COST * max(0.0, c.SMALL - max(h, 0.6 * w) / typical)
    cost += c.WIDE_COST * max(0.0, w / max(h, 0.6 * typical) - c.WIDE)
    right = atoms[0].piece.box[2]
    for a, b in zip(atoms[:-1], atoms[1:], strict=True):
        if a.source != b.source:  # joining separate pieces
            cost += c.MERGE_COST + c.GAP_COST * max(0.0, (b.piece.box[0] - right) / typical)
        right = max(right, b.piece.box[2])
    return cost


def _boundary(atoms: list[_Atom]) -> np.ndarray:
    """Cost of starting a digit at atom i: the cut through ink on its left, if any."""
    cut = segment_cuts.CUT_COST
    return np.array([cut + CUT_INK * (a.cut_ink - THIN) if i and a.source == atoms[i - 1].source
                     else 0.0 for i, a in enumerate(atoms)])


def read(ink: np.ndarray, classify: Classify, verify: Verify | None = None) -> Found:
    """The best reading of an ink map (0..1) and its runner-up: the first reading if it is sure of
    every digit and the cut lattice's does not score much better, else the lattice's (module docstring).
    `verify` (`model.verifier`) judges both readings' candidates: one whole digit or not."""
    first = read_columns(ink, classify, verify)
    if not first.crops:
        return first
    cuts = segment_cuts.read(ink, classify, verify)
    sure_by = ROW_CUTS_WIN_BY if len(first.crops) >= 2 else SURE_CUTS_WIN_BY
    if not _sure(first) or cuts.score > first.score + (sure_by if _sure(cuts) else CUTS_WIN_BY):
        return cuts
    return first


def _sure(found: Found) -> bool:
    """Whether the network gives each digit of a reading at least `SURE`."""
    return len(found.probs) > 0 and float(np.asarray(found.probs).max(axis=1).min()) >= SURE


def read_columns(ink: np.ndarray, classify: Classify, verify: Verify | None = None) -> Found:
    """The first reading of an ink map (0..1), with its runner-up: wide pieces cut at light columns.
    `verify` judges each candidate as in the cut lattice (`segment_cuts.VERIFY_COST`), so that the two
    readings' scores compare."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.size == 0 or not (ink > 0).any():
        return Found([], [], np.zeros((0, 10)))
    pieces = segment.split_mask(images.binarise(ink), cut=False)
    if not pieces:
        return Found([], [], np.zeros((0, 10)))
    heights = np.array([p.mask.shape[0] for p in pieces], dtype=np.float64)
    typical = float(np.median(heights[heights >= 0.5 * heights.max()]))
    atoms = atoms_of(pieces, typical)
    if len(atoms) > MAX_ATOMS:
        return segment_cuts.by_geometry(ink, classify)
    n = len(atoms)
    spans: list[tuple[int, int]] = []
    unions: list[segment.Piece] = []
    for s in range(n):
        for e in range(s + 1, n + 1):
            # An uncut piece is always a candidate; other runs are short and no wider than a digit.
            src = atoms[s].source
            whole = atoms[e - 1].source == src and (s == 0 or atoms[s - 1].source != src) \
                and (e == n or atoms[e].source != src)
            if e - s > MAX_RUN and not whole:
                if atoms[e - 1].source != atoms[s].source:
                    break
                continue
            u = _union(atoms[s:e]) if e - s > 1 else atoms[s].piece
            if e - s > 1 and u.mask.shape[1] > WIDEST * typical and not whole:
                continue
            spans.append((s, e))
            unions.append(u)
    crops = np.stack([images.to_mnist(u.crop(ink)) for u in unions])
    probs = np.asarray(classify(crops), dtype=np.float64)
    aspect = np.array([(u.box[2] - u.box[0]) / max(u.box[3] - u.box[1], 1.0) for u in unions])
    narrow = segment_cuts.NARROW_COST * np.maximum(0.0, segment_cuts.NARROW[probs.argmax(axis=1)] - aspect)
    cost = nll(probs).min(axis=1) + narrow + np.array([_prior(atoms[s:e], u.box, typical)
                                                       for (s, e), u in zip(spans, unions, strict=True)])
    if verify is not None:
        cost += segment_cuts.verify_cost(verify, crops)
    boundary = _boundary(atoms)
    best: list[list[tuple[float, tuple[int, ...]]]] = [[] for _ in range(n + 1)]
    best[0] = [(0.0, ())]
    by_start: dict[int, list[int]] = {}
    for k, (s, _) in enumerate(spans):
        by_start.setdefault(s, []).append(k)
    for i in range(n):
        if not best[i]:
            continue
        for k in by_start.get(i, []):
            e = spans[k][1]
            add = cost[k] + boundary[i]
            best[e].extend((c + add, p + (k,)) for c, p in best[i])
            best[e].sort(key=lambda t: t[0])
            del best[e][KEEP:]
    paths = [(c, list(p)) for c, p in best[n]]
    alt = best_alternative(paths, probs, spans, lambda p: list(p))
    chosen = paths[0][1]
    return Found(
        crops=[crops[k] for k in chosen],
        boxes=[unions[k].box for k in chosen],
        probs=probs[chosen],
        score=-float(paths[0][0]),
        alternative=alt,
    )
