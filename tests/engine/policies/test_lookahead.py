"""omsim.engine.policies.lookahead: shadow prices and the cost-plus-shadow choice."""
import numpy as np
import pytest
from hypothesis import given, settings

from omsim.scenario import scenario_from_dict
from engine_helpers import (_order, check_decision, engine_with_stock, same_state, small_scenario_dict, small_worlds, state)


def test_lookahead_keeps_the_scarce_unit_for_the_region_that_needs_it():
    # W1 (Chicago) holds one unit, W0 (Houston) plenty. New York (10x the demand) saves ~23 per unit
    # shipping from Chicago; Atlanta only ~4. Myopic sourcing gives Atlanta the Chicago unit; the
    # lookahead prices that unit (fluid LP dual) and ships Atlanta from Houston.
    services = [{"id": "g", "per_package": 5.0, "per_km": 0.02}]
    raw = small_scenario_dict(2, 2, 1, services=services,
                              policies={"allocation": "lookahead", "lost_sale_penalty": 80})
    raw["demand"]["regions"] = [{"id": "NYC", "lat": 40.71, "lon": -74.01, "weight": 10},
                                {"id": "ATL", "lat": 33.75, "lon": -84.39, "weight": 1}]
    # ~30 units over the lookahead window (lead time + review = 6 days): W0 is never short, W1 always.
    raw["demand"].update(orders_per_day=5, lines_per_order={"mean": 1, "max": 1}, units_per_line={"mean": 1, "max": 1})
    sc = scenario_from_dict(raw)
    engine = engine_with_stock(sc, [[100], [1]])
    km = engine.node_region_km
    saving_nyc, saving_atl = 0.02 * (km[0, 0] - km[1, 0]), 0.02 * (km[0, 1] - km[1, 1])
    assert saving_nyc > 15 and 0 < saving_atl < 5
    atl = _order(1, [0], [1], region=1)
    myopic = engine.decide(atl, 0.0, policy="cheapest")
    assert myopic.shipments[0].node == 1
    d = engine.decide(atl, 0.0, explain=True)
    check_decision(engine, atl, d, 0.0)
    assert engine.lp_results[-1]["status"] == "OPTIMAL"
    shadow = engine.shadow_prices(0.0)
    # the dual of the scarce unit is what New York would save with it (it is the marginal use)
    assert shadow[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert shadow[0, 1] == pytest.approx(saving_nyc, rel=1e-6)
    assert d.shipments[0].node == 0
    assert d.total == pytest.approx(myopic.total + saving_atl)
    chosen_score = d.total + shadow[0, 0]
    for alt in d.alternatives:
        assert chosen_score <= alt["score"] + 1e-9
    # prices are refreshed per period, not per call
    engine.decide(atl, 1.0)
    assert len(engine.lp_results) == 1
    engine.decide(atl, sc.policies.lookahead_refresh_h + 1.0)
    assert len(engine.lp_results) == 2


def _nyc_atl(stock_w1, horizon_days=28, **policies):
    """W0 (Houston) with plenty, W1 (Chicago) with ``stock_w1`` units that New York (10x the demand of
    Atlanta, ~4.5 units a day) saves most on; no node replenishes."""
    services = [{"id": "g", "per_package": 5.0, "per_km": 0.02}]
    raw = small_scenario_dict(2, 2, 1, services=services, nodes={n: {"replenishment": {"policy": "none"}}
                                                               for n in range(2)},
                              policies={"allocation": "lookahead", "lost_sale_penalty": 80, **policies})
    raw["demand"]["regions"] = [{"id": "NYC", "lat": 40.71, "lon": -74.01, "weight": 10},
                                {"id": "ATL", "lat": 33.75, "lon": -84.39, "weight": 1}]
    raw["demand"].update(orders_per_day=5, lines_per_order={"mean": 1, "max": 1}, units_per_line={"mean": 1, "max": 1})
    raw["horizon"] = {"start": "2026-03-02", "days": horizon_days}
    return engine_with_stock(scenario_from_dict(raw), [[1000], [stock_w1]])


def test_the_lookahead_window_is_a_policy_parameter_not_the_time_left_in_the_horizon():
    # 10 units at W1: New York needs ~4.5 a day, so they are scarce over a week (the default window when no
    # node replenishes) and not over one day.
    week, day = _nyc_atl(10), _nyc_atl(10, lookahead_window_h=24.0)
    km = week.node_region_km
    saving_nyc = 0.02 * (km[0, 0] - km[1, 0])
    assert week.shadow_prices(0.0)[0, 1] == pytest.approx(saving_nyc, rel=1e-6)
    assert week.lp_results[-1]["window_h"] == 168.0
    assert day.shadow_prices(0.0)[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert day.lp_results[-1]["window_h"] == 24.0
    # The window rolls with the decision time and ignores horizon.days: a 2-day and a 60-day horizon price
    # the same stock the same on day 30 (past the short one's end, as a live engine runs) as on day 0.
    short, long_ = _nyc_atl(10, horizon_days=2), _nyc_atl(10, horizon_days=60)
    for t in (0.0, 30 * 24.0 + 9.0):
        assert np.array_equal(short.shadow_prices(t), long_.shadow_prices(t))
        assert np.array_equal(short.shadow_prices(t), week.shadow_prices(0.0))
    # the window is never shorter than the refresh period
    short = _nyc_atl(10, lookahead_window_h=6.0, lookahead_refresh_h=12.0)
    short.shadow_prices(0.0)
    assert short.lp_results[-1]["window_h"] == 12.0


@given(world=small_worlds())
@settings(max_examples=30, deadline=None)
def test_lookahead_minimises_cost_plus_shadow_value(world):
    sc, on_hand, order, t = world
    engine = engine_with_stock(sc, on_hand)
    before = state(engine)
    d = engine.decide(order, t, policy="lookahead", explain=True)
    assert d.alternatives or not d.shipments      # "ship nothing" at least, unless that is the choice
    same_state(before, state(engine))
    check_decision(engine, order, d, t)
    shadow = engine.shadow_prices(t)
    assert np.all(shadow >= 0)
    used = sum(float(shadow[s.skus, s.node] @ s.qty) for s in d.shipments)
    for alt in d.alternatives:
        assert d.total + used <= alt["score"] + 1e-9
