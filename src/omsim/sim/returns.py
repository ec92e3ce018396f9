"""The returns desk in the simulator: inspection batches, restock or scrap, refunds and exchanges.

Mixed into :class:`omsim.sim.model.Simulation`.
"""
from __future__ import annotations

import numpy as np

from omsim.sim.events import EV


class ReturnsDesk:
    """The returns desk of the model."""

    def _inspect_batch(self, key: float) -> None:
        """The returns desk's batch: restock or scrap each return's units, refund them or send an exchange,
        then ask again backorders for what came back."""
        t = self.env.now
        items = self.inspections.pop(key)
        eng, log = self.engine, self.log
        m = len(items)
        oids = np.fromiter((o for o, _ in items), dtype=np.int64, count=m)
        # The returns' lines (an order's packages' lines, with their node), kept when the return was requested.
        got = [self.returning.pop(o) for o, _ in items]
        sku = np.concatenate([g[0] for g in got])
        keep = self.returnable[sku]
        if not keep.any():
            return
        ret = np.repeat(np.arange(m), [g[0].size for g in got])[keep]
        sku = sku[keep]
        qty = np.concatenate([g[1] for g in got])[keep]
        node = np.concatenate([g[2] for g in got])[keep]
        # One draw per line, in order: the numbers scalar draws line by line would give.
        dmg = self.rng_ret.binomial(qty, self.sc.post_sales.damaged_share)
        back = qty - dmg
        ret_oid = oids[ret]
        up = back > 0
        eng.restock_many(node[up], sku[up], back[up], ret_oid[up].tolist(), t)
        for j in np.flatnonzero(dmg).tolist():
            eng.scrap(int(node[j]), int(sku[j]), int(dmg[j]), int(ret_oid[j]), t)
        self.units_restocked += int(back.sum())
        self.units_scrapped += int(dmg.sum())
        # One restocked (and scrapped) row per package that came back: its lines are consecutive.
        grp = ret * self.N + node
        first = np.flatnonzero(np.concatenate(([True], grp[1:] != grp[:-1])))
        back_at, dmg_at = np.add.reduceat(back, first), np.add.reduceat(dmg, first)
        code = log.code
        log.add_many(t, ret_oid[first], EV["restocked"], node[first],
                     np.array([code(str(v)) for v in back_at.tolist()], dtype=np.int32))
        hit = dmg_at > 0
        if hit.any():
            log.add_many(t, ret_oid[first][hit], EV["scrapped"], node[first][hit],
                         np.array([code(str(v)) for v in dmg_at[hit].tolist()], dtype=np.int32))
        # Refund, or an exchange of the units that came back (a line split over two nodes is one line).
        amount = np.bincount(ret, weights=self.price[sku] * qty, minlength=m)
        exchanges: list[tuple[int, np.ndarray, np.ndarray]] = []
        present = np.zeros(m, dtype=bool)
        present[ret] = True
        exch = [e for _, e in items]
        back_i = np.flatnonzero(present).tolist()
        if any(exch[i] for i in back_i):
            bounds = np.searchsorted(ret, np.arange(m + 1)).tolist()   # lines come return by return
            sku_l, qty_l = sku.tolist(), qty.tolist()
        refunded = 0.0
        for i in back_i:
            o = int(oids[i])
            if exch[i]:
                # The exchange's lines: each SKU once (a line split over two nodes is one), by SKU.
                merged: dict[int, int] = {}
                for j in range(bounds[i], bounds[i + 1]):
                    merged[sku_l[j]] = merged.get(sku_l[j], 0) + qty_l[j]
                skus = sorted(merged)
                exchanges.append((o, np.array(skus, dtype=np.int64),
                                  np.array([merged[k] for k in skus], dtype=np.int64), got[i][3]))
            else:
                amt = float(amount[i])
                refunded += amt
                log.add(t, o, EV["refunded"], -1, code(f"{amt:.2f}"))
        self.refund_total += refunded
        # The desk's exchanges go out after the batch is inspected (and put back in stock), then the
        # backorders for what came back are asked again: one engine call.
        self._retry_backorders(t, set(sku.tolist()), self._exchanges(exchanges, t) if exchanges else [])
