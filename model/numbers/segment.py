"""Split a drawing or an image into digits, left to right, by geometry alone.

The app reads by recognition (`model.numbers.segment_ink`, `model.numbers.segment_image`),
which borrows this module's pieces (`split_mask` without its cuts, the
resampling and box helpers) and falls back to `split_strokes` for a drawing
of very many strokes; `Recogniser.read_strokes_by_geometry` and
`read_ink_map_by_geometry` keep this reading for comparison in the benchmark.

Strokes (`split_strokes`):

1. strokes that touch or cross (closer than a few percent of their size), or
   whose horizontal extents mostly overlap, are one digit: the two strokes of
   a 4, the bar of a 5 or the cross of a 7 join their digit;
2. neighbouring groups are then joined when they overlap horizontally and are
   close, and a small fragment (a detached bar, a dot) joins its nearest group
   when it is near it;
3. touching digits: a group much wider than a digit is tall (`WIDE`; two
   digits written without lifting the pen) is cut at a column that a single
   line crosses (the joining stroke), near where the boundary between digits
   is expected, provided both sides are nearly as tall as the group; the
   joining line itself is left out and each side is looked at again.
   Narrower joined pairs (a "10" written tightly in one stroke) are left
   whole: at that width single digits (an open 0) have the same shape, and
   cutting them would cost more than it gains.
4. a stray dot far from everything (a full stop, a tap of the pen) is dropped.

Images (`split_image`): the ink map is binarised (`model.inputs.images.binarise`,
with hysteresis so faint joins hold), specks are dropped, connected
components are grouped by the same rules as strokes (parts of a broken digit
that overlap horizontally or nearly touch are merged), components much wider
than a digit are cut where a single thin run of ink joins two digits, and
each digit's crop keeps only its own ink.

Both work on "parts" (strokes or components) described by their bounding
boxes and point sets, with thresholds relative to the writing's size, so they
do not depend on the canvas or image resolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from model.inputs import images

Box = tuple[float, float, float, float]

TOUCH = 0.06
"""Parts closer than this fraction of their size are one digit."""
OVERLAP_STRONG = 0.5
"""Parts whose horizontal overlap is at least this fraction of the narrower one are one digit."""
OVERLAP_WEAK = 0.25
"""Neighbouring groups overlapping horizontally by this fraction of the narrower one..."""
NEAR = 0.25
"""...and closer than this fraction of their height are one digit."""
FRAGMENT = 0.25
"""A part smaller than this fraction of the writing's height is a fragment of a digit..."""
FLAT = 0.3
"""A flat part (less tall than this fraction of the writing's height and than half its
width) is a fragment too: the detached bar of a 5 or a 7."""
FRAGMENT_NEAR = 0.35
"""A fragment joins the nearest group if it is within this fraction of the height."""
SPECK_STROKE = 0.2
"""A group smaller than this fraction of the digits' height, far from the rest, is a stray dot."""
WIDE = 1.25
"""A group wider than this many times its height, with a single line joining two parts
as tall as digits (`TALL_SIDES`), is two digits written without lifting the pen."""
LIGATURE = 0.15
"""A joining line between two digits runs over at least this fraction of their height."""
TALL_SIDES = 0.65
"""Both sides of a cut must be at least this fraction of the group's height."""
MAX_DIGITS = 64
"""Cutting stops at this many digits (a scribble is not a 64-digit number)."""
MAX_PARTS = 200
"""At most this many connected components of an image are considered (the biggest)."""


class _Parts:
    """Bounding boxes, sizes and point clouds of parts, and a union-find over them."""

    def __init__(self, boxes: np.ndarray, points: list[np.ndarray]):
        self.boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)  # x0, y0, x1, y1
        self.points = points
        self.parent = list(range(len(points)))
        self._trees: dict[int, cKDTree] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.points)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())

    def tree(self, i: int) -> cKDTree:
        if i not in self._trees:
            self._trees[i] = cKDTree(self.points[i])
        return self._trees[i]

    def distance(self, a: Sequence[int], b: Sequence[int]) -> float:
        """Smallest distance between the point sets of two lists of parts."""
        best = np.inf
        for i in a:
            for j in b:
                bi, bj = self.boxes[i], self.boxes[j]
                gap = max(bi[0] - bj[2], bj[0] - bi[2], bi[1] - bj[3], bj[1] - bi[3], 0.0)
                if gap >= best:
                    continue
                pi, pj = (i, j) if len(self.points[i]) >= len(self.points[j]) else (j, i)
                d = float(self.tree(pi).query(self.points[pj], k=1)[0].min())
                best = min(best, d)
        return best


def _union_box(boxes: np.ndarray) -> np.ndarray:
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


def _overlap_fraction(a: np.ndarray, b: np.ndarray) -> float:
    """Horizontal overlap of two boxes as a fraction of the narrower one (negative: a gap).

    A box of no width (a perfectly upright stroke) within the other's columns overlaps it fully,
    as any narrow box does: the limit, not 0 / 0."""
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    narrower = min(a[2] - a[0], b[2] - b[0])
    if narrower <= 1e-9:
        return 1.0 if overlap >= 0 else overlap / 1e-9
    return overlap / narrower


def _reference_height(boxes: np.ndarray) -> float:
    """The writing's height: the upper quartile of the parts' extents."""
    ext = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    h = float(np.percentile(ext, 75)) if len(ext) else 0.0
    return max(h, float(ext.max()) * 0.25 if len(ext) else 0.0, 1e-6)


def _group_parts(parts: _Parts) -> list[list[int]]:
    """Group parts into digits (rules 1 and 2 of the module docstring), left to right."""
    n = len(parts.points)
    boxes = parts.boxes
    if n == 0:
        return []
    H = _reference_height(boxes)
    ext = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    # Rule 1: touching / crossing parts, and parts mostly above one another.
    for i in range(n):
        for j in range(i + 1, n):
            if parts.find(i) == parts.find(j):
                continue
            bi, bj = boxes[i], boxes[j]
            if _overlap_fraction(bi, bj) >= OVERLAP_STRONG:
                parts.union(i, j)
                continue
            size = max(ext[i], ext[j])
            xgap = max(bi[0] - bj[2], bj[0] - bi[2])
            if xgap <= TOUCH * size and parts.distance([i], [j]) <= TOUCH * size:
                parts.union(i, j)
    # Rule 2: neighbouring groups that overlap and are close; fragments near a group.
    changed = True
    while changed:
        changed = False
        groups = parts.groups()
        if len(groups) < 2:
            break
        gboxes = np.array([_union_box(boxes[g]) for g in groups])
        order = np.argsort((gboxes[:, 0] + gboxes[:, 2]) / 2)
        for a, b in zip(order[:-1], order[1:], strict=True):
            ba, bb = gboxes[a], gboxes[b]
            h = max(ba[3] - ba[1], bb[3] - bb[1], 0.5 * H)
            if _overlap_fraction(ba, bb) >= OVERLAP_WEAK and \
                    parts.distance(groups[a], groups[b]) <= NEAR * h:
                parts.union(groups[a][0], groups[b][0])
                changed = True
                break
        if changed:
            continue
        gext = np.maximum(gboxes[:, 2] - gboxes[:, 0], gboxes[:, 3] - gboxes[:, 1])
        gh = gboxes[:, 3] - gboxes[:, 1]
        gw = gboxes[:, 2] - gboxes[:, 0]
        small = (gext < FRAGMENT * H) | ((gh < FLAT * H) & (gh < 0.5 * gw))
        for k in np.flatnonzero(small)[np.argsort(gext[small])]:
            others = [m for m in range(len(groups)) if m != k]
            dists = [parts.distance(groups[k], groups[m]) for m in others]
            m = others[int(np.argmin(dists))]
            if min(dists) <= FRAGMENT_NEAR * H and (gext[m] > gext[k] or not small[m]):
                parts.union(groups[k][0], groups[m][0])
                changed = True
                break
    groups = parts.groups()
    centres = [float((_union_box(boxes[g])[0] + _union_box(boxes[g])[2]) / 2) for g in groups]
    return [sorted(groups[i]) for i in np.argsort(centres, kind="stable")]


# --------------------------------------------------------------------------- strokes


def _resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline no more than `step` apart (the vertices included)."""
    if len(stroke) < 2:
        return stroke
    seg = np.diff(stroke, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    k = np.maximum(1, np.ceil(length / step).astype(int))
    idx = np.repeat(np.arange(len(seg)), k)
    first = np.repeat(np.cumsum(k) - k, k)  # index of each segment's first sample
    t = (np.arange(int(k.sum())) - first) / k[idx]
    pts = stroke[idx] + seg[idx] * t[:, None]
    return np.vstack([pts, stroke[-1:]])


def _stroke_parts(strokes: Sequence[np.ndarray], step: float) -> _Parts:
    boxes = np.array([[s[:, 0].min(), s[:, 1].min(), s[:, 0].max(), s[:, 1].max()] for s in strokes])
    return _Parts(boxes, [_resample(s, step) for s in strokes])


def _column_profile(strokes: Sequence[np.ndarray], x0: float, x1: float, bins: int) -> np.ndarray:
    """For each of `bins` columns over x0..x1: how many times the strokes cross it."""
    edges = np.linspace(x0, x1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    count = np.zeros(bins)
    for s in strokes:
        if len(s) < 2:
            continue
        a, b = s[:-1, 0], s[1:, 0]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        # Segment k crosses column c when lo_k <= centre_c < hi_k.
        count += ((lo[:, None] <= centres[None, :]) & (centres[None, :] < hi[:, None])).sum(axis=0)
    return count


def _cut_strokes(strokes: Sequence[np.ndarray], x: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Cut every stroke at the vertical line `x`: the pieces left of it and right of it.

    Each piece ends (or starts) exactly on the line, where its segment crosses it.
    """
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for s in strokes:
        side = s[:, 0] >= x
        change = np.flatnonzero(side[1:] != side[:-1])  # segment k -> k+1 crosses the line
        if change.size == 0:
            (right if side[0] else left).append(s)
            continue
        p, q = s[change], s[change + 1]
        t = (x - p[:, 0]) / (q[:, 0] - p[:, 0])  # never 0/0: the two ends are on either side
        cross = p + t[:, None] * (q - p)
        bounds = np.concatenate(([0], change + 1, [len(s)]))
        for i in range(len(bounds) - 1):
            parts = [s[bounds[i]:bounds[i + 1]]]
            if i > 0:
                parts.insert(0, cross[i - 1:i])
            if i < len(change):
                parts.append(cross[i:i + 1])
            (right if side[bounds[i]] else left).append(np.vstack(parts))
    return left, right


def _ligature_cut(thin: np.ndarray, centres: np.ndarray, x0: float, w: float,
                  h: float) -> tuple[int, int] | None:
    """Where a joining line between two digits runs: the first and last column index, or None.

    `thin` flags the columns that only a joining line could cross (crossed
    once, by little ink). Among the flagged columns not within 0.3 h of
    either end, the one nearest to the first expected boundary (the group's
    width shared among digits about 0.8 h wide) is chosen, and the joining
    line is the run of flagged columns around it, if it is at least
    `LIGATURE` x h long.
    """
    ok = (centres > x0 + 0.3 * h) & (centres < x0 + w - 0.3 * h) & thin
    if not ok.any():
        return None
    n = max(2, int(round(w / (0.8 * h))))
    cost = np.abs(centres - (x0 + w / n))
    cost[~ok] = np.inf
    c = int(np.argmin(cost))
    breaks = np.flatnonzero(~thin)
    before, after = breaks[breaks < c], breaks[breaks > c]
    first = int(before[-1]) + 1 if before.size else 0
    last = int(after[0]) - 1 if after.size else len(thin) - 1
    if centres[last] - centres[first] < LIGATURE * h:
        return None  # too short for a joining line: the flat bottom of an open 0, say
    return first, last


def _cut_strokes_once(group: list[np.ndarray], typical: float,
                      wide: float) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """The two sides of a group wider than `wide` x its height, joining line left out; or None."""
    x0, y0, x1, y1 = _bounds(group)
    w, h = x1 - x0, y1 - y0
    if h <= 0 or h < 0.6 * typical or w <= wide * h:
        return None
    bins = 64
    step = w / bins
    centres = x0 + (np.arange(bins) + 0.5) * step
    run = _ligature_cut(_column_profile(group, x0, x1, bins) <= 1, centres, x0, w, h)
    if run is None:
        return None
    left, rest = _cut_strokes(group, float(centres[run[0]] - 0.5 * step))
    _, right = _cut_strokes(rest, float(centres[run[1]] + 0.5 * step))
    if not left or not right:
        return None
    lb, rb = _bounds(left), _bounds(right)
    if min(lb[3] - lb[1], rb[3] - rb[1]) < TALL_SIDES * h:
        return None
    return left, right


def _bounds(strokes: Sequence[np.ndarray]) -> Box:
    pts = np.concatenate(strokes)
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _cut_all(items: list, cut_once, typical: float, wide: float) -> list:
    """Cut items (recursively) wherever `cut_once(item, typical, wide)` finds a cut."""
    out: list = []
    todo = list(items)
    while todo:
        it = todo.pop(0)
        sides = cut_once(it, typical, wide) if len(out) + len(todo) < MAX_DIGITS else None
        if sides is None:
            out.append(it)
        else:
            todo[:0] = list(sides)
    return out


def split_strokes(strokes: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Group strokes into digits, ordered left to right (see the module docstring).

    Each group is a list of (n, 2) arrays; the strokes of a group keep their
    drawing order. A stroke running through two digits is cut between them
    when the group is clearly too wide for one digit (`WIDE`) and a single
    line joins two parts as tall as digits.
    """
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        return []
    boxes = np.array([[s[:, 0].min(), s[:, 1].min(), s[:, 0].max(), s[:, 1].max()] for s in strokes])
    H = _reference_height(boxes)
    grouped = _group_parts(_stroke_parts(strokes, H / 40.0))
    heights = np.array([_union_box(boxes[g])[3] - _union_box(boxes[g])[1] for g in grouped])
    exts = np.array([max(_union_box(boxes[g])[2] - _union_box(boxes[g])[0], h)
                     for g, h in zip(grouped, heights, strict=True)])
    typical = float(np.median(heights[exts >= FRAGMENT * H])) if (exts >= FRAGMENT * H).any() else H
    typical = max(typical, 0.15 * H)  # a flat scrawl (a long dash, a wave) is not a row of digits
    keep = exts >= SPECK_STROKE * typical  # drop stray dots, unless there is nothing else
    items = [[strokes[i] for i in g] for g, k in zip(grouped, keep, strict=True) if k or not keep.any()]
    items = _cut_all(items, _cut_strokes_once, typical, WIDE)
    items.sort(key=lambda g: (_bounds(g)[0] + _bounds(g)[2]) / 2)
    return items


def split_columns(strokes: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Strokes grouped by the columns they cover, left to right: strokes whose horizontal extents
    overlap, directly or through others, are one group (each keeps its writing order).

    A sort and one sweep, for drawings of more strokes than `split_strokes`' pairwise rules afford.
    """
    if not strokes:
        return []
    x0 = np.array([s[:, 0].min() for s in strokes])
    x1 = np.array([s[:, 0].max() for s in strokes])
    order = np.argsort(x0, kind="stable")
    reach = np.maximum.accumulate(x1[order])
    starts = np.flatnonzero(x0[order][1:] > reach[:-1]) + 1
    return [[strokes[i] for i in np.sort(g)] for g in np.split(order, starts)]


# --------------------------------------------------------------------------- images


SPECK = 0.02
"""Components with less than this fraction of the biggest one's area are specks..."""
SPECK_SIZE = 0.15
"""...unless they are at least this fraction of the writing's height in extent."""


class Piece:
    """Part of a binarised image: a boolean mask and the position of its top-left pixel."""

    __slots__ = ("mask", "top", "left")

    def __init__(self, mask: np.ndarray, top: int, left: int):
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        if rows.size:
            mask = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
            top, left = top + int(rows[0]), left + int(cols[0])
        self.mask, self.top, self.left = mask, top, left

    @property
    def box(self) -> Box:
        """(x0, y0, x1, y1), exclusive."""
        h, w = self.mask.shape
        return (float(self.left), float(self.top), float(self.left + w), float(self.top + h))

    def crop(self, ink: np.ndarray) -> np.ndarray:
        """The ink map's values on this piece's pixels and a one-pixel rim, zero elsewhere."""
        h, w = self.mask.shape
        t, left = self.top - 1, self.left - 1
        m = ndimage.binary_dilation(np.pad(self.mask, 1))
        t0, l0 = max(t, 0), max(left, 0)
        b0, r0 = min(t + h + 2, ink.shape[0]), min(left + w + 2, ink.shape[1])
        m = m[t0 - t:b0 - t, l0 - left:r0 - left]
        return np.where(m, ink[t0:b0, l0:r0], 0.0).astype(np.float32)


def _cut_piece_once(p: Piece, typical: float, wide: float) -> tuple[Piece, Piece] | None:
    """The two sides of a piece wider than `wide` x its height, joining line left out; or None.

    A joining line's columns hold a single run of ink no thicker than about
    1.6 stroke widths (so a digit's own vertical strokes are not taken for one).
    """
    m = p.mask
    h, w = m.shape
    if h < 0.6 * typical or w <= wide * h or h < 2.5 * images.stroke_width(m):
        return None  # not wide enough for two digits, or a flat mark (a dash) rather than digits
    runs = m[0].astype(int) + (m[1:] & ~m[:-1]).sum(axis=0)
    ink = m.sum(axis=0)
    thin = (runs <= 1) & (ink <= max(1.6 * images.stroke_width(m), 2.0))
    run = _ligature_cut(thin, np.arange(w, dtype=np.float64), 0.0, float(w), float(h))
    if run is None:
        return None
    left = Piece(m[:, :run[0]], p.top, p.left)
    right = Piece(m[:, run[1] + 1:], p.top, p.left + run[1] + 1)
    if not left.mask.any() or not right.mask.any() or \
            min(left.mask.shape[0], right.mask.shape[0]) < TALL_SIDES * h:
        return None
    return left, right


def split_mask(mask: np.ndarray, cut: bool = True) -> list[Piece]:
    """The digits of a binarised ink mask as `Piece`s, left to right.

    With `cut` False, wide pieces are left whole (for `model.numbers.segment_image`,
    which proposes its own cuts and lets the network choose).
    """
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    slices = ndimage.find_objects(labels)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    boxes = np.array([[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in slices], dtype=np.float64)
    ext = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    big = sizes.max()
    H = float(np.percentile(ext[sizes >= 0.2 * big], 75))
    keep = np.flatnonzero((sizes >= SPECK * big) | (ext >= SPECK_SIZE * H))
    keep = keep[ext[keep] >= max(2.0, 0.06 * H)]
    if keep.size == 0:
        return []
    if keep.size > MAX_PARTS:  # a page of text, not a number: keep the biggest parts
        keep = np.sort(keep[np.argsort(sizes[keep])[::-1][:MAX_PARTS]])
    # Boundary pixels of each kept component, for distances between components.
    edge = mask & ~ndimage.binary_erosion(mask)
    ys, xs = np.nonzero(edge)
    lab = labels[ys, xs]
    order = np.argsort(lab, kind="stable")
    ys, xs, lab = ys[order], xs[order], lab[order]
    starts = np.searchsorted(lab, keep + 1)
    stops = np.searchsorted(lab, keep + 1, side="right")
    points = [np.column_stack((xs[a:b], ys[a:b])).astype(np.float64)
              for a, b in zip(starts, stops, strict=True)]
    groups = _group_parts(_Parts(boxes[keep] + np.array([0, 0, -1, -1]), points))
    items = []
    for g in groups:
        ids = keep[g]
        x0, y0, x1, y1 = (int(v) for v in _union_box(boxes[ids]))
        items.append(Piece(np.isin(labels[y0:y1, x0:x1], ids + 1), y0, x0))
    heights = np.array([p.mask.shape[0] for p in items], dtype=np.float64)
    exts = np.array([max(p.mask.shape) for p in items], dtype=np.float64)
    typical = float(np.median(heights[exts >= FRAGMENT * H])) if (exts >= FRAGMENT * H).any() \
        else float(np.median(heights))
    keep = exts >= SPECK_STROKE * typical  # drop stray dots, unless there is nothing else
    items = [p for p, k in zip(items, keep, strict=True) if k or not keep.any()]
    if cut:
        items = _cut_all(items, _cut_piece_once, typical, WIDE)
    items.sort(key=lambda p: (p.box[0] + p.box[2]) / 2)
    return items


def split_image(ink: np.ndarray) -> list[tuple[np.ndarray, Box]]:
    """Crops of each digit in an ink map (0..1) with their boxes (x0, y0, x1, y1), left to right.

    A crop holds the ink map's values on the digit's own pixels and a
    one-pixel rim around them (the anti-aliased edge), zero elsewhere, so a
    neighbour's ink never leaks in.
    """
    ink = np.asarray(ink, dtype=np.float32)
    if ink.size == 0 or not (ink > 0).any():
        return []
    return [(p.crop(ink), p.box) for p in split_mask(images.binarise(ink))]
