"""Decisions: ``decide`` one order, build its :class:`~omsim.orders.Decision` (shipments,
promise, cost breakdown) and the alternatives that explain it."""
from __future__ import annotations


import numpy as np

from omsim.errors import OmsimError
from omsim.fulfilment.promise import promise
from omsim.orders import COST_KEYS, Decision, Order, Shipment
from .constants import _NO_STOCK_STATUS
from .reasons import UNFILLED_REASONS, unfilled_reasons
from .sourcing import _Prep


class Decisions:
    """Part of :class:`~omsim.engine.DecisionEngine`: decide and explain."""

    def decide(self, order: Order, t_h: float, policy: str | None = None, *, explain: bool = False,
               basis: bool = False) -> Decision:
        """Source an order against the current state, without changing it.

        Parameters
        ----------
        order
            The order (nodes, SKUs and regions by index).
        t_h
            Decision time, hours since the scenario start.
        policy
            ``nearest``, ``cheapest``, ``lookahead`` or ``batch`` (a batch of
            one: ``cheapest``); default ``scenario.policies.allocation``.
        explain
            List the alternatives considered (nearest, cheapest, each node
            alone, nothing) in ``Decision.alternatives``; a little slower. The
            decision itself is the same either way.
        basis
            Keep in ``Decision.basis`` what the decision was weighed against
            (per node: the service rate-shopped and whether the node could
            ship; per line and node: the units available to promise;
            under ``lookahead``, the shadow prices), so that
            :meth:`alternatives` lists the same alternatives as ``explain``
            later, whatever the state is by then. Almost free: the compiled
            kernel writes it as it decides.

        Returns
        -------
        Decision
            Shipments with their services, ship-by and promise, the cost
            breakdown and (with ``explain``) the alternatives considered. When nothing can ship
            the status is ``policies.no_stock`` (``backorder``, ``hold`` or
            ``cancel``).

        Raises
        ------
        OmsimError
            A malformed order (unknown level, region or SKU, bad quantities).
        """
        policy = self.policy if policy is None else policy
        if self._dry_kernel and not explain and policy in ("cheapest", "batch") and self._kernel_covers(policy):
            d = self._decide_compiled(order, t_h, policy, basis)
            if d is not None:
                return d
        prep = self._prepare(order, t_h)
        cands: list[tuple[str, np.ndarray]] = []
        score_extra = None
        if policy in ("cheapest", "batch"):
            x = self._cheapest(prep)
        elif policy == "nearest":
            x = self._nearest(prep)
        elif policy == "lookahead":
            pi = self._shadow_prices(prep.t_h)[order.skus, :]
            x = self._cheapest(prep, prep.unit_cost + pi)
            score_extra = pi
        else:
            raise OmsimError(f"unknown allocation policy {policy!r}; expected nearest, cheapest, lookahead or batch")
        if explain:
            cands = self._candidates(prep, x, policy)
        d = self._decision(prep, x, policy, cands, score_extra)
        if basis:
            d.basis = {"t_h": prep.t_h, "svc": prep.svc, "closed": prep.closed, "avail": prep.avail,
                       "shadow": score_extra}
        return d

    def alternatives(self, order: Order, decision: Decision) -> list[dict]:
        """The alternatives ``decide(order, t, explain=True)`` lists beside ``decision`` (``Decision.alternatives``),
        worked out from the basis the decision kept (``decide(..., basis=True)``), whatever the state is now.

        Raises
        ------
        OmsimError
            The decision kept no basis, or it does not fit the order.
        """
        b = decision.basis
        if b is None:
            raise OmsimError(f"order {order.order_id}: its decision kept no basis (decide with basis=True)")
        prep = self._prep_from_basis(order, b["t_h"], b)
        x = np.zeros_like(prep.avail)
        line = {j: l for l, j in enumerate(prep.order.skus.tolist())}
        try:
            for s in decision.shipments:
                for j, q in zip(s.skus.tolist(), s.qty.tolist()):
                    x[line[j], s.node] += q
        except KeyError:
            raise OmsimError(f"order {order.order_id}: its decision ships a SKU the order does not have") from None
        shadow = b.get("shadow")
        shadow = None if shadow is None else np.asarray(shadow, dtype=np.float64)
        cands = self._candidates(prep, x, decision.policy)
        X, used, totals, score = self._weigh(prep, x, cands, shadow)
        return self._alternatives(X, used, totals, score, 0, ["chosen"] + [c[0] for c in cands], shadow,
                                  prep)

    def decide_commit_many(self, orders, t_h, policy: str | None = None, *, stop=None,
                           explain: bool = False) -> list[Decision]:
        """Decide and commit orders in turn, each against the state the ones before it left.

        Exactly ``decide(o, t)`` then ``commit(d, t)`` for each order in
        sequence (same decisions, same state afterwards), without the
        per-call overhead: the simulator hands its dispatcher's run of
        arrivals over in one call. Unlike :meth:`decide_batch` (policy
        ``batch``: a joint CP-SAT window), orders never see each other's
        future: ``batch`` here means ``cheapest`` per order, as in ``decide``.

        Parameters
        ----------
        orders
            Sequence of :class:`~omsim.orders.Order`, in decision order.
        t_h
            Decision time: one float for all, or one per order (non-decreasing).
        policy
            As in :meth:`decide`.
        stop
            Optional ``callable(decision) -> bool``: stop after the first
            decision for which it is true (that one is committed and returned),
            so that the caller can act on it before the next order is decided.
        explain
            As in :meth:`decide`.

        Returns
        -------
        list of Decision
            The committed decisions, one per order decided.

        Raises
        ------
        OmsimError
            A malformed order, or a time/order count mismatch; the orders
            before it stay committed (as with a loop of decide and commit).
        """
        orders = orders if isinstance(orders, list) else list(orders)
        if isinstance(t_h, (int, float, np.integer, np.floating)):
            times = [float(t_h)] * len(orders)
        else:
            times = np.asarray(t_h, dtype=np.float64).reshape(-1).tolist()
            if len(times) != len(orders):
                raise OmsimError(f"decide_commit_many: {len(orders)} orders but {len(times)} decision times")
        policy = self.policy if policy is None else policy
        if orders and not explain and self._kernel_covers(policy):
            return self._decide_commit_many_compiled(orders, times, policy, stop)
        fast = policy in ("cheapest", "batch") and not explain
        out: list[Decision] = []
        for o, t in zip(orders, times):
            if fast:
                prep = self._prepare(o, t)
                d = self._decision(prep, self._cheapest(prep), policy, [], None)
            else:
                d = self.decide(o, t, policy, explain=explain)
            self.commit(d, t)
            out.append(d)
            if stop is not None and stop(d):
                break
        return out

    def _candidates(self, prep: _Prep, chosen: np.ndarray, policy: str) -> list[tuple[str, np.ndarray]]:
        """Other allocations a planner would ask about: nearest, cheapest, each node alone, nothing."""
        names = self.node_ids
        qty = prep.order.qty
        km = self.node_region_km[:, prep.order.region]
        out = []
        if policy != "nearest":
            out.append(("nearest: each line from the closest node that has it", self._nearest(prep)))
        if policy not in ("cheapest", "batch"):
            out.append(("cheapest now (ignores future demand)" if policy == "lookahead"
                        else "cheapest: minimum total cost of this order", self._cheapest(prep)))
        fill = np.minimum(qty[:, None], prep.avail)
        units = fill.sum(axis=0).tolist()
        total = sum(prep.order.qty.tolist())
        for n, u in enumerate(units):
            if u:
                x = np.zeros_like(chosen)
                x[:, n] = fill[:, n]
                out.append((f"one package from {names[n]} ({km[n]:.0f} km, {u} of {total} units)", x))
        out.append(("ship nothing now (every unit pays the lost-sale/backorder penalty)", np.zeros_like(chosen)))
        return out

    def _decision(self, prep: _Prep, x: np.ndarray, policy: str, cands, shadow) -> Decision:
        """Turn an assignment into a Decision: shipments, promise, cost breakdown, alternatives."""
        order = prep.order
        why = ["chosen"] + [c[0] for c in cands]
        chosen = 0
        if cands:
            X, used, totals, score = self._weigh(prep, x, cands, shadow)
        if policy != "nearest" and cands:
            best = int(np.argmin(score))
            if score[best] < score[0] - 1e-9:
                # Only in batch, where the window's plan for this order can be bettered alone.
                chosen = best
        if chosen:
            x = X[chosen]
        shipments, parts = self._shipments(prep, x)
        unfilled = order.qty - x.sum(axis=1)
        short = int(sum(unfilled.tolist()))
        npk = len(shipments)
        reasons = [""] * len(unfilled)
        if short:
            inv = self.inventory
            sk = order.skus
            stocked = (inv.available_columns(sk) > 0).any(axis=0)
            codes = unfilled_reasons(order.qty, x, prep.avail, stocked, min(self.max_packages, self.n_nodes), policy,
                                     prep.avail_all)
            reasons = [UNFILLED_REASONS[c] for c in codes]
        cost = {
            "shipping_package": parts[0],
            "shipping_weight": parts[1],
            "shipping_distance": parts[2],
            "handling": parts[3],
            "split_penalty": self.split_penalty * max(npk - 1, 0),
            "lost_penalty": self.lost_sale_penalty * short,
        }
        total = 0.0
        for key in COST_KEYS:
            total += cost[key]
        if npk == 0:
            status = _NO_STOCK_STATUS[self.no_stock]
        elif short:
            status = "partial"
        else:
            status = "allocated"
        alternatives = self._alternatives(X, used, totals, score, chosen, why, shadow, prep) if cands else []
        promised = max((s.promised_h for s in shipments), default=None)
        return Decision(order.order_id, status, shipments, unfilled, promised, cost, total, policy, alternatives,
                        reasons)

    def _weigh(self, prep: _Prep, x: np.ndarray, cands, shadow):
        """The chosen assignment and the candidates stacked (A, L, N): nodes used, true cost and score of each."""
        X = np.stack([x] + [c[1] for c in cands])
        used = X.any(axis=1)
        totals = self._totals(prep, X, used)
        score = totals if shadow is None else totals + (X * shadow[None]).sum(axis=(1, 2))
        return X, used, totals, score

    def _alternatives(self, X, used, totals, score, chosen: int, why: list[str], shadow, prep: _Prep) -> list[dict]:
        """Decision.alternatives: every distinct assignment of X but the chosen one, cheapest first, with its
        breakdown (the chosen one's keys) and why it is there."""
        alternatives = []
        seen = {X[chosen].tobytes()}
        names = self.node_ids
        used_l = used.tolist()
        units = X.sum(axis=(1, 2)).tolist()
        parts_l = {k: v.tolist() for k, v in self._breakdown(prep, X, used).items()}
        score_l = score.tolist()
        for i in np.argsort(totals, kind="stable").tolist():
            if i == chosen:
                continue
            key = X[i].tobytes()
            if key in seen:
                continue
            seen.add(key)
            # Its breakdown as the chosen one's, and its total their sum in the same order (as the chosen's).
            alt_cost = {k: parts_l[k][i] for k in COST_KEYS}
            alt_total = 0.0
            for k in COST_KEYS:
                alt_total += alt_cost[k]
            alt = {"nodes": [names[n] for n, u in enumerate(used_l[i]) if u], "total": alt_total, "why": why[i],
                   "units": units[i], "cost": alt_cost}
            if shadow is not None:
                alt["score"] = score_l[i]
            alternatives.append(alt)
        return alternatives

    def _shipments(self, prep: _Prep, x: np.ndarray) -> tuple[list[Shipment], tuple[float, float, float, float]]:
        """One Shipment per shipping node, and the summed (package, weight, distance, handling) costs."""
        # Plain Python over a handful of lines and nodes: cheaper than numpy calls on tiny arrays.
        order = prep.order
        st = self.services
        r = order.region
        xl = x.tolist()
        skus = order.skus.tolist()
        qty = order.qty.tolist()
        w = prep.weight.tolist()
        out = []
        pk = wt = ds = hd = 0.0
        for n in range(self.n_nodes):
            lines = [l for l in range(len(xl)) if xl[l][n] > 0]
            if not lines:
                continue
            k = int(prep.svc[n])
            q = [xl[l][n] for l in lines]
            units = sum(q)
            kg = sum(w[l] * xl[l][n] for l in lines)
            c_pkg = float(prep.pkg_fixed[n]) + float(st.per_unit[k]) * units
            c_wt = float(st.per_kg[k]) * kg
            c_ds = float(prep.pkg_dist[n])
            c_hd = float(self.handling_order[n]) + float(self.handling_line[n]) * sum(xl[l][n] / qty[l] for l in lines)
            transit = float(st.transit_h[n, r, k])
            ship_by = float(prep.ship_by[n])
            # Packed by ship_by at the latest: the promise module adds transit and rounds to the end of the day.
            # promise() is a pure function of these; pickups and transits take few distinct values.
            pkey = (ship_by, transit, k, n)
            due = self._promise_memo.get(pkey)
            if due is None:
                due = promise(ship_by, transit, float(st.pickup_h[n, k]), pickup_days=st.pickup_days[k],
                              start_weekday=self.start_weekday).delivery_h
                if len(self._promise_memo) > 100_000:
                    self._promise_memo.clear()
                self._promise_memo[pkey] = due
            out.append(Shipment(n, np.array([skus[l] for l in lines], dtype=np.int64), np.array(q, dtype=np.int64),
                                st.carrier[k], st.service[k], st.level[k], float(self.node_region_km[n, r]), kg,
                                ship_by, due, transit,
                                {"package": c_pkg, "weight": c_wt, "distance": c_ds, "handling": c_hd}))
            pk += c_pkg
            wt += c_wt
            ds += c_ds
            hd += c_hd
        return out, (pk, wt, ds, hd)
