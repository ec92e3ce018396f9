"""Policy ``nearest``: each line from the closest node that has it."""
from __future__ import annotations


import numpy as np

from omsim.fulfilment import allocation as _allocation
from ..sourcing import _Prep


class Nearest:
    """Part of :class:`~omsim.engine.DecisionEngine`: the nearest assignment."""

    def _nearest(self, prep: _Prep) -> np.ndarray:
        km = self.node_region_km[:, prep.order.region]
        x = _allocation.nearest_assignment(prep.order.qty, prep.avail, km, fallback=True)  # carries where stocked
        return self._cap_packages(x, km)

    def _cap_packages(self, x: np.ndarray, rank_key: np.ndarray) -> np.ndarray:
        """Drop the worst-ranked nodes' units until at most max_packages nodes ship (units become unfilled)."""
        used = np.flatnonzero(x.sum(axis=0) > 0)
        if used.size <= self.max_packages:
            return x
        keep = used[np.argsort(rank_key[used], kind="stable")[: self.max_packages]]
        out = np.zeros_like(x)
        out[:, keep] = x[:, keep]
        return out
