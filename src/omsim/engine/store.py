"""The column store: the record of the decisions taken as columns (:class:`_Store`) and their
public view :class:`DecisionArrays`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from omsim.orders import DECISION_STATUSES, Decision, Shipment
from omsim.ranges import spans
from .constants import _POLICIES, _STATUS_CODE
from .reasons import UNFILLED_REASONS, reason_code


@dataclass(eq=False)
class DecisionArrays:
    """Committed decisions of a run of orders, as columns (see :meth:`DecisionEngine.decide_commit_arrays`).

    The arrays are views of the engine's record of the run (the orders still
    open are served from it, e.g. by :meth:`DecisionEngine.committed`): read
    them, or copy them before changing anything.

    Attributes
    ----------
    n
        Orders decided: the first ``n`` of the input.
    status
        (n,) int8, index into :data:`DECISION_STATUSES`.
    promised_h
        (n,) float64, latest promise over the order's packages (nan when nothing ships).
    total
        (n,) float64, :attr:`~omsim.orders.Decision.total`.
    pkg_ptr
        (n+1,) int64: the packages of order i are rows ``pkg_ptr[i]:pkg_ptr[i+1]``, in shipment order.
    unfilled
        Units not allocated per input line, aligned with the lines ``line_ptr[0]:line_ptr[n]``.
    unfilled_reason
        int8 per input line: why its units are unfilled, an index into
        :data:`omsim.engine.reasons.UNFILLED_REASONS` (0: filled).
    pkg_node, pkg_service
        (P,) int64 node and service (index into ``engine.services``) per package.
    pkg_ship_by_h, pkg_promised_h, pkg_transit_h, pkg_kg
        (P,) float64, as :class:`~omsim.orders.Shipment`.
    pkg_cost_package, pkg_cost_weight, pkg_cost_distance, pkg_cost_handling
        (P,) float64, the shipment's ``cost`` entries.
    pkg_line_ptr
        (P+1,) int64: the lines of package p are ``pkg_sku[a:b]``, ``pkg_qty[a:b]`` with
        ``a, b = pkg_line_ptr[p], pkg_line_ptr[p+1]`` (in the order's line order).
    pkg_sku, pkg_qty
        int64 lines of the packages.
    rem_status
        (n,) int8, the remainder probe of each order (``probe_remainder=True``): -1 when the order has
        none (it is not ``partial``, or no probe was asked for), -2 when ``decide`` of its unfilled lines
        would ship something, else the :data:`DECISION_STATUSES` index of that decision's status (it
        ships nothing: ``backorder``, ``hold`` or ``cancel`` per ``policies.no_stock``). Always filled.
    rem_reason
        int8 per input line: the reason the remainder probe's decision gives the line (a probed order's
        lines with units unfilled; 0 for the others): pass it to :meth:`DecisionEngine.register_backorders`
        with the remainders' lines.
    """

    n: int
    status: np.ndarray
    promised_h: np.ndarray
    total: np.ndarray
    pkg_ptr: np.ndarray
    unfilled: np.ndarray
    pkg_node: np.ndarray
    pkg_service: np.ndarray
    pkg_ship_by_h: np.ndarray
    pkg_promised_h: np.ndarray
    pkg_transit_h: np.ndarray
    pkg_kg: np.ndarray
    pkg_cost_package: np.ndarray
    pkg_cost_weight: np.ndarray
    pkg_cost_distance: np.ndarray
    pkg_cost_handling: np.ndarray
    pkg_line_ptr: np.ndarray
    pkg_sku: np.ndarray
    pkg_qty: np.ndarray
    rem_status: np.ndarray | None = None
    unfilled_reason: np.ndarray | None = None
    rem_reason: np.ndarray | None = None

    def __post_init__(self):
        if self.rem_status is None:
            self.rem_status = np.full(self.n, -1, dtype=np.int8)
        if self.unfilled_reason is None:
            self.unfilled_reason = np.zeros(len(self.unfilled), dtype=np.int8)
        if self.rem_reason is None:
            self.rem_reason = np.zeros(len(self.unfilled), dtype=np.int8)


class _Store:
    """The engine's record of its decisions as columns, and its one open-order type: every open order
    is an order row here (``engine._open[oid]`` is that row, :class:`~omsim.engine.commitments.OpenRow`
    its view), whether a run decided it in the kernel or the Python path, :meth:`append` recorded a
    decision committed one at a time, or :meth:`append_waiting` a registered backorder or hold.

    Order rows, line rows (``unfilled``), package rows and package-line rows
    are appended run after run. An order's rows are live while the order is
    open; when the columns are full
    they are compacted (live rows copied to the front of new arrays, the
    open orders' rows renumbered) or, when mostly live, doubled. Either way a
    column is replaced by a new array and never rewritten in place, so views
    handed out before (DecisionArrays) stay valid, and the memory follows the
    open orders, not every order ever decided.
    """

    _ORD = (("status", np.int8, 0), ("rem", np.int8, -1), ("oday", np.int64, 0), ("ocnt", np.int64, 0),
            ("oreg", np.int64, 0), ("opol", np.int8, 0), ("promised", np.float64, np.nan), ("total", np.float64, 0.0))
    _PKG_I = ("pkg_node", "pkg_service", "pkg_day")
    _PKG_F = ("pkg_ship_by", "pkg_promised", "pkg_transit", "pkg_kg", "pkg_c_package", "pkg_c_weight",
              "pkg_c_distance", "pkg_c_handling")

    def __init__(self, engine, orders: int = 256, lines: int = 1024, pkgs: int = 512, pkg_lines: int = 1024):
        self.engine = engine
        self.decisions: dict[int, Decision] = {}   # order row -> Decision (Python path, or built on demand)
        self.O = self.L = self.P = self.PL = 0     # rows written
        self.gen = 0                               # bumped when a column is replaced (rebind the kernel)
        self.compactions = 0
        self.busy = False                          # a run is in progress: its rows are not in engine._open yet
        for name, dt, fill in self._ORD:
            setattr(self, name, np.full(orders, fill, dtype=dt))
        self.pkg_ptr = np.zeros(orders + 1, dtype=np.int64)
        self.optr = np.zeros(orders + 1, dtype=np.int64)     # first line row of each order row
        self.unfilled = np.zeros(lines, dtype=np.int64)
        self.why = np.zeros(lines, dtype=np.int8)            # reason code per line (reasons.UNFILLED_REASONS)
        self.rem_why = np.zeros(lines, dtype=np.int8)        # the remainder probe's reason per line
        for name in self._PKG_I:
            setattr(self, name, np.zeros(pkgs, dtype=np.int64))
        for name in self._PKG_F:
            setattr(self, name, np.zeros(pkgs))
        self.pkg_open = np.ones(pkgs, dtype=np.uint8)        # 1 while the package has not shipped
        self.pkg_line_ptr = np.zeros(pkgs + 1, dtype=np.int64)
        self.pkg_sku = np.zeros(pkg_lines, dtype=np.int64)
        self.pkg_qty = np.zeros(pkg_lines, dtype=np.int64)

    @staticmethod
    def _grown(a: np.ndarray, used: int, size: int, fill=0) -> np.ndarray:
        b = np.full(size, fill, dtype=a.dtype)
        b[:used] = a[:used]
        return b

    def reserve(self, n: int, M: int, kmax: int) -> None:
        """Room for n more orders with M lines (each line in up to kmax packages)."""
        if self.O + n + 1 < len(self.status) and self.L + M <= len(self.unfilled) \
                and self.P + n * kmax + 1 < len(self.pkg_node) and self.PL + M * kmax <= len(self.pkg_sku):
            return
        self._make_room(n, M, kmax)

    def _make_room(self, n: int, M: int, kmax: int) -> None:
        """Compact the live rows when at most half of the rows are live, then grow what is still short."""
        live = None if self.busy else self.engine._live_rows(self)
        if live is not None and 2 * len(live) <= self.O:
            self._compact(live)
        need = self.O + n + 1
        if need >= len(self.status):
            size = max(2 * len(self.status), need + 1)
            for name, _, fill in self._ORD:
                setattr(self, name, self._grown(getattr(self, name), self.O, size, fill))
            self.pkg_ptr = self._grown(self.pkg_ptr, self.O + 1, size + 1)
            self.optr = self._grown(self.optr, self.O + 1, size + 1)
            self.gen += 1
        need = self.L + M
        if need > len(self.unfilled):
            size = max(2 * len(self.unfilled), need)
            self.unfilled = self._grown(self.unfilled, self.L, size)
            self.why = self._grown(self.why, self.L, size)
            self.rem_why = self._grown(self.rem_why, self.L, size)
            self.gen += 1
        need = self.P + n * kmax + 1
        if need >= len(self.pkg_node):
            size = max(2 * len(self.pkg_node), need + 1)
            for name in self._PKG_I + self._PKG_F:
                setattr(self, name, self._grown(getattr(self, name), self.P, size))
            self.pkg_open = self._grown(self.pkg_open, self.P, size, 1)
            self.pkg_line_ptr = self._grown(self.pkg_line_ptr, self.P + 1, size + 1)
            self.gen += 1
        need = self.PL + M * kmax
        if need > len(self.pkg_sku):
            size = max(2 * len(self.pkg_sku), need)
            self.pkg_sku = self._grown(self.pkg_sku, self.PL, size)
            self.pkg_qty = self._grown(self.pkg_qty, self.PL, size)
            self.gen += 1

    def _compact(self, live: np.ndarray) -> None:
        """Keep only order rows ``live`` (ascending), with their lines and packages, in new arrays of the
        same sizes; the engine renumbers its open orders (every column is replaced: views stay valid)."""
        live = np.asarray(live, dtype=np.int64)
        m = live.size
        optr, pp, lp = self.optr, self.pkg_ptr, self.pkg_line_ptr
        # line rows, package rows and package-line rows of the live orders, in order
        la, lb = optr[live], optr[live + 1]
        pa, pb = pp[live], pp[live + 1]
        lines = spans(la, lb)[1]
        pkgs = spans(pa, pb)[1]
        pla, plb = lp[pkgs], lp[pkgs + 1]
        plines = spans(pla, plb)[1]

        def moved(a, idx, size, fill=0):
            b = np.full(size, fill, dtype=a.dtype)
            b[:idx.size] = a[idx]
            return b

        for name, _, fill in self._ORD:
            a = getattr(self, name)
            setattr(self, name, moved(a, live, a.size, fill))
        new_optr = np.zeros(optr.size, dtype=np.int64)
        np.cumsum(lb - la, out=new_optr[1:m + 1])
        new_pp = np.zeros(pp.size, dtype=np.int64)
        np.cumsum(pb - pa, out=new_pp[1:m + 1])
        new_lp = np.zeros(lp.size, dtype=np.int64)
        np.cumsum(plb - pla, out=new_lp[1:pkgs.size + 1])
        self.optr, self.pkg_ptr, self.pkg_line_ptr = new_optr, new_pp, new_lp
        self.unfilled = moved(self.unfilled, lines, self.unfilled.size)
        self.why = moved(self.why, lines, self.why.size)
        self.rem_why = moved(self.rem_why, lines, self.rem_why.size)
        for name in self._PKG_I + self._PKG_F:
            a = getattr(self, name)
            setattr(self, name, moved(a, pkgs, a.size))
        self.pkg_open = moved(self.pkg_open, pkgs, self.pkg_open.size, 1)
        self.pkg_sku = moved(self.pkg_sku, plines, self.pkg_sku.size)
        self.pkg_qty = moved(self.pkg_qty, plines, self.pkg_qty.size)
        old = live.tolist()
        self.decisions = {j: self.decisions[r] for j, r in enumerate(old) if r in self.decisions}
        self.O, self.L, self.P, self.PL = m, int(lines.size), int(pkgs.size), int(plines.size)
        self.gen += 1
        self.compactions += 1
        self.engine._renumber(self, old)

    def out_columns(self) -> tuple:
        """The output columns in the order Kernel.set_out takes them."""
        return (self.status, self.rem, self.oday, self.ocnt, self.oreg, self.opol, self.optr, self.promised,
                self.total, self.pkg_ptr, self.unfilled,
                self.pkg_node, self.pkg_service, self.pkg_day, self.pkg_ship_by, self.pkg_promised, self.pkg_transit,
                self.pkg_kg, self.pkg_c_package, self.pkg_c_weight, self.pkg_c_distance, self.pkg_c_handling,
                self.pkg_line_ptr, self.pkg_sku, self.pkg_qty, self.why, self.rem_why)

    def write(self, row: int, d: Decision, day: int = 0) -> None:
        """Record a Decision (made by the Python path) as order row ``row`` (packages at the cursor)."""
        st = self.engine.services
        self.status[row] = _STATUS_CODE[d.status]
        self.rem[row] = -1
        self.oday[row] = day
        self.ocnt[row] = len(d.shipments)
        self.promised[row] = np.nan if d.promised_h is None else d.promised_h
        self.total[row] = d.total
        a = int(self.optr[row])
        L = len(d.unfilled)
        self.unfilled[a:a + L] = d.unfilled
        self.why[a:a + L] = [reason_code(r) for r in d.unfilled_reason] if d.unfilled_reason else 0
        self.rem_why[a:a + L] = 0
        P, PL = self.P, self.PL
        self.pkg_ptr[row] = P
        self.pkg_line_ptr[P] = PL
        for s in d.shipments:
            self.pkg_node[P] = s.node
            self.pkg_service[P] = st.index[(s.carrier, s.service)]
            self.pkg_day[P] = int(s.ship_by_h // 24)
            self.pkg_ship_by[P] = s.ship_by_h
            self.pkg_promised[P] = s.promised_h
            self.pkg_transit[P] = s.transit_h
            self.pkg_kg[P] = s.weight_kg
            c = s.cost
            self.pkg_c_package[P], self.pkg_c_weight[P] = c["package"], c["weight"]
            self.pkg_c_distance[P], self.pkg_c_handling[P] = c["distance"], c["handling"]
            k = len(s.skus)
            self.pkg_sku[PL:PL + k] = s.skus
            self.pkg_qty[PL:PL + k] = s.qty
            PL += k
            P += 1
            self.pkg_line_ptr[P] = PL
        self.pkg_ptr[row + 1] = P
        self.P, self.PL = P, PL
        self.decisions[row] = d

    def append(self, d: Decision, day: int, policy_code: int) -> int:
        """Record a decision committed one at a time (``commit``, a snapshot's restore) as a new order row.

        The Decision itself is kept (``decisions[row]``) while the order is open, so its region is not
        needed to build it again; the row's region column is 0.
        """
        if self.busy:
            raise RuntimeError("_Store.append during a run: the run's rows are being written")
        lines = len(d.unfilled)
        pkg_lines = sum(len(s.skus) for s in d.shipments)
        self.reserve(1, max(lines, pkg_lines), max(len(d.shipments), 1))
        row, L = self.O, self.L
        self.optr[row], self.optr[row + 1] = L, L + lines
        self.oreg[row] = 0
        self.opol[row] = policy_code
        self.write(row, d, day)
        self.O, self.L = row + 1, L + lines
        return row

    def append_waiting(self, status, day, region, policy_code: int, total, ptr, qty, why) -> int:
        """Record orders that ship nothing (registered backorders and holds) as new order rows: order j
        has status ``status[j]``, its lines ``qty[ptr[j]:ptr[j+1]]`` all unfilled with reason codes ``why``;
        no packages. Returns the first row (the orders are rows first, first + 1, ...)."""
        if self.busy:
            raise RuntimeError("_Store.append_waiting during a run: the run's rows are being written")
        n, M = len(status), int(ptr[-1])
        self.reserve(n, M, 1)
        o0, l0 = self.O, self.L
        rows = slice(o0, o0 + n)
        self.status[rows], self.rem[rows], self.oday[rows], self.ocnt[rows] = status, -1, day, 0
        self.oreg[rows], self.opol[rows], self.promised[rows], self.total[rows] = region, policy_code, np.nan, total
        self.optr[o0:o0 + n + 1] = l0 + ptr
        self.pkg_ptr[o0:o0 + n + 1] = self.P
        self.unfilled[l0:l0 + M], self.why[l0:l0 + M], self.rem_why[l0:l0 + M] = qty, why, 0
        self.O, self.L = o0 + n, l0 + M
        return o0

    def recut(self, row: int) -> None:
        """After units were cancelled off row ``row``'s packages: its kept Decision, if any, becomes a copy
        with the packages' units as they are now (the caller's Decision object is not changed)."""
        d = self.decisions.get(row)
        if d is None:
            return
        p0, lp = self.pkg_ptr.item(row), self.pkg_line_ptr
        ships = [dataclasses.replace(s, qty=self.pkg_qty[lp.item(p0 + i):lp.item(p0 + i + 1)].copy())
                 for i, s in enumerate(d.shipments)]
        self.decisions[row] = dataclasses.replace(d, shipments=ships)

    def build(self, row: int, oid, region: int, policy: str, u0: int, u1: int) -> Decision:
        """Order row ``row`` (its lines' rows u0:u1 in ``unfilled``) as a new Decision."""
        eng = self.engine
        st = eng.services
        p0, p1 = int(self.pkg_ptr[row]), int(self.pkg_ptr[row + 1])
        lp = self.pkg_line_ptr
        ships = []
        pk = wt = ds = hd = 0.0
        for p in range(p0, p1):
            n, k = int(self.pkg_node[p]), int(self.pkg_service[p])
            a, b = int(lp[p]), int(lp[p + 1])
            cost = {"package": float(self.pkg_c_package[p]), "weight": float(self.pkg_c_weight[p]),
                    "distance": float(self.pkg_c_distance[p]), "handling": float(self.pkg_c_handling[p])}
            ships.append(Shipment(n, self.pkg_sku[a:b].copy(), self.pkg_qty[a:b].copy(), st.carrier[k], st.service[k],
                                  st.level[k], float(eng.node_region_km[n, region]), float(self.pkg_kg[p]),
                                  float(self.pkg_ship_by[p]), float(self.pkg_promised[p]), float(self.pkg_transit[p]),
                                  cost))
            pk += cost["package"]
            wt += cost["weight"]
            ds += cost["distance"]
            hd += cost["handling"]
        unfilled = self.unfilled[u0:u1].copy()
        npk = len(ships)
        cost = {"shipping_package": pk, "shipping_weight": wt, "shipping_distance": ds, "handling": hd,
                "split_penalty": eng.split_penalty * max(npk - 1, 0),
                "lost_penalty": eng.lost_sale_penalty * int(sum(unfilled.tolist()))}
        promised = max((s.promised_h for s in ships), default=None)
        return Decision(oid, DECISION_STATUSES[int(self.status[row])], ships, unfilled, promised, cost,
                        float(self.total[row]), policy, [], [UNFILLED_REASONS[c] for c in self.why[u0:u1].tolist()])

    def decision(self, row: int, oid) -> Decision:
        """Order row ``row`` (order ``oid``) as a Decision (the same object on every call while it is open)."""
        d = self.decisions.get(row)
        if d is None:
            d = self.decisions[row] = self.build(row, oid, self.oreg.item(row), _POLICIES[self.opol.item(row)],
                                                 self.optr.item(row), self.optr.item(row + 1))
        return d

    def forget(self, row: int) -> None:
        """The order of row ``row`` is closed: drop its cached Decision."""
        self.decisions.pop(row, None)


def decision_arrays(decisions, engine: "DecisionEngine") -> DecisionArrays:
    """Decisions taken one at a time (``decide``, ``decide_batch``) as :class:`DecisionArrays`.

    Written by the same :meth:`_Store.write` that records the Python path's
    decisions of a run, into a store of their own (nothing is committed;
    ``rem_status`` is -1).
    """
    decisions = list(decisions)
    n = len(decisions)
    lines = [len(d.unfilled) for d in decisions]
    pkgs = [len(d.shipments) for d in decisions]
    pkg_lines = sum(len(s.skus) for d in decisions for s in d.shipments)
    store = _Store(engine, orders=n + 1, lines=max(sum(lines), 1), pkgs=sum(pkgs) + 1, pkg_lines=max(pkg_lines, 1))
    np.cumsum(lines, out=store.optr[1:n + 1])
    for i, d in enumerate(decisions):
        store.write(i, d)
    P, PL = store.P, store.PL
    return DecisionArrays(
        n, store.status[:n], store.promised[:n], store.total[:n], store.pkg_ptr[:n + 1],
        store.unfilled[:int(store.optr[n])], store.pkg_node[:P], store.pkg_service[:P], store.pkg_ship_by[:P],
        store.pkg_promised[:P], store.pkg_transit[:P], store.pkg_kg[:P], store.pkg_c_package[:P],
        store.pkg_c_weight[:P], store.pkg_c_distance[:P], store.pkg_c_handling[:P], store.pkg_line_ptr[:P + 1],
        store.pkg_sku[:PL], store.pkg_qty[:PL], store.rem[:n], store.why[:int(store.optr[n])],
        store.rem_why[:int(store.optr[n])])
