# cython: language_level=3
"""The simulator's bookkeeping of a run of committed decisions, in one pass.

:meth:`omsim.sim.model.Simulation._accept` hands over a run of decisions as
the engine's columns (:class:`omsim.engine.DecisionArrays`) and the
simulator's own columns (order table, package table, event log, wave queues).
One call does what some forty NumPy calls did per run: it appends the
packages, fills the orders' rows, logs ``allocated``/``partial`` and puts the
packages in their node's wave queue. The reference is
:func:`omsim.sim.book.accept_reference` (tests compare the two).

A :class:`Book` holds the simulator's columns (bound once, again after any of
them is replaced by growth: binding a typed memoryview costs about as much as
booking a few orders), and its :meth:`Book.accept` takes only the run's
decision columns. The caller guarantees room: package rows and lines, log rows
(one per order) and queue slots (one per package, per node) past the counts
the table objects hold.
"""
from libc.math cimport ceil
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t



cdef class Book:
    """The simulator's order table, package table, event log and wave queue columns, as memoryviews."""

    cdef const int64_t[::1] ot_units           # IN  order table: units ordered
    cdef int64_t[::1] ot_lines_short           # INOUT (first decisions only)
    cdef int64_t[::1] ot_units_first           # INOUT (first decisions only)
    cdef int64_t[::1] ot_pkg0                  # INOUT first package row
    cdef int32_t[::1] ot_pending               # INOUT packages not shipped
    cdef int32_t[::1] ot_packages              # INOUT packages
    cdef double[::1] ot_promised               # INOUT
    cdef int8_t[::1] ot_state                  # INOUT
    cdef int64_t[::1] p_order, p_k, p_node, p_service, p_units, p_line_a, p_line_b   # INOUT package table
    cdef double[::1] p_ship_by, p_transit, p_cost_ship, p_cost_handling              # INOUT package table
    cdef int64_t[::1] p_sku, p_qty             # INOUT line pool
    cdef double[::1] log_t                     # INOUT event log
    cdef int64_t[::1] log_oid
    cdef int8_t[::1] log_ev
    cdef int16_t[::1] log_node
    cdef int32_t[::1] log_detail
    cdef int64_t[:, ::1] q_rows                # INOUT (N, cap) wave queue: package rows per node
    cdef double[:, ::1] q_t                    # INOUT (N, cap) their decision times
    cdef int64_t[::1] q_tail                   # INOUT (N,) first free slot per node
    cdef const int32_t[::1] alloc_detail       # IN  log detail per package count (last for more)
    cdef int partial_code, ev_allocated, ev_partial, active_state

    def __init__(self, const int32_t[::1] alloc_detail,   # IN  detail code per package count
                 int partial_code,                       # IN  status code of "partial"
                 int ev_allocated,                       # IN  event code
                 int ev_partial,                         # IN  event code
                 int active_state):                      # IN  order state of an accepted order
        self.alloc_detail = alloc_detail
        self.partial_code = partial_code
        self.ev_allocated = ev_allocated
        self.ev_partial = ev_partial
        self.active_state = active_state

    def bind(self, ot, P, log, queues):
        """(Re)bind the columns of the order table, package table, event log and wave queues."""
        self.ot_units = ot.units
        self.ot_lines_short = ot.lines_short
        self.ot_units_first = ot.units_first
        self.ot_pkg0 = ot.pkg0
        self.ot_pending = ot.pending
        self.ot_packages = ot.packages
        self.ot_promised = ot.promised_h
        self.ot_state = ot.state
        self.p_order, self.p_k, self.p_node, self.p_service = P.order, P.k, P.node, P.service
        self.p_units, self.p_line_a, self.p_line_b = P.units, P.line_a, P.line_b
        self.p_ship_by, self.p_transit, self.p_cost_ship, self.p_cost_handling = (P.ship_by, P.transit, P.cost_ship,
                                                                                  P.cost_handling)
        self.p_sku, self.p_qty = P.sku, P.qty
        self.log_t, self.log_oid, self.log_ev, self.log_node, self.log_detail = (log._t, log._oid, log._ev,
                                                                                 log._node, log._detail)
        self.q_rows, self.q_t, self.q_tail = queues.rows, queues.t, queues.tail

    def accept(self,
               const int64_t[::1] oids,            # IN  (m,) order rows
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
               bint first,                         # IN  the orders' first decision (lines_short, units_first)
               int64_t r0,                         # IN  first free package row
               int64_t q0,                         # IN  first free line-pool row
               int64_t l0):                        # IN  first free log row
        """Append a run's packages, fill its orders' rows, log its decisions and queue its packages.

        Returns (packages, lines, log rows, orders with packages, orders without, partial orders).
        """
        cdef Py_ssize_t m = oids.shape[0]
        cdef Py_ssize_t i, p, l, k, a, b, nd
        cdef int64_t o, npk, r = r0, q = q0, lg = l0, units, unf, short, opened = 0, none = 0, partial = 0
        cdef int64_t nalloc = self.alloc_detail.shape[0]
        cdef int partial_code = self.partial_code
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
                    self.ot_lines_short[o] = short
                    self.ot_units_first[o] = self.ot_units[o] - unf if npk > 0 else 0
                if status[i] == partial_code:
                    partial += 1
                if npk == 0:
                    none += 1
                    continue
                opened += 1
                self.ot_pkg0[o] = r
                self.ot_pending[o] = <int32_t>npk
                self.ot_packages[o] = <int32_t>npk
                self.ot_promised[o] = promised[i]
                self.ot_state[o] = <int8_t>self.active_state
                self.log_t[lg] = times[i]
                self.log_oid[lg] = o
                self.log_ev[lg] = <int8_t>(self.ev_partial if status[i] == partial_code else self.ev_allocated)
                self.log_node[lg] = -1
                self.log_detail[lg] = self.alloc_detail[npk if npk < nalloc else nalloc - 1]
                lg += 1
                for k in range(npk):
                    p = a + k
                    self.p_order[r] = o
                    self.p_k[r] = k
                    nd = pkg_node[p]
                    self.p_node[r] = nd
                    self.p_service[r] = pkg_service[p]
                    self.p_ship_by[r] = pkg_ship_by[p]
                    self.p_transit[r] = pkg_transit[p]
                    self.p_cost_ship[r] = c_package[p] + c_weight[p] + c_distance[p]
                    self.p_cost_handling[r] = c_handling[p]
                    self.p_line_a[r] = q
                    units = 0
                    for l in range(pkg_line_ptr[p], pkg_line_ptr[p + 1]):
                        self.p_sku[q] = pkg_sku[l]
                        self.p_qty[q] = pkg_qty[l]
                        units += pkg_qty[l]
                        q += 1
                    self.p_line_b[r] = q
                    self.p_units[r] = units
                    self.q_rows[nd, self.q_tail[nd]] = r
                    self.q_t[nd, self.q_tail[nd]] = times[i]
                    self.q_tail[nd] += 1
                    r += 1
        return r - r0, q - q0, lg - l0, opened, none, partial

    def picked(self,
               const int64_t[::1] pk,              # IN  package rows of the tote
               const int64_t[::1] errs,            # IN  pick errors per package
               int node,                           # IN  the warehouse
               double end,                         # IN  the pick's end (h)
               int ev_picked,                      # IN  event code
               double pack_s,                      # IN  packing time per package (s)
               double unit_s,                      # IN  packing time per unit (s)
               double error_s,                     # IN  extra packing time per pick error (s; 0 without scan)
               int64_t l0,                         # IN  first free log row
               double[::1] cum):                   # OUT (len(pk),) packing time to each package's end (h)
        """Log a tote's ``picked`` rows and time its packing.

        Returns (log rows, total packing hours, packages with a pick error).
        """
        cdef Py_ssize_t i, m = pk.shape[0]
        cdef int64_t r, bad = 0
        cdef double total = 0.0
        with nogil:
            for i in range(m):
                r = pk[i]
                self.log_t[l0 + i] = end
                self.log_oid[l0 + i] = self.p_order[r]
                self.log_ev[l0 + i] = <int8_t>ev_picked
                self.log_node[l0 + i] = <int16_t>node
                self.log_detail[l0 + i] = 0
                total += (pack_s + unit_s * self.p_units[r] + error_s * errs[i]) / 3600.0
                cum[i] = total
                if errs[i] > 0:
                    bad += 1
        return m, total, bad

    def packed(self,
               const int64_t[::1] pk,              # IN  package rows of the tote
               const double[::1] cum,              # IN  packing time to each package's end (h)
               int node,                           # IN  the warehouse
               double start,                       # IN  the packing's start (h)
               double end,                         # IN  the packing's end (h): the tote reaches staging whole
               int ev_packed,                      # IN  event code
               int ev_missed,                      # IN  event code
               int missed_detail,                  # IN  detail code of a missed cut-off
               int64_t l0,                         # IN  first free log row
               double[::1] pickup):                # OUT (len(pk),) the pickup each package leaves with (h)
        """Log a tote's ``packed`` rows and the packages that missed their cut-off; each one's pickup.

        A package packed after its planned pickup (``ship_by``), or packed in time in a tote that
        reaches staging after it, waits for the same pickup a whole number of days later.
        Returns (log rows, True when every package leaves with the first one's pickup).
        """
        cdef Py_ssize_t i, m = pk.shape[0]
        cdef int64_t r, lg = l0
        cdef double fin, sb, ready, days
        cdef bint same = True
        with nogil:
            for i in range(m):
                r = pk[i]
                fin = start + cum[i]
                self.log_t[lg] = fin
                self.log_oid[lg] = self.p_order[r]
                self.log_ev[lg] = <int8_t>ev_packed
                self.log_node[lg] = <int16_t>node
                self.log_detail[lg] = 0
                lg += 1
            for i in range(m):
                r = pk[i]
                fin = start + cum[i]
                sb = self.p_ship_by[r]
                if fin > sb:
                    ready = fin
                elif end > sb:
                    ready = end
                else:
                    ready = fin
                if ready > sb:
                    days = ceil((ready - sb) / 24.0 - 1e-12)
                    pickup[i] = sb + 24.0 * days
                    self.log_t[lg] = ready
                    self.log_oid[lg] = self.p_order[r]
                    self.log_ev[lg] = <int8_t>ev_missed
                    self.log_node[lg] = <int16_t>node
                    self.log_detail[lg] = missed_detail
                    lg += 1
                else:
                    pickup[i] = sb
                if pickup[i] != pickup[0]:
                    same = False
        return lg - l0, same


def span_offsets(const int64_t[::1] a,      # IN  (n,) range starts
                 const int64_t[::1] b,      # IN  (n,) range ends (>= starts)
                 int64_t[::1] ptr):         # OUT (n+1,) CSR offsets of the concatenated ranges
    """Fill ``ptr`` with the offsets of ranges ``a[i]:b[i]`` laid end to end; returns their total length."""
    cdef Py_ssize_t i, n = a.shape[0]
    cdef int64_t s = 0
    with nogil:
        ptr[0] = 0
        for i in range(n):
            s += b[i] - a[i]
            ptr[i + 1] = s
    return s


def span_positions(const int64_t[::1] a,    # IN  (n,) range starts
                   const int64_t[::1] ptr,  # IN  (n+1,) offsets (span_offsets)
                   int64_t[::1] idx):       # OUT (ptr[n],) the positions a[i], a[i]+1, ... of every range
    """Fill ``idx`` with the positions the ranges cover, range after range."""
    cdef Py_ssize_t i, k, n = a.shape[0]
    with nogil:
        for i in range(n):
            for k in range(ptr[i + 1] - ptr[i]):
                idx[ptr[i] + k] = a[i] + k
