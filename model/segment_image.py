"""Split an image into digits by recognition: candidate cuts through wide components, scored by the network.

1. **Pieces.** The ink map is binarised and its connected components are
   grouped as in `model.segment.split_mask` (specks dropped; parts of a
   broken digit, such as a 5 whose bar stands apart, merged), without its
   geometric cuts.
2. **Atoms.** A piece wider than a digit could be is cut into vertical
   slices at candidate columns: valleys of the column profile (columns
   crossed by little ink, where two digits touch or a joining line runs).
3. **Candidates.** Runs of 1-4 neighbouring atoms, left to right, no wider
   than two digits; each is cropped (its own pixels only) and brought to
   MNIST's form (`model.images.to_mnist`), and all go through the network in
   one batch. A candidate costs ``-log P(its best digit)`` plus priors: a
   constant per digit, too small or too wide against the writing's height,
   a gap between its pieces; cutting a piece costs more the more ink the cut
   goes through.
4. **Search.** Dynamic programming over the atoms left to right keeps the
   few cheapest readings at each position; the runner-up is reported.

Left out: slanted or curved cut paths (drop-fall) — a straight cut through
two overlapping digits gives each a sliver of the other, which the network
tolerates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model import images, segment
from model.lattice import Classify, Found, best_alternative, nll

MAX_RUN = 4
"""A digit is made of at most this many neighbouring atoms."""
MAX_CUTS = 6
"""At most this many candidate cuts per piece."""
MAX_ATOMS = 200
"""More atoms than this: the geometric split (`model.segment.split_image`) is used as it is."""
KEEP = 4
"""Readings kept per position."""
WIDEST = 1.6
"""No candidate digit is wider than this many times the writing's height."""

DIGIT_COST = 0.5
SMALL = 0.5
SMALL_COST = 6.0
WIDE = 1.2
WIDE_COST = 4.0
MERGE_COST = 2.0
"""Cost of a candidate made of separate pieces, plus ``GAP_COST`` per height of gap between them."""
GAP_COST = 8.0
CUT_COST = 0.5
"""Cost of cutting through a piece, plus ``CUT_INK`` per stroke width of ink the cut crosses."""
CUT_INK = 0.8


@dataclass
class _Atom:
    piece: segment.Piece
    source: int  # index of the piece it was cut from
    cut_ink: float  # stroke widths of ink the cut on its left goes through (0: not cut)


def _valleys(mask: np.ndarray, typical: float, width: float) -> list[tuple[int, float]]:
    """Candidate cut columns of a piece and the ink each crosses (in stroke widths)."""
    h, w = mask.shape
    if w < 0.75 * typical or w < 6:
        return []
    ink = mask.sum(axis=0).astype(np.float64)
    ink = np.convolve(ink, np.ones(3) / 3.0, mode="same")
    margin = max(2, int(0.2 * typical))
    cols = np.arange(margin, w - margin)
    if cols.size == 0:
        return []
    left = ink[cols - 1]
    right = ink[np.minimum(cols + 1, w - 1)]
    minima = cols[(ink[cols] <= left) & (ink[cols] <= right)]
    if minima.size == 0:
        return []
    order = minima[np.argsort(ink[minima], kind="stable")]
    chosen: list[int] = []
    for c in order:
        if all(abs(int(c) - k) >= max(2, int(0.15 * typical)) for k in chosen):
            chosen.append(int(c))
        if len(chosen) >= min(MAX_CUTS, int(np.ceil(2.5 * w / typical))):
            break
    return [(c, float(ink[c]) / max(width, 1.0)) for c in sorted(chosen)]


def atoms_of(pieces: list[segment.Piece], typical: float) -> list[_Atom]:
    """The pieces, wide ones sliced at their valleys, left to right (step 2)."""
    out: list[_Atom] = []
    for k, p in enumerate(pieces):
        m = p.mask
        width = images.stroke_width(m) if m.any() else 1.0
        cuts = _valleys(m, typical, width)
        start, ink_here = 0, 0.0
        for c, crossing in cuts + [(m.shape[1], 0.0)]:
            piece = segment.Piece(m[:, start:c], p.top, p.left + start)
            if piece.mask.any():
                out.append(_Atom(piece, k, ink_here))
            start, ink_here = c, crossing
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
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    cost = DIGIT_COST + SMALL_COST * max(0.0, SMALL - max(h, 0.6 * w) / typical)
    cost += WIDE_COST * max(0.0, w / max(h, 0.6 * typical) - WIDE)
    right = atoms[0].piece.box[2]
    for a, b in zip(atoms[:-1], atoms[1:], strict=True):
        if a.source != b.source:  # joining separate pieces
            cost += MERGE_COST + GAP_COST * max(0.0, (b.piece.box[0] - right) / typical)
        right = max(right, b.piece.box[2])
    return cost


def _boundary(atoms: list[_Atom]) -> np.ndarray:
    """Cost of starting a digit at atom i: the cut through ink on its left, if any."""
    return np.array([CUT_COST + CUT_INK * a.cut_ink if i and a.source == atoms[i - 1].source else 0.0
                     for i, a in enumerate(atoms)])


def read(ink: np.ndarray, classify: Classify) -> Found:
    """The best reading of an ink map (0..1) and its runner-up (see the module docstring)."""
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
        return _by_geometry(ink, classify)
    n = len(atoms)
    spans: list[tuple[int, int]] = []
    unions: list[segment.Piece] = []
    for s in range(n):
        for e in range(s + 1, min(s + MAX_RUN, n) + 1):
            u = _union(atoms[s:e]) if e - s > 1 else atoms[s].piece
            if e - s > 1 and u.mask.shape[1] > WIDEST * typical:
                break
            spans.append((s, e))
            unions.append(u)
    crops = np.stack([images.to_mnist(u.crop(ink)) for u in unions])
    probs = np.asarray(classify(crops), dtype=np.float64)
    cost = nll(probs).min(axis=1) + np.array([_prior(atoms[s:e], u.box, typical)
                                              for (s, e), u in zip(spans, unions, strict=True)])
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


def _by_geometry(ink: np.ndarray, classify: Classify) -> Found:
    found = segment.split_image(ink)
    crops = [images.to_mnist(c) for c, _ in found]
    probs = np.asarray(classify(np.stack(crops)), dtype=np.float64)
    return Found(crops, [b for _, b in found], probs,
                 score=-float(nll(probs).min(axis=1).sum()), alternative=None)
