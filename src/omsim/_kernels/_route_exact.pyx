# cython: language_level=3
"""Exact picker routing in parallel-aisle warehouses (aisle-by-aisle DP).

Ratliff & Rosenthal (1983) for one block, Roodbergen & de Koster (2001) for
two blocks: a shortest-path dynamic programme over equivalence classes of
partial tour subgraphs, linear in the number of aisles. The classes and their
transitions come as tables (built in ``omsim.warehouse._exact``); this kernel
only evaluates the configuration costs of each sub-aisle and relaxes the
tables. Inputs already validated by the caller.

Sub-aisle configurations (index = code in the tables)::

    0 NONE      no edge (only when the sub-aisle holds no pick)
    1 TRAVERSE  once through
    2 DOUBLE    twice through
    3 GAP       in and out from both ends, leaving out the largest gap
                between two adjacent picks (needs >= 2 picks)
    4 LOW       in and out from the front end to the farthest pick
    5 HIGH      in and out from the back end to the nearest pick
"""
from libc.stdlib cimport malloc, free, qsort
from libc.stdint cimport int64_t
from libc.math cimport INFINITY


cdef int _cmp_i64(const void* a, const void* b) noexcept nogil:
    cdef int64_t x = (<const int64_t*>a)[0]
    cdef int64_t y = (<const int64_t*>b)[0]
    return (x > y) - (x < y)


cdef void _sort_keys(int64_t* keys, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef int64_t v
    if n > 24:
        qsort(keys, n, sizeof(int64_t), _cmp_i64)
        return
    for i in range(1, n):  # insertion sort: faster for the usual short pick lists
        v = keys[i]
        j = i - 1
        while j >= 0 and keys[j] > v:
            keys[j + 1] = keys[j]
            j -= 1
        keys[j + 1] = v


# Geometry, DPTables and Scratch are declared in _route_exact.pxd (shared with _batching).


cdef double _solve(const int64_t* aisle, const int64_t* cell, Py_ssize_t n,
                   const Geometry* g, const DPTables* t, Scratch* w,
                   int* bp_prev, int* bp_choice, Py_ssize_t* lo_out) noexcept nogil:
    """Length of an optimal tour through ``n`` picks; fills back-pointers if given."""
    cdef Py_ssize_t hi
    return _solve_from(aisle, cell, n, g, t, w, bp_prev, bp_choice, lo_out, &hi, -1, NULL, NULL)


cdef void _stats(const int64_t* aisle, const int64_t* cell, Py_ssize_t n, const Geometry* g, Scratch* w,
                 Py_ssize_t* lo_out, Py_ssize_t* hi_out) noexcept nogil:
    """The DP's aisle range (depot included) and each sub-aisle's picks: count, first, last, largest gap."""
    cdef Py_ssize_t i, a, c, sid, lo = g.depot_aisle, hi = g.depot_aisle
    cdef Py_ssize_t K = g.blocks, C = g.cells_per_aisle
    cdef double y
    for i in range(n):
        a = aisle[i]
        if a < lo:
            lo = a
        if a > hi:
            hi = a
        w.keys[i] = a * C + cell[i]
    lo_out[0] = lo
    hi_out[0] = hi
    _sort_keys(w.keys, n)
    for sid in range(lo * K, (hi + 1) * K):
        w.cnt[sid] = 0
        w.gap[sid] = 0.0
    for i in range(n):
        a = w.keys[i] // C
        c = w.keys[i] - a * C
        sid = a * K + c // g.cells_per_block
        y = g.cell_y[c]
        if w.cnt[sid] == 0:
            w.ymin[sid] = y
        elif y - w.ymax[sid] > w.gap[sid]:
            w.gap[sid] = y - w.ymax[sid]
        w.ymax[sid] = y
        w.cnt[sid] += 1


cdef double _solve_from(const int64_t* aisle, const int64_t* cell, Py_ssize_t n,
                        const Geometry* g, const DPTables* t, Scratch* w,
                        int* bp_prev, int* bp_choice, Py_ssize_t* lo_out, Py_ssize_t* hi_out,
                        Py_ssize_t start, const double* start_vec, double* record) noexcept nogil:
    """``_solve``, optionally resumed and recording the DP at every aisle.

    ``start >= 0`` begins at aisle ``start`` (``lo <= start <= hi``) from the
    DP vector ``start_vec`` (``S`` values) that another tour recorded there; the
    caller guarantees that both tours have the same ``lo`` and the same picks
    in the aisles before ``start``, so the result is bit for bit that of a
    full run. ``record`` (``(hi - lo + 1) * S``, may be NULL) receives the DP
    vector at the start of every aisle ``a`` at ``(a - lo) * S`` (from
    ``start`` on when resumed).
    """
    cdef Py_ssize_t a, b, s, k, e, e_end, sid, stage, lo, hi, first, q, nk
    cdef Py_ssize_t K = g.blocks, S = t.n_states
    cdef int nxt_s
    cdef double yl, yh, ln, v, cs
    cdef double cost[6]
    cdef Py_ssize_t ks[6]
    cdef const int* row
    cdef bint special
    cdef double* tmp
    if n == 0:
        lo_out[0] = g.depot_aisle
        hi_out[0] = g.depot_aisle
        return 0.0
    _stats(aisle, cell, n, g, w, &lo, &hi)
    lo_out[0] = lo
    hi_out[0] = hi
    if start >= 0:
        first = start
        for s in range(S):
            w.cur[s] = start_vec[s]
    else:
        first = lo
        for s in range(S):
            w.cur[s] = INFINITY
        w.cur[0] = 0.0
    stage = (first - lo) * (K + 1)
    for a in range(first, hi + 1):
        if record != NULL:
            for s in range(S):
                record[(a - lo) * S + s] = w.cur[s]
        for b in range(K):
            sid = a * K + b
            yl = g.cross_y[b]
            yh = g.cross_y[b + 1]
            ln = yh - yl
            cost[1] = ln
            cost[2] = 2.0 * ln
            if w.cnt[sid] == 0:
                cost[0] = 0.0
                cost[3] = INFINITY
                cost[4] = INFINITY
                cost[5] = INFINITY
            else:
                cost[0] = INFINITY
                cost[3] = 2.0 * (ln - w.gap[sid]) if w.cnt[sid] >= 2 else INFINITY
                cost[4] = 2.0 * (w.ymax[sid] - yl)
                cost[5] = 2.0 * (yh - w.ymin[sid])
            nk = 0  # the configurations this sub-aisle allows, in index order
            for k in range(6):
                if cost[k] != INFINITY:
                    ks[nk] = k
                    nk += 1
            for s in range(S):
                w.nxt[s] = INFINITY
            for s in range(S):
                cs = w.cur[s]
                if cs == INFINITY:
                    continue
                row = t.vert_next + (s * K + b) * 6
                for q in range(nk):
                    k = ks[q]
                    nxt_s = row[k]
                    if nxt_s < 0:
                        continue
                    v = cs + cost[k]
                    if v < w.nxt[nxt_s]:
                        w.nxt[nxt_s] = v
                        if bp_prev != NULL:
                            bp_prev[stage * S + nxt_s] = <int>s
                            bp_choice[stage * S + nxt_s] = <int>k
            tmp = w.cur
            w.cur = w.nxt
            w.nxt = tmp
            stage += 1
        # Cross-aisle edges to the next aisle; none leave the last aisle.
        special = a == hi or a == g.depot_aisle
        for s in range(S):
            w.nxt[s] = INFINITY
        for s in range(S):
            cs = w.cur[s]
            if cs == INFINITY:
                continue
            e_end = t.hv_ptr[s + 1]
            if not special:  # the usual aisle: every combination is allowed
                for e in range(t.hv_ptr[s], e_end):
                    nxt_s = t.hv_next[e]
                    v = cs + t.hv_count[e] * g.pitch
                    if v < w.nxt[nxt_s]:
                        w.nxt[nxt_s] = v
                        if bp_prev != NULL:
                            bp_prev[stage * S + nxt_s] = <int>s
                            bp_choice[stage * S + nxt_s] = t.hv_combo[e]
                continue
            for e in range(t.hv_ptr[s], e_end):
                if a == hi and t.hv_combo[e] != 0:
                    break  # entries are in combination order, 0 first
                if a == g.depot_aisle and not ((t.hv_mask[e] >> g.depot_cross) & 1):
                    continue  # the depot must be on the tour
                nxt_s = t.hv_next[e]
                v = w.cur[s] + t.hv_count[e] * g.pitch
                if v < w.nxt[nxt_s]:
                    w.nxt[nxt_s] = v
                    if bp_prev != NULL:
                        bp_prev[stage * S + nxt_s] = <int>s
                        bp_choice[stage * S + nxt_s] = t.hv_combo[e]
        tmp = w.cur
        w.cur = w.nxt
        w.nxt = tmp
        stage += 1
    return w.cur[t.done] + 2.0 * g.depot_offset


cdef inline bint _config_allowed(Py_ssize_t picks, Py_ssize_t k) noexcept nogil:
    """Whether a sub-aisle with no pick (0), one pick (1) or more (2) can take configuration ``k``."""
    if picks == 0:
        return k <= 2  # NONE, TRAVERSE, DOUBLE
    if picks == 1:
        return k == 1 or k == 2 or k == 4 or k == 5  # no gap to leave out
    return k >= 1


cdef void _pull_list(Pull* p, const Geometry* g, const DPTables* t, Py_ssize_t l, int* slot,
                     bint place) noexcept nogil:
    """Count the transitions of list ``l`` per target (``slot[d] += 1``) or place them (at ``slot[d]++``)."""
    cdef Py_ssize_t S = t.n_states, K = g.blocks, s, k, e, d, b, picks, var, q
    if l < 3 * K:
        b = l // 3
        picks = l - 3 * b
        for s in range(S):
            for k in range(6):
                d = t.vert_next[(s * K + b) * 6 + k]
                if d < 0 or not _config_allowed(picks, k):
                    continue
                q = slot[d]
                slot[d] += 1
                if place:
                    p.src[q] = <int>s
                    p.kind[q] = <int>k
                    p.cost[q] = 0.0
        return
    var = l - 3 * K
    for s in range(S):
        for e in range(t.hv_ptr[s], t.hv_ptr[s + 1]):
            if (var & 1) and t.hv_combo[e] != 0:
                continue  # the last aisle: no edge leaves it
            if (var & 2) and not ((t.hv_mask[e] >> g.depot_cross) & 1):
                continue  # the depot's aisle: the depot must stay on the tour
            d = t.hv_next[e]
            q = slot[d]
            slot[d] += 1
            if place:
                p.src[q] = <int>s
                p.kind[q] = 0
                p.cost[q] = t.hv_count[e] * g.pitch


cdef int _pull_build(Pull* p, const Geometry* g, const DPTables* t) noexcept nogil:
    """Fill ``p`` from the tables (``_pull_release`` frees it); -1 when out of memory."""
    cdef Py_ssize_t S = t.n_states, S1 = t.n_states + 1, L = 3 * g.blocks + 4, l, d, total = 0
    cdef int* ptr
    cdef int* slot = <int*>malloc(S1 * sizeof(int))
    p.ptr = <int*>malloc(L * S1 * sizeof(int))
    p.src = NULL
    p.kind = NULL
    p.cost = NULL
    if p.ptr == NULL or slot == NULL:
        free(slot)
        return -1
    # Counting sort by target state: counts per target, offsets, then placement.
    for l in range(L):
        ptr = p.ptr + l * S1
        for d in range(S):
            slot[d] = 0
        _pull_list(p, g, t, l, slot, False)
        ptr[0] = <int>total
        for d in range(S):
            ptr[d + 1] = ptr[d] + slot[d]
        total = ptr[S]
    p.src = <int*>malloc((total + 1) * sizeof(int))
    p.kind = <int*>malloc((total + 1) * sizeof(int))
    p.cost = <double*>malloc((total + 1) * sizeof(double))
    if p.src == NULL or p.kind == NULL or p.cost == NULL:
        free(slot)
        return -1
    for l in range(L):
        ptr = p.ptr + l * S1
        for d in range(S):
            slot[d] = ptr[d]
        _pull_list(p, g, t, l, slot, True)
    free(slot)
    return 0


cdef void _pull_release(Pull* p) noexcept nogil:
    free(p.ptr)
    free(p.src)
    free(p.kind)
    free(p.cost)
    p.ptr = NULL
    p.src = NULL
    p.kind = NULL
    p.cost = NULL


cdef double _solve_pull(const int64_t* aisle, const int64_t* cell, Py_ssize_t n,
                        const Geometry* g, const DPTables* t, const Pull* p, Scratch* w,
                        Py_ssize_t* lo_out, Py_ssize_t* hi_out,
                        Py_ssize_t start, const double* start_vec, double* record) noexcept nogil:
    """``_solve_from`` without back-pointers, each state pulling its value from its sources.

    A state's value is the minimum of the same sums (each computed as in
    ``_solve_from``); only the order of the comparisons differs, so every
    length is bit for bit that of ``_solve_from``.
    """
    cdef Py_ssize_t i
    if n == 0:
        lo_out[0] = g.depot_aisle
        hi_out[0] = g.depot_aisle
        return 0.0
    for i in range(n):
        w.keys[i] = aisle[i] * g.cells_per_aisle + cell[i]
    _sort_keys(w.keys, n)
    return _solve_keys(w.keys, n, g, t, p, w, lo_out, hi_out, start, start_vec, record)


cdef double _solve_keys(const int64_t* keys, Py_ssize_t n, const Geometry* g, const DPTables* t, const Pull* p,
                        Scratch* w, Py_ssize_t* lo_out, Py_ssize_t* hi_out,
                        Py_ssize_t start, const double* start_vec, double* record) noexcept nogil:
    """``_solve_pull`` of the picks ``keys`` (``aisle * cells_per_aisle + cell``, ascending).

    Sub-aisles before the first aisle the DP runs (``start`` when resumed) are not looked at.
    """
    cdef Py_ssize_t a, b, s, d, e, e_end, sid, lo, hi, first, picks, i, c
    cdef Py_ssize_t K = g.blocks, S = t.n_states, S1 = t.n_states + 1, C = g.cells_per_aisle
    cdef double yl, yh, ln, v, m, y
    cdef double cost[6]
    cdef const int* ptr
    cdef const int* src = p.src
    cdef const int* kind = p.kind
    cdef const double* hc = p.cost
    cdef double* cur = w.cur
    cdef double* nxt = w.nxt
    cdef double* tmp
    if n == 0:
        lo_out[0] = g.depot_aisle
        hi_out[0] = g.depot_aisle
        return 0.0
    lo = keys[0] // C
    hi = keys[n - 1] // C
    if g.depot_aisle < lo:
        lo = g.depot_aisle
    if g.depot_aisle > hi:
        hi = g.depot_aisle
    lo_out[0] = lo
    hi_out[0] = hi
    first = start if start >= 0 else lo
    # Picks per sub-aisle (count, first, last, largest gap) from the first aisle the DP runs.
    for sid in range(first * K, (hi + 1) * K):
        w.cnt[sid] = 0
        w.gap[sid] = 0.0
    i = 0
    while i < n and keys[i] < first * C:
        i += 1
    while i < n:
        a = keys[i] // C
        c = keys[i] - a * C
        sid = a * K + c // g.cells_per_block
        y = g.cell_y[c]
        if w.cnt[sid] == 0:
            w.ymin[sid] = y
        elif y - w.ymax[sid] > w.gap[sid]:
            w.gap[sid] = y - w.ymax[sid]
        w.ymax[sid] = y
        w.cnt[sid] += 1
        i += 1
    if start >= 0:
        for s in range(S):
            cur[s] = start_vec[s]
    else:
        for s in range(S):
            cur[s] = INFINITY
        cur[0] = 0.0
    cost[0] = 0.0
    for a in range(first, hi + 1):
        if record != NULL:
            for s in range(S):
                record[(a - lo) * S + s] = cur[s]
        for b in range(K):
            sid = a * K + b
            yl = g.cross_y[b]
            yh = g.cross_y[b + 1]
            ln = yh - yl
            cost[1] = ln
            cost[2] = 2.0 * ln
            picks = w.cnt[sid]
            if picks > 0:
                cost[4] = 2.0 * (w.ymax[sid] - yl)
                cost[5] = 2.0 * (yh - w.ymin[sid])
                if picks >= 2:
                    picks = 2
                    cost[3] = 2.0 * (ln - w.gap[sid])
            ptr = p.ptr + (3 * b + picks) * S1
            e = ptr[0]
            for d in range(S):
                m = INFINITY
                e_end = ptr[d + 1]
                while e < e_end:
                    v = cur[src[e]] + cost[kind[e]]
                    if v < m:
                        m = v
                    e += 1
                nxt[d] = m
            tmp = cur
            cur = nxt
            nxt = tmp
        # Cross-aisle edges to the next aisle: none leave the last; the depot's aisle keeps the depot.
        ptr = p.ptr + (3 * K + (1 if a == hi else 0) + (2 if a == g.depot_aisle else 0)) * S1
        e = ptr[0]
        for d in range(S):
            m = INFINITY
            e_end = ptr[d + 1]
            while e < e_end:
                v = cur[src[e]] + hc[e]
                if v < m:
                    m = v
                e += 1
            nxt[d] = m
        tmp = cur
        cur = nxt
        nxt = tmp
    w.cur = cur  # the final vector stays in the scratch's ``cur``, as after ``_solve_from``
    w.nxt = nxt
    return cur[t.done] + 2.0 * g.depot_offset


cdef int _alloc(Scratch* w, Py_ssize_t max_n, Py_ssize_t n_sub, Py_ssize_t S) noexcept nogil:
    w.keys = <int64_t*>malloc((max_n + 1) * sizeof(int64_t))
    w.cnt = <int*>malloc(n_sub * sizeof(int))
    w.ymin = <double*>malloc(n_sub * sizeof(double))
    w.ymax = <double*>malloc(n_sub * sizeof(double))
    w.gap = <double*>malloc(n_sub * sizeof(double))
    w.cur = <double*>malloc(S * sizeof(double))
    w.nxt = <double*>malloc(S * sizeof(double))
    if (w.keys == NULL or w.cnt == NULL or w.ymin == NULL or w.ymax == NULL
            or w.gap == NULL or w.cur == NULL or w.nxt == NULL):
        return -1
    return 0


cdef void _release(Scratch* w) noexcept nogil:
    free(w.keys)
    free(w.cnt)
    free(w.ymin)
    free(w.ymax)
    free(w.gap)
    free(w.cur)
    free(w.nxt)


cdef void _fill(Geometry* g, DPTables* t, Py_ssize_t n_aisles, Py_ssize_t blocks,
                const double[::1] cell_y, const double[::1] cross_y, double pitch,
                Py_ssize_t depot_aisle, Py_ssize_t depot_cross, double depot_offset,
                const int[:, :, ::1] vert_next, const int[::1] hv_ptr, const int[::1] hv_combo,
                const int[::1] hv_next, const int[::1] hv_mask, const int[::1] hv_count, int done):
    g.n_aisles = n_aisles
    g.blocks = blocks
    g.cells_per_aisle = cell_y.shape[0]
    g.cells_per_block = cell_y.shape[0] // blocks
    g.cell_y = &cell_y[0]
    g.cross_y = &cross_y[0]
    g.pitch = pitch
    g.depot_aisle = depot_aisle
    g.depot_cross = depot_cross
    g.depot_offset = depot_offset
    t.vert_next = &vert_next[0, 0, 0]
    t.hv_ptr = &hv_ptr[0]
    t.hv_combo = &hv_combo[0]
    t.hv_next = &hv_next[0]
    t.hv_mask = &hv_mask[0]
    t.hv_count = &hv_count[0]
    t.n_states = hv_ptr.shape[0] - 1
    t.done = done


def exact_lengths(const int64_t[::1] aisle,      # IN  (N,) aisle of every pick, all routes
                  const int64_t[::1] cell,       # IN  (N,) cell of every pick
                  const int64_t[::1] offsets,    # IN  (R + 1,) route r = picks offsets[r]:offsets[r+1]
                  Py_ssize_t n_aisles,           # IN  aisles in the layout
                  Py_ssize_t blocks,             # IN  blocks in the layout
                  const double[::1] cell_y,      # IN  (cells_per_aisle,) cell positions along an aisle
                  const double[::1] cross_y,     # IN  (blocks + 1,) cross-aisle positions
                  double pitch,                  # IN  aisle pitch
                  Py_ssize_t depot_aisle,        # IN  depot aisle
                  Py_ssize_t depot_cross,        # IN  cross aisle of the depot (0 = front)
                  double depot_offset,           # IN  depot to cross aisle
                  const int[:, :, ::1] vert_next,  # IN  (S, blocks, 6) state after a vertical configuration
                  const int[::1] hv_ptr,         # IN  (S + 1,) CSR: valid cross-aisle combinations per state
                  const int[::1] hv_combo,       # IN  (E,) combination index, ascending per state (0 = none)
                  const int[::1] hv_next,        # IN  (E,) state after the combination
                  const int[::1] hv_mask,        # IN  (E,) junctions left with non-zero degree (bits)
                  const int[::1] hv_count,       # IN  (E,) cross-aisle edges in the combination
                  int done,                      # IN  id of the finished-tour state
                  double[::1] out):              # OUT (R,) optimal tour lengths
    """Fill ``out[r]`` with the optimal tour length of route ``r`` (one nogil loop)."""
    cdef Geometry g
    cdef DPTables t
    cdef Scratch w
    cdef Pull p
    cdef Py_ssize_t r, R = offsets.shape[0] - 1, max_n = 0, lo, hi
    cdef int status
    _fill(&g, &t, n_aisles, blocks, cell_y, cross_y, pitch, depot_aisle, depot_cross,
          depot_offset, vert_next, hv_ptr, hv_combo, hv_next, hv_mask, hv_count, done)
    for r in range(R):
        if offsets[r + 1] - offsets[r] > max_n:
            max_n = offsets[r + 1] - offsets[r]
    if aisle.shape[0] == 0:
        for r in range(R):
            out[r] = 0.0
        return
    p.ptr = NULL
    p.src = NULL
    p.kind = NULL
    p.cost = NULL
    with nogil:
        status = _alloc(&w, max_n, n_aisles * blocks, t.n_states)
        if status == 0:
            status = _pull_build(&p, &g, &t)
        if status == 0:
            for r in range(R):
                out[r] = _solve_pull(&aisle[0] + offsets[r], &cell[0] + offsets[r],
                                     offsets[r + 1] - offsets[r], &g, &t, &p, &w, &lo, &hi, -1, NULL, NULL)
        _release(&w)
        _pull_release(&p)
    if status != 0:
        raise MemoryError()


def exact_route(const int64_t[::1] aisle,        # IN  (n,) aisle of every pick
                const int64_t[::1] cell,         # IN  (n,) cell of every pick
                Py_ssize_t n_aisles,             # IN  aisles in the layout
                Py_ssize_t blocks,               # IN  blocks in the layout
                const double[::1] cell_y,        # IN  (cells_per_aisle,) cell positions
                const double[::1] cross_y,       # IN  (blocks + 1,) cross-aisle positions
                double pitch,                    # IN  aisle pitch
                Py_ssize_t depot_aisle,          # IN  depot aisle
                Py_ssize_t depot_cross,          # IN  cross aisle of the depot
                double depot_offset,             # IN  depot to cross aisle
                const int[:, :, ::1] vert_next,  # IN  (S, blocks, 6)
                const int[::1] hv_ptr,           # IN  (S + 1,)
                const int[::1] hv_combo,         # IN  (E,)
                const int[::1] hv_next,          # IN  (E,)
                const int[::1] hv_mask,          # IN  (E,)
                const int[::1] hv_count,         # IN  (E,)
                int done,                        # IN  finished-tour state
                int[:, ::1] bp_prev,             # OUT (n_aisles * (blocks + 1), S) predecessor state per stage
                int[:, ::1] bp_choice):          # OUT (n_aisles * (blocks + 1), S) configuration / combination index per stage
    """Optimal tour length of one route and the DP's back-pointers.

    Returns ``(length, lo)``: stage ``i * (blocks + 1) + b`` (``b < blocks``)
    is the vertical step of block ``b`` in aisle ``lo + i``, stage
    ``i * (blocks + 1) + blocks`` its cross-aisle step.
    """
    cdef Geometry g
    cdef DPTables t
    cdef Scratch w
    cdef Py_ssize_t n = aisle.shape[0], lo = 0
    cdef double length = 0.0
    cdef int status
    _fill(&g, &t, n_aisles, blocks, cell_y, cross_y, pitch, depot_aisle, depot_cross,
          depot_offset, vert_next, hv_ptr, hv_combo, hv_next, hv_mask, hv_count, done)
    if n == 0:
        return 0.0, depot_aisle
    with nogil:
        status = _alloc(&w, n, n_aisles * blocks, t.n_states)
        if status == 0:
            length = _solve(&aisle[0], &cell[0], n, &g, &t, &w, &bp_prev[0, 0], &bp_choice[0, 0], &lo)
        _release(&w)
    if status != 0:
        raise MemoryError()
    return length, lo
