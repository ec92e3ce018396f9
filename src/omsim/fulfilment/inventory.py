"""Inventory per node and SKU, with an append-only ledger of on-hand movements.

State lives in NumPy ``int64`` arrays indexed ``[node, sku]`` so that the
simulator and the allocation can read whole rows or the whole matrix at once:

=============  ===============================================================
``on_hand``    units physically in the node
``reserved``   units promised to accepted orders, not yet shipped
``safety``     safety stock: units kept back from available-to-promise
``inbound``    units on open replenishment orders (POs), not yet received
=============  ===============================================================

Available to promise (ATP) is ``max(on_hand - reserved - safety, 0)``.

Invariants kept by every method (each validates first and changes nothing
when it raises :class:`~omsim.errors.OmsimError`):

* ``0 <= reserved <= on_hand`` and ``inbound >= 0`` everywhere;
* every change of ``on_hand`` appends one ledger row ``(time_h, node, sku,
  delta, reason, order_id)``; the ledger starts with one ``initial`` row per
  node and SKU, so the on hand of any node and SKU at any time is the running
  sum of its ledger rows;
* ledger times never decrease (the simulator's clock only moves forward).

Reservations do not move stock and so write no ledger row.

Nodes and SKUs are addressed by position (``int``) or, when the inventory was
built with id lists, by their string id. Integers are always positions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np
import pandas as pd

from omsim.errors import OmsimError
from omsim.fulfilment.ledger import CODE, LEDGER_COLUMNS, REASONS, Ledger  # noqa: F401  (LEDGER_COLUMNS, REASONS: public here too)

_SMALL = 32  # allocations up to this many lines are validated in plain Python


@dataclass
class InboundPO:
    """An open replenishment order.

    Attributes
    ----------
    po_id
        The order's id (as given to :meth:`Inventory.order`, or generated).
    node, sku
        Positions of the receiving node and the SKU.
    qty
        Units still outstanding (ordered minus received).
    eta_h
        Expected arrival, hours since the scenario start.
    placed_h
        When it was placed.
    ordered
        Units originally ordered.
    """

    po_id: Hashable
    node: int
    sku: int
    qty: int
    eta_h: float
    placed_h: float
    ordered: int


def _as_int_matrix(values, shape: tuple[int, int] | None, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise OmsimError(f"inventory: {name} must be integer quantities")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise OmsimError(f"inventory: {name} must be whole numbers of units")
    arr = arr.astype(np.int64)
    if shape is not None:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise OmsimError(f"inventory: {name} has shape {arr.shape}, expected {shape} (nodes x SKUs)") from None
    elif arr.ndim != 2:
        raise OmsimError(f"inventory: {name} must be a 2-D array [node, sku], got shape {arr.shape}")
    if np.any(arr < 0):
        raise OmsimError(f"inventory: {name} must be >= 0")
    return np.array(arr, dtype=np.int64, order="C")  # own, contiguous copy


def _ids(ids: Sequence | None, n: int, what: str) -> tuple[list[str] | None, dict[str, int]]:
    if ids is None:
        return None, {}
    ids = [str(x) for x in ids]
    if len(ids) != n:
        raise OmsimError(f"inventory: {len(ids)} {what} ids for {n} {what}s")
    index = {x: i for i, x in enumerate(ids)}
    if len(index) != n:
        dup = sorted({x for x in ids if ids.count(x) > 1})
        raise OmsimError(f"inventory: duplicate {what} ids: {', '.join(dup[:5])}")
    return ids, index


class Inventory:
    """Stock per node and SKU with reservations, inbound POs and a ledger.

    Parameters
    ----------
    on_hand
        Initial on-hand units, integer array-like of shape (n_nodes, n_skus).
    safety
        Safety stock, broadcastable to that shape (scalar, per-SKU row, or
        full matrix); 0 by default.
    node_ids, sku_ids
        Optional string ids; when given, methods accept them in place of
        positions and :meth:`ledger_frame` reports them.
    t0_h
        Time of the ``initial`` ledger rows.

    Examples
    --------
    >>> inv = Inventory([[5, 0], [2, 3]], node_ids=["EWR", "LAX"], sku_ids=["A", "B"])
    >>> inv.reserve("EWR", "A", 2, order_id="o1", t=1.0)
    >>> inv.consume("EWR", "A", 2, order_id="o1", t=3.0)
    >>> int(inv.available("EWR", "A")), inv.on_hand_at("EWR", "A", 2.0)
    (3, 5)
    """

    def __init__(self, on_hand, safety=0, *, node_ids: Sequence | None = None,
                 sku_ids: Sequence | None = None, t0_h: float = 0.0):
        self.on_hand = _as_int_matrix(on_hand, None, "on_hand")
        shape = self.on_hand.shape
        #: Number of nodes and of SKUs (fixed for the inventory's life).
        self.n_nodes, self.n_skus = int(shape[0]), int(shape[1])
        self.reserved = np.zeros(shape, dtype=np.int64)
        self.safety = _as_int_matrix(safety, shape, "safety")
        self.inbound = np.zeros(shape, dtype=np.int64)
        self.node_ids, self._node_index = _ids(node_ids, shape[0], "node")
        self.sku_ids, self._sku_index = _ids(sku_ids, shape[1], "sku")
        self._pos: dict[Hashable, InboundPO] = {}
        self._next_po = 1
        self._t_last = float(t0_h)
        n = shape[0] * shape[1]
        self._ledger = Ledger(n + max(1024, n // 4))
        nodes, skus = np.divmod(np.arange(n, dtype=np.int64), shape[1])
        self._ledger.extend(float(t0_h), nodes, skus, self.on_hand.ravel(), CODE["initial"], None)

    # ------------------------------------------------------------------ lookups
    def node_index(self, node) -> int:
        """Position of ``node`` (a position or a string id)."""
        return self._index(node, self._node_index, self.n_nodes, "node")

    def sku_index(self, sku) -> int:
        """Position of ``sku`` (a position or a string id)."""
        return self._index(sku, self._sku_index, self.n_skus, "sku")

    @staticmethod
    def _index(key, index: dict[str, int], n: int, what: str) -> int:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            k = int(key)
            if 0 <= k < n:
                return k
            raise OmsimError(f"inventory: {what} position {k} out of range (0..{n - 1})")
        try:
            return index[key]
        except (KeyError, TypeError):
            known = ", ".join(list(index)[:10]) or f"positions 0..{n - 1}"
            raise OmsimError(f"inventory: unknown {what} {key!r}; known: {known}") from None

    def _name(self, node: int, sku: int) -> str:
        n = self.node_ids[node] if self.node_ids is not None else str(node)
        s = self.sku_ids[sku] if self.sku_ids is not None else str(sku)
        return f"node {n}, sku {s}"

    # -------------------------------------------------------------- read state
    def available(self, node=None, sku=None):
        """Available to promise, ``max(on_hand - reserved - safety, 0)``.

        Parameters
        ----------
        node, sku
            Restrict to one node and/or one SKU (position or id).

        Returns
        -------
        int or numpy.ndarray
            An ``int`` when both are given, a row (per SKU) for a node, a
            column (per node) for a SKU, else the (n_nodes, n_skus) matrix.
        """
        i = slice(None) if node is None else self.node_index(node)
        j = slice(None) if sku is None else self.sku_index(sku)
        atp = self._atp(i, j)
        return int(atp) if node is not None and sku is not None else atp

    def available_columns(self, skus: np.ndarray) -> np.ndarray:
        """(N, L) available to promise of the SKU positions ``skus`` at every node (inputs already validated)."""
        return self._atp(slice(None), skus)

    def _atp(self, i, j):
        """The one ATP formula: ``max(on_hand - reserved - safety, 0)`` at index ``[i, j]``."""
        return np.maximum(self.on_hand[i, j] - self.reserved[i, j] - self.safety[i, j], 0)

    def position(self, node=None, sku=None, backorders=0):
        """Inventory position ``on_hand - reserved + inbound - backorders``.

        ``reserved`` are units already committed to orders; ``backorders``
        (held by the caller) are committed units not yet reserved because
        stock was missing. Shapes follow :meth:`available`.
        """
        i = slice(None) if node is None else self.node_index(node)
        j = slice(None) if sku is None else self.sku_index(sku)
        ip = self.on_hand[i, j] - self.reserved[i, j] + self.inbound[i, j] - backorders
        if node is not None and sku is not None:
            return int(ip)
        return ip

    # ------------------------------------------------------------- validation
    @staticmethod
    def _qty(qty, what: str = "quantity", signed: bool = False) -> int:
        try:
            q = int(qty)
            ok = q == qty
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok or isinstance(qty, bool):
            raise OmsimError(f"inventory: {what} must be a whole number of units, got {qty!r}")
        if not signed and q < 0:
            raise OmsimError(f"inventory: {what} must be >= 0, got {q}")
        return q

    def _time(self, t) -> float:
        t = float(t)
        if not math.isfinite(t):
            raise OmsimError(f"inventory: time must be finite, got {t}")
        if t < self._t_last:
            # The ledger is in time order so running sums are on-hand histories.
            raise OmsimError(f"inventory: time {t} h is before the last ledger entry at {self._t_last} h "
                             "(time cannot go backwards)")
        return t

    def _resolve(self, node, sku, qty, signed: bool = False) -> tuple[int, int, int]:
        return self.node_index(node), self.sku_index(sku), self._qty(qty, signed=signed)

    # -------------------------------------------------------------- mutations
    def reserve(self, node, sku, qty, order_id=None, t: float = 0.0, *, allow_safety: bool = False) -> None:
        """Reserve ``qty`` units for an order (no stock moves; no ledger row).

        Parameters
        ----------
        node, sku
            Position or id.
        qty
            Units, a non-negative integer; at most :meth:`available` (or, with
            ``allow_safety``, at most ``on_hand - reserved``).
        order_id
            The order reserving (kept for the error message only).
        t
            Time in hours (reservations are not in the ledger).
        allow_safety
            Let the reservation dip into safety stock.

        Raises
        ------
        OmsimError
            When fewer units are available; nothing changes.
        """
        i, j, q = self._resolve(node, sku, qty)
        free = self.on_hand[i, j] - self.reserved[i, j]
        if not allow_safety:
            free -= self.safety[i, j]
        if q > free:
            kind = "unreserved" if allow_safety else "available to promise"
            raise OmsimError(
                f"inventory: cannot reserve {q} units at {self._name(i, j)} for order {order_id!r}: "
                f"only {max(int(free), 0)} {kind} (on hand {int(self.on_hand[i, j])}, "
                f"reserved {int(self.reserved[i, j])}, safety {int(self.safety[i, j])})")
        self.reserved[i, j] += q

    def release(self, node, sku, qty, order_id=None, t: float = 0.0) -> None:
        """Release ``qty`` reserved units (an order cancelled or re-sourced).

        Raises
        ------
        OmsimError
            When fewer than ``qty`` units are reserved; nothing changes.
        """
        i, j, q = self._resolve(node, sku, qty)
        if q > self.reserved[i, j]:
            raise OmsimError(
                f"inventory: cannot release {q} units at {self._name(i, j)} for order {order_id!r}: "
                f"only {int(self.reserved[i, j])} reserved")
        self.reserved[i, j] -= q

    def consume(self, node, sku, qty, order_id=None, t: float = 0.0) -> None:
        """Ship ``qty`` reserved units: on hand and reserved both drop (ledger ``ship``).

        Raises
        ------
        OmsimError
            When fewer than ``qty`` units are reserved; nothing changes.
        """
        i, j, q = self._resolve(node, sku, qty)
        t = self._time(t)
        if q > self.reserved[i, j]:
            raise OmsimError(
                f"inventory: cannot ship {q} units at {self._name(i, j)} for order {order_id!r}: "
                f"only {int(self.reserved[i, j])} reserved (on hand {int(self.on_hand[i, j])})")
        if q == 0:
            return
        self.reserved[i, j] -= q
        self.on_hand[i, j] -= q
        self._log(t, i, j, -q, "ship", order_id)

    def receive(self, node, sku, qty, t: float = 0.0, *, po_id=None) -> None:
        """Receive ``qty`` units into stock (ledger ``receipt``).

        Parameters
        ----------
        node, sku
            Position or id.
        qty
            Units received.
        t
            Time in hours.
        po_id
            The open PO this receipt settles (fully or partly); it must be for
            the same node and SKU and have at least ``qty`` outstanding. Without
            it the receipt is unplanned (e.g. a transfer in).

        Raises
        ------
        OmsimError
            Unknown PO, mismatched node/SKU, or more than outstanding.
        """
        i, j, q = self._resolve(node, sku, qty)
        t = self._time(t)
        po = None
        if po_id is not None:
            po = self._pos.get(po_id)
            if po is None:
                raise OmsimError(f"inventory: no open purchase order {po_id!r} to receive at {self._name(i, j)}")
            if (po.node, po.sku) != (i, j):
                raise OmsimError(
                    f"inventory: purchase order {po_id!r} is for {self._name(po.node, po.sku)}, "
                    f"not {self._name(i, j)}")
            if q > po.qty:
                raise OmsimError(
                    f"inventory: cannot receive {q} units on purchase order {po_id!r} at "
                    f"{self._name(i, j)}: only {po.qty} outstanding")
        if q == 0:
            return
        if po is not None:
            po.qty -= q
            self.inbound[i, j] -= q
            if po.qty == 0:
                del self._pos[po_id]
        self.on_hand[i, j] += q
        self._log(t, i, j, q, "receipt", po_id)

    def receive_po(self, po_id, t: float, qty=None) -> None:
        """Receive an open PO (all of what is outstanding unless ``qty``)."""
        po = self._pos.get(po_id)
        if po is None:
            raise OmsimError(f"inventory: no open purchase order {po_id!r}")
        self.receive(po.node, po.sku, po.qty if qty is None else qty, t, po_id=po_id)

    def restock(self, node, sku, qty, order_id=None, t: float = 0.0) -> None:
        """Put returned sellable units back into stock (ledger ``restock``)."""
        i, j, q = self._resolve(node, sku, qty)
        t = self._time(t)
        if q == 0:
            return
        self.on_hand[i, j] += q
        self._log(t, i, j, q, "restock", order_id)

    def scrap(self, node, sku, qty, order_id=None, t: float = 0.0) -> None:
        """Write off damaged units from stock (ledger ``scrap``).

        Only unreserved units can be scrapped (``qty <= on_hand - reserved``):
        scrapping a reserved unit would break a promise silently; release it
        first. Safety stock can be scrapped (ATP then clips at 0).
        """
        i, j, q = self._resolve(node, sku, qty)
        t = self._time(t)
        free = int(self.on_hand[i, j] - self.reserved[i, j])
        if q > free:
            raise OmsimError(
                f"inventory: cannot scrap {q} units at {self._name(i, j)}: only {free} unreserved "
                f"(on hand {int(self.on_hand[i, j])}, reserved {int(self.reserved[i, j])})")
        if q == 0:
            return
        self.on_hand[i, j] -= q
        self._log(t, i, j, -q, "scrap", order_id)

    def adjust(self, node, sku, delta, order_id=None, t: float = 0.0) -> None:
        """Correct on hand by a signed ``delta`` (cycle count; ledger ``adjust``).

        The result may not fall below what is reserved (release first).
        """
        i, j, d = self._resolve(node, sku, delta, signed=True)
        t = self._time(t)
        if self.on_hand[i, j] + d < self.reserved[i, j]:
            raise OmsimError(
                f"inventory: cannot adjust {self._name(i, j)} by {d}: on hand {int(self.on_hand[i, j])} "
                f"would fall below the {int(self.reserved[i, j])} reserved")
        if d == 0:
            return
        self.on_hand[i, j] += d
        self._log(t, i, j, d, "adjust", order_id)

    def count(self, node, sku, counted, t: float = 0.0, ref=None) -> int:
        """Record a cycle count: set on hand to ``counted``; returns the delta."""
        i, j = self.node_index(node), self.sku_index(sku)
        c = self._qty(counted, "counted quantity")
        d = c - int(self.on_hand[i, j])
        self.adjust(i, j, d, ref, t)
        return d

    def order(self, node, sku, qty, eta_h: float, t: float = 0.0, po_id=None) -> Hashable:
        """Place a replenishment PO: ``qty`` units inbound, expected at ``eta_h``.

        Returns
        -------
        The PO id (``po_id`` if given, else a new one: ``"PO000001"``, ``"PO000002"``, ...).
        """
        i, j, q = self._resolve(node, sku, qty)
        if q == 0:
            raise OmsimError(f"inventory: purchase order for {self._name(i, j)} must be for at least one unit")
        eta = float(eta_h)
        if not eta >= float(t):
            raise OmsimError(f"inventory: purchase order eta {eta_h} h is before it is placed ({t} h)")
        if po_id is None:
            # Strings, so that a receipt's order_id in the ledger cannot be mistaken for an order's.
            po_id = f"PO{self._next_po:06d}"
            while po_id in self._pos:
                self._next_po += 1
                po_id = f"PO{self._next_po:06d}"
            self._next_po += 1
        elif po_id in self._pos:
            raise OmsimError(f"inventory: purchase order {po_id!r} is already open")
        self._pos[po_id] = InboundPO(po_id, i, j, q, eta, float(t), q)
        self.inbound[i, j] += q
        return po_id

    def open_orders(self, node=None, sku=None) -> list[InboundPO]:
        """Open POs (copies), by expected arrival then placement."""
        i = None if node is None else self.node_index(node)
        j = None if sku is None else self.sku_index(sku)
        out = [InboundPO(**vars(p)) for p in self._pos.values()
               if (i is None or p.node == i) and (j is None or p.sku == j)]
        return sorted(out, key=lambda p: (p.eta_h, p.placed_h))

    def due(self, t: float) -> list[InboundPO]:
        """Open POs expected at or before ``t``."""
        return [p for p in self.open_orders() if p.eta_h <= t]

    # --------------------------------------------------------- vectorised ops
    def _many(self, nodes, skus, qtys):
        """Validate an allocation: its distinct flat cells (sorted) and their total quantities.

        Lists for short allocations, arrays for long ones (the callers handle both).
        """
        cols = []
        for x in (nodes, skus, qtys):
            if isinstance(x, np.ndarray):
                cols.append(x.ravel().tolist() if x.ndim else x.item())
            elif np.ndim(x) == 0:
                cols.append(x)
            else:
                cols.append(list(x))
        lengths = {len(c) for c in cols if isinstance(c, list)}
        if len(lengths) > 1:
            raise OmsimError("inventory: node, sku and quantity arrays must have the same length")
        n = lengths.pop() if lengths else 1
        if n > _SMALL:
            return self._many_large(nodes, skus, qtys)
        # Small allocations (an order's lines) are cheaper in plain Python than through np.unique.
        cols = [c if isinstance(c, list) else [c] * n for c in cols]
        N, m = self.n_nodes, self.n_skus
        agg: dict[int, int] = {}
        for a, b, q in zip(*cols):
            # Plain in-range ints (what tolist() gives) skip the general lookups.
            i = a if type(a) is int and 0 <= a < N else self.node_index(a)
            j = b if type(b) is int and 0 <= b < m else self.sku_index(b)
            if not (type(q) is int and q >= 0):
                q = self._qty(q)
            k = i * m + j
            agg[k] = agg.get(k, 0) + q
        keys = sorted(agg)
        return keys, [agg[k] for k in keys]

    def _many_large(self, nodes, skus, qtys):
        """Vectorised :meth:`_many` for long arrays."""
        nodes = np.asarray(nodes)
        skus = np.asarray(skus)
        if nodes.dtype.kind in "OUS":
            nodes = np.array([self.node_index(x) for x in nodes.ravel()], dtype=np.int64)
        if skus.dtype.kind in "OUS":
            skus = np.array([self.sku_index(x) for x in skus.ravel()], dtype=np.int64)
        try:
            nodes, skus, qtys = np.broadcast_arrays(nodes.astype(np.int64).ravel(), skus.astype(np.int64).ravel(),
                                                    np.asarray(qtys).ravel())
        except ValueError:
            raise OmsimError("inventory: node, sku and quantity arrays must have the same length") from None
        if qtys.dtype.kind == "f" and np.any(qtys != np.round(qtys)):
            raise OmsimError("inventory: quantities must be whole numbers of units")
        if qtys.dtype.kind not in "iuf":
            raise OmsimError("inventory: quantities must be integers")
        qtys = qtys.astype(np.int64)
        if np.any(qtys < 0):
            k = int(np.argmax(qtys < 0))
            raise OmsimError(f"inventory: quantity must be >= 0, got {int(qtys[k])} at {self._name(nodes[k], skus[k])}")
        for arr, n, what in ((nodes, self.n_nodes, "node"), (skus, self.n_skus, "sku")):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise OmsimError(f"inventory: {what} position out of range (0..{n - 1})")
        # Repeated (node, sku) pairs must be validated on their total.
        flat = nodes * self.n_skus + skus
        uniq, inv = np.unique(flat, return_inverse=True)
        total = np.zeros(uniq.size, dtype=np.int64)
        np.add.at(total, inv, qtys)
        return uniq, total

    def _limit(self, keys, what: str):
        """Per distinct cell: units reserved, unreserved, or available to promise (lists or arrays, like keys)."""
        oh, rs, sf = self.on_hand.ravel(), self.reserved.ravel(), self.safety.ravel()
        if isinstance(keys, list):
            if what == "reserved":
                return [rs.item(k) for k in keys]
            if what == "unreserved":
                return [oh.item(k) - rs.item(k) for k in keys]
            return [oh.item(k) - rs.item(k) - sf.item(k) for k in keys]
        if what == "reserved":
            return rs[keys]
        if what == "unreserved":
            return oh[keys] - rs[keys]
        return oh[keys] - rs[keys] - sf[keys]

    def _check_many(self, keys, total, limit, verb, order_id, what) -> None:
        if isinstance(keys, list):
            bad = [x for x in range(len(keys)) if total[x] > limit[x]]
        else:
            bad = np.flatnonzero(total > limit).tolist()
        if bad:
            x = bad[0]
            i, j = divmod(int(keys[x]), self.n_skus)
            raise OmsimError(
                f"inventory: cannot {verb} {int(total[x])} units at {self._name(i, j)} for order {order_id!r}: "
                f"only {max(int(limit[x]), 0)} {what}; nothing was {verb}d"
                + (f" ({len(bad)} lines short)" if len(bad) > 1 else ""))

    @staticmethod
    def _add(arr: np.ndarray, keys, total, sign: int) -> None:
        flat = arr.ravel()  # a view: arrays are C-contiguous
        if isinstance(keys, list):
            for k, q in zip(keys, total):
                flat[k] += sign * q
        else:
            flat[keys] += sign * total

    def reserve_many(self, nodes, skus, qtys, order_id=None, t: float = 0.0, *, allow_safety: bool = False) -> None:
        """Reserve an allocation all-or-nothing.

        Parameters
        ----------
        nodes, skus, qtys
            Equal-length arrays (positions or ids); repeated pairs add up;
            scalars broadcast.
        order_id, t, allow_safety
            As in :meth:`reserve`.

        Raises
        ------
        OmsimError
            If any line cannot be reserved; then nothing is reserved.
        """
        keys, total = self._many(nodes, skus, qtys)
        what = "unreserved" if allow_safety else "available to promise"
        self._check_many(keys, total, self._limit(keys, what), "reserve", order_id, what)
        self._add(self.reserved, keys, total, 1)

    def release_many(self, nodes, skus, qtys, order_id=None, t: float = 0.0) -> None:
        """Release reservations all-or-nothing (see :meth:`reserve_many`)."""
        keys, total = self._many(nodes, skus, qtys)
        self._check_many(keys, total, self._limit(keys, "reserved"), "release", order_id, "reserved")
        self._add(self.reserved, keys, total, -1)

    def consume_many(self, nodes, skus, qtys, order_id=None, t: float = 0.0) -> None:
        """Ship reserved units all-or-nothing, one ``ship`` ledger row per distinct (node, sku)."""
        t = self._time(t)
        keys, total = self._many(nodes, skus, qtys)
        self._check_many(keys, total, self._limit(keys, "reserved"), "consume", order_id, "reserved")
        self._add(self.reserved, keys, total, -1)
        self._add(self.on_hand, keys, total, -1)
        if isinstance(keys, list):
            m = self.n_skus
            for k, q in zip(keys, total):
                if q:
                    self._ledger.append(t, k // m, k % m, -q, CODE["ship"], order_id)
            self._t_last = t
            return
        keep = total > 0
        if keep.any():
            i, j = np.divmod(keys[keep], self.n_skus)
            self._ledger.extend(t, i, j, -total[keep], CODE["ship"], order_id)
            self._t_last = t

    def _check_lines(self, nodes, skus, qtys, order_ids):
        """Validated line columns: int64 (nodes, skus, qtys) and the order ids (one, or one per line)."""
        nodes = np.asarray(nodes)
        skus = np.asarray(skus)
        qtys = np.asarray(qtys)
        m = nodes.size
        if nodes.ndim != 1 or skus.shape != nodes.shape or qtys.shape != nodes.shape:
            raise OmsimError("inventory: node, sku and quantity arrays must be 1-d and of the same length")
        for arr, what in ((nodes, "node"), (skus, "sku"), (qtys, "quantity")):
            if m and arr.dtype.kind not in "iu":
                raise OmsimError(f"inventory: {what} must be integers (positions, units)")
        nodes, skus, qtys = (a.astype(np.int64, copy=False) for a in (nodes, skus, qtys))
        if np.ndim(order_ids) == 0 or isinstance(order_ids, (str, bytes)):
            refs = order_ids
        else:
            refs = np.asarray(order_ids, dtype=object).reshape(-1)
            if refs.size != m:
                raise OmsimError(f"inventory: {refs.size} order ids for {m} lines")
        if m:
            for arr, n, what in ((nodes, self.n_nodes, "node"), (skus, self.n_skus, "sku")):
                if arr.min() < 0 or arr.max() >= n:
                    raise OmsimError(f"inventory: {what} position out of range (0..{n - 1})")
            if qtys.min() < 0:
                k = int(np.argmax(qtys < 0))
                raise OmsimError(f"inventory: quantity must be >= 0, got {int(qtys[k])} at "
                                 f"{self._name(nodes[k], skus[k])}")
        return nodes, skus, qtys, refs

    def restock_lines(self, nodes, skus, qtys, order_ids, t: float = 0.0) -> None:
        """Put returned sellable units back, many lines at once: as :meth:`restock` line by line.

        One ``restock`` ledger row per line with units, in the order given, each with its own
        ``order_id`` (or one for all). Parameters as :meth:`consume_lines`.

        Raises
        ------
        OmsimError
            A position out of range or a negative quantity; nothing changes.
        """
        t = self._time(t)
        nodes, skus, qtys, refs = self._check_lines(nodes, skus, qtys, order_ids)
        keep = qtys > 0
        if not keep.any():
            return
        if not keep.all():
            nodes, skus, qtys = nodes[keep], skus[keep], qtys[keep]
            refs = refs if np.ndim(refs) == 0 else refs[keep]
        np.add.at(self.on_hand, (nodes, skus), qtys)
        self._ledger.extend(t, nodes, skus, qtys, CODE["restock"], refs)
        self._t_last = t

    def consume_lines(self, nodes, skus, qtys, order_ids, t: float = 0.0) -> None:
        """Ship reserved units of many packages at once, all or nothing: one ``ship`` ledger row per line.

        The rows are written in the order given (lines with zero units
        write none), each with its own ``order_id``; a repeated (node, SKU)
        is checked on its total. So :meth:`consume_many` for each package in
        turn equals one call with the packages' lines concatenated, each
        package's lines sorted by SKU (the order ``consume_many`` writes).

        Parameters
        ----------
        nodes, skus, qtys
            Equal-length integer arrays (positions).
        order_ids
            One order id per line (array-like), or one for all.
        t
            Time in hours (not before the last ledger row).

        Raises
        ------
        OmsimError
            A position out of range, a negative quantity, or more units than
            reserved at some (node, SKU); nothing changes.
        """
        t = self._time(t)
        nodes, skus, qtys, refs = self._check_lines(nodes, skus, qtys, order_ids)
        if nodes.size == 0:
            self._t_last = t
            return
        flat = nodes * self.n_skus + skus
        keys, inv = np.unique(flat, return_inverse=True)
        total = np.zeros(keys.size, dtype=np.int64)
        np.add.at(total, inv, qtys)
        first = refs if np.ndim(refs) == 0 else refs[int(np.argmax(total[inv] > self.reserved.ravel()[keys][inv]))]
        self._check_many(keys, total, self._limit(keys, "reserved"), "consume", first, "reserved")
        self._add(self.reserved, keys, total, -1)
        self._add(self.on_hand, keys, total, -1)
        keep = qtys > 0
        if not keep.all():
            nodes, skus, qtys = nodes[keep], skus[keep], qtys[keep]
            refs = refs if np.ndim(refs) == 0 else refs[keep]
        if qtys.size:
            self._ledger.extend(t, nodes, skus, -qtys, CODE["ship"], refs)
        self._t_last = t

    # ---------------------------------------------------------------- ledger
    def _log(self, t: float, i: int, j: int, delta: int, reason: str, ref) -> None:
        self._ledger.append(t, i, j, delta, CODE[reason], ref)
        self._t_last = t

    def __len__(self) -> int:
        """Number of ledger rows."""
        return self._ledger.n

    def ledger_frame(self) -> pd.DataFrame:
        """The ledger as a DataFrame with columns ``time_h, node, sku, delta, reason, order_id``.

        ``node`` and ``sku`` are string ids when the inventory has them, else
        positions; ``order_id`` is the order, PO or reference given (``None``
        for initial rows).
        """
        return self._ledger.frame(self.node_ids, self.sku_ids)

    def take_ledger_columns(self) -> dict:
        """The ledger rows so far as columns (:meth:`Ledger.columns`), removed from memory (a streamed run
        writes them out as it goes: :meth:`ledger_frame` then holds only the rows since)."""
        frame = self._ledger.columns(self.node_ids, self.sku_ids)
        self._ledger = Ledger(max(1024, self._ledger.time_h.shape[0] // 4))
        return frame

    def ledger_rows_held(self) -> int:
        """Ledger rows held in memory."""
        return self._ledger.n

    def on_hand_at(self, node, sku, t: float) -> int:
        """On hand of one node and SKU at time ``t`` (inclusive), from the ledger alone."""
        return self._ledger.on_hand_at(self.node_index(node), self.sku_index(sku), t)

    def ledger_on_hand(self) -> np.ndarray:
        """On hand per node and SKU recomputed from the whole ledger (for audits)."""
        return self._ledger.on_hand(self.on_hand.shape)

    def state_frame(self) -> pd.DataFrame:
        """Current state, one row per node and SKU: on hand, reserved, safety, available, inbound."""
        n, m = self.on_hand.shape
        node = np.repeat(np.arange(n), m)
        sku = np.tile(np.arange(m), n)
        return pd.DataFrame({
            "node": np.asarray(self.node_ids, dtype=object)[node] if self.node_ids is not None else node,
            "sku": np.asarray(self.sku_ids, dtype=object)[sku] if self.sku_ids is not None else sku,
            "on_hand": self.on_hand.ravel().copy(),
            "reserved": self.reserved.ravel().copy(),
            "safety": self.safety.ravel().copy(),
            "available": self.available().ravel(),
            "inbound": self.inbound.ravel().copy(),
        })

    def copy(self) -> "Inventory":
        """An independent deep copy (state, open POs and ledger)."""
        new = object.__new__(Inventory)
        new.on_hand = self.on_hand.copy()
        new.n_nodes, new.n_skus = self.n_nodes, self.n_skus
        new.reserved = self.reserved.copy()
        new.safety = self.safety.copy()
        new.inbound = self.inbound.copy()
        new.node_ids, new._node_index = self.node_ids, self._node_index
        new.sku_ids, new._sku_index = self.sku_ids, self._sku_index
        new._pos = {k: InboundPO(**vars(p)) for k, p in self._pos.items()}
        new._next_po = self._next_po
        new._t_last = self._t_last
        new._ledger = self._ledger.copy()
        return new

    def __repr__(self) -> str:
        return (f"Inventory({self.n_nodes} nodes x {self.n_skus} skus, on hand {int(self.on_hand.sum())}, "
                f"reserved {int(self.reserved.sum())}, inbound {int(self.inbound.sum())}, "
                f"{len(self)} ledger rows)")
