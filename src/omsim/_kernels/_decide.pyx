"""Decide and commit a run of orders in turn, in C (policy ``cheapest``, no explanations).

The reference is the Python path of :class:`omsim.engine.DecisionEngine`:
``_prepare`` (stock available to promise, rate shopping with full carrier
service-days, ``_ready_h``), ``_prepare_rest`` (nodes closed by service or
capacity, cost arrays), ``_cheapest`` (the exact kernel of :mod:`._alloc`,
compiled in here unchanged), ``_decision``/``_shipments`` (packages, costs,
promise) and ``commit`` (reservations, node counters, carrier bookings, full
service-days). Every floating-point expression is evaluated in the order the
reference evaluates it, so the decisions are the same bit for bit.

Entry point: :class:`Kernel` holds the engine's arrays between calls (bound
once, rebound only when the engine replaced one) and runs :func:`_core` over
the bound run of orders, committing or (a dry run) only deciding.

The kernel stops (and says why in its return code) where the reference needs
something it does not hold: a new day (node counters of another day), a
node's cached shift windows not valid at the order's time, or anything it
does not cover (a week without working hours, a pickup day outside the
carrier window, the split-penalty re-solve of an order that would ship
nothing, a decision that does not fit at commit). Work that runs past the
cached windows walks the shift calendar as ``promise.ready_time_h`` does. The caller then does that
step in Python and calls again from the order it stopped at; nothing of the
stopped order has been changed.

Pickups are every day (the caller checks); the pickup of service ``k`` at
node ``n`` is ``pickup[n, k]`` hours after midnight.
"""
include "_alloc.pyx"

from libc.math cimport floor, ceil, fmod, copysign, INFINITY, NAN, isfinite
from libc.stdint cimport int8_t, uint8_t
from libc.string cimport memcpy
from cpython.ref cimport Py_INCREF, PyTypeObject
cimport numpy as cnp
import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_NewFromDescr(PyTypeObject* subtype, cnp.dtype descr, int nd, cnp.npy_intp* dims,
                                cnp.npy_intp* strides, void* data, int flags, object obj)

cdef PyTypeObject* _NDARRAY = <PyTypeObject*> np.ndarray


cdef inline object _view(cnp.ndarray a, Py_ssize_t lo, Py_ssize_t hi):
    """``a[lo:hi]`` of a 1-d contiguous array (0 <= lo <= hi <= len(a), checked by the caller), made
    directly: the view numpy's slicing makes, without its index parsing."""
    cdef cnp.npy_intp dim = hi - lo
    cdef cnp.npy_intp* st = cnp.PyArray_STRIDES(a)
    cdef cnp.dtype d = a.descr
    Py_INCREF(d)                       # PyArray_NewFromDescr steals it
    v = PyArray_NewFromDescr(_NDARRAY, d, 1, &dim, st, cnp.PyArray_BYTES(a) + lo * st[0], cnp.NPY_ARRAY_CARRAY,
                             None)
    cnp.set_array_base(v, a)
    return v


cdef inline object _rebased(const int64_t[::1] src, Py_ssize_t lo, Py_ssize_t hi, int64_t base):
    """A new int64 array ``src[lo:hi] - base``."""
    cdef cnp.npy_intp dim = hi - lo
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, &dim, cnp.NPY_INT64, 0)
    cdef int64_t* o = <int64_t*> cnp.PyArray_DATA(out)
    cdef Py_ssize_t j
    for j in range(dim):
        o[j] = src[lo + j] - base
    return out

# The codes of _decide.pxd as Python ints (the engine reads them from here).
DONE, STOP_PARTIAL, NEW_DAY, STALE_WINDOWS, FALLBACK, PROBE = _DONE, _STOP_PARTIAL, _NEW_DAY, _STALE_WINDOWS, \
    _FALLBACK, _PROBE
CTL_NEXT, CTL_END, CTL_P, CTL_PL, CTL_DAY, CTL_DAY_USED = _CTL_NEXT, _CTL_END, _CTL_P, _CTL_PL, _CTL_DAY, _CTL_DAY_USED
CTL_DAY0, CTL_WHY, CTL_OROW, CTL_LROW, CTL_LOGGED, CTL_DRY = _CTL_DAY0, _CTL_WHY, _CTL_OROW, _CTL_LROW, _CTL_LOGGED, \
    _CTL_DRY
CTL_SIZE = _CTL_SIZE
WHY_NO_HOURS, WHY_PICKUP_WINDOW, WHY_SPLIT_RESOLVE, WHY_COMMIT_REFUSED = _WHY_NO_HOURS, _WHY_PICKUP_WINDOW, \
    _WHY_SPLIT_RESOLVE, _WHY_COMMIT_REFUSED
MAX_PICKUP_DAYS = _MAX_PICKUP_DAYS
UNFILLED_NONE, UNFILLED_NO_STOCK, UNFILLED_CANNOT_SHIP, UNFILLED_SHORT = _UNFILLED_NONE, _UNFILLED_NO_STOCK, \
    _UNFILLED_CANNOT_SHIP, _UNFILLED_SHORT
UNFILLED_PACKAGE_LIMIT, UNFILLED_COST, UNFILLED_HELD_BACK, UNFILLED_BATCH_WINDOW = _UNFILLED_PACKAGE_LIMIT, \
    _UNFILLED_COST, _UNFILLED_HELD_BACK, _UNFILLED_BATCH_WINDOW
ST_ALLOCATED, ST_PARTIAL = _ST_ALLOCATED, _ST_PARTIAL
# rem_status codes besides a DECISION_STATUSES code (the probe ships nothing: its no-stock status)
REM_NONE, REM_SHIPS = -1, -2

cdef double _EPS = 1e-9           # promise._EPS
cdef double _DELAY_RANK = 1e12    # engine._DELAY_RANK
EPS, DELAY_RANK = _EPS, _DELAY_RANK


cdef inline double _floordiv(double a, double b) noexcept nogil:
    """Python's (and numpy's) float ``a // b``: fmod-based, not floor(a / b)."""
    cdef double mod = fmod(a, b)
    cdef double div = (a - mod) / b
    cdef double fl
    if mod != 0.0:
        if (b < 0) != (mod < 0):
            div -= 1.0
    if div != 0.0:
        fl = floor(div)
        if div - fl > 0.5:
            fl += 1.0
        return fl
    return copysign(0.0, a / b)


cdef inline double _next_cutoff(double t, double cutoff) noexcept nogil:
    """promise.next_cutoff_h for a service that picks up every day."""
    cdef double day = floor(t / 24.0)
    if day * 24.0 + cutoff < t - _EPS:
        day += 1.0
    return day * 24.0 + cutoff


cdef inline int _ready(double t, double units, int64_t back, double labour, const int64_t* wptr,
                       const double* ws, const double* we, Py_ssize_t n, double* out) noexcept nogil:
    """DecisionEngine._ready_h for one node over its cached windows; 1 when the work runs past them."""
    cdef double need = (<double> back + units) / labour
    cdef Py_ssize_t lo = wptr[n], cnt = wptr[n + 1] - wptr[n]
    cdef Py_ssize_t a = 0, b = cnt, mid, i
    cdef double at, span
    while a < b:                       # bisect_right(starts, t)
        mid = (a + b) // 2
        if t < ws[lo + mid]:
            b = mid
        else:
            a = mid + 1
    i = a - 1
    if need <= 0.0:
        out[0] = t
        return 0
    if i < 0 or t >= we[lo + i]:
        i += 1
        at = ws[lo + i] if i < cnt else INFINITY
    else:
        at = t
    while i < cnt:
        span = we[lo + i] - at
        if need <= span:
            out[0] = at + need
            return 0
        need -= span
        i += 1
        if i < cnt:
            at = ws[lo + i]
    return 1


cdef Py_ssize_t _shift_windows(const double* sa, const double* sb, const int64_t* sd, Py_ssize_t ns,
                               double t0, double t1, int64_t wd0, double* lo, double* hi) noexcept nogil:
    """promise.shift_windows: merged working intervals overlapping [t0, t1), clipped; returns their count.

    ``sa``, ``sb``, ``sd``: the node's normalised shifts (start, end, weekday bit mask). The
    buffers hold 16 x ns intervals (at most 12 days x ns for a week-long span).
    """
    cdef Py_ssize_t m = 0, j, q
    cdef double d, d1 = floor(t1 / 24.0) + 1.0, a, b, x, y
    cdef int64_t wd
    d = floor(t0 / 24.0) - 2.0
    while d < d1:
        wd = (wd0 + <int64_t> d) % 7
        if wd < 0:
            wd += 7
        for j in range(ns):
            if (sd[j] >> wd) & 1:
                a = d * 24.0 + sa[j]
                if t0 > a:
                    a = t0
                b = d * 24.0 + sb[j]
                if t1 < b:
                    b = t1
                if b > a:
                    # insertion in (start, end) order, as sorted() orders the tuples
                    q = m
                    while q > 0 and (lo[q - 1] > a or (lo[q - 1] == a and hi[q - 1] > b)):
                        lo[q] = lo[q - 1]
                        hi[q] = hi[q - 1]
                        q -= 1
                    lo[q] = a
                    hi[q] = b
                    m += 1
        d += 1.0
    # merge_intervals: touching ones merge
    q = 0
    for j in range(m):
        x = lo[j]
        y = hi[j]
        if q > 0 and x <= hi[q - 1]:
            if y > hi[q - 1]:
                hi[q - 1] = y
        else:
            lo[q] = x
            hi[q] = y
            q += 1
    return q


cdef int _ready_calendar(double t_h, double units, int64_t back, double labour, const double* sa,
                         const double* sb, const int64_t* sd, Py_ssize_t ns, int64_t wd0, double* lo, double* hi,
                         double* out) noexcept nogil:
    """promise.ready_time_h (its week skipping and calendar walk); 1 when the shifts have no working hours."""
    cdef double need = (<double> back + units) / labour
    cdef double t = t_h, week = 0.0, k
    cdef Py_ssize_t m, j
    if need <= 0.0:
        out[0] = t_h
        return 0
    m = _shift_windows(sa, sb, sd, ns, t, t + 168.0, wd0, lo, hi)
    for j in range(m):
        week += hi[j] - lo[j]
    if week <= 0.0:
        return 1
    k = floor(need / week) - 1.0
    if k > 0:
        t += 168.0 * k
        need -= week * k
    while True:
        m = _shift_windows(sa, sb, sd, ns, t, t + 168.0, wd0, lo, hi)
        for j in range(m):
            if need <= hi[j] - lo[j]:
                out[0] = lo[j] + need
                return 0
            need -= hi[j] - lo[j]
        t += 168.0


cdef inline int _rate_shop(double t, double U, double W, Py_ssize_t r_, Py_ssize_t e0, Py_ssize_t e1,
                           int64_t day0, int64_t wd0, bint any_per_unit, int64_t[::1] backlog,
                           const double[::1] labour, const int64_t[::1] win_ptr, const double[::1] win_start,
                           const double[::1] win_end, const int64_t[::1] sh_ptr, const double[::1] sh_start,
                           const double[::1] sh_end, const int64_t[::1] sh_days, const int64_t[::1] elig,
                           const double[:, :, ::1] fixed, const double[:, :, ::1] dist, const double[::1] per_kg,
                           const double[::1] per_unit, const double[:, ::1] pickup, uint8_t[:, ::1] full,
                           double* cal_lo, double* cal_hi, int64_t* svc, double* sb, char* closed) noexcept nogil:
    """Rate shop one service per node for an order at time t of W kg and U units in region r_ whose level
    allows services elig[e0:e1]: its ready time, pickups and full service-days (``_prepare``). Writes svc,
    sb (ship by) and closed per node; returns 0, or why the Python path must do it (_WHY_*)."""
    cdef Py_ssize_t N = fixed.shape[0], D = full.shape[0], n, j, k, best_j
    cdef double rd, fl, c, first, sb_, sb0, key, best_key, best_sb
    cdef int64_t d
    cdef int tries
    for n in range(N):
        if _ready(t, U, backlog[n], labour[n], &win_ptr[0], &win_start[0], &win_end[0], n, &rd) \
                and _ready_calendar(t, U, backlog[n], labour[n], &sh_start[sh_ptr[n]], &sh_end[sh_ptr[n]],
                                    &sh_days[sh_ptr[n]], sh_ptr[n + 1] - sh_ptr[n], wd0, cal_lo, cal_hi,
                                    &rd):
            # past the cached windows the calendar is walked as promise.ready_time_h walks it
            return _WHY_NO_HOURS
        fl = _floordiv(rd, 24.0) * 24.0
        best_j = e0
        best_key = 0.0
        best_sb = 0.0
        for j in range(e0, e1):
            k = elig[j]
            c = (fixed[n, r_, k] + dist[n, r_, k]) + per_kg[k] * W
            if any_per_unit:
                c = c + per_unit[k] * U
            first = fl + pickup[n, k]
            sb_ = first + 24.0 if first < rd - 1e-9 else first
            sb0 = sb_
            tries = 0
            while True:
                d = <int64_t> _floordiv(sb_, 24.0) - day0
                if d < 0 or d >= D:
                    return _WHY_PICKUP_WINDOW
                if not full[d, k]:
                    break
                tries += 1
                if tries > _MAX_PICKUP_DAYS:
                    sb_ = INFINITY
                    break
                sb_ = _next_cutoff(sb_ + 1.0, pickup[n, k])
            key = c
            if not isfinite(sb_):
                key = INFINITY
            elif sb_ > sb0:
                key = key + _DELAY_RANK
            if j == e0 or key < best_key:
                best_key = key
                best_j = j
                best_sb = sb_
        svc[n] = elig[best_j]
        sb[n] = best_sb
        closed[n] = not isfinite(best_key)
    return 0


cdef inline void _prepare_rest(Py_ssize_t L, const int64_t* sk, const int64_t* qt, Py_ssize_t r_,
                               const Params* prm, const int64_t[::1] cap_orders, const int64_t[::1] cap_units,
                               int64_t[::1] orders_taken, int64_t[::1] units_taken, const double[:, :, ::1] fixed,
                               const double[:, :, ::1] dist, const double[::1] pkg_extra, const double[::1] sku_kg,
                               const double[::1] per_kg, const double[::1] per_unit, const double[::1] handling_line,
                               char* closed, int64_t* svc, int64_t* avail, double* pfix, double* pdis, double* pcost,
                               double* ucost, double* lost) noexcept nogil:
    """``_prepare_rest`` of an order of L lines (SKUs sk, units qt): nodes closed by service or capacity see
    no stock (avail), the units capacity caps avail, and the package (pcost) and unit (ucost) costs."""
    cdef Py_ssize_t N = fixed.shape[0], n, l, k
    cdef bint node_capped = prm.node_capped, unit_capped = prm.unit_capped, any_per_unit = prm.any_per_unit
    cdef double c, lost_pen = prm.lost_sale_penalty
    cdef int64_t ul, a, room, take
    for n in range(N):
        if closed[n]:
            svc[n] = -1
        if node_capped and (cap_orders[n] - orders_taken[n] <= 0 or cap_units[n] - units_taken[n] <= 0):
            closed[n] = True
        if closed[n]:
            for l in range(L):
                avail[l * N + n] = 0
    if unit_capped:
        for n in range(N):
            ul = cap_units[n] - units_taken[n]
            a = 0
            for l in range(L):
                a += avail[l * N + n] if avail[l * N + n] < qt[l] else qt[l]
            if ul < a:
                room = ul
                for l in range(L):
                    take = avail[l * N + n]
                    if qt[l] < take:
                        take = qt[l]
                    if room < take:
                        take = room
                    avail[l * N + n] = take
                    room -= take
    for n in range(N):
        k = svc[n] if svc[n] > 0 else 0
        if closed[n]:
            pfix[n] = 0.0
            pdis[n] = 0.0
        else:
            pfix[n] = fixed[n, r_, k]
            pdis[n] = dist[n, r_, k]
        pcost[n] = (pfix[n] + pdis[n]) + pkg_extra[n]
        for l in range(L):
            c = sku_kg[sk[l]] * per_kg[k] + (1.0 / <double> qt[l]) * handling_line[n]
            if any_per_unit:
                c = c + per_unit[k]
            ucost[l * N + n] = c
    for l in range(L):
        lost[l] = lost_pen


cdef struct Scratch:
    # per-run buffers of _core: L lines x N nodes, N nodes, the shift calendar, the remainder probe
    int64_t* avail
    int64_t* x
    double* ucost
    double* lost
    double* pcost
    double* pfix
    double* pdis
    double* sb
    int64_t* svc
    char* closed
    int64_t* nd_day
    int64_t* nd_k
    int64_t* nd_c
    int64_t* p_units
    double* cal_lo
    double* cal_hi
    int64_t* pr_sku
    int64_t* pr_qty
    int64_t* pr_line     # the order's line of each remainder line


cdef int _scratch_alloc(Scratch* z, Py_ssize_t maxL, Py_ssize_t N, Py_ssize_t max_ns) noexcept nogil:
    """Allocate the buffers for orders of up to maxL lines; -1 when one allocation failed (free them anyway)."""
    z.avail = <int64_t*> malloc(maxL * N * sizeof(int64_t))
    z.x = <int64_t*> malloc(maxL * N * sizeof(int64_t))
    z.ucost = <double*> malloc(maxL * N * sizeof(double))
    z.lost = <double*> malloc(maxL * sizeof(double))
    z.pcost = <double*> malloc(N * sizeof(double))
    z.pfix = <double*> malloc(N * sizeof(double))
    z.pdis = <double*> malloc(N * sizeof(double))
    z.sb = <double*> malloc(N * sizeof(double))
    z.svc = <int64_t*> malloc(N * sizeof(int64_t))
    z.closed = <char*> malloc(N * sizeof(char))
    z.nd_day = <int64_t*> malloc(N * sizeof(int64_t))
    z.nd_k = <int64_t*> malloc(N * sizeof(int64_t))
    z.nd_c = <int64_t*> malloc(N * sizeof(int64_t))
    z.p_units = <int64_t*> malloc(N * sizeof(int64_t))
    z.cal_lo = <double*> malloc(16 * max_ns * sizeof(double))
    z.cal_hi = <double*> malloc(16 * max_ns * sizeof(double))
    z.pr_sku = <int64_t*> malloc(maxL * sizeof(int64_t))
    z.pr_qty = <int64_t*> malloc(maxL * sizeof(int64_t))
    z.pr_line = <int64_t*> malloc(maxL * sizeof(int64_t))
    if (z.avail == NULL or z.x == NULL or z.ucost == NULL or z.lost == NULL or z.pcost == NULL or z.pfix == NULL
            or z.pdis == NULL or z.sb == NULL or z.svc == NULL or z.closed == NULL or z.nd_day == NULL
            or z.nd_k == NULL or z.nd_c == NULL or z.p_units == NULL or z.cal_lo == NULL or z.cal_hi == NULL
            or z.pr_sku == NULL or z.pr_qty == NULL or z.pr_line == NULL):
        return -1
    return 0


cdef void _scratch_free(Scratch* z) noexcept nogil:
    free(z.avail)
    free(z.x)
    free(z.ucost)
    free(z.lost)
    free(z.pcost)
    free(z.pfix)
    free(z.pdis)
    free(z.sb)
    free(z.svc)
    free(z.closed)
    free(z.nd_day)
    free(z.nd_k)
    free(z.nd_c)
    free(z.p_units)
    free(z.cal_lo)
    free(z.cal_hi)
    free(z.pr_sku)
    free(z.pr_qty)
    free(z.pr_line)


cdef inline bint _commit_checks(Py_ssize_t L, const int64_t* sk, const int64_t* x, const double* sb,
                                const int64_t* svc, int64_t day0, bint node_capped, const int64_t[:, ::1] on_hand,
                                int64_t[:, ::1] reserved, const int64_t[:, ::1] safety,
                                const int64_t[::1] cap_orders, const int64_t[::1] cap_units,
                                int64_t[::1] orders_taken, int64_t[::1] units_taken, const double[::1] capacity,
                                int64_t[:, ::1] booked, int64_t* p_units, int64_t* nd_day, int64_t* nd_k,
                                int64_t* nd_c, Py_ssize_t* npk_out, Py_ssize_t* nd_out) noexcept nogil:
    """``commit``'s checks of allocation x (L lines x N nodes): True when it does not fit (stock, node
    capacity, the carrier window or capacity). Writes the units per shipping node (p_units), the packages
    (npk_out) and the nd_out (day, service) pairs booked with their package counts (nd_day, nd_k, nd_c)."""
    cdef Py_ssize_t N = on_hand.shape[0], D = booked.shape[0], n, l, q, npk = 0, nd = 0
    cdef int64_t units, u, s, d
    cdef bint bad = False
    for n in range(N):
        units = 0
        for l in range(L):
            u = x[l * N + n]
            if u > 0:
                units += u
                s = sk[l]
                if u > on_hand[n, s] - reserved[n, s] - safety[n, s]:
                    bad = True
        if units == 0:
            continue
        p_units[n] = units
        npk += 1
        if node_capped and (cap_orders[n] - orders_taken[n] < 1 or cap_units[n] - units_taken[n] < units):
            bad = True
        d = <int64_t> _floordiv(sb[n], 24.0)
        for q in range(nd):
            if nd_day[q] == d and nd_k[q] == svc[n]:
                nd_c[q] += 1
                break
        else:
            nd_day[nd] = d
            nd_k[nd] = svc[n]
            nd_c[nd] = 1
            nd += 1
    for q in range(nd):
        if nd_day[q] - day0 < 0 or nd_day[q] - day0 >= D:
            bad = True
        elif capacity[nd_k[q]] - <double> booked[nd_day[q] - day0, nd_k[q]] < nd_c[q]:
            bad = True
    npk_out[0] = npk
    nd_out[0] = nd
    return bad


cdef inline void _book_carriers(Py_ssize_t nd, const int64_t* nd_day, const int64_t* nd_k, const int64_t* nd_c,
                                int64_t day0, int64_t max_packages, const double[::1] capacity,
                                int64_t[:, ::1] booked, uint8_t[:, ::1] full, uint8_t[:, ::1] tmark,
                                int64_t[::1] tlog, int64_t[::1] ctl) noexcept nogil:
    """``commit``: carrier capacity of the nd (day, service) pairs booked, logged once each in tlog, and
    service-days that could not take a whole order count as full."""
    cdef Py_ssize_t q, K = booked.shape[1]
    cdef int64_t d
    for q in range(nd):
        d = nd_day[q] - day0
        booked[d, nd_k[q]] += nd_c[q]
        if not tmark[d, nd_k[q]]:
            tmark[d, nd_k[q]] = 1
            tlog[ctl[_CTL_LOGGED]] = d * K + nd_k[q]
            ctl[_CTL_LOGGED] += 1
        if capacity[nd_k[q]] - <double> booked[d, nd_k[q]] < <double> max_packages:
            full[d, nd_k[q]] = 1


cdef inline int64_t _write_package(Py_ssize_t n, Py_ssize_t L, const int64_t* sk, const int64_t* qt,
                                   Py_ssize_t r_, bint dry, const Scratch* z, int64_t P, int64_t* PL,
                                   const double[::1] sku_kg, const double[::1] per_unit, const double[::1] per_kg,
                                   const double[::1] handling_order, const double[::1] handling_line,
                                   const double[:, ::1] pickup, const double[:, :, ::1] transit,
                                   int64_t[:, ::1] reserved, int64_t[::1] orders_taken, int64_t[::1] units_taken,
                                   int64_t[::1] backlog, int64_t[::1] pkg_node, int64_t[::1] pkg_service,
                                   int64_t[::1] pkg_day, double[::1] pkg_ship_by, double[::1] pkg_promised,
                                   double[::1] pkg_transit, double[::1] pkg_kg, double[::1] pkg_c_package,
                                   double[::1] pkg_c_weight, double[::1] pkg_c_distance, double[::1] pkg_c_handling,
                                   int64_t[::1] pkg_line_ptr, int64_t[::1] pkg_sku, int64_t[::1] pkg_qty) noexcept nogil:
    """``_shipments``: write node n's package of allocation z.x as row P (its lines from row PL[0] on, which
    it advances), its costs and promise; unless dry, commit its reservations and node counters. Returns P + 1."""
    cdef Py_ssize_t N = reserved.shape[0], l, k
    cdef int64_t u, units
    cdef double kg, hsum, c_pkg, c_wt, c_ds, c_hd, cut, arrive, due
    k = z[0].svc[n]
    kg = 0.0
    hsum = 0.0
    pkg_line_ptr[P] = PL[0]
    for l in range(L):
        u = z[0].x[l * N + n]
        if u > 0:
            kg += sku_kg[sk[l]] * <double> u
            hsum += <double> u / <double> qt[l]
            pkg_sku[PL[0]] = sk[l]
            pkg_qty[PL[0]] = u
            PL[0] += 1
            if not dry:
                reserved[n, sk[l]] += u
    units = z[0].p_units[n]
    c_pkg = z[0].pfix[n] + per_unit[k] * <double> units
    c_wt = per_kg[k] * kg
    c_ds = z[0].pdis[n]
    c_hd = handling_order[n] + handling_line[n] * hsum
    # promise(): the pickup at ship_by plus transit, rounded up to the end of the arrival day
    cut = _next_cutoff(z[0].sb[n], pickup[n, k])
    arrive = cut + transit[n, r_, k]
    due = ceil(arrive / 24.0 - _EPS / 24.0) * 24.0
    if arrive > due:
        due = arrive
    pkg_node[P] = n
    pkg_service[P] = k
    pkg_day[P] = <int64_t> _floordiv(z[0].sb[n], 24.0)
    pkg_ship_by[P] = z[0].sb[n]
    pkg_promised[P] = due
    pkg_transit[P] = transit[n, r_, k]
    pkg_kg[P] = kg
    pkg_c_package[P] = c_pkg
    pkg_c_weight[P] = c_wt
    pkg_c_distance[P] = c_ds
    pkg_c_handling[P] = c_hd
    P += 1
    pkg_line_ptr[P] = PL[0]
    # commit: node counters
    if not dry:
        orders_taken[n] += 1
        units_taken[n] += units
        backlog[n] += units
    return P



cdef void _unfilled_reasons(Py_ssize_t L, Py_ssize_t N, Py_ssize_t K, const int64_t* sk, const int64_t* rest,
                            const int64_t* x, const int64_t* avail, const int64_t[:, ::1] on_hand,
                            const int64_t[:, ::1] reserved, const int64_t[:, ::1] safety, bint probe,
                            const int64_t* pr_line, int8_t* why, int8_t* rem_why) noexcept nogil:
    """Why units of each line are unfilled (_UNFILLED_*, 0: filled; omsim.engine.reasons.unfilled_reasons is
    the Python path's same rule), before the commit: x (L, N) the assignment, rest (L,) what it leaves of each
    line (_solve's Work.rest), avail (L, N) the stock of the nodes that can ship. An order's reasons go to
    why[l] (rem_why[l] = 0); a remainder probe's (probe) to rem_why[pr_line[l]], the order's line it remains of."""
    cdef Py_ssize_t l, n, m, npk = -1
    cdef int64_t usable, left, a, c
    cdef bint anywhere, at_used
    for l in range(L):
        c = _UNFILLED_NONE
        if rest[l] > 0:                # the rest only for a line left short: most orders have none
            if npk < 0:                # packages of the decision (nodes used), once per order
                npk = 0
                for n in range(N):
                    for m in range(L):
                        if x[m * N + n] > 0:
                            npk += 1
                            break
            usable = 0
            left = 0
            at_used = False
            for n in range(N):
                usable += avail[l * N + n]
            anywhere = False
            for n in range(N):
                a = on_hand[n, sk[l]] - reserved[n, sk[l]] - safety[n, sk[l]]
                if a > 0:
                    anywhere = True
                if avail[l * N + n] > x[l * N + n]:
                    left += avail[l * N + n] - x[l * N + n]
                    for m in range(L):
                        if x[m * N + n] > 0:
                            at_used = True
            if not anywhere:
                c = _UNFILLED_NO_STOCK
            elif usable == 0:
                c = _UNFILLED_CANNOT_SHIP
            elif left == 0:
                c = _UNFILLED_SHORT
            elif not at_used and npk >= K:
                c = _UNFILLED_PACKAGE_LIMIT
            else:
                c = _UNFILLED_COST
        if probe:
            rem_why[pr_line[l]] = <int8_t> c
        else:
            why[l] = <int8_t> c
            rem_why[l] = 0


cdef inline void _keep_basis(const Params* prm, const Scratch* z, Py_ssize_t L, Py_ssize_t N) noexcept nogil:
    """A dry run's order: what it is weighed against, where Kernel.set_basis asked for it (Params.basis_svc)."""
    if prm.basis_svc != NULL and L * N <= prm.basis_cap:
        memcpy(prm.basis_svc, z.svc, N * sizeof(int64_t))
        memcpy(prm.basis_closed, z.closed, N * sizeof(char))
        memcpy(prm.basis_avail, z.avail, L * N * sizeof(int64_t))


cdef int _core(
        const double[::1] t_h,                 # IN    (n,) decision time per order
        const int64_t[::1] region,             # IN    (n,) region index
        const int64_t[::1] level,              # IN    (n,) service level rank
        const int64_t[::1] line_ptr,           # IN    (n+1,) lines of order i: line_ptr[i]-line_ptr[0] ..
        const int64_t[::1] line_sku,           # IN    (M,) SKU per line, distinct within an order
        const int64_t[::1] line_qty,           # IN    (M,) units per line, >= 1
        const double[::1] sku_kg,              # IN    (S,) weight per unit
        const double[:, :, ::1] fixed,         # IN    (N, R, K) per_package + zone surcharge (inf: not offered)
        const double[:, :, ::1] dist,          # IN    (N, R, K) per_km x km
        const double[:, :, ::1] transit,       # IN    (N, R, K) planned transit hours
        const double[::1] per_kg,              # IN    (K,)
        const double[::1] per_unit,            # IN    (K,)
        const double[:, ::1] pickup,           # IN    (N, K) pickup hour of day, every day
        const double[::1] capacity,            # IN    (K,) carrier packages per day (inf: unlimited)
        const int64_t[::1] elig_ptr,           # IN    (V+1,) services meeting level v: elig[elig_ptr[v]:..]
        const int64_t[::1] elig,               # IN    service indices, listed order
        const double[::1] labour,              # IN    (N,) units per working hour, > 0
        const double[::1] handling_order,      # IN    (N,)
        const double[::1] handling_line,       # IN    (N,)
        const double[::1] pkg_extra,           # IN    (N,) handling_order + split_penalty
        const int64_t[::1] cap_orders,         # IN    (N,) orders per day
        const int64_t[::1] cap_units,          # IN    (N,) units per day
        const Params* prm,                     # IN    parameters and the run's mode (_decide.pxd)
        const double[::1] win_lo,              # IN    (N,) cached windows valid for t in [win_lo, win_hi)
        const double[::1] win_hi,              # IN    (N,)
        const int64_t[::1] win_ptr,            # IN    (N+1,) windows of node n: win_ptr[n]:win_ptr[n+1]
        const double[::1] win_start,           # IN    window starts, ascending per node
        const double[::1] win_end,             # IN    window ends
        const int64_t[::1] sh_ptr,             # IN    (N+1,) shifts of node n: sh_ptr[n]:sh_ptr[n+1]
        const double[::1] sh_start,            # IN    shift start, hours after midnight
        const double[::1] sh_end,              # IN    shift end (> start, at most 48)
        const int64_t[::1] sh_days,            # IN    weekdays of the shift, bit mask (bit 0 = Monday)
        const int64_t[:, ::1] on_hand,         # IN    (N, S)
        int64_t[:, ::1] reserved,              # INOUT (N, S)
        const int64_t[:, ::1] safety,          # IN    (N, S)
        int64_t[::1] backlog,                  # INOUT (N,) units committed, not shipped
        int64_t[::1] orders_taken,             # INOUT (N,) orders taken on day ctl[_CTL_DAY]
        int64_t[::1] units_taken,              # INOUT (N,) units taken on day ctl[_CTL_DAY]
        int64_t[:, ::1] booked,                # INOUT (D, K) carrier packages booked, days ctl[_CTL_DAY0]..
        uint8_t[:, ::1] full,                  # INOUT (D, K) service-day counts as full
        uint8_t[:, ::1] tmark,                 # INOUT (D, K) the (day, service) is in tlog
        int64_t[::1] tlog,                     # INOUT (D*K,) (day, service) booked, d*K+k, ctl[_CTL_LOGGED] of them
        int64_t[::1] ctl,                      # INOUT control block, slots _CTL_* (_decide.pxd)
        int8_t[::1] status,                    # OUT   (n,) DECISION_STATUSES code
        int8_t[::1] rem_status,                # OUT   (n,) remainder probe: -1 none, -2 it ships something,
                                               #        else the DECISION_STATUSES code of its (no-stock) status
        int64_t[::1] oday,                     # OUT   (n,) the order's day (floor(t / 24): node capacity day)
        int64_t[::1] ocnt,                     # OUT   (n,) packages of the order not yet shipped (= its packages)
        int64_t[::1] oreg,                     # OUT   (n,) the order's region
        int8_t[::1] opol,                      # OUT   (n,) prm.policy (the caller's policy code)
        int64_t[::1] optr,                     # OUT   (n+1,) the order's line rows in ``unfilled``: optr[i]:optr[i+1]
        double[::1] promised,                  # OUT   (n,) promised delivery (nan: nothing ships)
        double[::1] total,                     # OUT   (n,) total cost
        int64_t[::1] pkg_ptr,                  # OUT   (n+1,) packages of order i: pkg_ptr[i]:pkg_ptr[i+1]
        int64_t[::1] unfilled,                 # OUT   (M,) units not allocated per line
        int8_t[::1] why,                       # OUT   (M,) why they are unfilled (_UNFILLED_*)
        int8_t[::1] rem_why,                   # OUT   (M,) the remainder probe's reason for them (else 0)
        int64_t[::1] pkg_node,                 # OUT   (P,)
        int64_t[::1] pkg_service,              # OUT   (P,)
        int64_t[::1] pkg_day,                  # OUT   (P,) carrier capacity day (ship_by // 24)
        double[::1] pkg_ship_by,               # OUT   (P,)
        double[::1] pkg_promised,              # OUT   (P,)
        double[::1] pkg_transit,               # OUT   (P,)
        double[::1] pkg_kg,                    # OUT   (P,)
        double[::1] pkg_c_package,             # OUT   (P,)
        double[::1] pkg_c_weight,              # OUT   (P,)
        double[::1] pkg_c_distance,            # OUT   (P,)
        double[::1] pkg_c_handling,            # OUT   (P,)
        int64_t[::1] pkg_line_ptr,             # OUT   (P+1,) lines of package p
        int64_t[::1] pkg_sku,                  # OUT   (PL,)
        int64_t[::1] pkg_qty) except -1:       # OUT   (PL,)
    """Decide and commit orders ctl[_CTL_NEXT]..ctl[_CTL_END]-1 in turn (array shapes checked by Kernel._check); returns a code (_DONE, _STOP_PARTIAL, ...).

    Order i's row in the order outputs is ctl[_CTL_OROW] + i, its lines' rows in ``unfilled`` start at ctl[_CTL_LROW] +
    line_ptr[i] - line_ptr[0]. ctl[_CTL_LOGGED] counts the (day, service) pairs logged in tlog; ctl[_CTL_DRY] != 0: a dry
    run (decide only: no stock, counter or carrier state changes).

    With prm.probe_remainder (not in a dry run), right after an order is committed ``partial`` its unfilled lines
    (units left unfilled, lines with some) are decided as a dry run at the same time, region and level
    (exactly what ``DecisionEngine.decide`` of that order would say against the state the commit left),
    and ``rem_status`` says whether it would ship anything; where that needs the Python path (the
    split-penalty re-solve, a pickup outside the window, shifts without hours) the call returns _PROBE
    with ctl[_CTL_NEXT] past the partial order.
    """
    cdef Py_ssize_t N = fixed.shape[0]
    cdef Py_ssize_t i, l, n, m, L, lo, hi, e0, e1, npk, nd, r_
    cdef Py_ssize_t i_end = ctl[_CTL_END], base = line_ptr[0], maxL = 1
    cdef int64_t P = ctl[_CTL_P], PL = ctl[_CTL_PL], cur_day = ctl[_CTL_DAY], day0 = ctl[_CTL_DAY0], day, s, a, usum, short
    cdef double t, W, U
    cdef double pk, wt, ds, hd, tot, prom, split = prm.split_penalty, lost_pen = prm.lost_sale_penalty
    cdef int rc = _DONE, code
    cdef bint any_per_unit = prm.any_per_unit, node_capped = prm.node_capped
    cdef bint stop_partial = prm.stop_on_partial, shipped, bad, probe_on = prm.probe_remainder, probing = False
    cdef const int64_t* sk = NULL
    cdef const int64_t* qt = NULL
    cdef Py_ssize_t pr_L = 0
    cdef Py_ssize_t k_max = prm.k_max
    cdef int64_t max_packages = prm.max_packages, no_stock = prm.no_stock
    cdef Work w
    cdef Scratch z
    cdef Py_ssize_t max_ns = 1
    cdef int64_t wd0 = prm.start_weekday
    cdef Py_ssize_t oo = ctl[_CTL_OROW], lu = ctl[_CTL_LROW]
    cdef bint dry = ctl[_CTL_DRY] != 0
    for n in range(N):
        if sh_ptr[n + 1] - sh_ptr[n] > max_ns:
            max_ns = sh_ptr[n + 1] - sh_ptr[n]
    for i in range(ctl[_CTL_NEXT], i_end):
        if line_ptr[i + 1] - line_ptr[i] > maxL:
            maxL = line_ptr[i + 1] - line_ptr[i]
    with nogil:
        code = _alloc_work(&w, maxL, N)
        if _scratch_alloc(&z, maxL, N, max_ns) != 0 or code != 0:   # (both run: _scratch_free frees z)
            rc = -1
        i = ctl[_CTL_NEXT]
        while rc == _DONE and i < i_end:
            t = t_h[i]
            lo = line_ptr[i] - base
            hi = line_ptr[i + 1] - base
            r_ = region[i]
            if probing:
                # the remainder of order i (just committed): same time, so the same day and windows
                L = pr_L
                sk = z.pr_sku
                qt = z.pr_qty
            else:
                L = hi - lo
                sk = &line_sku[lo]
                qt = &line_qty[lo]
                day = <int64_t> _floordiv(t, 24.0)
                if day != cur_day:
                    rc = _NEW_DAY
                    break
                for n in range(N):
                    if not (win_lo[n] <= t < win_hi[n]):
                        rc = _STALE_WINDOWS
                        break
                if rc != _DONE:
                    break
            # ---- _prepare: available to promise (L, N)
            for l in range(L):
                s = sk[l]
                for n in range(N):
                    a = on_hand[n, s] - reserved[n, s] - safety[n, s]
                    z.avail[l * N + n] = a if a > 0 else 0
            W = 0.0
            usum = 0
            for l in range(L):
                W += sku_kg[sk[l]] * <double> qt[l]
                usum += qt[l]
            U = <double> usum
            # ---- rate shop one service per node (ready time, pickups, full service-days)
            e0 = elig_ptr[level[i]]
            e1 = elig_ptr[level[i] + 1]
            code = _rate_shop(t, U, W, r_, e0, e1, day0, wd0, any_per_unit, backlog, labour, win_ptr, win_start,
                              win_end, sh_ptr, sh_start, sh_end, sh_days, elig, fixed, dist, per_kg, per_unit,
                              pickup, full, z.cal_lo, z.cal_hi, z.svc, z.sb, z.closed)
            if code != 0:
                ctl[_CTL_WHY] = code
                if probing:
                    i += 1
                rc = _PROBE if probing else _FALLBACK
                break
            bad = False
            # ---- _prepare_rest: nodes that cannot ship see no stock; cost arrays
            _prepare_rest(L, sk, qt, r_, prm, cap_orders, cap_units, orders_taken, units_taken, fixed, dist,
                          pkg_extra, sku_kg, per_kg, per_unit, handling_line, z.closed, z.svc, z.avail, z.pfix, z.pdis, z.pcost,
                          z.ucost, z.lost)
            if dry and not probing:
                _keep_basis(prm, &z, L, N)
            # ---- _cheapest: the exact kernel of _alloc
            w.L = L
            w.N = N
            w.K = k_max if k_max < N else N
            w.dem = qt
            w.avail = z.avail
            w.pcost = z.pcost
            w.ucost = z.ucost
            w.lost = z.lost
            _solve(&w, z.x)
            shipped = False
            for m in range(L * N):
                if z.x[m] != 0:
                    shipped = True
                    break
            if split > 0 and not shipped:
                for m in range(L * N):
                    if z.avail[m] != 0:
                        bad = True     # the re-solve without one split penalty: the Python path does it
                        break
                if bad:
                    ctl[_CTL_WHY] = _WHY_SPLIT_RESOLVE
                    if probing:
                        i += 1
                        rc = _PROBE
                    else:
                        rc = _FALLBACK
                    break
            _unfilled_reasons(L, N, w.K, sk, w.rest, z.x, z.avail, on_hand, reserved, safety, probing, z.pr_line,
                              &why[lu + lo], &rem_why[lu + lo])
            if probing:
                # decide() of the remainder ships what the solve ships; nothing: the no-stock status
                rem_status[oo + i] = -2 if shipped else <int8_t> no_stock
                probing = False
                i += 1
                if stop_partial:
                    rc = _STOP_PARTIAL
                    break
                continue
            # ---- commit checks (the Python path raises when these fail; they never should)
            bad = _commit_checks(L, sk, z.x, z.sb, z.svc, day0, node_capped, on_hand, reserved, safety, cap_orders,
                                 cap_units, orders_taken, units_taken, capacity, booked, z.p_units, z.nd_day, z.nd_k, z.nd_c,
                                 &npk, &nd)
            if bad:
                ctl[_CTL_WHY] = _WHY_COMMIT_REFUSED
                rc = _FALLBACK
                break
            # ---- _decision / _shipments: packages in node order
            pk = 0.0
            wt = 0.0
            ds = 0.0
            hd = 0.0
            prom = -INFINITY
            pkg_ptr[oo + i] = P
            oday[oo + i] = cur_day
            oreg[oo + i] = r_
            opol[oo + i] = <int8_t> prm.policy
            optr[oo + i] = lu + lo
            optr[oo + i + 1] = lu + hi
            for n in range(N):
                shipped = False
                for l in range(L):
                    if z.x[l * N + n] > 0:
                        shipped = True
                        break
                if not shipped:
                    continue
                P = _write_package(n, L, sk, qt, r_, dry, &z, P, &PL, sku_kg, per_unit, per_kg, handling_order,
                                   handling_line, pickup, transit, reserved, orders_taken, units_taken, backlog,
                                   pkg_node, pkg_service, pkg_day, pkg_ship_by, pkg_promised, pkg_transit, pkg_kg,
                                   pkg_c_package, pkg_c_weight, pkg_c_distance, pkg_c_handling, pkg_line_ptr, pkg_sku,
                                   pkg_qty)
                pk += pkg_c_package[P - 1]
                wt += pkg_c_weight[P - 1]
                ds += pkg_c_distance[P - 1]
                hd += pkg_c_handling[P - 1]
                if pkg_promised[P - 1] > prom:
                    prom = pkg_promised[P - 1]
            pkg_ptr[oo + i + 1] = P
            ocnt[oo + i] = npk
            short = 0
            for l in range(L):
                unfilled[lu + lo + l] = w.rest[l]
                short += w.rest[l]
            tot = 0.0
            tot += pk
            tot += wt
            tot += ds
            tot += hd
            tot += split * <double> (npk - 1 if npk > 1 else 0)
            tot += lost_pen * <double> short
            total[oo + i] = tot
            if npk == 0:
                status[oo + i] = <int8_t> no_stock
                promised[oo + i] = NAN
            else:
                status[oo + i] = _ST_PARTIAL if short > 0 else _ST_ALLOCATED
                promised[oo + i] = prom
                if not dry:
                    ctl[_CTL_DAY_USED] = 1
                    _book_carriers(nd, z.nd_day, z.nd_k, z.nd_c, day0, max_packages, capacity, booked, full, tmark,
                                   tlog, ctl)
            rem_status[oo + i] = -1
            if probe_on and not dry and status[oo + i] == _ST_PARTIAL:
                # probe the unfilled lines (same i) before the next order
                pr_L = 0
                for l in range(L):
                    if unfilled[lu + lo + l] > 0:
                        z.pr_sku[pr_L] = sk[l]
                        z.pr_qty[pr_L] = unfilled[lu + lo + l]
                        z.pr_line[pr_L] = l
                        pr_L += 1
                probing = True
                continue
            i += 1
            if stop_partial and status[oo + i - 1] == _ST_PARTIAL:
                rc = _STOP_PARTIAL
                break
        ctl[_CTL_NEXT] = i
        ctl[_CTL_P] = P
        ctl[_CTL_PL] = PL
        _free_work(&w)
        _scratch_free(&z)
    if rc == -1:
        raise MemoryError()
    return rc


cpdef tuple check_orders(const double[::1] t_h,         # IN (n,) decision times
                        const int64_t[::1] region,      # IN (n,)
                        const int64_t[::1] level,       # IN (n,)
                        const int64_t[::1] line_ptr,    # IN (n+1,) into line_sku / line_qty
                        const int64_t[::1] line_sku,    # IN (M,)
                        const int64_t[::1] line_qty,    # IN (M,)
                        int64_t n_regions,              # IN
                        int64_t n_levels,               # IN
                        int64_t n_skus):                # IN
    """The first malformed order and why: ``(i, code)``, ``(-1, 0)`` when every order is fine.

    Codes: 1 time not finite, 2 region out of range, 3 level out of range,
    4 no lines (or lines outside the arrays), 5 SKU out of range,
    6 quantity < 1, 7 a SKU on two lines (DecisionEngine._check_order's checks).
    """
    cdef Py_ssize_t n = t_h.shape[0], M = line_sku.shape[0], i = 0, a, b, l, m
    if region.shape[0] < n or level.shape[0] < n or line_ptr.shape[0] < n + 1 or line_qty.shape[0] < M:
        raise ValueError("check_orders: inconsistent array shapes")
    cdef int code = 0
    with nogil:
        for i in range(n):
            if not isfinite(t_h[i]):
                code = 1
            elif region[i] < 0 or region[i] >= n_regions:
                code = 2
            elif level[i] < 0 or level[i] >= n_levels:
                code = 3
            else:
                a = line_ptr[i]
                b = line_ptr[i + 1]
                if a < 0 or b > M or b <= a:
                    code = 4
                else:
                    for l in range(a, b):
                        if line_sku[l] < 0 or line_sku[l] >= n_skus:
                            code = 5
                            break
                        if line_qty[l] < 1:
                            code = 6
                            break
                        for m in range(a, l):
                            if line_sku[m] == line_sku[l]:
                                code = 7
                                break
                        if code:
                            break
            if code:
                break
    if code:
        return i, code
    return -1, 0


def ready_calendar(const double[::1] t_h,          # IN  (m,) now
                   const int64_t[::1] backlog,     # IN  (m,) units waiting
                   const double[::1] units,        # IN  (m,) units of the order
                   double labour,                  # IN  units per working hour, > 0
                   const double[::1] sh_start,     # IN  (ns,) normalised shifts: start hour
                   const double[::1] sh_end,       # IN  (ns,) end hour (> start, <= 48)
                   const int64_t[::1] sh_days,     # IN  (ns,) weekday bit masks
                   int64_t start_weekday,          # IN  weekday of day 0
                   double[::1] out):               # OUT (m,) ready time (nan: no working hours)
    """promise.ready_time_h for many (time, backlog, units) at one node: the calendar walk the kernel uses."""
    cdef Py_ssize_t m = t_h.shape[0], ns = sh_start.shape[0], i
    cdef double* lo = <double*> malloc(16 * (ns if ns > 0 else 1) * sizeof(double))
    cdef double* hi = <double*> malloc(16 * (ns if ns > 0 else 1) * sizeof(double))
    if lo == NULL or hi == NULL:
        free(lo)
        free(hi)
        raise MemoryError()
    with nogil:
        for i in range(m):
            if _ready_calendar(t_h[i], units[i], backlog[i], labour, &sh_start[0] if ns else NULL,
                               &sh_end[0] if ns else NULL, &sh_days[0] if ns else NULL, ns, start_weekday,
                               lo, hi, &out[i]):
                out[i] = NAN
    free(lo)
    free(hi)


_PARAMS = frozenset(("split_penalty", "lost_sale_penalty", "any_per_unit", "node_capped", "unit_capped", "k_max",
                      "max_packages", "no_stock", "start_weekday"))


cdef class Kernel:
    """The engine's arrays held between calls of :meth:`run` (a run passes only its own columns).

    Each ``set_*`` method binds a group of arrays (the same objects are read and
    written in place by :meth:`run`); the caller binds a group again only when
    it replaced one of its arrays. The arguments of :func:`_core` are grouped as
    its comments say: static (IN), windows (IN), stock and node state (INOUT),
    the carrier window (INOUT), output columns (OUT), the run's orders (IN).
    """
    cdef const double[::1] sku_kg
    cdef const double[:, :, ::1] fixed
    cdef const double[:, :, ::1] dist
    cdef const double[:, :, ::1] transit
    cdef const double[::1] per_kg
    cdef const double[::1] per_unit
    cdef const double[:, ::1] pickup
    cdef const double[::1] capacity
    cdef const int64_t[::1] elig_ptr
    cdef const int64_t[::1] elig
    cdef const double[::1] labour
    cdef const double[::1] handling_order
    cdef const double[::1] handling_line
    cdef const double[::1] pkg_extra
    cdef const int64_t[::1] cap_orders
    cdef const int64_t[::1] cap_units
    cdef Params prm
    cdef const int64_t[::1] sh_ptr
    cdef const double[::1] sh_start
    cdef const double[::1] sh_end
    cdef const int64_t[::1] sh_days
    cdef const double[::1] win_lo
    cdef const double[::1] win_hi
    cdef const int64_t[::1] win_ptr
    cdef const double[::1] win_start
    cdef const double[::1] win_end
    cdef const int64_t[:, ::1] on_hand
    cdef int64_t[:, ::1] reserved
    cdef const int64_t[:, ::1] safety
    cdef int64_t[::1] backlog
    cdef int64_t[::1] orders_taken
    cdef int64_t[::1] units_taken
    cdef int64_t[:, ::1] booked
    cdef uint8_t[:, ::1] full
    cdef uint8_t[:, ::1] tmark
    cdef int64_t[::1] tlog
    cdef int64_t[:, ::1] booked0
    cdef bint has_booked0
    cdef int8_t[::1] status
    cdef int8_t[::1] rem_status
    cdef int64_t[::1] oday
    cdef int64_t[::1] ocnt
    cdef int64_t[::1] oreg
    cdef int8_t[::1] opol
    cdef int64_t[::1] optr
    cdef double[::1] promised
    cdef double[::1] total
    cdef int64_t[::1] pkg_ptr
    cdef int64_t[::1] unfilled
    cdef int8_t[::1] why
    cdef int8_t[::1] rem_why
    cdef int64_t[::1] pkg_node
    cdef int64_t[::1] pkg_service
    cdef int64_t[::1] pkg_day
    cdef double[::1] pkg_ship_by
    cdef double[::1] pkg_promised
    cdef double[::1] pkg_transit
    cdef double[::1] pkg_kg
    cdef double[::1] pkg_c_package
    cdef double[::1] pkg_c_weight
    cdef double[::1] pkg_c_distance
    cdef double[::1] pkg_c_handling
    cdef int64_t[::1] pkg_line_ptr
    cdef int64_t[::1] pkg_sku
    cdef int64_t[::1] pkg_qty
    cdef const double[::1] t_h
    cdef const int64_t[::1] region
    cdef const int64_t[::1] level
    cdef const int64_t[::1] line_ptr
    cdef const int64_t[::1] line_sku
    cdef const int64_t[::1] line_qty
    cdef public bint ready             # every group bound
    cdef tuple out_objs                # the output columns as the arrays set_out was given
    cdef object basis_objs             # the arrays set_basis bound (kept alive)
    cdef public int64_t day_lo         # the bound run's first and last day (floor(t / 24))
    cdef public int64_t day_hi

    def set_static(self, const double[::1] sku_kg, const double[:, :, ::1] fixed, const double[:, :, ::1] dist,
                   const double[:, :, ::1] transit, const double[::1] per_kg, const double[::1] per_unit,
                   const double[:, ::1] pickup, const double[::1] capacity, const int64_t[::1] elig_ptr,
                   const int64_t[::1] elig, const double[::1] labour, const double[::1] handling_order,
                   const double[::1] handling_line, const double[::1] pkg_extra, const int64_t[::1] cap_orders,
                   const int64_t[::1] cap_units, dict params,
                   const int64_t[::1] sh_ptr, const double[::1] sh_start, const double[::1] sh_end,
                   const int64_t[::1] sh_days):
        """Bind the constant arrays (all IN; see :func:`_core`) and set the parameters.

        ``params`` names every field of ``Params`` (_decide.pxd) but the run's mode: split_penalty,
        lost_sale_penalty, any_per_unit, node_capped, unit_capped, k_max, max_packages, no_stock,
        start_weekday. The mode is reset (see :meth:`set_mode`).
        """
        cdef Params prm
        if params.keys() != _PARAMS:
            raise ValueError(f"set_static: parameters {sorted(params)}, expected {sorted(_PARAMS)}")
        prm.split_penalty = params["split_penalty"]
        prm.lost_sale_penalty = params["lost_sale_penalty"]
        prm.any_per_unit = params["any_per_unit"]
        prm.node_capped = params["node_capped"]
        prm.unit_capped = params["unit_capped"]
        prm.k_max = params["k_max"]
        prm.max_packages = params["max_packages"]
        prm.no_stock = params["no_stock"]
        prm.start_weekday = params["start_weekday"]
        prm.stop_on_partial = False
        prm.probe_remainder = False
        prm.policy = 0
        prm.basis_svc = NULL
        prm.basis_closed = NULL
        prm.basis_avail = NULL
        prm.basis_cap = 0
        self.sku_kg, self.fixed, self.dist, self.transit = sku_kg, fixed, dist, transit
        self.per_kg, self.per_unit, self.pickup, self.capacity = per_kg, per_unit, pickup, capacity
        self.elig_ptr, self.elig, self.labour = elig_ptr, elig, labour
        self.handling_order, self.handling_line, self.pkg_extra = handling_order, handling_line, pkg_extra
        self.cap_orders, self.cap_units, self.prm = cap_orders, cap_units, prm
        self.sh_ptr, self.sh_start, self.sh_end, self.sh_days = sh_ptr, sh_start, sh_end, sh_days

    def set_mode(self, bint stop_on_partial, bint probe_remainder, int64_t policy):
        """The run's mode (IN): stop after a partial order, probe a partial order's remainder, the policy
        code written to ``opol``."""
        self.prm.stop_on_partial = stop_on_partial
        self.prm.probe_remainder = probe_remainder
        self.prm.policy = policy

    def set_basis(self, int64_t[::1] svc=None, uint8_t[::1] closed=None, int64_t[::1] avail=None):
        """Bind (OUT) where the next dry runs write the basis of their order (see ``Params.basis_svc``): svc
        and closed (N,) each and avail (>= L x N); no arguments: write none."""
        cdef Py_ssize_t N = self.fixed.shape[0]
        if svc is None or closed is None or avail is None:
            self.prm.basis_svc = NULL
            self.prm.basis_closed = NULL
            self.prm.basis_avail = NULL
            self.prm.basis_cap = 0
            self.basis_objs = None
            return
        if svc.shape[0] < N or closed.shape[0] < N:
            raise ValueError("set_basis: svc and closed need one entry per node")
        self.basis_objs = (svc, closed, avail)      # kept alive while bound
        self.prm.basis_svc = &svc[0]
        self.prm.basis_closed = <char*> &closed[0]
        self.prm.basis_avail = &avail[0]
        self.prm.basis_cap = avail.shape[0]

    def set_windows(self, const double[::1] win_lo, const double[::1] win_hi, const int64_t[::1] win_ptr,
                    const double[::1] win_start, const double[::1] win_end):
        """Bind the cached shift windows (all IN)."""
        self.win_lo, self.win_hi, self.win_ptr, self.win_start, self.win_end = win_lo, win_hi, win_ptr, win_start, \
            win_end

    def set_stock(self, const int64_t[:, ::1] on_hand, int64_t[:, ::1] reserved, const int64_t[:, ::1] safety,
                  int64_t[::1] backlog):
        """Bind on hand (IN), reserved (INOUT), safety (IN) and the node backlog (INOUT)."""
        self.on_hand, self.reserved, self.safety, self.backlog = on_hand, reserved, safety, backlog

    def set_day(self, int64_t[::1] orders_taken, int64_t[::1] units_taken):
        """Bind the node counters (INOUT) of the day ctl[_CTL_DAY]."""
        self.orders_taken, self.units_taken = orders_taken, units_taken

    def set_carrier(self, int64_t[:, ::1] booked, uint8_t[:, ::1] full, uint8_t[:, ::1] tmark, int64_t[::1] tlog,
                    booked0=None):
        """Bind the carrier window from day ctl[_CTL_DAY0] (all INOUT); ``booked0`` (D, K) int64, INOUT: the bookings
        as last written back (see :meth:`drain`)."""
        self.booked, self.full, self.tmark, self.tlog = booked, full, tmark, tlog
        self.has_booked0 = booked0 is not None
        if self.has_booked0:
            self.booked0 = booked0
            if self.booked0.shape[0] != booked.shape[0] or self.booked0.shape[1] != booked.shape[1]:
                raise ValueError("set_carrier: booked0 and booked differ in shape")

    def drain(self, int64_t[::1] ctl):   # INOUT ctl[_CTL_LOGGED]: pairs logged, reset to 0
        """The (day offset, service, packages booked since the last drain, full) of each pair the runs
        logged, as a list of int tuples; the log, its marks and ``booked0`` are brought up to date."""
        cdef Py_ssize_t j, m = ctl[_CTL_LOGGED], K = self.booked.shape[1], d, k
        cdef int64_t idx
        out = []
        if m == 0:
            return out
        if not self.has_booked0:
            raise ValueError("drain: no booked0 bound")
        for j in range(m):
            idx = self.tlog[j]
            d = idx // K
            k = idx % K
            out.append((d, k, self.booked[d, k] - self.booked0[d, k], self.full[d, k]))
            self.booked0[d, k] = self.booked[d, k]
            self.tmark[d, k] = 0
        ctl[_CTL_LOGGED] = 0
        return out

    def set_out(self, int8_t[::1] status, int8_t[::1] rem_status, int64_t[::1] oday, int64_t[::1] ocnt,
                int64_t[::1] oreg, int8_t[::1] opol, int64_t[::1] optr, double[::1] promised, double[::1] total, int64_t[::1] pkg_ptr,
                int64_t[::1] unfilled, int64_t[::1] pkg_node, int64_t[::1] pkg_service, int64_t[::1] pkg_day,
                double[::1] pkg_ship_by, double[::1] pkg_promised, double[::1] pkg_transit, double[::1] pkg_kg,
                double[::1] pkg_c_package, double[::1] pkg_c_weight, double[::1] pkg_c_distance,
                double[::1] pkg_c_handling, int64_t[::1] pkg_line_ptr, int64_t[::1] pkg_sku, int64_t[::1] pkg_qty,
                int8_t[::1] why, int8_t[::1] rem_why):
        """Bind the output columns (all OUT; NumPy arrays: :meth:`arrays` makes views of them)."""
        self.why, self.rem_why = why, rem_why
        self.status, self.promised, self.total, self.pkg_ptr, self.unfilled = status, promised, total, pkg_ptr, \
            unfilled
        self.rem_status, self.oday, self.ocnt = rem_status, oday, ocnt
        self.oreg, self.opol, self.optr = oreg, opol, optr
        self.out_objs = None
        self.pkg_node, self.pkg_service, self.pkg_day, self.pkg_ship_by = pkg_node, pkg_service, pkg_day, pkg_ship_by
        self.pkg_promised, self.pkg_transit, self.pkg_kg = pkg_promised, pkg_transit, pkg_kg
        self.pkg_c_package, self.pkg_c_weight, self.pkg_c_distance = pkg_c_package, pkg_c_weight, pkg_c_distance
        self.pkg_c_handling, self.pkg_line_ptr, self.pkg_sku, self.pkg_qty = pkg_c_handling, pkg_line_ptr, pkg_sku, \
            pkg_qty

    def set_run(self, const double[::1] t_h, const int64_t[::1] region, const int64_t[::1] level,
                const int64_t[::1] line_ptr, const int64_t[::1] line_sku, const int64_t[::1] line_qty,
                int64_t n_regions, int64_t n_levels, int64_t n_skus):
        """Check a run's orders (all IN; ``(i, code)`` as check_orders) and bind them when they are fine.

        ``line_ptr`` may start anywhere in ``line_sku``: the lines are bound from ``line_ptr[0]`` on.
        """
        return self._bind(t_h, region, level, line_ptr, line_sku, line_qty, n_regions, n_levels, n_skus)

    def set_out_arrays(self, tuple cols):
        """The NumPy arrays bound by :meth:`set_out`, in its order (IN: only read by :meth:`arrays`)."""
        if len(cols) != 27 or not all(isinstance(c, np.ndarray) and c.ndim == 1 and c.flags.c_contiguous
                                      for c in cols):
            raise ValueError("set_out_arrays: 27 one-dimensional C-contiguous arrays expected")
        self.out_objs = cols

    def arrays(self, Py_ssize_t o0, Py_ssize_t m, Py_ssize_t l0, Py_ssize_t nl):   # IN
        """The fields of DecisionArrays (a dict) of order rows o0..o0+m-1 (their lines: rows l0..l0+nl-1 of
        ``unfilled``): views of the output arrays (see :meth:`set_out_arrays`), ``pkg_ptr`` and
        ``pkg_line_ptr`` new arrays rebased to 0."""
        cdef tuple c = self.out_objs
        if c is None:
            raise ValueError("arrays: set_out_arrays first")
        if o0 < 0 or m < 0 or o0 + m + 1 > self.pkg_ptr.shape[0] or l0 < 0 or nl < 0 \
                or l0 + nl > self.unfilled.shape[0]:
            raise ValueError("arrays: rows out of range")
        cdef int64_t P0 = self.pkg_ptr[o0], P1 = self.pkg_ptr[o0 + m]
        if P0 < 0 or P1 < P0 or P1 + 1 > self.pkg_line_ptr.shape[0]:
            raise ValueError("arrays: package rows out of range")
        cdef int64_t PL0 = self.pkg_line_ptr[P0], PL1 = self.pkg_line_ptr[P1]
        if PL0 < 0 or PL1 < PL0 or PL1 > self.pkg_sku.shape[0]:
            raise ValueError("arrays: package-line rows out of range")
        cdef Py_ssize_t o1 = o0 + m
        return {
            "n": m, "status": _view(c[0], o0, o1), "promised_h": _view(c[7], o0, o1), "total": _view(c[8], o0, o1),
            "pkg_ptr": _rebased(self.pkg_ptr, o0, o1 + 1, P0), "unfilled": _view(c[10], l0, l0 + nl),
            "pkg_node": _view(c[11], P0, P1), "pkg_service": _view(c[12], P0, P1),
            "pkg_ship_by_h": _view(c[14], P0, P1), "pkg_promised_h": _view(c[15], P0, P1),
            "pkg_transit_h": _view(c[16], P0, P1), "pkg_kg": _view(c[17], P0, P1),
            "pkg_cost_package": _view(c[18], P0, P1), "pkg_cost_weight": _view(c[19], P0, P1),
            "pkg_cost_distance": _view(c[20], P0, P1), "pkg_cost_handling": _view(c[21], P0, P1),
            "pkg_line_ptr": _rebased(self.pkg_line_ptr, P0, P1 + 1, PL0), "pkg_sku": _view(c[23], PL0, PL1),
            "pkg_qty": _view(c[24], PL0, PL1), "rem_status": _view(c[1], o0, o1),
            "unfilled_reason": _view(c[25], l0, l0 + nl), "rem_reason": _view(c[26], l0, l0 + nl)}

    def bind_run(self, const int64_t[::1] order_ids, const double[::1] t_h, const int64_t[::1] region,
                 const int64_t[::1] level, const int64_t[::1] line_ptr, const int64_t[::1] line_sku,
                 const int64_t[::1] line_qty, int64_t n_regions, int64_t n_levels, int64_t n_skus):
        """:meth:`set_run` with the order ids' column too (all IN): ``(-1, 8)`` when the columns' lengths
        do not agree (n ids, n times, regions and levels, n + 1 line pointers, as many SKUs as quantities;
        nothing bound), else what set_run returns. Arguments of another dtype or layout raise (the caller
        converts them and calls set_run)."""
        cdef Py_ssize_t n = order_ids.shape[0]
        if t_h.shape[0] != n or region.shape[0] != n or level.shape[0] != n or line_ptr.shape[0] != n + 1 \
                or line_sku.shape[0] != line_qty.shape[0]:
            return -1, 8
        return self._bind(t_h, region, level, line_ptr, line_sku, line_qty, n_regions, n_levels, n_skus)

    cdef tuple _bind(self, const double[::1] t_h, const int64_t[::1] region, const int64_t[::1] level,
                     const int64_t[::1] line_ptr, const int64_t[::1] line_sku, const int64_t[::1] line_qty,
                     int64_t n_regions, int64_t n_levels, int64_t n_skus):
        cdef Py_ssize_t j
        cdef double lo = INFINITY, hi = -INFINITY
        got = check_orders(t_h, region, level, line_ptr, line_sku, line_qty, n_regions, n_levels, n_skus)
        if got[1] == 0:
            for j in range(t_h.shape[0]):
                if t_h[j] < lo:
                    lo = t_h[j]
                if t_h[j] > hi:
                    hi = t_h[j]
            if t_h.shape[0]:
                self.day_lo = <int64_t> _floordiv(lo, 24.0)
                self.day_hi = <int64_t> _floordiv(hi, 24.0)
            self.t_h, self.region, self.level, self.line_ptr = t_h, region, level, line_ptr
            if line_ptr[0] != 0:
                self.line_sku, self.line_qty = line_sku[line_ptr[0]:], line_qty[line_ptr[0]:]
            else:
                self.line_sku, self.line_qty = line_sku, line_qty
        return got

    def step(self, int64_t[::1] ctl,   # INOUT control block, see _core
             Py_ssize_t first, Py_ssize_t end, int64_t P, int64_t PL, int64_t day0, int64_t orow,
             int64_t lrow, int64_t day):   # IN
        """:meth:`run` (committing) from ``first`` to ``end`` with the node counters of ``day`` bound
        (ctl[_CTL_DAY] = day, ctl[_CTL_DAY_USED] = 0); returns ``(code, ctl[_CTL_NEXT], ctl[_CTL_P], ctl[_CTL_PL], ctl[_CTL_LOGGED], ctl[_CTL_DAY_USED])``: the return
        code, the next order, the package and package-line rows written, the (day, service) pairs logged,
        whether the day's counters were used (Python ints: no NumPy scalar steps for the caller)."""
        if ctl.shape[0] < _CTL_SIZE:
            raise ValueError("step: the control block needs CTL_SIZE entries")
        ctl[_CTL_DAY] = day
        ctl[_CTL_DAY_USED] = 0
        rc = self.run(ctl, first, end, P, PL, day0, orow, lrow, 0)
        return rc, ctl[_CTL_NEXT], ctl[_CTL_P], ctl[_CTL_PL], ctl[_CTL_LOGGED], ctl[_CTL_DAY_USED]

    cdef int _check(self, const int64_t[::1] ctl) except -1:
        """Raise unless the bound arrays agree in shape and the output buffers hold the worst case of the run
        ctl describes (inputs are validated by the caller; sizes are checked here)."""
        cdef Py_ssize_t N = self.fixed.shape[0], K = self.fixed.shape[2], D = self.booked.shape[0]
        cdef Py_ssize_t S = self.on_hand.shape[1], i_end = ctl[_CTL_END], base = self.line_ptr[0], n_lines
        cdef Py_ssize_t n_orders = i_end - ctl[_CTL_NEXT], oo = ctl[_CTL_OROW], lu = ctl[_CTL_LROW]
        cdef Py_ssize_t k_max = self.prm.k_max
        cdef int64_t P = ctl[_CTL_P], PL = ctl[_CTL_PL]
        if ctl.shape[0] < _CTL_SIZE or n_orders < 0 or self.line_ptr.shape[0] < i_end + 1:
            raise ValueError("Kernel.run: inconsistent array shapes")
        # The caller's buffers must hold the worst case (inputs are validated by the caller; sizes are checked here).
        if (self.t_h.shape[0] < i_end or self.region.shape[0] < i_end or self.level.shape[0] < i_end
                or self.line_ptr.shape[0] < i_end + 1 or self.status.shape[0] < oo + i_end or self.rem_status.shape[0] < oo + i_end or self.oday.shape[0] < oo + i_end
                or self.ocnt.shape[0] < oo + i_end or self.oreg.shape[0] < oo + i_end or self.opol.shape[0] < oo + i_end
                or self.optr.shape[0] < oo + i_end + 1 or self.promised.shape[0] < oo + i_end
                or self.total.shape[0] < oo + i_end or self.pkg_ptr.shape[0] < oo + i_end + 1 or oo < 0 or lu < 0
                or self.reserved.shape[0] != N or self.reserved.shape[1] != S or self.safety.shape[0] != N or self.safety.shape[1] != S
                or self.on_hand.shape[0] != N or self.backlog.shape[0] < N or self.orders_taken.shape[0] < N
                or self.units_taken.shape[0] < N or self.full.shape[0] != D or self.full.shape[1] != K or self.tmark.shape[0] != D or self.tmark.shape[1] != K or self.tlog.shape[0] < D * K
                or self.booked.shape[1] != K or self.win_lo.shape[0] < N or self.win_hi.shape[0] < N or self.win_ptr.shape[0] < N + 1
                or self.sh_ptr.shape[0] < N + 1 or self.pickup.shape[0] != N or self.pickup.shape[1] != K or self.per_kg.shape[0] < K
                or self.per_unit.shape[0] < K or self.capacity.shape[0] < K or self.labour.shape[0] < N or self.pkg_extra.shape[0] < N
                or self.handling_order.shape[0] < N or self.handling_line.shape[0] < N or self.cap_orders.shape[0] < N
                or self.cap_units.shape[0] < N or self.sku_kg.shape[0] < S):
            raise ValueError("Kernel.run: inconsistent array shapes")
        n_lines = self.line_ptr[i_end] - self.line_ptr[ctl[_CTL_NEXT]] if n_orders > 0 else 0
        if (self.line_sku.shape[0] < self.line_ptr[i_end] - base or self.line_qty.shape[0] < self.line_ptr[i_end] - base
                or self.unfilled.shape[0] < lu + self.line_ptr[i_end] - base
                or self.why.shape[0] < lu + self.line_ptr[i_end] - base
                or self.rem_why.shape[0] < lu + self.line_ptr[i_end] - base
                or self.pkg_node.shape[0] < P + n_orders * k_max or self.pkg_service.shape[0] < P + n_orders * k_max
                or self.pkg_day.shape[0] < P + n_orders * k_max or self.pkg_ship_by.shape[0] < P + n_orders * k_max
                or self.pkg_promised.shape[0] < P + n_orders * k_max or self.pkg_transit.shape[0] < P + n_orders * k_max
                or self.pkg_kg.shape[0] < P + n_orders * k_max or self.pkg_c_package.shape[0] < P + n_orders * k_max
                or self.pkg_c_weight.shape[0] < P + n_orders * k_max or self.pkg_c_distance.shape[0] < P + n_orders * k_max
                or self.pkg_c_handling.shape[0] < P + n_orders * k_max or self.pkg_line_ptr.shape[0] < P + n_orders * k_max + 1
                or self.pkg_sku.shape[0] < PL + n_lines * k_max or self.pkg_qty.shape[0] < PL + n_lines * k_max):
            raise ValueError("Kernel.run: output buffers too small for the worst case")
        return 0

    def run(self, int64_t[::1] ctl,   # INOUT control block, see _core
            Py_ssize_t first=-1, Py_ssize_t end=0, int64_t P=0, int64_t PL=0, int64_t day0=0,
            int64_t orow=0, int64_t lrow=0, int64_t dry=0):   # IN (optional)
        """Decide (and commit unless ctl[_CTL_DRY]) the bound run's orders ctl[_CTL_NEXT]..ctl[_CTL_END]-1; a return code.

        With ``first`` >= 0 the control block is set first: ctl[_CTL_NEXT, _CTL_END, _CTL_P, _CTL_PL] = first, end, P, PL; ctl[_CTL_DAY0] = day0;
        ctl[_CTL_WHY] = 0; ctl[_CTL_OROW], ctl[_CTL_LROW] = orow, lrow; ctl[_CTL_DRY] = dry.
        """
        if ctl.shape[0] < _CTL_SIZE:
            raise ValueError("run: the control block needs CTL_SIZE entries")
        if first >= 0:
            ctl[_CTL_NEXT] = first
            ctl[_CTL_END] = end
            ctl[_CTL_P] = P
            ctl[_CTL_PL] = PL
            ctl[_CTL_DAY0] = day0
            ctl[_CTL_WHY] = 0
            ctl[_CTL_OROW] = orow
            ctl[_CTL_LROW] = lrow
            ctl[_CTL_DRY] = dry
        self._check(ctl)
        return _core(self.t_h, self.region, self.level, self.line_ptr, self.line_sku, self.line_qty, self.sku_kg,
                     self.fixed, self.dist, self.transit, self.per_kg, self.per_unit, self.pickup, self.capacity,
                     self.elig_ptr, self.elig, self.labour, self.handling_order, self.handling_line, self.pkg_extra,
                     self.cap_orders, self.cap_units, &self.prm, self.win_lo, self.win_hi,
                     self.win_ptr, self.win_start, self.win_end, self.sh_ptr, self.sh_start, self.sh_end,
                     self.sh_days, self.on_hand, self.reserved, self.safety, self.backlog, self.orders_taken,
                     self.units_taken, self.booked, self.full, self.tmark, self.tlog, ctl, self.status,
                     self.rem_status, self.oday, self.ocnt, self.oreg, self.opol, self.optr, self.promised, self.total, self.pkg_ptr, self.unfilled, self.why, self.rem_why, self.pkg_node, self.pkg_service,
                     self.pkg_day, self.pkg_ship_by, self.pkg_promised, self.pkg_transit, self.pkg_kg,
                     self.pkg_c_package, self.pkg_c_weight, self.pkg_c_distance, self.pkg_c_handling,
                     self.pkg_line_ptr, self.pkg_sku, self.pkg_qty)


