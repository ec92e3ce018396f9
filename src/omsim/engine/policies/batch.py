"""Policy ``batch``: a window of orders sourced jointly (CP-SAT over competing groups)."""
from __future__ import annotations


import numpy as np

from omsim.orders import Decision
from ..constants import _BATCH_SCALE, _FORBIDDEN


class Batch:
    """Part of :class:`~omsim.engine.DecisionEngine`: ``decide_batch``."""

    def decide_batch(self, orders, t_h: float, policy: str | None = None, *,
                     explain: bool = False) -> list[Decision]:
        """Decide and commit a window of orders; returns the committed decisions in order.

        With the ``batch`` policy the window is sourced jointly: every order's
        own optimum first; where these compete for the same units, the groups
        of orders linked by shared SKUs are solved together by CP-SAT
        (:mod:`omsim.solvers.cpsat_assignment`: shared stock, max packages per
        order, ``batch_time_limit_s`` per group). Each order's part is then
        improved, if possible, by the exact single-order optimum over the
        stock the rest of the window leaves (which keeps the window feasible),
        and committed. ``batch_results`` records per window the status
        (``INDEPENDENT`` when no group needed the solver), gap and time.
        Any other policy: ``decide`` + ``commit`` in turn. ``explain``: as in
        :meth:`decide` (with ``batch``, the single-order optimum is always
        listed: it is what the window's plan is compared with).

        Raises
        ------
        OmsimError
            A malformed order (nothing is committed then).
        """
        policy = self.policy if policy is None else policy
        orders = list(orders)
        if policy != "batch" or len(orders) <= 1:
            for o in orders:
                self._check_order(o)
            out = []
            for o in orders:
                d = self.decide(o, t_h, policy, explain=explain)
                self.commit(d, t_h)
                out.append(d)
            return out
        from omsim.solvers.cpsat_assignment import solve_assignment  # CP-SAT: loaded only by this policy

        preps = [self._prepare(o, t_h) for o in orders]
        sizes = np.array([len(p.order.skus) for p in preps], dtype=np.int64)
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        skus_all = np.concatenate([p.order.skus for p in preps])
        uniq, line_sku = np.unique(skus_all, return_inverse=True)
        inv = self.inventory
        stock = np.maximum(inv.on_hand[:, uniq] - inv.reserved[:, uniq] - inv.safety[:, uniq], 0).T
        demand = np.concatenate([p.order.qty for p in preps])
        avail = np.vstack([p.avail for p in preps])
        # A node an order cannot use (no service, no capacity) gets a prohibitive unit cost.
        unit = np.where(avail > 0, np.vstack([p.unit_cost for p in preps]), _FORBIDDEN)
        # The kernel's package cost carries the split penalty on every package; CP-SAT models it
        # exactly (packages beyond an order's first), so take it out of the package cost here.
        pkg = np.vstack([p.package_cost for p in preps]) - self.split_penalty
        lost = np.concatenate([p.lost_cost for p in preps])
        # Each order's own optimum against the whole stock. Where these do not compete for a unit they
        # are the window's optimum (the objective is a sum over orders; only stock couples them), so
        # CP-SAT only sees the groups of orders that share SKUs with a conflict.
        planned = np.vstack([self._cheapest(p) for p in preps])
        use = np.zeros_like(stock)
        np.add.at(use, line_sku, planned)
        short = np.flatnonzero((use > stock).any(axis=1))            # SKUs (rows of uniq) over-used
        statuses, gap, wall = [], 0.0, 0.0
        if short.size:
            B = len(orders)
            order_of_line = np.repeat(np.arange(B), sizes)
            parent = list(range(B))

            def find(i):
                while parent[i] != i:
                    parent[i] = parent[parent[i]]
                    i = parent[i]
                return i

            first = {}
            for line, sk in enumerate(line_sku.tolist()):
                b = int(order_of_line[line])
                if sk in first:
                    parent[find(b)] = find(first[sk])
                else:
                    first[sk] = b
            hot = {find(int(order_of_line[line])) for line in np.flatnonzero(np.isin(line_sku, short))}
            limit = self.scenario.policies.batch_time_limit_s
            for root in sorted(hot):
                members = [b for b in range(B) if find(b) == root]
                lines = np.concatenate([np.arange(ptr[b], ptr[b + 1]) for b in members])
                sub_ptr = np.concatenate([[0], np.cumsum(sizes[members])])
                res = solve_assignment(sub_ptr, line_sku[lines], demand[lines], stock, pkg[members], unit[lines],
                                       lost[lines], max_packages=self.max_packages, scale=_BATCH_SCALE,
                                       split_penalty=self.split_penalty,
                                       time_limit_s=limit, num_workers=1, seed=int(self.scenario.seed))
                statuses.append(res.status)
                wall += res.wall_time_s
                if res.status in ("OPTIMAL", "FEASIBLE"):
                    planned[lines] = res.assign
                    gap = max(gap, res.gap)
                else:
                    # No plan: these orders go one at a time (the residual step below).
                    planned[lines] = 0
        worst = [st_ for st_ in statuses if st_ not in ("OPTIMAL", "FEASIBLE")]
        status = ("INDEPENDENT" if not statuses else worst[0] if worst
                  else "FEASIBLE" if "FEASIBLE" in statuses else "OPTIMAL")
        self.batch_results.append({"time_h": float(t_h), "orders": len(orders), "status": status, "gap": gap,
                                   "wall_time_s": wall, "groups_solved": len(statuses)})
        # Units of each SKU (row of uniq) the orders not yet committed plan to take, per node.
        later = np.zeros((uniq.size, self.n_nodes), dtype=np.int64)
        np.add.at(later, line_sku, planned)
        out = []
        for b, o in enumerate(orders):
            rows = slice(ptr[b], ptr[b + 1])
            mine = planned[rows]
            np.subtract.at(later, line_sku[rows], mine)
            prep = self._prepare(o, t_h)            # the state moved with the orders committed before
            prep.avail_all = prep.avail
            prep.avail = np.ascontiguousarray(np.maximum(prep.avail - later[line_sku[rows]], 0))
            x = mine if np.all(mine <= prep.avail) else self._cheapest(prep)
            cands = [("cheapest for this order alone, with the stock the rest of the window needs",
                      self._cheapest(prep))]
            if explain:
                cands += self._candidates(prep, x, "batch")
            d = self._decision(prep, x, "batch", cands, None)
            self.commit(d, t_h)
            out.append(d)
        return out
