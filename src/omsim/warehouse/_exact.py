"""State tables and tour reconstruction for the exact aisle-by-aisle routing DP.

The exact method builds a minimum-length *tour subgraph* of the aisle graph
(every pick and the depot covered, connected, every degree even; each edge
used at most twice) aisle by aisle from left to right, as in Ratliff &
Rosenthal (1983) for one block and Roodbergen & de Koster (2001) for two
blocks. The equivalence classes of partial subgraphs are generated here
instead of being typed in: a class records, for each cross-aisle junction of
the current aisle (``blocks + 1`` of them), its degree class (zero, odd,
even) and which of them are connected through the part built so far. For one
block this yields exactly Ratliff & Rosenthal's classes, for two blocks
Roodbergen & de Koster's; the kernel (``omsim._kernels._route_exact``) only
follows the tables.

Per aisle the DP first adds, for each block's sub-aisle, one of six vertical
configurations (``NONE``, ``TRAVERSE`` once, ``DOUBLE`` traverse,
``GAP``: both ends with the largest gap between adjacent picks left out,
``LOW``: in and out from the front end, ``HIGH``: from the back end), then
``h_c in {0, 1, 2}`` copies of the cross-aisle edge ``c`` to the next aisle.
A junction left behind must have even degree; a component that no longer
reaches the frontier must be the whole, finished tour (state ``DONE``).
"""
from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

# Vertical configurations of one sub-aisle (must match _route_exact.pyx).
NONE, TRAVERSE, DOUBLE, GAP, LOW, HIGH = range(6)
N_CONFIGS = 6

# Degree classes.
_ZERO, _ODD, _EVEN = 0, 1, 2


def _add_degree(d: int, k: int) -> int:
    if k == 0:
        return d
    odd = (d == _ODD) != (k % 2 == 1)
    return _ODD if odd else _EVEN


def _canon(degs, labels):
    """Relabel components in order of first appearance."""
    remap: dict[int, int] = {}
    out = []
    for d, lab in zip(degs, labels):
        if d == _ZERO:
            out.append(-1)
        else:
            if lab not in remap:
                remap[lab] = len(remap)
            out.append(remap[lab])
    return tuple(degs), tuple(out)


DONE_KEY = "DONE"


def _vertical(state, b: int, k: int):
    if state == DONE_KEY:
        return DONE_KEY if k == NONE else None
    degs, labels = list(state[0]), list(state[1])
    if k == NONE:
        return state
    fresh = max(labels, default=-1) + 1
    u, v = b, b + 1
    ends = {TRAVERSE: (u, v), DOUBLE: (u, v), GAP: (u, v), LOW: (u,), HIGH: (v,)}[k]
    times = 1 if k == TRAVERSE else 2
    for w in ends:
        if degs[w] == _ZERO:
            labels[w] = fresh
            fresh += 1
        degs[w] = _add_degree(degs[w], times)
    if k in (TRAVERSE, DOUBLE):
        old, new = labels[v], labels[u]
        labels = [new if lab == old else lab for lab in labels]
    return _canon(degs, labels)


def _horizontal(state, h):
    """Return (next_state or None, mask of junctions left with non-zero degree)."""
    if state == DONE_KEY:
        return (DONE_KEY, 0) if not any(h) else (None, 0)
    degs, labels = state
    mask = 0
    new_degs, new_labels = [], []
    fresh = max(labels, default=-1) + 1
    for c, (d, lab, hc) in enumerate(zip(degs, labels, h)):
        final = _add_degree(d, hc)
        if final == _ODD:
            return None, 0
        if final != _ZERO:
            mask |= 1 << c
        if hc == 0:
            new_degs.append(_ZERO)
            new_labels.append(-1)
        else:
            if d == _ZERO:  # the edge starts a new component at this junction
                lab = fresh
                fresh += 1
            new_degs.append(_ODD if hc == 1 else _EVEN)
            new_labels.append(lab)
    comps = {lab for lab in labels if lab >= 0}
    carried = {lab for lab in new_labels if lab >= 0}
    closed = comps - carried
    if closed:
        if len(comps) == 1 and not any(h):
            return DONE_KEY, mask
        return None, 0
    return _canon(new_degs, new_labels), mask


class Tables:
    """Transition tables of the DP for ``blocks`` blocks (arrays for the kernel).

    Attributes
    ----------
    states
        State keys, index = state id; ``0`` is the empty state, ``done`` the
        finished tour.
    vert_next
        ``(S, blocks, 6)`` int32: next state after a vertical configuration, -1 if invalid.
    h_next, h_mask
        ``(S, H)`` int32: next state after horizontal multiplicities ``h_combos[i]``
        (-1 if invalid) and the bitmask of junctions left with non-zero degree.
    h_count
        ``(H,)`` int32: number of cross-aisle edges of each combination.
    h_combos
        ``(H, blocks + 1)`` int8 multiplicities.
    hv_ptr, hv_combo, hv_next, hv_mask, hv_count
        The valid entries of ``h_next`` per state in CSR form (what the kernel reads).
    """

    def __init__(self, blocks: int):
        v = blocks + 1
        empty = ((_ZERO,) * v, (-1,) * v)
        combos = list(product(range(3), repeat=v))
        states = [empty]
        index = {empty: 0}
        todo = [empty]
        trans_v: dict = {}
        trans_h: dict = {}

        def intern(s):
            if s not in index:
                index[s] = len(states)
                states.append(s)
                todo.append(s)
            return index[s]

        intern(DONE_KEY)
        while todo:
            s = todo.pop()
            for b in range(blocks):
                for k in range(N_CONFIGS):
                    t = _vertical(s, b, k)
                    if t is not None:
                        trans_v[s, b, k] = intern(t)
            for i, h in enumerate(combos):
                t, m = _horizontal(s, h)
                if t is not None:
                    trans_h[s, i] = (intern(t), m)
        n = len(states)
        self.blocks = blocks
        self.states = states
        self.empty = 0
        self.done = index[DONE_KEY]
        self.vert_next = np.full((n, blocks, N_CONFIGS), -1, dtype=np.int32)
        for (s, b, k), t in trans_v.items():
            self.vert_next[index[s], b, k] = t
        self.h_next = np.full((n, len(combos)), -1, dtype=np.int32)
        self.h_mask = np.zeros((n, len(combos)), dtype=np.int32)
        for (s, i), (t, m) in trans_h.items():
            self.h_next[index[s], i] = t
            self.h_mask[index[s], i] = m
        self.h_combos = np.array(combos, dtype=np.int8)
        self.h_count = self.h_combos.sum(axis=1).astype(np.int32)
        self.h_zero = 0  # combos[0] is all zeros
        # The valid combinations of each state, compactly (CSR, combo order):
        # most of the 3^(blocks+1) combinations are invalid for a given state.
        ptr, combo, nxt, mask = [0], [], [], []
        for s in range(n):
            ok = np.flatnonzero(self.h_next[s] >= 0)
            combo.extend(ok.tolist())
            nxt.extend(self.h_next[s, ok].tolist())
            mask.extend(self.h_mask[s, ok].tolist())
            ptr.append(len(combo))
        self.hv_ptr = np.array(ptr, dtype=np.int32)
        self.hv_combo = np.array(combo, dtype=np.int32)
        self.hv_next = np.array(nxt, dtype=np.int32)
        self.hv_mask = np.array(mask, dtype=np.int32)
        self.hv_count = self.h_count[self.hv_combo].astype(np.int32)


@lru_cache(maxsize=None)
def tables(blocks: int) -> Tables:
    """The (cached) DP tables for a number of blocks."""
    return Tables(blocks)


# --------------------------------------------------------------- reconstruction
def euler_sequence(layout, picks: np.ndarray, configs: np.ndarray, hcounts: np.ndarray, lo: int) -> np.ndarray:
    """Turn the DP's choices into a visiting order of the picks.

    Parameters
    ----------
    layout
        The :class:`~omsim.warehouse.layout.Layout` (inputs already validated).
    picks
        ``(n, 2)`` int64 (aisle, cell).
    configs
        ``(m, blocks)`` vertical configuration per aisle ``lo + i`` and block.
    hcounts
        ``(m, blocks + 1)`` cross-aisle edge multiplicities from aisle ``lo + i``
        to ``lo + i + 1``.
    lo
        First aisle of the DP range.

    Returns
    -------
    numpy.ndarray
        Pick indices in the order an Euler tour of the chosen subgraph from the
        depot first reaches them.
    """
    k = layout.blocks + 1
    yc = layout.cross_aisle_y
    cpb = layout.cells_per_block
    # Vertex ids: junctions first, then one vertex per distinct pick location.
    nodes_of: dict[tuple[int, int], list[int]] = {}
    for i, (a, c) in enumerate(picks.tolist()):
        nodes_of.setdefault((a, c), []).append(i)
    loc_keys = sorted(nodes_of)
    loc_id = {key: layout.aisles * k + i for i, key in enumerate(loc_keys)}
    adj: dict[int, list[int]] = {}
    edges: list[list[int]] = []  # [u, v, used]

    def add(u, v, times):
        for _ in range(times):
            e = len(edges)
            edges.append([u, v, 0])
            adj.setdefault(u, []).append(e)
            adj.setdefault(v, []).append(e)

    by_sub: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for a, c in loc_keys:
        by_sub.setdefault((a, c // cpb), []).append((a, c))
    for i in range(configs.shape[0]):
        a = lo + i
        for b in range(layout.blocks):
            cfg = int(configs[i, b])
            if cfg == NONE:
                continue
            locs = by_sub.get((a, b), [])  # sorted by cell, i.e. by y
            chain = [a * k + b] + [loc_id[x] for x in locs] + [a * k + b + 1]
            ys = [yc[b]] + [layout.cell_y[x[1]] for x in locs] + [yc[b + 1]]
            segs = list(zip(chain, chain[1:]))
            if cfg == TRAVERSE:
                for u, v in segs:
                    add(u, v, 1)
            elif cfg == DOUBLE:
                for u, v in segs:
                    add(u, v, 2)
            elif cfg == LOW:
                for u, v in segs[:-1]:
                    add(u, v, 2)
            elif cfg == HIGH:
                for u, v in segs[1:]:
                    add(u, v, 2)
            elif cfg == GAP:
                # Skip the largest gap between adjacent pick locations.
                gaps = [ys[j + 1] - ys[j] for j in range(1, len(ys) - 2)]
                g = 1 + int(np.argmax(gaps))
                for j, (u, v) in enumerate(segs):
                    if j != g:
                        add(u, v, 2)
        if i + 1 < configs.shape[0]:
            for c in range(k):
                add(a * k + c, (a + 1) * k + c, int(hcounts[i, c]))
    start = layout.depot_aisle * k + layout.depot_cross
    # Hierholzer's algorithm (iterative).
    ptr: dict[int, int] = {}
    stack = [start]
    circuit: list[int] = []
    while stack:
        u = stack[-1]
        lst = adj.get(u, [])
        p = ptr.get(u, 0)
        while p < len(lst) and edges[lst[p]][2]:
            p += 1
        ptr[u] = p
        if p == len(lst):
            circuit.append(stack.pop())
        else:
            e = edges[lst[p]]
            e[2] = 1
            stack.append(e[1] if e[0] == u else e[0])
    circuit.reverse()
    inv = {v: key for key, v in loc_id.items()}
    seen: set[int] = set()
    seq: list[int] = []
    for v in circuit:
        if v in inv and v not in seen:
            seen.add(v)
            seq.extend(nodes_of[inv[v]])
    return np.asarray(seq, dtype=np.int64)
