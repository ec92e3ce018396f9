"""omsim.engine.policies.cheapest: the exact optimum, against brute force."""
import pytest
from hypothesis import given, settings, strategies as st
from engine_helpers import (_default_scenario, _engine, brute_force, check_decision, default_orders, default_scenario, engine_with_stock, same_state, small_worlds, state)


@given(world=small_worlds())
@settings(max_examples=250, deadline=None)
def test_small_worlds_cheapest_is_the_brute_force_optimum(world):
    sc, on_hand, order, t = world
    engine = engine_with_stock(sc, on_hand)
    before = state(engine)
    d = engine.decide(order, t, policy="cheapest", explain=True)
    same_state(before, state(engine))
    check_decision(engine, order, d, t)
    avail = on_hand[:, order.skus].T
    best = brute_force(sc, order, avail)
    assert d.total == pytest.approx(best, rel=1e-9, abs=1e-9)
    # without the alternatives (the simulator's fast path: the compiled kernel) the same decision
    lean = engine.decide(order, t, policy="cheapest")
    assert lean.total == pytest.approx(best, rel=1e-9, abs=1e-9) and lean.alternatives == []
    near = engine.decide(order, t, policy="nearest")
    check_decision(engine, order, near, t)
    assert d.total <= near.total + 1e-9
    for alt in d.alternatives:
        assert d.total <= alt["total"] + 1e-9


@given(order=default_orders(), t=st.floats(0, 160))
@settings(max_examples=100, deadline=None)
def test_default_cheapest_beats_nearest_and_alternatives(order, t):
    default_scenario = _default_scenario()
    engine = _engine(default_scenario)
    cheap = engine.decide(order, t, policy="cheapest", explain=True)
    near = engine.decide(order, t, policy="nearest")
    assert cheap.total <= near.total + 1e-9
    assert cheap.alternatives, "explain mode lists alternatives"
    for alt in cheap.alternatives:
        assert cheap.total <= alt["total"] + 1e-9
        assert set(alt) >= {"nodes", "total", "why"}
