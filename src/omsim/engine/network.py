"""The static network: carrier services as arrays (the service table) and node labour rates."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omsim.fulfilment.carriers import CarrierBook
from omsim.fulfilment.promise import ALL_DAYS
from omsim.scenario import SERVICE_LEVELS, Scenario
from .stock import _count_mean


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
