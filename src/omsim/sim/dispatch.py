"""The dispatcher: paid orders to the engine in runs, and what the simulator does with its decisions.

Mixed into :class:`omsim.sim.model.Simulation` (see its module docstring for the design): the
dispatcher process, deciding rows (new orders, exchanges, backorders asked again), accepting the
committed decisions, backorders (hold, expiry, retry) and the rows added during a run (exchanges,
remainders of partly allocated orders).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from omsim.engine import decision_arrays
from omsim.fulfilment.backorders import expiry_h
from omsim.orders import DECISION_STATUSES, Order
from omsim.ranges import spans
from omsim.sim.demand import LEVELS
from omsim.sim.events import EV
from omsim.sim.states import BACKORDER_CODE, BACKORDERED, CANCELLED, HOLD_CODE, KINDS, PARTIAL_CODE


class Dispatch:
    """The orders' side of the model: dispatch, decisions, backorders."""

    def _order(self, oid: int) -> Order:
        ot = self.ot
        skus, qty = self._row_lines(oid)
        par = int(ot.parent[oid])
        return Order(order_id=oid, created_h=float(ot.created_h[oid]), region=int(ot.region[oid]),
                     level=LEVELS[ot.level[oid]], skus=skus, qty=qty, channel=self.channels[ot.channel[oid]],
                     parent_id=None if par < 0 else par)

    def _lines_of(self, oids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR lines (ptr, sku, qty) of orders ``oids``, in that order."""
        dem = self.dem
        if int(oids.max()) >= dem.n or (self.cancels is not None and not self.extra_lines.keys().isdisjoint(
                oids.tolist())):
            # Rows added during the run (exchanges, remainders) or cut by a customer: lines kept per row.
            got = [self._row_lines(o) for o in oids.tolist()]
            ptr = np.zeros(oids.size + 1, dtype=np.int64)
            np.cumsum([s.size for s, _ in got], out=ptr[1:])
            return (ptr, np.concatenate([s for s, _ in got]).astype(np.int64, copy=False),
                    np.concatenate([q for _, q in got]).astype(np.int64, copy=False))
        ptr, idx = spans(dem.line_ptr[oids], dem.line_ptr[oids + 1])
        return ptr, dem.line_sku[idx], dem.line_qty[idx]

    def _row_lines(self, oid: int) -> tuple[np.ndarray, np.ndarray]:
        """(skus, qty) of one order row."""
        dem = self.dem
        if oid < dem.n and oid not in self.extra_lines:
            a, b = dem.line_ptr[oid], dem.line_ptr[oid + 1]
            return dem.line_sku[a:b], dem.line_qty[a:b]
        return self.extra_lines[oid]

    def _decide_rows(self, ids: np.ndarray, t: float, nfirst: int) -> None:
        """Decide (and commit) rows ``ids`` at time ``t`` in turn, each against the stock the ones before it
        left, in one engine call, and act on the decisions. The first ``nfirst`` rows are new orders (their
        first decision), the others backorders asked again."""
        eng = self.engine
        if self.batch:
            for i, oid in enumerate(ids.tolist()):
                d = eng.decide_batch([self._order(oid)], t)[0]
                if i < nfirst or d.shipments:
                    self._accept(np.array([oid], dtype=np.int64), np.array([t]), decision_arrays([d], eng),
                                 i < nfirst)
            return
        ptr, sku, qty = self._lines_of(ids)
        times = np.full(ids.size, t)
        # A partial's remainder is probed by the engine right after it (see _remainders).
        da = eng.decide_commit_arrays(ids, times, self.ot.region[ids], self.ot.level[ids], ptr, sku, qty,
                                      probe_remainder=self.pol.no_stock != "cancel")
        if nfirst == ids.size:
            self._accept(ids, times, da, True, ptr)
            return
        if nfirst:
            self._accept(ids[:nfirst], times[:nfirst], da, True, ptr[: nfirst + 1])
        l0 = int(ptr[nfirst])
        tail = dataclasses.replace(da, n=da.n - nfirst, status=da.status[nfirst:], promised_h=da.promised_h[nfirst:],
                                   total=da.total[nfirst:], pkg_ptr=da.pkg_ptr[nfirst:], unfilled=da.unfilled[l0:],
                                   rem_status=da.rem_status[nfirst:], unfilled_reason=da.unfilled_reason[l0:],
                                   rem_reason=da.rem_reason[l0:])
        self._accept(ids[nfirst:], times[nfirst:], tail, False, ptr[nfirst:] - l0)

    def _accept(self, oids: np.ndarray, times: np.ndarray, da, first: bool, lp: np.ndarray | None = None) -> None:
        """Act on committed decisions of orders ``oids`` (columns ``da``, its first ``len(oids)`` orders).

        ``lp``: the orders' line offsets as given to the engine (from 0), when the caller has them.
        """
        m = oids.size
        if m == 0:
            return
        if first and lp is None:
            lp = self._line_ptr_of(oids)
        # Packages, order rows, the allocated/partial log rows and the wave queues in one kernel pass.
        _n, _l, _r, opened, none, partial = self.booking.accept(da, oids, times, first, lp)
        self.open_orders += opened
        npk = None
        if opened and self.backorders and not first:
            # Backorders asked again that ship now leave the backorders.
            npk = np.diff(da.pkg_ptr[: m + 1])
            for o in oids[npk > 0].tolist():
                if o in self.backorders:
                    self.backorders.drop(o)
        thr = self.pol.wave.backlog_threshold
        if opened and thr is not None:
            wq = self.wq
            for n in range(self.N):
                if wq.waiting(n) >= thr and not self._release_due[n]:
                    self._release_due[n] = True
                    self._at(float(times[-1]), self._release, n)
        st = da.status[:m]
        if partial:
            self._lost(oids, da, lp, m)
        todo: list[tuple[int, int, int]] = []      # (position in the run, row, status): backorders in order
        if none:
            if npk is None:
                npk = np.diff(da.pkg_ptr[: m + 1])
            todo += [(j, int(oids[j]), int(st[j])) for j in np.flatnonzero(npk == 0).tolist()]
        if partial and not self.batch and self.pol.no_stock != "cancel":
            # The engine probed each partial order's remainder right after deciding it (rem_status).
            rem = da.rem_status[:m]
            ot = self.ot
            idx = [i for i in np.flatnonzero((rem == BACKORDER_CODE) | (rem == HOLD_CODE)).tolist()
                   if ot.kind[oids[i]] != 2]
            if idx:
                rids = self._remainders(oids, times, da.unfilled,
                                        lp if lp is not None else self._line_ptr_of(oids), rem, idx, da.rem_reason)
                todo += [(i, r, int(rem[i])) for i, r in zip(idx, rids)]
                todo.sort()
        # In decision order, as one order at a time would: backorders wait first in, first out.
        for j, row, code in todo:
            self._no_shipment(row, code, float(times[j]))

    def _lost(self, oids: np.ndarray, da, lp, m: int) -> None:
        """Count the unfilled units of partly allocated orders that no remainder row will wait for."""
        lp = lp if lp is not None else self._line_ptr_of(oids)
        part = np.flatnonzero(da.status[:m] == PARTIAL_CODE)
        unf = np.add.reduceat(da.unfilled[: int(lp[m])], lp[:-1])[part]
        if not self.batch and self.pol.no_stock != "cancel":
            rem = da.rem_status[:m][part]
            waits = ((rem == BACKORDER_CODE) | (rem == HOLD_CODE)) & (self.ot.kind[oids[part]] != 2)
            unf = unf[~waits]
        self.units_lost += int(unf.sum())

    def _line_ptr_of(self, oids: np.ndarray) -> np.ndarray:
        """Line offsets of ``oids`` as the engine saw them (concatenated in this order)."""
        ln = self.ot.lines[oids]
        ptr = np.zeros(oids.size + 1, dtype=np.int64)
        np.cumsum(ln, out=ptr[1:])
        return ptr

    def _no_shipment(self, oid: int, code: int, t: float) -> None:
        """A decision that ships nothing: backorder, hold or cancel."""
        ot, log = self.ot, self.log
        status = DECISION_STATUSES[code]
        if status in ("backorder", "hold"):
            if oid not in self.backorders:
                self.backorders.add(oid, self._order(oid))
                ot.state[oid] = BACKORDERED
                ot.was_backordered[oid] = True
                log.add(t, oid, EV["backordered"] if status == "backorder" else EV["held"])
                root = int(ot.parent[oid]) if ot.kind[oid] == 2 else oid
                deadline = expiry_h(ot.created_h[root], t, self.pol.max_backorder_wait_h)
                self._at(deadline, self._expire, oid)  # changes no decision of another order: no barrier
        elif status == "cancel":  # no stock under policy "cancel"
            ot.state[oid] = CANCELLED
            self.units_lost += int(ot.units[oid] - ot.units_cancelled[oid])
            log.add(t, oid, EV["cancelled"], -1, log.code("no_stock"))
        # "partial"/"allocated" without shipments cannot happen

    def _expire(self, oid: int) -> None:
        """Cancel a backorder that waited too long."""
        if oid in self.backorders:
            t = self.env.now
            self.units_lost += int(self.backorders.drop(oid).qty.sum())
            self.engine.cancel(oid, t)
            self.ot.state[oid] = CANCELLED
            self.log.add(t, oid, EV["cancelled"], -1, self.log.code("max_wait"))

    def _paid(self, rest: np.ndarray, a: int, b: int) -> np.ndarray:
        """Rows ``rest`` (in dispatch order) and the orders of rows ``a:b`` paid before the end, in the order the
        dispatcher takes them: by payment time, ties by row (a stable sort, as of every order at once)."""
        paid = self.ot.paid_h
        new = a + np.flatnonzero(np.isfinite(paid[a:b]) & (paid[a:b] < self.end_h))
        idx = np.concatenate([rest, new]) if rest.size else new
        return idx[np.argsort(paid[idx], kind="stable")]

    def _dispatcher(self):
        """Feed paid orders to the engine in time order (see the module docstring).

        A streamed run makes its demand a day at a time (omsim.sim.retire): a day's orders are made before
        the dispatcher takes or waits for an order at or after the day's start (no order is paid before it
        is created), and merged into the orders waiting."""
        env, ot, feed = self.env, self.ot, self.feed
        if feed is not None and self.batch:
            while feed.day < self.days:
                self._make_day()
        idx = self._paid(np.zeros(0, np.int64), 0, self.dem.n if feed is None else self.generated_rows)
        tarr = ot.paid_h[idx]
        i, m = 0, tarr.size
        if self.batch:
            w = self.pol.batch_window_h
            k = 1
            eng = self.engine
            while i < m:
                te = k * w
                k += 1
                if te > env.now:
                    yield env.timeout(te - env.now)
                j = int(np.searchsorted(tarr, te, side="left"))
                if j > i:
                    chunk = idx[i:j]
                    decs = eng.decide_batch([self._order(o) for o in chunk.tolist()], env.now)
                    self._accept(chunk, np.full(chunk.size, env.now), decision_arrays(decs, eng), True)
                    i = j
                    if self.on_orders is not None:
                        self.on_orders(j, m)
            return
        # Runs of orders go to the engine in one call: every order up to the next event that may change
        # what the engine decides (a barrier: a pickup, a receipt, a review, a return put back in stock,
        # a day start), past the floor's events in between, which no decision reads: their packages wait
        # in the wave queue with their decision time, and a release takes only those decided by then.
        # A backorder's expiry changes no other order's decision. With a backlog threshold a release
        # follows the order that fills the queue: one order at a time. The engine probes a partial
        # order's remainder against the stock it left, before the next order (see _remainders).
        runs = self.pol.wave.backlog_threshold is None
        probe = not self.batch and self.pol.no_stock != "cancel"
        dem, eng = self.dem, self.engine
        look = self.look_ahead and runs
        done, total = 0, (m if feed is None else dem.n)

        def window(idx):
            # The orders' lines, regions and levels in the order they are decided: a run's are slices. Arrays,
            # not lists: read once per run, and a list of every order's numbers costs 40 bytes an order.
            ptr, lidx = spans(dem.line_ptr[idx], dem.line_ptr[idx + 1])
            return idx, ot.paid_h[idx], ptr, dem.line_sku[lidx], dem.line_qty[lidx], ot.region[idx], ot.level[idx]

        idx, tarr, all_ptr_arr, all_sku, all_qty, region, level = window(idx)
        yield env.timeout(0)   # after every process's first step at time 0 (the first reviews)
        while True:
            more = feed is not None and feed.day < self.days
            if i >= m and not more:
                break
            t = float(tarr[i]) if i < m else math.inf
            bound = self._next_barrier() if look else env.peek()
            if more and 24.0 * feed.day <= (t if t > bound else bound):
                a, b = self._make_day()
                done += i
                idx, tarr, all_ptr_arr, all_sku, all_qty, region, level = window(self._paid(idx[i:], a, b))
                i, m = 0, tarr.size
                continue
            if t > bound:
                yield env.timeout(t - env.now)
                continue
            j = min(int(np.searchsorted(tarr, bound, side="right")), i + self.max_run_orders) if runs else i + 1
            chunk = idx[i:j]
            a, b = int(all_ptr_arr[i]), int(all_ptr_arr[j])
            ptr = all_ptr_arr[i:j + 1] - a
            da = eng.decide_commit_arrays(chunk, tarr[i:j], region[i:j], level[i:j], ptr, all_sku[a:b],
                                          all_qty[a:b], probe_remainder=probe)
            self._accept(chunk, tarr[i:j], da, True, ptr)
            i = j
            if self.on_orders is not None:
                self.on_orders(done + j, total)
        if feed is not None and self.on_orders is not None:
            self.on_orders(done + i, done + i)

    def _add_row(self, parent: int, skus: np.ndarray, qty: np.ndarray, t: float, kind: int, attrs=None,
                 origin: str | None = None) -> int:
        """A new row of the order table derived from ``parent`` (exchange or remainder; -1: none, a live order
        seeded from a snapshot), created and paid at ``t``; ``attrs``: the parent's region, level and channel
        when its row may be final (an exchange: see omsim.sim.retire), or the new row's own; ``origin``: the
        created event's code (default ``<kind>_of:<parent>``)."""
        ot = self.ot
        oid = ot.n
        ot.grow(oid + 1)
        ot.n += 1
        ot.created_h[oid] = ot.paid_h[oid] = t
        if attrs is None:
            attrs = ot.region[parent], ot.level[parent], ot.channel[parent]
        ot.region[oid], ot.level[oid], ot.channel[oid] = attrs
        ot.parent[oid] = parent
        ot.kind[oid] = kind
        ot.units[oid] = int(qty.sum())
        ot.lines[oid] = skus.size
        self.extra_lines[oid] = (skus, qty)
        self.log.add(t, oid, EV["created"], -1, self.log.code(origin or f"{KINDS[kind]}_of:{parent}"))
        self.log.add(t, oid, EV["paid"])
        return oid

    def _exchanges(self, rows: list[tuple], t: float) -> list[int]:
        """Exchanges: a new order row for each return's lines (``(parent, skus, qty, (region, level, channel))``);
        the caller decides them."""
        log = self.log
        new = []
        for parent, skus, qty, attrs in rows:
            oid = self._add_row(parent, skus, qty, t, 1, attrs)
            new.append(oid)
            log.add(t, parent, EV["exchanged"], -1, log.code(f"new_order:{oid}"))
        self.exchanges += len(new)
        return new

    def _remainders(self, oids, times, unfilled, lp, rem, idx: list[int], rem_reason) -> list[int]:
        """Rows for the unfilled lines of partly allocated orders ``oids[idx]``, registered with the engine.

        Only those the engine would backorder (or hold) on their own right after
        their order (its probe, ``rem``): units it left unfilled although stock
        was there (more packages than allowed, or dearer than a lost sale) stay
        lost sales, as it decided. The caller backorders the rows returned.
        """
        ot = self.ot
        rids, skus, qtys, ts, whys = [], [], [], [], []
        for i in idx:
            o, t = int(oids[i]), float(times[i])
            unf = unfilled[int(lp[i]):int(lp[i + 1])]
            short = unf > 0
            whys.append(rem_reason[int(lp[i]):int(lp[i + 1])][short])
            sk = self._row_lines(o)[0][short].astype(np.int64)
            qt = unf[short].astype(np.int64)
            rids.append(self._add_row(o, sk, qt, t, 2))
            skus.append(sk)
            qtys.append(qt)
            ts.append(t)
            ot.was_backordered[o] = True
        r = np.array(rids, dtype=np.int64)
        ptr = np.zeros(r.size + 1, dtype=np.int64)
        np.cumsum(ot.lines[r], out=ptr[1:])
        self.engine.register_backorders(r, np.array(ts), ot.region[r], ot.level[r], ptr, np.concatenate(skus),
                                        np.concatenate(qtys), rem[idx], np.concatenate(whys))
        # What _accept does with a first decision that ships nothing: every line is short.
        ot.lines_short[r] = ot.lines[r]
        ot.units_first[r] = 0
        return rids

    def _retry_backorders(self, t: float, skus: set | None, new: list[int] = ()) -> None:
        """Ask the engine again for backorders that need one of ``skus`` (all when None), oldest first,
        after deciding new order rows ``new`` (exchanges), in one call."""
        # Only backorders that could ship now (see omsim.fulfilment.backorders); the new rows decided
        # first may take the stock, and asking again then repeats "backorder".
        cand = self.backorders.candidates(self.engine.inventory, skus)
        if not cand and not new:
            return
        # Decided in turn, each against the stock the ones before it left. A backorder decided again is
        # registered again; one that ships leaves the backorders in _accept.
        eng = self.engine
        for oid in cand:
            eng.cancel(oid, t)      # a backorder holds nothing: this only forgets its registration
        self._decide_rows(np.array(list(new) + cand, dtype=np.int64), t, len(new))
