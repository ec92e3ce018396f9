"""The cost model of sourcing an order (see :mod:`omsim.engine` for the formula)."""
from __future__ import annotations


import numpy as np

from omsim.errors import OmsimError
from omsim.orders import Order
from .sourcing import _Prep


class CostModel:
    """Part of :class:`~omsim.engine.DecisionEngine`: the true cost of assignments."""

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

    def _breakdown(self, prep: _Prep, X: np.ndarray, used: np.ndarray) -> dict[str, np.ndarray]:
        """The cost of each assignment in ``X`` (A, L, N) by :data:`~omsim.orders.COST_KEYS`, (A,) each: the
        terms of :meth:`_totals`, split as a decision's breakdown is (package rate and per-unit rate, per-kg,
        per-km, handling per order and per line, split penalty, lost-sale penalty)."""
        units = X.sum(axis=1)                                        # (A, N) units per node
        npk = used.sum(axis=1)
        return {
            "shipping_package": used @ prep.pkg_fixed + units @ prep.unit_rate,
            "shipping_weight": (X * prep.unit_kg).sum(axis=(1, 2)),
            "shipping_distance": used @ prep.pkg_dist,
            "handling": used @ prep.pkg_handling + (X * prep.unit_handling).sum(axis=(1, 2)),
            "split_penalty": self.split_penalty * np.maximum(npk - 1, 0),
            "lost_penalty": (prep.order.qty[None, :] - X.sum(axis=2)) @ prep.lost_cost,
        }

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
