"""Shared fixtures of the engine tests: scenarios, strategies, reference models and state digests."""
import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import strategies as st

from omsim.engine import DECISION_STATUSES, DecisionArrays, DecisionEngine
from omsim.engine.reasons import UNFILLED_REASONS
from omsim.engine.store import _Store
from omsim.errors import OmsimError
from omsim.fulfilment.inventory import Inventory
from omsim.geo import distance_matrix_km
from omsim.orders import COST_KEYS, Decision, Order
from omsim.rng import Streams
from omsim.scenario import SERVICE_LEVELS, load_scenario, scenario_from_dict


LEVELS = list(SERVICE_LEVELS)


_DEFAULT = []


def _default_scenario():
    if not _DEFAULT:
        _DEFAULT.append(load_scenario())
    return _DEFAULT[0]


@pytest.fixture(scope="module")
def default_scenario():
    return _default_scenario()


def _engine(sc, **kw):
    return DecisionEngine.from_scenario(sc, Streams(sc.seed), **kw)


def small_scenario_dict(n_nodes=2, n_regions=2, n_skus=3, *, services=None, policies=None, nodes=None):
    """A tiny US scenario; callers override pieces."""
    lat_lon = [(40.7, -74.0), (34.0, -118.2), (41.9, -87.6), (29.8, -95.4)]
    d = {
        "seed": 3,
        "catalogue": {"skus": [{"id": f"S{i}", "weight_kg": 0.5 + i} for i in range(n_skus)]},
        "demand": {"orders_per_day": 100,
                   "regions": [{"id": f"R{j}", "lat": lat_lon[j][0], "lon": lat_lon[j][1]} for j in range(n_regions)]},
        "network": {"warehouses": [dict({"id": f"W{n}", "lat": lat_lon[-1 - n][0], "lon": lat_lon[-1 - n][1]},
                                        **((nodes or {}).get(n, {}))) for n in range(n_nodes)]},
    }
    if services is not None:
        d["carriers"] = [{"id": "c", "services": services}]
    if policies is not None:
        d["policies"] = policies
    return d


def engine_with_stock(sc, on_hand, **kw):
    inv = Inventory(np.asarray(on_hand, dtype=np.int64), node_ids=sc.node_ids, sku_ids=sc.sku_ids)
    return DecisionEngine(sc, inv, Streams(sc.seed), **kw)


def state(engine):
    """Everything decide() must not change."""
    inv = engine.inventory
    return (inv.on_hand.copy(), inv.reserved.copy(), inv.inbound.copy(), len(inv),
            engine.node_backlog_units.copy(),
            {d: o for d, (o, _) in engine.capacity_taken().items()},
            np.stack([engine.carriers.remaining_all(d) for d in range(12)]), set(engine.open_order_ids()))


def same_state(a, b):
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y)
        elif isinstance(x, dict):
            assert x.keys() == y.keys()
            for k in x:
                assert np.array_equal(x[k], y[k])
        else:
            assert x == y


@st.composite
def default_orders(draw, n_skus=500, n_regions=20):
    L = draw(st.integers(1, 5))
    skus = draw(st.lists(st.integers(0, n_skus - 1), min_size=L, max_size=L, unique=True))
    qty = draw(st.lists(st.integers(1, 4), min_size=L, max_size=L))
    return Order(draw(st.integers(0, 10**6)), 0.0, draw(st.integers(0, n_regions - 1)), draw(st.sampled_from(LEVELS)),
                 np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64))


money = st.floats(0, 20, allow_nan=False).map(lambda v: round(v, 2))


@st.composite
def small_worlds(draw):
    """A random small scenario, a random stock and a random order on it."""
    N = draw(st.integers(1, 3))
    R = draw(st.integers(1, 3))
    S = draw(st.integers(1, 4))
    services = []
    for k in range(draw(st.integers(1, 3))):
        zones = sorted(draw(st.lists(st.floats(100, 5000), max_size=2, unique=True)))
        services.append({
            "id": f"s{k}", "level": draw(st.sampled_from(LEVELS)), "per_package": draw(money),
            "per_kg": draw(money), "per_unit": draw(money), "per_km": draw(st.sampled_from([0.0, 0.001])),
            "zones": [{"max_km": z, "surcharge": draw(money)} for z in zones],
            "transit": {"base_days": draw(st.integers(0, 2)), "km_per_day": draw(st.sampled_from([500, 2000])),
                        "max_days": draw(st.integers(1, 6))},
            "pickup_hour": draw(st.one_of(st.none(), st.sampled_from([12.0, 17.0])))})
    policies = {"max_packages": draw(st.integers(1, 3)), "split_penalty": draw(money),
                "lost_sale_penalty": draw(st.floats(0, 60).map(lambda v: round(v, 2)))}
    nodes = {n: {"handling_cost_per_order": draw(money), "handling_cost_per_line": draw(money),
                 "pickup_hour": draw(st.sampled_from([10.0, 18.0]))} for n in range(N)}
    sc = scenario_from_dict(small_scenario_dict(N, R, S, services=services, policies=policies, nodes=nodes))
    on_hand = np.array(draw(st.lists(st.integers(0, 3), min_size=N * S, max_size=N * S))).reshape(N, S)
    L = draw(st.integers(1, min(S, 3)))
    skus = draw(st.lists(st.integers(0, S - 1), min_size=L, max_size=L, unique=True))
    qty = draw(st.lists(st.integers(1, 3), min_size=L, max_size=L))
    t = draw(st.floats(0, 100, allow_nan=False))
    order = Order(1, t, draw(st.integers(0, R - 1)), draw(st.sampled_from(LEVELS)),
                  np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64))
    return sc, on_hand, order, t


def service_quote(sc, svc, wh, km, kg, units):
    """Price of one package by one service, from the scenario fields."""
    fee = 0.0
    for z in svc.zones:
        fee = z.surcharge
        if km <= z.max_km:
            break
    return svc.per_package + fee + svc.per_km * km + svc.per_kg * kg + svc.per_unit * units


def reference_cost(sc, order, assign):
    """Cost of ``assign`` (L, N) as the engine documents it, written independently.

    Per node the service is the cheapest meeting the level for the whole
    order's weight (no capacity limits in these scenarios).
    """
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    whs = sc.network.warehouses
    reg = sc.demand.regions[order.region]
    weights = np.array([s.weight_kg for s in sc.catalogue.skus])[order.skus]
    kg_order = float(weights @ order.qty)
    services = [s for _, s in sc.services()]
    ok = [s for s in services if rank[s.level] >= rank[order.level]]
    if not ok:
        top = max(rank[s.level] for s in services)
        ok = [s for s in services if rank[s.level] == top]
    total = 0.0
    packages = 0
    for n, wh in enumerate(whs):
        col = assign[:, n]
        if col.sum() == 0:
            continue
        packages += 1
        km = float(distance_matrix_km([(wh.lat, wh.lon)], [(reg.lat, reg.lon)])[0, 0])
        svc = min(ok, key=lambda s: service_quote(sc, s, wh, km, kg_order, int(order.qty.sum())))
        total += service_quote(sc, svc, wh, km, float(weights @ col), int(col.sum()))
        total += wh.handling_cost_per_order + wh.handling_cost_per_line * float((col / order.qty).sum())
    total += sc.policies.split_penalty * max(packages - 1, 0)
    total += sc.policies.lost_sale_penalty * float((order.qty - assign.sum(axis=1)).sum())
    return total


def brute_force(sc, order, avail):
    """Minimum reference cost over every feasible sourcing."""
    L, N = avail.shape
    k = sc.policies.max_packages
    per_line = []
    for l in range(L):
        opts = [x for x in itertools.product(*[range(min(avail[l, n], order.qty[l]) + 1) for n in range(N)])
                if sum(x) <= order.qty[l]]
        per_line.append(opts)
    best = math.inf
    for combo in itertools.product(*per_line):
        a = np.array(combo, dtype=np.int64).reshape(L, N)
        if np.count_nonzero(a.sum(axis=0)) > k:
            continue
        best = min(best, reference_cost(sc, order, a))
    return best


def check_decision(engine, order, d: Decision, t):
    """Invariants every decision satisfies."""
    total = sum(d.cost[k] for k in COST_KEYS)
    assert set(d.cost) == set(COST_KEYS)
    assert d.total == pytest.approx(total, rel=1e-12, abs=1e-9)
    shipped = np.zeros(len(order.skus), dtype=np.int64)
    line = {int(s): i for i, s in enumerate(order.skus)}
    nodes = [s.node for s in d.shipments]
    assert len(set(nodes)) == len(nodes)
    assert len(d.shipments) <= engine.max_packages
    for s in d.shipments:
        for j, q in zip(s.skus, s.qty):
            shipped[line[int(j)]] += q
        assert s.ship_by_h >= t - 1e-9
        # delivered by the end of the arrival day
        arrive = s.ship_by_h + s.transit_h
        assert arrive - 1e-9 <= s.promised_h < arrive + 24.0 and s.promised_h % 24.0 == pytest.approx(0.0, abs=1e-9)
        assert s.promised_h >= order.created_h + s.transit_h - 1e-9
        assert s.transit_h > 0 or s.transit_h == 0
    assert np.array_equal(shipped + d.unfilled, order.qty)
    assert np.all(d.unfilled >= 0)
    # the per-shipment costs add up to the shipping and handling parts
    for key, part in (("shipping_package", "package"), ("shipping_weight", "weight"),
                      ("shipping_distance", "distance"), ("handling", "handling")):
        assert d.cost[key] == pytest.approx(sum(s.cost[part] for s in d.shipments), abs=1e-9)
    assert d.cost["split_penalty"] == pytest.approx(engine.split_penalty * max(len(d.shipments) - 1, 0))
    assert d.cost["lost_penalty"] == pytest.approx(engine.lost_sale_penalty * d.unfilled.sum())
    if d.shipments:
        assert d.promised_h == max(s.promised_h for s in d.shipments)
        assert d.status in ("allocated", "partial")
        assert (d.status == "allocated") == (d.unfilled.sum() == 0)
    else:
        assert d.promised_h is None
        assert d.status == engine.no_stock


def _order(i, skus, qty, region=0, level="standard", t=0.0):
    return Order(i, t, region, level, np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64))


@st.composite
def small_windows(draw):
    """A small world and a window of 2-4 orders on it."""
    sc, on_hand, order, t = draw(small_worlds())
    S, R = len(sc.sku_ids), len(sc.demand.regions)
    orders = [order]
    for i in range(draw(st.integers(1, 3))):
        L = draw(st.integers(1, min(S, 3)))
        skus = draw(st.lists(st.integers(0, S - 1), min_size=L, max_size=L, unique=True))
        qty = draw(st.lists(st.integers(1, 3), min_size=L, max_size=L))
        orders.append(Order(i + 2, t, draw(st.integers(0, R - 1)), draw(st.sampled_from(LEVELS)),
                            np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64)))
    return sc, on_hand, orders, t


def _decision_key(d):
    ships = [(s.node, s.skus.tolist(), s.qty.tolist(), s.carrier, s.service, s.level, s.distance_km, s.weight_kg,
              s.ship_by_h, s.promised_h, s.transit_h, sorted(s.cost.items())) for s in d.shipments]
    return (d.order_id, d.status, ships, d.unfilled.tolist(), d.promised_h, sorted(d.cost.items()), d.total,
            d.policy, d.alternatives, d.unfilled_reason)


@st.composite
def small_sequences(draw):
    """A small world with scarce stock and tight capacities, and 1-12 orders at non-decreasing times."""
    N, R, S = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 4))
    services = []
    for k in range(draw(st.integers(1, 3))):
        svc = {"id": f"s{k}", "level": draw(st.sampled_from(LEVELS)), "per_package": draw(money),
               "per_kg": draw(money), "per_unit": draw(st.sampled_from([0.0, 0.5])),
               "transit": {"base_days": draw(st.integers(0, 2)), "km_per_day": 1000, "max_days": 5},
               "pickup_hour": draw(st.sampled_from([None, 12.0, 17.0]))}
        services.append(svc)
    max_packages = draw(st.integers(1, 3))
    for svc in services:
        cap = draw(st.one_of(st.none(), st.integers(max_packages, max_packages + 2)))
        if cap is not None:
            svc["daily_capacity"] = cap
    policies = {"max_packages": max_packages, "split_penalty": draw(money),
                "lost_sale_penalty": draw(st.sampled_from([0.0, 5.0, 60.0])),
                "carrier_selection": draw(st.sampled_from(["cheapest", "fastest"])),
                "no_stock": draw(st.sampled_from(["backorder", "hold", "cancel"]))}
    nodes = {n: {"handling_cost_per_order": draw(money), "pickup_hour": draw(st.sampled_from([10.0, 18.0])),
                 "capacity_orders_per_day": draw(st.one_of(st.none(), st.integers(1, 4)))} for n in range(N)}
    sc = scenario_from_dict(small_scenario_dict(N, R, S, services=services, policies=policies, nodes=nodes))
    on_hand = np.array(draw(st.lists(st.integers(0, 4), min_size=N * S, max_size=N * S))).reshape(N, S)
    orders, times, t = [], [], 0.0
    for i in range(draw(st.integers(1, 12))):
        t += draw(st.sampled_from([0.0, 0.5, 7.0, 30.0]))
        L = draw(st.integers(1, min(S, 3)))
        skus = draw(st.lists(st.integers(0, S - 1), min_size=L, max_size=L, unique=True))
        qty = draw(st.lists(st.integers(1, 3), min_size=L, max_size=L))
        orders.append(Order(i, t, draw(st.integers(0, R - 1)), draw(st.sampled_from(LEVELS)),
                            np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64)))
        times.append(t)
    return sc, on_hand, orders, times


def _one_by_one(engine, orders, times, policy=None, stop=None, explain=False):
    out = []
    for o, t in zip(orders, times):
        d = engine.decide(o, t, policy, explain=explain)
        engine.commit(d, t)
        out.append(d)
        if stop is not None and stop(d):
            break
    return out


def _outcome(fn, *args, **kw):
    """(decision keys, None) or (None, the OmsimError's message): commit may refuse a decision whose
    packages together exceed a service's last capacity of the day; both paths must then agree on that."""
    try:
        return [_decision_key(d) for d in fn(*args, **kw)], None
    except OmsimError as exc:
        return None, str(exc)


def decision_key(d):
    ships = [(s.node, s.skus.tolist(), s.qty.tolist(), s.carrier, s.service, s.level, s.distance_km, s.weight_kg,
              s.ship_by_h, s.promised_h, s.transit_h, sorted(s.cost.items())) for s in d.shipments]
    return (d.order_id, d.status, ships, d.unfilled.tolist(), d.promised_h, sorted(d.cost.items()), d.total,
            d.policy, d.alternatives, d.unfilled_reason)


def columns_of(decisions, engine):
    """Decisions as the columns DecisionArrays documents (written out here from the Decision fields)."""
    pk = []
    for d in decisions:
        for s in d.shipments:
            pk.append(s)
    index = {(c, s): k for k, (c, s) in enumerate(zip(engine.services.carrier, engine.services.service))}
    npk = [len(d.shipments) for d in decisions]
    return {
        "status": np.array([DECISION_STATUSES.index(d.status) for d in decisions], dtype=np.int8),
        "promised_h": np.array([np.nan if d.promised_h is None else d.promised_h for d in decisions]),
        "total": np.array([d.total for d in decisions]),
        "pkg_ptr": np.concatenate([[0], np.cumsum(npk)]).astype(np.int64),
        "unfilled": np.concatenate([d.unfilled for d in decisions] + [np.zeros(0, dtype=np.int64)]),
        "pkg_node": np.array([s.node for s in pk], dtype=np.int64),
        "pkg_service": np.array([index[(s.carrier, s.service)] for s in pk], dtype=np.int64),
        "pkg_ship_by_h": np.array([s.ship_by_h for s in pk]),
        "pkg_promised_h": np.array([s.promised_h for s in pk]),
        "pkg_transit_h": np.array([s.transit_h for s in pk]),
        "pkg_kg": np.array([s.weight_kg for s in pk]),
        "pkg_cost_package": np.array([s.cost["package"] for s in pk]),
        "pkg_cost_weight": np.array([s.cost["weight"] for s in pk]),
        "pkg_cost_distance": np.array([s.cost["distance"] for s in pk]),
        "pkg_cost_handling": np.array([s.cost["handling"] for s in pk]),
        "pkg_line_ptr": np.concatenate([[0], np.cumsum([len(s.skus) for s in pk])]).astype(np.int64),
        "pkg_sku": np.concatenate([s.skus for s in pk] + [np.zeros(0, dtype=np.int64)]),
        "pkg_qty": np.concatenate([s.qty for s in pk] + [np.zeros(0, dtype=np.int64)]),
        "unfilled_reason": np.array([UNFILLED_REASONS.index(r) if r else 0 for d in decisions for r in d.unfilled_reason],
                                    dtype=np.int8),
    }


def assert_columns(da: DecisionArrays, want: dict):
    for name, w in want.items():
        got = getattr(da, name)
        assert got.dtype == w.dtype or got.dtype.kind == w.dtype.kind, name
        assert got.shape == w.shape, name
        # bit for bit: the same floats, nan where nothing ships
        assert np.array_equal(got, w, equal_nan=got.dtype.kind == "f"), (name, got, w)


def full_state(engine):
    """Everything the engine holds between calls."""
    inv = engine.inventory
    led = inv.ledger_frame()
    # days with bookings (a day's row of zeros is no booking: the engine may hold rows for days ahead)
    days = sorted(set(engine.carriers.booked_days()) | set(range(40)))
    return {
        "on_hand": inv.on_hand.copy(), "reserved": inv.reserved.copy(), "ledger": led,
        "backlog": engine.node_backlog_units.copy(),
        "orders_taken": {d: o.tolist() for d, (o, _) in engine.capacity_taken().items()},
        "units_taken": {d: u.tolist() for d, (_, u) in engine.capacity_taken().items()},
        "remaining": {d: engine.carriers.remaining_all(d).tolist() for d in days},
        "full": set(engine.full_service_days()),
        "open": {o: (decision_key(b.decision), list(b.unshipped), b.day, b.open_packages)
                 for o, b in ((o, engine.open_order(o)) for o in engine.open_order_ids())},
    }


def assert_same_state(a, b):
    sa, sb = full_state(a), full_state(b)
    for key in sa:
        x, y = sa[key], sb[key]
        if key == "ledger":
            assert x.shape == y.shape
            assert x.astype(str).equals(y.astype(str)), (x.tail(), y.tail())
        elif isinstance(x, np.ndarray):
            assert np.array_equal(x, y), key
        else:
            assert x == y, key


def engine_with(sc, on_hand, safety=0, **kw):
    inv = Inventory(np.asarray(on_hand, dtype=np.int64), safety, node_ids=sc.node_ids, sku_ids=sc.sku_ids)
    return DecisionEngine(sc, inv, Streams(sc.seed), **kw)


def as_columns(orders):
    ptr = np.concatenate([[0], np.cumsum([len(o.skus) for o in orders])]).astype(np.int64)
    return (np.array([o.order_id for o in orders], dtype=np.int64), np.array([o.region for o in orders], dtype=np.int64),
            np.array([LEVELS.index(o.level) for o in orders], dtype=np.int64), ptr,
            np.concatenate([o.skus for o in orders]).astype(np.int64), np.concatenate([o.qty for o in orders]).astype(np.int64))


def random_orders(sc, rng, n, horizon_h):
    """n random orders of scenario sc over [0, horizon_h): 1-4 distinct SKUs, 1-399 units a line (big
    quantities of a few SKUs run some nodes out: partial orders and backorders happen too)."""
    times = np.sort(rng.uniform(0, horizon_h, n))
    orders = []
    for i in range(n):
        L = int(rng.integers(1, 5))
        skus = rng.choice(len(sc.sku_ids), size=L, replace=False).astype(np.int64)
        orders.append(Order(i, float(times[i]), int(rng.integers(len(sc.demand.regions))),
                            LEVELS[int(rng.integers(3))], skus, rng.integers(1, 400, L).astype(np.int64)))
    return times, orders


def random_lines(rng, n, n_skus):
    """line_ptr and line_sku of n random orders: 1-3 distinct SKUs of the first n_skus each."""
    L = rng.integers(1, 4, n)
    ptr = np.concatenate([[0], np.cumsum(L)]).astype(np.int64)
    sku = np.concatenate([rng.choice(n_skus, size=l, replace=False) for l in L]).astype(np.int64)
    return ptr, sku


def lean(d, explain):
    """The decision without the alternatives ``explain`` listed."""
    return dataclasses.replace(d, alternatives=[]) if explain else d


def one_by_one(engine, orders, times, stop_partial=False, explain=False):
    """decide + commit in turn; with ``explain`` the decisions are committed without their alternatives (what
    the columnar path, which keeps none, must equal)."""
    out = []
    for o, t in zip(orders, times):
        d = lean(engine.decide(o, t, explain=explain), explain)
        engine.commit(d, t)
        out.append(d)
        if stop_partial and d.status == "partial":
            break
    return out


@st.composite
def worlds(draw):
    """A small world (1-3 nodes) with scarce stock, tight capacities and slow labour, and an order stream.

    ``busy`` worlds have plenty of stock and many orders close together, so carrier service-days fill
    up and packages are pushed to later pickups (or to another service).
    """
    busy = draw(st.booleans())
    N, R, S = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 5))
    max_packages = draw(st.integers(1, 3))
    services = []
    for k in range(draw(st.integers(1, 3))):
        svc = {"id": f"s{k}", "level": draw(st.sampled_from(LEVELS)), "per_package": draw(money),
               "per_kg": draw(money), "per_unit": draw(st.sampled_from([0.0, 0.5])),
               "per_km": draw(st.sampled_from([0.0, 0.001])),
               "transit": {"base_days": draw(st.integers(0, 2)), "km_per_day": 1000, "max_days": 5},
               "pickup_hour": draw(st.sampled_from([None, 0.0, 12.0, 17.0, 23.5]))}
        if draw(st.booleans()):
            svc["zones"] = [{"max_km": 1500.0, "surcharge": draw(money)}]
        cap = draw(st.one_of(st.none(), st.integers(max_packages, max_packages + 2)))
        if cap is not None:
            svc["daily_capacity"] = cap
        services.append(svc)
    policies = {"max_packages": max_packages, "split_penalty": draw(st.sampled_from([0.0, 3.0, 25.0])),
                "lost_sale_penalty": draw(st.sampled_from([0.0, 2.0, 5.0, 60.0])),
                "allocation": draw(st.sampled_from(["cheapest", "cheapest", "batch", "nearest"])),
                "no_stock": draw(st.sampled_from(["backorder", "hold", "cancel"]))}
    if busy:
        policies["split_penalty"] = draw(st.sampled_from([0.0, 0.0, 3.0]))
        policies["lost_sale_penalty"] = 60.0
    slow = not busy and draw(st.booleans())   # labour of a few units a week: backlogs outrun the cached shift windows
    nodes = {}
    for n in range(N):
        node = {"handling_cost_per_order": draw(money), "handling_cost_per_line": draw(money),
                "pickup_hour": draw(st.sampled_from([10.0, 18.0])),
                "capacity_orders_per_day": draw(st.one_of(st.none(), st.integers(1, 4 if not busy else 40)))}
        if slow:
            # Odd rates and hours, so that the calendar arithmetic rounds (the walk must round alike).
            node.update(pickers=1, packers=1, pack_time_per_unit_s=3600.0 * draw(st.sampled_from([1.3, 17.7])),
                        shifts=[{"start": draw(st.sampled_from([0.0, 9.1, 22.0])), "end": draw(st.sampled_from([23.3, 30.0])),
                                 "weekdays": draw(st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True))}])
        nodes[n] = node
    sc = scenario_from_dict(small_scenario_dict(N, R, S, services=services, policies=policies, nodes=nodes))
    hi = 60 if busy else 6
    on_hand = np.array(draw(st.lists(st.integers(0, hi), min_size=N * S, max_size=N * S))).reshape(N, S)
    safety = np.array(draw(st.lists(st.integers(0, 2), min_size=N * S, max_size=N * S))).reshape(N, S)
    units_cap = None if busy else draw(st.one_of(st.none(), st.lists(st.integers(0, 6), min_size=N, max_size=N)))
    orders, times, t = [], [], draw(st.floats(0, 48))
    steps = [0.0, 0.0, 0.0, 0.5, 3.0, 12.0] if busy else [0.0, 0.0, 0.5, 3.0, 7.0, 30.0, 200.0]
    for i in range(draw(st.integers(1, 40 if busy else 25))):
        t += draw(st.sampled_from(steps))
        L = draw(st.integers(1, min(S, 3)))
        skus = draw(st.lists(st.integers(0, S - 1), min_size=L, max_size=L, unique=True))
        qty = draw(st.lists(st.integers(1, 3), min_size=L, max_size=L))
        orders.append(Order(100 + i, t, draw(st.integers(0, R - 1)), draw(st.sampled_from(LEVELS)),
                            np.array(skus, dtype=np.int64), np.array(qty, dtype=np.int64)))
        times.append(t)
    return sc, on_hand, safety, units_cap, orders, times


def _pair(sc, on_hand, safety, units_cap):
    kw = {"capacity_units_per_day": units_cap}
    a = engine_with(sc, on_hand, safety, **kw)
    a._dry_kernel = False       # the reference: decide() through the Python path only
    return a, engine_with(sc, on_hand, safety, **kw)


def _decide_both(a, b, orders, times, stop_partial, explain=False):
    want = one_by_one(a, orders, times, stop_partial, explain)
    oids, reg, lev, ptr, sku, qty = as_columns(orders)
    da = b.decide_commit_arrays(oids, np.array(times), reg, lev, ptr, sku, qty, stop_on_partial=stop_partial)
    return want, da


def assert_same_state_dict(sa, sb):
    for key in sa:
        x, y = sa[key], sb[key]
        if key == "ledger":
            assert x.astype(str).equals(y.astype(str))
        elif isinstance(x, np.ndarray):
            assert np.array_equal(x, y), key
        else:
            assert x == y, key


WAIT = (DECISION_STATUSES.index("backorder"), DECISION_STATUSES.index("hold"))


REM0 = 100_000      # remainder ids: REM0 + the order's position


def reference(engine, orders, times, stop_partial=False, rem0=REM0, explain=False):
    """Decide + commit in turn; each partial order's remainder probed with decide(), committed if it waits
    (with ``explain``, decisions and probes are committed without their alternatives, as in one_by_one)."""
    decs, rem, probes = [], [], {}
    for i, (o, t) in enumerate(zip(orders, times)):
        d = lean(engine.decide(o, t, explain=explain), explain)
        engine.commit(d, t)
        decs.append(d)
        if d.status != "partial":
            rem.append(-1)
            continue
        short = d.unfilled > 0
        probe = Order(rem0 + i, t, o.region, o.level, o.skus[short].copy(), d.unfilled[short].copy())
        d2 = engine.decide(probe, t, explain=explain)
        rem.append(-2 if d2.shipments else DECISION_STATUSES.index(d2.status))
        probes[rem0 + i] = d2
        if not d2.shipments and d2.status in ("backorder", "hold"):
            # register_backorders keeps no alternatives (with explain they described a state gone by)
            engine.commit(dataclasses.replace(d2, alternatives=[]), t)
        if stop_partial:
            break
    return decs, np.array(rem, dtype=np.int8), probes


def columnar(engine, orders, times, stop_partial=False, rem0=REM0):
    """decide_commit_arrays(probe_remainder=True), then the waiting remainders registered (all of them, with
    their status codes: a cancel registers nothing)."""
    oids, reg, lev, ptr, sku, qty = as_columns(orders)
    da = engine.decide_commit_arrays(oids, np.array(times), reg, lev, ptr, sku, qty, stop_on_partial=stop_partial,
                                     probe_remainder=True)
    rows = [i for i in range(da.n) if da.rem_status[i] >= 0]
    if rows:
        rp, rs, rq, rw = [0], [], [], []
        for i in rows:
            u = da.unfilled[ptr[i]:ptr[i + 1]]
            short = u > 0
            rs.append(sku[ptr[i]:ptr[i + 1]][short])
            rq.append(u[short])
            rw.append(da.rem_reason[ptr[i]:ptr[i + 1]][short])
            rp.append(rp[-1] + int(short.sum()))
        engine.register_backorders(np.array([rem0 + i for i in rows]), np.array([times[i] for i in rows]),
                                   reg[rows], lev[rows], np.array(rp), np.concatenate(rs), np.concatenate(rq),
                                   da.rem_status[rows], np.concatenate(rw))
    return da


COMPACTIONS = []


def tiny_store(engine):
    engine._store = _Store(engine, orders=2, lines=2, pkgs=2, pkg_lines=2)
