# cython: language_level=3
"""Clarke & Wright savings order batching with exact routing, in one C loop.

The reference is ``omsim.warehouse.batching._savings`` (NumPy, one batched
routing call per step); this kernel takes the same decisions — the merge of
largest saving, ties to the first pair in row-major order of the upper
triangle, ``j`` merged into ``i < j``, recomputation of the new batch's
savings — but calls the exact DP (``_route_exact._solve_keys``) straight from C.

Two ways to evaluate fewer tours, both optional:

* ``lazy``: a saving is first stored as an upper bound,
  ``L(A) + L(B) - max(L(A) + G(A, B), L(B) + G(B, A), H(A u B))`` (a tour
  through a superset of picks is no shorter, by at least the way ``G`` beyond
  ``A``'s aisles and cross aisles that clamping it to them drops; any closed
  walk on the aisle grid travels at least twice the x and y extents of what
  it visits, ``H``); after ``j`` merges into ``i`` also
  ``s(i u j, c) <= s(i, c) + L(i u j) - L(i)`` (and the same from ``j``'s
  side), with the old saving exact or itself a bound. A tour is routed only
  when its bound reaches the top of the matrix. The merges are the same as
  without it: an exact value is taken only when no bound could beat it, and a
  bound that ties with it earlier in row-major order is evaluated first.
* ``neighbours > 0`` (granular savings): orders are joined only to their
  ``neighbours`` nearest orders (mean nearest-pick distance on the aisle
  graph, both ways); batches are candidates for a merge when any of their
  orders are joined. When no joined pair is left to merge, the remaining
  batches become candidates for any merge (they are few: this fills the
  carts). This changes the batches.

Every batch keeps the DP vectors of its own tour at the start of each aisle
(recorded when it is routed alone, or adopted from the candidate tour that
became it); a candidate ``A u B`` resumes the DP from ``A``'s vector at the
first aisle where ``B``'s picks change what the DP reads of ``A``'s sub-aisles
(pick count, ends, largest gap) — the same numbers as a run from the start.
The DP is ``_route_exact._solve_pull`` (same lengths, bit for bit, as
``_solve_from``); a batch's reported length is the length of the tour that
became it (the DP does not depend on the order of the picks nor on where it
resumed), so final batches are not routed again.

The bounds carry a slack for rounding, except when every position of the
layout is a multiple of 2**-10 m (``_exact_sums``: round metres, as in the
bundled scenarios): then every length, saving and bound is an exact double
and a bound that only ties with the best exact saving later in row-major
order needs no routing.

``Waves`` binds the kernel to one layout and one slotting (the simulator's
floor): the pulled DP tables are built once, a wave comes as lines of SKUs and
the tours go out in CSR form.

Inputs already validated by the caller.
"""
from libc.stdlib cimport malloc, calloc, free
from libc.stdint cimport int64_t
from libc.math cimport INFINITY, fabs, floor

from omsim._kernels._route_exact cimport (Geometry, DPTables, Scratch, Pull, _solve_pull, _solve_keys, _sort_keys,
                                          _pull_build, _pull_release, _alloc, _release, _fill)

# Same tolerance as the reference (capacity and "saving >= 0" checks).
cdef double EPS = 1e-9
# Largest store of recorded DP vectors (doubles, 64 MB); beyond it tours are routed from scratch.
cdef Py_ssize_t POOL_MAX = 8 * 1024 * 1024
# Largest store of one-pick tours kept by a ``Waves`` object (doubles, 32 MB).
cdef Py_ssize_t CACHE_MAX = 4 * 1024 * 1024
# Recently routed pair tours whose DP vectors are kept (a merge usually follows its evaluation closely).
cdef enum:
    RING = 16


cdef struct Cache:
    # Tours of one pick, by location (aisle * cells_per_aisle + cell), kept across the waves of a
    # ``Waves`` object: their length and DP vectors (aisles lo..hi at (a - lo) * S; NULL: not yet).
    Py_ssize_t n_locs
    Py_ssize_t used    # doubles held (at most CACHE_MAX: past it, orders are routed from scratch)
    double** vec
    double* length
    int64_t* lo
    int64_t* hi


cdef struct Work:
    Py_ssize_t n
    Py_ssize_t N       # picks of all orders
    const int64_t* aisle
    const int64_t* cell
    const int64_t* start
    int64_t* nxt       # (n,) next order of the same batch, -1 at its end
    int64_t* tail      # (n,) last order of the batch led by i
    int64_t* buf_a     # (N + 1,) picks of a candidate tour (keys aisle * cells_per_aisle + cell, ascending)
    int64_t* keys      # (2 N + 1,) each batch's picks, ascending, at keys[kofs[i]:kofs[i] + kcnt[i]]; a merged
    int64_t* buf_c     # (2 N + 1,) batch's are appended, and when full the live ones move to this spare buffer
    int64_t* kofs      # (n,)
    int64_t* kcnt      # (n,)
    Py_ssize_t klen    # keys in use
    double* sav        # (n, n) upper triangle: saving (exact or bound), -inf when no candidate
    double* ub         # (n, n) upper triangle: upper bound on the saving of every live pair (exact if evaluated)
    char* exact        # (n, n) sav holds an evaluated saving
    char* adj          # (n, n) batches may merge (granular neighbour lists)
    double* rb_val     # (n,) best entry of each row
    int64_t* rb_col
    int64_t* xlo       # (n,) aisle extent of each batch, depot included
    int64_t* xhi
    double* ylo        # (n,) y extent, depot included
    double* yhi
    double* ybot       # (n,) cross aisle at or below ylo (the front one if none), at or above yhi
    double* ytop
    double* tour       # (n, n) upper triangle: the routed length of the pair's tour (where exact)
    double* own        # (n,) routed length of each batch's tour (length[] accumulates savings instead)
    double slack       # added to the bounds for rounding (0 when the arithmetic is exact)
    const Pull* pull
    Cache* cache       # one-pick tours of earlier waves (NULL: none)
    int64_t* pmin      # (n,) first aisle with a pick of each batch (n_aisles if none)
    # DP vectors at the start of every aisle of each batch's own tour (the prefix a candidate
    # tour shares with it): batch i's are pool[slot[i]], aisles flo[i]..fhi[i]. Slots n .. n+RING-1
    # are a ring where the last routed pairs record theirs (tag_i, tag_j, tag_lo, tag_hi; tag_i < 0:
    # free); the batch a pair becomes adopts them when that pair merges.
    double* pool       # ((n + RING) * n_aisles * S,) or NULL when too large: no reuse
    int64_t* slot      # (n + RING,)
    int64_t* flo
    int64_t* fhi
    char* fok          # (n,) batch i's vectors are recorded
    Py_ssize_t stride  # n_aisles * S
    Py_ssize_t S
    Py_ssize_t tag_i[RING]
    Py_ssize_t tag_j[RING]
    Py_ssize_t tag_lo[RING]
    Py_ssize_t tag_hi[RING]
    Py_ssize_t ring    # next ring entry to write


cdef Py_ssize_t _merge_keys(Work* k, Py_ssize_t i, Py_ssize_t j, int64_t* out) noexcept nogil:
    """The picks of batches ``i`` and ``j`` merged, ascending, into ``out``; returns their number."""
    cdef const int64_t* a = k.keys + k.kofs[i]
    cdef const int64_t* b = k.keys + k.kofs[j]
    cdef Py_ssize_t na = k.kcnt[i], nb = k.kcnt[j], p = 0, q = 0, m = 0
    while p < na and q < nb:
        if b[q] < a[p]:
            out[m] = b[q]
            q += 1
        else:
            out[m] = a[p]
            p += 1
        m += 1
    while p < na:
        out[m] = a[p]
        p += 1
        m += 1
    while q < nb:
        out[m] = b[q]
        q += 1
        m += 1
    return m


cdef void _join_keys(Work* k, Py_ssize_t i, Py_ssize_t j, const char* alive) noexcept nogil:
    """Batch ``j`` merges into ``i``: ``i``'s picks become both lists merged (appended to the keys)."""
    cdef Py_ssize_t m = _merge_keys(k, i, j, k.buf_a), o, q, pos = 0
    cdef int64_t* tmp
    if k.klen + m > 2 * k.N:  # full: the other live batches move to the front of the spare buffer
        for o in range(k.n):
            if alive[o] and o != i and o != j:
                for q in range(k.kcnt[o]):
                    k.buf_c[pos + q] = k.keys[k.kofs[o] + q]
                k.kofs[o] = pos
                pos += k.kcnt[o]
        tmp = k.keys
        k.keys = k.buf_c
        k.buf_c = tmp
        k.klen = pos
    for q in range(m):
        k.keys[k.klen + q] = k.buf_a[q]
    k.kofs[i] = k.klen
    k.kcnt[i] = m
    k.kcnt[j] = 0
    k.klen += m


cdef inline void _sub_stats(const int64_t* a, Py_ssize_t na, const int64_t* b, Py_ssize_t nb,
                            const Geometry* g, double* out) noexcept nogil:
    """What the DP reads of one sub-aisle holding the picks ``a`` and ``b`` (sorted keys, merged):
    the pick count (1, or 2 for more), first, last, largest gap; computed as ``_solve_keys`` does."""
    cdef Py_ssize_t p = 0, q = 0, cnt = 0, C = g.cells_per_aisle
    cdef int64_t key
    cdef double y, ymin = 0.0, ymax = 0.0, gap = 0.0
    while p < na or q < nb:
        if q >= nb or (p < na and a[p] <= b[q]):
            key = a[p]
            p += 1
        else:
            key = b[q]
            q += 1
        y = g.cell_y[key % C]
        if cnt == 0:
            ymin = y
        elif y - ymax > gap:
            gap = y - ymax
        ymax = y
        cnt += 1
    out[0] = 2.0 if cnt >= 2 else <double>cnt
    out[1] = ymin
    out[2] = ymax
    out[3] = gap


cdef Py_ssize_t _first_change(Work* k, Py_ssize_t x, Py_ssize_t y, const Geometry* g) noexcept nogil:
    """First aisle where batch ``y``'s picks change what the DP reads of batch ``x``'s sub-aisles.

    Up to that aisle the DP of ``x u y`` runs exactly as ``x``'s own (same
    counts, ends and gaps, so same costs and transitions): it can resume
    there from ``x``'s recorded vector. ``n_aisles`` when nothing changes.
    """
    cdef const int64_t* ky = k.keys + k.kofs[y]
    cdef const int64_t* kx = k.keys + k.kofs[x]
    cdef Py_ssize_t ny = k.kcnt[y], nx = k.kcnt[x], p = 0, q, px = 0, qx, cpb = g.cells_per_block, sid
    cdef double before[4]
    cdef double after[4]
    while p < ny:
        sid = ky[p] // cpb  # sub-aisle a * blocks + block (keys are a * cells_per_aisle + cell)
        q = p
        while q < ny and ky[q] // cpb == sid:
            q += 1
        while px < nx and kx[px] // cpb < sid:
            px += 1
        qx = px
        while qx < nx and kx[qx] // cpb == sid:
            qx += 1
        if qx == px:
            return sid // g.blocks
        _sub_stats(kx + px, qx - px, NULL, 0, g, before)
        _sub_stats(kx + px, qx - px, ky + p, q - p, g, after)
        if (before[0] != after[0] or before[1] != after[1] or before[2] != after[2]
                or before[3] != after[3]):
            return sid // g.blocks
        p = q
        px = qx
    return g.n_aisles


cdef double _route(Work* k, Py_ssize_t i, Py_ssize_t j, const Geometry* g, const DPTables* t,
                   Scratch* w) noexcept nogil:
    """Optimal tour length of batch ``i`` with batch ``j``, resuming from either's recorded DP when possible.

    The tour's own DP vectors are recorded in the scratch slot (see ``Work``).
    """
    cdef Py_ssize_t m = _merge_keys(k, i, j, k.buf_a), lo, hi, x, y, r, src = -1, start = -1, skip = 0, q
    cdef double length
    cdef double* rec
    cdef double* from_
    if m == 0:
        return 0.0
    if k.pool == NULL:
        return _solve_keys(k.buf_a, m, g, t, k.pull, w, &lo, &hi, -1, NULL, NULL)
    for q in range(2):
        x = i if q == 0 else j
        y = j if q == 0 else i
        if not k.fok[x] or k.pmin[y] < k.flo[x]:
            continue  # nothing recorded, or y's picks start left of x's tour
        r = _first_change(k, x, y, g)
        if r > k.fhi[x]:
            r = k.fhi[x]
        if r - k.flo[x] > skip:
            skip = r - k.flo[x]
            src = x
            start = r
    rec = k.pool + k.slot[k.n + k.ring] * k.stride
    if src >= 0:
        from_ = k.pool + k.slot[src] * k.stride
        for q in range(skip * k.S):  # the shared prefix, so that the scratch holds the whole tour
            rec[q] = from_[q]
        length = _solve_keys(k.buf_a, m, g, t, k.pull, w, &lo, &hi, start, from_ + skip * k.S, rec)
    else:
        length = _solve_keys(k.buf_a, m, g, t, k.pull, w, &lo, &hi, -1, NULL, rec)
    k.tag_i[k.ring] = i
    k.tag_j[k.ring] = j
    k.tag_lo[k.ring] = lo
    k.tag_hi[k.ring] = hi
    k.ring = (k.ring + 1) % RING
    return length


cdef void _adopt(Work* k, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    """Batch ``j`` merges into ``i``: take the DP vectors of their tour if the ring holds them."""
    cdef Py_ssize_t r
    cdef int64_t tmp
    k.fok[i] = 0
    k.fok[j] = 0
    for r in range(RING):
        if (k.tag_i[r] == i and k.tag_j[r] == j) or (k.tag_i[r] == j and k.tag_j[r] == i):
            tmp = k.slot[i]
            k.slot[i] = k.slot[k.n + r]
            k.slot[k.n + r] = tmp
            k.flo[i] = k.tag_lo[r]
            k.fhi[i] = k.tag_hi[r]
            k.fok[i] = 1
            break
    for r in range(RING):  # tours with i or j are not tours of the batches any more
        if k.tag_i[r] == i or k.tag_j[r] == i or k.tag_i[r] == j or k.tag_j[r] == j:
            k.tag_i[r] = -1
            k.tag_j[r] = -1


cdef double _route_alone(Work* k, Py_ssize_t i, bint record, const Geometry* g, const DPTables* t,
                         Scratch* w) noexcept nogil:
    """Optimal tour length of batch ``i`` (recording its DP vectors if asked)."""
    cdef Py_ssize_t m = k.kcnt[i], lo, hi
    cdef const int64_t* keys = k.keys + k.kofs[i]
    cdef double length
    if m == 0:
        return 0.0
    if not record or k.pool == NULL:
        return _solve_keys(keys, m, g, t, k.pull, w, &lo, &hi, -1, NULL, NULL)
    length = _solve_keys(keys, m, g, t, k.pull, w, &lo, &hi, -1, NULL, k.pool + k.slot[i] * k.stride)
    k.flo[i] = lo
    k.fhi[i] = hi
    k.fok[i] = 1
    return length


cdef double _route_order(Work* k, Py_ssize_t o, const Geometry* g, const DPTables* t,
                         Scratch* w, int64_t* routed) noexcept nogil:
    """``_route_alone`` of order ``o`` (recording), from the cached tour of its leftmost pick.

    The order's tour has the same DP as that one-pick tour up to the aisle of
    its next pick (same picks before, same first aisle): an order of one pick
    takes the cached tour whole, any other resumes from it. The lengths are
    bit for bit those of routing from scratch.
    """
    cdef Cache* c = k.cache
    cdef Py_ssize_t p, p0 = k.start[o], p1 = k.start[o + 1], first = -1, loc, lo, hi, r, q, S = k.S
    cdef Py_ssize_t C = g.cells_per_aisle
    cdef double length
    cdef double* rec
    cdef double* vec
    if c == NULL or k.pool == NULL or p1 == p0:
        routed[0] += 1
        return _route_alone(k, o, True, g, t, w)
    for p in range(p0, p1):
        if first < 0 or k.aisle[p] < k.aisle[first]:
            first = p
    loc = k.aisle[first] * C + k.cell[first]
    rec = k.pool + k.slot[o] * k.stride
    if c.vec[loc] == NULL:  # route the pick alone, once for all waves
        routed[0] += 1
        if c.used >= CACHE_MAX:
            return _route_alone(k, o, True, g, t, w)
        c.length[loc] = _solve_pull(k.aisle + first, k.cell + first, 1, g, t, k.pull, w, &lo, &hi, -1, NULL, rec)
        c.vec[loc] = <double*>malloc((hi - lo + 1) * S * sizeof(double))
        if c.vec[loc] == NULL:
            return _route_alone(k, o, True, g, t, w)  # counted as routed above
        c.lo[loc] = lo
        c.hi[loc] = hi
        c.used += (hi - lo + 1) * S
        for q in range((hi - lo + 1) * S):
            c.vec[loc][q] = rec[q]
    vec = c.vec[loc]
    lo = c.lo[loc]
    hi = c.hi[loc]
    r = hi  # resume at the aisle of the next pick (at most the one-pick tour's last aisle)
    for p in range(p0, p1):
        if p != first and k.aisle[p] < r:
            r = k.aisle[p]
    k.fok[o] = 1
    if p1 - p0 == 1:
        for q in range((hi - lo + 1) * S):
            rec[q] = vec[q]
        k.flo[o] = lo
        k.fhi[o] = hi
        return c.length[loc]
    for q in range((r - lo) * S):
        rec[q] = vec[q]
    routed[0] += 1
    length = _solve_keys(k.keys + k.kofs[o], k.kcnt[o], g, t, k.pull, w, &lo, &hi, r, vec + (r - lo) * S, rec)
    k.flo[o] = lo
    k.fhi[o] = hi
    return length


cdef bint _dyadic(double x) noexcept nogil:
    """``x`` is a multiple of 2**-10 below 2**20 in magnitude."""
    return fabs(x) < 1048576.0 and x * 1024.0 == floor(x * 1024.0)


cdef bint _exact_sums(const Geometry* g, Py_ssize_t n) noexcept nogil:
    """Whether every length, saving and bound of the run is computed without rounding.

    With all positions multiples of 2**-10 m (round metres, halves, ...), every
    DP sum, tour length and saving is one too; kept below 2**42 they are exact
    doubles, whatever the order of the additions. The bounds then need no
    slack, which spares the tours whose saving only ties with the best.
    """
    cdef Py_ssize_t c
    cdef double span = g.cross_y[g.blocks] - g.cross_y[0], path
    if not (_dyadic(g.pitch) and _dyadic(g.depot_offset)):
        return False
    for c in range(g.cells_per_aisle):
        if not _dyadic(g.cell_y[c]):
            return False
    for c in range(g.blocks + 1):
        if not _dyadic(g.cross_y[c]):
            return False
    # Longest sum along any DP path (each sub-aisle at most twice, each cross-aisle edge at most twice).
    path = 2.0 * g.depot_offset + g.n_aisles * (2.0 * fabs(span) + 2.0 * (g.blocks + 1) * g.pitch)
    return (n + 2) * path < 4398046511104.0  # 2**42


cdef void _row_best(Work* k, Py_ssize_t r) noexcept nogil:
    cdef Py_ssize_t c, n = k.n
    cdef double best = -INFINITY, v
    cdef int64_t col = -1
    for c in range(r + 1, n):
        v = k.sav[r * n + c]
        if v > best:
            best = v
            col = c
    k.rb_val[r] = best
    k.rb_col[r] = col


cdef inline void _evaluate(Work* k, Py_ssize_t i, Py_ssize_t j, const double* length,
                           const Geometry* g, const DPTables* t, Scratch* w) noexcept nogil:
    """Route the tour of batches ``i < j`` together: its exact saving replaces the bound."""
    cdef Py_ssize_t ij = i * k.n + j
    k.tour[ij] = _route(k, i, j, g, t, w)
    k.sav[ij] = (length[i] + length[j]) - k.tour[ij]
    k.ub[ij] = k.sav[ij]
    k.exact[ij] = 1


cdef inline int64_t _open_pair(Work* k, Py_ssize_t i, Py_ssize_t j, bint lazy, const double* length,
                               const Geometry* g, const DPTables* t, Scratch* w) noexcept nogil:
    """Make (i, j) a merge candidate: its saving's bound (lazy) or its routed saving; returns the tours routed."""
    cdef Py_ssize_t ij = i * k.n + j
    if lazy:
        k.sav[ij] = k.ub[ij]
        return 0
    _evaluate(k, i, j, length, g, t, w)
    return 1


cdef inline double _growth(Work* k, Py_ssize_t x, Py_ssize_t y, const Geometry* g) noexcept nogil:
    """Travel a tour through batch ``x`` must add to also visit batch ``y``.

    Clamping a tour of ``x u y`` to ``x``'s aisles and to the cross aisles
    around ``x``'s picks (the depot included) leaves a tour of ``x``; it drops
    at least twice the way beyond them in each direction.
    """
    cdef double d = 0.0
    if k.xhi[y] > k.xhi[x]:
        d += 2.0 * g.pitch * (k.xhi[y] - k.xhi[x])
    if k.xlo[y] < k.xlo[x]:
        d += 2.0 * g.pitch * (k.xlo[x] - k.xlo[y])
    if k.yhi[y] > k.ytop[x]:
        d += 2.0 * (k.yhi[y] - k.ytop[x])
    if k.ylo[y] < k.ybot[x]:
        d += 2.0 * (k.ybot[x] - k.ylo[y])
    return d


cdef void _clamp(Work* k, Py_ssize_t x, const Geometry* g) noexcept nogil:
    """Cross aisles around batch ``x``'s picks (see ``_growth``), after its y extent changed."""
    cdef Py_ssize_t b
    k.ytop[x] = g.cross_y[g.blocks]
    k.ybot[x] = g.cross_y[0]
    for b in range(g.blocks + 1):
        if g.cross_y[b] >= k.yhi[x]:
            k.ytop[x] = g.cross_y[b]
            break
    for b in range(g.blocks, -1, -1):
        if g.cross_y[b] <= k.ylo[x]:
            k.ybot[x] = g.cross_y[b]
            break


cdef inline double _bound(Work* k, const double* length, Py_ssize_t i, Py_ssize_t j, const Geometry* g) noexcept nogil:
    """Upper bound on the saving of merging batches ``i`` and ``j`` (see the module docstring)."""
    cdef double li = length[i], lj = length[j], m, v
    cdef int64_t xl = k.xlo[i] if k.xlo[i] < k.xlo[j] else k.xlo[j]
    cdef int64_t xh = k.xhi[i] if k.xhi[i] > k.xhi[j] else k.xhi[j]
    cdef double yl = k.ylo[i] if k.ylo[i] < k.ylo[j] else k.ylo[j]
    cdef double yh = k.yhi[i] if k.yhi[i] > k.yhi[j] else k.yhi[j]
    if k.pmin[i] == g.n_aisles and k.pmin[j] == g.n_aisles:
        # No pick in either: no tour (length 0), not even to the depot and back, and a saving of 0.
        return k.slack * (1.0 + li + lj)
    m = 2.0 * g.pitch * (xh - xl) + 2.0 * (yh - yl) + 2.0 * g.depot_offset
    v = li + _growth(k, i, j, g)
    if v > m:
        m = v
    v = lj + _growth(k, j, i, g)
    if v > m:
        m = v
    # Slack for rounding (the stored lengths are sums of DP sums); none when the sums are exact.
    return (li + lj) - m + k.slack * (1.0 + li + lj)


cdef double _pick_dist(Py_ssize_t a1, double y1, Py_ssize_t a2, double y2, const Geometry* g) noexcept nogil:
    """Aisle-graph distance between two picks (no depot)."""
    cdef Py_ssize_t b
    cdef double best, v
    if a1 == a2:
        return fabs(y1 - y2)
    best = INFINITY
    for b in range(g.blocks + 1):
        v = fabs(y1 - g.cross_y[b]) + fabs(y2 - g.cross_y[b])
        if v < best:
            best = v
    return fabs(<double>(a1 - a2)) * g.pitch + best


cdef double _order_dist(Work* k, Py_ssize_t u, Py_ssize_t v, const Geometry* g) noexcept nogil:
    """Mean distance from each pick of one order to the nearest pick of the other, both ways, halved."""
    cdef Py_ssize_t p, q
    cdef double total = 0.0, best, d
    cdef Py_ssize_t nu = k.start[u + 1] - k.start[u], nv = k.start[v + 1] - k.start[v]
    if nu == 0 or nv == 0:
        return 0.0
    for p in range(k.start[u], k.start[u + 1]):
        best = INFINITY
        for q in range(k.start[v], k.start[v + 1]):
            d = _pick_dist(k.aisle[p], g.cell_y[k.cell[p]], k.aisle[q], g.cell_y[k.cell[q]], g)
            if d < best:
                best = d
        total += best / nu
    for q in range(k.start[v], k.start[v + 1]):
        best = INFINITY
        for p in range(k.start[u], k.start[u + 1]):
            d = _pick_dist(k.aisle[p], g.cell_y[k.cell[p]], k.aisle[q], g.cell_y[k.cell[q]], g)
            if d < best:
                best = d
        total += best / nv
    return 0.5 * total


cdef void _neighbours(Work* k, Py_ssize_t kk, const Geometry* g, double* dist, char* taken) noexcept nogil:
    """Join every order to its ``kk`` nearest orders (ties to the lower index); ``adj`` symmetric."""
    cdef Py_ssize_t n = k.n, u, v, r, best_v
    cdef double best
    for u in range(n):
        for v in range(u + 1, n):
            dist[u * n + v] = _order_dist(k, u, v, g)
            dist[v * n + u] = dist[u * n + v]
    for u in range(n):
        for v in range(n):
            taken[v] = 0
        taken[u] = 1
        for r in range(kk):
            best = INFINITY
            best_v = -1
            for v in range(n):
                if not taken[v] and (best_v < 0 or dist[u * n + v] < best):
                    best = dist[u * n + v]
                    best_v = v
            if best_v < 0:
                break
            taken[best_v] = 1
            k.adj[u * n + best_v] = 1
            k.adj[best_v * n + u] = 1


def savings_batches(const int64_t[::1] aisle,       # IN  (N,) aisle of every pick; order o = start[o]:start[o+1]
                    const int64_t[::1] cell,        # IN  (N,) cell of every pick
                    const int64_t[::1] start,       # IN  (n + 1,) CSR offsets of the orders' picks
                    const double[::1] sizes,        # IN  (n,) order sizes against the capacity
                    double capacity,                # IN  cart capacity
                    Py_ssize_t neighbours,          # IN  granular neighbour lists (0: every pair is a candidate)
                    bint lazy,                      # IN  route a candidate only when its bound reaches the top
                    Py_ssize_t n_aisles,            # IN  aisles in the layout
                    Py_ssize_t blocks,              # IN  blocks in the layout
                    const double[::1] cell_y,       # IN  (cells_per_aisle,) cell positions along an aisle
                    const double[::1] cross_y,      # IN  (blocks + 1,) cross-aisle positions
                    double pitch,                   # IN  aisle pitch
                    Py_ssize_t depot_aisle,         # IN  depot aisle
                    Py_ssize_t depot_cross,         # IN  cross aisle of the depot (0 = front)
                    double depot_offset,            # IN  depot to cross aisle
                    const int[:, :, ::1] vert_next,  # IN  DP tables (see _route_exact.exact_lengths)
                    const int[::1] hv_ptr,          # IN
                    const int[::1] hv_combo,        # IN
                    const int[::1] hv_next,         # IN
                    const int[::1] hv_mask,         # IN
                    const int[::1] hv_count,        # IN
                    int done,                       # IN
                    int64_t[::1] label,             # OUT (n,) batch of each order: its smallest order index
                    double[::1] length):            # OUT (n,) optimal tour length of batch i at i (0 elsewhere)
    """Savings batching (C&W with recomputation); returns the number of tours routed."""
    cdef Geometry g
    cdef DPTables t
    cdef Pull pull
    cdef Py_ssize_t n = start.shape[0] - 1, N = aisle.shape[0]
    cdef int64_t evaluations = 0
    cdef int status = 0
    cdef int64_t* null_i64 = NULL
    if n == 0:
        return 0
    _fill(&g, &t, n_aisles, blocks, cell_y, cross_y, pitch, depot_aisle, depot_cross,
          depot_offset, vert_next, hv_ptr, hv_combo, hv_next, hv_mask, hv_count, done)
    with nogil:
        status = _pull_build(&pull, &g, &t)
        if status == 0:
            evaluations = _savings(&aisle[0] if N else null_i64, &cell[0] if N else null_i64, &start[0], n, N,
                                   &sizes[0], capacity, neighbours, lazy, &g, &t, &pull, NULL, &label[0], &length[0],
                                   &status)
        _pull_release(&pull)
    if status != 0:
        raise MemoryError()
    return evaluations


cdef int64_t _savings(const int64_t* aisle, const int64_t* cell, const int64_t* start, Py_ssize_t n, Py_ssize_t N,
                      const double* sizes, double capacity, Py_ssize_t neighbours, bint lazy,
                      const Geometry* g, const DPTables* t, const Pull* pull, Cache* cache,
                      int64_t* label, double* length, int* status_out) noexcept nogil:
    """Allocate the work arrays of ``n >= 1`` orders and run savings; ``status_out`` -1 when out of memory."""
    cdef Scratch w
    cdef Work k
    cdef double* load = NULL
    cdef double* dist = NULL
    cdef char* alive = NULL
    cdef char* taken = NULL
    cdef int64_t evaluations = 0
    cdef int status = 0
    k.n = n
    k.aisle = aisle
    k.cell = cell
    k.start = start
    k.nxt = <int64_t*>malloc(n * sizeof(int64_t))
    k.tail = <int64_t*>malloc(n * sizeof(int64_t))
    k.N = N
    k.buf_a = <int64_t*>malloc((N + 1) * sizeof(int64_t))
    k.buf_c = <int64_t*>malloc((2 * N + 1) * sizeof(int64_t))
    k.keys = <int64_t*>malloc((2 * N + 1) * sizeof(int64_t))
    k.kofs = <int64_t*>malloc(n * sizeof(int64_t))
    k.kcnt = <int64_t*>malloc(n * sizeof(int64_t))
    k.sav = <double*>malloc(n * n * sizeof(double))
    k.ub = <double*>malloc(n * n * sizeof(double))
    k.exact = <char*>malloc(n * n * sizeof(char))
    k.adj = <char*>malloc(n * n * sizeof(char))
    k.rb_val = <double*>malloc(n * sizeof(double))
    k.rb_col = <int64_t*>malloc(n * sizeof(int64_t))
    k.xlo = <int64_t*>malloc(n * sizeof(int64_t))
    k.xhi = <int64_t*>malloc(n * sizeof(int64_t))
    k.ylo = <double*>malloc(n * sizeof(double))
    k.yhi = <double*>malloc(n * sizeof(double))
    k.ybot = <double*>malloc(n * sizeof(double))
    k.ytop = <double*>malloc(n * sizeof(double))
    k.tour = <double*>malloc(n * n * sizeof(double))
    k.own = <double*>malloc(n * sizeof(double))
    k.slack = 0.0 if _exact_sums(g, n) else 1e-7
    k.pull = pull
    k.cache = cache
    k.pmin = <int64_t*>malloc(n * sizeof(int64_t))
    k.slot = <int64_t*>malloc((n + RING) * sizeof(int64_t))
    k.flo = <int64_t*>malloc(n * sizeof(int64_t))
    k.fhi = <int64_t*>malloc(n * sizeof(int64_t))
    k.fok = <char*>malloc(n * sizeof(char))
    k.S = t.n_states
    k.stride = g.n_aisles * t.n_states
    k.pool = NULL
    if (n + RING) * k.stride <= POOL_MAX:  # else route every tour from scratch
        k.pool = <double*>malloc((n + RING) * k.stride * sizeof(double))
    load = <double*>malloc(n * sizeof(double))
    alive = <char*>malloc(n * sizeof(char))
    if neighbours > 0:
        dist = <double*>malloc(n * n * sizeof(double))
        taken = <char*>malloc(n * sizeof(char))
    status = _alloc(&w, N, g.n_aisles * g.blocks, t.n_states)
    if (status != 0 or k.ybot == NULL or k.ytop == NULL or k.tour == NULL or k.own == NULL or k.nxt == NULL
            or k.tail == NULL or k.buf_a == NULL or k.buf_c == NULL
            or k.keys == NULL or k.kofs == NULL or k.kcnt == NULL
            or k.sav == NULL or k.ub == NULL or k.exact == NULL or k.adj == NULL or k.rb_val == NULL or k.rb_col == NULL
            or k.xlo == NULL or k.xhi == NULL or k.ylo == NULL or k.yhi == NULL or load == NULL
            or k.pmin == NULL or k.slot == NULL or k.flo == NULL or k.fhi == NULL or k.fok == NULL
            or alive == NULL or (neighbours > 0 and (dist == NULL or taken == NULL))):
        status = -1
    else:
        evaluations = _run(&k, g, t, &w, sizes, capacity, neighbours, lazy, load, alive,
                           dist, taken, label, length)
    _release(&w)
    free(k.ybot); free(k.ytop); free(k.tour); free(k.own)
    free(k.keys); free(k.kofs); free(k.kcnt)
    free(k.nxt); free(k.tail); free(k.buf_a); free(k.buf_c); free(k.sav); free(k.ub); free(k.exact); free(k.adj)
    free(k.rb_val); free(k.rb_col); free(k.xlo); free(k.xhi); free(k.ylo); free(k.yhi)
    free(k.pmin); free(k.slot); free(k.flo); free(k.fhi); free(k.fok); free(k.pool)
    free(load); free(alive); free(dist); free(taken)
    status_out[0] = status
    return evaluations


cdef class Waves:
    """The savings kernel bound to one layout and one slotting: the simulator's waves, one call each.

    Built once per floor (the DP tables, their pulled form and the SKU
    locations stay here), :meth:`batch` takes a wave as the simulator holds it
    (lines of SKUs, packages as CSR offsets into them) and writes the tours in
    CSR form, so that its caller has no per-order Python work left.

    When the sums are exact (``_exact_sums``) and the depot is in the left
    half of the aisles, the waves are batched in the mirrored warehouse
    (aisle ``a`` as ``n_aisles - 1 - a``): same lengths, savings and bounds,
    hence the same tours, but the DP then runs towards the depot, and a
    candidate tour resumes at the far end of its orders' picks, which
    (popular SKUs slotted near the depot) leaves fewer aisles to run.
    """
    cdef Geometry g
    cdef Geometry gm   # the mirrored warehouse
    cdef bint mirror   # batch in the mirrored warehouse when the sums of the wave are exact
    cdef DPTables t
    cdef Pull pull
    cdef Cache cache
    cdef const int64_t[::1] sku_aisle
    cdef const int64_t[::1] sku_cell
    cdef object _keep

    def __cinit__(self):
        self.cache.n_locs = 0
        self.cache.used = 0
        self.cache.vec = NULL
        self.cache.length = NULL
        self.cache.lo = NULL
        self.cache.hi = NULL
        self.pull.ptr = NULL
        self.pull.src = NULL
        self.pull.kind = NULL
        self.pull.cost = NULL

    def __init__(self,
                 const int64_t[::1] sku_aisle,   # IN  (n_skus,) aisle of each SKU's slot
                 const int64_t[::1] sku_cell,    # IN  (n_skus,) cell of each SKU's slot
                 Py_ssize_t n_aisles,            # IN  layout and DP tables: as for savings_batches
                 Py_ssize_t blocks,
                 const double[::1] cell_y,
                 const double[::1] cross_y,
                 double pitch,
                 Py_ssize_t depot_aisle,
                 Py_ssize_t depot_cross,
                 double depot_offset,
                 const int[:, :, ::1] vert_next,
                 const int[::1] hv_ptr,
                 const int[::1] hv_combo,
                 const int[::1] hv_next,
                 const int[::1] hv_mask,
                 const int[::1] hv_count,
                 int done):
        # The structs point into these arrays: keep them alive with the object.
        self._keep = (cell_y, cross_y, vert_next, hv_ptr, hv_combo, hv_next, hv_mask, hv_count)
        self.sku_aisle = sku_aisle
        self.sku_cell = sku_cell
        _fill(&self.g, &self.t, n_aisles, blocks, cell_y, cross_y, pitch, depot_aisle, depot_cross,
              depot_offset, vert_next, hv_ptr, hv_combo, hv_next, hv_mask, hv_count, done)
        self.gm = self.g
        self.gm.depot_aisle = n_aisles - 1 - depot_aisle
        self.mirror = _exact_sums(&self.g, 0) and self.gm.depot_aisle > depot_aisle
        _pull_release(&self.pull)
        if _pull_build(&self.pull, &self.g, &self.t) != 0:
            raise MemoryError()
        self._free_cache()
        n_locs = n_aisles * cell_y.shape[0]
        self.cache.vec = <double**>calloc(n_locs, sizeof(double*))
        self.cache.length = <double*>malloc(n_locs * sizeof(double))
        self.cache.lo = <int64_t*>malloc(n_locs * sizeof(int64_t))
        self.cache.hi = <int64_t*>malloc(n_locs * sizeof(int64_t))
        self.cache.n_locs = n_locs
        if (self.cache.vec == NULL or self.cache.length == NULL or self.cache.lo == NULL
                or self.cache.hi == NULL):
            raise MemoryError()

    cdef void _free_cache(self) noexcept:
        cdef Py_ssize_t i
        if self.cache.vec != NULL:
            for i in range(self.cache.n_locs):
                free(self.cache.vec[i])
        free(self.cache.vec)
        free(self.cache.length)
        free(self.cache.lo)
        free(self.cache.hi)
        self.cache.vec = NULL
        self.cache.length = NULL
        self.cache.lo = NULL
        self.cache.hi = NULL
        self.cache.n_locs = 0
        self.cache.used = 0

    def __dealloc__(self):
        self._free_cache()
        _pull_release(&self.pull)

    def batch(self,
              const int64_t[::1] line_sku,   # IN  (L,) SKU of every line
              const int64_t[::1] line_ptr,   # IN  (n + 1,) package p's lines: line_ptr[p]:line_ptr[p+1] (n >= 1)
              const double[::1] sizes,       # IN  (n,) package sizes against the capacity
              double capacity,               # IN  cart capacity
              Py_ssize_t neighbours,         # IN  granular neighbour lists (0: every pair is a candidate)
              int64_t[::1] order,            # OUT (n,) packages tour by tour (ascending within a tour)
              int64_t[::1] tour_ptr,         # OUT (n + 1,) tour b's packages: order[tour_ptr[b]:tour_ptr[b+1]]
              double[::1] tour_length,       # OUT (n,) optimal route length of tour b (first n_tours entries)
              int64_t[::1] tour_picks):      # OUT (n,) lines picked on tour b (first n_tours entries)
        """Savings batches of one wave (same as :func:`savings_batches`); returns ``(n_tours, tours routed)``.

        Tours come in the order of their smallest package.
        """
        cdef Py_ssize_t n = line_ptr.shape[0] - 1, N, p, o, b, nb = 0, base, last = self.g.n_aisles - 1
        cdef Py_ssize_t n_skus = self.sku_aisle.shape[0]
        cdef int64_t sku
        cdef const Geometry* geo = &self.g
        cdef Cache* cache = &self.cache
        cdef bint mirror = False
        cdef int64_t evaluations = 0
        cdef int status = 0
        cdef int64_t* aisle = NULL
        cdef int64_t* cell = NULL
        cdef int64_t* start = NULL
        cdef int64_t* label = NULL
        cdef double* length = NULL
        if n <= 0:
            return 0, 0
        base = line_ptr[0]
        N = line_ptr[n] - base
        # Cheap checks that keep a caller's slip from reading outside the arrays.
        if base < 0 or line_ptr[n] > line_sku.shape[0] or sizes.shape[0] != n or order.shape[0] < n \
                or tour_ptr.shape[0] < n + 1 or tour_length.shape[0] < n or tour_picks.shape[0] < n:
            raise ValueError("Waves.batch: line_ptr, line_sku, sizes and the outputs do not match")
        for o in range(n):
            if line_ptr[o + 1] < line_ptr[o]:
                raise ValueError("Waves.batch: line_ptr must not decrease")
        if self.mirror:  # the kept one-pick tours are of the mirrored warehouse: none when it cannot be used
            mirror = _exact_sums(&self.gm, n)
            geo = &self.gm if mirror else &self.g
            cache = &self.cache if mirror else NULL
        with nogil:
            aisle = <int64_t*>malloc((N + 1) * sizeof(int64_t))
            cell = <int64_t*>malloc((N + 1) * sizeof(int64_t))
            start = <int64_t*>malloc((n + 1) * sizeof(int64_t))
            label = <int64_t*>malloc(n * sizeof(int64_t))
            length = <double*>malloc(n * sizeof(double))
            if aisle == NULL or cell == NULL or start == NULL or label == NULL or length == NULL:
                status = -1
            else:
                for p in range(N):
                    sku = line_sku[base + p]
                    if sku < 0 or sku >= n_skus:
                        status = -2
                        break
                    aisle[p] = self.sku_aisle[sku]
                    cell[p] = self.sku_cell[sku]
                    if mirror:
                        aisle[p] = last - aisle[p]
                for o in range(n + 1):
                    start[o] = line_ptr[o] - base
                if status == 0:
                    evaluations = _savings(aisle, cell, start, n, N, &sizes[0], capacity, neighbours, True,
                                           geo, &self.t, &self.pull, cache, label, length, &status)
            if status == 0:
                # Tours numbered by their leader (smallest package); label[o] <= o, so a leader comes
                # before its packages: one pass numbers the tours and counts their packages.
                for o in range(n + 1):
                    tour_ptr[o] = 0
                for o in range(n):
                    if label[o] == o:
                        start[o] = nb  # start[] reused: tour number of each leader
                        tour_length[nb] = length[o]
                        tour_picks[nb] = 0
                        nb += 1
                    b = start[label[o]]
                    tour_ptr[b + 1] += 1
                    tour_picks[b] += line_ptr[o + 1] - line_ptr[o]
                for b in range(nb):
                    tour_ptr[b + 1] += tour_ptr[b]
                for o in range(n):  # ascending: each tour's packages in order
                    b = start[label[o]]
                    order[tour_ptr[b]] = o
                    tour_ptr[b] += 1
                for b in range(nb, 0, -1):
                    tour_ptr[b] = tour_ptr[b - 1]
                tour_ptr[0] = 0
            free(aisle)
            free(cell)
            free(start)
            free(label)
            free(length)
        if status == -2:
            raise IndexError("Waves.batch: a line's SKU has no slot")
        if status != 0:
            raise MemoryError()
        return nb, evaluations


cdef int64_t _run(Work* k, const Geometry* g, const DPTables* t, Scratch* w, const double* sizes,
                  double capacity, Py_ssize_t neighbours, bint lazy, double* load, char* alive,
                  double* dist, char* taken, int64_t* label, double* length) noexcept nogil:
    cdef Py_ssize_t n = k.n, i, j, c, r, o, best_r, ic, jc
    cdef double s, best, y, ydep = g.cross_y[g.depot_cross], li_old, lj, u, v
    cdef bint granular = neighbours > 0 and neighbours < n - 1
    cdef int64_t evaluations = 0
    # One batch per order.
    for o in range(n + RING):
        k.slot[o] = o
    for r in range(RING):
        k.tag_i[r] = -1
        k.tag_j[r] = -1
    k.ring = 0
    k.klen = k.N
    for o in range(n):
        k.nxt[o] = -1
        k.tail[o] = o
        k.fok[o] = 0
        k.pmin[o] = g.n_aisles
        load[o] = sizes[o]
        alive[o] = 1
        k.xlo[o] = g.depot_aisle
        k.xhi[o] = g.depot_aisle
        k.ylo[o] = ydep
        k.yhi[o] = ydep
        k.kofs[o] = k.start[o]
        k.kcnt[o] = k.start[o + 1] - k.start[o]
        for r in range(k.start[o], k.start[o + 1]):
            k.keys[r] = k.aisle[r] * g.cells_per_aisle + k.cell[r]
        _sort_keys(k.keys + k.start[o], k.kcnt[o])
        for r in range(k.start[o], k.start[o + 1]):
            if k.aisle[r] < k.xlo[o]:
                k.xlo[o] = k.aisle[r]
            if k.aisle[r] > k.xhi[o]:
                k.xhi[o] = k.aisle[r]
            if k.aisle[r] < k.pmin[o]:
                k.pmin[o] = k.aisle[r]
            y = g.cell_y[k.cell[r]]
            if y < k.ylo[o]:
                k.ylo[o] = y
            if y > k.yhi[o]:
                k.yhi[o] = y
        _clamp(k, o, g)
        length[o] = _route_order(k, o, g, t, w, &evaluations)
        k.own[o] = length[o]
    for i in range(n * n):
        k.sav[i] = -INFINITY
        k.exact[i] = 0
        k.adj[i] = 0 if granular else 1
    if granular:
        _neighbours(k, neighbours, g, dist, taken)
    for i in range(n):
        for j in range(i + 1, n):
            # A pair over the capacity stays over it (loads only grow): no bound needed (+inf is one).
            if load[i] + load[j] > capacity + EPS:
                k.ub[i * n + j] = INFINITY
                continue
            k.ub[i * n + j] = _bound(k, length, i, j, g)
            if k.adj[i * n + j]:
                evaluations += _open_pair(k, i, j, lazy, length, g, t, w)
        _row_best(k, i)
    while True:
        best = -INFINITY
        best_r = -1
        for r in range(n):
            if k.rb_val[r] > best:
                best = k.rb_val[r]
                best_r = r
        if best_r < 0 or (k.exact[best_r * n + k.rb_col[best_r]] and best < -EPS):
            if not granular:
                break
            # Granular phase over: the few batches left may merge with any other (fills the carts).
            granular = False
            for i in range(n):
                for j in range(i + 1, n):
                    if (alive[i] and alive[j] and not k.adj[i * n + j]
                            and load[i] + load[j] <= capacity + EPS):
                        k.adj[i * n + j] = 1
                        k.adj[j * n + i] = 1
                        evaluations += _open_pair(k, i, j, lazy, length, g, t, w)
                _row_best(k, i)
            continue
        i = best_r
        j = k.rb_col[i]
        if not k.exact[i * n + j]:
            _evaluate(k, i, j, length, g, t, w)
            evaluations += 1
            _row_best(k, i)
            continue
        s = k.sav[i * n + j]
        # Merge j into i; j's row and column die.
        if k.pool != NULL:
            _adopt(k, i, j)
        if k.pmin[j] < k.pmin[i]:
            k.pmin[i] = k.pmin[j]
        _join_keys(k, i, j, alive)
        k.nxt[k.tail[i]] = j
        k.tail[i] = k.tail[j]
        alive[j] = 0
        load[i] += load[j]
        li_old = length[i]
        lj = length[j]
        length[i] = length[i] + length[j] - s
        k.own[i] = k.tour[i * n + j]
        if k.xlo[j] < k.xlo[i]:
            k.xlo[i] = k.xlo[j]
        if k.xhi[j] > k.xhi[i]:
            k.xhi[i] = k.xhi[j]
        if k.ylo[j] < k.ylo[i]:
            k.ylo[i] = k.ylo[j]
        if k.yhi[j] > k.yhi[i]:
            k.yhi[i] = k.yhi[j]
        _clamp(k, i, g)
        for c in range(n):
            if k.adj[j * n + c]:
                k.adj[i * n + c] = 1
                k.adj[c * n + i] = 1
            k.adj[j * n + c] = 0
            k.adj[c * n + j] = 0
        k.adj[i * n + i] = 0
        for c in range(n):
            jc = (c * n + j) if c < j else (j * n + c)
            ic = (c * n + i) if c < i else (i * n + c)
            k.sav[jc] = -INFINITY
            k.sav[ic] = -INFINITY
            k.exact[ic] = 0
            if c == i or not alive[c]:
                continue
            if load[i] + load[c] > capacity + EPS:
                k.ub[ic] = INFINITY  # over the capacity for good
                continue
            # L(i u c) >= L(i_old u c) and >= L(j u c): the new saving is at most an old one
            # (or its bound) plus what the merge added to the batch's length.
            u = _bound(k, length, i, c, g)
            v = (length[i] - li_old) + k.ub[ic] + k.slack * 1e-2 * (1.0 + length[i] + length[c])
            if v < u:
                u = v
            v = (length[i] - lj) + k.ub[jc] + k.slack * 1e-2 * (1.0 + length[i] + length[c])
            if v < u:
                u = v
            k.ub[ic] = u
            if not k.adj[i * n + c]:
                continue
            if lazy:
                k.sav[ic] = u
            elif c < i:
                _evaluate(k, c, i, length, g, t, w)
                evaluations += 1
            else:
                _evaluate(k, i, c, length, g, t, w)
                evaluations += 1
        # Row bests: rows above j saw their (r, i) and (r, j) entries change.
        k.rb_val[j] = -INFINITY
        k.rb_col[j] = -1
        for r in range(j):
            if r == i:
                continue
            if k.rb_col[r] == i or k.rb_col[r] == j:
                _row_best(k, r)
            elif r < i and (k.sav[r * n + i] > k.rb_val[r]
                            or (k.sav[r * n + i] == k.rb_val[r] and k.rb_val[r] > -INFINITY and i < k.rb_col[r])):
                k.rb_val[r] = k.sav[r * n + i]
                k.rb_col[r] = i
        _row_best(k, i)
    # Final batches: labels and their routed tour lengths (the DP's result does not depend on the
    # order of the picks nor on where it resumed, so these are the lengths of routing them afresh).
    for i in range(n):
        if not alive[i]:
            continue
        o = i
        while o >= 0:
            label[o] = i
            if o != i:
                length[o] = 0.0
            o = k.nxt[o]
        length[i] = k.own[i]
    return evaluations


def neighbour_graph(const int64_t[::1] aisle,       # IN  (N,) aisle of every pick; order o = start[o]:start[o+1]
                    const int64_t[::1] cell,        # IN  (N,) cell of every pick
                    const int64_t[::1] start,       # IN  (n + 1,) CSR offsets of the orders' picks
                    Py_ssize_t neighbours,          # IN  nearest orders joined to each order (>= 1)
                    Py_ssize_t blocks,              # IN  blocks in the layout
                    const double[::1] cell_y,       # IN  (cells_per_aisle,) cell positions along an aisle
                    const double[::1] cross_y,      # IN  (blocks + 1,) cross-aisle positions
                    double pitch,                   # IN  aisle pitch
                    unsigned char[:, ::1] adj):     # OUT (n, n) 1 where two orders are joined (symmetric), else 0
    """Granular neighbour lists of :func:`savings_batches` (every order to its nearest ``neighbours``)."""
    cdef Geometry g
    cdef Work k
    cdef Py_ssize_t n = start.shape[0] - 1, N = aisle.shape[0], i
    cdef double* dist = NULL
    cdef char* taken = NULL
    cdef int64_t* null_i64 = NULL
    if n == 0:
        return
    g.blocks = blocks
    g.cell_y = &cell_y[0]
    g.cross_y = &cross_y[0]
    g.pitch = pitch
    k.n = n
    k.aisle = &aisle[0] if N else null_i64
    k.cell = &cell[0] if N else null_i64
    k.start = &start[0]
    with nogil:
        dist = <double*>malloc(n * n * sizeof(double))
        taken = <char*>malloc(n * sizeof(char))
        k.adj = <char*>malloc(n * n * sizeof(char))
        if dist != NULL and taken != NULL and k.adj != NULL:
            for i in range(n * n):
                k.adj[i] = 0
            _neighbours(&k, neighbours, &g, dist, taken)
            for i in range(n * n):
                adj[i // n, i % n] = k.adj[i]
    ok = dist != NULL and taken != NULL and k.adj != NULL
    free(dist)
    free(taken)
    free(k.adj)
    if not ok:
        raise MemoryError()
