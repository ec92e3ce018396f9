"""The compiled ``_decide`` kernel against a slow, obvious reference written from the documented rules.

The reference (:func:`reference_decide`) reads only the scenario's fields and the engine's public
state views, and decides one order the long way round:

- ready time: the node's backlog and then the order's units at its labour rate, worked inside its
  shifts, walked interval by interval over the calendar (``fulfilment.promise``'s rule);
- rate shopping per node: every service meeting the order's level (else those of the fastest level
  there is), priced for the whole order; its first pickup at or after the ready time (a parcel ready
  within 1e-9 h of the cut-off makes it); a full service-day pushes the pickup a day on, at most
  ``MAX_PICKUP_DAYS`` times, then the service is closed; services on time rank before delayed ones,
  then by price, then the first listed;
- nodes without a service or without order/unit capacity today ship nothing; the unit capacity keeps
  the first lines' units;
- sourcing: the cost of a plan is, per package, the per-package rate, zone surcharge, per-kg rate x
  its weight, per-unit rate x its units, the node's handling per order and per line (units of the
  line shipped / units ordered), the split penalty per package beyond the first and the lost-sale
  penalty per unit not shipped, at most ``max_packages`` packages. The optimum is found by trying
  **every** integer plan; which optimal plan is returned follows :mod:`omsim._kernels._alloc`'s
  documented tie-break (nothing shipped first, then single nodes, then node sets in lexicographic
  order, a set replacing the incumbent only when strictly cheaper; within a line the cheapest unit
  first, equal costs the lowest node index first, never a unit costing as much as losing it).

Money, weights and quantities are dyadic (quarters, halves, 1/2/4 units), so that every cost is exact
in floating point and ties are real ties: the tie-break is tested, not only the optimum. Costs are
summed as exact fractions in the reference.
"""
import itertools
import math
from fractions import Fraction as F

import numpy as np
from hypothesis import HealthCheck, event, given, note, settings, strategies as st

from omsim._kernels import _decide
from omsim.engine.network import labour_units_per_h
from omsim.geo import distance_matrix_km
from omsim.orders import Order
from omsim.scenario import scenario_from_dict
from engine_helpers import LEVELS, engine_with, small_scenario_dict

_EPS = 1e-9


def _ready_h(t, need_h, shifts, wd0):
    """When ``need_h`` working hours from ``t`` are done: the shift intervals of every day from the day
    before (a night shift may still run) on, merged where they touch, walked one by one."""
    if need_h <= 0.0:
        return t
    first, days = math.floor(t / 24.0) - 1, 64
    while True:
        merged = []
        for a, b in sorted((d * 24.0 + s.start, d * 24.0 + s.end) for d in range(first, first + days)
                           for s in shifts if (wd0 + d) % 7 in s.weekdays):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        left = need_h
        for a, b in merged:
            if b <= t:
                continue
            at = max(a, t)
            if left <= b - at:
                return at + left
            left -= b - at
        days *= 4


def _zone_fee(svc, km):
    fee = 0.0
    for z in svc.zones:
        fee = z.surcharge
        if km <= z.max_km:
            break
    return fee


def _transit_h(svc, km):
    return 24.0 * min(svc.transit.base_days + math.ceil(km / svc.transit.km_per_day), svc.transit.max_days)


def reference_decide(sc, engine, order, t, units_cap=None):
    """What the kernel should decide for ``order`` at ``t`` against the engine's state (see the module
    notes): ``status``, ``total`` (exact) and ``packages`` (node, "carrier/service", lines, ship_by_h,
    promised_h) in node order; nothing shipped: the scenario's no-stock status."""
    whs, skus_sc = sc.network.warehouses, sc.catalogue.skus
    N = len(whs)
    svcs = [(c.id, s) for c in sc.carriers for s in c.services]
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    km = distance_matrix_km([(w.lat, w.lon) for w in whs], [(r.lat, r.lon) for r in sc.demand.regions])[:, order.region]
    wd0 = sc.horizon.start.weekday()
    skus, qty = order.skus.tolist(), order.qty.tolist()
    L = len(skus)
    kg = [F(skus_sc[s].weight_kg) for s in skus]
    W, U = sum(k * q for k, q in zip(kg, qty)), sum(qty)
    ok = [j for j, (_, s) in enumerate(svcs) if rank[s.level] >= rank[order.level]]
    if not ok:
        top = max(rank[s.level] for _, s in svcs)
        ok = [j for j, (_, s) in enumerate(svcs) if rank[s.level] == top]
    full = engine.full_service_days()
    day = math.floor(t / 24.0)
    taken_o, taken_u = engine.capacity_taken().get(day, (np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)))
    inv = engine.inventory
    avail = [[max(int(inv.on_hand[n, s] - inv.reserved[n, s] - inv.safety[n, s]), 0) for n in range(N)] for s in skus]
    chosen = []        # per node: (service index, ship_by) or None
    for n, wh in enumerate(whs):
        need = (float(engine.node_backlog_units[n]) + float(U)) / labour_units_per_h(wh, sc)
        ready = _ready_h(t, need, wh.shifts, wd0)
        best = None
        for j in ok:
            _, s = svcs[j]
            hour = (s.pickup_hour if s.pickup_hour is not None else wh.pickup_hour) % 24.0
            sb = (ready // 24.0) * 24.0 + hour
            if sb < ready - _EPS:
                sb += 24.0
            delayed, tries = False, 0
            while (int(sb // 24.0), j) in full:
                delayed, tries = True, tries + 1
                sb += 24.0
                if tries > _decide.MAX_PICKUP_DAYS:
                    sb = math.inf
                    break
            if math.isinf(sb):
                continue
            price = F(s.per_package) + F(_zone_fee(s, km[n])) + F(s.per_kg) * W + F(s.per_unit) * U
            key = (delayed, price, j)
            if best is None or key < best[0]:
                best = (key, j, sb)
        orders_cap = whs[n].capacity_orders_per_day
        o_left = math.inf if orders_cap is None else orders_cap - int(taken_o[n])
        u_left = math.inf if units_cap is None else units_cap[n] - int(taken_u[n])
        if best is None or o_left <= 0 or u_left <= 0:
            chosen.append(None)
            for line in avail:
                line[n] = 0
            continue
        chosen.append(best[1:])
        if u_left < sum(min(avail[l][n], qty[l]) for l in range(L)):
            room = u_left
            for l in range(L):
                avail[l][n] = min(avail[l][n], qty[l], room)
                room -= avail[l][n]
    pol = sc.policies
    lost = F(pol.lost_sale_penalty)

    def unit(l, n):
        _, s = svcs[chosen[n][0]]
        return kg[l] * F(s.per_kg) + F(whs[n].handling_cost_per_line) / qty[l] + F(s.per_unit)

    def cost(x):
        used = [n for n in range(N) if any(x[l][n] for l in range(L))]
        c = F(pol.split_penalty) * max(len(used) - 1, 0) + lost * sum(qty[l] - sum(x[l]) for l in range(L))
        for n in used:
            _, s = svcs[chosen[n][0]]
            c += F(s.per_package) + F(_zone_fee(s, km[n])) + F(whs[n].handling_cost_per_order)
            c += sum(x[l][n] * unit(l, n) for l in range(L))
        return c

    def fill(nodes):
        """Each line from the nodes in increasing unit cost (ties: lower index) while cheaper than losing it."""
        x = [[0] * N for _ in range(L)]
        for l in range(L):
            left = qty[l]
            for n in sorted(nodes, key=lambda n: (unit(l, n), n)):
                if unit(l, n) < lost:
                    x[l][n] = min(avail[l][n], left)
                    left -= x[l][n]
        return x

    # the optimum over every integer plan of at most max_packages packages
    per_line = [[v for v in itertools.product(*[range(min(avail[l][n], qty[l]) + 1) for n in range(N)])
                 if sum(v) <= qty[l]] for l in range(L)]
    optimum = min(cost([list(v) for v in plan]) for plan in itertools.product(*per_line)
                  if sum(1 for n in range(N) if any(v[n] for v in plan)) <= pol.max_packages)
    # the documented tie-break among optimal plans
    stocked = [n for n in range(N) if any(avail[l][n] for l in range(L))]
    sets = [(n,) for n in stocked] + sorted(c for k in range(1, pol.max_packages + 1)
                                            for c in itertools.combinations(stocked, k))
    best_x, best_c = fill(()), cost(fill(()))
    for S in sets:
        x = fill(S)
        if all(any(x[l][n] for l in range(L)) for n in S) and cost(x) < best_c:
            best_x, best_c = x, cost(x)
    assert best_c == optimum, "the documented tie-break order must reach the optimum"
    packages = []
    for n in range(N):
        lines = [(skus[l], best_x[l][n]) for l in range(L) if best_x[l][n]]
        if lines:
            j, sb = chosen[n]
            arrive = sb + _transit_h(svcs[j][1], km[n])
            due = max(math.ceil(arrive / 24.0 - _EPS / 24.0) * 24.0, arrive)
            packages.append({"node": n, "service": svcs[j][0] + "/" + svcs[j][1].id, "lines": lines,
                             "ship_by_h": sb, "promised_h": due})
    short = sum(qty[l] - sum(best_x[l]) for l in range(L))
    status = (pol.no_stock if not packages else "partial" if short else "allocated")
    return {"status": status, "total": best_c, "packages": packages}


def _decided(d):
    """The kernel's Decision in the reference's terms."""
    return {"status": d.status, "total": d.total,
            "packages": [{"node": s.node, "service": f"{s.carrier}/{s.service}",
                          "lines": list(zip(s.skus.tolist(), s.qty.tolist())), "ship_by_h": s.ship_by_h,
                          "promised_h": s.promised_h} for s in d.shipments]}


quarters = st.integers(0, 40).map(lambda v: v / 4)     # 0 to 10 in steps of 0.25


@st.composite
def dyadic_worlds(draw):
    """A small network (1-3 nodes) with dyadic prices, a few orders already committed, and one more order."""
    N, R, S = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 4))
    max_packages = draw(st.integers(1, 3))
    services = []
    for k in range(draw(st.integers(1, 3))):
        svc = {"id": f"s{k}", "level": draw(st.sampled_from(LEVELS)), "per_package": draw(quarters),
               "per_kg": draw(quarters) / 4, "per_unit": draw(st.sampled_from([0.0, 0.5])),
               "transit": {"base_days": draw(st.integers(0, 2)), "km_per_day": 1000, "max_days": 5},
               "pickup_hour": draw(st.sampled_from([None, 0.0, 12.0, 17.0, 23.5]))}
        if draw(st.booleans()):
            svc["zones"] = [{"max_km": 1500.0, "surcharge": draw(quarters)}]
        if draw(st.booleans()):
            svc["daily_capacity"] = draw(st.integers(max_packages, max_packages + 2))
        services.append(svc)
    policies = {"max_packages": max_packages, "split_penalty": draw(st.sampled_from([0.0, 0.0, 0.75, 3.0])),
                "lost_sale_penalty": draw(st.sampled_from([250.0, 60.0, 250.0, 5.5])), "allocation": "cheapest",
                "no_stock": draw(st.sampled_from(["backorder", "hold", "cancel"]))}
    nodes = {}
    for n in range(N):
        node = {"handling_cost_per_order": draw(quarters), "handling_cost_per_line": draw(quarters),
                "pickup_hour": draw(st.sampled_from([10.0, 18.0])),
                "capacity_orders_per_day": draw(st.one_of(st.none(), st.integers(1, 4)))}
        if draw(st.booleans()):     # a few units an hour: backlogs push pickups to later days
            start = draw(st.sampled_from([0.0, 6.0, 22.0]))
            node.update(pickers=1, packers=1, pack_time_per_unit_s=3600.0 * draw(st.sampled_from([0.5, 2.0])),
                        shifts=[{"start": start, "end": start + draw(st.sampled_from([8.0, 16.5, 24.0])),
                                 "weekdays": draw(st.lists(st.integers(0, 6), min_size=1, max_size=4, unique=True))}])
        nodes[n] = node
    d = small_scenario_dict(N, R, S, services=services, policies=policies, nodes=nodes)
    for sku in d["catalogue"]["skus"]:
        sku["weight_kg"] = draw(st.sampled_from([0.25, 0.5, 1.5, 4.0]))
    sc = scenario_from_dict(d)
    on_hand = np.array(draw(st.lists(st.sampled_from([3, 1, 6, 2, 0]), min_size=N * S, max_size=N * S))).reshape(N, S)
    safety = np.array(draw(st.lists(st.sampled_from([0, 0, 1]), min_size=N * S, max_size=N * S))).reshape(N, S)
    units_cap = draw(st.one_of(st.none(), st.none(), st.lists(st.integers(0, 8), min_size=N, max_size=N)))
    orders, t = [], draw(st.floats(0, 48).map(lambda v: round(v, 2)))
    for i in range(draw(st.integers(0, 5)) + 1):
        t += draw(st.sampled_from([0.0, 0.0, 0.5, 3.0, 7.0, 30.0]))
        L = draw(st.integers(1, min(S, 3)))
        skus = draw(st.lists(st.integers(0, S - 1), min_size=L, max_size=L, unique=True))
        qty = draw(st.lists(st.sampled_from([4, 2, 1]), min_size=L, max_size=L))
        orders.append(Order(100 + i, t, draw(st.integers(0, R - 1)), draw(st.sampled_from(LEVELS)),
                            np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64)))
    # service-days the carriers have closed besides those the orders fill (runs of them close a service)
    K = len(services)
    day = int(t // 24)
    closed = draw(st.sets(st.tuples(st.integers(day, day + 10), st.integers(0, K - 1)), max_size=12))
    if draw(st.booleans()):
        k, first, run = draw(st.integers(0, K - 1)), draw(st.integers(day, day + 2)), draw(st.integers(5, 10))
        closed |= {(d, k) for d in range(first, first + run)}
    return sc, on_hand, safety, units_cap, orders, closed


@given(world=dyadic_worlds())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_kernel_decides_as_the_slow_reference(world):
    sc, on_hand, safety, units_cap, orders, closed = world
    engine = engine_with(sc, on_hand, safety, capacity_units_per_day=units_cap)
    assert engine._kernel_covers("cheapest")
    *history, order = orders
    engine.decide_commit_many(history, [o.created_h for o in history])
    engine._full |= closed          # as if the carriers had no room left on those days
    engine._full_ver += 1
    t = order.created_h
    want = reference_decide(sc, engine, order, t, units_cap)
    got = engine._decide_compiled(order, t, "cheapest")
    note(f"reference: {want}")
    event("kernel" if got is not None else f"handed to the Python path, why {int(engine._kctl_dry[_decide.CTL_WHY])}")
    event(f"{len(want['packages'])} package(s), {want['status']}")
    if got is None:
        # the kernel handed the order to the Python path (the split-penalty re-solve, ...): its optimum
        got = engine.decide(order, t, "cheapest")
        assert got.total == float(want["total"])
        return
    got = _decided(got)
    note(f"kernel: {got}")
    assert got["status"] == want["status"]
    assert got["total"] == float(want["total"])
    assert [(p["node"], p["service"], p["lines"]) for p in got["packages"]] == \
        [(p["node"], p["service"], p["lines"]) for p in want["packages"]]
    for g, w in zip(got["packages"], want["packages"]):
        assert abs(g["ship_by_h"] - w["ship_by_h"]) < 1e-6 and abs(g["promised_h"] - w["promised_h"]) < 1e-6
