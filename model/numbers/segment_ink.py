"""Split a drawing into digits by recognition: candidates from stroke order and geometry, scored by
the network.

People write the strokes of one digit one after another, so the drawing's
stroke order is the main hint; geometry adds the rest:

1. **Atoms.** Each stroke is an atom, except a stroke that runs through two
   digits (a "10" or "00" written without lifting the pen): where a stroke
   wider than a digit crosses a column only once (a joining line), it is cut
   at both ends of that stretch, and the joining piece may later be left out.
2. **Candidates.** Runs of 1-4 consecutive atoms no wider than a digit could
   be; and a run plus one *later* atom that lies over it (a 7 crossed, or a
   4 finished, after the next digit was written).
3. **Scores.** All candidates are normalised (`model.inputs.ink.normalise`) and
   classified in one batch (`Cache` keeps them between re-readings while a
   person writes). A candidate costs ``-log P(its best digit)`` plus
   priors: too small against the writing's height, wider than a digit,
   made of strokes that do not overlap horizontally (a quarter of that when
   the strokes touch), a late stroke; two runs of strokes that each read as
   a sure digit as tall as the whole, or a shorter one beside the other and
   within its height, or three or four such runs (`RUN_COST`, `RUN_SHIFT`,
   `RUN_PARTS`: people finish one digit
   before starting the next); starting a digit at a stroke that lies
   over the previous one, or cutting a stroke, costs extra. Joining a stroke
   that hangs below the others, met in its middle by one of their ends (a
   4's stem), costs less, and two strokes that meet so, the one met
   straight, and read as a sure 4 cost `TEE_BONUS` less (the parts of such
   a 4 read as a sure 6 or 1 and a sure 1). The whole drawing read as one digit the network
   is sure of costs `LONE_BONUS` less, so that a lone digit whose parts also
   read as digits stays whole.
4. **Search.** Dynamic programming over the strokes in writing order, whose
   state is the position and the set of later atoms already used, keeps the
   few cheapest readings per state (bounded, so a scribble cannot hang it).
   The digits come out left to right, with the runner-up reading.

A drawing of more than `MAX_ATOMS` atoms (a scribble, a page) is grouped by
geometry alone (`model.numbers.segment.split_strokes`), one of more than
`MAX_GEOMETRY` strokes by the columns its strokes cover. Every step is bounded
by the points: strokes come in resampled to `model.inputs.ink.STROKE_POINTS`
each and about `model.inputs.ink.DRAWING_POINTS` in all (`model.inputs.ink.as_strokes`).
Left out: slant, digits written right to left within a number, and a language model of numbers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from model.inputs import ink
from model.numbers import segment
from model.numbers.lattice import Classify, Found, best_alternative, nll

MAX_ATOMS = 120
"""More atoms than this are grouped by geometry alone."""
MAX_GEOMETRY = ink.MAX_STROKES
"""More strokes than this are grouped by the columns they cover (`model.numbers.segment.split_columns`):
the geometric rules compare strokes pairwise."""
MAX_RUN = 4
"""A digit is made of at most this many consecutive atoms."""
LATE_WINDOW = 6
"""A late atom joins a run that ended at most this many atoms before it."""
KEEP = 4
"""Readings kept per search state (the runner-up comes from these)."""
MAX_STATES = 24
"""Search states kept per position."""

SPLIT_WIDE = 1.1
"""Only a stroke wider than this many times its height (or the writing's) is cut at joining lines."""
CONNECTED = 0.06
"""Strokes closer than this fraction of the writing's height touch."""
CONNECTED_FACTOR = 0.25
"""Joining strokes that touch costs this fraction of the merge cost."""
CUT_STROKE_COST = 0.5
"""Cost of cutting a stroke in two at a joining line."""
DIGIT_COST = 0.0
"""Constant cost of each digit (0: tuned on writers 25-30, the merge costs already favour whole digits)."""
SMALL_COST = 6.0
"""Cost per unit of height below `SMALL` x the writing's height."""
SMALL = 0.55
WIDE_COST = 6.0
"""Cost per unit of width (in heights) beyond `WIDE` x the height."""
WIDE = 1.15
MERGE_COST = 2.0
"""Cost of joining parts that do not overlap horizontally (scaled by how far apart they are)."""
MERGE_FREE = 0.6
"""Parts overlapping by more than this fraction of the narrower one join for free."""
GAP_SLOPE = 4.0
"""A gap between parts costs this many times more than the same amount of missing overlap."""
CUT_COST = 3.0
"""Cost of starting a digit at a stroke that lies over the previous one."""
LATE_COST = 1.0
"""Cost of a candidate that takes a stroke written later."""
SKIP_COST = 0.3
"""Cost of leaving out a joining piece or a stray dot."""
SPECK = 0.2
"""An atom smaller than this fraction of the writing's height is a stray dot that may be left out."""
LONE_BONUS = 0.6
"""Taken off the cost of the whole drawing read as one digit when the network gives that digit at least
`LONE_SURE` (a 4 written as an L and a stem below its corner must not read "61")."""
LONE_SURE = 0.999
"""Chosen on writers 25-30 with `HANG_FACTOR` in place: 0.995 reads the same lone digits but loses 7 more
compact numbers in 6,000."""
RUN_COST = 3.0
"""Added to a candidate made of two runs of strokes in writing order, the second starting right of the
first, that each read as a digit the network is sure of on its own (`RUN_SURE`) and are each nearly as
tall as the candidate (`RUN_TALL`): merged, a 6 and a 1 overlapping it look like a 4 or an 8 to the
network, and starting the 1 over the 6 costs `CUT_COST`. Chosen by cross-validation over five folds of six
pen writers (benchmarks/bench_numbers.py --folds; 0, 1, 2, 3, 4, 8 tried): 3 on every four folds, and on
each fifth it reads as many or more numbers in every gap band, no more lone digits split."""
RUN_SURE = 0.9
"""0.8 and 0.97 read within a number or two of 0.9 on every fold."""
RUN_TALL = 0.75
"""0.6 splits twice as many lone digits (a 9 as an o and a stem); 0.9 gains less."""
RUN_SHIFT = 0.25
"""...or, when one run is shorter than `RUN_TALL` (a small 0 before a 4), if the second run's centre lies
at least this many of the candidate's heights right of the first's and the shorter run is at least
`RUN_SHORT` of that height and lies within the taller one's height (`RUN_INSIDE`): the L and the stem of
one 4, the o and the stem of one 9, lie closer, or the L sticks out above the stem. Chosen leaving one
fold of writers out (benchmarks/bench_numbers.py --folds --set RUN_SHIFT=...; 0.15, 0.2, 0.25, 0.3, 0.35,
0.4 tried): 0.25 on four of the five choices, 0.2 on the fifth (it splits one more lone digit there)."""
RUN_SHORT = 0.3
"""Shorter than this fraction of the candidate's height, a run is no digit of its own for `RUN_SHIFT`
(set by hand, as `RUN_INSIDE` is; neither was tuned)."""
RUN_INSIDE = 0.1
"""For `RUN_SHIFT`, the shorter run lies within the taller one's height give or take this fraction of the
candidate's (without it, 0.35 splits one more lone 4, a loop sticking out above its stem, into "61")."""
RUN_PARTS = 4
"""`RUN_COST` looks for up to this many runs in one candidate (a 6, a 1 and a 4 merged read as a 4, while
no two of them are sure digits). Cross-validated like `RUN_SHIFT` (2, 3, 4 tried): 3 and 4 read the same,
and on every fold as many or more numbers than 2 in every band, no more lone digits split."""
HANG_FACTOR = 0.25
"""The merge cost is multiplied by this when the candidate's last stroke hangs below the others and an
end of theirs meets its middle: a 4 written as an L, then a stem through (or up to) the end of its bar."""
HANG_TOP = 0.3
"""The hanging stroke starts at least this fraction of the writing's height below the others' top..."""
HANG_BOTTOM = 0.1
"""...and ends at least this much below their bottom."""
JUNCTION = 0.15
"""An end of an earlier stroke within this fraction of the height of the hanging stroke meets it..."""
JUNCTION_SIDE = 0.1
"""...at least this far (in heights) from the hanging stroke's top and bottom."""
TEE_BONUS = 2.0
"""Taken off the cost of a candidate of two strokes that the network reads as a sure 4 (`RUN_SURE`) when an
end of one stroke meets the other, a straight stroke (`TEE_STRAIGHT`), away from its ends (`JUNCTION`): the
bar of a 4 written as an L, then a stem it runs into. Its parts read as a sure 6 or 1 and a sure 1, which
cost next to nothing, so without this a new writer's two-stroke 4 reads "61" or "11" (24 of the 1,144 lone
pen 4s with the 0.1.0 weights). Chosen leaving one fold of writers out (benchmarks/bench_numbers.py --folds
--set TEE_BONUS=...; 0, 0.5, 1, 2, 3, 4 tried, before `TEE_STRAIGHT`): 3 was chosen on four of the five
choices and 2 on the fifth, one or two numbers in 800 apart; 4 loses touching and overlapping numbers on
every fold, so 2 is kept, away from that edge."""
TEE_STRAIGHT = 0.15
"""The stroke a `TEE_BONUS` end runs into is straight: no point of it further than this fraction of its
length from its chord. Without it, a 2's base running into the next digit reads as a 4 (one validation
writer's "2026" overlapping by 4% read "426"; numbers written downhill lost 15 in 1,000). Set by hand
from those failures, not tuned."""


@dataclass
class Atom:
    """A stroke or a piece of one, in writing order."""

    points: np.ndarray
    joining: bool = False  # the piece between two digits that a stroke was cut at
    stroke: int = 0  # which stroke it comes from

    @property
    def box(self) -> np.ndarray:
        """(x0, y0, x1, y1)."""
        p = self.points
        return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])


def _resample(stroke: np.ndarray, step: float, most: int = 400) -> np.ndarray:
    length = float(np.hypot(*np.diff(stroke, axis=0).T).sum()) if len(stroke) > 1 else 0.0
    return segment._resample(stroke, max(step, length / most, 1e-9))


def _joining_runs(s: np.ndarray, H: float) -> list[tuple[int, int]]:
    """Stretches (first, last point index) of a wide stroke that cross their columns alone."""
    x = s[:, 0]
    a, b = x[:-1], x[1:]
    # Segments crossing each point's column (lo <= x < hi): those with lo <= x less those with hi <= x
    # (which have lo <= x too), counted on sorted ends: n log n, not every point against every segment.
    lo, hi = np.sort(np.minimum(a, b)), np.sort(np.maximum(a, b))
    crossings = np.searchsorted(lo, x, side="right") - np.searchsorted(hi, x, side="right")
    x0, x1 = x.min(), x.max()
    single = crossings <= 1
    alone = single & (x > x0 + 0.25 * H) & (x < x1 - 0.25 * H)
    d = np.diff(s, axis=0)
    flat = np.concatenate((np.abs(d[:, 0]) >= np.abs(d[:, 1]), [False]))  # heading more sideways
    runs = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], alone.astype(int), [0]))))
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        last = stop - 1
        while first > 0 and single[first - 1] and flat[first - 1]:  # the rest of a sideways joining line
            first -= 1
        while last < len(x) - 1 and single[last + 1] and flat[last]:
            last += 1
        if last > first and abs(x[last] - x[first]) >= 0.03 * H:
            runs.append((int(first), int(last)))
    runs.sort(key=lambda r: -abs(x[r[1]] - x[r[0]]))
    return sorted(runs[:3])


def atoms_of(strokes: Sequence[np.ndarray], H: float) -> list[Atom]:
    """The strokes as atoms, wide strokes cut at their joining lines (step 1 of the module docstring)."""
    out: list[Atom] = []
    for k, s in enumerate(strokes):
        w, h = np.ptp(s[:, 0]), np.ptp(s[:, 1])
        if w < SPLIT_WIDE * max(h, 0.8 * H) or len(s) < 3:
            out.append(Atom(s, stroke=k))
            continue
        r = _resample(s, H / 50.0)
        runs = _joining_runs(r, H)
        # A joining line has a digit on both sides: drop runs that leave only a tail or a lead-in.
        bounds = [0] + [i for run in runs for i in run] + [len(r) - 1]
        tall = [np.ptp(r[a:b + 1, 1]) >= 0.35 * H for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
        runs = [run for k, run in enumerate(runs) if tall[k] and tall[k + 1]]
        start = 0
        for first, last in runs:
            if abs(r[last, 0] - r[first, 0]) < 0.1 * H:  # short: one cut in the middle
                mid = (first + last) // 2
                out.append(Atom(r[start:mid + 1], stroke=k))
                start = mid
                continue
            out.append(Atom(r[start:first + 1], stroke=k))
            out.append(Atom(r[first:last + 1], joining=True, stroke=k))
            start = last
        out.append(Atom(r[start:] if runs else s, stroke=k))
    return [a for a in out if len(a.points)]


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Horizontal overlap of two boxes as a fraction of the narrower one (negative: a gap)."""
    return segment._overlap_fraction(a, b)


def _separation(boxes: np.ndarray, H: float) -> float:
    """How far apart the parts of a candidate are.

    The largest horizontal gap (in heights) between the parts swept left to
    right; or, when they all overlap, minus the smallest overlap fraction.
    """
    order = np.argsort(boxes[:, 0])
    b = boxes[order]
    right = np.maximum.accumulate(b[:, 2])
    gaps = b[1:, 0] - right[:-1]
    if len(gaps) == 0:
        return -1.0
    if gaps.max() > 0:
        return float(gaps.max() / H)
    # All parts overlap: how little (as a fraction of the narrower side at the weakest sweep position).
    worst = np.inf
    for k in range(1, len(b)):
        left = segment._union_box(b[:k])
        rest = segment._union_box(b[k:])
        worst = min(worst, _overlap(left, rest))
    return -float(worst)


def _connected(members: Sequence[int], near: np.ndarray) -> bool:
    """Whether the members' strokes form one touching whole (`near`: atoms that touch)."""
    seen = {members[0]}
    todo = [members[0]]
    while todo:
        a = todo.pop()
        for b in members:
            if b not in seen and near[a, b]:
                seen.add(b)
                todo.append(b)
    return len(seen) == len(members)


def _stroke_points(atoms: Sequence[Atom], members: Sequence[int], stroke: int) -> np.ndarray:
    """The points of `stroke` that a candidate (its atoms `members`) holds, in writing order."""
    return np.concatenate([atoms[m].points for m in members if atoms[m].stroke == stroke])


def _junction(atoms: Sequence[Atom], members: Sequence[int], stroke: int, H: float) -> bool:
    """Whether an end of another stroke of the candidate meets `stroke` away from its ends (`JUNCTION`)."""
    stem = _resample(_stroke_points(atoms, members, stroke), H / 50.0)
    top, bottom = stem[:, 1].min(), stem[:, 1].max()
    for m in members:
        if atoms[m].stroke == stroke:
            continue
        for e in (atoms[m].points[0], atoms[m].points[-1]):
            if top + JUNCTION_SIDE * H <= e[1] <= bottom - JUNCTION_SIDE * H \
                    and np.hypot(*(stem - e).T).min() <= JUNCTION * H:
                return True
    return False


def _prior(atoms: Sequence[Atom], boxes: np.ndarray, members: Sequence[int], H: float, late: bool,
           near: np.ndarray) -> float:
    """Geometric cost of a candidate digit (everything but the network's -log P)."""
    bx = boxes[list(members)]
    x0, y0, x1, y1 = bx[:, 0].min(), bx[:, 1].min(), bx[:, 2].max(), bx[:, 3].max()
    h, w = y1 - y0, x1 - x0
    cost = DIGIT_COST + SMALL_COST * max(0.0, SMALL - max(h, 0.6 * w) / H)
    cost += WIDE_COST * max(0.0, w / max(h, 0.6 * H) - WIDE)
    strokes = sorted({atoms[m].stroke for m in members})
    if len(strokes) > 1:  # pieces of one stroke are joined already: compare whole strokes
        sb = np.array([segment._union_box(bx[[atoms[m].stroke == k for m in members]]) for k in strokes])
        sep = _separation(sb, H)
        merge = MERGE_COST * max(0.0, MERGE_FREE + sep * (GAP_SLOPE if sep > 0 else 1.0))
        merge *= CONNECTED_FACTOR if _connected(list(members), near) else 1.0
        last, rest = sb[-1], sb[:-1]
        hangs = last[1] - rest[:, 1].min() >= HANG_TOP * H and last[3] - rest[:, 3].max() >= HANG_BOTTOM * H
        if merge > 0 and hangs and _junction(atoms, members, strokes[-1], H):
            merge *= HANG_FACTOR
        cost += merge
    if late:
        cost += LATE_COST
    if all(atoms[m].joining for m in members):
        cost += 3.0
    return cost


@dataclass
class _Cand:
    start: int
    end: int  # the run is atoms start..end-1
    late: tuple[int, ...]
    members: tuple[int, ...]
    prior: float


def touching(atoms: Sequence[Atom], H: float) -> np.ndarray:
    """(n, n) booleans: which atoms touch (closer than `CONNECTED` x H), among near neighbours in order."""
    n = len(atoms)
    near = np.eye(n, dtype=bool)
    boxes = np.array([a.box for a in atoms])
    pts = [_resample(a.points, H / 25.0, most=200) for a in atoms]
    trees: dict[int, cKDTree] = {}
    reach = MAX_RUN + LATE_WINDOW
    for i in range(n):
        for j in range(i + 1, min(n, i + reach + 1)):
            bi, bj = boxes[i], boxes[j]
            gap = max(bi[0] - bj[2], bj[0] - bi[2], bi[1] - bj[3], bj[1] - bi[3], 0.0)
            if gap > CONNECTED * H:
                continue
            if atoms[i].stroke == atoms[j].stroke and j == i + 1:
                near[i, j] = near[j, i] = True
                continue
            if i not in trees:
                trees[i] = cKDTree(pts[i])
            d = float(trees[i].query(pts[j], k=1)[0].min())
            near[i, j] = near[j, i] = d <= CONNECTED * H
    return near


def candidates(atoms: Sequence[Atom], H: float) -> list[_Cand]:
    """Candidate digits (step 2 of the module docstring)."""
    n = len(atoms)
    boxes = np.array([a.box for a in atoms])
    near = touching(atoms, H)
    out: list[_Cand] = []
    for s in range(n):
        for e in range(s + 1, min(s + MAX_RUN, n) + 1):
            members = tuple(range(s, e))
            bx = segment._union_box(boxes[s:e])
            if e - s > 1 and bx[2] - bx[0] > 2.2 * H:
                break
            out.append(_Cand(s, e, (), members, _prior(atoms, boxes, members, H, False, near)))
            for j in range(e + 1, min(e + LATE_WINDOW, n - 1) + 1):
                if atoms[j].joining:
                    continue
                bj = boxes[j]
                cx = (bj[0] + bj[2]) / 2
                if _overlap(bj, bx) >= 0.5 and bx[0] - 0.05 * H <= cx <= bx[2] + 0.05 * H:
                    m = members + (j,)
                    out.append(_Cand(s, e, (j,), m, _prior(atoms, boxes, m, H, True, near)))
    return out


def _two_sure_runs(atoms: Sequence[Atom], cands: Sequence[_Cand], probs: np.ndarray,
                   boxes: np.ndarray) -> np.ndarray:
    """1 for each candidate that consecutive runs of its strokes (two, or up to `RUN_PARTS`), each starting
    right of the one before, would each make a sure digit (`RUN_SURE`) nearly as tall as it (`RUN_TALL`),
    or a shorter one beside the other within its height (`RUN_SHIFT`); else 0."""
    index = {(c.start, c.end): k for k, c in enumerate(cands) if not c.late}
    sure = probs.max(axis=1) >= RUN_SURE
    out = np.zeros(len(cands))

    def apart(ba: np.ndarray, bb: np.ndarray, h: float) -> bool:
        lo, hi = (ba, bb) if ba[3] - ba[1] < bb[3] - bb[1] else (bb, ba)
        shift = (bb[0] + bb[2] - ba[0] - ba[2]) / 2  # from the first run's centre to the second's
        beside = (lo[3] - lo[1] >= RUN_SHORT * h and shift >= RUN_SHIFT * h
                  and lo[1] >= hi[1] - RUN_INSIDE * h and lo[3] <= hi[3] + RUN_INSIDE * h)
        return bool(shift > 0 and (lo[3] - lo[1] >= RUN_TALL * h or beside))

    def split(i: int, e: int, prev: np.ndarray | None, parts: int, h: float) -> bool:
        # can atoms i..e-1 be cut into sure runs, each apart from the one before, in at most `parts`?
        for m in range(i + 1, e + 1):
            if m < e and atoms[m].stroke == atoms[m - 1].stroke:
                continue
            a = index.get((i, m))
            if a is None or not sure[a]:
                continue
            box = segment._union_box(boxes[i:m])
            if prev is not None and not apart(prev, box, h):
                continue
            if m == e:
                if prev is not None:
                    return True
            elif parts > 1 and split(m, e, box, parts - 1, h):
                return True
        return False

    for k, c in enumerate(cands):
        if c.late or c.end - c.start < 2:
            continue
        box = segment._union_box(boxes[c.start:c.end])
        if split(c.start, c.end, None, max(RUN_PARTS, 2), box[3] - box[1]):
            out[k] = 1.0
    return out


def _tee(atoms: Sequence[Atom], cands: Sequence[_Cand], probs: np.ndarray, H: float) -> np.ndarray:
    """1 for each candidate of two strokes read as a sure 4 whose strokes meet end to middle; else 0."""
    out = np.zeros(len(cands))
    for k, c in enumerate(cands):
        strokes = sorted({atoms[m].stroke for m in c.members})
        if len(strokes) != 2 or probs[k].argmax() != 4 or probs[k, 4] < RUN_SURE:
            continue
        if any(_straight(atoms, c.members, s) and _junction(atoms, c.members, s, H) for s in strokes):
            out[k] = 1.0
    return out


def _straight(atoms: Sequence[Atom], members: Sequence[int], stroke: int) -> bool:
    """Whether `stroke` (its atoms among `members`) is a straight stem: no point strays from the line
    between its ends by more than `TEE_STRAIGHT` of that line's length."""
    p = _stroke_points(atoms, members, stroke)
    chord = p[-1] - p[0]
    length = float(np.hypot(*chord))
    if length == 0.0:
        return False
    off = np.abs(chord[0] * (p[:, 1] - p[0, 1]) - chord[1] * (p[:, 0] - p[0, 0])) / length
    return float(off.max()) <= TEE_STRAIGHT * length


def _boundary_costs(atoms: Sequence[Atom]) -> np.ndarray:
    """Cost of starting a digit at atom i: how much it overlaps atom i - 1, or cutting a stroke."""
    boxes = np.array([a.box for a in atoms])
    b = np.zeros(len(boxes))
    for i in range(1, len(boxes)):
        if atoms[i].stroke == atoms[i - 1].stroke:
            b[i] = CUT_STROKE_COST
        else:
            b[i] = CUT_COST * float(np.clip((_overlap(boxes[i - 1], boxes[i]) - 0.3) / 0.7, 0.0, 1.0))
    return b


def search(n: int, cands: Sequence[_Cand], cost: np.ndarray, boundary: np.ndarray,
           skippable: Sequence[bool]) -> list[tuple[float, list[int]]]:
    """The cheapest covers of atoms 0..n-1 by candidates, cheapest first (step 4)."""
    by_start: dict[int, list[int]] = {}
    for k, c in enumerate(cands):
        by_start.setdefault(c.start, []).append(k)
    # states[i]: {frozenset of later atoms already used: [(cost, path), ...]}
    states: list[dict[frozenset, list[tuple[float, tuple[int, ...]]]]] = [dict() for _ in range(n + 1)]
    states[0][frozenset()] = [(0.0, ())]

    def push(i: int, used: frozenset, items: list[tuple[float, tuple[int, ...]]]) -> None:
        cur = states[i].setdefault(used, [])
        cur.extend(items)
        cur.sort(key=lambda t: t[0])
        del cur[KEEP:]

    for i in range(n):
        if not states[i]:
            continue
        if len(states[i]) > MAX_STATES:
            kept = sorted(states[i].items(), key=lambda kv: kv[1][0][0])[:MAX_STATES]
            states[i] = dict(kept)
        for used, paths in states[i].items():
            if i in used:
                push(i + 1, used - {i}, paths)
                continue
            if skippable[i]:
                push(i + 1, used, [(c + SKIP_COST, p) for c, p in paths])
            for k in by_start.get(i, []):
                c = cands[k]
                if any(m in used for m in c.members):
                    continue
                add = cost[k] + (boundary[i] if i > 0 else 0.0)
                push(c.end, used | frozenset(c.late), [(pc + add, p + (k,)) for pc, p in paths])
    final = states[n].get(frozenset(), [])
    return [(c, list(p)) for c, p in final]


def reference_height(strokes: Sequence[np.ndarray]) -> float:
    """The writing's height: the upper quartile of the strokes' heights (or half their widths)."""
    size = np.array([max(np.ptp(s[:, 1]), 0.5 * np.ptp(s[:, 0])) for s in strokes])
    return max(float(np.percentile(size, 75)), 0.25 * float(size.max()), 1e-6)


class Cache:
    """Candidates already normalised and classified, keyed by their points (least recently used dropped).

    While a person writes, each new stroke adds a few candidates and keeps
    the others, so re-reading the drawing only renders and classifies the
    new ones. A cache belongs to one classifier (`Recogniser` keeps one).
    """

    def __init__(self, size: int = 4000):
        self.size = size
        self._items: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.rendered = 0
        """Candidates rendered and classified so far, and their points (`points`): the work that
        re-reading has cost, what the cache saves."""
        self.points = 0

    def crops_and_probs(self, parts: list[list[np.ndarray]],
                        classify: Classify) -> tuple[np.ndarray, np.ndarray]:
        """28x28 crops and probabilities of each candidate (a list of point arrays), one classify call."""
        keys = [b"|".join(p.tobytes() for p in part) for part in parts]
        missing = [k for k, key in enumerate(keys) if key not in self._items]
        if missing:
            crops = np.stack([ink.normalise(parts[k]) for k in missing])
            self.rendered += len(missing)
            self.points += sum(len(p) for k in missing for p in parts[k])
            probs = np.asarray(classify(crops), dtype=np.float64)
            for k, c, p in zip(missing, crops, probs, strict=True):
                self._items[keys[k]] = (c, p)
        out_c, out_p = [], []
        for key in keys:
            self._items.move_to_end(key)
            c, p = self._items[key]
            out_c.append(c)
            out_p.append(p)
        while len(self._items) > max(self.size, len(keys)):
            self._items.popitem(last=False)
        return np.stack(out_c), np.stack(out_p)


def classified(atoms: Sequence[Atom], H: float, classify: Classify, cache: Cache | None = None,
               ) -> tuple[list[_Cand], np.ndarray, np.ndarray, np.ndarray]:
    """The candidate digits of `atoms` (step 2), the atoms' boxes, and each candidate's 28x28 crop and
    probabilities, in one classify call (through `cache` when given)."""
    cands = candidates(atoms, H)
    crops, probs = (cache or Cache()).crops_and_probs([[atoms[m].points for m in c.members] for c in cands],
                                                       classify)
    return cands, np.array([a.box for a in atoms]), crops, probs


def read(strokes: Sequence[np.ndarray], classify: Classify, cache: Cache | None = None) -> Found:
    """The best reading of a drawing and its runner-up (see the module docstring).

    With a `cache`, candidates seen in an earlier call are not rendered or classified again.
    """
    strokes = ink.as_strokes(strokes)
    if not strokes:
        return Found([], [], np.zeros((0, 10)))
    if len(strokes) > MAX_GEOMETRY:
        return _by_geometry(strokes, classify, segment.split_columns)
    H = reference_height(strokes)
    atoms = atoms_of(strokes, H)
    if len(atoms) > MAX_ATOMS:
        return _by_geometry(strokes, classify)
    cands, boxes, crops, probs = classified(atoms, H, classify, cache)
    cost = nll(probs).min(axis=1) + np.array([c.prior for c in cands])
    if RUN_COST:
        cost += RUN_COST * _two_sure_runs(atoms, cands, probs, boxes)
    if TEE_BONUS:
        cost -= TEE_BONUS * _tee(atoms, cands, probs, H)
    whole = np.array([len(c.members) == len(atoms) for c in cands]) & (probs.max(axis=1) >= LONE_SURE)
    cost[whole] -= LONE_BONUS
    ext = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    speck = ext < SPECK * H  # a stray dot may be left out, unless there is nothing else
    skippable = [a.joining or (bool(k) and not speck.all()) for a, k in zip(atoms, speck, strict=True)]
    paths = search(len(atoms), cands, cost, _boundary_costs(atoms), skippable)
    if not paths:  # cannot happen (single atoms always cover), but never answer nothing
        return _by_geometry(strokes, classify)

    def centre(k: int) -> float:
        b = segment._union_box(boxes[list(cands[k].members)])
        return float(b[0] + b[2])

    def order(path: list[int]) -> list[int]:
        return sorted(path, key=centre)

    best = order(paths[0][1])
    keys = [c.members for c in cands]
    alt = best_alternative(paths, probs, keys, order)
    return Found(
        crops=[crops[k] for k in best],
        boxes=[ink.bounds([atoms[m].points for m in cands[k].members]) for k in best],
        probs=probs[best],
        score=-float(paths[0][0]),
        alternative=alt,
    )


def _by_geometry(strokes: Sequence[np.ndarray], classify: Classify,
                 split: Callable[[Sequence[np.ndarray]], list[list[np.ndarray]]] = segment.split_strokes,
                 ) -> Found:
    groups = split(strokes)
    crops = [ink.normalise(g) for g in groups]
    probs = np.asarray(classify(np.stack(crops)), dtype=np.float64)
    return Found(crops, [ink.bounds(g) for g in groups], probs,
                 score=-float(nll(probs).min(axis=1).sum()), alternative=None)

