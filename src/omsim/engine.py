"""The decision engine: the state of the network and the policies that act on it.

One :class:`DecisionEngine` serves every clock — the SimPy simulator, the
planner's CLI and (later) the HTTP service. It does not know which one drives
it: every call takes the time ``t_h`` (hours since the scenario start).

State it holds:

- the inventory and its ledger (:class:`omsim.fulfilment.inventory.Inventory`);
- the node load: units committed but not shipped (``node_backlog_units``) and
  orders (and, optionally, units) taken per node and day (capacity throttling);
- the carrier services' packages booked per day (daily capacity);
- the decisions committed and not yet fully shipped or cancelled.

The cost of sourcing an order (what ``cheapest`` minimises, what the breakdown
of a :class:`~omsim.orders.Decision` reports)::

    per package from node n   per_package + zone surcharge + per_km x km        (shipping_package, shipping_distance)
                              + handling per order at n                         (handling)
                              + split penalty                                   (split_penalty)
    per unit of line l from n per_kg x weight + per_unit                        (shipping_weight, shipping_package)
                              + handling per line at n / units of the line      (handling)
    per unit left unfilled    policies.lost_sale_penalty                        (lost_penalty)
    minus one split penalty when anything ships (a single package pays none).

The carrier service of node n for an order is rate-shopped before sourcing:
the cheapest service meeting the order's level at the weight of the whole
order (rates from :class:`~omsim.fulfilment.carriers.CarrierBook`), preferring
services with capacity left at their first pickup. So the cost is linear in
the units shipped from each node and the exact kernel behind
:func:`omsim.fulfilment.allocation.cheapest_assignment` minimises it exactly.
Handling per line is spread over the line's units, so a line split over two
nodes pays it once in total.

Policies: ``cheapest`` (exact minimum of that cost, at most ``max_packages``
nodes), ``nearest`` (each line from the closest node that has it, then the
farthest packages dropped beyond ``max_packages``), ``lookahead``
(``cheapest`` with each unit surcharged by its stock's shadow price from the
fluid LP, refreshed every ``lookahead_refresh_h``) and ``batch`` (CP-SAT over
a window of orders, :meth:`DecisionEngine.decide_batch`).

Promise: a node is ready with an order once its labour has worked off the
node's backlog and the order inside its shifts
(:func:`omsim.fulfilment.promise.ready_time_h`, labour from
:func:`labour_units_per_h`); the package leaves at the next pickup of its
service (``ship_by_h``) and is promised by the end of the arrival day.

Capacity: ``capacity_orders_per_day`` per node (and optionally units per
node per day) throttles which nodes may take an order that day; carrier
``daily_capacity`` is booked per pickup day. When nothing can ship, the
decision's status is ``policies.no_stock`` (backorder, hold or cancel).

Runs of orders: :meth:`DecisionEngine.decide_commit_arrays` takes orders as
columns and returns :class:`DecisionArrays`; for ``cheapest``/``batch``
without explanations the whole run is decided and committed by the compiled
kernel :mod:`omsim._kernels._decide` (the same decisions and state as
``decide`` + ``commit`` in turn, proven by the tests against this module's
Python path). :meth:`DecisionEngine.ship_many` ships many packages in one step.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omsim._kernels import _alloc, _decide
from omsim.catalogue import abc_classes, popularity
from omsim.errors import OmsimError
from omsim.fulfilment import allocation as _allocation
from omsim.fulfilment.carriers import CarrierBook
from omsim.fulfilment.inventory import InboundPO, Inventory
from omsim.fulfilment.replenishment import ReorderPolicy, order_quantities
from omsim.fulfilment.promise import (ALL_DAYS, next_cutoff_h, normalise_shifts, promise, ready_time_h,
                                     shift_windows)
from omsim.geo import distance_matrix_km
from omsim.orders import COST_KEYS, DECISION_STATUSES, Decision, Order, Shipment
from omsim.ranges import spans
from omsim.rng import Streams
from omsim.scenario import SERVICE_LEVELS, Scenario, stock_table

__all__ = ["DecisionEngine", "DecisionArrays", "DECISION_STATUSES", "decision_arrays", "initial_stock", "expected_daily_units",
           "labour_units_per_h"]

_I64 = np.dtype(np.int64)
_F64 = np.dtype(np.float64)
_LEVEL_RANK = {lv: i for i, lv in enumerate(SERVICE_LEVELS)}
_N_LEVELS = len(SERVICE_LEVELS)
_NO_STOCK_STATUS = {"backorder": "backorder", "hold": "hold", "cancel": "cancel"}
_STATUS_CODE = {s: i for i, s in enumerate(DECISION_STATUSES)}
_CANCEL = _STATUS_CODE["cancel"]
_PARTIAL = _STATUS_CODE["partial"]
# How many days ahead a package may wait for carrier capacity before the node gives up on that service.
_MAX_PICKUP_DAYS = 7
# Added to a service's rank when capacity pushes it past its first pickup (ranks it after all on-time ones).
_DELAY_RANK = 1e12
# Lookahead: SKUs priced by the fluid LP (by expected demand) and its time limit.
_LP_MAX_SKUS = 2000
_LP_TIME_LIMIT_S = 60.0
# Batch: CP-SAT cost scale (1/1000 of the currency) and the unit cost of a node an order cannot use.
_BATCH_SCALE = 1000.0
_FORBIDDEN = 1e6


# ============================================================== initial stock
def _count_mean(dist) -> float:
    """Mean of ``min(1 + Poisson(mean - 1), max)``, the scenario's CountDist as the simulator draws it."""
    lam = dist.mean - 1.0
    if lam <= 0:
        return 1.0
    k = np.arange(0, dist.max - 1)                 # values 1..max-1 <-> k = 0..max-2
    logp = k * math.log(lam) - lam - np.array([math.lgamma(x + 1) for x in k])
    p = np.exp(logp)
    return float(((1 + k) * p).sum() + dist.max * max(0.0, 1.0 - p.sum()))


def expected_daily_units(scenario: Scenario) -> np.ndarray:
    """Expected units sold per day of each SKU (all regions and channels together).

    ``orders_per_day x mean lines x mean units per line x popularity``, with the
    means of the (truncated) count distributions of the scenario.

    Returns
    -------
    numpy.ndarray
        (S,) float, in SKU order.
    """
    dem = scenario.demand
    per_order = _count_mean(dem.lines_per_order) * _count_mean(dem.units_per_line)
    return dem.orders_per_day * per_order * popularity(scenario.catalogue.skus)


def initial_stock(scenario: Scenario, streams: Streams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial on hand and safety stock per node and SKU, and the assortment.

    From a node's stock CSV when it has one (SKUs not listed carry none);
    otherwise ``round(days_cover x expected daily units / carrying nodes)``
    for the SKUs the node carries. A node carries a ``carry_share`` of the
    SKUs, drawn from the ``allocation`` stream (so the same seed gives the
    same assortment); the expected demand of a SKU is shared equally among
    the nodes carrying it (a neutral prior).

    Returns
    -------
    on_hand, safety : (N, S) int64
    carried : (N, S) bool
    """
    sc = scenario
    skus = sc.sku_ids
    S, N = len(skus), len(sc.network.warehouses)
    rng = streams["allocation"]
    daily = expected_daily_units(sc)
    carried = np.zeros((N, S), dtype=bool)
    for n, wh in enumerate(sc.network.warehouses):
        # Draw for every node, CSV or not, so adding a CSV to one node does not change the others' assortment.
        k = int(round(wh.stock.carry_share * S))
        pick = rng.permutation(S)[:k]
        if stock_table(wh) is None:
            carried[n, pick] = True
    on_hand = np.zeros((N, S), dtype=np.int64)
    safety = np.zeros((N, S), dtype=np.int64)
    sku_pos = {s: i for i, s in enumerate(skus)}
    generated = [n for n, wh in enumerate(sc.network.warehouses) if stock_table(wh) is None]
    n_carry = np.maximum(carried[generated].sum(axis=0), 1) if generated else np.ones(S)
    for n, wh in enumerate(sc.network.warehouses):
        table = stock_table(wh)
        if table is not None:
            for sku, rec in table.items():
                j = sku_pos[sku]
                on_hand[n, j] = rec["on_hand"]
                safety[n, j] = rec.get("safety", 0)
                carried[n, j] = True
            continue
        share = daily / n_carry
        on_hand[n] = np.where(carried[n], np.round(wh.stock.days_cover * share), 0).astype(np.int64)
        safety[n] = np.where(carried[n], np.round(wh.stock.safety_days * share), 0).astype(np.int64)
    return on_hand, safety, carried


# ============================================================== service table
@dataclass
class _ServiceTable:
    """Rate and transit of every carrier service for every (node, region), as arrays.

    ``fixed[n, r, k]`` is the per-package part of service k from node n to
    region r (per_package + zone surcharge), ``dist[n, r, k]`` its per-km part,
    ``per_kg[k]`` and ``per_unit[k]`` its linear parts; ``transit_h`` the
    planned transit; ``pickup_h[n, k]`` the pickup (cut-off) hour of day.
    """

    carrier: list[str]
    service: list[str]
    level: list[str]
    rank: np.ndarray          # (K,) level rank of the service
    fixed: np.ndarray         # (N, R, K)
    dist: np.ndarray          # (N, R, K)
    per_kg: np.ndarray        # (K,)
    per_unit: np.ndarray      # (K,)
    transit_h: np.ndarray     # (N, R, K)
    pickup_h: np.ndarray      # (N, K)
    capacity: np.ndarray      # (K,) packages per day (inf when unlimited)
    eligible: list[np.ndarray]  # per level rank: services that meet it
    index: dict               # (carrier, service) -> k
    every_day: bool           # every service picks up every day (vectorised cut-offs)
    pickup_days: list         # per service, the weekdays it collects


_UNLIMITED = np.iinfo(np.int64).max // 4


def _service_table(scenario: Scenario, book: CarrierBook, km: np.ndarray) -> _ServiceTable:
    """Quote every service of ``book`` for every (node, region) once, at construction (inputs validated).

    The rates and transit times are the CarrierBook's (its services' formulas);
    this only lays them out as arrays so that decide() rate-shops with a few
    vectorised operations. ``inf`` where a service does not reach a region.
    """
    N, R = km.shape
    svcs = book.services
    K = len(svcs)
    fixed = np.zeros((N, R, K))
    dist = np.zeros((N, R, K))
    transit = np.zeros((N, R, K))
    pickup = np.zeros((N, K))
    whs = scenario.network.warehouses
    for k, svc in enumerate(svcs):
        dist[:, :, k] = svc.per_km * km
        fixed[:, :, k] = svc.package_rate(km) - dist[:, :, k]   # per_package + zone surcharge (inf: not offered)
        transit[:, :, k] = svc.transit_h(km)
        for n, wh in enumerate(whs):
            pickup[n, k] = svc.cutoff_for(wh.id, wh.pickup_hour % 24.0)
    rank = np.asarray(book.rank, dtype=np.int64)
    eligible = []
    for v in range(len(SERVICE_LEVELS)):
        ok = np.flatnonzero(rank >= v)
        if ok.size == 0:
            # Nothing is as fast as asked: best effort with the fastest level there is.
            ok = np.flatnonzero(rank == rank.max())
        eligible.append(ok)
    return _ServiceTable(
        carrier=[s.carrier for s in svcs], service=[s.name for s in svcs], level=[s.level for s in svcs],
        rank=rank, fixed=fixed, dist=dist,
        per_kg=np.array([s.per_kg for s in svcs]), per_unit=np.array([s.per_unit for s in svcs]),
        transit_h=transit, pickup_h=pickup, capacity=np.asarray(book.capacity, dtype=np.float64), eligible=eligible,
        index={(s.carrier, s.name): k for k, s in enumerate(svcs)},
        every_day=all(tuple(s.pickup_days) == ALL_DAYS for s in svcs),
        pickup_days=[tuple(s.pickup_days) for s in svcs])


def labour_units_per_h(wh, scenario: Scenario) -> float:
    """A planning estimate of the units per working hour a node picks and packs.

    Pickers walk tours of ``cart_capacity_units`` units, each tour about a
    full serpentine of the layout (every aisle end to end), timed by
    :class:`omsim.warehouse.picktime.PickTimeModel`; packers pack an average
    order (``pack_time_s`` + ``pack_time_per_unit_s`` per unit). The node's
    rate is the slower of the two stations. The simulator times the real
    tours; this only sets promise dates.
    """
    from omsim.warehouse.picktime import PickTimeModel

    lay = wh.layout
    aisle_m = lay.cells_per_aisle * lay.cell_length_m + lay.front_gap_m + lay.back_gap_m \
        + (lay.blocks - 1) * lay.cross_aisle_m
    tour_m = lay.aisles * aisle_m + 2.0 * (lay.aisles - 1) * lay.aisle_pitch_m
    dem = scenario.demand
    units_line = _count_mean(dem.units_per_line)
    units_order = _count_mean(dem.lines_per_order) * units_line
    cart = float(scenario.policies.cart_capacity_units)
    tour_s = float(PickTimeModel.from_warehouse(wh).tour_time_s(tour_m, cart / units_line))
    pick = wh.pickers * 3600.0 * cart / tour_s
    pack = wh.packers * 3600.0 / (wh.pack_time_per_unit_s + wh.pack_time_s / units_order)
    return float(min(pick, pack))


# ============================================================== engine
@dataclass
class _Prep:
    """Everything decide() derives from an order and the state before sourcing."""

    order: Order
    t_h: float
    weight: np.ndarray        # (L,) kg per unit
    avail: np.ndarray         # (L, N) int64, zero where the node cannot ship
    svc: np.ndarray           # (N,) service index per node (-1: none)
    ship_by: np.ndarray       # (N,) planned pickup
    pkg_fixed: np.ndarray     # (N,) per_package + zone surcharge
    pkg_dist: np.ndarray      # (N,) per_km x km
    pkg_handling: np.ndarray  # (N,) handling per order
    unit_kg: np.ndarray       # (L, N) per_kg x weight
    unit_rate: np.ndarray     # (N,) per_unit
    unit_handling: np.ndarray  # (L, N) handling per line / units of the line
    package_cost: np.ndarray  # (N,) for the kernel, split penalty included
    unit_cost: np.ndarray     # (L, N)
    lost_cost: np.ndarray     # (L,)


@dataclass
class _Booking:
    """A committed decision and what it still holds."""

    decision: Decision
    day: int                                  # the day its node capacity was taken
    service: list[int]                        # service index per shipment
    pickup_day: list[int]                     # carrier capacity day per shipment
    open: list[bool] = field(default_factory=list)   # shipment not yet shipped
    open_count: int = 0


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

    def __post_init__(self):
        if self.rem_status is None:
            self.rem_status = np.full(self.n, -1, dtype=np.int8)


_POLICIES = ("nearest", "cheapest", "lookahead", "batch")
_POLICY_CODE = {p: i for i, p in enumerate(_POLICIES)}


class _Store:
    """The engine's record of the orders decided as columns: one set of columns shared by all runs.

    Order rows, line rows (``unfilled``), package rows and package-line rows
    are appended run after run. An order's rows are live while the order is
    open (``engine._open[oid]`` is its order row); when the columns are full
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
            self.unfilled = self._grown(self.unfilled, self.L, max(2 * len(self.unfilled), need))
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
                self.pkg_line_ptr, self.pkg_sku, self.pkg_qty)

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
        self.unfilled[a:a + len(d.unfilled)] = d.unfilled
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
                        float(self.total[row]), policy, [])

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
        store.pkg_sku[:PL], store.pkg_qty[:PL], store.rem[:n])


def _ints(x, what):
    """A 1-d int64 C-contiguous array of x, or OmsimError (decide_commit_arrays' columns)."""
    if type(x) is np.ndarray and x.dtype == _I64 and x.ndim == 1 and x.flags.c_contiguous:
        return x
    a = np.asarray(x)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise OmsimError(f"decide_commit_arrays: {what} must be a 1-d integer array")
    return a if a.dtype == np.int64 and a.flags.c_contiguous else np.ascontiguousarray(a, dtype=np.int64)


class _Run:
    """One call's run of orders: its (validated) columns and where its rows start in the engine's _Store."""

    __slots__ = ("store", "oids", "t", "region", "level", "ptr", "sku", "qty", "policy", "o0", "l0", "done",
                 "stopped")

    def __init__(self, engine, oid_keys: list, t, region, level, ptr, sku, qty, policy):
        store = engine._store
        n, M = len(oid_keys), ptr.item(len(oid_keys))
        kmax = engine.max_packages if engine.max_packages < engine.n_nodes else engine.n_nodes
        store.reserve(n, M, kmax if kmax > 1 else 1)
        self.store = store
        self.oids = oid_keys                  # order ids as the caller gave them (dict keys of engine._open)
        self.t, self.region, self.level = t, region, level
        self.ptr, self.sku, self.qty = ptr, sku, qty
        self.policy = policy
        o0, l0 = self.o0, self.l0 = store.O, store.L
        store.optr[o0] = l0                     # the kernel writes the rest of each order's row
        store.pkg_ptr[o0] = store.P
        store.pkg_line_ptr[store.P] = store.PL
        store.O, store.L = o0 + n, l0 + M       # taken back by close() to the orders decided
        store.busy = True                         # no compaction until close()
        self.done = 0                             # orders decided
        self.stopped = False                      # the run ended early (stop_on_partial or stop)

    def close(self) -> None:
        """Give back the rows of the orders not decided (a run stopped early)."""
        store = self.store
        store.busy = False
        o = self.o0 + self.done
        if o != store.O:
            store.O, store.L = o, store.optr.item(o)

    def write(self, i: int, d: Decision) -> None:
        """Record order i decided by the Python path (the columns the kernel writes for its orders too)."""
        s, row = self.store, self.o0 + i
        s.optr[row], s.optr[row + 1] = self.l0 + self.ptr.item(i), self.l0 + self.ptr.item(i + 1)
        s.oreg[row] = self.region.item(i)
        s.opol[row] = _POLICY_CODE.get(self.policy, 0)
        s.write(row, d, int(self.t.item(i) // 24))

    def decision(self, i: int) -> Decision:
        return self.store.decision(self.o0 + i, self.oids[i])

    def arrays(self, m: int, kern=None) -> DecisionArrays:
        """The first m orders as DecisionArrays (views of the store; the pointers rebased to 0); made by the
        kernel ``kern`` when given (its output columns must be the store's current ones)."""
        s = self.store
        if kern is not None:
            da = _new_arrays(DecisionArrays)
            da.__dict__ = kern.arrays(self.o0, m, self.l0, self.ptr.item(m))
            return da
        o0 = self.o0
        ptr = s.pkg_ptr
        P0, P1 = ptr.item(o0), ptr.item(o0 + m)
        lp = s.pkg_line_ptr
        PL0, PL1 = lp.item(P0), lp.item(P1)
        pp = ptr[o0:o0 + m + 1] - P0
        lp = lp[P0:P1 + 1] - PL0
        l0 = self.l0
        o1 = o0 + m
        da = _new_arrays(DecisionArrays)      # the fields set directly (what the dataclass __init__ does)
        da.__dict__ = {
            "n": m, "status": s.status[o0:o1], "promised_h": s.promised[o0:o1], "total": s.total[o0:o1],
            "pkg_ptr": pp, "unfilled": s.unfilled[l0:l0 + self.ptr.item(m)], "pkg_node": s.pkg_node[P0:P1],
            "pkg_service": s.pkg_service[P0:P1], "pkg_ship_by_h": s.pkg_ship_by[P0:P1],
            "pkg_promised_h": s.pkg_promised[P0:P1], "pkg_transit_h": s.pkg_transit[P0:P1], "pkg_kg": s.pkg_kg[P0:P1],
            "pkg_cost_package": s.pkg_c_package[P0:P1], "pkg_cost_weight": s.pkg_c_weight[P0:P1],
            "pkg_cost_distance": s.pkg_c_distance[P0:P1], "pkg_cost_handling": s.pkg_c_handling[P0:P1],
            "pkg_line_ptr": lp, "pkg_sku": s.pkg_sku[PL0:PL1], "pkg_qty": s.pkg_qty[PL0:PL1],
            "rem_status": s.rem[o0:o1]}
        return da


_new_arrays = object.__new__


class _CarrierWindow:
    """The compiled loop's window of carrier bookings (rows shared with the CarrierBook) and full
    service-days for days day0..day0+D-1."""

    __slots__ = ("day0", "D", "K", "booked", "booked0", "full", "tmark", "tlog", "ver", "book")

    def __init__(self, day0: int, D: int, K: int):
        self.day0, self.D, self.K = day0, D, K
        self.booked = np.zeros((D, K), dtype=np.int64)      # packages booked: its rows ARE the CarrierBook's rows
        self.booked0 = np.zeros((D, K), dtype=np.int64)     # ... as last drained
        self.full = np.zeros((D, K), dtype=np.uint8)
        self.tmark = np.zeros((D, K), dtype=np.uint8)       # pair already logged in tlog
        self.tlog = np.zeros(D * K, dtype=np.int64)         # pairs booked since the last drain
        self.ver = None                                     # engine._full_ver it mirrors
        self.book = None                                    # the CarrierBook whose rows it shares


class _ArrBooking:
    """A view of an open order decided as columns: order row i of the engine's _Store (what
    ``engine._open[oid]`` holds for such an order is the row itself; made by ``engine._booking``)."""

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
        return self.run.pkg_service[self.p0:self.p0 + self.npk].tolist()

    @property
    def pickup_day(self) -> list[int]:
        return self.run.pkg_day[self.p0:self.p0 + self.npk].tolist()


class _WaitBooking:
    """A registered order that ships nothing (backorder or hold) from :meth:`DecisionEngine.register_backorders`:
    its lines; the Decision (what ``commit`` of ``decide``'s decision would hold) is built when asked."""

    __slots__ = ("engine", "oid", "status", "skus", "qty", "policy", "day", "_d")
    open: list = []            # no shipments (read-only: never appended to)
    open_count = 0
    service: list = []
    pickup_day: list = []

    def __init__(self, engine, oid, status: str, skus: np.ndarray, qty: np.ndarray, policy: str, day: int):
        self.engine, self.oid, self.status, self.skus, self.qty = engine, oid, status, skus, qty
        self.policy, self.day, self._d = policy, day, None

    @property
    def decision(self) -> Decision:
        d = self._d
        if d is None:
            # _decision's arithmetic for an assignment that ships nothing
            eng = self.engine
            short = int(sum(self.qty.tolist()))
            cost = {"shipping_package": 0.0, "shipping_weight": 0.0, "shipping_distance": 0.0, "handling": 0.0,
                    "split_penalty": eng.split_penalty * 0, "lost_penalty": eng.lost_sale_penalty * short}
            total = 0.0
            for key in COST_KEYS:
                total += cost[key]
            d = self._d = Decision(self.oid, self.status, [], self.qty.copy(), None, cost, total, self.policy, [])
        return d


class DecisionEngine:
    """Sourcing, carrier and promise decisions over the state of a fulfilment network.

    Parameters
    ----------
    scenario
        A validated scenario.
    inventory
        The stock (nodes and SKUs in scenario order); see :meth:`from_scenario`.
    streams
        Random streams of the run (``allocation``, ``replenishment``).
    carried
        (N, S) bool, which node stocks which SKU (the assortment); default:
        where the initial on hand is positive.
    capacity_units_per_day
        Optional (N,) cap of units a node takes per day, on top of the
        scenario's ``capacity_orders_per_day``.
    explain
        List the alternatives considered in each decision (a little slower).

    Notes
    -----
    Nodes, SKUs and regions are integer positions in scenario order; time is
    hours since the scenario start; a "day" is ``floor(t_h / 24)``.
    """

    def __init__(self, scenario: Scenario, inventory: Inventory, streams: Streams | None = None, *,
                 carried: np.ndarray | None = None, capacity_units_per_day=None, explain: bool = True):
        sc = scenario
        self.scenario = sc
        self.inventory = inventory
        self.streams = streams if streams is not None else Streams(sc.seed)
        self.explain = bool(explain)
        whs = sc.network.warehouses
        self.node_ids = sc.node_ids
        self.sku_ids = sc.sku_ids
        N, S = len(whs), len(self.sku_ids)
        if inventory.on_hand.shape != (N, S):
            raise OmsimError(f"inventory has shape {inventory.on_hand.shape}, the scenario has {N} nodes x {S} SKUs")
        regions = sc.demand.regions
        self.n_nodes, self.n_skus, self.n_regions = N, S, len(regions)
        skus = sc.catalogue.skus
        self.sku_weight_kg = np.array([s.weight_kg for s in skus], dtype=np.float64)
        self.sku_price = np.array([s.price for s in skus], dtype=np.float64)
        self.popularity = popularity(skus)
        self.abc = abc_classes(self.popularity)
        self.region_share = np.array([r.weight for r in regions], dtype=np.float64)
        self.region_share /= self.region_share.sum()
        self.node_region_km = distance_matrix_km([(w.lat, w.lon) for w in whs], [(r.lat, r.lon) for r in regions])
        self.carried = (inventory.on_hand > 0) if carried is None else np.asarray(carried, dtype=bool)
        self.carriers = CarrierBook.from_scenario(sc)
        self.services = _service_table(sc, self.carriers, self.node_region_km)
        self.start_weekday = sc.horizon.start.weekday()
        self.labour_units_per_h = np.array([labour_units_per_h(w, sc) for w in whs])
        self._shifts = [w.shifts for w in whs]
        self._windows: list = [None] * N   # per node: (t0, t1, starts, ends) of its shifts, cached
        # the rate-shopping order: per (node, region, level), eligible services by per-package cost
        self.handling_order = np.array([w.handling_cost_per_order for w in whs], dtype=np.float64)
        self.handling_line = np.array([w.handling_cost_per_line for w in whs], dtype=np.float64)
        cap = [w.capacity_orders_per_day for w in whs]
        self.capacity_orders = np.array([c if c is not None else _UNLIMITED for c in cap], dtype=np.int64)
        if capacity_units_per_day is None:
            self.capacity_units = np.full(N, _UNLIMITED, dtype=np.int64)
        else:
            cu = np.asarray(capacity_units_per_day, dtype=np.int64).reshape(-1)
            if cu.shape != (N,) or np.any(cu < 0):
                raise OmsimError(f"capacity_units_per_day: expected {N} non-negative integers, got {cu.tolist()}")
            self.capacity_units = cu.copy()
        pol = sc.policies
        self.policy = pol.allocation
        self.max_packages = int(pol.max_packages)
        self.split_penalty = float(pol.split_penalty)
        self.lost_sale_penalty = float(pol.lost_sale_penalty)
        self.no_stock = pol.no_stock
        self.carrier_selection = pol.carrier_selection
        # state
        self.node_backlog_units = np.zeros(N, dtype=np.int64)
        self._orders_taken: dict[int, np.ndarray] = {}     # day -> (N,) orders taken
        self._units_taken: dict[int, np.ndarray] = {}      # day -> (N,) units taken
        self._open: dict = {}                              # order id -> _Booking
        self._returns: list[tuple] = []   # (t, nodes, skus, qtys, order_ids, disposition): lists, one per call
        self._reorder: dict = {}                           # node -> reorder table (built on first review)
        self._full: set[tuple[int, int]] = set()             # (day, service) with no capacity left
        self._shop_cache: dict = {}
        self._lost_by_len: dict = {}
        self._shop_fast = True                                 # False: always the general rate-shop branch (tests)
        self._promise_memo: dict = {}                         # (ship_by, transit, service, node) -> promised_h
        self._rows = np.arange(N)
        self._pkg_extra = self.handling_order + self.split_penalty
        self._any_per_unit = bool(np.any(self.services.per_unit != 0))
        self._node_capped = bool(np.any(self.capacity_orders < _UNLIMITED) or np.any(self.capacity_units < _UNLIMITED))
        self._unit_capped = bool(np.any(self.capacity_units < _UNLIMITED))
        self._shadow: np.ndarray | None = None              # lookahead prices (S, N)
        self._shadow_epoch: int | None = None
        self.lp_results: list = []                          # fluid LP runs (status, objective) for reports
        self.batch_results: list = []                       # CP-SAT windows (status, gap) for reports
        # The compiled loop's state between calls (see _kernel): the record of the orders decided as columns,
        # the kernel object holding the engine's arrays, a mirror of the carrier bookings of a window of days.
        self._store = _Store(self)
        self._kmode = self._kmode_flags = None                      # flags[6, 8, 9] as last set
        self._kern = None
        self._kbound: dict = {}
        self._kctl = np.zeros(12, dtype=np.int64)
        self._kctl_dry = np.zeros(12, dtype=np.int64)         # decide()'s dry runs (nothing logged)
        self._dry_cols = None                                 # decide()'s one-order columns, reused
        self._dry_kernel = True                               # False: decide() always the Python path (tests)
        self._kscratch = None                                 # zero node counters for a day not yet in the dicts
        self._cw = None                                       # carrier window mirror (_CarrierWindow)
        self._full_ver = 0                                    # bumped when _full changes
        self._win_ver = 0                                     # bumped when a node's cached windows change

    # Attributes the kernel's static arrays and parameters (_kernel_static) and _kernel_covers' network check
    # are made of: setting one drops both.
    _STATIC_ATTRS = frozenset(("split_penalty", "lost_sale_penalty", "max_packages", "no_stock", "_any_per_unit",
                               "_node_capped", "_unit_capped", "start_weekday", "sku_weight_kg", "labour_units_per_h",
                               "handling_order", "handling_line", "_pkg_extra", "capacity_orders", "capacity_units",
                               "services", "_shifts"))

    def __setattr__(self, name, value):
        if name in DecisionEngine._STATIC_ATTRS:
            d = self.__dict__
            d["_kstatic"] = None
            d.pop("_kernel_network_ok", None)
        object.__setattr__(self, name, value)

    def __getstate__(self):
        # The compiled loop's bindings are rebuilt on the next call (the Kernel object cannot be copied).
        state = self.__dict__.copy()
        state.update(_kern=None, _kbound={}, _cw=None, _kscratch=None, _kmode=None, _kmode_flags=None)
        return state

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_scenario(cls, scenario: Scenario, streams: Streams | None = None, **kwargs) -> "DecisionEngine":
        """An engine with the scenario's initial stock (see :func:`initial_stock`).

        Parameters
        ----------
        scenario
            A validated scenario.
        streams
            The run's random streams; ``Streams(scenario.seed)`` by default.
        **kwargs
            Passed to :class:`DecisionEngine`.
        """
        streams = streams if streams is not None else Streams(scenario.seed)
        on_hand, safety, carried = initial_stock(scenario, streams)
        inv = Inventory(on_hand, safety, node_ids=scenario.node_ids, sku_ids=scenario.sku_ids)
        return cls(scenario, inv, streams, carried=carried, **kwargs)

    # ------------------------------------------------------------------ capacity
    def capacity_left(self, node: int, day: int) -> float:
        """Orders a node may still take on a day (capacity throttling).

        Parameters
        ----------
        node
            Node position.
        day
            ``floor(t_h / 24)``.

        Returns
        -------
        float
            ``capacity_orders_per_day`` minus the orders committed to it that
            day (cancelled ones given back); ``math.inf`` when unlimited.
        """
        cap = int(self.capacity_orders[node])
        if cap >= _UNLIMITED:
            return math.inf
        taken = self._orders_taken.get(int(day))
        return cap - (int(taken[node]) if taken is not None else 0)

    def _node_room(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(orders left, units left) per node on ``day``."""
        o = self._orders_taken.get(day)
        u = self._units_taken.get(day)
        return (self.capacity_orders - (o if o is not None else 0),
                self.capacity_units - (u if u is not None else 0))

    def _ready_h(self, t_h: float, order_units: float) -> np.ndarray:
        """When each node would have packed this order after its backlog (promise.ready_time_h).

        Fast path: the node's working windows for two weeks are cached (from
        :func:`omsim.fulfilment.promise.shift_windows`) and walked from ``t_h``;
        work that runs past them goes to the promise module, which walks the
        calendar itself.
        """
        out = np.empty(self.n_nodes)
        back = self.node_backlog_units
        for n in range(self.n_nodes):
            need = (float(back[n]) + order_units) / self.labour_units_per_h[n]
            w = self._window(n, t_h)
            starts, ends = w[2], w[3]
            i = bisect.bisect_right(starts, t_h) - 1
            if need <= 0.0:
                out[n] = t_h
                continue
            if i < 0 or t_h >= ends[i]:
                i += 1                      # between windows: work starts with the next one
                at = starts[i] if i < len(starts) else math.inf
            else:
                at = t_h
            done = math.nan
            while i < len(starts):
                span = ends[i] - at
                if need <= span:
                    done = at + need
                    break
                need -= span
                i += 1
                if i < len(starts):
                    at = starts[i]
            if done == done:                # found inside the cached windows
                out[n] = done
            else:
                out[n] = ready_time_h(t_h, float(back[n]), self.labour_units_per_h[n], self._shifts[n],
                                      self.start_weekday, order_units)
        return out

    def _window(self, n: int, t_h: float):
        """Node n's cached working windows (t0, t1, starts, ends), refreshed when not valid at ``t_h``."""
        w = self._windows[n]
        if w is None or not (w[0] <= t_h < w[1] - 168.0):
            t0 = math.floor(t_h / 24.0) * 24.0
            wins = shift_windows(self._shifts[n], t0, t0 + 336.0, self.start_weekday)
            w = self._windows[n] = (t0, t0 + 336.0, [a for a, _ in wins], [b for _, b in wins])
            self._win_ver += 1
        return w

    # ------------------------------------------------------------------ validation
    def _check_order(self, order: Order) -> tuple[np.ndarray, np.ndarray, list, list]:
        """The order's SKUs and quantities as int64 arrays and lists, or OmsimError naming the problem."""
        if not isinstance(order, Order):
            raise OmsimError(f"decide: expected an omsim.orders.Order, got {type(order).__name__}")
        oid = order.order_id
        if order.level not in _LEVEL_RANK:
            raise OmsimError(f"order {oid}: unknown service level {order.level!r}; expected one of {', '.join(SERVICE_LEVELS)}")
        r = order.region
        if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or not 0 <= r < self.n_regions:
            raise OmsimError(f"order {oid}: region {r!r} is not a region index (0..{self.n_regions - 1})")
        skus = np.asarray(order.skus)
        qty = np.asarray(order.qty)
        if skus.ndim != 1 or qty.shape != skus.shape or skus.size == 0:
            raise OmsimError(f"order {oid}: skus and qty must be equal-length 1-d arrays with at least one line")
        if skus.dtype.kind not in "iu" or qty.dtype.kind not in "iu":
            raise OmsimError(f"order {oid}: skus and qty must be integer arrays")
        sl, ql = skus.tolist(), qty.tolist()          # plain Python is quicker on a few lines
        if min(sl) < 0 or max(sl) >= self.n_skus:
            raise OmsimError(f"order {oid}: SKU index out of range (0..{self.n_skus - 1})")
        if min(ql) < 1:
            raise OmsimError(f"order {oid}: every line needs a quantity >= 1, got {ql}")
        if len(sl) > 1 and len(set(sl)) != len(sl):
            raise OmsimError(f"order {oid}: a SKU appears on two lines; merge them")
        if not math.isfinite(order.created_h):
            raise OmsimError(f"order {oid}: created_h must be finite")
        if skus.dtype != np.int64 or not skus.flags.c_contiguous:
            skus = np.ascontiguousarray(skus, dtype=np.int64)
        if qty.dtype != np.int64 or not qty.flags.c_contiguous:
            qty = np.ascontiguousarray(qty, dtype=np.int64)
        return skus, qty, sl, ql

    # ------------------------------------------------------------------ decide
    def _shop_table(self, r: int, v: int):
        """Per (region, level): eligible services and their weight-free rate parts per node (cached)."""
        key = (r, v)
        got = self._shop_cache.get(key)
        if got is None:
            st = self.services
            ks = st.eligible[v]
            got = (ks, st.fixed[:, r, ks] + st.dist[:, r, ks], st.per_kg[ks], st.per_unit[ks], st.pickup_h[:, ks],
                   st.transit_h[:, r, ks])
            self._shop_cache[key] = got
        return got

    def _prepare(self, order: Order, t_h: float) -> _Prep:
        """Stock, services and cost arrays of one order against the current state (no state change)."""
        skus, qty, sl, ql = self._check_order(order)
        t_h = float(t_h)
        if not math.isfinite(t_h):
            raise OmsimError(f"order {order.order_id}: decision time must be finite, got {t_h}")
        N = self.n_nodes
        inv = self.inventory
        a = inv.on_hand.take(skus, axis=1)
        a -= inv.reserved.take(skus, axis=1)
        a -= inv.safety.take(skus, axis=1)
        avail = a.T.copy()                                             # (L, N), C-contiguous for the kernel
        np.maximum(avail, 0, out=avail)
        day = int(t_h // 24)

        # Rate-shop one service per node for this order (its whole weight).
        st = self.services
        r = int(order.region)
        ks, base, per_kg, per_unit, pickup, transit = self._shop_table(r, _LEVEL_RANK[order.level])
        w = self.sku_weight_kg.take(skus)
        W = sum([a * b for a, b in zip(w.tolist(), ql)])
        U = float(sum(ql))
        cost = base + per_kg * W                                       # (N, Ke)
        if self._any_per_unit:
            cost += per_unit * U
        ready = self._ready_h(t_h, U)                                  # (N,)
        rows = self._rows
        if self._shop_fast and not self._full and self.carrier_selection != "fastest" and st.every_day:
            # The common case: the pickup does not rank the services (no full service-day, cheapest
            # selection), so rate-shop first and work out the pickup of the chosen service only
            # (the same arithmetic as the general branch below, on one column).
            best = cost.argmin(axis=1)
            svc = ks[best]
            first = (ready // 24.0) * 24.0 + pickup[rows, best]
            sb = np.where(first < ready - 1e-9, first + 24.0, first)
            has_service = np.isfinite(cost[rows, best])
            return self._prepare_rest(order, t_h, skus, qty, sl, avail, day, r, w, svc, sb, has_service)
        if st.every_day:
            first = (ready // 24.0)[:, None] * 24.0 + pickup
            ship_by = np.where(first < ready[:, None] - 1e-9, first + 24.0, first)
        else:
            ship_by = np.array([[next_cutoff_h(ready[n], pickup[n, j], st.pickup_days[k], self.start_weekday)
                                 for j, k in enumerate(ks)] for n in range(N)])
        delayed = None
        if self._full:
            # Full service-days push the pickup to the next day with room (or rule the service out);
            # a service that can take the package at its first pickup is preferred to any that cannot.
            first_sb = ship_by.copy()
            for n in range(N):
                for j, k in enumerate(ks):
                    sb = ship_by[n, j]
                    tries = 0
                    while (int(sb // 24), int(k)) in self._full:
                        tries += 1
                        if tries > _MAX_PICKUP_DAYS:
                            sb = math.inf
                            break
                        sb = next_cutoff_h(sb + 1.0, pickup[n, j], st.pickup_days[k], self.start_weekday)
                    ship_by[n, j] = sb
            cost = np.where(np.isfinite(ship_by), cost, np.inf)
            delayed = ship_by > first_sb
        if self.carrier_selection == "fastest":
            key = np.where(np.isfinite(cost), ship_by + transit, np.inf)
        else:
            key = cost
        if delayed is not None and delayed.any():
            key = np.where(delayed, key + _DELAY_RANK, key)
        # Ties go to the first listed service.
        best = key.argmin(axis=1)
        svc = ks[best]
        sb = ship_by[rows, best]
        has_service = np.isfinite(key[rows, best])
        return self._prepare_rest(order, t_h, skus, qty, sl, avail, day, r, w, svc, sb, has_service)

    def _prepare_rest(self, order, t_h, skus, qty, sl, avail, day, r, w, svc, sb, has_service) -> _Prep:
        """_prepare after rate shopping: close the nodes that cannot ship, build the cost arrays."""
        st = self.services
        rows = self._rows
        # Nodes that cannot ship (no service, no capacity left today) see no stock.
        closed = ~has_service
        if self._node_capped:
            orders_left, units_left = self._node_room(day)
            closed |= (orders_left <= 0) | (units_left <= 0)
        any_closed = bool(closed.any())
        if any_closed:
            avail[:, closed] = 0
            svc = np.where(has_service, svc, -1)
        if self._unit_capped:
            tight = units_left < np.minimum(avail, qty[:, None]).sum(axis=0)
            for n in np.flatnonzero(tight):
                # Keep the first lines' units until the node's unit capacity is used (a feasible restriction).
                room = int(units_left[n])
                for l in range(len(skus)):
                    take = min(int(avail[l, n]), int(qty[l]), room)
                    avail[l, n] = take
                    room -= take

        kk = np.maximum(svc, 0)
        pkg_fixed = st.fixed[rows, r, kk]
        pkg_dist = st.dist[rows, r, kk]
        if any_closed:
            # Never used (no stock offered there); kept finite for the kernel.
            pkg_fixed = np.where(closed, 0.0, pkg_fixed)
            pkg_dist = np.where(closed, 0.0, pkg_dist)
        unit_kg = w[:, None] * st.per_kg[kk]
        unit_rate = st.per_unit[kk]
        unit_handling = (1.0 / qty)[:, None] * self.handling_line
        package_cost = pkg_fixed + pkg_dist + self._pkg_extra
        unit_cost = unit_kg + unit_handling
        if self._any_per_unit:
            unit_cost += unit_rate
        lost_cost = self._lost_cost(len(sl))
        return _Prep(order, t_h, w, avail, svc, sb, pkg_fixed, pkg_dist, self.handling_order,
                     unit_kg, unit_rate, unit_handling, package_cost, unit_cost, lost_cost)

    def _lost_cost(self, L: int) -> np.ndarray:
        """(L,) lost-sale penalty per unit; shared read-only arrays, one per order length."""
        got = self._lost_by_len.get(L)
        if got is None:
            got = self._lost_by_len[L] = np.full(L, self.lost_sale_penalty)
            got.flags.writeable = False
        return got

    def _totals(self, prep: _Prep, X: np.ndarray, used: np.ndarray | None = None) -> np.ndarray:
        """True cost of each assignment in the stack ``X`` (A, L, N) under the engine's cost model."""
        if used is None:
            used = X.any(axis=1)                                     # (A, N) nodes shipping
        per_pkg = prep.pkg_fixed + prep.pkg_dist + prep.pkg_handling
        npk = used.sum(axis=1)
        lost = (prep.order.qty[None, :] - X.sum(axis=2)) @ prep.lost_cost
        return (used @ per_pkg + (X * prep.unit_cost).sum(axis=(1, 2))
                + self.split_penalty * np.maximum(npk - 1, 0) + lost)

    def _cap_packages(self, x: np.ndarray, rank_key: np.ndarray) -> np.ndarray:
        """Drop the worst-ranked nodes' units until at most max_packages nodes ship (units become unfilled)."""
        used = np.flatnonzero(x.sum(axis=0) > 0)
        if used.size <= self.max_packages:
            return x
        keep = used[np.argsort(rank_key[used], kind="stable")[: self.max_packages]]
        out = np.zeros_like(x)
        out[:, keep] = x[:, keep]
        return out

    def _nearest(self, prep: _Prep) -> np.ndarray:
        km = self.node_region_km[:, prep.order.region]
        x = _allocation.nearest_assignment(prep.order.qty, prep.avail, km, fallback=True)  # carries where stocked
        return self._cap_packages(x, km)

    def _cheapest(self, prep: _Prep, unit_cost=None) -> np.ndarray:
        # The exact kernel behind allocation.cheapest_assignment, called directly: the arrays are built
        # here (int64/float64, C-contiguous, shapes consistent, costs finite), and its argument checks
        # cost ten times the solve on a typical order.
        x = np.zeros(prep.avail.shape, dtype=np.int64)
        c = prep.unit_cost if unit_cost is None else np.ascontiguousarray(unit_cost, dtype=np.float64)
        k = min(self.max_packages, self.n_nodes)
        _alloc.cheapest_one(prep.order.qty, prep.avail, prep.package_cost, c, prep.lost_cost, k, x)
        if self.split_penalty > 0 and not x.any() and prep.avail.any():
            # The kernel charged the split penalty on every package, the first one too, which biases it
            # towards shipping nothing by one penalty. Re-solve with each stocked node in turn relieved
            # of it: every shipping plan is then priced exactly by the run of one of its nodes (and
            # over-priced by the others), so the best of these runs is the exact optimum.
            best, best_cost = x, float(prep.order.qty @ prep.lost_cost)
            extra = 0.0 if unit_cost is None else c - prep.unit_cost
            for n in np.flatnonzero(prep.avail.any(axis=0)):
                pc = prep.package_cost.copy()
                pc[n] -= self.split_penalty
                y = np.zeros_like(x)
                _alloc.cheapest_one(prep.order.qty, prep.avail, pc, c, prep.lost_cost, k, y)
                cost = float(self._totals(prep, y[None])[0] + (y * extra).sum())
                if cost < best_cost - 1e-12:
                    best, best_cost = y, cost
            x = best
        return x

    def evaluate(self, order: Order, t_h: float, assign) -> float:
        """Cost of a given sourcing of ``order`` (units per line and node) under the engine's cost model.

        Uses the services ``decide`` would rate-shop at ``t_h``; does not
        check stock. ``assign`` is (L, N) int.
        """
        prep = self._prepare(order, t_h)
        x = np.asarray(assign, dtype=np.int64)
        if x.shape != prep.avail.shape:
            raise OmsimError(f"evaluate: assign must have shape {prep.avail.shape} (lines, nodes), got {x.shape}")
        if np.any(x < 0) or np.any(x.sum(axis=1) > order.qty):
            raise OmsimError("evaluate: assign must be >= 0 and ship at most the ordered units")
        return float(self._totals(prep, x[None])[0])

    def decide(self, order: Order, t_h: float, policy: str | None = None) -> Decision:
        """Source an order against the current state, without changing it.

        Parameters
        ----------
        order
            The order (nodes, SKUs and regions by index).
        t_h
            Decision time, hours since the scenario start.
        policy
            ``nearest``, ``cheapest``, ``lookahead`` or ``batch`` (a batch of
            one: ``cheapest``); default ``scenario.policies.allocation``.

        Returns
        -------
        Decision
            Shipments with their services, ship-by and promise, the cost
            breakdown and the alternatives considered. When nothing can ship
            the status is ``policies.no_stock`` (``backorder``, ``hold`` or
            ``cancel``).

        Raises
        ------
        OmsimError
            A malformed order (unknown level, region or SKU, bad quantities).
        """
        policy = self.policy if policy is None else policy
        if self._dry_kernel and not self.explain and policy in ("cheapest", "batch") and self._kernel_covers(policy):
            d = self._decide_compiled(order, t_h, policy)
            if d is not None:
                return d
        prep = self._prepare(order, t_h)
        cands: list[tuple[str, np.ndarray]] = []
        score_extra = None
        if policy in ("cheapest", "batch"):
            x = self._cheapest(prep)
        elif policy == "nearest":
            x = self._nearest(prep)
        elif policy == "lookahead":
            pi = self._shadow_prices(prep.t_h)[order.skus, :]
            x = self._cheapest(prep, prep.unit_cost + pi)
            score_extra = pi
        else:
            raise OmsimError(f"unknown allocation policy {policy!r}; expected nearest, cheapest, lookahead or batch")
        if self.explain:
            cands = self._candidates(prep, x, policy)
        return self._decision(prep, x, policy, cands, score_extra)

    def _decide_compiled(self, order: Order, t_h: float, policy: str) -> Decision | None:
        """decide() of one order by the compiled kernel without committing (a dry run of the loop of
        decide_commit_arrays): the same Decision as the Python path, or None where the kernel hands the
        order to Python (the caller then takes the Python path)."""
        skus, qty, _, _ = self._check_order(order)      # raises as the Python path does
        t = float(t_h)
        if not math.isfinite(t):
            return None
        L = skus.size
        store = self._store
        store.reserve(1, L, max(1, min(self.max_packages, self.n_nodes)))
        k = self._kernel()
        kb = self._kbound
        cols = self._dry_cols
        if cols is None or cols[4].size < L:
            size = max(8, 2 * L)
            cols = self._dry_cols = (np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                                     np.zeros(2, dtype=np.int64), np.zeros(size, dtype=np.int64),
                                     np.zeros(size, dtype=np.int64))
        tt, rr, vv, pp, ss, qq = cols
        tt[0], rr[0], vv[0], pp[1] = t, order.region, _LEVEL_RANK[order.level], L
        ss[:L] = skus
        qq[:L] = qty
        kb["run"] = None               # a run in progress binds its columns again
        i, code = k.set_run(tt, rr, vv, pp, ss, qq, self.n_regions, len(SERVICE_LEVELS), self.n_skus)
        if code:
            return None
        o0, l0 = store.O, store.L      # the free rows after the cursor: written, not taken
        store.optr[o0], store.optr[o0 + 1] = l0, l0 + L
        ctl = self._kctl_dry
        day = int(t // 24.0)
        min_days = 0
        for _ in range(4):
            k = self._kernel()
            self._kernel_day(day, ctl)
            cw = self._carrier_window(day, day, min_days)
            rc = k.run(ctl, 0, 1, store.P, store.PL, cw.day0, o0, l0, 1)
            if rc == _decide.DONE or rc == _decide.STOP_PARTIAL:
                return store.build(o0, order.order_id, int(order.region), policy, l0, l0 + L)
            if rc == _decide.STALE_WINDOWS:
                for nn in range(self.n_nodes):
                    self._window(nn, t)
            elif rc == _decide.FALLBACK and int(ctl[7]) == 2 and cw.D < 1 << 16:
                min_days = 4 * cw.D
            else:
                return None
        return None

    def decide_commit_many(self, orders, t_h, policy: str | None = None, *, stop=None) -> list[Decision]:
        """Decide and commit orders in turn, each against the state the ones before it left.

        Exactly ``decide(o, t)`` then ``commit(d, t)`` for each order in
        sequence (same decisions, same state afterwards), without the
        per-call overhead: the simulator hands its dispatcher's run of
        arrivals over in one call. Unlike :meth:`decide_batch` (policy
        ``batch``: a joint CP-SAT window), orders never see each other's
        future: ``batch`` here means ``cheapest`` per order, as in ``decide``.

        Parameters
        ----------
        orders
            Sequence of :class:`~omsim.orders.Order`, in decision order.
        t_h
            Decision time: one float for all, or one per order (non-decreasing).
        policy
            As in :meth:`decide`.
        stop
            Optional ``callable(decision) -> bool``: stop after the first
            decision for which it is true (that one is committed and returned),
            so that the caller can act on it before the next order is decided.

        Returns
        -------
        list of Decision
            The committed decisions, one per order decided.

        Raises
        ------
        OmsimError
            A malformed order, or a time/order count mismatch; the orders
            before it stay committed (as with a loop of decide and commit).
        """
        orders = orders if isinstance(orders, list) else list(orders)
        if isinstance(t_h, (int, float, np.integer, np.floating)):
            times = [float(t_h)] * len(orders)
        else:
            times = np.asarray(t_h, dtype=np.float64).reshape(-1).tolist()
            if len(times) != len(orders):
                raise OmsimError(f"decide_commit_many: {len(orders)} orders but {len(times)} decision times")
        policy = self.policy if policy is None else policy
        if orders and self._kernel_covers(policy):
            return self._decide_commit_many_compiled(orders, times, policy, stop)
        fast = policy in ("cheapest", "batch") and not self.explain
        out: list[Decision] = []
        for o, t in zip(orders, times):
            if fast:
                prep = self._prepare(o, t)
                d = self._decision(prep, self._cheapest(prep), policy, [], None)
            else:
                d = self.decide(o, t, policy)
            self.commit(d, t)
            out.append(d)
            if stop is not None and stop(d):
                break
        return out

    # ------------------------------------------------------------------ columnar fast path
    def decide_commit_arrays(self, order_ids, t_h, region, level, line_ptr, line_sku, line_qty, *,
                             stop_on_partial: bool = False, probe_remainder: bool = False) -> DecisionArrays:
        """Decide and commit a run of orders given as columns; :meth:`decide_commit_many` without objects.

        Exactly ``decide(o, t)`` then ``commit(d, t)`` for each order in turn
        with the engine's policy: the same decisions, the same state after.
        With policy ``cheapest`` or ``batch`` and ``explain=False`` the whole
        run is decided in a compiled loop over the engine's state
        (:mod:`omsim._kernels._decide`); the rare steps it does not cover (a
        ready time past the cached shift windows, the split-penalty re-solve,
        ...) go through the Python path for that order only. Other policies
        loop through the Python path.

        Parameters
        ----------
        order_ids
            (n,) int, distinct and not open.
        t_h
            (n,) float decision times (or one float for all).
        region
            (n,) int region index per order.
        level
            (n,) int service level code, index into ``omsim.scenario.SERVICE_LEVELS``.
        line_ptr
            (n+1,) int: the lines of order i are ``line_sku[line_ptr[i]:line_ptr[i+1]]`` (at least one).
        line_sku, line_qty
            int SKU index (distinct within an order) and units (>= 1) per line.
        stop_on_partial
            Stop after the first order whose status is ``partial`` (it is
            committed and included), so that the caller can act on it first.
        probe_remainder
            For every order decided ``partial``, right after it is committed
            and before the next order, decide its remainder — its lines with
            units left unfilled, for those units, same time, region, level
            and policy — as a dry run, exactly as ``decide(Order(...), t)``
            would against the state that order left (nothing committed), and
            report it in ``rem_status`` (-2: it would ship something; else
            the status of a decision that ships nothing, ``backorder``,
            ``hold`` or ``cancel``). The run goes on (unless
            ``stop_on_partial``). Remainders to be backordered are then
            registered with :meth:`register_backorders` (equivalent to
            committing those decisions right after their order: a decision
            that ships nothing changes no state a later decision reads).

        Returns
        -------
        DecisionArrays
            The first ``n`` orders' decisions (all unless stopped);
            ``rem_status`` is -1 everywhere unless ``probe_remainder``.

        Raises
        ------
        OmsimError
            Malformed input (nothing is committed then), or a decision the
            state refuses at commit (the orders before it stay committed, as
            with a loop of decide and commit).
        """
        oids, t, reg, lev, ptr, sku, qty = self._check_columns(order_ids, t_h, region, level, line_ptr, line_sku,
                                                                line_qty)
        keys = oids.tolist()
        policy = self.policy
        run = _Run(self, keys, t, reg, lev, ptr, sku, qty, policy)
        self._kbound["run"] = run       # the columns just bound are this run's (the same lines)
        try:
            n = len(keys)
            if n and self._kernel_covers(policy) and self._open.keys().isdisjoint(keys) \
                    and (n == 1 or len(set(keys)) == n):
                self._decide_run_compiled(run, stop_on_partial, None, probe_remainder)
            else:
                self._decide_run(run, stop_on_partial, probe=probe_remainder)
        finally:
            run.close()
        store = run.store
        return run.arrays(run.done, self._kern if self._kbound.get("out") == (id(store), store.gen) else None)

    _COLUMN_ERRORS = {1: "decision time must be finite", 2: "region is not a region index",
                      3: "unknown service level code (expected an index into SERVICE_LEVELS)",
                      4: "an order needs at least one line, within line_sku", 5: "SKU index out of range",
                      6: "every line needs a quantity >= 1", 7: "a SKU appears on two lines; merge them"}

    def _check_columns(self, order_ids, t_h, region, level, line_ptr, line_sku, line_qty):
        """Validate decide_commit_arrays' columns; int64/float64 contiguous arrays, line_ptr from 0.

        The check binds the columns to the kernel as well (Kernel.set_run), ready for the compiled loop.
        """
        ints = _ints
        k = self._kernel()
        self._kbound["run"] = None
        if type(order_ids) is np.ndarray and type(t_h) is np.ndarray:
            # Columns already as the kernel takes them (the simulator's): bind and check in one step
            # (the kernel checks dtypes, layout and lengths).
            try:
                i, code = k.bind_run(order_ids, t_h, region, level, line_ptr, line_sku, line_qty, self.n_regions,
                                     _N_LEVELS, self.n_skus)
            except (TypeError, ValueError, BufferError):
                code = 8    # another dtype or layout: converted below
            if code != 8:
                if code:
                    raise OmsimError(f"order {int(order_ids[i])}: {self._COLUMN_ERRORS[code]}")
                n = order_ids.size
                ptr, sku, qty = line_ptr, line_sku, line_qty
                if n == 0:
                    ptr = np.zeros(1, dtype=np.int64)
                else:
                    base = ptr.item(0)
                    if base:
                        end = ptr.item(n)
                        sku, qty, ptr = sku[base:end], qty[base:end], ptr - base
                return order_ids, t_h, region, level, ptr, sku, qty
        oids = ints(order_ids, "order_ids")
        n = oids.size
        if type(t_h) is np.ndarray and t_h.dtype == _F64 and t_h.ndim == 1 and t_h.flags.c_contiguous:
            t = t_h
        else:
            t = np.asarray(t_h, dtype=np.float64)
            t = np.full(n, float(t)) if t.ndim == 0 else np.ascontiguousarray(t.reshape(-1))
        reg, lev = ints(region, "region"), ints(level, "level")
        ptr = ints(line_ptr, "line_ptr")
        sku, qty = ints(line_sku, "line_sku"), ints(line_qty, "line_qty")
        if not (t.size == reg.size == lev.size == n) or ptr.size != n + 1 or sku.size != qty.size:
            raise OmsimError(f"decide_commit_arrays: {n} order ids, {t.size} times, {reg.size} regions, "
                             f"{lev.size} levels, {ptr.size} line pointers (expected n, n, n, n, n + 1) and "
                             f"{sku.size} SKUs for {qty.size} quantities")
        self._kbound["run"] = None
        i, code = k.set_run(t, reg, lev, ptr, sku, qty, self.n_regions, len(SERVICE_LEVELS),
                                         self.n_skus)
        if code:
            raise OmsimError(f"order {int(oids[i])}: {self._COLUMN_ERRORS[code]}")
        if n == 0:
            ptr = np.zeros(1, dtype=np.int64)
        elif ptr[0] != 0:
            base = int(ptr[0])
            sku, qty, ptr = sku[base:int(ptr[-1])], qty[base:int(ptr[-1])], ptr - base
        return oids, t, reg, lev, ptr, sku, qty

    def _kernel_covers(self, policy: str) -> bool:
        """Whether the compiled loop can decide for this engine and policy (else the Python path)."""
        if policy not in ("cheapest", "batch") or self.explain or self.carrier_selection == "fastest" \
                or self.no_stock not in _NO_STOCK_STATUS:
            return False
        ok = getattr(self, "_kernel_network_ok", None)
        if ok is None:
            # Every-day pickups at valid hours and positive labour rates: what the kernel's calendar covers.
            st = self.services
            lab = self.labour_units_per_h
            ok = self._kernel_network_ok = bool(
                st.every_day and np.all((st.pickup_h >= 0.0) & (st.pickup_h < 24.0))
                and np.all(np.isfinite(lab) & (lab > 0)))
        return ok

    def _decide_run(self, run: _Run, stop_on_partial: bool, stop=None, probe: bool = False) -> None:
        """Decide and commit the orders of ``run`` in turn (sets ``run.done``, the orders decided); with
        ``probe``, the remainder of each partial order is probed right after it (``_Store.rem``).

        The run's columns must be bound to the kernel (``_check_columns``) for the compiled loop.
        """
        n = len(run.oids)
        run.done = 0
        run.stopped = False
        if n == 0:
            return
        keys = run.oids
        opened = self._open
        fresh = opened.keys().isdisjoint(keys) and (n == 1 or len(set(keys)) == n)
        if self._kernel_covers(run.policy) and fresh:
            self._decide_run_compiled(run, stop_on_partial, stop, probe)
            return
        # The Python path (also where an id repeats or is open: commit then raises at the right order).
        for i in range(n):
            d = self._decide_one(run, i)
            run.write(i, d)
            run.done = i + 1
            if probe and d.status == "partial":
                self._probe_remainder(run, i)
            if (stop_on_partial and d.status == "partial") or (stop is not None and stop(d)):
                run.stopped = True
                break

    def _order_of(self, run: _Run, i: int) -> Order:
        a, b = int(run.ptr[i]), int(run.ptr[i + 1])
        return Order(run.oids[i], float(run.t[i]), int(run.region[i]), SERVICE_LEVELS[int(run.level[i])],
                     run.sku[a:b].copy(), run.qty[a:b].copy())

    def register_backorders(self, order_ids, t_h, region, level, line_ptr, line_sku, line_qty, statuses) -> None:
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
        pl = ptr.tolist()
        days = (t // 24.0).astype(np.int64).tolist()
        policy = self.policy
        for i, (o, c) in enumerate(zip(keys, cl)):
            if c != _CANCEL:        # a cancelled order is over; backorders and holds wait
                a, b = pl[i], pl[i + 1]
                opened[o] = _WaitBooking(self, o, DECISION_STATUSES[c], sku[a:b].copy(), qty[a:b].copy(), policy,
                                         days[i])

    def _probe_remainder(self, run: _Run, i: int) -> None:
        """The remainder probe of row i (committed, partial) through ``decide``: its rem_status."""
        store = run.store
        a, b = int(run.ptr[i]), int(run.ptr[i + 1])
        u = store.unfilled[run.l0 + a:run.l0 + b]
        short = u > 0
        t = float(run.t[i])
        o = Order(run.oids[i], t, int(run.region[i]), SERVICE_LEVELS[int(run.level[i])], run.sku[a:b][short].copy(),
                  u[short].copy())
        d = self.decide(o, t, run.policy)
        store.rem[run.o0 + i] = -2 if d.shipments else _STATUS_CODE[d.status]

    def _decide_one(self, run: _Run, i: int) -> Decision:
        """decide + commit of row i through the Python path."""
        o = self._order_of(run, i)
        t = float(run.t[i])
        if run.policy in ("cheapest", "batch") and not self.explain:
            prep = self._prepare(o, t)
            d = self._decision(prep, self._cheapest(prep), run.policy, [], None)
        else:
            d = self.decide(o, t, run.policy)
        self.commit(d, t)
        return d

    def _kernel_static(self):
        """The engine's constant arrays and parameters as the kernel takes them (cached: the same tuple
        while the engine's parameters are unchanged)."""
        got = self.__dict__.get("_kstatic")
        if got is not None:
            return got            # dropped by __setattr__ when one of _STATIC_ATTRS is set
        st = self.services
        N = self.n_nodes
        elig_ptr = np.cumsum([0] + [len(e) for e in st.eligible]).astype(np.int64)
        elig = np.concatenate(st.eligible).astype(np.int64)
        lp = self.max_packages
        flags = np.array([self._any_per_unit, self._node_capped, self._unit_capped, min(lp, N), lp,
                          _STATUS_CODE[_NO_STOCK_STATUS[self.no_stock]], 0, self.start_weekday, 0, 0], dtype=np.int64)
        # The shifts as promise.ready_time_h reads them (normalised: end after start, weekday sets).
        norm = [normalise_shifts(sh) for sh in self._shifts]
        sh_ptr = np.cumsum([0] + [len(x) for x in norm]).astype(np.int64)
        sh_start = np.array([a for x in norm for a, _, _ in x] + [0.0])
        sh_end = np.array([b for x in norm for _, b, _ in x] + [0.0])
        sh_days = np.array([sum(1 << d for d in wds) for x in norm for _, _, wds in x] + [0], dtype=np.int64)
        params = np.array([self.split_penalty, self.lost_sale_penalty])
        c64 = np.ascontiguousarray
        static = (c64(self.sku_weight_kg, dtype=np.float64), c64(st.fixed), c64(st.dist), c64(st.transit_h),
                  c64(st.per_kg, dtype=np.float64), c64(st.per_unit, dtype=np.float64), c64(st.pickup_h),
                  c64(st.capacity, dtype=np.float64), elig_ptr, elig, c64(self.labour_units_per_h, dtype=np.float64),
                  c64(self.handling_order), c64(self.handling_line), c64(self._pkg_extra),
                  c64(self.capacity_orders, dtype=np.int64), c64(self.capacity_units, dtype=np.int64), params, flags,
                  sh_ptr, sh_start, sh_end, sh_days)
        self._kstatic = static
        return static

    def _kernel_windows(self):
        """Every node's cached shift windows packed as the kernel takes them (cached while unchanged)."""
        got = getattr(self, "_kwin", None)
        if got is not None and got[0] == self._win_ver:
            return got[1]
        wins = self._windows
        lo = np.array([w[0] if w is not None else np.inf for w in wins])
        hi = np.array([w[1] - 168.0 if w is not None else -np.inf for w in wins])
        sizes = [len(w[2]) if w is not None else 0 for w in wins]
        ptr = np.cumsum([0] + sizes).astype(np.int64)
        ws = np.array([a for w in wins if w is not None for a in w[2]] + [0.0])
        we = np.array([b for w in wins if w is not None for b in w[3]] + [0.0])
        packed = (lo, hi, ptr, ws, we)
        self._kwin = (self._win_ver, packed)
        return packed

    def _kernel(self):
        """The compiled loop's Kernel with the engine's arrays bound (rebound where one was replaced).

        Bindings are checked by identity (or version), so a call costs a few comparisons; the carrier window
        and the day's node counters are bound by _carrier_window and _kernel_day.
        """
        k = self._kern
        kb = self._kbound
        if k is None:
            k = self._kern = _decide.Kernel()
        static = self._kernel_static()
        if kb.get("static") is not static:
            k.set_static(*static)
            kb["static"] = static
        inv = self.inventory
        stock = kb.get("stock")
        if stock is None or stock[0] is not inv.on_hand or stock[1] is not inv.reserved \
                or stock[2] is not inv.safety or stock[3] is not self.node_backlog_units:
            stock = kb["stock"] = (inv.on_hand, inv.reserved, inv.safety, self.node_backlog_units)
            k.set_stock(*stock)
        self._kernel_bind_out(k)
        win = self._kernel_windows()
        if kb.get("win") is not win:
            k.set_windows(*win)
            kb["win"] = win
        return k

    def _kernel_bind_out(self, k) -> None:
        """Bind the store's output columns to kernel ``k`` unless bound already (a compaction or growth
        replaces them: ``store.gen``)."""
        store = self._store
        key = (id(store), store.gen)
        if self._kbound.get("out") != key:
            cols = store.out_columns()
            k.set_out(*cols)
            k.set_out_arrays(cols)
            self._kbound["out"] = key

    def _kernel_day(self, day: int, ctl: np.ndarray) -> bool:
        """Bind the node counters of ``day`` (ctl[4]); True when the day has none yet (zero scratch arrays,
        stored by _kernel_store_day once used)."""
        o = self._orders_taken.get(day)
        new = o is None
        if new:
            sc = self._kscratch
            if sc is None:
                sc = self._kscratch = (np.zeros(self.n_nodes, dtype=np.int64), np.zeros(self.n_nodes, dtype=np.int64))
            o, u = sc
        else:
            u = self._units_taken[day]
        kb = self._kbound
        if kb.get("day") is not o or kb.get("uday") is not u:
            self._kern.set_day(o, u)
            kb["day"], kb["uday"] = o, u
        ctl[4], ctl[5] = day, 0
        return new

    def _kernel_store_day(self, new: bool) -> None:
        """After a kernel call: a new day's counters, once used, become the engine's (then the prune)."""
        ctl = self._kctl
        if new and ctl[5]:
            day = int(ctl[4])
            self._orders_taken[day], self._units_taken[day] = self._kscratch
            self._kscratch = None
            self._prune(day)

    def _carrier_window(self, first_day: int, last_day: int, min_days: int = 0):
        """The window of carrier bookings and full service-days of days first_day.. on, bound to the kernel.

        Its booking rows are the CarrierBook's own rows for those days (the book's dict points at them), so
        what the kernel books is booked, and what ``book``/``unbook`` change the kernel sees; the full
        service-days are a mirror of ``_full``, refreshed when ``_full`` changed behind it. Rebuilt when the
        days fall outside it (or the book was replaced).
        """
        cw = self._cw
        book = self.carriers
        span = last_day - first_day + 4 * _MAX_PICKUP_DAYS + 8
        if cw is not None and cw.book is book and first_day >= cw.day0 \
                and first_day + span <= cw.day0 + cw.D and cw.D >= min_days:
            if cw.ver != self._full_ver:
                self._carrier_full(cw)
            return cw
        D = max(64, span, min_days)
        K = len(self.services.carrier)
        cw = self._cw = _CarrierWindow(first_day, D, K)
        booked_all = book._booked
        rows = cw.booked
        for d in range(D):
            day = first_day + d
            row = booked_all.get(day)
            if row is not None:
                rows[d] = row
            booked_all[day] = rows[d]       # from now on the book's row of that day is the window's
        cw.book = book
        self._carrier_full(cw)
        cw.booked0[:] = rows
        self._kern.set_carrier(cw.booked, cw.full, cw.tmark, cw.tlog, cw.booked0)
        self._kctl[10] = 0
        return cw

    def _carrier_full(self, cw: _CarrierWindow) -> None:
        """The window's full service-days from ``_full``."""
        cw.full[:] = 0
        if self._full:
            dk = np.array(list(self._full), dtype=np.int64)
            dk = dk[(dk[:, 0] >= cw.day0) & (dk[:, 0] < cw.day0 + cw.D)]
            cw.full[dk[:, 0] - cw.day0, dk[:, 1]] = 1
        cw.ver = self._full_ver

    def _carrier_flush(self) -> None:
        """After a kernel call that booked: the service-days it found full join ``_full``, O(pairs booked).
        (The bookings themselves are in the book already: the window shares its rows.)"""
        if not self._kctl[10]:
            return
        cw = self._cw
        pairs = self._kern.drain(self._kctl)
        day0 = cw.day0
        full = self._full
        for d, k, c, f in pairs:
            if f:
                full.add((day0 + d, k))     # the window has it: _full_ver unchanged
        self.carriers.version += 1

    def _decide_run_compiled(self, run: _Run, stop_on_partial: bool, stop, probe: bool = False) -> None:
        """The compiled loop over ``run``, stepping out to Python where the kernel asks (see _decide).

        The kernel works on the inventory and backlog arrays in place, on the
        node counters of one day (the engine's own arrays when that day has
        them) and on the carrier bookings of a window of days (the book's own
        rows) with a mirror of its full service-days; the service-days it
        found full join ``_full`` after each call (O(pairs booked)).
        """
        n = len(run.oids)
        ctl = self._kctl
        store = self._store
        kb = self._kbound
        flags = self._kernel_static()[17]
        mode = (int(bool(stop_on_partial)), int(bool(probe)), _POLICY_CODE.get(run.policy, 0))
        stop_on_partial, probe = mode[0], mode[1]
        if self._kmode != mode or flags is not self._kmode_flags:
            flags[6], flags[8], flags[9] = mode
            self._kmode, self._kmode_flags = mode, flags
        tt = run.t
        taken = self._orders_taken
        lo_day = hi_day = None
        min_days = 0
        i = 0
        first = True
        while i < n:
            # (Re)bind what a Python step may have replaced; identity checks when nothing did (and only the
            # output columns right after _check_columns bound everything else).
            if first and kb.get("run") is run:
                k = self._kern
                self._kernel_bind_out(k)
            else:
                k = self._kernel()
                flags = self._kstatic[17]
                flags[6], flags[8], flags[9] = mode
                self._kmode, self._kmode_flags = mode, flags
            if kb.get("run") is not run:
                k.set_run(run.t, run.region, run.level, run.ptr, run.sku, run.qty, self.n_regions,
                          _N_LEVELS, self.n_skus)
                kb["run"] = run
            if lo_day is None:
                lo_day, hi_day = k.day_lo, k.day_hi        # of the run's columns, set by set_run
            day = int(tt.item(i) // 24.0)
            o = taken.get(day)
            if o is not None and kb.get("day") is o:
                new = False             # the day's counters are bound already
            else:
                new = self._kernel_day(day, ctl)
            cw = self._cw
            if cw is None or cw.ver != self._full_ver or lo_day < cw.day0 or min_days \
                    or hi_day + 4 * _MAX_PICKUP_DAYS + 8 > cw.day0 + cw.D or cw.book is not self.carriers:
                cw = self._carrier_window(lo_day, hi_day, min_days)
            first = False
            try:
                rc, j, store.P, store.PL, logged, used = k.step(ctl, i, n if stop is None else i + 1, store.P,
                                                                store.PL, cw.day0, run.o0, run.l0, day)
            except BaseException:
                if ctl[10]:
                    self._carrier_flush()
                if new:
                    self._kernel_store_day(new)
                raise
            if logged:
                self._carrier_flush()
            if new and used:
                self._kernel_store_day(new)
            i0 = i
            if j > i:
                self._register(run, i, j)
            i = run.done = j
            if stop is not None and j > i0 and stop(run.decision(j - 1)):
                run.stopped = True
                break
            if rc == _decide.DONE or rc == _decide.NEW_DAY:
                continue
            if rc == _decide.STOP_PARTIAL:
                run.stopped = True
                break
            if rc == _decide.PROBE:
                # order j - 1 is committed (partial); its remainder needs the Python path
                self._probe_remainder(run, j - 1)
                if stop_on_partial:
                    run.stopped = True
                    break
                continue
            if rc == _decide.STALE_WINDOWS:
                t = tt.item(i)
                for nn in range(self.n_nodes):
                    self._window(nn, t)
            elif int(ctl[7]) == 2 and cw.D < 1 << 16:
                # A pickup beyond the carrier window (a long backlog): widen it, go on in C.
                min_days = 4 * cw.D
            else:   # FALLBACK: this order through the Python path, against the state written back
                d = self._decide_one(run, i)
                run.write(i, d)
                i = run.done = i + 1
                if probe and d.status == "partial":
                    self._probe_remainder(run, i - 1)
                if (stop_on_partial and d.status == "partial") or (stop is not None and stop(d)):
                    run.stopped = True
                    break

    def _register(self, run: _Run, a: int, b: int) -> None:
        """Open orders a..b-1 of the run, decided by the kernel: ``_open[oid]`` = the order row (a cancel
        decision leaves no trace)."""
        o0 = run.o0
        if self.no_stock != "cancel":       # no decision of the kernel is a cancel
            self._open.update(zip(run.oids[a:b], range(o0 + a, o0 + b)))
            return
        store = run.store
        st = store.status[o0 + a:o0 + b].tolist()
        cnt = store.ocnt[o0 + a:o0 + b].tolist()
        keys = run.oids
        opened = self._open
        for j in range(b - a):
            if cnt[j] or st[j] != _CANCEL:
                opened[keys[a + j]] = o0 + a + j

    def _live_rows(self, store: _Store):
        """The store rows of the open orders decided as columns (ascending), or None: not the engine's store."""
        if store is not self._store:
            return None
        rows = [v for v in self._open.values() if type(v) is int]
        rows.sort()
        return np.array(rows, dtype=np.int64)

    def _renumber(self, store: _Store, old: list) -> None:
        """After a compaction: old row ``old[j]`` is row j now."""
        if store is not self._store:
            return
        new = {r: j for j, r in enumerate(old)}
        opened = self._open
        for o, v in opened.items():
            if type(v) is int:
                opened[o] = new[v]

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
        if all(type(v) is int for v in vals):
            # Orders decided as columns (the common case; every run writes to the engine's one store):
            # every step vectorised.
            m = len(vals)
            k = np.asarray(ks, dtype=np.int64)
            orow = np.array(vals, dtype=np.int64)
            pp = run.pkg_ptr
            p0 = pp[orow]
            rows = p0 + k
            ok = bool(np.all((k >= 0) & (rows < pp[orow + 1])))
            if ok:
                ok = bool(np.all(run.pkg_open[rows])) and np.unique(rows).size == m
            if ok:
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
                np.subtract.at(self.node_backlog_units, node, qty)
                run.pkg_open[rows] = 0
                oc = run.ocnt
                np.subtract.at(oc, orow, 1)
                drop = run.decisions.pop
                for j in np.flatnonzero(oc[orow] == 0).tolist():
                    if opened.pop(oids[j], None) is not None:
                        drop(vals[j], None)
                return
            # else: the general path below finds the first bad pair and says what is wrong
        # The general case (packages decided as columns and committed one by one mixed): the lines of each
        # package gathered pair by pair; one step for the inventory.
        seq_l: list = []
        nodes_l: list = []
        skus_l: list = []
        qty_l: list = []
        closes = []
        seen = set()
        for j, (o, k) in enumerate(zip(oids, ks)):
            b = opened.get(o)
            if b is None:
                raise OmsimError(f"order {o}: not committed (or already shipped or cancelled)")
            if type(k) is not int:
                k = int(k)
            if type(b) is int:
                npk = run.pkg_ptr.item(b + 1) - run.pkg_ptr.item(b)
                if not 0 <= k < npk:
                    raise OmsimError(f"order {o}: no shipment {k} (it has {npk})")
                row = run.pkg_ptr.item(b) + k
                if not run.pkg_open[row] or (o, k) in seen:
                    raise OmsimError(f"order {o}: shipment {k} already shipped")
                x, y = int(run.pkg_line_ptr[row]), int(run.pkg_line_ptr[row + 1])
                n, sk, q = int(run.pkg_node[row]), run.pkg_sku[x:y].tolist(), run.pkg_qty[x:y].tolist()
                closes.append((run.pkg_open, row, b))
            else:
                if not 0 <= k < len(b.decision.shipments):
                    raise OmsimError(f"order {o}: no shipment {k} (it has {len(b.decision.shipments)})")
                if not b.open[k] or (o, k) in seen:
                    raise OmsimError(f"order {o}: shipment {k} already shipped")
                sh = b.decision.shipments[k]
                n, sk, q = int(sh.node), sh.skus.tolist(), sh.qty.tolist()
                closes.append((b.open, k, b))
            seen.add((o, k))
            m = len(sk)
            seq_l += [j] * m
            nodes_l += [n] * m
            skus_l += sk
            qty_l += q
        seq = np.array(seq_l, dtype=np.int64)
        sku = np.array(skus_l, dtype=np.int64)
        # consume_many writes a package's rows by (node, sku): by SKU within the package.
        order = np.lexsort((sku, seq))
        seq, sku = seq[order], sku[order]
        node = np.array(nodes_l, dtype=np.int64)[order]
        qty = np.array(qty_l, dtype=np.int64)[order]
        refs = np.empty(len(oids), dtype=object)
        refs[:] = oids
        self.inventory.consume_lines(node, sku, qty, refs[seq], t)     # all or nothing
        # From here nothing can fail.
        np.subtract.at(self.node_backlog_units, node, qty)
        for flags, x, _ in closes:
            flags[x] = 0 if type(flags) is np.ndarray else False
        for o, (_, _, b) in zip(oids, closes):
            if type(b) is int:
                run.ocnt[b] -= 1
                if run.ocnt[b] == 0:
                    del opened[o]
                    run.forget(b)
            else:
                b.open_count -= 1
                if b.open_count == 0:
                    del opened[o]

    def _decide_commit_many_compiled(self, orders: list, times: list, policy: str, stop) -> list[Decision]:
        """decide_commit_many through the compiled loop: the orders as columns, Decisions built from them.

        The orders up to the first malformed one (or one with a non-integer
        id or a non-finite time) are decided; then the Python path decides
        that one, which raises as the reference loop would.
        """
        good = len(orders)
        for j, (o, t) in enumerate(zip(orders, times)):
            try:
                self._check_order(o)
            except OmsimError:
                good = j
                break
            if not isinstance(o.order_id, (int, np.integer)) or not math.isfinite(t):
                good = j
                break
        out: list[Decision] = []
        if good:
            head = orders[:good]
            lens = [len(o.skus) for o in head]
            ptr = np.zeros(good + 1, dtype=np.int64)
            np.cumsum(lens, out=ptr[1:])
            sku = np.concatenate([o.skus for o in head]).astype(np.int64, copy=False)
            qty = np.concatenate([o.qty for o in head]).astype(np.int64, copy=False)
            keys = [o.order_id for o in head]
            run = _Run(self, keys, np.array(times[:good], dtype=np.float64),
                       np.array([o.region for o in head], dtype=np.int64),
                       np.array([_LEVEL_RANK[o.level] for o in head], dtype=np.int64), ptr, sku, qty, policy)
            try:
                self._decide_run(run, False, stop)
            finally:
                run.close()
            out = [run.decision(i) for i in range(run.done)]
            if run.stopped:
                return out
        if good < len(orders):
            o, t = orders[good], times[good]
            d = self.decide(o, t, policy)       # raises: malformed order or time
            self.commit(d, t)
            out.append(d)
            rest = self.decide_commit_many(orders[good + 1:], times[good + 1:], policy, stop=stop) \
                if not (stop is not None and stop(d)) else []
            out.extend(rest)
        return out

    def _candidates(self, prep: _Prep, chosen: np.ndarray, policy: str) -> list[tuple[str, np.ndarray]]:
        """Other allocations a planner would ask about: nearest, cheapest, each node alone, nothing."""
        names = self.node_ids
        qty = prep.order.qty
        km = self.node_region_km[:, prep.order.region]
        out = []
        if policy != "nearest":
            out.append(("nearest: each line from the closest node that has it", self._nearest(prep)))
        if policy not in ("cheapest", "batch"):
            out.append(("cheapest now (ignores future demand)" if policy == "lookahead"
                        else "cheapest: minimum total cost of this order", self._cheapest(prep)))
        fill = np.minimum(qty[:, None], prep.avail)
        units = fill.sum(axis=0).tolist()
        total = sum(prep.order.qty.tolist())
        for n, u in enumerate(units):
            if u:
                x = np.zeros_like(chosen)
                x[:, n] = fill[:, n]
                out.append((f"one package from {names[n]} ({km[n]:.0f} km, {u} of {total} units)", x))
        out.append(("ship nothing now (every unit pays the lost-sale/backorder penalty)", np.zeros_like(chosen)))
        return out

    def _decision(self, prep: _Prep, x: np.ndarray, policy: str, cands, shadow) -> Decision:
        """Turn an assignment into a Decision: shipments, promise, cost breakdown, alternatives."""
        order = prep.order
        why = ["chosen"] + [c[0] for c in cands]
        chosen = 0
        if cands:
            X = np.stack([x] + [c[1] for c in cands])
            used = X.any(axis=1)
            totals = self._totals(prep, X, used)
            score = totals if shadow is None else totals + (X * shadow[None]).sum(axis=(1, 2))
        if policy != "nearest" and cands:
            best = int(np.argmin(score))
            if score[best] < score[0] - 1e-9:
                # Only in batch, where the window's plan for this order can be bettered alone.
                chosen = best
        if chosen:
            x = X[chosen]
        shipments, parts = self._shipments(prep, x)
        unfilled = order.qty - x.sum(axis=1)
        short = int(sum(unfilled.tolist()))
        npk = len(shipments)
        cost = {
            "shipping_package": parts[0],
            "shipping_weight": parts[1],
            "shipping_distance": parts[2],
            "handling": parts[3],
            "split_penalty": self.split_penalty * max(npk - 1, 0),
            "lost_penalty": self.lost_sale_penalty * short,
        }
        total = 0.0
        for key in COST_KEYS:
            total += cost[key]
        if npk == 0:
            status = _NO_STOCK_STATUS[self.no_stock]
        elif short:
            status = "partial"
        else:
            status = "allocated"
        alternatives = []
        if cands:
            seen = {x.tobytes()}
            names = self.node_ids
            used_l = used.tolist()
            units = X.sum(axis=(1, 2)).tolist()
            tot_l = totals.tolist()
            score_l = score.tolist()
            for i in np.argsort(totals, kind="stable").tolist():
                if i == chosen:
                    continue
                key = X[i].tobytes()
                if key in seen:
                    continue
                seen.add(key)
                alt = {"nodes": [names[n] for n, u in enumerate(used_l[i]) if u], "total": tot_l[i], "why": why[i],
                       "units": units[i]}
                if shadow is not None:
                    alt["score"] = score_l[i]
                alternatives.append(alt)
        promised = max((s.promised_h for s in shipments), default=None)
        return Decision(order.order_id, status, shipments, unfilled, promised, cost, total, policy, alternatives)

    def _shipments(self, prep: _Prep, x: np.ndarray) -> tuple[list[Shipment], tuple[float, float, float, float]]:
        """One Shipment per shipping node, and the summed (package, weight, distance, handling) costs."""
        # Plain Python over a handful of lines and nodes: cheaper than numpy calls on tiny arrays.
        order = prep.order
        st = self.services
        r = order.region
        xl = x.tolist()
        skus = order.skus.tolist()
        qty = order.qty.tolist()
        w = prep.weight.tolist()
        out = []
        pk = wt = ds = hd = 0.0
        for n in range(self.n_nodes):
            lines = [l for l in range(len(xl)) if xl[l][n] > 0]
            if not lines:
                continue
            k = int(prep.svc[n])
            q = [xl[l][n] for l in lines]
            units = sum(q)
            kg = sum(w[l] * xl[l][n] for l in lines)
            c_pkg = float(prep.pkg_fixed[n]) + float(st.per_unit[k]) * units
            c_wt = float(st.per_kg[k]) * kg
            c_ds = float(prep.pkg_dist[n])
            c_hd = float(self.handling_order[n]) + float(self.handling_line[n]) * sum(xl[l][n] / qty[l] for l in lines)
            transit = float(st.transit_h[n, r, k])
            ship_by = float(prep.ship_by[n])
            # Packed by ship_by at the latest: the promise module adds transit and rounds to the end of the day.
            # promise() is a pure function of these; pickups and transits take few distinct values.
            pkey = (ship_by, transit, k, n)
            due = self._promise_memo.get(pkey)
            if due is None:
                due = promise(ship_by, transit, float(st.pickup_h[n, k]), pickup_days=st.pickup_days[k],
                              start_weekday=self.start_weekday).delivery_h
                if len(self._promise_memo) > 100_000:
                    self._promise_memo.clear()
                self._promise_memo[pkey] = due
            out.append(Shipment(n, np.array([skus[l] for l in lines], dtype=np.int64), np.array(q, dtype=np.int64),
                                st.carrier[k], st.service[k], st.level[k], float(self.node_region_km[n, r]), kg,
                                ship_by, due, transit,
                                {"package": c_pkg, "weight": c_wt, "distance": c_ds, "handling": c_hd}))
            pk += c_pkg
            wt += c_wt
            ds += c_ds
            hd += c_hd
        return out, (pk, wt, ds, hd)

    # ------------------------------------------------------------------ commit / cancel / ship
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
        oid = decision.order_id
        if oid in self._open:
            raise OmsimError(f"order {oid}: already committed; cancel it before committing a new decision")
        t_h = float(t_h)
        day = int(t_h // 24)
        ships = decision.shipments
        if not ships:
            if decision.status != "cancel":     # a cancelled order is over; backorders and holds wait
                self._open[oid] = _Booking(decision, day, [], [], [], 0)
            return
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
        self._open[oid] = _Booking(decision, day, ks, pdays, [True] * len(ships), len(ships))

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

    def _prune(self, today: int) -> None:
        """Forget capacity counters of days long past (keeps memory bounded over long runs)."""
        for table in (self._orders_taken, self._units_taken):
            for d in [d for d in table if d < today - 2 * _MAX_PICKUP_DAYS]:
                del table[d]
        full = {(d, k) for d, k in self._full if d >= today - 2 * _MAX_PICKUP_DAYS}
        if len(full) != len(self._full):
            self._full = full
            self._full_ver += 1

    def _booking(self, order_id):
        """The open order's booking: a _Booking, a _WaitBooking, or a view (_ArrBooking) of its store row."""
        b = self._open.get(order_id)
        if b is None:
            raise OmsimError(f"order {order_id}: not committed (or already shipped or cancelled)")
        if type(b) is int:
            return _ArrBooking(self._store, b, order_id)
        return b

    def cancel(self, order_id, t_h: float) -> int:
        """Cancel an order: release what it still has reserved and give back the capacity it took.

        Shipped packages stay shipped. Returns the units released.

        Raises
        ------
        OmsimError
            The order is not committed (or is already fully shipped or cancelled).
        """
        b = self._booking(order_id)
        if type(b) is _ArrBooking:
            return self._cancel_arrays(order_id, b, t_h)
        if type(b) is _WaitBooking:
            del self._open[order_id]
            return 0
        released = 0
        ships = b.decision.shipments
        idx = [i for i, open_ in enumerate(b.open) if open_]
        if idx:
            nodes = np.concatenate([np.full(len(ships[i].skus), ships[i].node, dtype=np.int64) for i in idx])
            skus = np.concatenate([ships[i].skus for i in idx])
            qty = np.concatenate([ships[i].qty for i in idx])
            self.inventory.release_many(nodes, skus, qty, order_id=order_id, t=t_h)
            o = self._orders_taken.get(b.day)
            u = self._units_taken.get(b.day)
            for i in idx:
                s = ships[i]
                units = int(s.qty.sum())
                released += units
                self.node_backlog_units[s.node] -= units
                if o is not None:
                    o[s.node] -= 1
                    u[s.node] -= units
                self.carriers.unbook(b.service[i], b.pickup_day[i], 1)
                if self.carriers.remaining(b.service[i], b.pickup_day[i]) >= self.max_packages:
                    self._full.discard((b.pickup_day[i], b.service[i]))
                    self._full_ver += 1
        del self._open[order_id]
        return released

    def _cancel_arrays(self, order_id, b: "_ArrBooking", t_h: float) -> int:
        """cancel() of an order decided as columns (the same steps on its package rows)."""
        run = b.run
        rows = [p for p in range(b.p0, b.p0 + b.npk) if run.pkg_open[p]]
        released = 0
        if rows:
            lp = run.pkg_line_ptr
            nodes = np.concatenate([np.full(int(lp[p + 1] - lp[p]), run.pkg_node[p], dtype=np.int64) for p in rows])
            skus = np.concatenate([run.pkg_sku[lp[p]:lp[p + 1]] for p in rows])
            qty = np.concatenate([run.pkg_qty[lp[p]:lp[p + 1]] for p in rows])
            self.inventory.release_many(nodes, skus, qty, order_id=order_id, t=t_h)
            o = self._orders_taken.get(b.day)
            u = self._units_taken.get(b.day)
            for p in rows:
                n, k, d = int(run.pkg_node[p]), int(run.pkg_service[p]), int(run.pkg_day[p])
                units = int(run.pkg_qty[lp[p]:lp[p + 1]].sum())
                released += units
                self.node_backlog_units[n] -= units
                if o is not None:
                    o[n] -= 1
                    u[n] -= units
                self.carriers.unbook(k, d, 1)
                if self.carriers.remaining(k, d) >= self.max_packages:
                    self._full.discard((d, k))
                    self._full_ver += 1
        del self._open[order_id]
        run.forget(b.i)
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
        if type(b) is _ArrBooking:
            return self._ship_arrays(order_id, b, shipment_index, t_h)
        ships = b.decision.shipments
        i = int(shipment_index)
        if not 0 <= i < len(ships):
            raise OmsimError(f"order {order_id}: no shipment {shipment_index} (it has {len(ships)})")
        if not b.open[i]:
            raise OmsimError(f"order {order_id}: shipment {i} already shipped")
        s = ships[i]
        self.inventory.consume_many([s.node] * len(s.skus), s.skus, s.qty, order_id=order_id, t=t_h)  # all or nothing
        self.node_backlog_units[s.node] -= sum(s.qty.tolist())
        b.open[i] = False
        b.open_count -= 1
        if b.open_count == 0:
            del self._open[order_id]
        return s

    def _ship_arrays(self, order_id, b: "_ArrBooking", shipment_index, t_h: float) -> Shipment:
        """ship() of an order decided as columns: the same steps on its package row."""
        run = b.run
        i = int(shipment_index)
        if not 0 <= i < b.npk:
            raise OmsimError(f"order {order_id}: no shipment {shipment_index} (it has {b.npk})")
        row = b.p0 + i
        if not run.pkg_open[row]:
            raise OmsimError(f"order {order_id}: shipment {i} already shipped")
        a, c = int(run.pkg_line_ptr[row]), int(run.pkg_line_ptr[row + 1])
        n = int(run.pkg_node[row])
        qty = run.pkg_qty[a:c]
        self.inventory.consume_many([n] * (c - a), run.pkg_sku[a:c], qty, order_id=order_id, t=t_h)  # all or nothing
        self.node_backlog_units[n] -= sum(qty.tolist())
        s = b.decision.shipments[i]
        run.pkg_open[row] = 0
        run.ocnt[b.i] -= 1
        if run.ocnt[b.i] == 0:
            del self._open[order_id]
            run.forget(b.i)
        return s

    def committed(self, order_id) -> Decision | None:
        """The committed decision of an order still open (not fully shipped or cancelled), else None."""
        b = self._open.get(order_id)
        if b is None:
            return None
        if type(b) is int:
            return self._store.decision(b, order_id)
        return b.decision

    @property
    def open_orders(self) -> int:
        """Orders committed and not yet fully shipped or cancelled."""
        return len(self._open)

    # ------------------------------------------------------------------ stock movements
    def restock(self, node: int, sku: int, qty: int, order_id, t_h: float) -> None:
        """A sellable return goes back to stock (ledger ``restock``).

        Parameters
        ----------
        node, sku
            Positions of the receiving node and the SKU.
        qty
            Units (>= 0).
        order_id
            The order the units came back from.
        t_h
            When, hours since the scenario start (not before the last ledger row).

        Raises
        ------
        OmsimError
            Unknown node or SKU, or a bad quantity; nothing changes.
        """
        self.inventory.restock(node, sku, qty, order_id=order_id, t=t_h)
        self._returns.append((float(t_h), [int(node)], [int(sku)], [int(qty)], [order_id], "restock"))

    def restock_many(self, nodes, skus, qtys, order_ids, t_h: float) -> None:
        """Sellable returns back to stock, many lines at once: :meth:`restock` line by line, in order.

        Parameters
        ----------
        nodes, skus, qtys
            Equal-length integer arrays: positions of the receiving node and the SKU, units (>= 0).
        order_ids
            One order id per line.
        t_h
            When, hours since the scenario start (not before the last ledger row).

        Raises
        ------
        OmsimError
            A position out of range or a negative quantity; nothing changes.
        """
        self.inventory.restock_lines(nodes, skus, qtys, order_ids, t=t_h)
        self._returns.append((float(t_h), np.asarray(nodes).tolist(), np.asarray(skus).tolist(),
                              np.asarray(qtys).tolist(), list(order_ids), "restock"))

    def scrap(self, node: int, sku: int, qty: int, order_id, t_h: float) -> None:
        """A damaged return: recorded in :meth:`returns_frame`, never back on hand (so no ledger row).

        Parameters and errors as :meth:`restock`.
        """
        n, j = self.inventory.node_index(node), self.inventory.sku_index(sku)
        if isinstance(qty, bool) or not isinstance(qty, (int, np.integer)) or qty < 0:
            raise OmsimError(f"scrap: quantity must be a whole number of units >= 0, got {qty!r}")
        self._returns.append((float(t_h), [n], [j], [int(qty)], [order_id], "scrap"))

    def returns_frame(self) -> pd.DataFrame:
        """Returns processed: ``time_h, node, sku, qty, order_id, disposition`` (node/sku as ids)."""
        rows = [(t, n, j, q, o, kind) for t, ns, js, qs, os_, kind in self._returns
                for n, j, q, o in zip(ns, js, qs, os_)]
        df = pd.DataFrame(rows, columns=["time_h", "node", "sku", "qty", "order_id", "disposition"])
        df["node"] = [self.node_ids[i] for i in df["node"]]
        df["sku"] = [self.sku_ids[i] for i in df["sku"]]
        return df

    def receive(self, po, t_h: float) -> None:
        """A replenishment receipt: the whole outstanding quantity of ``po`` (ledger ``receipt``).

        Parameters
        ----------
        po
            An :class:`~omsim.fulfilment.inventory.InboundPO` (as :meth:`review`
            returns) or its id.
        t_h
            Arrival time.

        Raises
        ------
        OmsimError
            The PO is not open (unknown or already received).
        """
        po_id = po.po_id if isinstance(po, InboundPO) else po
        self.inventory.receive_po(po_id, t_h)

    def ledger_frame(self) -> pd.DataFrame:
        """The inventory ledger: ``time_h, node, sku, delta, reason, order_id`` (node/sku as string ids)."""
        return self.inventory.ledger_frame()

    # ------------------------------------------------------------------ lookahead
    def _lookahead_window_h(self, t_h: float) -> float:
        """Hours of future demand the current stock must serve: until replenishment can arrive."""
        whs = self.scenario.network.warehouses
        waits = [w.replenishment.lead_time_days * 24.0 + w.replenishment.review_h
                 for w in whs if w.replenishment.policy != "none"]
        remaining = self.scenario.horizon.days * 24.0 - t_h
        h = max(waits) if waits else remaining
        return max(h, self.scenario.policies.lookahead_refresh_h)

    def _shadow_prices(self, t_h: float) -> np.ndarray:
        """Shadow price of a unit of each SKU at each node, (S, N), from the fluid LP.

        Re-solved when ``t_h`` enters a new ``lookahead_refresh_h`` period (a
        cache of a function of the state, not state: decide() stays pure).
        """
        epoch = int(t_h // self.scenario.policies.lookahead_refresh_h)
        if self._shadow is not None and self._shadow_epoch == epoch:
            return self._shadow
        from omsim.solvers.lp_fluid import solve_fluid_lp  # GLOP: loaded only by this policy

        sc = self.scenario
        S, N = self.n_skus, self.n_nodes
        hours = self._lookahead_window_h(t_h)
        daily = expected_daily_units(sc)
        # The LP grows with regions x SKUs x nodes; the slow movers rarely bind, price only the top ones.
        top = np.argsort(-daily, kind="stable")[:_LP_MAX_SKUS]
        Q = top.size
        rate = np.outer(self.region_share, daily[top]) * (hours / 24.0)
        stock = self.inventory.available()[:, top].T.astype(np.float64)
        # One-item order types: a unit is an "order". Spread the per-order costs over the units of an
        # average order (standard service, popularity-weighted weight) so packages are not overcounted.
        dem = sc.demand
        lines = _count_mean(dem.lines_per_order)
        units_line = _count_mean(dem.units_per_line)
        kg = float(self.popularity @ self.sku_weight_kg)
        v = _LEVEL_RANK["standard"]
        pkg = np.zeros((self.n_regions, N))
        unit = np.zeros((self.n_regions, N))
        for r in range(self.n_regions):
            ks, base, per_kg, per_unit, _, _ = self._shop_table(r, v)
            c = base + per_kg * kg * lines * units_line + per_unit * lines * units_line
            k = c.argmin(axis=1)
            pkg[r] = (base[self._rows, k] + self.handling_order) / (lines * units_line)
            unit[r] = per_kg[k] * kg + per_unit[k] + self.handling_line / units_line
        res = solve_fluid_lp(np.arange(Q + 1), np.arange(Q), rate, stock, pkg, unit,
                             np.full(self.n_regions, self.lost_sale_penalty), time_limit_s=_LP_TIME_LIMIT_S)
        shadow = np.zeros((S, N))
        if res.status in ("OPTIMAL", "FEASIBLE"):
            shadow[top] = res.shadow_price
        self.lp_results.append({"time_h": float(t_h), "status": res.status, "objective": res.objective,
                                "window_h": hours, "solve_time_s": res.solve_time_s})
        self._shadow, self._shadow_epoch = shadow, epoch
        return shadow

    # ------------------------------------------------------------------ batch
    def decide_batch(self, orders, t_h: float, policy: str | None = None) -> list[Decision]:
        """Decide and commit a window of orders; returns the committed decisions in order.

        With the ``batch`` policy the window is sourced jointly: every order's
        own optimum first; where these compete for the same units, the groups
        of orders linked by shared SKUs are solved together by CP-SAT
        (:mod:`omsim.solvers.cpsat_assignment`: shared stock, max packages per
        order, ``batch_time_limit_s`` per group). Each order's part is then
        improved, if possible, by the exact single-order optimum over the
        stock the rest of the window leaves (which keeps the window feasible),
        and committed. ``batch_results`` records per window the status
        (``INDEPENDENT`` when no group needed the solver), gap and time.
        Any other policy: ``decide`` + ``commit`` in turn.

        Raises
        ------
        OmsimError
            A malformed order (nothing is committed then).
        """
        policy = self.policy if policy is None else policy
        orders = list(orders)
        if policy != "batch" or len(orders) <= 1:
            for o in orders:
                self._check_order(o)
            out = []
            for o in orders:
                d = self.decide(o, t_h, policy)
                self.commit(d, t_h)
                out.append(d)
            return out
        from omsim.solvers.cpsat_assignment import solve_assignment  # CP-SAT: loaded only by this policy

        preps = [self._prepare(o, t_h) for o in orders]
        sizes = np.array([len(p.order.skus) for p in preps], dtype=np.int64)
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        skus_all = np.concatenate([p.order.skus for p in preps])
        uniq, line_sku = np.unique(skus_all, return_inverse=True)
        inv = self.inventory
        stock = np.maximum(inv.on_hand[:, uniq] - inv.reserved[:, uniq] - inv.safety[:, uniq], 0).T
        demand = np.concatenate([p.order.qty for p in preps])
        avail = np.vstack([p.avail for p in preps])
        # A node an order cannot use (no service, no capacity) gets a prohibitive unit cost.
        unit = np.where(avail > 0, np.vstack([p.unit_cost for p in preps]), _FORBIDDEN)
        # The kernel's package cost carries the split penalty on every package; CP-SAT models it
        # exactly (packages beyond an order's first), so take it out of the package cost here.
        pkg = np.vstack([p.package_cost for p in preps]) - self.split_penalty
        lost = np.concatenate([p.lost_cost for p in preps])
        # Each order's own optimum against the whole stock. Where these do not compete for a unit they
        # are the window's optimum (the objective is a sum over orders; only stock couples them), so
        # CP-SAT only sees the groups of orders that share SKUs with a conflict.
        planned = np.vstack([self._cheapest(p) for p in preps])
        use = np.zeros_like(stock)
        np.add.at(use, line_sku, planned)
        short = np.flatnonzero((use > stock).any(axis=1))            # SKUs (rows of uniq) over-used
        statuses, gap, wall = [], 0.0, 0.0
        if short.size:
            B = len(orders)
            order_of_line = np.repeat(np.arange(B), sizes)
            parent = list(range(B))

            def find(i):
                while parent[i] != i:
                    parent[i] = parent[parent[i]]
                    i = parent[i]
                return i

            first = {}
            for line, sk in enumerate(line_sku.tolist()):
                b = int(order_of_line[line])
                if sk in first:
                    parent[find(b)] = find(first[sk])
                else:
                    first[sk] = b
            hot = {find(int(order_of_line[line])) for line in np.flatnonzero(np.isin(line_sku, short))}
            limit = self.scenario.policies.batch_time_limit_s
            for root in sorted(hot):
                members = [b for b in range(B) if find(b) == root]
                lines = np.concatenate([np.arange(ptr[b], ptr[b + 1]) for b in members])
                sub_ptr = np.concatenate([[0], np.cumsum(sizes[members])])
                res = solve_assignment(sub_ptr, line_sku[lines], demand[lines], stock, pkg[members], unit[lines],
                                       lost[lines], max_packages=self.max_packages, scale=_BATCH_SCALE,
                                       split_penalty=self.split_penalty,
                                       time_limit_s=limit, num_workers=1, seed=int(self.scenario.seed))
                statuses.append(res.status)
                wall += res.wall_time_s
                if res.status in ("OPTIMAL", "FEASIBLE"):
                    planned[lines] = res.assign
                    gap = max(gap, res.gap)
                else:
                    # No plan: these orders go one at a time (the residual step below).
                    planned[lines] = 0
        worst = [st_ for st_ in statuses if st_ not in ("OPTIMAL", "FEASIBLE")]
        status = ("INDEPENDENT" if not statuses else worst[0] if worst
                  else "FEASIBLE" if "FEASIBLE" in statuses else "OPTIMAL")
        self.batch_results.append({"time_h": float(t_h), "orders": len(orders), "status": status, "gap": gap,
                                   "wall_time_s": wall, "groups_solved": len(statuses)})
        # Units of each SKU (row of uniq) the orders not yet committed plan to take, per node.
        later = np.zeros((uniq.size, self.n_nodes), dtype=np.int64)
        np.add.at(later, line_sku, planned)
        out = []
        for b, o in enumerate(orders):
            rows = slice(ptr[b], ptr[b + 1])
            mine = planned[rows]
            np.subtract.at(later, line_sku[rows], mine)
            prep = self._prepare(o, t_h)            # the state moved with the orders committed before
            prep.avail = np.ascontiguousarray(np.maximum(prep.avail - later[line_sku[rows]], 0))
            x = mine if np.all(mine <= prep.avail) else self._cheapest(prep)
            cands = [("cheapest for this order alone, with the stock the rest of the window needs",
                      self._cheapest(prep))]
            if self.explain:
                cands += self._candidates(prep, x, "batch")
            d = self._decision(prep, x, "batch", cands, None)
            self.commit(d, t_h)
            out.append(d)
        return out

    # ------------------------------------------------------------------ replenishment
    def _reorder_table(self, n: int):
        """Per SKU of node n: policy kind and (s, S, r, Q, base) in units (built once, cached)."""
        got = self._reorder.get(n)
        if got is not None:
            return got
        sc = self.scenario
        wh = sc.network.warehouses[n]
        rp = wh.replenishment
        S_ = self.n_skus
        share = expected_daily_units(sc) / np.maximum(self.carried.sum(axis=0), 1)
        kinds = np.empty(S_, dtype=object)
        par = {k: np.zeros(S_, dtype=np.int64) for k in ("s", "S", "r", "Q", "base")}
        for j in range(S_):
            params = rp.by_class.get(self.abc[j], rp)
            pol = ReorderPolicy.from_days(params, share[j])
            kinds[j] = pol.kind if self.carried[n, j] else "none"
            for k in par:
                par[k][j] = getattr(pol, k)
        table = stock_table(wh)
        if table is not None:
            pos = {s: i for i, s in enumerate(self.sku_ids)}
            for sku, rec in table.items():
                for k in par:
                    if k in rec:
                        par[k][pos[sku]] = rec[k]
        par["Q"] = np.maximum(par["Q"], 1)
        groups = {k: np.flatnonzero(kinds == k) for k in set(kinds.tolist()) if k != "none"}
        got = self._reorder[n] = (groups, par, rp)
        return got

    def review(self, node: int, t_h: float, backorders=None) -> list[InboundPO]:
        """Replenishment review of one node: place the POs its reorder policy asks for.

        Policy per SKU (:class:`omsim.fulfilment.replenishment.ReorderPolicy`):
        the node's (or its ABC class's) parameters in days of cover of the
        node's share of expected demand, or the units of its stock CSV. The
        inventory position is ``on_hand - reserved + inbound - backorders``.
        Lead time: ``lead_time_days`` (normal with ``lead_time_sd_days``,
        truncated at 0, drawn from the ``replenishment`` stream).

        Parameters
        ----------
        node
            Node position.
        t_h
            Review time.
        backorders
            (S,) units waiting at this node for stock (held by the caller), or None.

        Returns
        -------
        list of InboundPO
            The POs placed (also open in ``engine.inventory``).
        """
        n = self.inventory.node_index(node)
        groups, par, rp = self._reorder_table(n)
        if not groups:
            return []
        bo = 0 if backorders is None else np.asarray(backorders, dtype=np.int64)
        position = self.inventory.position(n, None, bo)
        qty = np.zeros(self.n_skus, dtype=np.int64)
        for kind, idx in groups.items():
            qty[idx] = order_quantities(kind, position[idx], **{k: v[idx] for k, v in par.items()})
        out = []
        rng = self.streams["replenishment"]
        for j in np.flatnonzero(qty > 0):
            lead_h = rp.lead_time_days * 24.0
            if rp.lead_time_sd_days > 0:
                lead_h = max(0.0, float(rng.normal(rp.lead_time_days, rp.lead_time_sd_days))) * 24.0
            q = int(qty[j])
            po_id = self.inventory.order(n, int(j), q, t_h + lead_h, t_h)
            out.append(InboundPO(po_id, n, int(j), q, t_h + lead_h, float(t_h), q))
        return out
