"""Open orders: commit a decision, cancel it, ship its packages (the commitment book).

An open order has one form: a row of the engine's column store (:class:`~omsim.engine.store._Store`),
``engine._open[oid]`` being its row and :class:`OpenRow` its view, however it was decided (a run in the
kernel or the Python path, :meth:`Commitments.commit` one at a time, a backorder or hold registered by
:meth:`Commitments.register_backorders`). Every state change of an open order goes through one function
per event: ``commit`` / ``register_backorders`` (commit), ``cancel``, ``ship`` / ``ship_many`` (ship)."""
from __future__ import annotations

import numpy as np

from omsim.errors import OmsimError
from omsim.orders import Decision, Shipment
from omsim.ranges import spans
from .constants import _CANCEL, _POLICY_CODE, _STATUS_CODE
from .reasons import UNFILLED_REASONS
from .store import _Store


class OpenRow:
    """An open order: a view of its order row ``i`` in the engine's column store (made by
    ``engine._booking``): its packages, which are still open, and its Decision."""

    __slots__ = ("run", "i", "oid")

    def __init__(self, run: _Store, i: int, oid):
        self.run, self.i, self.oid = run, i, oid

    @property
    def p0(self) -> int:
        return self.run.pkg_ptr.item(self.i)

    @property
    def npk(self) -> int:
        return self.run.pkg_ptr.item(self.i + 1) - self.run.pkg_ptr.item(self.i)

    @property
    def day(self) -> int:
        """The day its node capacity was taken."""
        return self.run.oday.item(self.i)

    @property
    def open_count(self) -> int:
        return self.run.ocnt.item(self.i)

    @property
    def decision(self) -> Decision:
        return self.run.decision(self.i, self.oid)

    @property
    def open(self) -> list[bool]:
        """Per shipment: not yet shipped (a copy)."""
        return [bool(v) for v in self.run.pkg_open[self.p0:self.p0 + self.npk].tolist()]

    @property
    def service(self) -> list[int]:
        """Per shipment: its service index."""
        return self.run.pkg_service[self.p0:self.p0 + self.npk].tolist()

    @property
    def pickup_day(self) -> list[int]:
        """Per shipment: the day its carrier capacity was booked."""
        return self.run.pkg_day[self.p0:self.p0 + self.npk].tolist()

    def is_open(self, i: int) -> bool:
        return bool(self.run.pkg_open[self.p0 + i])

    def package(self, i: int):
        """Shipment i as (node, SKUs, units, service, pickup day); SKUs and units are views of the store."""
        run, p = self.run, self.p0 + i
        a, b = int(run.pkg_line_ptr[p]), int(run.pkg_line_ptr[p + 1])
        return int(run.pkg_node[p]), run.pkg_sku[a:b], run.pkg_qty[a:b], int(run.pkg_service[p]), int(run.pkg_day[p])

    def close(self, i: int) -> int:
        """Shipment i is shipped or cancelled: the packages left open."""
        run = self.run
        run.pkg_open[self.p0 + i] = 0
        run.ocnt[self.i] -= 1
        return run.ocnt.item(self.i)

    def forget(self) -> None:
        self.run.forget(self.i)


class Commitments:
    """Part of :class:`~omsim.engine.DecisionEngine`: commit, cancel and ship."""

    def commit(self, decision: Decision, t_h: float) -> None:
        """Act on a decision: reserve its stock, take node capacity, book carrier capacity.

        All or nothing: when the state moved since ``decide`` and the decision
        no longer fits (stock, node or carrier capacity), raises and changes
        nothing. A backorder or hold (ships nothing) only registers the order
        so that :meth:`cancel` knows it; a cancel decision leaves no trace.

        Raises
        ------
        OmsimError
            The order is already committed, or the decision no longer fits.
        """
        t_h = float(t_h)
        day = self._take(decision, t_h)
        if decision.shipments or decision.status != "cancel":   # a cancelled order is over
            self._open[decision.order_id] = self._store.append(decision, day, _POLICY_CODE.get(decision.policy, 0))

    def _take(self, decision: Decision, t_h: float) -> int:
        """The state ``commit`` changes, all or nothing, but not the order's row (the caller writes it):
        the day its node capacity is taken."""
        oid = decision.order_id
        if oid in self._open:
            raise OmsimError(f"order {oid}: already committed; cancel it before committing a new decision")
        t_h = float(t_h)
        day = int(t_h // 24)
        ships = decision.shipments
        if not ships:
            return day                          # a backorder or hold only waits; a cancel leaves no trace
        st = self.services
        try:
            ks = [st.index[(s.carrier, s.service)] for s in ships]
        except KeyError as exc:
            raise OmsimError(f"order {oid}: unknown carrier service {exc.args[0]!r}") from None
        pdays = [int(s.ship_by_h // 24) for s in ships]
        node_list = [int(s.node) for s in ships]
        unit_list = [sum(s.qty.tolist()) for s in ships]
        if len(set(node_list)) != len(node_list):
            raise OmsimError(f"order {oid}: two packages from the same node; a decision ships one package per node")
        if self._node_capped:
            orders_left, units_left = self._node_room(day)
            for n, u in zip(node_list, unit_list):
                if orders_left[n] < 1 or units_left[n] < u:
                    raise OmsimError(f"order {oid}: node {self.node_ids[n]} has no capacity left on day {day}")
        need: dict[tuple[int, int], int] = {}
        for k, d in zip(ks, pdays):
            need[d, k] = need.get((d, k), 0) + 1
        book = self.carriers
        for (d, k), c in need.items():
            if book.remaining(k, d) < c:
                raise OmsimError(f"order {oid}: carrier service {st.carrier[k]}/{st.service[k]} is full on day {d}")
        inv = self.inventory
        if len(ships) == 1:
            s0 = ships[0]
            all_nodes, all_skus, all_qty = [s0.node] * len(s0.skus), s0.skus, s0.qty
        else:
            all_nodes = [s.node for s in ships for _ in range(len(s.skus))]
            all_skus = np.concatenate([s.skus for s in ships])
            all_qty = np.concatenate([s.qty for s in ships])
        if not self._reserve_lines(all_nodes, all_skus, all_qty):
            try:
                inv.reserve_many(all_nodes, all_skus, all_qty, order_id=oid, t=t_h)   # all or nothing
            except OmsimError as exc:
                raise OmsimError(f"order {oid}: the stock moved since the decision, decide again ({exc})") from None
        # From here nothing can fail.
        o = self._orders_taken.get(day)
        if o is None:
            o = self._orders_taken[day] = np.zeros(self.n_nodes, dtype=np.int64)
            self._units_taken[day] = np.zeros(self.n_nodes, dtype=np.int64)
            self._prune(day)
        ut = self._units_taken[day]
        back = self.node_backlog_units
        for n, u in zip(node_list, unit_list):      # distinct nodes (checked above): scalar updates
            o[n] += 1
            ut[n] += u
            back[n] += u
        for (d, k), c in need.items():
            book.book(k, d, c)
            # A service-day counts as full while it could not take every package of one
            # order (decide rate-shops each node alone): the last max_packages - 1 slots
            # are held back, so a decision that passed decide always fits at commit.
            if book.remaining(k, d) < self.max_packages:
                self._full.add((d, k))
                self._full_ver += 1
        return day

    def _reserve_lines(self, nodes, skus, qty) -> bool:
        """Inventory.reserve_many for a decision's lines (one per (node, SKU)): True when done, False
        (nothing changed) when it does not fit or the lines are not plain distinct positions, so that the
        caller lets reserve_many decide (and word the error)."""
        inv = self.inventory
        S = self.n_skus
        nl = nodes if isinstance(nodes, list) else list(nodes)
        sl = skus.tolist() if isinstance(skus, np.ndarray) else list(skus)
        ql = qty.tolist() if isinstance(qty, np.ndarray) else list(qty)
        if not (len(nl) == len(sl) == len(ql)):
            return False
        keys = []
        for a, b, q in zip(nl, sl, ql):
            if type(a) is not int or type(b) is not int or type(q) is not int or q < 0 or not 0 <= b < S \
                    or not 0 <= a < self.n_nodes:
                return False
            keys.append(a * S + b)
        if len(set(keys)) != len(keys):
            return False
        oh, rs, sf = inv.on_hand.ravel(), inv.reserved.ravel(), inv.safety.ravel()
        for k, q in zip(keys, ql):
            if q > oh.item(k) - rs.item(k) - sf.item(k):
                return False
        for k, q in zip(keys, ql):
            rs[k] += q
        return True

    def register_backorders(self, order_ids, t_h, region, level, line_ptr, line_sku, line_qty, statuses,
                            reasons) -> None:
        """Register orders that ship nothing (remainders probed by ``decide_commit_arrays(probe_remainder=True)``).

        The same state as ``commit(decide(o, t), t)`` of each order whose
        decision ships nothing with status ``statuses[i]`` (``backorder`` or
        ``hold``: the order is open — :meth:`committed` gives that Decision,
        :meth:`cancel` forgets it — and nothing else changes; ``cancel``:
        no trace), without deciding again. A decision that ships nothing
        changes no state any later decision reads, so registering the
        remainders after the run they were probed in equals committing each
        right after its order.

        Parameters
        ----------
        order_ids
            (n,) int, distinct, not open (the remainders' own ids).
        t_h
            (n,) float (or one float): the decision time (sets the booking day as ``commit``).
        region, level, line_ptr, line_sku, line_qty
            As :meth:`decide_commit_arrays`: the remainders' lines (the units left unfilled).
        statuses
            (n,) int, :data:`DECISION_STATUSES` index of each decision (``rem_status`` of the probe):
            ``backorder``, ``hold`` or ``cancel``.
        reasons
            Per line, the reason code of the probe's decision (``rem_reason`` of the probed order's
            unfilled lines, :mod:`omsim.engine.reasons`): what :meth:`committed` says of each line.

        Raises
        ------
        OmsimError
            Malformed columns, a status that ships something (or -1/-2), an order id open or
            repeated; nothing is registered then.
        """
        oids, t, reg, lev, ptr, sku, qty = self._check_columns(order_ids, t_h, region, level, line_ptr, line_sku,
                                                                line_qty)
        self._kbound["run"] = None          # _check_columns bound these columns to the kernel: not a run
        n = oids.size
        codes = np.asarray(statuses).reshape(-1)
        if codes.size != n or (n and codes.dtype.kind not in "iu"):
            raise OmsimError(f"register_backorders: {n} orders but {codes.size} statuses (integer codes)")
        cl = codes.tolist()
        keys = oids.tolist()
        opened = self._open
        for o, c in zip(keys, cl):
            if c not in (_STATUS_CODE["backorder"], _STATUS_CODE["hold"], _CANCEL):
                raise OmsimError(f"order {o}: status code {c} is not backorder, hold or cancel (a decision that "
                                 "ships nothing)")
            if o in opened:
                raise OmsimError(f"order {o}: already committed; cancel it before committing a new decision")
        if len(set(keys)) != n:
            raise OmsimError("register_backorders: an order id appears twice")
        why = np.asarray(reasons).reshape(-1)
        if why.size != sku.size or (why.size and (why.dtype.kind not in "iu" or why.min() < 1
                                                  or why.max() >= len(UNFILLED_REASONS))):
            raise OmsimError(f"register_backorders: {sku.size} lines but reasons {why.tolist()[:8]} (one code "
                             f"1..{len(UNFILLED_REASONS) - 1} a line)")
        keep = codes != _CANCEL             # a cancelled order is over; backorders and holds wait
        if not keep.any():
            return
        if not keep.all():
            ptr, lines = spans(ptr[:-1][keep], ptr[1:][keep])
            qty, why = qty[lines], why[lines]
            oids, codes, t, reg = oids[keep], codes[keep], t[keep], reg[keep]
        short = np.add.reduceat(qty, ptr[:-1]) if qty.size else np.zeros(oids.size, dtype=np.int64)
        # the cost arithmetic of a decision that ships nothing (_decision's; _Store.build gives its breakdown)
        total = self.lost_sale_penalty * short.astype(np.float64)
        r0 = self._store.append_waiting(codes, (t // 24.0).astype(np.int64), reg, _POLICY_CODE.get(self.policy, 0),
                                        total, ptr - ptr[0], qty, why)
        opened.update(zip(oids.tolist(), range(r0, r0 + oids.size)))

    def _restore_open(self, decision: Decision, day: int, service: list, pickup_day: list, is_open: list,
                      open_count: int) -> None:
        """Open order ``decision`` as a snapshot recorded it (its capacity and stock are restored with the
        rest of the state): its row, with the packages still open."""
        store = self._store
        row = store.append(decision, int(day), _POLICY_CODE.get(decision.policy, 0))
        p0, p1 = store.pkg_ptr.item(row), store.pkg_ptr.item(row + 1)
        if not len(service) == len(pickup_day) == len(is_open) == p1 - p0:
            raise ValueError(f"order {decision.order_id}: {p1 - p0} packages but {len(is_open)} recorded")
        store.pkg_service[p0:p1], store.pkg_day[p0:p1], store.pkg_open[p0:p1] = service, pickup_day, is_open
        store.ocnt[row] = int(open_count)
        self._open[decision.order_id] = row

    def _booking(self, order_id) -> OpenRow:
        """The open order's row, as an OpenRow; OmsimError when the order is not open."""
        b = self._open.get(order_id)
        if b is None:
            raise OmsimError(f"order {order_id}: not committed (or already shipped or cancelled)")
        return OpenRow(self._store, b, order_id)

    def cancel(self, order_id, t_h: float, cut: dict | None = None) -> int:
        """Cancel an order, or some of its units: release what they still have reserved and give back the
        capacity they took.

        Shipped packages stay shipped. Without ``cut`` every open package is cancelled and the order is
        forgotten. ``cut`` maps an open package's shipment index to the units to take off each of its lines
        (an array as long as its lines; a customer cancelling part of an order): those units are released
        and leave the package; a package left without units is cancelled whole (node and carrier capacity
        back), and the order is forgotten once no package is left open. Returns the units released.

        Raises
        ------
        OmsimError
            The order is not committed (or is already fully shipped or cancelled), or ``cut`` names a
            package not open or more units than a line holds.
        """
        b = self._booking(order_id)
        if cut is None:
            pkgs = [(i, b.package(i), None) for i in range(b.npk) if b.is_open(i)]
        else:
            pkgs = []
            for i, units in cut.items():
                i = int(i)
                if not (0 <= i < b.npk and b.is_open(i)):
                    raise OmsimError(f"order {order_id}: no open shipment {i} to cancel units of")
                pk = b.package(i)
                units = np.asarray(units, dtype=np.int64)
                if units.shape != pk[2].shape or (units < 0).any() or (units > pk[2]).any():
                    raise OmsimError(f"order {order_id}: shipment {i}: cannot cancel {units.tolist()} of "
                                     f"{pk[2].tolist()} units")
                pkgs.append((i, pk, units))
        released = 0
        if pkgs:
            take = [q if u is None else u for _, (_, _, q, _, _), u in pkgs]
            nodes = np.concatenate([np.full(len(sk), n, dtype=np.int64) for _, (n, sk, _, _, _), _ in pkgs])
            skus = np.concatenate([sk for _, (_, sk, _, _, _), _ in pkgs])
            qty = np.concatenate(take)
            self.inventory.release_many(nodes, skus, qty, order_id=order_id, t=t_h)
            o = self._orders_taken.get(b.day)
            u = self._units_taken.get(b.day)
            for (i, (n, _, q, k, d), part), tq in zip(pkgs, take):
                units = int(tq.sum())
                released += units
                self.node_backlog_units[n] -= units
                if u is not None:
                    u[n] -= units
                if part is not None:
                    q -= part                     # the package keeps the rest (a view of its lines)
                    if q.any():
                        continue
                    b.close(i)
                if o is not None:
                    o[n] -= 1
                self.carriers.unbook(k, d, 1)
                if self.carriers.remaining(k, d) >= self.max_packages:
                    self._full.discard((d, k))
                    self._full_ver += 1
        if cut is None or not any(b.is_open(i) for i in range(b.npk)):
            del self._open[order_id]
            b.forget()
        else:
            self._store.recut(b.i)    # the order's Decision as it is now (the caller's object is not changed)
        return released

    def ship(self, order_id, shipment_index: int, t_h: float) -> Shipment:
        """Hand one package to its carrier: its reserved units leave stock (ledger ``ship``).

        Returns the shipment. The order is forgotten once all its packages shipped.

        Raises
        ------
        OmsimError
            Unknown order, bad index, or the package already shipped.
        """
        b = self._booking(order_id)
        i = int(shipment_index)
        if not 0 <= i < b.npk:
            raise OmsimError(f"order {order_id}: no shipment {shipment_index} (it has {b.npk})")
        if not b.is_open(i):
            raise OmsimError(f"order {order_id}: shipment {i} already shipped")
        n, skus, qty, _, _ = b.package(i)
        self.inventory.consume_many([n] * len(skus), skus, qty, order_id=order_id, t=t_h)  # all or nothing
        self.node_backlog_units[n] -= sum(qty.tolist())
        s = b.decision.shipments[i]
        if b.close(i) == 0:
            del self._open[order_id]
            b.forget()
        return s

    def ship_many(self, order_ids, shipment_indices, t_h: float) -> None:
        """Hand packages to their carriers: ``ship(o, k, t_h)`` for each pair in turn, in one step.

        The same state and the same ledger rows (in the same order) as that
        loop; all or nothing: nothing changes when a pair is refused.

        Parameters
        ----------
        order_ids, shipment_indices
            Equal-length sequences: the package ``shipment_indices[j]`` of order ``order_ids[j]``.
        t_h
            When (not before the last ledger row).

        Raises
        ------
        OmsimError
            An order not open, a bad index, or a package already shipped (or listed twice).
        """
        oids = np.asarray(order_ids).reshape(-1).tolist()
        ks = np.asarray(shipment_indices).reshape(-1).tolist()
        if len(oids) != len(ks):
            raise OmsimError(f"ship_many: {len(oids)} order ids but {len(ks)} shipment indices")
        if not oids:
            return
        t = float(t_h)
        opened = self._open
        vals = [opened.get(o) for o in oids]
        run = self._store
        m = len(vals)
        k = np.asarray(ks, dtype=np.int64)
        ok = None not in vals
        if ok:
            orow = np.array(vals, dtype=np.int64)
            pp = run.pkg_ptr
            rows = pp[orow] + k
            ok = bool(np.all((k >= 0) & (rows < pp[orow + 1])))
            if ok:
                ok = bool(np.all(run.pkg_open[rows])) and np.unique(rows).size == m
        if not ok:
            self._refuse_shipping(oids, ks)
        lp = run.pkg_line_ptr
        a = lp[rows]
        cnt = lp[rows + 1] - a
        idx = spans(a, a + cnt)[1]
        seq = np.repeat(np.arange(m), cnt)
        node = np.repeat(run.pkg_node[rows], cnt)
        sku, qty = run.pkg_sku[idx], run.pkg_qty[idx]
        # consume_many writes a package's rows by (node, sku): by SKU within the package.
        order = np.lexsort((sku, seq))
        seq, node, sku, qty = seq[order], node[order], sku[order], qty[order]
        refs = np.empty(m, dtype=object)
        refs[:] = oids
        self.inventory.consume_lines(node, sku, qty, refs[seq], t)     # all or nothing
        # From here nothing can fail.
        np.subtract.at(self.node_backlog_units, node, qty)
        run.pkg_open[rows] = 0
        oc = run.ocnt
        np.subtract.at(oc, orow, 1)
        drop = run.decisions.pop
        for j in np.flatnonzero(oc[orow] == 0).tolist():
            if opened.pop(oids[j], None) is not None:       # an order listed twice is closed once
                drop(vals[j], None)

    def _refuse_shipping(self, oids: list, ks: list) -> None:
        """ship_many's error for the first pair it cannot ship (the loop of ``ship`` would stop there)."""
        seen = set()
        for o, k in zip(oids, ks):
            b = self._booking(o)
            k = int(k)
            if not 0 <= k < b.npk:
                raise OmsimError(f"order {o}: no shipment {k} (it has {b.npk})")
            if not b.is_open(k) or (o, k) in seen:
                raise OmsimError(f"order {o}: shipment {k} already shipped")
            seen.add((o, k))
        raise AssertionError("ship_many: refused pairs that can all be shipped")

    def committed(self, order_id) -> Decision | None:
        """The committed decision of an order still open (not fully shipped or cancelled), else None."""
        b = self._open.get(order_id)
        return None if b is None else self._store.decision(b, order_id)

    @property
    def open_orders(self) -> int:
        """Orders committed and not yet fully shipped or cancelled."""
        return len(self._open)

    def _live_rows(self, store: _Store):
        """The store rows of the open orders (every open order is one; ascending), or None: not the engine's store."""
        if store is not self._store:
            return None
        rows = np.fromiter(self._open.values(), dtype=np.int64, count=len(self._open))
        rows.sort()
        return rows

    def _renumber(self, store: _Store, old: list) -> None:
        """After a compaction: old row ``old[j]`` is row j now."""
        if store is not self._store:
            return
        new = {r: j for j, r in enumerate(old)}
        opened = self._open
        for o, v in opened.items():
            opened[o] = new[v]
