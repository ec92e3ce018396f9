"""Policy ``lookahead``: ``cheapest`` with each unit priced by its stock's shadow price
from the fluid LP."""
from __future__ import annotations


import numpy as np

from ..constants import _LEVEL_RANK, _LOOKAHEAD_WINDOW_H, _LP_MAX_SKUS, _LP_TIME_LIMIT_S
from ..stock import _count_mean, expected_daily_units


class Lookahead:
    """Part of :class:`~omsim.engine.DecisionEngine`: the lookahead shadow prices."""

    def _lookahead_window_h(self) -> float:
        """Hours of future demand the current stock must serve, from any decision time (a rolling window:
        the engine knows no end of time): ``policies.lookahead_window_h``, else until replenishment can
        arrive, else a week; at least one refresh period."""
        pol = self.scenario.policies
        h = pol.lookahead_window_h
        if h is None:
            waits = [w.replenishment.lead_time_days * 24.0 + w.replenishment.review_h
                     for w in self.scenario.network.warehouses if w.replenishment.policy != "none"]
            h = max(waits) if waits else _LOOKAHEAD_WINDOW_H
        return max(h, pol.lookahead_refresh_h)

    def _shadow_prices(self, t_h: float) -> np.ndarray:
        """Shadow price of a unit of each SKU at each node, (S, N), from the fluid LP.

        Re-solved when ``t_h`` enters a new ``lookahead_refresh_h`` period (a
        cache of a function of the state, not state: decide() stays pure).
        Prices set by :meth:`pin_shadow_prices` are used as they are, never
        re-solved here (a live engine refreshes them off its writer).
        """
        if self._shadow_pinned:
            if self._shadow is None:
                self._shadow = np.zeros((self.n_skus, self.n_nodes))
            return self._shadow
        epoch = int(t_h // self.scenario.policies.lookahead_refresh_h)
        if self._shadow is not None and self._shadow_epoch == epoch:
            return self._shadow
        self._shadow, self._shadow_epoch = self.solve_shadow_prices(t_h), epoch
        return self._shadow

    def pin_shadow_prices(self, prices: np.ndarray | None) -> None:
        """Use ``prices`` ((S, N); None: zeros until set) as the lookahead prices until pinned again
        (inputs already validated)."""
        self._shadow_pinned = True
        self._shadow = None if prices is None else np.asarray(prices, dtype=np.float64)
        self._shadow_epoch = None

    def solve_shadow_prices(self, t_h: float, available: np.ndarray | None = None) -> np.ndarray:
        """Solve the fluid LP for the stock ``available`` ((N, S); the inventory's available by default) at
        ``t_h``: the (S, N) prices, changing no state but the solver log (``lp_results``). Reads the
        engine's static tables only, so it may run on another thread than the one deciding."""
        from omsim.solvers.lp_fluid import solve_fluid_lp  # GLOP: loaded only by this policy

        sc = self.scenario
        S, N = self.n_skus, self.n_nodes
        hours = self._lookahead_window_h()
        daily = expected_daily_units(sc)
        # The LP grows with regions x SKUs x nodes; the slow movers rarely bind, price only the top ones.
        top = np.argsort(-daily, kind="stable")[:_LP_MAX_SKUS]
        Q = top.size
        rate = np.outer(self.region_share, daily[top]) * (hours / 24.0)
        stock = (self.inventory.available() if available is None else available)[:, top].T.astype(np.float64)
        # One-item order types: a unit is an "order". Spread the per-order costs over the units of an
        # average order (standard service, popularity-weighted weight) so packages are not overcounted.
        dem = sc.demand
        lines = _count_mean(dem.lines_per_order)
        units_line = _count_mean(dem.units_per_line)
        kg = float(self.popularity @ self.sku_weight_kg)
        v = _LEVEL_RANK["standard"]
        pkg = np.zeros((self.n_regions, N))
        unit = np.zeros((self.n_regions, N))
        for r in range(self.n_regions):
            ks, base, per_kg, per_unit, _, _ = self._shop_table(r, v)
            c = base + per_kg * kg * lines * units_line + per_unit * lines * units_line
            k = c.argmin(axis=1)
            pkg[r] = (base[self._rows, k] + self.handling_order) / (lines * units_line)
            unit[r] = per_kg[k] * kg + per_unit[k] + self.handling_line / units_line
        res = solve_fluid_lp(np.arange(Q + 1), np.arange(Q), rate, stock, pkg, unit,
                             np.full(self.n_regions, self.lost_sale_penalty), time_limit_s=_LP_TIME_LIMIT_S)
        shadow = np.zeros((S, N))
        if res.status in ("OPTIMAL", "FEASIBLE"):
            shadow[top] = res.shadow_price
        self.lp_results.append({"time_h": float(t_h), "status": res.status, "objective": res.objective,
                                "window_h": hours, "solve_time_s": res.solve_time_s})
        return shadow
