"""A decision's basis explains it later: ``alternatives(order, decide(..., basis=True))`` is exactly what
``decide(..., explain=True)`` listed when it decided, whatever the state is by then, on the compiled path and
the Python path alike (the service keeps the basis per order and works the alternatives out only when asked)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from omsim.errors import OmsimError
from omsim.orders import Order
from engine_helpers import (_decision_key, _default_scenario, _engine, engine_with_stock, random_orders,
                            small_sequences)


def _same_basis(a: dict, b: dict) -> None:
    for k in ("svc", "closed", "avail"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert a["t_h"] == b["t_h"]


def _explained_later(engine, orders, times, policy=None):
    """Decide and commit in turn, each both explained (Python path) and with a basis only (compiled where it
    covers the policy); afterwards every decision's alternatives from its basis must be the explained ones."""
    kept = []
    for o, t in zip(orders, times):
        eager = engine.decide(o, t, policy, explain=True, basis=True)
        lean = engine.decide(o, t, policy, basis=True)
        assert lean.alternatives == [] and lean.basis is not None
        assert _decision_key(lean)[:-2] == _decision_key(eager)[:-2]          # all but the alternatives
        assert lean.unfilled_reason == eager.unfilled_reason
        _same_basis(lean.basis, eager.basis)
        assert engine.alternatives(o, eager) == eager.alternatives      # at once ...
        engine.commit(lean, t)
        kept.append((o, lean, eager))
    for o, lean, eager in kept:                                          # ... and once the state moved on
        assert engine.alternatives(o, lean) == eager.alternatives
        assert engine.alternatives(o, eager) == eager.alternatives
    return kept


@given(world=small_sequences(), policy=st.sampled_from([None, "cheapest", "nearest", "lookahead"]),
       priced=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_alternatives_from_the_basis_are_the_explained_ones(world, policy, priced):
    sc, on_hand, orders, times = world
    engine = engine_with_stock(sc, on_hand)
    if priced:          # lookahead's shadow prices are part of the basis (the score of each alternative)
        rng = np.random.default_rng(len(orders))
        engine.pin_shadow_prices(rng.uniform(0, 20, (len(sc.sku_ids), len(sc.node_ids))))
    _explained_later(engine, orders, times, policy)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
@settings(max_examples=10, deadline=None)
def test_the_kernel_keeps_the_basis_of_the_python_path_on_the_default_scenario(seed, n):
    sc = _default_scenario()
    # Big quantities run some nodes out and fill capacity: closed nodes, partial orders, backorders.
    times, orders = random_orders(sc, np.random.default_rng(seed), n, 72)
    kept = _explained_later(_engine(sc), orders, times.tolist())
    assert any(len(e.alternatives) > 2 for _o, _l, e in kept)


def test_a_decision_without_a_basis_cannot_be_explained_later():
    sc = _default_scenario()
    engine = _engine(sc)
    o = Order(0, 1.0, 0, "standard", np.array([0, 1], dtype=np.int64), np.array([1, 2], dtype=np.int64))
    d = engine.decide(o, 1.0)
    assert d.basis is None
    with pytest.raises(OmsimError, match="kept no basis"):
        engine.alternatives(o, d)
    other = Order(0, 1.0, 0, "standard", np.array([5], dtype=np.int64), np.array([1], dtype=np.int64))
    with pytest.raises(OmsimError):
        engine.alternatives(other, engine.decide(o, 1.0, basis=True))
