"""The picking floor of one node, as the simulator sees it: a thin adapter.

Slotting, batching, routing and pick times are decisions and models of
:mod:`omsim.warehouse`; this module only turns a wave of packages into the
arrays those functions take and hands back, per tour, the packages it holds,
its route length and its pick time. It holds no policy of its own.
"""
from __future__ import annotations

import numpy as np

from omsim.scenario import slotting_table
from omsim.warehouse import Layout
from omsim.warehouse.batching import SavingsWaves, batch_orders_flat
from omsim.warehouse.picktime import PickTimeModel
from omsim.warehouse.slotting import slot

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
        a, c, _s = slot(self.layout, len(popularity), pol, popularity=popularity, rng=rng, table=table,
                        sku_ids=scenario.sku_ids, missing="random")
        self.sku_loc = np.ascontiguousarray(np.column_stack([a, c]).astype(np.int64))
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
