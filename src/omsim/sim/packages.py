"""The simulator's packages as columns.

A package is one shipment of one order: one node, one carrier service, its
lines. The engine hands a run of decisions over as columns
(:meth:`omsim.engine.DecisionEngine.decide_commit_arrays`); the simulator
keeps their packages as rows of :class:`PackageTable` (growing by doubling)
and refers to a package by its row everywhere (wave queues, totes, pickups),
never as a Python object. Decisions taken one at a time (the ``batch``
policy's windows) come back as :class:`~omsim.orders.Decision` objects and
are laid out the same way by :func:`omsim.engine.decision_arrays`.
"""
from __future__ import annotations

import numpy as np

from omsim.ranges import spans


class PackageTable:
    """Committed packages as growable columns; lines in a shared CSR pool.

    Columns: ``order``, ``k`` (shipment index within the order), ``node``,
    ``service``, ``units``, ``ship_by``, ``transit``, ``cost_ship``
    (package + weight + distance rates), ``cost_handling``, and
    ``line_a:line_b``, the package's rows of the line pool ``sku``, ``qty``; ``closed``: its order
    is complete (every package on its way). Rows below ``lo`` and lines below ``llo`` were released
    by a streamed run (:mod:`omsim.sim.release`): never read again, not copied when the table grows.
    """

    _I8 = ("order", "k", "node", "service", "units", "line_a", "line_b")
    _F8 = ("ship_by", "transit", "cost_ship", "cost_handling")

    def __init__(self, capacity: int = 1024, line_capacity: int = 4096):
        self.n = 0
        self.cap = max(int(capacity), 16)
        for f in self._I8:
            setattr(self, f, np.zeros(self.cap, dtype=np.int64))
        for f in self._F8:
            setattr(self, f, np.zeros(self.cap, dtype=np.float64))
        self.nl = 0
        self.lcap = max(int(line_capacity), 16)
        self.sku = np.zeros(self.lcap, dtype=np.int64)
        self.qty = np.zeros(self.lcap, dtype=np.int64)
        self.closed = np.zeros(self.cap, dtype=np.bool_)
        self.lo = self.llo = 0

    def _grow(self, rows: int, lines: int) -> None:
        # By a quarter, not doubling: the table is sized for one package an order and outgrows it only by
        # the split shipments; doubling a run's table at 9M orders would hold 9M empty rows (0.8 GB).
        if rows > self.cap:
            new = max(rows, self.cap + self.cap // 4 + 16)
            for f in self._I8 + self._F8 + ("closed",):
                old = getattr(self, f)
                arr = np.zeros(new, dtype=old.dtype)
                arr[self.lo:self.n] = old[self.lo:self.n]
                setattr(self, f, arr)
            self.cap = new
        if lines > self.lcap:
            new = max(lines, self.lcap + self.lcap // 4 + 16)
            for f in ("sku", "qty"):
                old = getattr(self, f)
                arr = np.zeros(new, dtype=np.int64)
                arr[self.llo:self.nl] = old[self.llo:self.nl]
                setattr(self, f, arr)
            self.lcap = new

    def append(self, da, p0: int, p1: int, order: np.ndarray, k: np.ndarray) -> tuple[int, int]:
        """Add packages ``p0:p1`` of decision columns ``da`` (their order ids and shipment indices given).

        Returns the new rows ``(start, stop)``.
        """
        m = p1 - p0
        l0, l1 = int(da.pkg_line_ptr[p0]), int(da.pkg_line_ptr[p1])
        r0, q0 = self.n, self.nl
        self._grow(r0 + m, q0 + l1 - l0)
        r1 = r0 + m
        self.order[r0:r1] = order
        self.k[r0:r1] = k
        self.node[r0:r1] = da.pkg_node[p0:p1]
        self.service[r0:r1] = da.pkg_service[p0:p1]
        self.ship_by[r0:r1] = da.pkg_ship_by_h[p0:p1]
        self.transit[r0:r1] = da.pkg_transit_h[p0:p1]
        self.cost_ship[r0:r1] = (da.pkg_cost_package[p0:p1] + da.pkg_cost_weight[p0:p1]
                                 + da.pkg_cost_distance[p0:p1])
        self.cost_handling[r0:r1] = da.pkg_cost_handling[p0:p1]
        lp = da.pkg_line_ptr[p0:p1 + 1]
        self.line_a[r0:r1] = lp[:-1] - l0 + q0
        self.line_b[r0:r1] = lp[1:] - l0 + q0
        self.sku[q0:q0 + l1 - l0] = da.pkg_sku[l0:l1]
        q = da.pkg_qty[l0:l1]
        self.qty[q0:q0 + l1 - l0] = q
        self.units[r0:r1] = np.add.reduceat(q, lp[:-1] - l0) if m else 0
        self.n, self.nl = r1, q0 + l1 - l0
        return r0, r1

    def lines(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (ptr, sku, qty) of the lines of packages ``rows``, in that order."""
        ptr, idx = spans(self.line_a[rows], self.line_b[rows])
        return ptr, self.sku[idx], self.qty[idx]
