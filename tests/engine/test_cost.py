"""omsim.engine.cost: the cost breakdown adds up to the total (against a reference cost written from the rate formulas)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from omsim.scenario import scenario_from_dict
from omsim.orders import COST_KEYS
from engine_helpers import (_default_scenario, _engine, _order, check_decision, default_orders, default_scenario, engine_with_stock, reference_cost, same_state, small_scenario_dict, small_worlds, state)


@given(order=default_orders(), policy=st.sampled_from(["cheapest", "nearest"]), t=st.floats(0, 160))
@settings(max_examples=150, deadline=None)
def test_default_breakdown_adds_up_and_decide_is_pure(order, policy, t):
    default_scenario = _default_scenario()
    engine = _engine(default_scenario)
    order.created_h = t
    before = state(engine)
    d = engine.decide(order, t, policy=policy)
    same_state(before, state(engine))
    check_decision(engine, order, d, t)
    # the engine's own cost function agrees with the breakdown
    assign = np.zeros((len(order.skus), engine.n_nodes), dtype=np.int64)
    line = {int(s): i for i, s in enumerate(order.skus)}
    for s in d.shipments:
        for j, q in zip(s.skus, s.qty):
            assign[line[int(j)], s.node] = q
    assert engine.evaluate(order, t, assign) == pytest.approx(d.total, rel=1e-9)
    assert reference_cost(default_scenario, order, assign) == pytest.approx(d.total, rel=1e-9)


def test_a_single_package_pays_no_split_penalty_even_when_close_to_the_lost_sale_cost():
    # Shipping costs 10, not shipping 11: ship. (Priced with the split penalty on every package the
    # kernel alone would see 15 > 11.)
    services = [{"id": "g", "per_package": 10.0, "per_kg": 0.0}]
    sc = scenario_from_dict(small_scenario_dict(
        2, 1, 1, services=services, policies={"split_penalty": 5.0, "lost_sale_penalty": 11.0},
        nodes={0: {"handling_cost_per_order": 0, "handling_cost_per_line": 0},
               1: {"handling_cost_per_order": 0, "handling_cost_per_line": 0}}))
    for explain in (True, False):
        engine = engine_with_stock(sc, [[1], [1]])
        d = engine.decide(_order(1, [0], [1]), 0.0, explain=explain)
        assert d.status == "allocated" and d.total == pytest.approx(10.0)
        # two units from two nodes: 2 x 10 + 5 > 2 x 11? no (25 > 22): one ships, one is lost
        d = engine.decide(_order(2, [0], [2]), 0.0, explain=explain)
        assert d.status == "partial" and d.total == pytest.approx(21.0)


@given(world=small_worlds(), policy=st.sampled_from(["cheapest", "nearest"]))
@settings(max_examples=150, deadline=None)
def test_every_alternative_has_the_chosen_ones_breakdown_and_the_reference_cost(world, policy):
    """Each alternative's breakdown has the chosen one's keys and adds up to its total, which is the reference
    cost of its assignment; under cheapest the chosen one costs least, under nearest the cheapest alternative does."""
    sc, on_hand, order, t = world
    engine = engine_with_stock(sc, on_hand)
    d = engine.decide(order, t, policy=policy, explain=True)
    prep = engine._prepare(order, t)
    fill = np.minimum(order.qty[:, None], prep.avail)
    for a in d.alternatives:
        assert list(a["cost"]) == list(COST_KEYS) and set(a["cost"]) == set(d.cost)
        total = 0.0
        for k in COST_KEYS:
            total += a["cost"][k]
        assert a["total"] == total
        x = np.zeros_like(fill)
        if a["why"].startswith("one package from"):
            n = engine.node_ids.index(a["nodes"][0])
            x[:, n] = fill[:, n]
        elif a["why"].startswith("nearest"):
            x = engine._nearest(prep)
        elif a["why"].startswith("cheapest"):
            x = engine._cheapest(prep)
        else:
            assert a["why"].startswith("ship nothing")
        assert a["total"] == pytest.approx(reference_cost(sc, order, x), rel=1e-9, abs=1e-9)
        assert a["cost"]["split_penalty"] == pytest.approx(sc.policies.split_penalty * max(len(a["nodes"]) - 1, 0))
        assert a["cost"]["lost_penalty"] == pytest.approx(sc.policies.lost_sale_penalty * (order.qty.sum() - a["units"]))
        if policy == "cheapest":
            assert d.total <= a["total"] + 1e-9
        elif a["why"].startswith("cheapest"):
            assert a["total"] <= d.total + 1e-9
