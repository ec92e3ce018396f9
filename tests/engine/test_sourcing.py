"""omsim.engine.sourcing: order checks and rate shopping."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.scenario import scenario_from_dict
from engine_helpers import (_one_by_one, _order, _outcome, engine_with_stock, same_state, small_scenario_dict, small_sequences, state)


@pytest.mark.parametrize("bad", [
    dict(level="same_day"), dict(region=99), dict(skus=np.array([0, 0]), qty=np.array([1, 1])),
    dict(qty=np.array([0])), dict(skus=np.array([999])), dict(skus=np.array([0.5]))])
def test_malformed_orders_raise_and_change_nothing(bad):
    sc = scenario_from_dict(small_scenario_dict(1, 1, 1))
    engine = engine_with_stock(sc, [[2]])
    kw = dict(order_id=1, created_h=0.0, region=0, level="standard", skus=np.array([0]), qty=np.array([1]))
    kw.update(bad)
    before = state(engine)
    with pytest.raises(OmsimError):
        engine.decide(Order(**kw), 0.0)
    same_state(before, state(engine))


def test_carrier_capacity_moves_to_the_next_service_or_day():
    services = [{"id": "cheap", "level": "standard", "per_package": 1.0, "daily_capacity": 1},
                {"id": "dear", "level": "standard", "per_package": 9.0, "daily_capacity": 1}]
    sc = scenario_from_dict(small_scenario_dict(1, 1, 1, services=services, policies={"max_packages": 1}))
    engine = engine_with_stock(sc, [[10]])
    got = []
    for i in range(3):
        d = engine.decide(_order(i, [0], [1]), 1.0)
        engine.commit(d, 1.0)
        s = d.shipments[0]
        got.append((s.service, int(s.ship_by_h // 24)))
    assert got == [("cheap", 0), ("dear", 0), ("cheap", 1)]
    engine.cancel(0, 2.0)  # gives day 0's cheap pickup back
    d = engine.decide(_order(5, [0], [1]), 2.0)
    assert (d.shipments[0].service, int(d.shipments[0].ship_by_h // 24)) == ("cheap", 0)


def test_fastest_carrier_selection():
    services = [{"id": "slow", "per_package": 3.0, "transit": {"base_days": 3, "km_per_day": 500, "max_days": 9}},
                {"id": "fast", "per_package": 9.0, "transit": {"base_days": 1, "km_per_day": 5000, "max_days": 2}}]
    for how, expect in (("cheapest", "slow"), ("fastest", "fast")):
        sc = scenario_from_dict(small_scenario_dict(1, 1, 1, services=services, policies={"carrier_selection": how}))
        d = engine_with_stock(sc, [[5]]).decide(_order(1, [0], [1]), 1.0)
        assert d.shipments[0].service == expect


@given(world=small_sequences())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_rate_shopping_equals_the_general_branch(world):
    # _prepare ranks services before working out pickups when pickups cannot change the ranking;
    # the general branch (every service's pickup, then the ranking) must give the same decisions.
    sc, on_hand, orders, times = world
    fast = engine_with_stock(sc, on_hand)
    general = engine_with_stock(sc, on_hand)
    general._shop_fast = False
    want = _outcome(_one_by_one, general, orders, times)
    got = _outcome(_one_by_one, fast, orders, times)
    assert got == want
    same_state(state(fast), state(general))
