"""Backorders: orders (or remainders) waiting for stock, and the policy of asking again.

One policy for every clock (the simulator's dispatcher, and a live service):

- a backorder waits first in, first out: asked again, the oldest goes first;
- it is asked again only when one of its SKUs has a unit available to promise
  somewhere (:meth:`BackorderQueue.candidates`): otherwise the engine could
  only answer "backorder" again;
- it is cancelled once it has waited ``policies.max_backorder_wait_h`` since
  the order was placed (:func:`expiry_h`; a remainder counts from its parent
  order).

The queue also keeps the backordered units per node (each order counted at the
nearest node to its region), which replenishment reviews add to demand.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from omsim.orders import Order

__all__ = ["BackorderQueue", "expiry_h"]


def expiry_h(created_h: float, now_h: float, max_wait_h: float) -> float:
    """When a backorder placed at ``created_h`` (registered at ``now_h``) is cancelled."""
    return max(float(created_h) + float(max_wait_h), float(now_h))


class BackorderQueue:
    """Backordered orders by id, in arrival order, indexed by SKU (inputs already validated).

    Parameters
    ----------
    n_nodes, n_skus
        Network size (for the units per node).
    home
        (R,) nearest node of each demand region.
    """

    def __init__(self, n_nodes: int, n_skus: int, home: np.ndarray):
        self.orders: dict[int, Order] = {}
        self._seq: dict[int, int] = {}
        self._next = 0
        self._by_sku: dict[int, set[int]] = defaultdict(set)
        self._home = np.asarray(home, dtype=np.int64)
        self.units = np.zeros((n_nodes, n_skus), dtype=np.int64)   # backordered units per (node, SKU)

    def __len__(self) -> int:
        return len(self.orders)

    def __bool__(self) -> bool:
        return bool(self.orders)

    def __contains__(self, oid) -> bool:
        return oid in self.orders

    def add(self, oid: int, order: Order) -> None:
        """Register ``order`` as backordered (at the back of the queue)."""
        self.orders[oid] = order
        self._seq[oid] = self._next
        self._next += 1
        for j in order.skus.tolist():
            self._by_sku[j].add(oid)
        self.units[self._home[order.region], order.skus] += order.qty

    def drop(self, oid: int) -> Order:
        """Remove a backorder (it shipped, or was cancelled); returns it."""
        o = self.orders.pop(oid)
        del self._seq[oid]
        for j in o.skus.tolist():
            self._by_sku[j].discard(oid)
        self.units[self._home[o.region], o.skus] -= o.qty
        return o

    def replace(self, oid: int, order: Order) -> None:
        """Backorder ``oid`` now waits for ``order``'s lines (fewer: a customer cancelled some), in its place."""
        old = self.orders[oid]
        for j in old.skus.tolist():
            self._by_sku[j].discard(oid)
        self.units[self._home[old.region], old.skus] -= old.qty
        self.orders[oid] = order                  # an existing key keeps its place: FIFO unchanged
        for j in order.skus.tolist():
            self._by_sku[j].add(oid)
        self.units[self._home[order.region], order.skus] += order.qty

    def candidates(self, inventory, skus=None) -> list[int]:
        """Backorders worth asking again, oldest first.

        Parameters
        ----------
        inventory
            The :class:`~omsim.fulfilment.inventory.Inventory` (its ATP).
        skus
            Only backorders needing one of these SKUs (stock of them came
            back); all backorders when None.
        """
        if not self.orders:
            return []
        if skus is None:
            free = inventory.available().max(axis=0) > 0
            return [o for o, order in self.orders.items() if free[order.skus].any()]
        sk = np.fromiter(skus, dtype=np.int64, count=len(skus))
        free_sk = inventory.available_columns(sk).max(axis=0) > 0
        got: set[int] = set()
        for j in sk[free_sk].tolist():
            got |= self._by_sku.get(j, set())
        return sorted(got, key=self._seq.__getitem__)
