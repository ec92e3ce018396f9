"""Sourcing inputs: validate an order, rate-shop a carrier service per node and lay out its
stock and cost arrays against the current state (:class:`_Prep`)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from omsim.errors import OmsimError
from omsim.fulfilment.promise import next_cutoff_h
from omsim.orders import Order
from omsim.scenario import SERVICE_LEVELS
from .constants import _DELAY_RANK, _LEVEL_RANK, _MAX_PICKUP_DAYS


@dataclass
class _Prep:
    """Everything decide() derives from an order and the state before sourcing."""

    order: Order
    t_h: float
    weight: np.ndarray        # (L,) kg per unit
    avail: np.ndarray         # (L, N) int64, zero where the node cannot ship
    svc: np.ndarray           # (N,) service index per node (-1: none)
    ship_by: np.ndarray       # (N,) planned pickup
    pkg_fixed: np.ndarray     # (N,) per_package + zone surcharge
    pkg_dist: np.ndarray      # (N,) per_km x km
    pkg_handling: np.ndarray  # (N,) handling per order
    unit_kg: np.ndarray       # (L, N) per_kg x weight
    unit_rate: np.ndarray     # (N,) per_unit
    unit_handling: np.ndarray  # (L, N) handling per line / units of the line
    package_cost: np.ndarray  # (N,) for the kernel, split penalty included
    unit_cost: np.ndarray     # (L, N)
    lost_cost: np.ndarray     # (L,)
    avail_all: np.ndarray | None = None   # batch: avail before the window's other orders took their plan
    closed: np.ndarray | None = None      # (N,) bool: the node cannot ship this order now (no service, capacity)


class Sourcing:
    """Part of :class:`~omsim.engine.DecisionEngine`: an order's arrays before a policy chooses."""

    def _check_order(self, order: Order) -> tuple[np.ndarray, np.ndarray, list, list]:
        """The order's SKUs and quantities as int64 arrays and lists, or OmsimError naming the problem."""
        if not isinstance(order, Order):
            raise OmsimError(f"decide: expected an omsim.orders.Order, got {type(order).__name__}")
        oid = order.order_id
        if order.level not in _LEVEL_RANK:
            raise OmsimError(f"order {oid}: unknown service level {order.level!r}; expected one of {', '.join(SERVICE_LEVELS)}")
        r = order.region
        if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or not 0 <= r < self.n_regions:
            raise OmsimError(f"order {oid}: region {r!r} is not a region index (0..{self.n_regions - 1})")
        skus = np.asarray(order.skus)
        qty = np.asarray(order.qty)
        if skus.ndim != 1 or qty.shape != skus.shape or skus.size == 0:
            raise OmsimError(f"order {oid}: skus and qty must be equal-length 1-d arrays with at least one line")
        if skus.dtype.kind not in "iu" or qty.dtype.kind not in "iu":
            raise OmsimError(f"order {oid}: skus and qty must be integer arrays")
        sl, ql = skus.tolist(), qty.tolist()          # plain Python is quicker on a few lines
        if min(sl) < 0 or max(sl) >= self.n_skus:
            raise OmsimError(f"order {oid}: SKU index out of range (0..{self.n_skus - 1})")
        if min(ql) < 1:
            raise OmsimError(f"order {oid}: every line needs a quantity >= 1, got {ql}")
        if len(sl) > 1 and len(set(sl)) != len(sl):
            raise OmsimError(f"order {oid}: a SKU appears on two lines; merge them")
        if not math.isfinite(order.created_h):
            raise OmsimError(f"order {oid}: created_h must be finite")
        if skus.dtype != np.int64 or not skus.flags.c_contiguous:
            skus = np.ascontiguousarray(skus, dtype=np.int64)
        if qty.dtype != np.int64 or not qty.flags.c_contiguous:
            qty = np.ascontiguousarray(qty, dtype=np.int64)
        return skus, qty, sl, ql

    def _shop_table(self, r: int, v: int):
        """Per (region, level): eligible services and their weight-free rate parts per node (cached)."""
        key = (r, v)
        got = self._shop_cache.get(key)
        if got is None:
            st = self.services
            ks = st.eligible[v]
            got = (ks, st.fixed[:, r, ks] + st.dist[:, r, ks], st.per_kg[ks], st.per_unit[ks], st.pickup_h[:, ks],
                   st.transit_h[:, r, ks])
            self._shop_cache[key] = got
        return got

    def _prepare(self, order: Order, t_h: float) -> _Prep:
        """Stock, services and cost arrays of one order against the current state (no state change)."""
        skus, qty, sl, ql = self._check_order(order)
        t_h = float(t_h)
        if not math.isfinite(t_h):
            raise OmsimError(f"order {order.order_id}: decision time must be finite, got {t_h}")
        N = self.n_nodes
        inv = self.inventory
        a = inv.on_hand.take(skus, axis=1)
        a -= inv.reserved.take(skus, axis=1)
        a -= inv.safety.take(skus, axis=1)
        avail = a.T.copy()                                             # (L, N), C-contiguous for the kernel
        np.maximum(avail, 0, out=avail)
        day = int(t_h // 24)

        # Rate-shop one service per node for this order (its whole weight).
        st = self.services
        r = int(order.region)
        ks, base, per_kg, per_unit, pickup, transit = self._shop_table(r, _LEVEL_RANK[order.level])
        w = self.sku_weight_kg.take(skus)
        W = sum([a * b for a, b in zip(w.tolist(), ql)])
        U = float(sum(ql))
        cost = base + per_kg * W                                       # (N, Ke)
        if self._any_per_unit:
            cost += per_unit * U
        ready = self._ready_h(t_h, U)                                  # (N,)
        rows = self._rows
        if self._shop_fast and not self._full and self.carrier_selection != "fastest" and st.every_day:
            # The common case: the pickup does not rank the services (no full service-day, cheapest
            # selection), so rate-shop first and work out the pickup of the chosen service only
            # (the same arithmetic as the general branch below, on one column).
            best = cost.argmin(axis=1)
            svc = ks[best]
            first = (ready // 24.0) * 24.0 + pickup[rows, best]
            sb = np.where(first < ready - 1e-9, first + 24.0, first)
            has_service = np.isfinite(cost[rows, best])
            return self._prepare_rest(order, t_h, skus, qty, sl, avail, day, r, w, svc, sb, has_service)
        if st.every_day:
            first = (ready // 24.0)[:, None] * 24.0 + pickup
            ship_by = np.where(first < ready[:, None] - 1e-9, first + 24.0, first)
        else:
            ship_by = np.array([[next_cutoff_h(ready[n], pickup[n, j], st.pickup_days[k], self.start_weekday)
                                 for j, k in enumerate(ks)] for n in range(N)])
        delayed = None
        if self._full:
            # Full service-days push the pickup to the next day with room (or rule the service out);
            # a service that can take the package at its first pickup is preferred to any that cannot.
            first_sb = ship_by.copy()
            for n in range(N):
                for j, k in enumerate(ks):
                    sb = ship_by[n, j]
                    tries = 0
                    while (int(sb // 24), int(k)) in self._full:
                        tries += 1
                        if tries > _MAX_PICKUP_DAYS:
                            sb = math.inf
                            break
                        sb = next_cutoff_h(sb + 1.0, pickup[n, j], st.pickup_days[k], self.start_weekday)
                    ship_by[n, j] = sb
            cost = np.where(np.isfinite(ship_by), cost, np.inf)
            delayed = ship_by > first_sb
        if self.carrier_selection == "fastest":
            key = np.where(np.isfinite(cost), ship_by + transit, np.inf)
        else:
            key = cost
        if delayed is not None and delayed.any():
            key = np.where(delayed, key + _DELAY_RANK, key)
        # Ties go to the first listed service.
        best = key.argmin(axis=1)
        svc = ks[best]
        sb = ship_by[rows, best]
        has_service = np.isfinite(key[rows, best])
        return self._prepare_rest(order, t_h, skus, qty, sl, avail, day, r, w, svc, sb, has_service)

    def _prepare_rest(self, order, t_h, skus, qty, sl, avail, day, r, w, svc, sb, has_service) -> _Prep:
        """_prepare after rate shopping: close the nodes that cannot ship, build the cost arrays."""
        # Nodes that cannot ship (no service, no capacity left today) see no stock.
        closed = ~has_service
        if self._node_capped:
            orders_left, units_left = self._node_room(day)
            closed |= (orders_left <= 0) | (units_left <= 0)
        any_closed = bool(closed.any())
        if any_closed:
            avail[:, closed] = 0
            svc = np.where(has_service, svc, -1)
        if self._unit_capped:
            tight = units_left < np.minimum(avail, qty[:, None]).sum(axis=0)
            for n in np.flatnonzero(tight):
                # Keep the first lines' units until the node's unit capacity is used (a feasible restriction).
                room = int(units_left[n])
                for l in range(len(skus)):
                    take = min(int(avail[l, n]), int(qty[l]), room)
                    avail[l, n] = take
                    room -= take
        return self._cost_arrays(order, t_h, qty, sl, avail, r, w, svc, sb, closed, any_closed)

    def _cost_arrays(self, order, t_h, qty, sl, avail, r, w, svc, sb, closed, any_closed) -> _Prep:
        """The _Prep of an order whose nodes are rate-shopped (svc, sb) and closed: its package and unit costs."""
        st = self.services
        rows = self._rows
        kk = np.maximum(svc, 0)
        pkg_fixed = st.fixed[rows, r, kk]
        pkg_dist = st.dist[rows, r, kk]
        if any_closed:
            # Never used (no stock offered there); kept finite for the kernel.
            pkg_fixed = np.where(closed, 0.0, pkg_fixed)
            pkg_dist = np.where(closed, 0.0, pkg_dist)
        unit_kg = w[:, None] * st.per_kg[kk]
        unit_rate = st.per_unit[kk]
        unit_handling = (1.0 / qty)[:, None] * self.handling_line
        package_cost = pkg_fixed + pkg_dist + self._pkg_extra
        unit_cost = unit_kg + unit_handling
        if self._any_per_unit:
            unit_cost += unit_rate
        lost_cost = self._lost_cost(len(sl))
        return _Prep(order, t_h, w, avail, svc, sb, pkg_fixed, pkg_dist, self.handling_order,
                     unit_kg, unit_rate, unit_handling, package_cost, unit_cost, lost_cost, None, closed)

    def _prep_from_basis(self, order: Order, t_h: float, basis: dict) -> _Prep:
        """The _Prep a decision was made with, as far as its alternatives need it, from its ``basis`` (what
        :meth:`_prepare` found in the state then: the service and whether it can ship per node, available per
        line and node; the rest is static). Ship-by times are not kept (no alternative's cost depends on them):
        NaN here."""
        skus, qty, sl, _ql = self._check_order(order)
        w = self.sku_weight_kg.take(skus)
        closed = np.asarray(basis["closed"], dtype=bool)
        return self._cost_arrays(order, float(t_h), qty, sl, np.asarray(basis["avail"], dtype=np.int64),
                                 int(order.region), w, np.asarray(basis["svc"], dtype=np.int64),
                                 np.full(self.n_nodes, np.nan), closed, bool(closed.any()))
