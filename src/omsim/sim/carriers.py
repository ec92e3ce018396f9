"""Carrier pickups in the simulator: shipping, transit, delivery, feedback and return requests.

Mixed into :class:`omsim.sim.model.Simulation`; vectorised over a pickup's packages.
"""
from __future__ import annotations

import numpy as np

from omsim.ranges import spans
from omsim.sim.events import EV
from omsim.sim.states import DONE


class Carriers:
    """Pickups and what follows them, up to a return's request."""

    def _pickup(self, key) -> None:
        n, T = key
        parts = self.pickups.pop(key)
        pk = parts[0] if len(parts) == 1 else np.concatenate(parts)
        ot, log, P = self.ot, self.log, self.P
        oids = P.order[pk]                      # distinct: one package per node and order
        self.engine.ship_many(oids, P.k[pk], T)
        ot.units_shipped[oids] += P.units[pk]
        ot.ship_cost[oids] += P.cost_ship[pk]
        ot.handling_cost[oids] += P.cost_handling[pk]
        svc = P.service[pk]
        log.add_many(T, oids, EV["shipped"], n, self._svc_code[svc])
        rng = self.rng_transit
        m = pk.size
        u = rng.random(m)
        ex = rng.exponential(1.0, m)
        late = np.where(u < self._delay_p[svc], ex * self._delay_mean[svc], 0.0)
        arr = T + P.transit[pk] + late
        ot.last_delivery_h[oids] = np.fmax(ot.last_delivery_h[oids], arr)
        self.shipments_today += m
        ot.pending[oids] -= 1
        done = oids[ot.pending[oids] == 0]
        if done.size:
            self._complete(done)

    def _complete(self, oids: np.ndarray) -> None:
        """All packages of these orders are on their way: delivery, feedback, return."""
        ot, log, ps = self.ot, self.log, self.sc.post_sales
        self.open_orders -= int(oids.size)
        ot.state[oids] = DONE
        r0 = ot.pkg0[oids]
        self.P.closed[spans(r0, r0 + ot.packages[oids])[1]] = True     # no one reads these packages again
        t_del = ot.last_delivery_h[oids]
        ot.delivered_h[oids] = t_del
        keep = t_del <= self.end_h
        oids, t_del = oids[keep], t_del[keep]
        m = oids.size
        if m == 0:
            return
        log.add_many(t_del, oids, EV["delivered"])
        sat = ps.satisfaction
        prom = ot.promised_h[oids]
        late_days = np.where(np.isfinite(prom), np.maximum(0.0, (t_del - prom) / 24.0), 0.0)
        wrong = ot.wrong[oids]
        score = (sat.base - sat.per_day_late * late_days - sat.wrong_item * wrong
                 - sat.per_extra_package * np.maximum(ot.packages[oids] - 1, 0)
                 + sat.noise_sd * self.rng_fb.standard_normal(m))
        score = np.clip(score, 1.0, 5.0)
        ot.satisfaction[oids] = score
        log.add_many(t_del, oids, EV["feedback"], -1, self._score_code[np.rint(score * 10.0).astype(np.int64)])
        # Return: the probability of the order's units (by category), or the wrong-item one.
        P = self.P
        first = ot.pkg0[oids]
        last = first + ot.packages[oids] - 1
        ptr, idx = spans(P.line_a[first], P.line_b[last])
        skus, qty = P.sku[idx], P.qty[idx]
        ret_any = np.add.reduceat(self.returnable[skus].astype(np.int64), ptr[:-1]) > 0
        p = np.add.reduceat(self.sku_return_p[skus] * qty, ptr[:-1]) / np.add.reduceat(qty, ptr[:-1])
        p = np.where(wrong, ps.wrong_item_return_probability, p)
        u = self.rng_ret.random((m, 3))
        req = ret_any & (u[:, 0] < p)
        if not req.any():
            return
        oids, t_del, u = oids[req], t_del[req], u[req]
        if ps.return_delay_days > 0:
            t_req = t_del - ps.return_delay_days * 24.0 * np.log1p(-u[:, 1])
        else:
            t_req = t_del
        ok = t_req <= self.end_h
        oids, t_req, u = oids[ok], t_req[ok], u[ok]
        ot.returned_h[oids] = t_req
        log.add_many(t_req, oids, EV["return_requested"])
        t_arr = t_req + ps.return_transit_days * 24.0
        t_done = t_arr + ps.inspection_h
        arrived = t_arr <= self.end_h
        log.add_many(t_arr[arrived], oids[arrived], EV["return_received"])
        if ps.inspection_batch_h > 0:
            b = ps.inspection_batch_h
            t_done = np.ceil(t_done / b - 1e-9) * b
        desk = t_done <= self.end_h
        self._keep_returns(oids[desk])
        for o, td, ux in zip(oids[desk].tolist(), t_done[desk].tolist(), u[desk, 2].tolist()):
            batch = self.inspections.get(td)
            if batch is None:
                batch = self.inspections[td] = []
                self._at_engine(td, self._inspect_batch, td)
            batch.append((o, ux < ps.exchange_share))

    def _keep_returns(self, oids: np.ndarray) -> None:
        """What the returns desk reads of these complete orders, copied (their rows are final, and a streamed run
        releases them): per order, its packages' lines (SKU, units, node) and its region, level and channel."""
        if oids.size == 0:
            return
        ot, P = self.ot, self.P
        r0 = ot.pkg0[oids]
        npk = ot.packages[oids].astype(np.int64)
        _, rows = spans(r0, r0 + npk)
        la, lb = P.line_a[rows], P.line_b[rows]
        _, lidx = spans(la, lb)
        sku, qty, node = P.sku[lidx], P.qty[lidx], np.repeat(P.node[rows], lb - la)
        ends = np.cumsum(P.line_b[r0 + npk - 1] - P.line_a[r0]).tolist()
        reg, lev, ch = ot.region[oids].tolist(), ot.level[oids].tolist(), ot.channel[oids].tolist()
        x = 0
        for i, o in enumerate(oids.tolist()):
            y = ends[i]
            self.returning[o] = (sku[x:y], qty[x:y], node[x:y], (reg[i], lev[i], ch[i]))
            x = y
