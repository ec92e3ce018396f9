"""The public facade: :class:`DecisionEngine`, one object over the engine's modules.

The class itself only builds the state (``__init__``, :meth:`DecisionEngine.from_scenario`);
its methods live in the modules of this package, one concept each, mixed in here
(see the class docstring for the public method list and where each is defined).
"""
from __future__ import annotations

import numpy as np

from omsim._kernels._decide import CTL_SIZE
from omsim.catalogue import abc_classes, popularity
from omsim.clock import Clock
from omsim.errors import OmsimError
from omsim.fulfilment.carriers import CarrierBook
from omsim.fulfilment.inventory import Inventory
from omsim.geo import distance_matrix_km
from omsim.rng import Streams
from omsim.scenario import Scenario
from .constants import _UNLIMITED
from .network import _service_table, labour_units_per_h
from .stock import initial_stock
from .store import _Store
from .capacity import NodeLoad
from .commitments import Commitments
from .cost import CostModel
from .decisions import Decisions
from .kernel import KernelBinding
from .policies.batch import Batch
from .policies.cheapest import Cheapest
from .policies.lookahead import Lookahead
from .policies.nearest import Nearest
from .readiness import Readiness
from .replenishment import Replenishment
from .returns import Returns
from .runs import Runs
from .sourcing import Sourcing
from .views import StateViews


class DecisionEngine(Decisions, Runs, Commitments, Batch, Lookahead, Cheapest, Nearest, CostModel, Sourcing,
                     Readiness, NodeLoad, KernelBinding, Returns, Replenishment, StateViews):
    """Sourcing, carrier and promise decisions over the state of a fulfilment network.

    Public methods (module of :mod:`omsim.engine` that defines each):

    - construction: :meth:`from_scenario` (here);
    - decide: :meth:`decide`, :meth:`decide_commit_many` (``decisions``), :meth:`decide_commit_arrays`
      (``runs``: the columnar, compiled path), :meth:`decide_batch` (``policies.batch``),
      :meth:`evaluate` (``cost``);
    - open orders: :meth:`commit`, :meth:`register_backorders`, :meth:`cancel`, :meth:`ship`,
      :meth:`ship_many`, :meth:`committed`, :attr:`open_orders` (``commitments``);
    - node load: :meth:`capacity_left` (``capacity``);
    - stock: :meth:`receive`, :meth:`review`, :meth:`ledger_frame` (``replenishment``), :meth:`restock`,
      :meth:`restock_many`, :meth:`scrap`, :meth:`returns_frame` (``returns``);
    - read-only views of the state: :meth:`open_order_ids`, :meth:`open_order`, :meth:`capacity_taken`,
      :meth:`full_service_days`, :meth:`shadow_prices`, :meth:`store_stats` (``views``).

    Everything else (names starting with ``_``) is internal to the package.

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

    Notes
    -----
    Nodes, SKUs and regions are integer positions in scenario order; time is
    hours since the scenario start; a "day" is ``floor(t_h / 24)``. Whether a
    decision lists the alternatives it considered is chosen per call
    (``explain=`` of :meth:`decide`, :meth:`decide_commit_many`,
    :meth:`decide_batch`; a little slower); the columnar
    :meth:`decide_commit_arrays` keeps no explanations.
    """

    def __init__(self, scenario: Scenario, inventory: Inventory, streams: Streams | None = None, *,
                 carried: np.ndarray | None = None, capacity_units_per_day=None):
        sc = scenario
        self.scenario = sc
        self.inventory = inventory
        self.streams = streams if streams is not None else Streams(sc.seed)
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
        self.clock = Clock.from_scenario(sc)          # engine hours <-> datetimes; the weekday of day 0
        self.start_weekday = self.clock.start_weekday
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
        self._open: dict = {}                              # order id -> its row in _store (OpenRow)
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
        self._shadow_pinned = False                         # True: prices set from outside (pin_shadow_prices)
        self.lp_results: list = []                          # fluid LP runs (status, objective) for reports
        self.batch_results: list = []                       # CP-SAT windows (status, gap) for reports
        # The compiled loop's state between calls (see _kernel): the record of the orders decided as columns,
        # the kernel object holding the engine's arrays, a mirror of the carrier bookings of a window of days.
        self._store = _Store(self)
        self._kern = None
        self._kbound: dict = {}
        self._kctl = np.zeros(CTL_SIZE, dtype=np.int64)
        self._kctl_dry = np.zeros(CTL_SIZE, dtype=np.int64)        # decide()'s dry runs (nothing logged)
        self._dry_cols = None                                 # decide()'s one-order columns, reused
        self._dry_kernel = True                               # False: decide() always the Python path (tests)
        self._kscratch = None                                 # zero node counters for a day not yet in the dicts
        self._cw = None                                       # carrier window mirror (_CarrierWindow)
        self._full_ver = 0                                    # bumped when _full changes
        self._win_ver = 0                                     # bumped when a node's cached windows change
        # Caches of functions of the static attributes (kernel.STATIC_ATTRS): dropped when one of those
        # attributes is set (kernel._Static).
        self._kstatic = None                                  # the kernel's static arrays (_kernel_static)
        self._kernel_network_ok = None                        # _kernel_covers' network check

    def __getstate__(self):
        # The compiled loop's bindings are rebuilt on the next call (the Kernel object cannot be copied).
        state = self.__dict__.copy()
        state.update(_kstatic=None, _kern=None, _kbound={}, _cw=None, _kscratch=None)
        return state

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
