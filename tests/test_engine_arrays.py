"""DecisionEngine's columnar path: decide_commit_arrays and ship_many against the object path.

The reference is the engine's own one-order-at-a-time Python path
(``decide`` + ``commit``, ``ship``), which test_engine.py proves against brute
force. Here every field of every decision and the whole engine state after
(stock, reservations, ledger, node counters, carrier bookings, full
service-days, open orders) must be identical, on random order streams over
small worlds with scarce stock and tight capacities (stock-outs, partials,
full service-days, node caps, long backlogs that outrun the cached shift
windows) and over the default scenario.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omsim._kernels import _decide
from omsim.engine import DECISION_STATUSES, DecisionArrays, DecisionEngine, decision_arrays
from omsim.errors import OmsimError
from omsim.fulfilment.inventory import Inventory
from omsim.orders import Order
from omsim.rng import Streams
from omsim.scenario import SERVICE_LEVELS, load_scenario, scenario_from_dict

from test_engine import small_scenario_dict

LEVELS = list(SERVICE_LEVELS)
money = st.floats(0, 20, allow_nan=False).map(lambda v: round(v, 2))
_DEFAULT = []


def _default_scenario():
    if not _DEFAULT:
        _DEFAULT.append(load_scenario())
    return _DEFAULT[0]


# ----------------------------------------------------------------- helpers
def decision_key(d):
    ships = [(s.node, s.skus.tolist(), s.qty.tolist(), s.carrier, s.service, s.level, s.distance_km, s.weight_kg,
              s.ship_by_h, s.promised_h, s.transit_h, sorted(s.cost.items())) for s in d.shipments]
    return (d.order_id, d.status, ships, d.unfilled.tolist(), d.promised_h, sorted(d.cost.items()), d.total,
            d.policy, d.alternatives)


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
    days = sorted({d for d, row in engine.carriers._booked.items() if row.any()} | set(range(40)))
    return {
        "on_hand": inv.on_hand.copy(), "reserved": inv.reserved.copy(), "ledger": led,
        "backlog": engine.node_backlog_units.copy(),
        "orders_taken": {d: v.tolist() for d, v in engine._orders_taken.items()},
        "units_taken": {d: v.tolist() for d, v in engine._units_taken.items()},
        "remaining": {d: engine.carriers.remaining_all(d).tolist() for d in days},
        "full": set(engine._full),
        "open": {o: (decision_key(b.decision), list(b.open), b.day, b.open_count)
                 for o, b in ((o, engine._booking(o)) for o in engine._open)},
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


def one_by_one(engine, orders, times, stop_partial=False):
    out = []
    for o, t in zip(orders, times):
        d = engine.decide(o, t)
        engine.commit(d, t)
        out.append(d)
        if stop_partial and d.status == "partial":
            break
    return out


# ----------------------------------------------------------------- strategies
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


def _pair(sc, on_hand, safety, units_cap, explain=False):
    kw = {"explain": explain, "capacity_units_per_day": units_cap}
    a = engine_with(sc, on_hand, safety, **kw)
    a._dry_kernel = False       # the reference: decide() through the Python path only
    return a, engine_with(sc, on_hand, safety, **kw)


def _decide_both(a, b, orders, times, stop_partial):
    want = one_by_one(a, orders, times, stop_partial)
    oids, reg, lev, ptr, sku, qty = as_columns(orders)
    da = b.decide_commit_arrays(oids, np.array(times), reg, lev, ptr, sku, qty, stop_on_partial=stop_partial)
    return want, da


# ----------------------------------------------------------------- decide_commit_arrays
@given(world=worlds(), stop_partial=st.booleans(), explain=st.sampled_from([False, False, False, True]),
       cut=st.sampled_from([0, 0, 1, 2, 3]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decide_commit_arrays_equals_decide_then_commit(world, stop_partial, explain, cut):
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap, explain)
    if cut:
        # Some services do not reach some regions (rate inf): nodes without a service see no stock.
        mask = np.random.default_rng(cut).random(a.services.fixed.shape) < 0.4
        for e in (a, b):
            e.services.fixed[mask] = np.inf
    want, da = _decide_both(a, b, orders, times, stop_partial)
    assert da.n == len(want)
    assert_columns(da, columns_of(want, a))
    assert_same_state(a, b)
    for d in want:
        got = b.committed(d.order_id)
        assert (got is None) == (a.committed(d.order_id) is None)
        if got is not None:
            assert decision_key(got) == decision_key(d)


@given(world=worlds())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decision_arrays_lays_out_decisions_as_the_compiled_run_does(world):
    # Decisions taken one at a time (the batch policy's windows in the simulator) laid out as
    # columns: the same columns the compiled run hands over for the same orders.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    want, da = _decide_both(a, b, orders, times, False)
    got = decision_arrays(want, a)
    assert got.n == da.n == len(want)
    assert_columns(got, columns_of(want, a))
    for f in ("status", "promised_h", "total", "pkg_ptr", "unfilled", "pkg_node", "pkg_service", "pkg_ship_by_h",
              "pkg_promised_h", "pkg_transit_h", "pkg_kg", "pkg_line_ptr", "pkg_sku", "pkg_qty"):
        np.testing.assert_array_equal(getattr(got, f), getattr(da, f), err_msg=f)


@given(world=worlds(), data=st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ship_many_and_cancel_equal_the_one_by_one_calls(world, data):
    # Orders committed as columns on one engine and one by one on the other; then the same random
    # lots of packages ship (ship_many against a loop of ship) and the same orders are cancelled.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    _decide_both(a, b, orders, times, False)
    t = times[-1]
    for _ in range(data.draw(st.integers(1, 4))):
        t += data.draw(st.sampled_from([0.0, 1.0]))
        opened = sorted(a._open)
        pairs = [(o, k) for o in opened for k, ok in enumerate(a._open[o].open) if ok]
        if not pairs:
            break
        lot = data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
        for o, k in lot:
            a.ship(o, k, t)
        b.ship_many([o for o, _ in lot], np.array([k for _, k in lot], dtype=np.int64), t)
        assert_same_state(a, b)
        if data.draw(st.booleans()) and a._open:
            o = data.draw(st.sampled_from(sorted(a._open)))
            assert b.cancel(o, t) == a.cancel(o, t)
            assert_same_state(a, b)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 150), stop_partial=st.booleans())
@settings(max_examples=12, deadline=None)
def test_decide_commit_arrays_equals_decide_then_commit_on_the_default_scenario(seed, n, stop_partial):
    sc = _default_scenario()
    times, orders = random_orders(sc, np.random.default_rng(seed), n, 24 * 9)
    a = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    a._dry_kernel = False
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    want, da = _decide_both(a, b, orders, times.tolist(), stop_partial)
    assert_columns(da, columns_of(want, a))
    assert_same_state(a, b)
    # ship every package of the first half of the open orders at the last time
    opened = sorted(a._open)[: len(a._open) // 2]
    lot = [(o, k) for o in opened for k in range(len(a._open[o].open))]
    for o, k in lot:
        a.ship(o, k, float(times[-1]))
    b.ship_many([o for o, _ in lot], [k for _, k in lot], float(times[-1]))
    assert_same_state(a, b)


def test_the_kernel_path_covers_the_default_scenario_without_python_steps(monkeypatch):
    # The default scenario's orders are decided in C: the Python path is not called once.
    sc = _default_scenario()
    rng = np.random.default_rng(5)
    n = 300
    times = np.sort(rng.uniform(0, 48, n))
    ptr, sku = random_lines(rng, n, len(sc.sku_ids))
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    calls = []
    monkeypatch.setattr(b, "_decide_one", lambda *a: calls.append(a))
    da = b.decide_commit_arrays(np.arange(n), times, rng.integers(0, len(sc.demand.regions), n),
                                rng.integers(0, 3, n), ptr, sku, rng.integers(1, 3, ptr[-1]))
    assert da.n == n and not calls
    assert (da.status == DECISION_STATUSES.index("allocated")).sum() > n // 2


def test_decide_commit_arrays_checks_its_columns_before_committing_anything():
    sc = scenario_from_dict(small_scenario_dict(1, 1, 2))
    engine = engine_with(sc, [[5, 5]])
    good = dict(order_ids=[1, 2], t_h=[0.0, 1.0], region=[0, 0], level=[0, 0], line_ptr=[0, 1, 2],
                line_sku=[0, 1], line_qty=[1, 1])
    bad = [({"region": [0, 1]}, "order 2: region"), ({"level": [0, 3]}, "order 2: unknown service level"),
           ({"line_sku": [0, 2]}, "order 2: SKU index"), ({"line_qty": [0, 1]}, "order 1: every line"),
           ({"t_h": [0.0, math.inf]}, "order 2: decision time"), ({"line_ptr": [0, 1, 1]}, "order 2: an order needs"),
           ({"line_ptr": [0, 2, 2], "line_sku": [1, 1]}, "order 1: a SKU appears on two lines"),
           ({"region": [0]}, "2 order ids, 2 times, 1 regions"), ({"line_sku": [0.0, 1.0]}, "integer")]
    for change, msg in bad:
        with pytest.raises(OmsimError, match=msg):
            engine.decide_commit_arrays(**dict(good, **change))
        assert engine.open_orders == 0 and int(engine.inventory.reserved.sum()) == 0
    da = engine.decide_commit_arrays(**good)
    assert da.n == 2 and engine.open_orders == 2
    with pytest.raises(OmsimError, match="order 1: already committed"):
        engine.decide_commit_arrays(**good)


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_check_orders_kernel_flags_what_check_order_refuses(data):
    # The kernel's column checks against DecisionEngine._check_order on each order (the reference).
    sc = scenario_from_dict(small_scenario_dict(1, 2, 4))
    engine = engine_with(sc, [[1, 1, 1, 1]])
    n = data.draw(st.integers(1, 6))
    lens = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    sku = np.array(data.draw(st.lists(st.integers(-1, 4), min_size=int(ptr[-1]), max_size=int(ptr[-1]))), dtype=np.int64)
    qty = np.array(data.draw(st.lists(st.integers(0, 2), min_size=int(ptr[-1]), max_size=int(ptr[-1]))), dtype=np.int64)
    t = np.array(data.draw(st.lists(st.sampled_from([0.0, 5.0, math.inf, math.nan]), min_size=n, max_size=n)))
    reg = np.array(data.draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n)), dtype=np.int64)
    lev = np.array(data.draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n)), dtype=np.int64)
    i, code = _decide.check_orders(t, reg, lev, ptr, sku, qty, 2, 3, 4)
    want = -1
    for j in range(n):
        ok = math.isfinite(t[j]) and 0 <= lev[j] < 3
        if ok:
            try:
                engine._check_order(Order(j, float(t[j]), int(reg[j]), LEVELS[lev[j]], sku[ptr[j]:ptr[j + 1]],
                                          qty[ptr[j]:ptr[j + 1]]))
            except OmsimError:
                ok = False
        if not ok:
            want = j
            break
    assert i == want and (code == 0) == (want == -1)


def test_orders_decided_as_columns_are_committed_orders_for_the_rest_of_the_api():
    sc = scenario_from_dict(small_scenario_dict(2, 1, 3, policies={"max_packages": 2, "split_penalty": 0.0}))
    a = engine_with(sc, [[2, 0, 1], [0, 2, 1]], explain=False)
    b = engine_with(sc, [[2, 0, 1], [0, 2, 1]], explain=False)
    orders = [Order(7, 1.0, 0, "standard", np.array([0, 1]), np.array([1, 1])),
              Order(8, 2.0, 0, "express", np.array([2]), np.array([1])),
              Order(9, 3.0, 0, "standard", np.array([0, 1]), np.array([5, 5]))]
    want, da = _decide_both(a, b, orders, [1.0, 2.0, 3.0], False)
    assert b.open_orders == a.open_orders == 3
    d7 = b.committed(7)
    assert d7 is b.committed(7) and decision_key(d7) == decision_key(want[0]) and len(d7.shipments) == 2
    s = b.ship(7, 1, 4.0)
    assert decision_key(want[0])[2][1][0] == s.node and b._booking(7).open == [True, False]
    a.ship(7, 1, 4.0)
    assert b.cancel(7, 5.0) == a.cancel(7, 5.0) and b.committed(7) is None
    with pytest.raises(OmsimError, match="order 8: no shipment 3"):
        b.ship_many([8, 8], [0, 3], 6.0)
    with pytest.raises(OmsimError, match="order 8: shipment 0 already shipped"):
        b.ship_many([8, 8], [0, 0], 6.0)
    with pytest.raises(OmsimError, match="order 70: not committed"):
        b.ship_many([70], [0], 6.0)
    assert_same_state(a, b)
    b.ship_many([8, 9, 9], [0, 1, 0], 6.0)
    for o, k in ((8, 0), (9, 1), (9, 0)):
        a.ship(o, k, 6.0)
    assert_same_state(a, b)
    assert b.open_orders == 0


@given(world=worlds(), k=st.integers(1, 30), bad_at=st.one_of(st.none(), st.integers(0, 30)))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decide_commit_many_through_the_kernel_equals_the_loop(world, k, bad_at):
    # decide_commit_many takes the compiled path: the same Decisions, stop() called once per decision
    # (here: stop after the k-th, a stateful callable), and a malformed order raises after the ones before
    # it are committed.
    sc, on_hand, safety, units_cap, orders, times = world
    if bad_at is not None and bad_at < len(orders):
        o = orders[bad_at]
        orders = list(orders)
        orders[bad_at] = Order(o.order_id, o.created_h, o.region, o.level, o.skus, o.qty * 0)
    a, b = _pair(sc, on_hand, safety, units_cap)
    seen = {"a": 0, "b": 0}

    def stopper(tag):
        def stop(d):
            seen[tag] += 1
            return seen[tag] == k
        return stop

    def loop():
        out = []
        for o, t in zip(orders, times):
            d = a.decide(o, t)
            a.commit(d, t)
            out.append(d)
            if stopper_a(d):
                break
        return out

    stopper_a = stopper("a")
    want = got = None
    try:
        want = [decision_key(d) for d in loop()]
    except OmsimError as exc:
        want = str(exc)
    try:
        got = [decision_key(d) for d in b.decide_commit_many(orders, times, stop=stopper("b"))]
    except OmsimError as exc:
        got = str(exc)
    assert got == want
    assert seen["a"] == seen["b"]
    assert_same_state(a, b)


@given(world=worlds(), data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_short_runs_with_python_steps_between_equal_decide_then_commit(world, data):
    # The simulator's pattern: many short runs (the engine keeps its compiled-loop state between calls:
    # kernel bindings, the shared column store, the carrier-bookings mirror), with Python-path steps in
    # between that change the state behind it (cancel, ship, a one-by-one decide + commit). Each run's
    # columns, the Decisions and the whole state after must equal decide + commit one by one.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    i = 0
    while i < len(orders):
        m = data.draw(st.integers(1, 4))
        part, pt = orders[i:i + m], times[i:i + m]
        if data.draw(st.booleans()) and len(part) == 1:
            for e in (a, b):     # the Python path on both engines
                d = e.decide(part[0], pt[0]) if e is a else e.decide(part[0], pt[0])
                e.commit(d, pt[0])
        else:
            want, da = _decide_both(a, b, part, pt, False)
            assert_columns(da, columns_of(want, a))
        i += m
        step = data.draw(st.sampled_from(["none", "none", "cancel", "ship"]))
        if step != "none" and a._open:
            o = data.draw(st.sampled_from(sorted(a._open)))
            if step == "cancel":
                assert b.cancel(o, pt[-1]) == a.cancel(o, pt[-1])
            else:
                ks = [k for k, ok in enumerate(a._open[o].open) if ok]
                if ks:
                    a.ship(o, ks[0], pt[-1])
                    b.ship_many([o], [ks[0]], pt[-1])
        assert_same_state(a, b)
    for o in a._open:
        assert decision_key(b.committed(o)) == decision_key(a.committed(o))


@given(world=worlds(), data=st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decide_through_the_kernel_equals_the_python_path_and_changes_nothing(world, data):
    # decide() of policy cheapest/batch with explain=False is a dry run of the kernel: on random states
    # (a random prefix of the stream committed) the same Decision as the Python path, the state unchanged.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    k = data.draw(st.integers(0, len(orders)))
    if k:
        _decide_both(a, b, orders[:k], times[:k], False)
    for o, t in zip(orders[k:], times[k:]):
        before = full_state(b)
        got = b.decide(o, t)
        assert_same_state_dict(before, full_state(b))
        b._dry_kernel = False
        ref = b.decide(o, t)
        b._dry_kernel = True
        assert decision_key(got) == decision_key(ref) == decision_key(a.decide(o, t))
        assert got.unfilled.dtype == ref.unfilled.dtype and all(
            x.skus.dtype == y.skus.dtype and x.qty.dtype == y.qty.dtype for x, y in zip(got.shipments, ref.shipments))
    if sc.policies.allocation in ("cheapest", "batch") and orders[k:]:
        # the kernel did decide (no silent Python path): a dry run is counted
        calls = []
        orig = b._decide_compiled
        b._decide_compiled = lambda *x: calls.append(orig(*x)) or calls[-1]
        b.decide(orders[-1], times[-1])
        assert len(calls) == 1


def assert_same_state_dict(sa, sb):
    for key in sa:
        x, y = sa[key], sb[key]
        if key == "ledger":
            assert x.astype(str).equals(y.astype(str))
        elif isinstance(x, np.ndarray):
            assert np.array_equal(x, y), key
        else:
            assert x == y, key


@given(shifts=st.lists(st.tuples(st.floats(0, 23.9), st.floats(0.1, 24), st.lists(st.integers(0, 6), min_size=1,
                                                                                  max_size=7, unique=True)),
                       min_size=1, max_size=3),
       wd=st.integers(0, 6), labour=st.floats(0.01, 50),
       calls=st.lists(st.tuples(st.floats(0, 2000), st.integers(0, 10_000), st.floats(0, 50)), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_kernel_calendar_walk_equals_promise_ready_time_h(shifts, wd, labour, calls):
    # The kernel's ready time beyond the cached windows against promise.ready_time_h (the reference),
    # bit for bit: odd shift hours (overlapping, across midnight), rates and backlogs of years.
    from omsim.fulfilment.promise import normalise_shifts, ready_time_h

    sh = [(a, min(a + d, 48.0), days) for a, d, days in shifts]
    norm = normalise_shifts(sh)
    t = np.array([c[0] for c in calls])
    back = np.array([c[1] for c in calls], dtype=np.int64)
    units = np.array([c[2] for c in calls])
    out = np.empty(len(calls))
    _decide.ready_calendar(t, back, units, labour, np.array([a for a, _, _ in norm]), np.array([b for _, b, _ in norm]),
                           np.array([sum(1 << d for d in w) for _, _, w in norm], dtype=np.int64), wd, out)
    want = [ready_time_h(float(t[i]), float(back[i]), labour, sh, wd, float(units[i])) for i in range(len(calls))]
    assert out.tolist() == want


def test_an_engine_copied_between_runs_goes_on_like_the_original():
    # The compiled loop's bindings are not copied (they point into the original's arrays): a deep copy
    # (or a pickled engine) binds its own on the next call and decides as the original does.
    import copy
    import pickle

    sc = _default_scenario()
    rng = np.random.default_rng(3)
    n = 60
    times = np.sort(rng.uniform(0, 48, n))
    ptr, sku = random_lines(rng, n, len(sc.sku_ids))
    qty = rng.integers(1, 3, ptr[-1]).astype(np.int64)
    reg, lev = rng.integers(0, len(sc.demand.regions), n), rng.integers(0, 3, n)
    a = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    h = n // 2
    a.decide_commit_arrays(np.arange(h), times[:h], reg[:h], lev[:h], ptr[:h + 1], sku, qty)
    copies = [copy.deepcopy(a), pickle.loads(pickle.dumps(a))]
    rest = (np.arange(h, n), times[h:], reg[h:], lev[h:], ptr[h:], sku, qty)
    want = a.decide_commit_arrays(*rest)
    for b in copies:
        got = b.decide_commit_arrays(*rest)
        for name in ("status", "total", "pkg_ptr", "pkg_node", "pkg_service", "pkg_ship_by_h", "pkg_sku", "pkg_qty"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), name
        assert_same_state(a, b)


def test_replacing_labour_rates_or_services_is_seen_by_the_kernel_cover_check():
    # _kernel_covers caches its network check; setting an attribute it reads must drop that cache as it
    # drops the kernel's static arrays (else the compiled loop would run on rates it cannot walk).
    sc = _default_scenario()
    e = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    assert e._kernel_covers("cheapest")
    lab = e.labour_units_per_h.copy()
    lab[0] = 0.0
    e.labour_units_per_h = lab
    assert not e._kernel_covers("cheapest")
