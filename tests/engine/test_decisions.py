"""omsim.engine.decisions: decide, no-stock rules, split limits, promises; decide_commit_many equals decide then commit."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.scenario import scenario_from_dict
from engine_helpers import (LEVELS, _decision_key, _default_scenario, _engine, _one_by_one, _order, _outcome, engine_with_stock, same_state, small_scenario_dict, small_sequences, state)


@pytest.mark.parametrize("rule", ["backorder", "hold", "cancel"])
def test_no_stock_rules(rule):
    sc = scenario_from_dict(small_scenario_dict(2, 1, 2, policies={"no_stock": rule, "lost_sale_penalty": 25}))
    engine = engine_with_stock(sc, [[0, 5], [0, 5]])
    d = engine.decide(_order(1, [0], [3]), 0.0)
    assert d.status == rule and not d.shipments and d.promised_h is None
    assert d.total == pytest.approx(75.0) and d.cost["lost_penalty"] == pytest.approx(75.0)
    assert list(d.unfilled) == [3]
    before = engine.inventory.available().copy()
    engine.commit(d, 0.0)
    assert np.array_equal(engine.inventory.available(), before)
    if rule == "cancel":
        assert engine.open_orders == 0          # nothing left to track
    else:
        assert engine.committed(1) is d and engine.cancel(1, 1.0) == 0
    # part of an order available: partial, the rest unfilled
    d = engine.decide(_order(2, [0, 1], [1, 2]), 0.0)
    assert d.status == "partial" and list(d.unfilled) == [1, 0]


def test_max_packages_limits_the_split():
    # each SKU is at a different node only: with max_packages = 2 one line goes unfilled
    sc = scenario_from_dict(small_scenario_dict(3, 1, 3, policies={"max_packages": 2, "lost_sale_penalty": 40}))
    engine = engine_with_stock(sc, np.eye(3, dtype=np.int64) * 5)
    for policy in ("cheapest", "nearest"):
        d = engine.decide(_order(1, [0, 1, 2], [1, 1, 1]), 0.0, policy=policy)
        assert len(d.shipments) == 2 and d.unfilled.sum() == 1 and d.status == "partial"


def test_promise_is_pickup_plus_transit():
    services = [{"id": "g", "level": "standard", "per_package": 1.0, "pickup_hour": 17.0,
                 "transit": {"base_days": 1, "km_per_day": 500, "max_days": 9}}]
    sc = scenario_from_dict(small_scenario_dict(1, 1, 1, services=services))
    engine = engine_with_stock(sc, [[10]])
    km = float(engine.node_region_km[0, 0])
    days = 1 + math.ceil(km / 500)
    d = engine.decide(_order(1, [0], [1], t=18.5), 18.5)  # after today's 17:00 pickup
    s = d.shipments[0]
    assert s.ship_by_h == 24 + 17.0
    assert s.transit_h == 24.0 * min(days, 9)
    # picked up day 1, arrives `days` later, promised by the end of that day
    assert d.promised_h == 24.0 * (1 + min(days, 9) + 1)


@given(world=small_sequences(), policy=st.sampled_from([None, "nearest", "lookahead"]), explain=st.booleans(),
       stop_partial=st.booleans())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decide_commit_many_equals_decide_then_commit(world, policy, explain, stop_partial):
    sc, on_hand, orders, times = world
    stop = (lambda d: d.status == "partial") if stop_partial else None
    a = engine_with_stock(sc, on_hand)
    b = engine_with_stock(sc, on_hand)
    want = _outcome(_one_by_one, a, orders, times, policy, stop, explain=explain)
    got = _outcome(b.decide_commit_many, orders, times, policy, stop=stop, explain=explain)
    assert want[1] is None, want[1]   # a decision always fits at commit (tight service-days count as full)
    assert got == want
    same_state(state(b), state(a))
    assert b.full_service_days() == a.full_service_days()


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), explain=st.booleans())
@settings(max_examples=15, deadline=None)
def test_decide_commit_many_equals_decide_then_commit_on_the_default_scenario(seed, n, explain):
    sc = _default_scenario()
    rng = np.random.default_rng(seed)
    orders, times = [], np.sort(rng.uniform(0, 72, n))
    for i in range(n):
        L = int(rng.integers(1, 5))
        skus = rng.choice(len(sc.sku_ids), size=L, replace=False).astype(np.int64)
        # Big quantities of a few SKUs run some nodes out: partial orders and backorders happen too.
        orders.append(Order(i, float(times[i]), int(rng.integers(len(sc.demand.regions))), LEVELS[int(rng.integers(3))],
                            skus, rng.integers(1, 400, L).astype(np.int64)))
    a, b = _engine(sc), _engine(sc)
    want = _one_by_one(a, orders, times.tolist(), explain=explain)
    got = b.decide_commit_many(orders, times, explain=explain)
    assert [_decision_key(d) for d in got] == [_decision_key(d) for d in want]
    same_state(state(b), state(a))


def test_decide_commit_many_checks_its_times_and_orders():
    sc = scenario_from_dict(small_scenario_dict(1, 1, 1))
    engine = engine_with_stock(sc, [[5]])
    with pytest.raises(OmsimError, match="2 orders but 1 decision times"):
        engine.decide_commit_many([_order(0, [0], [1]), _order(1, [0], [1])], [0.0])
    with pytest.raises(OmsimError):
        engine.decide_commit_many([_order(0, [0], [1]), _order(1, [3], [1])], 0.0)
    # The order before the malformed one stays committed, as with decide + commit in a loop.
    assert engine.committed(0) is not None and int(engine.inventory.reserved.sum()) == 1
