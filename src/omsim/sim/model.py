"""The SimPy model of the whole order cycle.

Every decision is asked of the :class:`omsim.engine.DecisionEngine`
(allocation, carrier and promise, replenishment quantities) or of
:mod:`omsim.warehouse` (batching, routing, slotting, pick times); the model
only moves orders through time.

Design for speed:

- orders are rows of NumPy columns (``OrderTable``), with integer state codes;
  their lines stay in CSR arrays; the engine decides runs of them as columns
  (:meth:`~omsim.engine.DecisionEngine.decide_commit_arrays`) and one
  compiled pass (:class:`~omsim.sim.book.Booking`) books a run: its packages
  become rows of a :class:`~omsim.sim.packages.PackageTable`, its orders'
  rows and log rows are filled, its packages join their node's wave queue;
  waves, totes and pickups carry package rows, never Python objects;
- there is no SimPy process per order. Arrivals are pre-generated per day
  (:mod:`omsim.sim.demand`) and fed to the engine by one dispatcher process,
  one run per call: every order up to the next *barrier*, an event that may
  change what the engine decides (a pickup, a receipt, a review, a return put
  back in stock, a day start). Floor events in between read no decision:
  packages wait in the wave queue with their decision time and a release
  takes only those decided by then. A partly allocated order does not end a
  run: the engine probes its remainder right after it. The result is exactly
  that of stopping at every event (a test compares the two row for row);
- the floor works per wave (release), per tour (pickers) and per tote
  (packers); a station computes a job's start when it is submitted (FIFO,
  earliest-free server, shift calendar), so a tour is one SimPy event, at its
  end, when its tote's packing is booked and its end known at once (no event);
  carriers work per pickup (one event per node and pickup time), shipping,
  delivery, feedback and return requests vectorised over the pickup; the
  returns desk works per batch (restock, refunds, exchanges and the backorders
  they free in one engine call);
- backorders (whole orders, or the remainder of a partly allocated one) wait
  in a FIFO indexed by SKU and are asked again, in one engine call, when a
  receipt or a restock brings one of their SKUs, and at each day's start
  (capacity frees up); they are cancelled after ``max_backorder_wait_h`` from
  the customer's order;
- state changes that do not touch the engine (delivery, feedback, the return
  request) are logged at the time they happen when they become known, and the
  event log is put in time order at the end; state changes that do touch the
  engine (ship, receipt, restock) are SimPy events, so the engine sees time
  move forward only.
"""
from __future__ import annotations

import dataclasses
import gc
import heapq
import math

import numpy as np
import simpy

from omsim.engine import DecisionEngine, decision_arrays
from omsim.engine.floor import floors
from omsim.fulfilment.backorders import BackorderQueue, expiry_h
from omsim.orders import DECISION_STATUSES, Order
from omsim.ranges import spans
from omsim.rng import Streams
from omsim.sim.book import Booking, WaveQueues
from omsim.sim.demand import LEVELS, generate_demand
from omsim.sim.events import EV, EventLog
from omsim.sim.packages import PackageTable
from omsim.sim.queueing import Calendar, Station
from omsim.sim.table import OrderTable

# Internal order states.
PENDING, PAY_FAILED, ACTIVE, BACKORDERED, CANCELLED, DONE = range(6)
#: Kinds of rows in the order table: a customer's order, an exchange (a new order
#: for returned goods) and the backordered remainder of a partly allocated order.
KINDS = ("order", "exchange", "remainder")
PARTIAL_CODE = DECISION_STATUSES.index("partial")
BACKORDER_CODE = DECISION_STATUSES.index("backorder")
HOLD_CODE = DECISION_STATUSES.index("hold")
#: Output statuses (``Result.orders.status``).
STATUSES = ("delivered", "returned", "cancelled", "payment_failed", "backordered", "in_flight")


class Simulation:
    """One run of the model (use :func:`omsim.sim.simulate`).

    Parameters
    ----------
    scenario
        A validated scenario.
    seed
        Seed of the run's named streams.
    days
        Horizon; the scenario's ``horizon.days`` when None.
    replication
        Replication index (independent streams), or None for a plain run.
    progress
        Optional ``callable(day_done, days_total)``.
    sink
        Optional :class:`omsim.sim.stream.Sink`: events and ledger are written to it at each day's end,
        the orders at the end (memory then holds about a day of them).
    on_orders
        Optional ``callable(orders_decided, orders_total)``, called as the dispatcher decides orders.
    """

    def __init__(self, scenario, seed: int, days: int | None = None, replication: int | None = None,
                 progress=None, sink=None, on_orders=None):

        sc = self.sc = scenario
        self.seed = int(seed)
        self.days = int(days if days is not None else sc.horizon.days)
        self.end_h = 24.0 * self.days
        self.warmup_h = 24.0 * min(sc.horizon.warmup_days, max(self.days - 1, 0))
        self.progress, self.sink, self.on_orders = progress, sink, on_orders
        self.streams = Streams(self.seed, replication)
        # explain=False: the simulator never reads Decision.alternatives, and listing them costs about as
        # much as the decision itself (the choice is the same: the kernel's assignment is exact).
        self.engine = DecisionEngine.from_scenario(sc, self.streams, explain=False)
        self._initial_on_hand = self.engine.inventory.on_hand.copy()
        self.env = simpy.Environment()
        self.node_ids = sc.node_ids
        self.N, self.S = len(self.node_ids), len(sc.sku_ids)
        pol = sc.policies
        self.pol = pol
        self.batch = pol.allocation == "batch"

        # Demand and the order table.
        dem = self.dem = generate_demand(sc, self.streams, self.days)
        # About ten log rows an order: sized once (zeroed pages cost nothing until written) rather than
        # doubled and copied as it fills; a streamed run's holds about two days of them.
        self.log = EventLog(self.node_ids, capacity=(10 * dem.n if sink is None else 30 * dem.n // self.days) + 4096)
        ps = sc.post_sales
        # Rows added during the run: exchanges, and remainders of partly allocated orders (up to one in
        # ten at a peak): sized once, not doubled (a copy of every column) as they come.
        extra = int(dem.n * (ps.return_probability * ps.exchange_share * 1.5 + 0.1)) + 64
        ot = self.ot = OrderTable(dem.n + extra)
        n = dem.n
        ot.n = n
        ot.created_h[:n] = dem.created_h
        ot.paid_h[:n] = dem.paid_h
        ot.region[:n] = dem.region
        ot.level[:n] = dem.level
        ot.channel[:n] = dem.channel
        ot.units[:n] = dem.units()
        ot.lines[:n] = np.diff(dem.line_ptr)
        self.extra_lines: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.channels = dem.channels

        # Catalogue facts used by post-sales.
        skus = sc.catalogue.skus
        self.price = np.array([s.price for s in skus], dtype=np.float64)
        self.unit_cost = np.array([s.unit_cost for s in skus], dtype=np.float64)
        self.returnable = np.array([s.returnable for s in skus], dtype=bool)
        cat_p = ps.return_probability_by_category
        self.sku_return_p = np.array([cat_p.get(s.category, ps.return_probability) for s in skus], dtype=np.float64)

        # Floors, stations, calendars.
        start_wd = sc.horizon.start.weekday()
        self.floors = floors(sc, self.streams)
        self.pickers, self.packers, self.calendars = [], [], []
        for wh in sc.network.warehouses:
            cal = Calendar.from_shifts(wh.shifts, start_wd)
            self.calendars.append(cal)
            self.pickers.append(Station(self.env, wh.pickers, cal, record=True, name=f"{wh.id}/pickers"))
            self.packers.append(Station(self.env, wh.packers, cal, record=True, name=f"{wh.id}/packers"))
        # Packages (rows of self.P) waiting for their node's next wave, in decision order.
        self.P = PackageTable(capacity=dem.n + 64, line_capacity=int(dem.line_ptr[-1]) + 64)
        self.wq = WaveQueues(self.N, capacity=4096)
        self._release_due = [False] * self.N
        # Backorders: oid -> Order (insertion order = FIFO), indexed by SKU, and their units
        # per (nearest node, SKU) for the replenishment reviews.
        self._home = np.argmin(self.engine.node_region_km, axis=0).tolist()   # nearest node per region
        self.backorders = BackorderQueue(self.N, len(sc.sku_ids), self._home)
        self.pickups: dict[tuple[int, float], list[np.ndarray]] = {}
        self.inspections: dict[float, list[tuple[int, bool]]] = {}   # returns desk batches by time
        self.receipts: dict[float, list] = {}
        # Per carrier service (engine.services order): transit delay and the log detail of a shipment.
        st = self.engine.services
        delay = {(c, s.id): (s.delay.probability, s.delay.mean_h) for c, s in sc.services()}
        dl = [delay.get((c, v), (0.0, 0.0)) for c, v in zip(st.carrier, st.service)]
        self._delay_p = np.array([p for p, _ in dl], dtype=np.float64)
        self._delay_mean = np.array([h for _, h in dl], dtype=np.float64)
        self._svc_code = np.array([self.log.code(f"{c}/{v}") for c, v in zip(st.carrier, st.service)],
                                  dtype=np.int32)
        self._alloc_code = np.array([self.log.code(f"{pol.allocation}:{k}pkg")
                                     for k in range(sc.policies.max_packages + 1)],
                                    dtype=np.int32)
        self._missed_code = self.log.code("next_pickup")
        self.booking = Booking(self.ot, self.P, self.log, self.wq, PARTIAL_CODE, EV["allocated"], EV["partial"],
                               self._alloc_code, ACTIVE)
        # Dispatcher barriers (see _next_barrier): every possible pickup time and every midnight.
        self._barriers: list[float] = []
        cut = np.unique(st.pickup_h.ravel() % 24.0)
        d24 = 24.0 * np.arange(self.days + 2)
        self._fixed_barriers = np.unique(np.concatenate([(d24[:, None] + cut[None, :]).ravel(), d24[1:]]))
        #: Look ahead to the next barrier (False: stop every run at SimPy's next event, as one order at a
        #: time would; the two give the same results, see tests/sim/test_model.py).
        self.look_ahead = True
        #: Most orders per engine call (a run cut short is as if an event stopped it: the same results),
        #: so that progress advances within a busy day.
        self.max_run_orders = 20_000
        self._score_code = np.array([self.log.code(f"{k / 10:.1f}") for k in range(51)], dtype=np.int32)
        self.rng_pick = self.streams["picking"]
        self.rng_transit = self.streams["transit"]
        self.rng_ret = self.streams["returns"]
        self.rng_fb = self.streams["feedback"]

        # Counters.
        self.travel_m = 0.0
        self.packages_released = 0
        self.tours = 0
        self.lines_picked = 0
        self.pick_errors = 0
        self.pick_errors_shipped = 0
        self.refund_total = 0.0
        self.exchanges = 0
        self.units_restocked = 0
        self.units_scrapped = 0
        self.open_orders = 0  # accepted, not fully shipped (backorders excluded)
        self.pick_busy_day = np.zeros((self.N, self.days + 1))      # picker hours inside the shifts, per day
        self.pick_overtime_day = np.zeros((self.N, self.days + 1))  # hours of tours run on past closing
        self.daily_rows: list[dict] = []
        self.shipments_today = 0

    # ------------------------------------------------------------ scheduling
    def _at(self, t: float, fn, *args) -> None:
        """Call ``fn(*args)`` at absolute time ``t`` (>= now)."""
        ev = self.env.timeout(max(t - self.env.now, 0.0))
        ev.callbacks.append(lambda _e: fn(*args))

    def _at_engine(self, t: float, fn, *args) -> None:
        """As :meth:`_at`, for an event that changes what the engine decides (a barrier for the dispatcher)."""
        heapq.heappush(self._barriers, t)
        self._at(t, fn, *args)

    def _next_barrier(self) -> float:
        """The time of the next event after now that may change the engine's decisions.

        Scheduled ones (receipts, return inspections, reviews) are in a heap;
        carrier pickups (ship) and day starts (backorders asked again) are
        looked up in the table of every possible pickup time and midnight,
        since a pickup is scheduled only once its first package is packed,
        possibly after the dispatcher has looked ahead.
        """
        now = self.env.now
        h = self._barriers
        while h and h[0] <= now:
            heapq.heappop(h)
        nxt = h[0] if h else math.inf
        fixed = self._fixed_barriers
        i = int(np.searchsorted(fixed, now, side="right"))
        if i < fixed.size and fixed[i] < nxt:
            nxt = float(fixed[i])
        return nxt

    # ---------------------------------------------------------------- orders
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
        if int(oids.max()) >= dem.n:
            # Rows added during the run (exchanges, remainders): their lines are kept per row.
            got = [self._row_lines(o) for o in oids.tolist()]
            ptr = np.zeros(oids.size + 1, dtype=np.int64)
            np.cumsum(self.ot.lines[oids], out=ptr[1:])
            return (ptr, np.concatenate([s for s, _ in got]).astype(np.int64, copy=False),
                    np.concatenate([q for _, q in got]).astype(np.int64, copy=False))
        ptr, idx = spans(dem.line_ptr[oids], dem.line_ptr[oids + 1])
        return ptr, dem.line_sku[idx], dem.line_qty[idx]

    def _row_lines(self, oid: int) -> tuple[np.ndarray, np.ndarray]:
        """(skus, qty) of one order row."""
        dem = self.dem
        if oid < dem.n:
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
                                   rem_status=da.rem_status[nfirst:])
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
                                        lp if lp is not None else self._line_ptr_of(oids), rem, idx)
                todo += [(i, r, int(rem[i])) for i, r in zip(idx, rids)]
                todo.sort()
        # In decision order, as one order at a time would: backorders wait first in, first out.
        for j, row, code in todo:
            self._no_shipment(row, code, float(times[j]))

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
            log.add(t, oid, EV["cancelled"], -1, log.code("no_stock"))
        # "partial"/"allocated" without shipments cannot happen

    def _expire(self, oid: int) -> None:
        """Cancel a backorder that waited too long."""
        if oid in self.backorders:
            t = self.env.now
            self.backorders.drop(oid)
            self.engine.cancel(oid, t)
            self.ot.state[oid] = CANCELLED
            self.log.add(t, oid, EV["cancelled"], -1, self.log.code("max_wait"))

    def _dispatcher(self):
        """Feed paid orders to the engine in time order (see the module docstring)."""
        env, ot = self.env, self.ot
        n = self.dem.n
        paid = ot.paid_h[:n]
        ok = np.isfinite(paid) & (paid < self.end_h)
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(paid[idx], kind="stable")]
        tarr = paid[idx]
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
        # The orders' lines, regions and levels in the order they are decided: a run's are slices.
        dem, eng = self.dem, self.engine
        # Arrays, not lists: read once per run, and a list of every order's numbers costs 40 bytes an order.
        all_ptr_arr, lidx = spans(dem.line_ptr[idx], dem.line_ptr[idx + 1])
        all_sku, all_qty = dem.line_sku[lidx], dem.line_qty[lidx]
        region, level = ot.region[idx], ot.level[idx]
        look = self.look_ahead and runs
        yield env.timeout(0)   # after every process's first step at time 0 (the first reviews)
        while i < m:
            t = float(tarr[i])
            bound = self._next_barrier() if look else env.peek()
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
                self.on_orders(j, m)

    def _add_row(self, parent: int, skus: np.ndarray, qty: np.ndarray, t: float, kind: int) -> int:
        """A new row of the order table derived from ``parent`` (exchange or remainder)."""
        ot = self.ot
        oid = ot.n
        ot.grow(oid + 1)
        ot.n += 1
        ot.created_h[oid] = ot.paid_h[oid] = t
        ot.region[oid], ot.level[oid], ot.channel[oid] = ot.region[parent], ot.level[parent], ot.channel[parent]
        ot.parent[oid] = parent
        ot.kind[oid] = kind
        ot.units[oid] = int(qty.sum())
        ot.lines[oid] = skus.size
        self.extra_lines[oid] = (skus, qty)
        self.log.add(t, oid, EV["created"], -1, self.log.code(f"{KINDS[kind]}_of:{parent}"))
        self.log.add(t, oid, EV["paid"])
        return oid

    def _exchanges(self, rows: list[tuple[int, np.ndarray, np.ndarray]], t: float) -> list[int]:
        """Exchanges: a new order row for each return's lines (``(parent, skus, qty)``); the caller decides them."""
        log = self.log
        new = []
        for parent, skus, qty in rows:
            oid = self._add_row(parent, skus, qty, t, 1)
            new.append(oid)
            log.add(t, parent, EV["exchanged"], -1, log.code(f"new_order:{oid}"))
        self.exchanges += len(new)
        return new

    def _remainders(self, oids, times, unfilled, lp, rem, idx: list[int]) -> list[int]:
        """Rows for the unfilled lines of partly allocated orders ``oids[idx]``, registered with the engine.

        Only those the engine would backorder (or hold) on their own right after
        their order (its probe, ``rem``): units it left unfilled although stock
        was there (more packages than allowed, or dearer than a lost sale) stay
        lost sales, as it decided. The caller backorders the rows returned.
        """
        ot = self.ot
        rids, skus, qtys, ts = [], [], [], []
        for i in idx:
            o, t = int(oids[i]), float(times[i])
            unf = unfilled[int(lp[i]):int(lp[i + 1])]
            short = unf > 0
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
                                        np.concatenate(qtys), rem[idx])
        # What _accept does with a first decision that ships nothing: every line is short.
        ot.lines_short[r] = ot.lines[r]
        ot.units_first[r] = 0
        return rids

    # ----------------------------------------------------------------- floor
    def _waves(self):
        """Release every node's queue every ``wave.interval_h``."""
        dt = self.pol.wave.interval_h
        while True:
            yield self.env.timeout(dt)
            for n in range(self.N):
                self._release(n)

    def _release(self, n: int) -> None:
        self._release_due[n] = False
        # Only packages decided by now (the dispatcher may have decided later ones already).
        t = self.env.now
        pk = self.wq.take(n, t)
        if not pk.size:
            return
        P = self.P
        ptr, sku, _qty = P.lines(pk)
        units = P.units[pk]
        tours, lengths, picks = self.floors[n].tours(ptr, sku, units)
        pick_h = self.floors[n].pick_hours_list(lengths, picks)
        err_line = self.rng_pick.random(sku.size) < self.pol.pick_error_rate
        errs = np.add.reduceat(err_line.astype(np.int64), ptr[:-1])
        self.log.add_many(t, P.order[pk], EV["released"], n)
        self.travel_m += float(lengths.sum())
        self.tours += len(tours)
        self.packages_released += int(pk.size)
        self.lines_picked += int(sku.size)
        self.pick_errors += int(errs.sum())
        st = self.pickers[n]
        for j, tour in enumerate(tours):
            st.submit(pick_h[j], self._picked, n, pk[tour], errs[tour])

    def _picked(self, start: float, end: float, n: int, pk, errs) -> None:
        """A tote is picked: it is packed (its packing is booked now, its end known) and staged for its pickups."""
        # A tour started before closing finishes (overtime): only its hours inside the shifts count
        # towards the day's utilisation, which so stays at most 100 %; the rest is overtime.
        day = min(int(start // 24.0), self.days)
        cal = self.calendars[n]
        d, t = day, start
        while t < end and d < self.days:
            t1 = min(end, 24.0 * (d + 1))
            self.pick_busy_day[n, d] += cal.open_hours(t, t1)
            d, t = d + 1, t1
        self.pick_overtime_day[n, day] += (end - start) - cal.open_hours(start, end)
        wh = self.sc.network.warehouses[n]
        scan = self.pol.scan_verification
        # Caught at the scan, a pick error sends the packer for the right item.
        cum, total, bad = self.booking.picked(pk, errs, n, end, EV["picked"], wh.pack_time_s, wh.pack_time_per_unit_s,
                                              wh.pick_time_s + wh.tour_setup_s if scan else 0.0)
        if bad:
            log = self.log
            sel = pk[errs > 0]
            oids = self.P.order[sel]
            if scan:
                log.add_many(end, oids, EV["pick_error"], n, log.code("caught_at_packing"))
            else:
                self.ot.wrong[oids] = True
                self.pick_errors_shipped += int(errs.sum())
                log.add_many(end, oids, EV["pick_error"], n, log.code("not_caught"))
        # No event at the packing's end: what happens then (packed, staged for a pickup) is known now.
        p_start, p_end = self.packers[n].book(total)
        T, same = self.booking.packed(pk, cum, n, p_start, p_end, EV["packed"], EV["missed_cutoff"],
                                      self._missed_code)
        if same:                         # usually one pickup for the whole tote
            groups = {float(T[0]): pk}
        else:                            # a few packages: group them in plain Python, in tote order
            by: dict[float, list[int]] = {}
            for tv, p in zip(T.tolist(), pk.tolist()):
                by.setdefault(tv, []).append(p)
            groups = {tv: np.array(ps, dtype=np.int64) for tv, ps in by.items()}
        for tv, sel in groups.items():
            key = (n, tv)
            b = self.pickups.get(key)
            if b is None:
                b = self.pickups[key] = []
                if tv < self.end_h:
                    self._at(tv, self._pickup, key)
            b.append(sel)

    # --------------------------------------------------------------- carriers
    def _pickup(self, key) -> None:
        n, T = key
        parts = self.pickups.pop(key)
        pk = parts[0] if len(parts) == 1 else np.concatenate(parts)
        ot, log, P = self.ot, self.log, self.P
        oids = P.order[pk]                      # distinct: one package per node and order
        self.engine.ship_many(oids, P.k[pk], T)
        ot.units_shipped[oids] += P.units[pk]
        ot.ship_cost[oids] += P.cost_ship[pk]
        ot.handling_cost[oids] += P.cost_handling[pk]
        svc = P.service[pk]
        log.add_many(T, oids, EV["shipped"], n, self._svc_code[svc])
        rng = self.rng_transit
        m = pk.size
        u = rng.random(m)
        ex = rng.exponential(1.0, m)
        late = np.where(u < self._delay_p[svc], ex * self._delay_mean[svc], 0.0)
        arr = T + P.transit[pk] + late
        ot.last_delivery_h[oids] = np.fmax(ot.last_delivery_h[oids], arr)
        self.shipments_today += m
        ot.pending[oids] -= 1
        done = oids[ot.pending[oids] == 0]
        if done.size:
            self._complete(done)

    def _complete(self, oids: np.ndarray) -> None:
        """All packages of these orders are on their way: delivery, feedback, return."""
        ot, log, ps = self.ot, self.log, self.sc.post_sales
        self.open_orders -= int(oids.size)
        ot.state[oids] = DONE
        t_del = ot.last_delivery_h[oids]
        ot.delivered_h[oids] = t_del
        keep = t_del <= self.end_h
        oids, t_del = oids[keep], t_del[keep]
        m = oids.size
        if m == 0:
            return
        log.add_many(t_del, oids, EV["delivered"])
        sat = ps.satisfaction
        prom = ot.promised_h[oids]
        late_days = np.where(np.isfinite(prom), np.maximum(0.0, (t_del - prom) / 24.0), 0.0)
        wrong = ot.wrong[oids]
        score = (sat.base - sat.per_day_late * late_days - sat.wrong_item * wrong
                 - sat.per_extra_package * np.maximum(ot.packages[oids] - 1, 0)
                 + sat.noise_sd * self.rng_fb.standard_normal(m))
        score = np.clip(score, 1.0, 5.0)
        ot.satisfaction[oids] = score
        log.add_many(t_del, oids, EV["feedback"], -1, self._score_code[np.rint(score * 10.0).astype(np.int64)])
        # Return: the probability of the order's units (by category), or the wrong-item one.
        P = self.P
        first = ot.pkg0[oids]
        last = first + ot.packages[oids] - 1
        ptr, idx = spans(P.line_a[first], P.line_b[last])
        skus, qty = P.sku[idx], P.qty[idx]
        ret_any = np.add.reduceat(self.returnable[skus].astype(np.int64), ptr[:-1]) > 0
        p = np.add.reduceat(self.sku_return_p[skus] * qty, ptr[:-1]) / np.add.reduceat(qty, ptr[:-1])
        p = np.where(wrong, ps.wrong_item_return_probability, p)
        u = self.rng_ret.random((m, 3))
        req = ret_any & (u[:, 0] < p)
        if not req.any():
            return
        oids, t_del, u = oids[req], t_del[req], u[req]
        if ps.return_delay_days > 0:
            t_req = t_del - ps.return_delay_days * 24.0 * np.log1p(-u[:, 1])
        else:
            t_req = t_del
        ok = t_req <= self.end_h
        oids, t_req, u = oids[ok], t_req[ok], u[ok]
        ot.returned_h[oids] = t_req
        log.add_many(t_req, oids, EV["return_requested"])
        t_arr = t_req + ps.return_transit_days * 24.0
        t_done = t_arr + ps.inspection_h
        arrived = t_arr <= self.end_h
        log.add_many(t_arr[arrived], oids[arrived], EV["return_received"])
        if ps.inspection_batch_h > 0:
            b = ps.inspection_batch_h
            t_done = np.ceil(t_done / b - 1e-9) * b
        for o, td, ux in zip(oids.tolist(), t_done.tolist(), u[:, 2].tolist()):
            if td <= self.end_h:
                batch = self.inspections.get(td)
                if batch is None:
                    batch = self.inspections[td] = []
                    self._at_engine(td, self._inspect_batch, td)
                batch.append((o, ux < ps.exchange_share))

    # -------------------------------------------------------------- post-sales
    def _inspect_batch(self, key: float) -> None:
        """The returns desk's batch: restock or scrap each return's units, refund them or send an exchange,
        then ask again backorders for what came back."""
        t = self.env.now
        items = self.inspections.pop(key)
        eng, log, P, ot = self.engine, self.log, self.P, self.ot
        m = len(items)
        oids = np.fromiter((o for o, _ in items), dtype=np.int64, count=m)
        # The returns' lines (an order's packages' lines are contiguous), with their node and return.
        r0 = ot.pkg0[oids]
        npk = ot.packages[oids].astype(np.int64)
        _, rows = spans(r0, r0 + npk)
        la, lb = P.line_a[rows], P.line_b[rows]
        nl = lb - la
        _, lidx = spans(la, lb)
        sku = P.sku[lidx]
        keep = self.returnable[sku]
        if not keep.any():
            return
        sku, qty = sku[keep], P.qty[lidx][keep]
        node = np.repeat(P.node[rows], nl)[keep]
        ret = np.repeat(np.repeat(np.arange(m), npk), nl)[keep]
        # One draw per line, in order: the numbers scalar draws line by line would give.
        dmg = self.rng_ret.binomial(qty, self.sc.post_sales.damaged_share)
        back = qty - dmg
        ret_oid = oids[ret]
        up = back > 0
        eng.restock_many(node[up], sku[up], back[up], ret_oid[up].tolist(), t)
        for j in np.flatnonzero(dmg).tolist():
            eng.scrap(int(node[j]), int(sku[j]), int(dmg[j]), int(ret_oid[j]), t)
        self.units_restocked += int(back.sum())
        self.units_scrapped += int(dmg.sum())
        # One restocked (and scrapped) row per package that came back: its lines are consecutive.
        grp = ret * self.N + node
        first = np.flatnonzero(np.concatenate(([True], grp[1:] != grp[:-1])))
        back_at, dmg_at = np.add.reduceat(back, first), np.add.reduceat(dmg, first)
        code = log.code
        log.add_many(t, ret_oid[first], EV["restocked"], node[first],
                     np.array([code(str(v)) for v in back_at.tolist()], dtype=np.int32))
        hit = dmg_at > 0
        if hit.any():
            log.add_many(t, ret_oid[first][hit], EV["scrapped"], node[first][hit],
                         np.array([code(str(v)) for v in dmg_at[hit].tolist()], dtype=np.int32))
        # Refund, or an exchange of the units that came back (a line split over two nodes is one line).
        amount = np.bincount(ret, weights=self.price[sku] * qty, minlength=m)
        exchanges: list[tuple[int, np.ndarray, np.ndarray]] = []
        present = np.zeros(m, dtype=bool)
        present[ret] = True
        exch = [e for _, e in items]
        back_i = np.flatnonzero(present).tolist()
        if any(exch[i] for i in back_i):
            bounds = np.searchsorted(ret, np.arange(m + 1)).tolist()   # lines come return by return
            sku_l, qty_l = sku.tolist(), qty.tolist()
        refunded = 0.0
        for i in back_i:
            o = int(oids[i])
            if exch[i]:
                # The exchange's lines: each SKU once (a line split over two nodes is one), by SKU.
                merged: dict[int, int] = {}
                for j in range(bounds[i], bounds[i + 1]):
                    merged[sku_l[j]] = merged.get(sku_l[j], 0) + qty_l[j]
                got = sorted(merged)
                exchanges.append((o, np.array(got, dtype=np.int64),
                                  np.array([merged[k] for k in got], dtype=np.int64)))
            else:
                amt = float(amount[i])
                refunded += amt
                log.add(t, o, EV["refunded"], -1, code(f"{amt:.2f}"))
        self.refund_total += refunded
        # The desk's exchanges go out after the batch is inspected (and put back in stock), then the
        # backorders for what came back are asked again: one engine call.
        self._retry_backorders(t, set(sku.tolist()), self._exchanges(exchanges, t) if exchanges else [])

    # -------------------------------------------------------------- inventory
    def _reviews(self, n: int):
        rp = self.sc.network.warehouses[n].replenishment
        if rp.policy == "none" and not rp.by_class:
            return
        dt = rp.review_h
        while True:
            t = self.env.now
            bo = self.backorders.units[n].copy()
            for po in self.engine.review(n, t, bo) or []:
                eta = max(float(po.eta_h), t)
                b = self.receipts.get(eta)
                if b is None:
                    b = self.receipts[eta] = []
                    if eta < self.end_h:
                        self._at_engine(eta, self._receive, eta)
                b.append(po)
            heapq.heappush(self._barriers, t + dt)
            yield self.env.timeout(dt)

    def _receive(self, eta: float) -> None:
        t = self.env.now
        pos = self.receipts.pop(eta)
        got = set()
        for po in pos:
            self.engine.receive(po, t)
            got.add(int(po.sku))
        self._retry_backorders(t, got)

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

    # ------------------------------------------------------------------ daily
    def _daily(self):
        for day in range(self.days - 1):
            yield self.env.timeout((day + 1) * 24.0 - self.env.now)
            self._record_day(day)
            # A new day frees node and carrier capacity: backorders taken for want of it may go now.
            self._retry_backorders(self.env.now, None)

    def _record_day(self, day: int) -> None:
        """One row of the daily series, at the day's end."""
        inv = self.engine.inventory
        row = {"day": day, "shipments": self.shipments_today, "backlog": self.open_orders + len(self.backorders)}
        self.shipments_today = 0
        for n, nid in enumerate(self.node_ids):
            avail = self.pickers[n].servers * self.calendars[n].open_hours(day * 24.0, (day + 1) * 24.0)
            row[f"util_{nid}"] = float(self.pick_busy_day[n, day] / avail) if avail > 0 else 0.0
            row[f"overtime_h_{nid}"] = float(self.pick_overtime_day[n, day])
        for n, nid in enumerate(self.node_ids):
            row[f"inv_{nid}"] = int(inv.on_hand[n].sum())
        row["_inv_value"] = float(np.dot(inv.on_hand.sum(0), self.unit_cost))
        self.daily_rows.append(row)
        if self.sink is not None and day > 0:
            # Rows of the day before are final (a state change is logged when it becomes known).
            self.sink.flush(self, 24.0 * day)
        if self.progress is not None:
            self.progress(day + 1, self.days)

    # -------------------------------------------------------------------- run
    def run(self):
        """Run the horizon and return a :class:`omsim.sim.result.Result`."""
        from omsim.sim.result import build_result

        env, ot, log = self.env, self.ot, self.log
        n = self.dem.n
        # Pre-log what demand generation already decided (creation and payment); a sink adds these rows
        # window by window as it writes the log (omsim.sim.stream).
        created = ot.created_h[:n]
        paid = ot.paid_h[:n]
        ok = np.isfinite(paid)
        ot.state[:n][~ok] = PAY_FAILED
        if self.sink is None:
            oids = np.arange(n, dtype=np.int64)
            log.add_many(created, oids, EV["created"])
            att = self.dem.payment_attempts
            delay = self.sc.demand.payment.retry_delay_h
            for k in range(1, int(att.max(initial=1))):
                sel = att > k
                log.add_many(created[sel] + k * delay, oids[sel], EV["payment_retry"])
            fail_t = created[~ok] + (att[~ok] - 1) * delay
            log.add_many(fail_t, oids[~ok], EV["payment_failed"])
            log.add_many(paid[ok], oids[ok], EV["paid"])

        env.process(self._dispatcher())
        env.process(self._waves())
        env.process(self._daily())
        for node in range(self.N):
            env.process(self._reviews(node))
        # The cyclic garbage collector off while the clock runs: the model makes next to no reference
        # cycles (a few hundred objects in a 200-day run), and full collections over the run's
        # long-lived objects cost about 4% of a long run. Its state is put back whatever happens.
        collecting = gc.isenabled()
        gc.disable()
        try:
            env.run(until=self.end_h)
        finally:
            if collecting:
                gc.enable()
        self._record_day(self.days - 1)
        return build_result(self, self.sink)
