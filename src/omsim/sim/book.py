"""Bookkeeping of committed decisions: wave queues and the reference of the accept kernel.

:func:`accept` books a run of committed decisions (the engine's columns) into
the simulator's columns in one compiled pass (:mod:`omsim._kernels._simbook`);
:func:`accept_reference` is its slow, obvious NumPy twin, used by the tests.
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

    def __len__(self) -> int:
        return int((self.tail - self.head).sum())

    def waiting(self, n: int) -> int:
        """Packages waiting at node ``n``."""
        return int(self.tail[n] - self.head[n])

    def reserve(self, k: int) -> None:
        """Room for ``k`` more packages at every node."""
        if int(self.tail.max()) + k <= self.cap:
            return
        live = self.tail - self.head
        cap = self.cap
        if int(live.max()) + k > cap // 2:
            cap = max(2 * cap, int(live.max()) + k)
        rows = np.zeros((self.rows.shape[0], cap), dtype=np.int64)
        t = np.zeros((self.rows.shape[0], cap), dtype=np.float64)
        for n in range(rows.shape[0]):
            h, e = int(self.head[n]), int(self.tail[n])
            rows[n, : e - h] = self.rows[n, h:e]
            t[n, : e - h] = self.t[n, h:e]
        self.rows, self.t, self.cap = rows, t, cap
        self.head[:] = 0
        self.tail[:] = live

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


def accept(da, oids: np.ndarray, times: np.ndarray, first: bool, lp: np.ndarray | None, ot, P, log,
           queues: WaveQueues, partial_code: int, ev_allocated: int, ev_partial: int, alloc_detail: np.ndarray,
           active_state: int) -> np.ndarray:
    """Book decisions ``da`` of orders ``oids`` (its first ``oids.size``) in one kernel call.

    Fills, for the orders with packages, the order table's ``pkg0, pending, packages, promised_h,
    state`` (and, when ``first``, ``lines_short, units_first`` of every order from ``lp`` and
    ``da.unfilled``), appends their packages to ``P``, logs ``allocated`` or ``partial`` and queues the
    packages at their node. Returns counts: packages, lines, log rows, orders with packages, orders
    without, partial orders.
    """
    m, lp = _inputs(oids, first, lp)
    pp = da.pkg_ptr
    P0, P1 = int(pp[0]), int(pp[m])
    lptr = da.pkg_line_ptr
    nlines = int(lptr[P1] - lptr[P0])
    P._grow(P.n + (P1 - P0), P.nl + nlines)
    log.reserve(m)
    queues.reserve(P1 - P0)
    counts = np.zeros(6, dtype=np.int64)
    _simbook.accept(np.ascontiguousarray(oids, dtype=np.int64), np.ascontiguousarray(times, dtype=np.float64),
                    da.status, da.promised_h, pp, lp, da.unfilled, da.pkg_node, da.pkg_service, da.pkg_ship_by_h,
                    da.pkg_transit_h, da.pkg_cost_package, da.pkg_cost_weight, da.pkg_cost_distance,
                    da.pkg_cost_handling, lptr, da.pkg_sku, da.pkg_qty, bool(first), partial_code, ev_allocated,
                    ev_partial, alloc_detail, active_state, ot.units, ot.lines_short, ot.units_first, ot.pkg0,
                    ot.pending, ot.packages, ot.promised_h, ot.state, P.order, P.k, P.node, P.service, P.units,
                    P.line_a, P.line_b, P.ship_by, P.transit, P.cost_ship, P.cost_handling, P.sku, P.qty, P.n, P.nl,
                    log._t, log._oid, log._ev, log._node, log._detail, log.n, queues.rows, queues.t, queues.tail,
                    counts)
    P.n += int(counts[0])
    P.nl += int(counts[1])
    log.n += int(counts[2])
    return counts


def accept_reference(da, oids: np.ndarray, times: np.ndarray, first: bool, lp: np.ndarray | None, ot, P, log,
                     queues: WaveQueues, partial_code: int, ev_allocated: int, ev_partial: int,
                     alloc_detail: np.ndarray, active_state: int) -> np.ndarray:
    """:func:`accept` one order and one package at a time, in NumPy and plain Python."""
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
