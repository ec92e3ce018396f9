"""Routing heuristics practitioners use: s-shape, return, midpoint, largest gap, combined.

Each heuristic decides the *visiting order* of the picks; the picker walks the
shortest aisle-graph path between consecutive stops, so a heuristic's length
is, by definition, the length of depot -> picks in that order -> depot with
:meth:`Layout.distance_matrix` distances. That length is never above the
textbook length of the heuristic (which may walk a detour the shortest path
avoids) and never below the optimal tour.

The orders follow the multi-block versions of Roodbergen & de Koster (2001),
"Routing methods for warehouses with multiple cross aisles", IJPR 39(9); with
one block they reduce to the classic single-block heuristics (Hall 1993;
Petersen 1997; Roodbergen & de Koster 1998):

* The *start aisle* is the leftmost or rightmost aisle holding picks,
  whichever is nearer the depot's aisle (ties: leftmost). The *farthest
  block* is the block farthest from the depot holding picks (blocks and
  positions are counted from the depot's cross aisle, so a depot at the back
  mirrors everything).
* ``s-shape``, ``midpoint``, ``largest-gap``, ``combined`` first walk up the
  start aisle to the farthest block, picking on the way. Then the blocks are
  served from the farthest to the nearest; each block's sub-aisles with
  remaining picks are swept from the end nearer the picker's current aisle.
* ``s-shape``: every sub-aisle traversed, directions alternating (up in the
  farthest block's first sub-aisle, which is entered from its front).
* ``return``: each sub-aisle entered and left from the block's depot side,
  blocks from the farthest to the nearest.
* ``midpoint`` / ``largest-gap``: in a block entered from the back, the
  back parts of all swept sub-aisles but the last are picked from the back
  cross aisle, the last sub-aisle is traversed, then the front parts are
  picked from the front cross aisle on the way back. The parts are split at
  the middle of the block (midpoint: front part = positions at or before the
  middle) or at the largest gap between consecutive stops, the block's cross
  aisles included (first largest gap from the front). The farthest block is
  entered from its front: its first sub-aisle is traversed, the rest as above.
* ``combined``: each sub-aisle is either traversed or entered and left from
  the side the picker is on, chosen per block by a dynamic programme over two
  states (at the block's front or back cross aisle after each sub-aisle) on
  the within-aisle travel, so that the picker ends at the block's depot side
  (Roodbergen & de Koster (2001), "Routing order pickers in a warehouse with a
  middle aisle", EJOR 133(1); blocks as in their IJPR paper above). On one
  block it is the shortest tour of that form: the tests compare it with every
  per-aisle choice sequence in both sweep directions. Each pick aisle being
  swept once, every change of side costs a full aisle length, which
  ``largest-gap`` (back parts going out, front parts coming back) avoids: with
  one or two picks per pick aisle combined is the worse of the two (on Heßler &
  Irnich's 25- and 50-aisle instances about 16-19 % above optimal against 6-8 %),
  from about four per pick aisle it is the better one (7 % against 16 % on their
  5-aisle, 30-pick instances; 4 % against 14 % on random 45-pick lists in 10
  aisles). ``benchmarks/routing.py`` prints the table.
* ``combined+``: our variant in the spirit of Roodbergen & de Koster's
  combined+ (not their exact rules): the shortest of four combined tours,
  start aisle at the near or the far end, and the start aisle's picks taken
  on the way up or in their own blocks. The first variant is ``combined``
  itself, so ``combined+`` is never longer.

The rules are written twice: here in plain Python
(:func:`heuristic_route_reference`, slow and obvious) and in the Cython kernel
``omsim._kernels._route_heuristics``, which serves :func:`heuristic_route`,
the registered methods and the batched :func:`heuristic_lengths`; the tests
check that both give the same sequences and lengths.
"""
from __future__ import annotations

import numpy as np

from omsim.errors import OmsimError
from omsim.warehouse.layout import Layout, as_picks
from omsim.warehouse.routing import Route, register_method, route_lengths

__all__ = [
    "HEURISTICS",
    "s_shape",
    "return_route",
    "midpoint",
    "largest_gap",
    "combined",
    "combined_plus",
    "heuristic_route",
    "heuristic_route_reference",
    "heuristic_lengths",
    "tour_length",
]

#: Heuristic names and the method codes the kernel understands.
HEURISTICS: dict[str, int] = {
    "s-shape": 0,
    "return": 1,
    "midpoint": 2,
    "largest-gap": 3,
    "combined": 4,
    "combined+": 5,
}


# ------------------------------------------------------------------- geometry
def _mirrored(layout: Layout, picks: np.ndarray):
    """Per-pick block and position counted from the depot's cross aisle; block bounds."""
    total = float(layout.cross_aisle_y[-1])
    y = layout.cell_y[picks[:, 1]]
    blk = picks[:, 1] // layout.cells_per_block
    cy = np.asarray(layout.cross_aisle_y, dtype=np.float64)
    if layout.depot == "back":
        y = total - y
        blk = layout.blocks - 1 - blk
        cy = total - cy[::-1]
    return blk.astype(np.int64), np.asarray(y, dtype=np.float64), cy


def tour_length(layout: Layout, picks, sequence) -> float:
    """Depot -> picks in ``sequence`` order -> depot, summed stop by stop (in order)."""
    p = as_picks(layout, picks)
    seq = np.asarray(sequence, dtype=np.int64)
    if seq.size == 0:
        return 0.0
    d = layout.distance_matrix(p)
    stops = [0] + [int(i) + 1 for i in seq] + [0]
    total = 0.0
    for u, v in zip(stops, stops[1:]):
        total += float(d[u, v])  # sequential sum: the kernel adds in the same order
    return total


# ------------------------------------------------------------------- planning
def _subaisles(idx: np.ndarray, aisle: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Group pick indices (already sorted by aisle, position) into (aisle, indices) runs."""
    out: list[tuple[int, np.ndarray]] = []
    start = 0
    for k in range(1, idx.size + 1):
        if k == idx.size or aisle[idx[k]] != aisle[idx[start]]:
            out.append((int(aisle[idx[start]]), idx[start:k]))
            start = k
    return out


def _split(run: np.ndarray, y: np.ndarray, lo: float, hi: float, how: int) -> int:
    """How many of a sub-aisle's picks (sorted by position) form its front part."""
    if how == HEURISTICS["midpoint"]:
        mid = 0.5 * (lo + hi)
        return int(sum(1 for i in run if y[i] <= mid))
    # Largest gap: gaps front-aisle..first, between stops, last..back-aisle.
    best_gap = y[run[0]] - lo
    best = 0
    for j in range(1, run.size):
        g = y[run[j]] - y[run[j - 1]]
        if g > best_gap:
            best_gap, best = g, j
    if hi - y[run[-1]] > best_gap:
        best = run.size
    return best


def _plan(layout: Layout, picks: np.ndarray, method: int, start_far: bool = False,
          climb: bool = True) -> np.ndarray:
    """Visiting order of ``picks`` under heuristic ``method`` (one variant)."""
    n = picks.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    aisle = picks[:, 0]
    blk, y, cy = _mirrored(layout, picks)
    rank = np.full(n, -1, dtype=np.int64)
    sign = np.ones(n, dtype=np.float64)
    r = 0
    last_aisle = -1

    def assign(ids, s):
        # Empty parts take no rank, so the kernel's counter stays in step.
        nonlocal r, last_aisle
        if len(ids) == 0:
            return
        for i in ids:
            rank[i] = r
            sign[i] = s
        r += 1
        last_aisle = int(aisle[ids[0]])

    amin, amax = int(aisle.min()), int(aisle.max())
    near_left = (layout.depot_aisle - amin) <= (amax - layout.depot_aisle)
    start = amin if near_left != start_far else amax
    far = int(blk.max())
    if method == HEURISTICS["return"]:
        climb = False
    if climb:
        ids = [i for i in range(n) if aisle[i] == start and blk[i] < far]
        ids.sort(key=lambda i: (y[i], i))
        if ids:
            assign(ids, 1.0)
    cur = start
    for b in range(far, -1, -1):
        free = np.array([i for i in range(n) if blk[i] == b and rank[i] < 0], dtype=np.int64)
        if free.size == 0:
            continue
        free = free[np.lexsort((free, y[free], aisle[free]))]
        subs = _subaisles(free, aisle)
        if abs(cur - subs[0][0]) > abs(cur - subs[-1][0]):
            subs = subs[::-1]
        lo, hi = float(cy[b]), float(cy[b + 1])
        from_front = b == far  # every other block is entered from its back
        if method == HEURISTICS["s-shape"]:
            s = 1.0 if from_front else -1.0
            for _, run in subs:
                assign(run, s)
                s = -s
        elif method == HEURISTICS["return"]:
            for _, run in subs:
                assign(run, 1.0)
        elif method in (HEURISTICS["midpoint"], HEURISTICS["largest-gap"]):
            rest = subs
            if from_front:
                assign(subs[0][1], 1.0)
                rest = subs[1:]
            if rest:
                cuts = [_split(run, y, lo, hi, method) for _, run in rest]
                for (_, run), c in zip(rest[:-1], cuts[:-1]):
                    assign(run[c:], -1.0)
                assign(rest[-1][1], -1.0)
                for (_, run), c in zip(rest[-2::-1], cuts[-2::-1]):
                    assign(run[:c], 1.0)
        else:  # combined: DP over the side (0 front, 1 back) after each sub-aisle
            m = len(subs)
            h = hi - lo
            inf = float("inf")
            dp = [0.0, inf] if from_front else [inf, 0.0]
            came = np.zeros((m, 2), dtype=np.int64)  # side entered from, per side after
            for j, (_, run) in enumerate(subs):
                ret = (2.0 * (y[run[-1]] - lo), 2.0 * (hi - y[run[0]]))
                new = [0.0, 0.0]
                for s in (0, 1):
                    stay = dp[s] + ret[s]
                    cross = dp[1 - s] + h
                    if stay <= cross:
                        new[s], came[j, s] = stay, s
                    else:
                        new[s], came[j, s] = cross, 1 - s
                dp = new
            side = 0 if dp[0] <= dp[1] + h else 1
            entry = np.zeros(m, dtype=np.int64)
            for j in range(m - 1, -1, -1):
                entry[j] = came[j, side]
                side = entry[j]
            for j, (_, run) in enumerate(subs):
                assign(run, 1.0 if entry[j] == 0 else -1.0)
        cur = last_aisle  # the picker is in the aisle of the block's last stop
    idx = np.arange(n)
    return idx[np.lexsort((idx, sign * y, rank))]


def _sequence(layout: Layout, picks: np.ndarray, method: int) -> tuple[np.ndarray, float]:
    if method == HEURISTICS["combined+"]:
        best = None
        for climb in (True, False):
            for start_far in (False, True):
                seq = _plan(layout, picks, HEURISTICS["combined"], start_far, climb)
                length = tour_length(layout, picks, seq)
                if best is None or length < best[1]:
                    best = (seq, length)
        return best
    seq = _plan(layout, picks, method)
    return seq, tour_length(layout, picks, seq)


# ------------------------------------------------------------------ public API
def _check(method: str) -> None:
    if method not in HEURISTICS:
        raise OmsimError(f"routing heuristic {method!r} is unknown; choose one of: {', '.join(HEURISTICS)}")


def heuristic_route(layout: Layout, picks, method: str) -> Route:
    """Route ``picks`` with the heuristic ``method`` (a key of :data:`HEURISTICS`).

    Runs the compiled kernel on one pick list; :func:`heuristic_route_reference`
    is the slow pure-Python version it is tested against.

    Parameters
    ----------
    layout
        The warehouse.
    picks
        ``(n, 2)`` array-like of (aisle, cell), 0-based.
    method
        ``"s-shape"``, ``"return"``, ``"midpoint"``, ``"largest-gap"``,
        ``"combined"`` or ``"combined+"``.

    Returns
    -------
    Route
        ``length`` is the shortest-path length of the visiting ``sequence``.

    Raises
    ------
    OmsimError
        Unknown method or a pick outside the layout.
    """
    _check(method)
    p = as_picks(layout, picks)
    order = np.empty(p.shape[0], dtype=np.int64)
    length = _kernel_lengths(layout, p, np.array([0, p.shape[0]], dtype=np.int64), method, order)[0]
    return Route(float(length), order, method, False)


def heuristic_route_reference(layout: Layout, picks, method: str) -> Route:
    """Pure-Python version of :func:`heuristic_route` (the kernel's reference, for tests)."""
    _check(method)
    p = as_picks(layout, picks)
    seq, length = _sequence(layout, p, HEURISTICS[method])
    return Route(float(length), seq, method, False)


def s_shape(layout: Layout, picks) -> Route:
    """S-shape (traversal) route; see :func:`heuristic_route`."""
    return heuristic_route(layout, picks, "s-shape")


def return_route(layout: Layout, picks) -> Route:
    """Return route; see :func:`heuristic_route`."""
    return heuristic_route(layout, picks, "return")


def midpoint(layout: Layout, picks) -> Route:
    """Midpoint route; see :func:`heuristic_route`."""
    return heuristic_route(layout, picks, "midpoint")


def largest_gap(layout: Layout, picks) -> Route:
    """Largest-gap route; see :func:`heuristic_route`."""
    return heuristic_route(layout, picks, "largest-gap")


def combined(layout: Layout, picks) -> Route:
    """Combined route; see :func:`heuristic_route`."""
    return heuristic_route(layout, picks, "combined")


def combined_plus(layout: Layout, picks) -> Route:
    """Combined+ route (best of four combined variants); see :func:`heuristic_route`."""
    return heuristic_route(layout, picks, "combined+")


def _kernel_lengths(layout: Layout, flat: np.ndarray, offsets: np.ndarray, method: str,
                    order: np.ndarray | None = None) -> np.ndarray:
    from omsim._kernels import _route_heuristics

    blk, y, cy = _mirrored(layout, flat)
    out = np.empty(offsets.size - 1, dtype=np.float64)
    if order is None:
        order = np.empty(flat.shape[0], dtype=np.int64)
    _route_heuristics.heuristic_lengths(
        np.ascontiguousarray(flat[:, 0]),
        np.ascontiguousarray(layout.cell_y[flat[:, 1]], dtype=np.float64),
        np.ascontiguousarray(y),
        np.ascontiguousarray(blk),
        np.ascontiguousarray(offsets, dtype=np.int64),
        np.ascontiguousarray(layout.cross_aisle_y, dtype=np.float64),
        np.ascontiguousarray(cy),
        float(layout.aisle_pitch_m),
        int(layout.depot_aisle),
        float(layout.depot_xy[1]),
        float(layout.depot_offset_m),
        HEURISTICS[method],
        out,
        order,
    )
    return out


def _prepared_lengths(layout: Layout, flat: np.ndarray, method: str):
    """``f(idx, offsets)`` = ``_kernel_lengths(layout, flat[idx], offsets, method)``, per-pick work done once.

    For callers that route many gathers of the same picks (savings batching
    evaluates every candidate merge): the picks' positions, blocks and
    mirrored positions are computed once for ``flat`` and only gathered per
    call, so the kernel sees the same values as :func:`_kernel_lengths` would.
    """
    from omsim._kernels import _route_heuristics

    blk, yy, cy = _mirrored(layout, flat)
    aisle = np.ascontiguousarray(flat[:, 0], dtype=np.int64)
    y = np.ascontiguousarray(layout.cell_y[flat[:, 1]], dtype=np.float64)
    yy = np.ascontiguousarray(yy)
    blk = np.ascontiguousarray(blk)
    cross_y = np.ascontiguousarray(layout.cross_aisle_y, dtype=np.float64)
    cy = np.ascontiguousarray(cy)
    args = (float(layout.aisle_pitch_m), int(layout.depot_aisle), float(layout.depot_xy[1]),
            float(layout.depot_offset_m), HEURISTICS[method])

    def lengths(idx: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        out = np.empty(offsets.size - 1, dtype=np.float64)
        _route_heuristics.heuristic_lengths(aisle[idx], y[idx], yy[idx], blk[idx], offsets, cross_y, cy, *args,
                                            out, np.empty(idx.size, dtype=np.int64))
        return out

    return lengths


def heuristic_lengths(layout: Layout, pick_lists, method: str, *, offsets=None) -> np.ndarray:
    """Tour lengths of many pick lists under one heuristic, in one kernel call.

    Parameters
    ----------
    layout
        The warehouse.
    pick_lists
        A sequence of pick lists, or with ``offsets`` one flat ``(N, 2)`` array.
    method
        A key of :data:`HEURISTICS`.
    offsets
        Optional ``(R + 1,)`` CSR offsets into a flat ``pick_lists``.

    Returns
    -------
    numpy.ndarray
        ``(R,)`` lengths in metres, equal to ``heuristic_route(...).length``.
    """
    _check(method)
    return route_lengths(layout, pick_lists, method, offsets=offsets)


def _register() -> None:
    descriptions = {
        "s-shape": "traversal (s-shape); multi-block after Roodbergen & de Koster (2001)",
        "return": "enter and leave every sub-aisle from the depot side",
        "midpoint": "front/back halves of each sub-aisle picked from the nearer cross aisle",
        "largest-gap": "sub-aisles split at their largest gap (Hall 1993; RdK 2001)",
        "combined": "traverse-or-return per sub-aisle by dynamic programming (RdK 2001)",
        "combined+": "best of four combined variants (start end, start-aisle climb)",
    }
    for name in HEURISTICS:
        def route_fn(layout, picks, _name=name):
            return heuristic_route(layout, picks, _name)

        def lengths_fn(layout, flat, offsets, _name=name):
            return _kernel_lengths(layout, flat, offsets, _name)

        lengths_fn.prepare = lambda layout, flat, _name=name: _prepared_lengths(layout, flat, _name)

        register_method(name, route_fn, lengths_fn, optimal=False, description=descriptions[name])


_register()
