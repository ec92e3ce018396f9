"""Policy ``cheapest``: the exact minimum-cost sourcing of one order."""
from __future__ import annotations


import numpy as np

from omsim._kernels import _alloc
from ..sourcing import _Prep


class Cheapest:
    """Part of :class:`~omsim.engine.DecisionEngine`: the cheapest assignment."""

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
