"""Read-only views of the engine's state (what tests, reports and a journal read; nothing here changes it).

Each returns a copy or an immutable value, never an array the engine goes on writing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omsim.orders import Decision


@dataclass(frozen=True)
class OpenOrder:
    """An open order as :meth:`StateViews.open_order` reports it.

    Attributes
    ----------
    decision
        The committed :class:`~omsim.orders.Decision` (the same object :meth:`DecisionEngine.committed` gives).
    unshipped
        Per shipment of the decision: not shipped yet.
    day
        The day whose node capacity the order took (``floor(t_h / 24)`` at commit).
    open_packages
        Shipments not shipped yet (``sum(unshipped)``).
    """

    decision: Decision
    unshipped: list
    day: int
    open_packages: int


class StateViews:
    """Part of :class:`~omsim.engine.DecisionEngine`: read-only accessors of its state."""

    def open_order_ids(self) -> list:
        """Ids of the orders committed and not yet fully shipped or cancelled, in commit order."""
        return list(self._open)

    def open_order(self, order_id) -> OpenOrder:
        """What an open order still holds (see :class:`OpenOrder`); OmsimError when it is not open."""
        b = self._booking(order_id)
        return OpenOrder(b.decision, list(b.open), int(b.day), int(b.open_count))

    def capacity_taken(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per day the engine still counts: (orders, units) taken per node, (N,) int64 copies.

        Days long past are forgotten (two weeks of pickups back); :meth:`capacity_left` reads the same counters.
        """
        return {d: (o.copy(), self._units_taken[d].copy()) for d, o in self._orders_taken.items()}

    def full_service_days(self) -> frozenset:
        """The (day, service index) pairs a decision treats as full: fewer than ``max_packages`` slots left."""
        return frozenset(self._full)

    def shadow_prices(self, t_h: float) -> np.ndarray:
        """The lookahead policy's shadow price of a unit of each SKU at each node at ``t_h``, (S, N) (a copy).

        Solves the fluid LP when ``t_h`` enters a new ``lookahead_refresh_h`` period (as ``decide`` does),
        else the prices of that period's solve.
        """
        return self._shadow_prices(float(t_h)).copy()

    def store_stats(self) -> dict:
        """The column store's size: ``rows`` written, ``capacity`` (rows allocated) and ``compactions`` so far."""
        s = self._store
        return {"rows": int(s.O), "capacity": int(len(s.status)), "compactions": int(s.compactions)}
