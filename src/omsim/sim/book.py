"""Bookkeeping of committed decisions: wave queues and the reference of the accept kernel.

:meth:`Booking.accept` books a run of committed decisions (the engine's
columns) into the simulator's columns in one compiled pass
(:mod:`omsim._kernels._simbook`); :func:`accept_reference` is its slow,
obvious twin, used by the tests.
"""
from __future__ import annotations

import numpy as np

from omsim._kernels import _simbook


class WaveQueues:
    """Per node, the package rows waiting for the next wave, with their decision times (non-decreasing).

    One ``(N, cap)`` buffer per column; a node's waiting rows are ``rows[n, head[n]:tail[n]]``.
    """

    def __init__(self, nodes: int, capacity: int = 1024):
        self.cap = max(int(capacity), 16)
        self.rows = np.zeros((nodes, self.cap), dtype=np.int64)
        self.t = np.zeros((nodes, self.cap), dtype=np.float64)
        self.head = np.zeros(nodes, dtype=np.int64)
        self.tail = np.zeros(nodes, dtype=np.int64)
        self._hi = 0      # a bound on max(tail): room is checked without reading the array

    def __len__(self) -> int:
        return int((self.tail - self.head).sum())

    def waiting(self, n: int) -> int:
        """Packages waiting at node ``n``."""
        return int(self.tail[n] - self.head[n])

    def reserve(self, k: int) -> None:
        """Room for ``k`` more packages at every node (k in all: no node gets more than k)."""
        if self._hi + k <= self.cap:
            self._hi += k
            return
        live = self.tail - self.head
        cap = self.cap
        if int(live.max()) + k > cap // 2:
            cap = max(2 * cap, int(live.max()) + k)
        # Arrays are replaced only when they grow (the accept kernel keeps them bound); else moved in place.
        rows = np.zeros((self.rows.shape[0], cap), dtype=np.int64) if cap != self.cap else self.rows
        t = np.zeros((self.rows.shape[0], cap), dtype=np.float64) if cap != self.cap else self.t
        for n in range(rows.shape[0]):
            h, e = int(self.head[n]), int(self.tail[n])
            rows[n, : e - h] = self.rows[n, h:e].copy()
            t[n, : e - h] = self.t[n, h:e].copy()
        self.rows, self.t, self.cap = rows, t, cap
        self.head[:] = 0
        self.tail[:] = live
        self._hi = int(live.max()) + k

    def push(self, n: int, rows: np.ndarray, t: np.ndarray) -> None:
        """Queue ``rows`` decided at times ``t`` at node ``n`` (the reference path)."""
        self.reserve(rows.size)
        e = int(self.tail[n])
        self.rows[n, e:e + rows.size] = rows
        self.t[n, e:e + rows.size] = t
        self.tail[n] = e + rows.size

    def take(self, n: int, t: float) -> np.ndarray:
        """Remove and return the rows of node ``n`` decided by time ``t``, in decision order."""
        h, e = int(self.head[n]), int(self.tail[n])
        if h == e:
            return self.rows[n, :0].copy()
        times = self.t[n]
        cut = e if times[e - 1] <= t else h + int(np.searchsorted(times[h:e], t, side="right"))
        self.head[n] = cut
        return self.rows[n, h:cut].copy()


def _inputs(oids, first, lp):
    m = oids.size
    if lp is None or not first:
        lp = np.zeros(m + 1, dtype=np.int64)
    return m, np.ascontiguousarray(lp, dtype=np.int64)


class Booking:
    """Books runs of committed decisions into the simulator's columns (:meth:`accept`), in one kernel call.

    The kernel holds the tables' columns bound (binding costs about as much as booking a few orders);
    they are bound again when a table grew (replaced its arrays).
    """

    def __init__(self, ot, P, log, queues: WaveQueues, partial_code: int, ev_allocated: int, ev_partial: int,
                 alloc_detail: np.ndarray, active_state: int):
        self.ot, self.P, self.log, self.queues = ot, P, log, queues
        self._k = _simbook.Book(np.ascontiguousarray(alloc_detail, dtype=np.int32), partial_code, ev_allocated,
                                ev_partial, active_state)
        self._caps = None

    def _bind(self) -> None:
        caps = (self.ot.cap, self.P.cap, self.P.lcap, self.log.cap, self.queues.cap)
        if caps != self._caps:
            self._k.bind(self.ot, self.P, self.log, self.queues)
            self._caps = caps

    def picked(self, pk: np.ndarray, errs: np.ndarray, node: int, end: float, ev_picked: int, pack_s: float,
               unit_s: float, error_s: float) -> tuple[np.ndarray, float, int]:
        """Log tote ``pk``'s ``picked`` rows (at ``end``) and time its packing.

        Returns the packing time to each package's end (h, cumulative), the total and the number of
        packages with a pick error (``errs``; each adds ``error_s`` seconds).
        """
        log = self.log
        log.reserve(pk.size)
        self._bind()
        cum = np.empty(pk.size)
        rows, total, bad = self._k.picked(pk, errs, node, end, ev_picked, pack_s, unit_s, error_s, log.n, cum)
        log.n += rows
        return cum, total, bad

    def packed(self, pk: np.ndarray, cum: np.ndarray, node: int, start: float, end: float, ev_packed: int,
               ev_missed: int, missed_detail: int) -> tuple[np.ndarray, bool]:
        """Log tote ``pk``'s ``packed`` rows (packing from ``start`` to ``end``) and its missed cut-offs.

        Returns each package's pickup time and whether they are all the same.
        """
        log = self.log
        log.reserve(2 * pk.size)
        self._bind()
        pickup = np.empty(pk.size)
        rows, same = self._k.packed(pk, cum, node, start, end, ev_packed, ev_missed, missed_detail, log.n, pickup)
        log.n += rows
        return pickup, same

    def accept(self, da, oids: np.ndarray, times: np.ndarray, first: bool, lp: np.ndarray | None) -> tuple:
        """Book decisions ``da`` of orders ``oids`` (its first ``oids.size``).

        Fills, for the orders with packages, the order table's ``pkg0, pending, packages, promised_h,
        state`` (and, when ``first``, ``lines_short, units_first`` of every order, from ``lp`` and
        ``da.unfilled``), appends their packages to the package table, logs ``allocated`` or ``partial``
        and queues the packages at their node. Returns counts: packages, lines, log rows, orders with
        packages, orders without, partial orders.
        """
        P, log, queues = self.P, self.log, self.queues
        m, lp = _inputs(oids, first, lp)
        pp = da.pkg_ptr
        P0, P1 = int(pp[0]), int(pp[m])
        lptr = da.pkg_line_ptr
        P._grow(P.n + (P1 - P0), P.nl + int(lptr[P1] - lptr[P0]))
        log.reserve(m)
        queues.reserve(P1 - P0)
        self._bind()
        counts = self._k.accept(oids, times, da.status, da.promised_h, pp, lp, da.unfilled, da.pkg_node,
                                da.pkg_service, da.pkg_ship_by_h, da.pkg_transit_h, da.pkg_cost_package,
                                da.pkg_cost_weight, da.pkg_cost_distance, da.pkg_cost_handling, lptr, da.pkg_sku,
                                da.pkg_qty, bool(first), P.n, P.nl, log.n)
        P.n += counts[0]
        P.nl += counts[1]
        log.n += counts[2]
        return counts


def accept_reference(da, oids: np.ndarray, times: np.ndarray, first: bool, lp: np.ndarray | None, ot, P, log,
                     queues: WaveQueues, partial_code: int, ev_allocated: int, ev_partial: int,
                     alloc_detail: np.ndarray, active_state: int) -> np.ndarray:
    """:meth:`Booking.accept` one order and one package at a time, in NumPy and plain Python."""
    m, lp = _inputs(oids, first, lp)
    counts = np.zeros(6, dtype=np.int64)
    for i in range(m):
        o = int(oids[i])
        a, b = int(da.pkg_ptr[i]), int(da.pkg_ptr[i + 1])
        st = int(da.status[i])
        if first:
            unf = da.unfilled[lp[i]:lp[i + 1]]
            ot.lines_short[o] = int((unf > 0).sum())
            ot.units_first[o] = int(ot.units[o]) - int(unf.sum()) if b > a else 0
        counts[5] += st == partial_code
        if b == a:
            counts[4] += 1
            continue
        counts[3] += 1
        ot.pkg0[o] = P.n
        ot.pending[o] = ot.packages[o] = b - a
        ot.promised_h[o] = da.promised_h[i]
        ot.state[o] = active_state
        log.add(float(times[i]), o, ev_partial if st == partial_code else ev_allocated, -1,
                int(alloc_detail[min(b - a, alloc_detail.size - 1)]))
        counts[2] += 1
        for k in range(b - a):
            p = a + k
            r = P.n
            la, lb = int(da.pkg_line_ptr[p]), int(da.pkg_line_ptr[p + 1])
            P._grow(r + 1, P.nl + lb - la)
            P.order[r], P.k[r], P.node[r], P.service[r] = o, k, da.pkg_node[p], da.pkg_service[p]
            P.ship_by[r], P.transit[r] = da.pkg_ship_by_h[p], da.pkg_transit_h[p]
            P.cost_ship[r] = da.pkg_cost_package[p] + da.pkg_cost_weight[p] + da.pkg_cost_distance[p]
            P.cost_handling[r] = da.pkg_cost_handling[p]
            P.line_a[r] = P.nl
            P.sku[P.nl:P.nl + lb - la] = da.pkg_sku[la:lb]
            P.qty[P.nl:P.nl + lb - la] = da.pkg_qty[la:lb]
            P.units[r] = int(da.pkg_qty[la:lb].sum())
            P.nl += lb - la
            P.line_b[r] = P.nl
            P.n = r + 1
            counts[0] += 1
            counts[1] += lb - la
            queues.push(int(da.pkg_node[p]), np.array([r]), np.array([float(times[i])]))
    return counts


def picked_reference(P, log, pk, errs, node, end, ev_picked, pack_s, unit_s, error_s):
    """:meth:`Booking.picked` in NumPy."""
    log.add_many(end, P.order[pk], ev_picked, node)
    pack_h = (pack_s + unit_s * P.units[pk] + error_s * errs) / 3600.0
    cum = np.cumsum(pack_h)
    return cum, float(cum[-1]), int(np.count_nonzero(errs > 0))


def packed_reference(P, log, pk, cum, node, start, end, ev_packed, ev_missed, missed_detail):
    """:meth:`Booking.packed` in NumPy."""
    finish = start + cum
    log.add_many(finish, P.order[pk], ev_packed, node)
    ship_by = P.ship_by[pk]
    ready = np.where(finish > ship_by, finish, np.where(end > ship_by, end, finish))
    late = ready > ship_by
    T = ship_by.copy()
    T[late] = ship_by[late] + 24.0 * np.ceil((ready[late] - ship_by[late]) / 24.0 - 1e-12)
    log.add_many(ready[late], P.order[pk[late]], ev_missed, node, missed_detail)
    return T, bool((T == T[0]).all())
