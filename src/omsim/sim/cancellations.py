"""Customer cancellations after the order (``demand.cancellations``): which, when, and what they undo.

Where they come from:

- **a replay** (``demand.history`` with ``cancellations.history`` true): the
  history's cancellation invoices, matched to the orders they cancel by
  :func:`omsim.history.cancellations.match_cancellations` (the latest earlier
  order of the same customer with the SKU), at their own timestamps on the
  replay's clock (:func:`omsim.sim.replay.replay_hours`). Those that fall in
  the horizon but match no replayed order (no customer id, no earlier order
  in the file, or an order before the horizon) are counted
  (``customer_cancel_lines_unmatched``), not replayed;
- **generated**: each order (not exchanges) is cancelled in part with
  probability ``share``; each of its lines is named with probability
  ``line_share`` (at least one, else one drawn uniformly), for all its
  units, after a delay drawn from the ``delay_h`` table (the hour, plus a
  uniform fraction of it). One draw per order from the ``cancellations``
  stream, so a seed gives the same cancellations whatever else changes.

What a cancellation does at its time ``t`` (never before its order is
decided: one arriving earlier waits for the decision). Its named units are
taken off, in order, the order's own packages and then its backordered
remainder:

- a package still waiting for its wave (decided, not released to the floor)
  loses the named units through the engine's cancel path
  (:meth:`omsim.engine.DecisionEngine.cancel` with a ``cut``: reservations
  released, and, for a package left empty, node and carrier capacity given
  back; it is then never released, so it makes no floor work);
- a backorder (or a backordered remainder) waits for fewer units; left with
  none it is cancelled (its engine registration forgotten);
- units released to the floor, shipped or delivered cannot be cancelled:
  they are ``too late`` (a credit after the fact, which the model does not
  refund); named units the order does not have are ``not ordered``.

An order left with nothing to ship or wait for becomes ``cancelled``
(event detail ``customer``; no-stock and max-wait cancellations keep
theirs), one whose other packages all shipped is complete. Every
cancellation logs a ``customer_cancel`` event on its order, its detail the
units cancelled / named. KPIs: ``customer_cancellations``,
``customer_cancel_units`` (honoured), ``customer_cancel_units_too_late``,
``customer_cancel_lines_unmatched``.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from omsim.ranges import spans
from omsim.sim.events import EV
from omsim.sim.states import ACTIVE, BACKORDERED, CANCELLED, PENDING


class CustomerCancels:
    """The run's customer cancellations (built by :meth:`of`; None when the scenario has none)."""

    def __init__(self, sim, t: np.ndarray, oid: np.ndarray, ptr: np.ndarray, sku: np.ndarray, qty: np.ndarray,
                 unmatched: int):
        self.sim = sim
        self.t, self.oid, self.ptr, self.sku, self.qty = t, oid, ptr, sku, qty
        self.unmatched = int(unmatched)
        self.count = 0                  # cancellations that cancelled something
        self.units = 0                  # units cancelled
        self.too_late = 0               # units named but released, shipped or delivered already
        self.orders: set[int] = set()   # orders a cancellation cancelled units of
        self.rows: list[int] = []       # order rows a cancellation left with nothing: cancelled
        self._gone: dict[int, dict[int, int]] = {}   # per order, units per SKU cancelled so far

    @classmethod
    def of(cls, sim):
        """The run's cancellations, or None without ``demand.cancellations``."""
        spec = sim.sc.demand.cancellations
        if spec is None:
            return None
        if sim.sc.demand.history is not None and spec.history:
            return cls(sim, *_replayed(sim))
        return cls(sim, *generated_cancellations(sim.dem, sim.streams, spec), 0)

    # ------------------------------------------------------------- schedule
    def start(self) -> None:
        """Schedule every cancellation in the horizon (each changes stock: a barrier for the dispatcher)."""
        sim = self.sim
        paid = sim.ot.paid_h[self.oid]
        if sim.batch:               # decided at the end of its batch window (see the dispatcher)
            w = sim.pol.batch_window_h
            paid = (np.floor(paid / w) + 1.0) * w
        for j in np.flatnonzero(np.isfinite(paid)).tolist():
            t = max(float(self.t[j]), float(paid[j]))
            if t < sim.end_h:
                sim._at_engine(t, self._fire, j, False)

    def live(self, pk: np.ndarray) -> np.ndarray:
        """Packages of a wave still to pick: those a cancellation emptied are dropped."""
        return pk[self.sim.P.units[pk] > 0]

    # ---------------------------------------------------------------- apply
    def _fire(self, j: int, again: bool) -> None:
        sim = self.sim
        ot, t, o = sim.ot, sim.env.now, int(self.oid[j])
        if ot.state[o] == PENDING and not again:
            sim._at_engine(t, self._fire, j, True)    # after the dispatcher decides the order at t
            return
        a, b = int(self.ptr[j]), int(self.ptr[j + 1])
        sku, qty = self.sku[a:b], self.qty[a:b]
        dem = sim.dem
        la, lb = int(dem.line_ptr[o]), int(dem.line_ptr[o + 1])
        have = dict(zip(dem.line_sku[la:lb].tolist(), dem.line_qty[la:lb].tolist()))
        gone = self._gone.setdefault(o, {})          # units of the order cancelled before
        for s, q in gone.items():
            have[s] -= q
        want: dict[int, int] = {}
        named = 0
        for s, q in zip(sku.tolist(), qty.tolist()):
            named += q
            k = min(q, have.get(s, 0) - want.get(s, 0))
            if k > 0:
                want[s] = want.get(s, 0) + k
        ordered = sum(want.values())
        asked = dict(want)
        done = 0
        n0 = sim.dem.n
        rows = [o] + (n0 + np.flatnonzero((ot.parent[n0:ot.n] == o) & (ot.kind[n0:ot.n] == 2))).tolist()
        for r in rows:
            if not want:
                break
            if ot.state[r] == ACTIVE:
                done += self._cut_packages(r, want, t)
            elif ot.state[r] == BACKORDERED and r in sim.backorders:
                done += self._cut_backorder(r, want, t)
        for s, q in asked.items():
            left = q - want.get(s, 0)
            if left:
                gone[s] = gone.get(s, 0) + left
        self.too_late += ordered - done
        self.units += done
        if done:
            self.count += 1
            self.orders.add(o)
        log = sim.log
        log.add(t, o, EV["customer_cancel"], -1, log.code(f"{done}/{named}"))

    def _take(self, skus: np.ndarray, qty: np.ndarray, want: dict) -> np.ndarray:
        """Units to take off lines (skus, qty) for ``want`` (updated), line by line."""
        cut = np.zeros(qty.size, dtype=np.int64)
        for i, (s, q) in enumerate(zip(skus.tolist(), qty.tolist())):
            w = want.get(s)
            if w:
                k = min(w, q)
                cut[i] = k
                if k == w:
                    del want[s]
                else:
                    want[s] = w - k
        return cut

    def _cut_packages(self, r: int, want: dict, t: float) -> int:
        """Take named units off the packages of row ``r`` still waiting for their wave."""
        sim = self.sim
        ot, P, wq = sim.ot, sim.P, sim.wq
        p0 = int(ot.pkg0[r])
        cuts = {}
        for p in range(p0, p0 + int(ot.packages[r])):
            n = int(P.node[p])
            if P.units[p] == 0 or p not in wq.rows[n, wq.head[n]:wq.tail[n]]:
                continue
            la, lb = int(P.line_a[p]), int(P.line_b[p])
            cut = self._take(P.sku[la:lb], P.qty[la:lb], want)
            if cut.any():
                cuts[p] = cut
            if not want:
                break
        if not cuts:
            return 0
        sim.engine.cancel(r, t, {int(P.k[p]): c for p, c in cuts.items()})
        total = 0
        for p, cut in cuts.items():
            la, lb = int(P.line_a[p]), int(P.line_b[p])
            P.qty[la:lb] -= cut
            k = int(cut.sum())
            P.units[p] -= k
            total += k
            if P.units[p] == 0:
                ot.pending[r] -= 1
        ot.units_cancelled[r] += total
        if ot.pending[r] == 0:
            if ot.units_shipped[r] > 0:
                sim._complete(np.array([r], dtype=np.int64))
            else:
                self._cancelled(r, t)
                sim.open_orders -= 1
        return total

    def _cut_backorder(self, r: int, want: dict, t: float) -> int:
        """Take named units off what backorder ``r`` waits for."""
        sim = self.sim
        order = sim.backorders.orders[r]
        cut = self._take(order.skus, order.qty, want)
        total = int(cut.sum())
        if not total:
            return 0
        left = order.qty - cut
        keep = left > 0
        sim.ot.units_cancelled[r] += total
        if not keep.any():
            sim.backorders.drop(r)
            sim.engine.cancel(r, t)             # a backorder holds nothing: this forgets its registration
            self._cancelled(r, t)
        else:
            skus, qty = order.skus[keep].astype(np.int64), left[keep].astype(np.int64)
            sim.backorders.replace(r, dataclasses.replace(order, skus=skus, qty=qty))
            sim.extra_lines[r] = (skus, qty)
        return total

    def _cancelled(self, r: int, t: float) -> None:
        sim = self.sim
        sim.ot.state[r] = CANCELLED
        self.rows.append(r)
        sim.log.add(t, r, EV["cancelled"], -1, sim.log.code("customer"))

    def kpis(self) -> dict:
        """The run's customer-cancellation KPIs (see the module docstring)."""
        return {"customer_cancellations": int(self.count), "customer_cancel_units": int(self.units),
                "customer_cancel_units_too_late": int(self.too_late),
                "customer_cancel_lines_unmatched": int(self.unmatched)}


def _csr(t: np.ndarray, oid: np.ndarray, ptr: np.ndarray, sku: np.ndarray, qty: np.ndarray):
    """The cancellations in time order (stable)."""
    order = np.argsort(t, kind="stable")
    new_ptr, idx = spans(ptr[:-1][order], ptr[1:][order])
    return t[order], oid[order], new_ptr, sku[idx], qty[idx]


def generated_cancellations(dem, streams, spec):
    """Cancellations drawn for generated orders ``dem`` (see the module docstring): columns ``(t, oid, ptr,
    sku, qty)``, in time order, the lines of cancellation ``j`` at ``ptr[j]:ptr[j + 1]``."""
    n = dem.n
    rng = streams["cancellations"]
    u = rng.random((n, 3))
    hit = np.flatnonzero(u[:, 0] < spec.share)
    hours = np.array([h for h, _ in spec.delay_h], dtype=np.float64)
    w = np.array([x for _, x in spec.delay_h], dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    delay = hours[np.minimum(np.searchsorted(cdf, u[hit, 1], side="right"), hours.size - 1)] + u[hit, 2]
    lp, idx = spans(dem.line_ptr[hit], dem.line_ptr[hit + 1])
    pick = rng.random(idx.size) < spec.line_share
    # An order none of whose lines was named names one, drawn uniformly.
    cnt = np.add.reduceat(pick.astype(np.int64), lp[:-1]) if hit.size else np.zeros(0, np.int64)
    none = np.flatnonzero(cnt == 0)
    nl = np.diff(lp)
    one = lp[none] + np.minimum((rng.random(none.size) * nl[none]).astype(np.int64), nl[none] - 1)
    pick[one] = True
    per = cnt.copy()
    per[none] = 1                   # the one line just named
    ptr = np.zeros(hit.size + 1, dtype=np.int64)
    np.cumsum(per, out=ptr[1:])
    t = dem.created_h[hit] + delay
    return _csr(t, hit.astype(np.int64), ptr, dem.line_sku[idx][pick], dem.line_qty[idx][pick])


def _replayed(sim):
    """The history's cancellations in the horizon, matched to the replayed orders, and the unmatched count."""
    from omsim.history.cancellations import match_cancellations
    from omsim.sim.replay import replay_hours

    sc, dem = sim.sc, sim.dem
    hist = sc.demand._history
    c = hist.cancellations
    empty = (np.zeros(0), np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64),
             np.zeros(0, np.int64), 0)
    if not len(c):
        return empty
    h = replay_hours(sc, sim.days, c["created_at"])
    c = c[(h >= 0) & (h < sim.end_h)]                     # the horizon's: only those can cancel a replayed order
    if not len(c):
        return empty
    m = match_cancellations(hist.lines, c)
    h = replay_hours(sc, sim.days, m["created_at"])
    row = pd.Index(np.asarray(dem.order_ids, dtype=object).astype(str)).get_indexer(
        m["order_id"].astype(object).where(m["order_id"].notna(), "").to_numpy(dtype=object))
    ok = (m["match"].to_numpy() == "matched") & (row >= 0)
    unmatched = int((~ok).sum())
    m, h, row = m[ok], h[ok], row[ok]
    if not len(m):
        return empty[:5] + (unmatched,)
    sku = pd.Index(sc.sku_ids).get_indexer(m["sku"].to_numpy(dtype=object))
    # One cancellation per (invoice, matched order), at the invoice's time; lines in the file's order.
    key = pd.factorize(pd.Series(m["cancel_id"].to_numpy(dtype=object)) + "|" + pd.Series(row).astype(str))[0]
    order = np.argsort(key, kind="stable")
    key, sku, qty, row, h = key[order], sku[order], m["qty"].to_numpy(np.int64)[order], row[order], h[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ptr = np.r_[first, key.size].astype(np.int64)
    return _csr(h[first], row[first].astype(np.int64), ptr, sku.astype(np.int64), qty) + (unmatched,)
