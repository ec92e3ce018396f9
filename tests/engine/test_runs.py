"""omsim.engine.runs: decide_commit_arrays (and its remainder probe) equal decide then commit in turn
(the reference engine decides through the Python path: ``_dry_kernel = False``)."""
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from omsim.engine import DecisionEngine
from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.rng import Streams
from omsim.scenario import scenario_from_dict
from engine_helpers import (REM0, _decide_both, _default_scenario, _pair, assert_columns, assert_same_state, columnar, columns_of, decision_key, engine_with, random_orders, reference, small_scenario_dict, worlds)


@given(world=worlds(), stop_partial=st.booleans(), explain=st.sampled_from([False, False, False, True]),
       cut=st.sampled_from([0, 0, 1, 2, 3]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decide_commit_arrays_equals_decide_then_commit(world, stop_partial, explain, cut):
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    if cut:
        # Some services do not reach some regions (rate inf): nodes without a service see no stock.
        mask = np.random.default_rng(cut).random(a.services.fixed.shape) < 0.4
        for e in (a, b):
            e.services.fixed[mask] = np.inf
    want, da = _decide_both(a, b, orders, times, stop_partial, explain)
    assert da.n == len(want)
    assert_columns(da, columns_of(want, a))
    assert_same_state(a, b)
    for d in want:
        got = b.committed(d.order_id)
        assert (got is None) == (a.committed(d.order_id) is None)
        if got is not None:
            assert decision_key(got) == decision_key(d)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 150), stop_partial=st.booleans())
@settings(max_examples=12, deadline=None)
def test_decide_commit_arrays_equals_decide_then_commit_on_the_default_scenario(seed, n, stop_partial):
    sc = _default_scenario()
    times, orders = random_orders(sc, np.random.default_rng(seed), n, 24 * 9)
    a = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    a._dry_kernel = False
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    want, da = _decide_both(a, b, orders, times.tolist(), stop_partial)
    assert_columns(da, columns_of(want, a))
    assert_same_state(a, b)
    # ship every package of the first half of the open orders at the last time
    opened = sorted(a.open_order_ids())[: a.open_orders // 2]
    lot = [(o, k) for o in opened for k in range(len(a.open_order(o).unshipped))]
    for o, k in lot:
        a.ship(o, k, float(times[-1]))
    b.ship_many([o for o, _ in lot], [k for _, k in lot], float(times[-1]))
    assert_same_state(a, b)


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
        if step != "none" and a.open_orders:
            o = data.draw(st.sampled_from(sorted(a.open_order_ids())))
            if step == "cancel":
                assert b.cancel(o, pt[-1]) == a.cancel(o, pt[-1])
            else:
                ks = [k for k, ok in enumerate(a.open_order(o).unshipped) if ok]
                if ks:
                    a.ship(o, ks[0], pt[-1])
                    b.ship_many([o], [ks[0]], pt[-1])
        assert_same_state(a, b)
    for o in a.open_order_ids():
        assert decision_key(b.committed(o)) == decision_key(a.committed(o))


@given(world=worlds(), stop_partial=st.booleans(), explain=st.sampled_from([False, False, False, True]),
       cut=st.sampled_from([0, 0, 1]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_probe_remainder_equals_decide_of_the_remainder_one_by_one(world, stop_partial, explain, cut):
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    if cut:
        mask = np.random.default_rng(cut).random(a.services.fixed.shape) < 0.4
        for e in (a, b):
            e.services.fixed[mask] = np.inf
    want, rem, probes = reference(a, orders, times, stop_partial, explain=explain)
    da = columnar(b, orders, times, stop_partial)
    assert da.n == len(want)
    assert_columns(da, columns_of(want, a))
    # (a) the probe's outcome, order by order
    assert da.rem_status.dtype == np.int8 and da.rem_status.tolist() == rem.tolist()
    # (b) the whole state: stock, reservations, ledger, counters, carrier bookings, open orders (remainders too)
    assert_same_state(a, b)
    for oid, d2 in probes.items():
        got = b.committed(oid)
        assert (got is None) == (a.committed(oid) is None)
        if got is not None:
            assert decision_key(got) == decision_key(a.committed(oid)) == decision_key(
                dataclasses.replace(d2, alternatives=[]))


@given(world=worlds(), data=st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_short_runs_with_probes_then_cancel_and_ship_equal_the_one_by_one_path(world, data):
    # The simulator's pattern: many short runs with probes; registered remainders are later cancelled
    # (a backorder expires or is decided again) and packages ship, on both engines alike.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    i = 0
    while i < len(orders):
        m = data.draw(st.integers(1, 5))
        part, pt = orders[i:i + m], times[i:i + m]
        want, rem, _ = reference(a, part, pt, rem0=REM0 + i)
        da = columnar(b, part, pt, rem0=REM0 + i)
        assert da.rem_status.tolist() == rem.tolist()
        assert_columns(da, columns_of(want, a))
        assert_same_state(a, b)
        i += m
        step = data.draw(st.sampled_from(["none", "cancel", "ship"]))
        if step != "none" and a.open_orders:
            o = data.draw(st.sampled_from(sorted(a.open_order_ids())))
            if step == "cancel":
                assert b.cancel(o, pt[-1]) == a.cancel(o, pt[-1])
            else:
                ks = [k for k, ok in enumerate(a.open_order(o).unshipped) if ok]
                if ks:
                    a.ship(o, ks[0], pt[-1])
                    b.ship_many([o], [ks[0]], pt[-1])
        assert_same_state(a, b)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120))
@settings(max_examples=10, deadline=None)
def test_probe_remainder_on_the_default_scenario(seed, n):
    sc = _default_scenario()
    times, orders = random_orders(sc, np.random.default_rng(seed), n, 24 * 6)
    a = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    a._dry_kernel = False
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    want, rem, _ = reference(a, orders, times.tolist())
    da = columnar(b, orders, times.tolist())
    assert da.rem_status.tolist() == rem.tolist()
    assert_columns(da, columns_of(want, a))
    assert_same_state(a, b)
