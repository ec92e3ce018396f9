"""Replenishment in the simulator: each node's periodic review and the receipts of its purchase orders.

Mixed into :class:`omsim.sim.model.Simulation`; the quantities are the engine's.
"""
from __future__ import annotations

import heapq


class Replenishment:
    """Reviews and receipts of the model."""

    def _reviews(self, n: int):
        rp = self.sc.network.warehouses[n].replenishment
        if rp.policy == "none" and not rp.by_class:
            return
        dt = rp.review_h
        while True:
            t = self.env.now
            bo = self.backorders.units[n].copy()
            for po in self.engine.review(n, t, bo) or []:
                eta = max(float(po.eta_h), t)
                b = self.receipts.get(eta)
                if b is None:
                    b = self.receipts[eta] = []
                    if eta < self.end_h:
                        self._at_engine(eta, self._receive, eta)
                b.append(po)
            heapq.heappush(self._barriers, t + dt)
            yield self.env.timeout(dt)

    def _receive(self, eta: float) -> None:
        t = self.env.now
        pos = self.receipts.pop(eta)
        got = set()
        for po in pos:
            self.engine.receive(po, t)
            got.add(int(po.sku))
        self._retry_backorders(t, got)
