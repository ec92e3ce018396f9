"""Node load: orders and units each node has taken per day (capacity throttling)."""
from __future__ import annotations

import math

import numpy as np

from .constants import _MAX_PICKUP_DAYS, _UNLIMITED


class NodeLoad:
    """Part of :class:`~omsim.engine.DecisionEngine`: the node capacity counters of each day."""

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

    def _prune(self, today: int) -> None:
        """Forget capacity counters of days long past (keeps memory bounded over long runs)."""
        for table in (self._orders_taken, self._units_taken):
            for d in [d for d in table if d < today - 2 * _MAX_PICKUP_DAYS]:
                del table[d]
        full = {(d, k) for d, k in self._full if d >= today - 2 * _MAX_PICKUP_DAYS}
        if len(full) != len(self._full):
            self._full = full
            self._full_ver += 1
