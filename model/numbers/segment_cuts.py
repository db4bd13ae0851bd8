"""Cut touching and overlapping digits in an image apart: a lattice of seam-like cuts, scored by the network.

`model.numbers.segment_image` asks for this reading when its own (straight cuts at
the lightest columns of wide pieces) is unsure of a digit.

1. **Pieces.** The ink map is binarised and its connected components are
   grouped as in `model.numbers.segment.split_mask` (specks dropped; parts of a
   broken digit, such as a 5 whose bar stands apart, merged), without its
   geometric cuts.
2. **Cuts.** In a piece wider than `CUTTABLE` x the writing's height, cuts
   are top-to-bottom paths found by dynamic programming over the rows,
   seam-like: from start columns every `START_STEP` heights, each path may
   wander `BAND` heights either side of its start (paying `WANDER` for
   straying) and pays for the ink it goes through, squared (the lighter
   seam where two strokes touch is cheaper than a stroke's core). Down the
   middle of a row's run of ink `FUSED` stroke widths long (two upright
   strokes lying side by side, as a 1 pressed against its neighbour) a cut
   pays only `FUSED_WEIGHT`. The paths that cross at most `MAX_CROSS`
   stroke widths and split the ink differently are kept, up to
   `CUTS_PER_HEIGHT` per height of width: first those lighter than the
   paths from the neighbouring start columns (the seam between two fused
   1s is one, even when many light paths through a thin neighbour are
   cheaper), cheapest first, then the rest; such a local-minimum path
   crossing at most `LIGHT` stroke widths is kept even beyond that budget
   (1s packed closer than the budget allows); they may cross each other
   (they are alternatives). Beside the seams, straight (slanted) cuts run
   along both sides of each near-vertical bar (`STEM_TALL`: a 1 whose stem
   crosses its neighbour's stroke, which every seam cuts through).
   Each cut and each gap between pieces is a node.
3. **Candidates.** The ink between two nodes (the cuts must not cross; at
   most `MAX_PIECES` pieces, no wider than `WIDEST` heights unless a whole
   piece) is a candidate digit; each is cropped (its own pixels only),
   brought to MNIST's form (`model.inputs.images.to_mnist`), and all go through
   the network in one batch. A candidate costs ``-log P(its best digit)``
   plus priors: a constant per digit, too small or too wide against the
   writing's height, too narrow for its digit, a gap between its pieces;
   a 1 cut out of a piece costs more the less straight it is (a piece of
   a curve), and less if it is straight and full height. A candidate that
   still reads as the same digit with such a 1 cut off one of its ends
   costs `STRIP` more (the 1 is ink its reading does not need: a 1 pressed
   into its neighbour, as 12 read as one wide 2). A 1 that a light cut
   splits into two straight, full-height 1s costs `PAIR` more (two 1s
   side by side, read as one thick bar). With a verifier (`model.verifier`),
   a candidate also costs `VERIFY_COST` x ``-log P(one whole digit)`` (two
   overlapping digits read as one of them), a straight 1 cut out of a piece
   excepted. A digit beginning at a cut costs more the more ink the cut crosses (less than ``THIN``
   stroke widths is a bonus).
4. **Search.** Dynamic programming over the nodes left to right keeps the
   few cheapest readings at each node; the runner-up is reported. The ink
   the two cuts around a straight, full-height 1 cross is charged up to
   `EASE` stroke widths less, once its neighbours are known not to be such
   1s (a 1 pressed into a 0 or a 9 is cut out through their stroke).

Left out: interlocked digits that no top-to-bottom path separates (a cut
through the crossing itself is the best on offer), and a lone digit much
wider than it is tall (a USPS 2 with a long tail) is at some risk of being
cut (measured by benchmarks/bench_numbers.py; about one in 150).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.inputs import images
from model.numbers import segment
from model.numbers.lattice import Classify, Found, Verify, best_alternative, nll

MAX_PIECES = 3
"""A candidate digit spans at most this many pieces."""
MAX_NEXT = 20
"""A candidate digit starts at a cut and ends at one of the next this many cuts."""
MAX_NODES = 250
"""More cuts than this: the geometric split (`model.numbers.segment.split_image`) is used as it is."""
KEEP = 4
"""Readings kept per position."""
CUTTABLE = 0.5
"""Only pieces wider than this many times the writing's height are cut."""
WIDEST = 1.6
"""No candidate digit is wider than this many times the writing's height (a whole piece may be)."""

BAND = 0.3
"""A cut wanders at most this many times the writing's height either side of the column it starts near."""
START_STEP = 0.04
"""Cuts are looked for near every column this many heights apart."""
WANDER = 4.0
"""Cost (in ink pixels) per row of a cut running one writing height away from its starting column."""
STEP = 0.1
"""Cost (in ink pixels) of a sideways step of a cut."""
MAX_CROSS = 4.0
"""Cuts through more than this many stroke widths of ink are not proposed."""
SEAM_SIZE = 120
"""Cuts are looked for at a resolution where the writing is at most this many pixels tall."""
SLIVER = 0.15
"""Cuts leaving less ink than a stroke this many heights long on either side, or splitting the ink
like a cut already kept to within that much, are not proposed."""
CUTS_PER_HEIGHT = 4.0
"""At most this many cuts per writing height of a piece's width."""
LIGHT = 1.0
"""Cuts lighter than the paths from the neighbouring start columns and crossing at most this many
stroke widths are kept beyond `CUTS_PER_HEIGHT` (narrow digits, such as 1s, packed close)."""
FUSED = (1.3, 3.2)
"""A row's run of ink this many stroke widths long may be two strokes side by side..."""
FUSED_WEIGHT = 0.15
"""...and a cut running down its middle (at least `FUSED_EDGE` stroke widths from both ends) pays this
much of the ink it goes through."""
FUSED_EDGE = 0.6
"""How far (in stroke widths) from both ends of a fused run a cut must stay to pay `FUSED_WEIGHT`."""

DIGIT_COST = 0.7
SMALL = 0.7
SMALL_COST = 6.0
WIDE = 1.0
WIDE_COST = 3.0
MERGE_COST = 2.0
"""Cost of a candidate made of separate pieces, plus ``GAP_COST`` per height of gap between them."""
GAP_COST = 8.0
CUT_COST = 0.0
"""Cost of cutting through a piece, plus ``CUT_INK`` per stroke width of ink the cut crosses."""
CUT_INK = 2.5
NARROW = np.array([0.45, 0.0, 0.45, 0.45, 0.45, 0.45, 0.45, 0.3, 0.45, 0.45])
"""Narrowest plausible width / height of each digit: narrower crops (half of a digit cut in two)
cost ``NARROW_COST`` per unit below it, except as a 1 (or a narrow 7)."""
NARROW_COST = 8.0
THIN = 0.65
"""A cut through less ink than this many stroke widths (two digits barely touching) is a bonus."""
ONE_BENT = 0.5
"""A 1 cut out of a piece should be straight: if its pixels stray from their straight line by more
than this many stroke widths (standard deviation) it is likely part of a curve, and costs ``ONE_COST``
per stroke width more."""
ONE_COST = 8.0
ONE_BONUS = 0.4
ONE_TALL = 0.85
STRIP = 1.0
"""A candidate that is read as the same digit with a straight, full-height 1 cut off one of its ends
(the 1 is extra ink the reading does not need: a 1 pressed into its neighbour) costs this much more."""
VERIFY_COST = 0.3
"""With a verifier (`model.verifier`: P(one whole digit) of a candidate), a candidate costs this many
times ``-log P`` more (two overlapping digits read as one of them, part of a digit read as a digit).
The first reading (`model.numbers.segment_image`) charges its candidates the same, so that the two
readings' scores compare. Chosen on USPS rows and pen scans made with other seeds than the benchmark's
(0.3, 0.5 and 1.0 tried: 0.3 and 0.5 alike, 0.3 splits fewer spaced digits; exempting every candidate
read as 1, not only the straight ones cut out of a piece, read fewer touching rows)."""
PAIR = 1.0
"""A candidate read as a 1 that a cut through at most `PAIR_CROSS` stroke widths splits into two
straight, full-height 1s costs this much more (two 1s side by side, read as one thick bar)."""
PAIR_CROSS = 0.65
EASE = 1.0
"""Up to this many stroke widths of the ink that the cuts on either side of a straight, full-height 1
cross beyond `THIN` are not charged (once per 1), when both its ends are cuts, the network gives it at
least `EASE_SURE` and the digit across the cut is no such 1: a 1 pressed into its neighbour's stroke
(61019 read 6019) is cut out only through that stroke. Chosen on the overlapping and touching USPS rows
(0.6: one row fewer, 1.5 and 2.5 lose touching rows) with all 7,291 USPS digits as lone scans."""
EASE_SURE = 0.9
STEM_TALL = 0.7
"""A near-vertical bar: ink along a straight line (slanted up to `STEM_SLANT` columns per row) over
at least this many writing heights, in a run of such lines at most `STEM_WIDE` stroke widths wide;
straight cuts along both its sides are proposed beside the seams (a 1 whose stem crosses its
neighbour's stroke, which no seam separates)."""
STEM_SLANT = 0.3
STEM_WIDE = 2.5


@dataclass
class _Node:
    """A place where a digit may end and the next begin: between two pieces or a cut through one."""

    piece: int  # the piece cut, or (between pieces) the piece that starts here
    path: np.ndarray | None  # the cut's column per row of the piece's mask; None: between pieces
    cross: float  # stroke widths of ink the cut goes through (0 between pieces)
    line: int = -1  # the two ends of a joining line (`model.numbers.segment`'s ligature) share a number


def _least_paths(weight: np.ndarray, centres: np.ndarray, band: int, typical: float) -> np.ndarray:
    """For each start column, the top-to-bottom path of least weight within `band` columns of it:
    the column per row, (start, row). All start columns at once, row by row."""
    h, w = weight.shape
    offs = np.arange(-band, band + 1)
    cols = centres[:, None] + offs[None, :]
    colc = np.clip(cols, 0, w - 1)
    away = np.where((cols >= 0) & (cols < w), WANDER * np.abs(offs)[None, :] / typical, np.inf)
    total = weight[0][colc] + away
    n_s = len(centres)
    back = np.zeros((h, n_s, len(offs)), dtype=np.int8)
    pad = np.full((n_s, 1), np.inf)
    for r in range(1, h):
        options = np.stack([np.hstack([pad, total[:, :-1]]) + STEP, total,
                            np.hstack([total[:, 1:], pad]) + STEP])
        k = options.argmin(axis=0)
        back[r] = k - 1
        total = np.take_along_axis(options, k[None], axis=0)[0] + weight[r][colc] + away
    idx = np.empty((h, n_s), dtype=np.int64)
    idx[-1] = total.argmin(axis=1)
    starts = np.arange(n_s)
    for r in range(h - 1, 0, -1):
        idx[r - 1] = idx[r] + back[r, starts, idx[r]]
    return cols[starts[None, :], idx].T


def _seams(mask: np.ndarray, weight: np.ndarray, typical: float,
           width: float) -> list[tuple[np.ndarray, float]]:
    """Candidate cuts of a piece: (column per row, stroke widths of ink crossed), by the ink on their left.

    `weight` is the cost of cutting through each pixel (its ink, squared, so
    that the lighter seam where two strokes touch is preferred to a stroke's
    core). For start columns every `START_STEP` heights, dynamic programming
    over the rows finds the top-to-bottom path of least weight within `BAND`
    heights of the start column (a sideways step costs `STEP`, running away
    from the start column `WANDER` per height per row), all start columns at
    once. The paths are taken cheapest first; one is kept if it crosses at
    most `MAX_CROSS` stroke widths, leaves enough ink on both sides and
    splits the ink differently from every path kept before. Kept paths may
    cross each other: they are alternatives.
    """
    h, w = mask.shape
    if w < CUTTABLE * typical or w < 6 or h < 3:
        return []
    band = max(2, int(BAND * typical))
    centres = np.arange(1, w - 1, max(1, int(START_STEP * typical)))
    paths = _least_paths(weight, centres, band, typical)
    rows = np.arange(h)[None, :]
    crossed = weight[rows, paths].sum(axis=1) / width
    before = np.hstack([np.zeros((h, 1), dtype=np.int64), np.cumsum(mask, axis=1)])  # ink left of a column
    left_ink = before[rows, paths].sum(axis=1)
    least = max(4.0, SLIVER * typical * width)
    ok = (crossed <= MAX_CROSS) & (left_ink >= least) & (int(mask.sum()) - left_ink >= least)
    order = np.flatnonzero(ok)[np.argsort(crossed[ok], kind="stable")]
    padded = np.concatenate(([np.inf], crossed, [np.inf]))
    local = (crossed <= padded[:-2]) & (crossed <= padded[2:])  # lighter than the neighbouring starts' paths
    order = np.concatenate([order[local[order]], order[~local[order]]])
    budget = max(1, int(np.ceil(CUTS_PER_HEIGHT * w / typical)))
    kept: list[int] = []
    for i in order:
        if kept and np.min(np.abs(left_ink[kept] - left_ink[i])) < least:
            continue
        if len(kept) >= budget and not (local[i] and crossed[i] <= LIGHT):
            continue
        kept.append(int(i))
    out = [(paths[i], float(crossed[i]), int(left_ink[i])) for i in kept]
    total = int(mask.sum())
    for path in _stem_cuts(mask, typical, width):
        left = int(before[np.arange(h), path].sum())
        if left < least or total - left < least or any(abs(left - o[2]) < least for o in out):
            continue
        out.append((path, float(weight[np.arange(h), path].sum()) / width, left))
    out.sort(key=lambda o: o[2])
    return [(path, cross) for path, cross, _ in out]


def _stem_cuts(mask: np.ndarray, typical: float, width: float) -> list[np.ndarray]:
    """Straight cuts (column per row) along both sides of each near-vertical bar of a piece.

    For slants of up to `STEM_SLANT` columns per row, the piece's ink is
    counted along each slanted line; a run of lines holding ink over at least
    `STEM_TALL` writing heights, at most `STEM_WIDE` stroke widths wide, is a
    bar, bounded on each side by the line where the count stops falling
    (within 1.5 stroke widths). Of bars found at several slants the one with
    the most ink is kept.
    """
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return []
    centre = ys.mean()
    reach = int(np.ceil(1.5 * width))
    found = []
    for slant in np.linspace(-STEM_SLANT, STEM_SLANT, 11):  # steps of 0.06 columns per row
        off = np.round(slant * (np.arange(h) - centre)).astype(np.int64)  # line through column c: c + off
        count = np.bincount(xs - off[ys] + h, minlength=w + 2 * h + 2).astype(np.float64)  # shifted by h
        tall = np.flatnonzero(count >= STEM_TALL * typical)
        for run in np.split(tall, np.flatnonzero(np.diff(tall) > 1) + 1) if tall.size else []:
            if run.size > STEM_WIDE * width:
                continue
            a, b = run[0], run[-1]
            for _ in range(reach):
                if a < 1 or count[a - 1] > count[a]:
                    break
                a -= 1
            for _ in range(reach):
                if b + 1 >= count.size or count[b + 1] > count[b]:
                    break
                b += 1
            found.append((count[run].max(), float(run.mean()) - h, a - h + off, b + 1 - h + off))
    found.sort(key=lambda f: -f[0])
    chosen: list[tuple] = []
    for f in found:
        if all(abs(f[1] - g[1]) >= 1.5 * width for g in chosen):
            chosen.append(f)
    return [col for f in chosen for col in f[2:] if col.min() > 0 and col.max() < w]


def _weight(mask: np.ndarray, ink: np.ndarray, width: float) -> np.ndarray:
    """The cost of a cut going through each pixel of a piece: its ink squared, less down the middle of
    two strokes lying side by side (a row's run of ink `FUSED` stroke widths long)."""
    h, w = mask.shape
    weight = np.where(mask, ink, 0.0).astype(np.float64) ** 2
    flat = np.hstack([mask, np.zeros((h, 1), dtype=bool)]).ravel()
    starts = flat & ~np.concatenate(([False], flat[:-1]))
    run = np.cumsum(starts) * flat  # run number of each ink pixel (0: paper)
    length = np.bincount(run)
    first = np.zeros(length.size, dtype=np.int64)
    first[run[starts]] = np.flatnonzero(starts)
    pos = np.arange(flat.size) - first[run]
    L = length[run]
    fused = flat & (L >= FUSED[0] * width) & (L <= FUSED[1] * width) & \
        (pos >= FUSED_EDGE * width) & (L - 1 - pos >= FUSED_EDGE * width)
    weight[fused.reshape(h, w + 1)[:, :w]] *= FUSED_WEIGHT
    return weight


def nodes_of(ink: np.ndarray, pieces: list[segment.Piece], typical: float) -> list[_Node]:
    """Where digits may begin and end, left to right: before each piece, its cuts, after the last (step 2)."""
    out: list[_Node] = []
    for k, p in enumerate(pieces):
        out.append(_Node(k, None, 0.0))
        m = p.mask
        h, w = m.shape
        width = max(images.stroke_width(m), 1.0) if m.any() else 1.0
        weight = _weight(m, ink[p.top:p.top + h, p.left:p.left + w], width)
        f = max(1, int(np.ceil(typical / SEAM_SIZE)))
        if f == 1:
            cuts = _seams(m, weight, typical, width)
        else:  # a big picture: cuts are looked for on f x f blocks, then drawn back at full size
            hb, wb = -(-h // f), -(-w // f)
            block = np.zeros((hb * f, wb * f))
            block[:h, :w] = weight
            small = block.reshape(hb, f, wb, f).mean(axis=(1, 3))
            block[:h, :w] = m
            mask = block.reshape(hb, f, wb, f).mean(axis=(1, 3)) >= 0.5
            rows = np.minimum(np.arange(h) // f, hb - 1)
            cuts = [(np.minimum(path[rows] * f + f // 2, w - 1), cross)
                    for path, cross in _seams(mask, small, typical / f, max(width / f, 1.0))]
        nodes = [_Node(k, path, cross) for path, cross in cuts]
        ends = segment._cut_piece_once(p, typical, segment.WIDE)
        if ends is not None:  # a joining line: a straight cut at either end, the line itself no digit
            a, b = int(ends[0].box[2]) - p.left, int(ends[1].box[0]) - p.left
            nodes += [_Node(k, np.full(h, c, dtype=np.int64), float(weight[:, min(c, w - 1)].sum()) / width,
                            len(out) + len(nodes)) for c in (a, b)]
            before = np.hstack([np.zeros((h, 1), dtype=np.int64), np.cumsum(m, axis=1)])
            nodes.sort(key=lambda v: int(before[np.arange(h), v.path].sum()))
        out.extend(nodes)
    out.append(_Node(len(pieces), None, 0.0))
    return out


def _region(pieces: list[segment.Piece], a: _Node, b: _Node) -> segment.Piece | None:
    """The ink between two nodes (a left of b) as one piece; None if it is empty or the cuts cross."""
    first = a.piece
    last = b.piece if b.path is not None else b.piece - 1
    parts = []
    for k in range(first, last + 1):
        p = pieces[k]
        m = p.mask
        if (k == first and a.path is not None) or (k == last and b.path is not None):
            cols = np.arange(m.shape[1])[None, :]
            keep = np.ones(m.shape, dtype=bool)
            if k == first and a.path is not None:
                keep &= cols >= a.path[:, None]
            if k == last and b.path is not None:
                if k == first and a.path is not None and np.any(a.path > b.path):
                    return None
                keep &= cols < b.path[:, None]
            m = m & keep
            if not m.any():
                return None
        parts.append((m, p.top, p.left))
    if len(parts) == 1:
        return segment.Piece(*parts[0])
    y0 = min(t for _, t, _ in parts)
    x0 = min(left for _, _, left in parts)
    y1 = max(t + m.shape[0] for m, t, _ in parts)
    x1 = max(left + m.shape[1] for m, _, left in parts)
    u = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for m, t, left in parts:
        u[t - y0:t - y0 + m.shape[0], left - x0:left - x0 + m.shape[1]] |= m
    return segment.Piece(u, y0, x0)


@dataclass
class _Shape:
    """What the priors look at, per candidate (arrays): its box against the writing's height,
    whether it is bounded by a cut, how bent it is, and the pieces it joins."""

    width: np.ndarray  # box width / the writing's height
    height: np.ndarray  # box height / the writing's height
    cut: np.ndarray  # bounded by a cut through a piece on either side
    bent: np.ndarray  # `_bent` of its pixels
    joins: np.ndarray  # number of separate pieces joined (0: one piece)
    gaps: np.ndarray  # sum of the gaps between them / the writing's height


def _shape(pieces: list[segment.Piece], nodes: list[_Node], spans: list[tuple[int, int]],
           unions: list[segment.Piece], typical: float, probs: np.ndarray) -> _Shape:
    boxes = np.array([u.box for u in unions], dtype=np.float64).reshape(-1, 4)
    joins = np.zeros(len(spans))
    gaps = np.zeros(len(spans))
    for k, (i, j) in enumerate(spans):
        a, b = nodes[i], nodes[j]
        last = b.piece if b.path is not None else b.piece - 1
        right = pieces[a.piece].box[2]
        for q in range(a.piece + 1, last + 1):  # joining separate pieces
            joins[k] += 1
            gaps[k] += max(0.0, (pieces[q].box[0] - right) / typical)
            right = max(right, pieces[q].box[2])
    cut = np.array([nodes[i].path is not None or nodes[j].path is not None for i, j in spans])
    bent = np.zeros(len(spans))
    for k in np.flatnonzero(cut & (probs.argmax(axis=1) == 1)):  # only a 1 cut out of a piece is judged by it
        bent[k] = _bent(unions[k].mask)
    return _Shape(width=(boxes[:, 2] - boxes[:, 0]) / typical, height=(boxes[:, 3] - boxes[:, 1]) / typical,
                  cut=cut, bent=bent, joins=joins, gaps=gaps)


def _straight_ones(probs: np.ndarray, shape: _Shape) -> np.ndarray:
    """Which candidates are a straight, full-height 1 cut out of a piece (read as 1, bent at most
    `ONE_BENT`, at least `ONE_TALL` high): the 1s that `ONE_BONUS`, `STRIP`, `PAIR` and `EASE` concern."""
    return shape.cut & (probs.argmax(axis=1) == 1) & (shape.bent <= ONE_BENT) & (shape.height >= ONE_TALL)


def _cost(probs: np.ndarray, shape: _Shape, one: np.ndarray) -> np.ndarray:
    """Each candidate's cost: ``-log P(its best digit)`` plus the priors (see the module docstring);
    `one` marks the straight 1s (`_straight_ones`)."""
    best = probs.argmax(axis=1)
    w, h = shape.width, shape.height
    aspect = w / np.maximum(h, 1e-6)
    cost = nll(probs).min(axis=1) + DIGIT_COST
    cost += SMALL_COST * np.maximum(0.0, SMALL - np.maximum(h, 0.6 * w))
    cost += WIDE_COST * np.maximum(0.0, w / np.maximum(h, 0.6) - WIDE)
    cost += NARROW_COST * np.maximum(0.0, NARROW[best] - aspect)
    cost += np.where(shape.cut & (best == 1), ONE_COST * np.maximum(0.0, shape.bent - ONE_BENT), 0.0)
    cost -= ONE_BONUS * one
    cost += MERGE_COST * shape.joins + GAP_COST * shape.gaps
    return cost


def _pairs(nodes: list[_Node], spans: list[tuple[int, int]], probs: np.ndarray,
           one: np.ndarray) -> np.ndarray:
    """1 for each candidate read as a 1 that a light cut (at most `PAIR_CROSS` stroke widths) splits into two
    straight, full-height 1s (`one`: two 1s side by side, read as one thick bar), else 0."""
    best = probs.argmax(axis=1)
    index = {ij: k for k, ij in enumerate(spans)}
    out = np.zeros(len(spans))
    for k in np.flatnonzero(best == 1):
        i, j = spans[k]
        for m in range(i + 1, j):
            a, b = index.get((i, m)), index.get((m, j))
            if a is not None and b is not None and one[a] and one[b] and nodes[m].cross <= PAIR_CROSS:
                out[k] = 1.0
                break
    return out


def _strips(spans: list[tuple[int, int]], probs: np.ndarray, one: np.ndarray) -> np.ndarray:
    """1 for each candidate that reads as the same digit (not a 1) with a straight, full-height 1
    (`one`) cut off its left or right end (a candidate ending at an inner node that is such a 1, the
    rest another candidate of the same digit), else 0."""
    best = probs.argmax(axis=1)
    index = {ij: k for k, ij in enumerate(spans)}
    out = np.zeros(len(spans))
    for k, (i, j) in enumerate(spans):
        if best[k] == 1:
            continue
        for m in range(i + 1, j):
            a, b = index.get((i, m)), index.get((m, j))
            if a is None or b is None:
                continue
            if (one[a] and best[b] == best[k]) or (one[b] and best[a] == best[k]):
                out[k] = 1.0
                break
    return out


def verify_cost(verify: Verify, crops: np.ndarray) -> np.ndarray:
    """`VERIFY_COST` x ``-log P(one whole digit)`` of each candidate (n, 28, 28), as `verify` judges it."""
    return VERIFY_COST * nll(verify(crops))


def _boundary(nodes: list[_Node]) -> np.ndarray:
    """Cost of a digit beginning at each node: a cut through a piece costs more the more ink it crosses."""
    return np.array([CUT_COST + CUT_INK * (v.cross - THIN) if v.path is not None else 0.0 for v in nodes])


def _bent(mask: np.ndarray) -> float:
    """How far a piece's pixels stray from their least-squares line x = a + b y, in stroke widths."""
    ys, xs = np.nonzero(mask)
    if ys.size < 3:
        return 0.0
    a = np.column_stack([np.ones(ys.size), ys])
    coef, *_ = np.linalg.lstsq(a, xs.astype(np.float64), rcond=None)
    return float((xs - a @ coef).std()) / max(images.stroke_width(mask), 1.0)


@dataclass
class Lattice:
    """Candidate digits of an image: ``spans[k] = (a, b)``, the ink between nodes a and b, with its
    piece, crop, probabilities and cost, and the cost of a digit beginning at each node."""

    nodes: list[_Node]
    typical: float
    spans: list[tuple[int, int]]
    unions: list[segment.Piece]
    crops: np.ndarray
    probs: np.ndarray
    shape: _Shape
    cost: np.ndarray
    boundary: np.ndarray
    skip: np.ndarray  # candidates that are no digit (a joining line), after the others
    one: np.ndarray  # candidates that are a straight, full-height 1 cut out of a piece


def pieces_of(ink: np.ndarray) -> list[segment.Piece]:
    """The connected pieces of an ink map (step 1)."""
    return segment.split_mask(images.binarise(ink), cut=False)


def lattice(ink: np.ndarray, pieces: list[segment.Piece], classify: Classify,
            verify: Verify | None = None) -> Lattice | None:
    """Cuts and scored candidates of an ink map's pieces (steps 2-3); None if there are too many cuts.
    With `verify`, each candidate also costs `VERIFY_COST` x ``-log P(one whole digit)``."""
    heights = np.array([p.mask.shape[0] for p in pieces], dtype=np.float64)
    typical = float(np.median(heights[heights >= 0.5 * heights.max()]))
    nodes = nodes_of(ink, pieces, typical)
    if len(nodes) > MAX_NODES:
        return None
    n = len(nodes)
    spans: list[tuple[int, int]] = []
    unions: list[segment.Piece] = []
    for i in range(n - 1):
        a = nodes[i]
        for j in range(i + 1, min(i + 1 + MAX_NEXT, n)):
            b = nodes[j]
            last = b.piece if b.path is not None else b.piece - 1
            if last - a.piece + 1 > MAX_PIECES:
                break
            whole = a.path is None and b.path is None and last == a.piece
            u = _region(pieces, a, b)
            if u is None or (not whole and u.mask.shape[1] > WIDEST * typical):
                continue
            spans.append((i, j))
            unions.append(u)
    joins = [(i, j) for i in range(n) for j in range(i + 1, n)
             if nodes[i].line >= 0 and nodes[i].line == nodes[j].line and _region(pieces, nodes[i], nodes[j])]
    crops = np.stack([images.to_mnist(u.crop(ink)) for u in unions])
    probs = np.asarray(classify(crops), dtype=np.float64)
    shape = _shape(pieces, nodes, spans, unions, typical, probs)
    boundary = _boundary(nodes)
    skip = np.zeros(len(spans) + len(joins), dtype=bool)
    skip[len(spans):] = True  # a joining line left out of both digits: its two cuts cost nothing
    line = np.array([-boundary[i] - boundary[j] for i, j in joins])
    one = _straight_ones(probs, shape)
    cost = _cost(probs, shape, one) + STRIP * _strips(spans, probs, one)
    cost += PAIR * _pairs(nodes, spans, probs, one)
    if verify is not None:  # a straight 1 cut out of a piece has its own rules (a 4's stem looks like one)
        cost += verify_cost(verify, crops) * ~one
    return Lattice(nodes, typical, spans + joins, unions + [_region(pieces, *(nodes[i] for i in ij))
                                                            for ij in joins],
                   crops, probs, shape, np.concatenate([cost, line]), boundary, skip,
                   np.concatenate([one, np.zeros(len(joins), dtype=bool)]))


def _ease(lat: Lattice, k: int, left_one: bool, right_one: bool) -> float:
    """What the cuts bounding candidate k (a straight, full-height 1) are not charged (`EASE`): their ink
    beyond `THIN`, but not on a side whose neighbour is such a 1 too (`PAIR`'s case)."""
    a, b = lat.nodes[lat.spans[k][0]], lat.nodes[lat.spans[k][1]]
    if a.path is None or b.path is None or lat.probs[k, 1] < EASE_SURE:
        return 0.0
    excess = sum(max(0.0, v.cross - THIN) for v, other in ((a, left_one), (b, right_one)) if not other)
    return CUT_INK * min(EASE, excess)


def search(lat: Lattice) -> list[tuple[float, list[int]]]:
    """The `KEEP` cheapest readings (cost, candidate indices left to right), cheapest first (step 4).

    The cuts around a straight 1 are eased (`_ease`) once its neighbours are known: when the next digit
    is added, or when the 1 ends the reading."""
    n = len(lat.nodes)
    best: list[list[tuple[float, tuple[int, ...]]]] = [[] for _ in range(n)]
    best[0] = [(0.0, ())]
    by_start: dict[int, list[int]] = {}
    for k, (s, _) in enumerate(lat.spans):
        by_start.setdefault(s, []).append(k)
    for i in range(n - 1):
        if not best[i]:
            continue
        for k in by_start.get(i, []):
            e = lat.spans[k][1]
            add = lat.cost[k] + lat.boundary[i]
            for c, p in best[i]:
                extra = 0.0
                if p and lat.one[p[-1]] and not lat.one[k]:
                    extra += _ease(lat, p[-1], len(p) >= 2 and bool(lat.one[p[-2]]), False)
                if e == n - 1 and lat.one[k]:
                    extra += _ease(lat, k, bool(p) and bool(lat.one[p[-1]]), True)
                best[e].append((c + add - extra, p + (k,)))
            best[e].sort(key=lambda t: t[0])
            del best[e][KEEP:]
    return [(c, list(p)) for c, p in best[n - 1]]


def read(ink: np.ndarray, classify: Classify, verify: Verify | None = None) -> Found:
    """The best reading of an ink map (0..1) and its runner-up (see the module docstring); `verify`
    judges whether each candidate is one whole digit (`lattice`)."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.size == 0 or not (ink > 0).any():
        return Found([], [], np.zeros((0, 10)))
    pieces = pieces_of(ink)
    if not pieces:
        return Found([], [], np.zeros((0, 10)))
    lat = lattice(ink, pieces, classify, verify)
    if lat is None:
        return by_geometry(ink, classify)
    paths = [(c, [k for k in p if not lat.skip[k]]) for c, p in search(lat)]
    if not paths:  # no way through the cuts (crossing cuts around a speck): grouped by geometry
        return by_geometry(ink, classify)
    alt = best_alternative(paths, lat.probs, lat.spans, lambda p: list(p))
    chosen = paths[0][1]
    return Found(
        crops=[lat.crops[k] for k in chosen],
        boxes=[lat.unions[k].box for k in chosen],
        probs=lat.probs[chosen],
        score=-float(paths[0][0]),
        alternative=alt,
    )


def by_geometry(ink: np.ndarray, classify: Classify) -> Found:
    """The ink map's pieces grouped and cut by geometry alone (`model.numbers.segment.split_image`), read
    as they are: the fallback when there are too many cuts to search."""
    found = segment.split_image(ink)
    crops = [images.to_mnist(c) for c, _ in found]
    probs = np.asarray(classify(np.stack(crops)), dtype=np.float64)
    return Found(crops, [b for _, b in found], probs,
                 score=-float(nll(probs).min(axis=1).sum()), alternative=None)
