# cython: language_level=3
"""Batched tour lengths of the routing heuristics for CSR-packed pick lists.

Implements exactly the visiting rules of :mod:`omsim.warehouse.heuristics`
(the slow reference the tests compare against): per pick list, give every pick
a segment rank and a direction, order the picks by (rank, signed position,
index) and add the shortest aisle-graph distances stop by stop, depot to
depot. Positions ``yy`` and blocks ``blk`` are counted from the depot's cross
aisle (the Python layer mirrors them for a depot at the back); distances use
the real positions ``y``.

Method codes: 0 s-shape, 1 return, 2 midpoint, 3 largest gap, 4 combined,
5 combined+ (best of four combined variants).
"""
from libc.math cimport fabs, INFINITY
from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t

cdef enum:
    S_SHAPE = 0
    RETURN = 1
    MIDPOINT = 2
    LARGEST_GAP = 3
    COMBINED = 4
    COMBINED_PLUS = 5


cdef struct Work:
    int64_t* srt      # picks sorted by (block, aisle, yy, index)
    int64_t* rank     # segment rank of each pick (-1: not yet planned)
    double* sgn       # +1 ascending from the depot side, -1 descending
    int64_t* ss       # sub-aisle runs of one block: start in srt
    int64_t* se       #   end in srt
    int64_t* sa       #   aisle
    int64_t* cut      #   front-part size (midpoint, largest gap)
    int64_t* came     #   combined DP back-pointers (2 per run)
    int64_t* entry    #   combined: side each run is entered from
    int64_t* tmp      # a visiting order under evaluation


cdef inline bint _before_block(const int64_t* blk, const int64_t* aisle, const double* yy,
                               int64_t i, int64_t j) noexcept nogil:
    if blk[i] != blk[j]:
        return blk[i] < blk[j]
    if aisle[i] != aisle[j]:
        return aisle[i] < aisle[j]
    if yy[i] != yy[j]:
        return yy[i] < yy[j]
    return i < j


cdef inline bint _before_visit(const int64_t* rank, const double* sgn, const double* yy,
                               int64_t i, int64_t j) noexcept nogil:
    cdef double ki, kj
    if rank[i] != rank[j]:
        return rank[i] < rank[j]
    ki = sgn[i] * yy[i]
    kj = sgn[j] * yy[j]
    if ki != kj:
        return ki < kj
    return i < j


cdef inline double _dist(int64_t a1, double y1, int64_t a2, double y2, double pitch,
                         const double* cross_y, int64_t n_cross) noexcept nogil:
    """Aisle-graph distance between two points on aisle centre lines."""
    cdef double via = INFINITY, v
    cdef int64_t c
    if a1 == a2:
        return fabs(y1 - y2)
    for c in range(n_cross):
        v = fabs(y1 - cross_y[c]) + fabs(y2 - cross_y[c])
        if v < via:
            via = v
    return fabs(<double>a1 * pitch - <double>a2 * pitch) + via


cdef double _tour(const int64_t* aisle, const double* y, const int64_t* seq, int64_t n,
                  double pitch, const double* cross_y, int64_t n_cross, int64_t depot_aisle,
                  double depot_y, double depot_offset) noexcept nogil:
    """Depot -> seq -> depot, summed stop by stop."""
    cdef double total = 0.0
    cdef int64_t k
    if n == 0:
        return 0.0
    total += _dist(depot_aisle, depot_y, aisle[seq[0]], y[seq[0]], pitch, cross_y, n_cross) + depot_offset
    for k in range(1, n):
        total += _dist(aisle[seq[k - 1]], y[seq[k - 1]], aisle[seq[k]], y[seq[k]], pitch, cross_y, n_cross)
    total += _dist(aisle[seq[n - 1]], y[seq[n - 1]], depot_aisle, depot_y, pitch, cross_y, n_cross) + depot_offset
    return total


cdef int64_t _split(Work* w, const double* yy, int64_t s, int64_t e, double lo, double hi,
                    int method) noexcept nogil:
    """Size of the front part of the run srt[s:e] (sorted by position)."""
    cdef int64_t j, best = 0, cnt = 0
    cdef double mid, g, best_gap
    if method == MIDPOINT:
        mid = 0.5 * (lo + hi)
        for j in range(s, e):
            if yy[w.srt[j]] <= mid:
                cnt += 1
        return cnt
    best_gap = yy[w.srt[s]] - lo
    for j in range(s + 1, e):
        g = yy[w.srt[j]] - yy[w.srt[j - 1]]
        if g > best_gap:
            best_gap = g
            best = j - s
    if hi - yy[w.srt[e - 1]] > best_gap:
        best = e - s
    return best


cdef inline void _assign(Work* w, int64_t s, int64_t e, double sg, int64_t* r,
                         int64_t* last_aisle, const int64_t* aisle) noexcept nogil:
    """Give picks srt[s:e] the next rank; empty parts take none."""
    cdef int64_t j
    if e <= s:
        return
    for j in range(s, e):
        w.rank[w.srt[j]] = r[0]
        w.sgn[w.srt[j]] = sg
    r[0] += 1
    last_aisle[0] = aisle[w.srt[s]]


cdef void _plan(Work* w, const int64_t* aisle, const double* yy, const int64_t* blk,
                int64_t n, const double* cy, int64_t depot_aisle, int method,
                bint start_far, bint climb) noexcept nogil:
    """Fill w.tmp with the visiting order (local indices) of one heuristic variant."""
    cdef int64_t i, j, k, b, m, amin, amax, far, start, cur, r = 0, last_aisle = -1
    cdef int64_t bs, be, e, jj, side
    cdef bint near_left, from_front
    cdef double lo, hi, h, sg, stay, cross, d0, d1, n0, n1, ret0, ret1
    amin = aisle[0]
    amax = aisle[0]
    far = blk[0]
    for i in range(n):
        w.rank[i] = -1
        w.sgn[i] = 1.0
        if aisle[i] < amin:
            amin = aisle[i]
        if aisle[i] > amax:
            amax = aisle[i]
        if blk[i] > far:
            far = blk[i]
    near_left = (depot_aisle - amin) <= (amax - depot_aisle)
    start = amin if near_left != start_far else amax
    if method == RETURN:
        climb = False
    if climb:
        # srt is block-major, so the start aisle's picks below the farthest block
        # all get one rank; their order comes from the positions.
        k = 0
        for j in range(n):
            i = w.srt[j]
            if aisle[i] == start and blk[i] < far:
                w.rank[i] = r
                w.sgn[i] = 1.0
                k += 1
        if k:
            r += 1
            last_aisle = start
    cur = start
    be = n
    b = far
    while b >= 0:
        # Block b occupies srt[bs:be] (blocks are ascending in srt).
        be = 0
        while be < n and blk[w.srt[be]] <= b:
            be += 1
        bs = be
        while bs > 0 and blk[w.srt[bs - 1]] == b:
            bs -= 1
        m = 0
        j = bs
        while j < be:
            e = j + 1
            while e < be and aisle[w.srt[e]] == aisle[w.srt[j]]:
                e += 1
            if w.rank[w.srt[j]] < 0:
                w.ss[m] = j
                w.se[m] = e
                w.sa[m] = aisle[w.srt[j]]
                m += 1
            j = e
        if m == 0:
            b -= 1
            continue
        if (cur - w.sa[0] if cur >= w.sa[0] else w.sa[0] - cur) > \
                (cur - w.sa[m - 1] if cur >= w.sa[m - 1] else w.sa[m - 1] - cur):
            for j in range(m // 2):
                k = m - 1 - j
                w.ss[j], w.ss[k] = w.ss[k], w.ss[j]
                w.se[j], w.se[k] = w.se[k], w.se[j]
                w.sa[j], w.sa[k] = w.sa[k], w.sa[j]
        lo = cy[b]
        hi = cy[b + 1]
        from_front = b == far
        if method == S_SHAPE:
            sg = 1.0 if from_front else -1.0
            for j in range(m):
                _assign(w, w.ss[j], w.se[j], sg, &r, &last_aisle, aisle)
                sg = -sg
        elif method == RETURN:
            for j in range(m):
                _assign(w, w.ss[j], w.se[j], 1.0, &r, &last_aisle, aisle)
        elif method == MIDPOINT or method == LARGEST_GAP:
            k = 0  # first run of the "entered from the back" part
            if from_front:
                _assign(w, w.ss[0], w.se[0], 1.0, &r, &last_aisle, aisle)
                k = 1
            if k < m:
                for j in range(k, m - 1):
                    w.cut[j] = _split(w, yy, w.ss[j], w.se[j], lo, hi, method)
                    _assign(w, w.ss[j] + w.cut[j], w.se[j], -1.0, &r, &last_aisle, aisle)
                _assign(w, w.ss[m - 1], w.se[m - 1], -1.0, &r, &last_aisle, aisle)
                j = m - 2
                while j >= k:
                    _assign(w, w.ss[j], w.ss[j] + w.cut[j], 1.0, &r, &last_aisle, aisle)
                    j -= 1
        else:  # combined: sides 0 front, 1 back
            h = hi - lo
            if from_front:
                d0 = 0.0
                d1 = INFINITY
            else:
                d0 = INFINITY
                d1 = 0.0
            for j in range(m):
                ret0 = 2.0 * (yy[w.srt[w.se[j] - 1]] - lo)
                ret1 = 2.0 * (hi - yy[w.srt[w.ss[j]]])
                stay = d0 + ret0
                cross = d1 + h
                if stay <= cross:
                    n0 = stay
                    w.came[2 * j] = 0
                else:
                    n0 = cross
                    w.came[2 * j] = 1
                stay = d1 + ret1
                cross = d0 + h
                if stay <= cross:
                    n1 = stay
                    w.came[2 * j + 1] = 1
                else:
                    n1 = cross
                    w.came[2 * j + 1] = 0
                d0 = n0
                d1 = n1
            side = 0 if d0 <= d1 + h else 1
            j = m - 1
            while j >= 0:
                w.entry[j] = w.came[2 * j + side]
                side = w.entry[j]
                j -= 1
            for j in range(m):
                _assign(w, w.ss[j], w.se[j], 1.0 if w.entry[j] == 0 else -1.0, &r, &last_aisle, aisle)
        cur = last_aisle
        b -= 1
    # Insertion sort: pick lists are short.
    for i in range(n):
        w.tmp[i] = i
        jj = i
        while jj > 0 and _before_visit(w.rank, w.sgn, yy, i, w.tmp[jj - 1]):
            w.tmp[jj] = w.tmp[jj - 1]
            jj -= 1
        w.tmp[jj] = i


def heuristic_lengths(const int64_t[::1] aisle,     # IN  (N,) aisle of every pick, lists concatenated
                      const double[::1] y,          # IN  (N,) position along the aisle (metres)
                      const double[::1] yy,         # IN  (N,) position counted from the depot's cross aisle
                      const int64_t[::1] blk,       # IN  (N,) block counted from the depot (0 nearest)
                      const int64_t[::1] offsets,   # IN  (R + 1,) CSR offsets: list r is [offsets[r], offsets[r+1])
                      const double[::1] cross_y,    # IN  (B + 1,) cross-aisle positions (metres)
                      const double[::1] cy,         # IN  (B + 1,) cross-aisle positions counted from the depot side
                      double pitch,                 # IN  aisle centre-to-centre distance
                      int64_t depot_aisle,          # IN  aisle the depot is attached to
                      double depot_y,               # IN  position where the depot joins its cross aisle
                      double depot_offset,          # IN  depot to cross aisle, added at both ends
                      int method,                   # IN  heuristic code (see module docstring)
                      double[::1] out,              # OUT (R,) tour lengths
                      int64_t[::1] order):          # OUT (N,) visiting order, local indices per list
    """Fill ``out[r]`` with the heuristic tour length of pick list ``r`` and ``order`` with its sequence."""
    cdef Py_ssize_t n_lists = offsets.shape[0] - 1
    cdef int64_t r, o, n, i, j, jj, k, nmax = 0, n_cross = cross_y.shape[0]
    cdef int variant, n_variants
    cdef double best, length
    cdef Work w
    if method < 0 or method > 5:
        raise ValueError(f"unknown heuristic code {method}")
    for r in range(n_lists):
        if offsets[r + 1] - offsets[r] > nmax:
            nmax = offsets[r + 1] - offsets[r]
    nmax += 1
    w.srt = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.rank = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.sgn = <double*> malloc(nmax * sizeof(double))
    w.ss = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.se = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.sa = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.cut = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.came = <int64_t*> malloc(2 * nmax * sizeof(int64_t))
    w.entry = <int64_t*> malloc(nmax * sizeof(int64_t))
    w.tmp = <int64_t*> malloc(nmax * sizeof(int64_t))
    try:
        if (w.srt == NULL or w.rank == NULL or w.sgn == NULL or w.ss == NULL or w.se == NULL
                or w.sa == NULL or w.cut == NULL or w.came == NULL or w.entry == NULL or w.tmp == NULL):
            raise MemoryError()
        n_variants = 4 if method == COMBINED_PLUS else 1
        with nogil:
            for r in range(n_lists):
                o = offsets[r]
                n = offsets[r + 1] - o
                if n == 0:
                    out[r] = 0.0
                    continue
                for i in range(n):
                    jj = i
                    while jj > 0 and _before_block(&blk[o], &aisle[o], &yy[o], i, w.srt[jj - 1]):
                        w.srt[jj] = w.srt[jj - 1]
                        jj -= 1
                    w.srt[jj] = i
                best = INFINITY
                for variant in range(n_variants):
                    if method == COMBINED_PLUS:
                        # Same order as the reference: climb first, near end first.
                        _plan(&w, &aisle[o], &yy[o], &blk[o], n, &cy[0], depot_aisle, COMBINED,
                              variant % 2 == 1, variant < 2)
                    else:
                        _plan(&w, &aisle[o], &yy[o], &blk[o], n, &cy[0], depot_aisle, method, False, True)
                    length = _tour(&aisle[o], &y[o], w.tmp, n, pitch, &cross_y[0], n_cross,
                                   depot_aisle, depot_y, depot_offset)
                    if length < best:
                        best = length
                        for k in range(n):
                            order[o + k] = w.tmp[k]
                out[r] = best
    finally:
        free(w.srt)
        free(w.rank)
        free(w.sgn)
        free(w.ss)
        free(w.se)
        free(w.sa)
        free(w.cut)
        free(w.came)
        free(w.entry)
        free(w.tmp)
