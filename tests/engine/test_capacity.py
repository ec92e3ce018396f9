"""omsim.engine.capacity: node capacity per day throttles orders and units."""
import math

import pytest

from omsim.scenario import scenario_from_dict
from engine_helpers import _order, engine_with_stock, small_scenario_dict


@pytest.mark.parametrize("policy", ["nearest", "cheapest"])
def test_node_capacity_throttles_orders_per_day(policy):
    # Region R0 is New York; W1 (Chicago) is nearer and cheaper (per-km rate) than W0 (Houston).
    services = [{"id": "g", "per_package": 5.0, "per_km": 0.002}]
    sc = scenario_from_dict(small_scenario_dict(2, 1, 1, services=services,
                                                nodes={1: {"capacity_orders_per_day": 2}}))
    engine = engine_with_stock(sc, [[50], [50]])
    assert engine.node_region_km[1, 0] < engine.node_region_km[0, 0]
    assert engine.capacity_left(1, 0) == 2 and engine.capacity_left(0, 0) == math.inf
    used = []
    for i in range(4):
        d = engine.decide(_order(i, [0], [1]), 1.0 + i, policy=policy)
        engine.commit(d, 1.0 + i)
        used.append(d.shipments[0].node)
    assert used == [1, 1, 0, 0]
    assert engine.capacity_left(1, 0) == 0
    # a new day: the node takes orders again
    d = engine.decide(_order(10, [0], [1]), 25.0, policy=policy)
    assert d.shipments[0].node == 1 and engine.capacity_left(1, 1) == 2
    # cancelling gives the capacity back
    engine.cancel(0, 6.0)
    assert engine.capacity_left(1, 0) == 1


def test_unit_capacity_throttles_units_per_day():
    services = [{"id": "g", "per_package": 5.0, "per_km": 0.002}]
    sc = scenario_from_dict(small_scenario_dict(2, 1, 2, services=services, policies={"max_packages": 2}))
    engine = engine_with_stock(sc, [[50, 50], [50, 50]], capacity_units_per_day=[100, 3])
    # W1 (nearer, cheaper) may take 3 units a day
    d = engine.decide(_order(1, [0, 1], [2, 2]), 1.0)
    assert all(s.node == 0 for s in d.shipments)          # 4 units: only W0 can send them in one package
    d = engine.decide(_order(2, [0, 1], [2, 1]), 1.0)
    assert [s.node for s in d.shipments] == [1]
    engine.commit(d, 1.0)
    d = engine.decide(_order(3, [0], [1]), 2.0)
    assert [s.node for s in d.shipments] == [0]           # W1's 3 units are used up today
    d = engine.decide(_order(4, [0], [1]), 25.0)
    assert [s.node for s in d.shipments] == [1]           # a new day
