"""The simulator's packages as columns, and committed decisions as columns.

A package is one shipment of one order: one node, one carrier service, its
lines. The engine hands a run of decisions over as columns
(:meth:`omsim.engine.DecisionEngine.decide_commit_arrays`); the simulator
keeps their packages as rows of :class:`PackageTable` (growing by doubling)
and refers to a package by its row everywhere (wave queues, totes, pickups),
never as a Python object. Decisions taken one at a time (backorders asked
again, exchanges, remainders, the ``batch`` policy's windows) come back as
:class:`~omsim.orders.Decision` objects and are laid out the same way by
:func:`decision_columns`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Decision status codes (the index), as in :data:`omsim.engine.DECISION_STATUSES`.
STATUSES: tuple[str, ...] = ("allocated", "partial", "backorder", "hold", "cancel")
PARTIAL = STATUSES.index("partial")


@dataclass
class DecisionColumns:
    """Decisions of ``n`` orders as columns (the fields of ``omsim.engine.DecisionArrays`` the simulator reads).

    Order ``i``'s packages are rows ``pkg_ptr[i]:pkg_ptr[i + 1]`` in shipment
    order; package ``p``'s lines are ``pkg_line_ptr[p]:pkg_line_ptr[p + 1]``;
    ``unfilled`` runs over the orders' lines in order.
    """

    n: int
    status: np.ndarray
    promised_h: np.ndarray
    unfilled: np.ndarray
    pkg_ptr: np.ndarray
    pkg_node: np.ndarray
    pkg_service: np.ndarray
    pkg_ship_by_h: np.ndarray
    pkg_transit_h: np.ndarray
    pkg_cost_package: np.ndarray
    pkg_cost_weight: np.ndarray
    pkg_cost_distance: np.ndarray
    pkg_cost_handling: np.ndarray
    pkg_line_ptr: np.ndarray
    pkg_sku: np.ndarray
    pkg_qty: np.ndarray


def spans(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ranges ``a[i]:b[i]``: their CSR offsets and the positions they cover."""
    ln = b - a
    ptr = np.zeros(ln.size + 1, dtype=np.int64)
    np.cumsum(ln, out=ptr[1:])
    idx = np.arange(int(ptr[-1]), dtype=np.int64) + np.repeat(a - ptr[:-1], ln)
    return ptr, idx


def decision_columns(decisions, engine) -> DecisionColumns:
    """Lay out :class:`~omsim.orders.Decision` objects as :class:`DecisionColumns`."""
    index = engine.services.index
    ships = [s for d in decisions for s in d.shipments]
    f8 = lambda vals: np.fromiter(vals, dtype=np.float64, count=len(ships))  # noqa: E731
    npk = [len(d.shipments) for d in decisions]
    pkg_ptr = np.zeros(len(decisions) + 1, dtype=np.int64)
    np.cumsum(npk, out=pkg_ptr[1:])
    nl = [len(s.skus) for s in ships]
    line_ptr = np.zeros(len(ships) + 1, dtype=np.int64)
    np.cumsum(nl, out=line_ptr[1:])
    cat = (lambda xs: np.concatenate(xs).astype(np.int64)) if ships else (lambda xs: np.zeros(0, np.int64))
    return DecisionColumns(
        n=len(decisions),
        status=np.array([STATUSES.index(d.status) for d in decisions], dtype=np.int8),
        promised_h=np.array([np.nan if d.promised_h is None else d.promised_h for d in decisions], dtype=np.float64),
        unfilled=np.concatenate([np.asarray(d.unfilled, dtype=np.int64) for d in decisions]) if decisions
        else np.zeros(0, np.int64),
        pkg_ptr=pkg_ptr,
        pkg_node=np.array([s.node for s in ships], dtype=np.int64),
        pkg_service=np.array([index[(s.carrier, s.service)] for s in ships], dtype=np.int64),
        pkg_ship_by_h=f8(s.ship_by_h for s in ships),
        pkg_transit_h=f8(s.transit_h for s in ships),
        pkg_cost_package=f8(s.cost.get("package", 0.0) for s in ships),
        pkg_cost_weight=f8(s.cost.get("weight", 0.0) for s in ships),
        pkg_cost_distance=f8(s.cost.get("distance", 0.0) for s in ships),
        pkg_cost_handling=f8(s.cost.get("handling", 0.0) for s in ships),
        pkg_line_ptr=line_ptr,
        pkg_sku=cat([s.skus for s in ships]),
        pkg_qty=cat([s.qty for s in ships]),
    )


class PackageTable:
    """Committed packages as growable columns; lines in a shared CSR pool.

    Columns: ``order``, ``k`` (shipment index within the order), ``node``,
    ``service``, ``units``, ``ship_by``, ``transit``, ``cost_ship``
    (package + weight + distance rates), ``cost_handling``, and
    ``line_a:line_b``, the package's rows of the line pool ``sku``, ``qty``.
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

    def _grow(self, rows: int, lines: int) -> None:
        if rows > self.cap:
            new = max(rows, 2 * self.cap)
            for f in self._I8 + self._F8:
                old = getattr(self, f)
                arr = np.zeros(new, dtype=old.dtype)
                arr[: self.n] = old[: self.n]
                setattr(self, f, arr)
            self.cap = new
        if lines > self.lcap:
            new = max(lines, 2 * self.lcap)
            for f in ("sku", "qty"):
                old = getattr(self, f)
                arr = np.zeros(new, dtype=np.int64)
                arr[: self.nl] = old[: self.nl]
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
