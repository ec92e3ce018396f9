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

import gc
import heapq
import math

import numpy as np
import simpy

from omsim.engine import DecisionEngine
from omsim.engine.floor import floors
from omsim.fulfilment.backorders import BackorderQueue
from omsim.rng import Streams
from omsim.sim.book import Booking, WaveQueues
from omsim.sim.cancellations import CustomerCancels
from omsim.sim.carriers import Carriers
from omsim.sim.demand import DemandFeed, generate_demand
from omsim.sim.dispatch import Dispatch
from omsim.sim.events import EV, EventLog
from omsim.sim.floor import Floor
from omsim.sim.packages import PackageTable
from omsim.sim.queueing import Calendar, Station
from omsim.sim.replenishment import Replenishment
from omsim.sim.retire import Retirement
from omsim.sim.returns import ReturnsDesk
from omsim.sim.states import ACTIVE, PARTIAL_CODE, PAY_FAILED
from omsim.sim.table import OrderTable


class Simulation(Dispatch, Floor, Carriers, ReturnsDesk, Replenishment, Retirement):
    """One run of the model (use :func:`omsim.sim.simulate`).

    The processes live in modules by concept, mixed in here: :mod:`~omsim.sim.dispatch` (orders to the
    engine, backorders), :mod:`~omsim.sim.floor` (waves, tours, packing), :mod:`~omsim.sim.carriers`
    (pickups, delivery, feedback, return requests), :mod:`~omsim.sim.returns` (the returns desk) and
    :mod:`~omsim.sim.replenishment` (reviews, receipts), :mod:`~omsim.sim.retire` (a streamed run's demand day
    by day and its final rows retired); this class builds the state, schedules, keeps
    the daily series and runs the clock.

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
    start
        Optional :class:`omsim.sim.snapshot.Start`: begin from a live snapshot's state and instant
        (``scenario`` is then ``start.scenario``).
    """

    def __init__(self, scenario, seed: int, days: int | None = None, replication: int | None = None,
                 progress=None, sink=None, on_orders=None, start=None):

        sc = self.sc = scenario
        self.seed = int(seed)
        self.days = int(days if days is not None else sc.horizon.days)
        self.end_h = 24.0 * self.days
        self.warmup_h = 24.0 * min(sc.horizon.warmup_days, max(self.days - 1, 0))
        self.progress, self.sink, self.on_orders = progress, sink, on_orders
        self.streams = Streams(self.seed, replication)
        # Decisions without explain: the simulator never reads Decision.alternatives.
        self.engine = DecisionEngine.from_scenario(sc, self.streams) if start is None else start.engine(self.streams)
        self._initial_on_hand = self.engine.inventory.on_hand.copy()
        self.env = simpy.Environment(0.0 if start is None else start.t0_h)
        self.node_ids = sc.node_ids
        self.N, self.S = len(self.node_ids), len(sc.sku_ids)
        pol = sc.policies
        self.pol = pol
        self.batch = pol.allocation == "batch"

        # Demand and the order table. A streamed run makes its demand day by day and retires the rows whose
        # life is over (omsim.sim.retire); a replay's demand, one after a live snapshot and one with customer
        # cancellations (drawn over every order at the start, and reading an order's row whenever they come)
        # are made whole.
        whole = sc.demand.history is not None or start is not None or sc.demand.cancellations is not None
        self.feed = DemandFeed(sc, self.streams, self.days) if sink is not None and not whole else None
        dem = self.dem = generate_demand(sc, self.streams, self.days) if self.feed is None else self.feed.dem
        if start is not None:
            dem = self.dem = start.future(dem)
        # About ten log rows an order: sized once (zeroed pages cost nothing until written) rather than
        # doubled and copied as it fills; a streamed run's holds about two days of them.
        self.log = EventLog(self.node_ids, capacity=(10 * dem.n if sink is None else 30 * dem.n // self.days) + 4096)
        ps = sc.post_sales
        # Rows added during the run: exchanges, and remainders of partly allocated orders (up to one in
        # ten at a peak): sized once, not doubled (a copy of every column) as they come.
        extra = int(dem.n * (ps.return_probability * ps.exchange_share * 1.5 + 0.1)) + 64
        ot = self.ot = OrderTable(dem.n + extra, lazy_rows=None if self.feed is None else dem.n)
        n = ot.n = dem.n                # exchanges and remainders come after every order of the demand
        if self.feed is None:
            ot.created_h[:n] = dem.created_h
            ot.paid_h[:n] = dem.paid_h
            ot.region[:n] = dem.region
            ot.level[:n] = dem.level
            ot.channel[:n] = dem.channel
            ot.units[:n] = dem.units()
            ot.lines[:n] = np.diff(dem.line_ptr)
        #: Rows of the demand made so far; rows retired (final, written, their KPI parts kept: omsim.sim.retire).
        self.generated_rows = n if self.feed is None else 0
        self.retired_rows = 0
        self.kpi_parts: list[dict] = []
        self.retired_created = np.zeros(self.days, dtype=np.int64)
        #: What the returns desk reads of an order whose return was requested (omsim.sim.carriers).
        self.returning: dict[int, tuple] = {}
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
        self.P = PackageTable(capacity=dem.n + 64, line_capacity=(int(dem.line_ptr[-1]) if self.feed is None
                                                                    else dem.line_sku.size) + 64)
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
        self.units_lost = 0  # units no package, backorder or customer cancellation accounts for: lost sales
        self.cancels = CustomerCancels.of(self)  # customer cancellations (demand.cancellations), or None
        if start is not None:
            start.seed(self)          # the snapshot's open orders: rows, engine commitments, wave queues

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
            if self.feed is not None:
                self._retire(24.0 * day)
        if self.progress is not None:
            self.progress(day + 1, self.days)

    # -------------------------------------------------------------------- run
    def run(self):
        """Run the horizon and return a :class:`omsim.sim.result.Result`."""
        from omsim.sim.result import build_result

        env, ot, log = self.env, self.ot, self.log
        n = self.generated_rows
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
        if self.cancels is not None:
            self.cancels.start()
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
        while self.feed is not None and self.feed.day < self.days:     # days the clock did not reach
            self._make_day()
        self._record_day(self.days - 1)
        return build_result(self, self.sink)
