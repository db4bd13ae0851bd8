"""Split a drawing or an image into digits, left to right.

Strokes: strokes whose horizontal extents overlap (or nearly touch) belong to
one digit, so a 4, a 5 or a crossed 7 drawn in several strokes stays whole.
Images: connected components of the binarised ink, specks dropped, parts of
one digit (overlapping horizontally) merged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from model import images

Box = tuple[float, float, float, float]


def _merge_overlapping(spans: list[tuple[float, float]], min_overlap: float) -> list[list[int]]:
    """Group indices of spans (x0, x1) whose overlap exceeds `min_overlap` of the narrower one."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    groups: list[list[int]] = []
    cur_lo = cur_hi = 0.0
    for i in order:
        lo, hi = spans[i]
        if groups:
            overlap = min(hi, cur_hi) - max(lo, cur_lo)
            narrower = max(min(hi - lo, cur_hi - cur_lo), 1e-9)
            if overlap >= min_overlap * narrower:
                groups[-1].append(i)
                cur_lo, cur_hi = min(cur_lo, lo), max(cur_hi, hi)
                continue
        groups.append([i])
        cur_lo, cur_hi = lo, hi
    return groups


def split_strokes(strokes: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Group strokes into digits by horizontal overlap, ordered left to right."""
    spans = [(float(s[:, 0].min()), float(s[:, 0].max())) for s in strokes]
    groups = _merge_overlapping(spans, min_overlap=0.3)
    return [[strokes[i] for i in sorted(g)] for g in groups]


def split_image(ink: np.ndarray) -> list[tuple[np.ndarray, Box]]:
    """Crops of each digit in an ink map with their boxes (x0, y0, x1, y1)."""
    if not (ink > 0.02).any():
        return []
    t = images.otsu_threshold(ink[ink > 0.02])
    mask = ink > t
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    slices = ndimage.find_objects(labels)
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
    biggest = sizes.max()
    keep = [i for i in range(n) if sizes[i] >= 0.05 * biggest]
    spans = [(float(slices[i][1].start), float(slices[i][1].stop)) for i in keep]
    out = []
    for g in _merge_overlapping(spans, min_overlap=0.3):
        ids = [keep[i] for i in g]
        r0 = min(slices[i][0].start for i in ids)
        r1 = max(slices[i][0].stop for i in ids)
        c0 = min(slices[i][1].start for i in ids)
        c1 = max(slices[i][1].stop for i in ids)
        part = np.isin(labels[r0:r1, c0:c1], [i + 1 for i in ids])
        # Keep the grey levels of the digit's own pixels (and their anti-aliased rim).
        rim = ndimage.binary_dilation(part, iterations=1)
        crop = np.where(rim, ink[r0:r1, c0:c1], 0.0).astype(np.float32)
        out.append((crop, (float(c0), float(r0), float(c1), float(r1))))
    return out
