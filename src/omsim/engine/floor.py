"""Floor decisions of one node: slotting, waves, batches, routes and pick time.

Every clock asks this module, and only this module, how a node's floor works:
the simulator releases a wave and asks for its tours and their pick hours;
``omsim plan`` asks the same :class:`Floor` (built from the same random
streams) to fill waves, batch them, route each tour stop by stop and time it.
So for the same released packages both give the same batches, route lengths
and pick hours (tested). The policies themselves live in
:mod:`omsim.warehouse` (slotting, batching, routing, pick time); this module
turns packages into the arrays they take.
"""
from __future__ import annotations

import numpy as np

from omsim.catalogue import popularity as _popularity
from omsim.scenario import slotting_table
from omsim.warehouse import Layout
from omsim.warehouse.batching import SavingsWaves, batch_orders_flat
from omsim.warehouse.picktime import PickTimeModel
from omsim.warehouse.routing import route
from omsim.warehouse.slotting import slot

__all__ = ["Floor", "LOCAL_SEARCH_ROUNDS", "floors"]

#: Local search stops after this many perturbation rounds; its wall-clock
#: limit is set far away so that runs stay reproducible (a time limit would
#: make the batches depend on the machine's speed).
LOCAL_SEARCH_ROUNDS = 20


class Floor:
    """Layout, slotting and the warehouse calls for one node (inputs already validated).

    Parameters
    ----------
    wh
        The scenario's ``Warehouse`` record.
    scenario
        The scenario (policies: batching, ``batching_neighbours``, routing, cart capacity).
    popularity
        (S,) SKU demand shares (class-based slotting).
    rng
        Generator for slotting draws (stream ``layout``).
    batch_rng
        Generator for the batching heuristics' random choices (stream ``picking``, per node).
    """

    def __init__(self, wh, scenario, popularity: np.ndarray, rng: np.random.Generator,
                 batch_rng: np.random.Generator):
        spec = wh.layout.model_dump()
        self.layout = Layout(**spec)
        pol = wh.slotting.policy
        table = slotting_table(wh) if pol == "explicit" else None
        a, c, side = slot(self.layout, len(popularity), pol, popularity=popularity, rng=rng, table=table,
                          sku_ids=scenario.sku_ids, missing="random")
        self.sku_loc = np.ascontiguousarray(np.column_stack([a, c]).astype(np.int64))
        self.sku_side = np.asarray(side, dtype=np.int64)
        self.wave_interval_h = float(scenario.policies.wave.interval_h)
        self.pickers = int(wh.pickers)
        p = scenario.policies
        self.batching = p.batching
        self.routing = p.routing
        self.capacity = int(p.cart_capacity_units)
        self.neighbours = getattr(p, "batching_neighbours", None)
        self.pick_model = PickTimeModel.from_warehouse(wh)
        self.rng = batch_rng
        # Exact savings (the default policy): the waves go straight to the kernel, prepared once.
        self._waves = (SavingsWaves(self.layout, self.sku_loc)
                       if SavingsWaves.applies(self.layout, self.batching, self.routing) else None)

    def tours(self, line_ptr: np.ndarray, line_sku: np.ndarray, units: np.ndarray):
        """Group a wave's packages into picker tours.

        Returns
        -------
        tours : list of numpy.ndarray
            Package indices (into the wave) of each tour.
        length_m : numpy.ndarray
            Route length of each tour (metres).
        picks : numpy.ndarray
            Picks (lines) of each tour.
        """
        n = units.size
        if n == 0:
            return [], np.zeros(0), np.zeros(0, np.int64)
        if self._waves is not None and SavingsWaves.applies(self.layout, self.batching, self.routing):
            return self._waves.tours(line_ptr, line_sku, units, self.capacity, self.neighbours)
        # Slotted locations are inside the layout: the flat, trusted entry skips per-order validation.
        loc = self.sku_loc[line_sku]
        ptr = np.ascontiguousarray(line_ptr, dtype=np.int64)
        if ptr[0] != 0 or ptr[-1] != loc.shape[0]:
            loc = np.ascontiguousarray(loc[ptr[0]:ptr[-1]])
            ptr = ptr - ptr[0]
        res = batch_orders_flat(self.layout, loc, ptr, units, float(self.capacity), self.batching, self.routing,
                                rng=self.rng, time_limit_s=1e6, max_rounds=LOCAL_SEARCH_ROUNDS,
                                neighbours=self.neighbours)
        tours = [np.asarray(b, dtype=np.int64) for b in res.batches]
        lines = np.diff(ptr)
        n_picks = np.array([int(lines[t].sum()) for t in tours], dtype=np.int64)
        return tours, np.asarray(res.lengths, dtype=np.float64), n_picks

    def pick_hours_list(self, length_m: np.ndarray, picks: np.ndarray) -> list[float]:
        """:meth:`pick_hours` as a list of floats (same values)."""
        return self.pick_model.tour_hours_list(length_m.tolist(), picks.tolist())

    def pick_hours(self, length_m: np.ndarray, picks: np.ndarray) -> np.ndarray:
        """Pick time (h) of each tour (:class:`omsim.warehouse.picktime.PickTimeModel`)."""
        return np.asarray(self.pick_model.tour_time_h(length_m, picks), dtype=np.float64)

    # ------------------------------------------------------------ planning
    def solo_hours(self, line_ptr: np.ndarray, line_sku: np.ndarray) -> np.ndarray:
        """Pick hours of each package picked on its own tour (an upper bound that batching only lowers)."""
        ptr = np.asarray(line_ptr, dtype=np.int64)
        n = ptr.size - 1
        if n <= 0:
            return np.zeros(0)
        loc = self.sku_loc[np.asarray(line_sku, dtype=np.int64)]
        from omsim.warehouse import route_lengths
        length = np.asarray(route_lengths(self.layout, [loc[ptr[i]:ptr[i + 1]] for i in range(n)], self.routing),
                            dtype=np.float64)
        return self.pick_hours(length, np.diff(ptr))

    def fill_waves(self, line_ptr: np.ndarray, line_sku: np.ndarray, max_packages: int | None = None) -> np.ndarray:
        """Wave index of each package, filled in the given order (``omsim plan``'s releases).

        A wave holds what the node's pickers can pick in one wave interval
        (``pickers x wave.interval_h``, each package costed as its solo tour)
        and at most ``max_packages`` packages (``wave.backlog_threshold``); a
        package that alone exceeds it gets a wave of its own.
        """
        solo = self.solo_hours(line_ptr, line_sku)
        room = self.pickers * self.wave_interval_h
        cap_n = max_packages or solo.size + 1
        out = np.zeros(solo.size, dtype=np.int64)
        w, used_h, used_n = 0, 0.0, 0
        for i, h in enumerate(solo.tolist()):
            if used_n and (used_h + h > room or used_n >= cap_n):
                w, used_h, used_n = w + 1, 0.0, 0
            out[i] = w
            used_h += h
            used_n += 1
        return out

    def tour_stops(self, line_sku: np.ndarray):
        """Visiting order and cumulative length of one tour over ``line_sku`` (its picks).

        Returns
        -------
        order : numpy.ndarray
            Indices into ``line_sku`` in visiting order.
        cum_m : numpy.ndarray
            Aisle-graph distance from the depot at each stop (len(order)), metres.
        length_m : float
            The tour's length back to the depot (as :meth:`tours` reports it).
        """
        pts = self.sku_loc[np.asarray(line_sku, dtype=np.int64)]
        if len(pts) == 0:
            return np.zeros(0, np.int64), np.zeros(0), 0.0
        r = route(self.layout, pts, self.routing)
        seq = np.asarray(r.sequence, dtype=np.int64)
        dm = np.asarray(self.layout.distance_matrix(pts[seq], include_depot=True), dtype=float)  # depot first
        legs = dm[np.arange(len(seq)), np.arange(1, len(seq) + 1)]
        return seq, np.cumsum(legs), float(r.length)


def floors(scenario, streams) -> list[Floor]:
    """One :class:`Floor` per node, slotted and seeded as every clock sees it (streams ``layout``, ``picking``)."""
    pop = _popularity(scenario.catalogue.skus)
    n = len(scenario.network.warehouses)
    layout_rngs = streams.spawn("layout", n)
    batch_rngs = streams.spawn("picking", n)
    return [Floor(wh, scenario, pop, layout_rngs[i], batch_rngs[i]) for i, wh in enumerate(scenario.network.warehouses)]
