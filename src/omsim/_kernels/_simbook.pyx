# cython: language_level=3
"""The simulator's bookkeeping of a run of committed decisions, in one pass.

:meth:`omsim.sim.model.Simulation._accept` hands over a run of decisions as
the engine's columns (:class:`omsim.engine.DecisionArrays`) and the
simulator's own columns (order table, package table, event log, wave queues).
One call does what some forty NumPy calls did per run: it appends the
packages, fills the orders' rows, logs ``allocated``/``partial`` and puts the
packages in their node's wave queue. The reference is
:func:`omsim.sim.book.accept_reference` (tests compare the two).

The caller guarantees room: package rows and lines, log rows (one per order)
and queue slots (one per package, per node) past the counts given.
"""
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t


def accept(const int64_t[::1] oids,            # IN  (m,) order rows
           const double[::1] times,            # IN  (m,) decision times
           const int8_t[::1] status,           # IN  (>=m,) DECISION_STATUSES index
           const double[::1] promised,         # IN  (>=m,) promised delivery (nan: nothing ships)
           const int64_t[::1] pkg_ptr,         # IN  (>=m+1,) packages of order i: pkg_ptr[i]:pkg_ptr[i+1]
           const int64_t[::1] line_ptr,        # IN  (m+1,) the orders' input lines (first only)
           const int64_t[::1] unfilled,        # IN  units unfilled per input line (first only)
           const int64_t[::1] pkg_node,        # IN  per package
           const int64_t[::1] pkg_service,     # IN  per package
           const double[::1] pkg_ship_by,      # IN  per package
           const double[::1] pkg_transit,      # IN  per package
           const double[::1] c_package,        # IN  per package
           const double[::1] c_weight,         # IN  per package
           const double[::1] c_distance,       # IN  per package
           const double[::1] c_handling,       # IN  per package
           const int64_t[::1] pkg_line_ptr,    # IN  lines of package p: pkg_line_ptr[p]:pkg_line_ptr[p+1]
           const int64_t[::1] pkg_sku,         # IN  per package line
           const int64_t[::1] pkg_qty,         # IN  per package line
           bint first,                         # IN  the orders' first decision (fills lines_short, units_first)
           int partial_code,                   # IN  status code of "partial"
           int ev_allocated,                   # IN  event code
           int ev_partial,                     # IN  event code
           const int32_t[::1] alloc_detail,    # IN  detail code per package count (last for more)
           int active_state,                   # IN  order state code of an accepted order
           const int64_t[::1] ot_units,        # IN  order table: units ordered
           int64_t[::1] ot_lines_short,        # INOUT order table (first only)
           int64_t[::1] ot_units_first,        # INOUT order table (first only)
           int64_t[::1] ot_pkg0,               # INOUT order table: first package row
           int32_t[::1] ot_pending,            # INOUT order table: packages not shipped
           int32_t[::1] ot_packages,           # INOUT order table: packages
           double[::1] ot_promised,            # INOUT order table
           int8_t[::1] ot_state,               # INOUT order table
           int64_t[::1] p_order,               # INOUT package table columns, rows r0.. written
           int64_t[::1] p_k,                   # INOUT
           int64_t[::1] p_node,                # INOUT
           int64_t[::1] p_service,             # INOUT
           int64_t[::1] p_units,               # INOUT
           int64_t[::1] p_line_a,              # INOUT
           int64_t[::1] p_line_b,              # INOUT
           double[::1] p_ship_by,              # INOUT
           double[::1] p_transit,              # INOUT
           double[::1] p_cost_ship,            # INOUT package + weight + distance
           double[::1] p_cost_handling,        # INOUT
           int64_t[::1] p_sku,                 # INOUT line pool, rows q0.. written
           int64_t[::1] p_qty,                 # INOUT
           int64_t r0,                         # IN  first free package row
           int64_t q0,                         # IN  first free line-pool row
           double[::1] log_t,                  # INOUT event log columns, rows l0.. written
           int64_t[::1] log_oid,               # INOUT
           int8_t[::1] log_ev,                 # INOUT
           int16_t[::1] log_node,              # INOUT
           int32_t[::1] log_detail,            # INOUT
           int64_t l0,                         # IN  first free log row
           int64_t[:, ::1] q_rows,             # INOUT (N, cap) wave queue: package rows per node
           double[:, ::1] q_t,                 # INOUT (N, cap) their decision times
           int64_t[::1] q_tail,                # INOUT (N,) first free slot per node
           int64_t[::1] counts):               # OUT (6,) packages, lines, log rows, orders opened,
                                               #     orders without a package, partial orders
    """Append a run's packages, fill its orders' rows, log its decisions and queue its packages."""
    cdef Py_ssize_t m = oids.shape[0]
    cdef Py_ssize_t i, p, l, k, a, b, nd
    cdef int64_t o, npk, r = r0, q = q0, lg = l0, units, unf, short, opened = 0, none = 0, partial = 0
    cdef int64_t nalloc = alloc_detail.shape[0]
    with nogil:
        for i in range(m):
            o = oids[i]
            a = pkg_ptr[i]
            b = pkg_ptr[i + 1]
            npk = b - a
            if first:
                short = 0
                unf = 0
                for l in range(line_ptr[i], line_ptr[i + 1]):
                    if unfilled[l] > 0:
                        short += 1
                        unf += unfilled[l]
                ot_lines_short[o] = short
                ot_units_first[o] = ot_units[o] - unf if npk > 0 else 0
            if status[i] == partial_code:
                partial += 1
            if npk == 0:
                none += 1
                continue
            opened += 1
            ot_pkg0[o] = r
            ot_pending[o] = <int32_t>npk
            ot_packages[o] = <int32_t>npk
            ot_promised[o] = promised[i]
            ot_state[o] = <int8_t>active_state
            log_t[lg] = times[i]
            log_oid[lg] = o
            log_ev[lg] = <int8_t>(ev_partial if status[i] == partial_code else ev_allocated)
            log_node[lg] = -1
            log_detail[lg] = alloc_detail[npk if npk < nalloc else nalloc - 1]
            lg += 1
            for k in range(npk):
                p = a + k
                p_order[r] = o
                p_k[r] = k
                nd = pkg_node[p]
                p_node[r] = nd
                p_service[r] = pkg_service[p]
                p_ship_by[r] = pkg_ship_by[p]
                p_transit[r] = pkg_transit[p]
                p_cost_ship[r] = c_package[p] + c_weight[p] + c_distance[p]
                p_cost_handling[r] = c_handling[p]
                p_line_a[r] = q
                units = 0
                for l in range(pkg_line_ptr[p], pkg_line_ptr[p + 1]):
                    p_sku[q] = pkg_sku[l]
                    p_qty[q] = pkg_qty[l]
                    units += pkg_qty[l]
                    q += 1
                p_line_b[r] = q
                p_units[r] = units
                q_rows[nd, q_tail[nd]] = r
                q_t[nd, q_tail[nd]] = times[i]
                q_tail[nd] += 1
                r += 1
    counts[0] = r - r0
    counts[1] = q - q0
    counts[2] = lg - l0
    counts[3] = opened
    counts[4] = none
    counts[5] = partial
