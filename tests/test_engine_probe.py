"""decide_commit_arrays(probe_remainder=True) and register_backorders against the one-by-one path.

The reference is the simulator's old pattern on the engine's Python path
(``_dry_kernel = False``): decide + commit each order; after each ``partial``
one, ``decide`` its unfilled lines (a probe: nothing committed) and commit
that probe when it ships nothing and is a backorder or hold. The columnar
path must report each probe's outcome in ``rem_status`` and, once the
remainders are registered after the run, leave the same engine state.
"""
import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omsim.engine import DECISION_STATUSES, DecisionEngine, decision_arrays
from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.rng import Streams

import pytest

from test_engine_arrays import (_default_scenario, _pair, as_columns, assert_columns, assert_same_state,
                                columns_of, decision_key, engine_with, random_lines, random_orders, worlds)
from test_engine import small_scenario_dict
from omsim.scenario import scenario_from_dict

WAIT = (DECISION_STATUSES.index("backorder"), DECISION_STATUSES.index("hold"))
REM0 = 100_000      # remainder ids: REM0 + the order's position


def reference(engine, orders, times, stop_partial=False, rem0=REM0):
    """Decide + commit in turn; each partial order's remainder probed with decide(), committed if it waits."""
    decs, rem, probes = [], [], {}
    for i, (o, t) in enumerate(zip(orders, times)):
        d = engine.decide(o, t)
        engine.commit(d, t)
        decs.append(d)
        if d.status != "partial":
            rem.append(-1)
            continue
        short = d.unfilled > 0
        probe = Order(rem0 + i, t, o.region, o.level, o.skus[short].copy(), d.unfilled[short].copy())
        d2 = engine.decide(probe, t)
        rem.append(-2 if d2.shipments else DECISION_STATUSES.index(d2.status))
        probes[rem0 + i] = d2
        if not d2.shipments and d2.status in ("backorder", "hold"):
            # register_backorders keeps no alternatives (with explain=True they described a state gone by)
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
        rp, rs, rq = [0], [], []
        for i in rows:
            u = da.unfilled[ptr[i]:ptr[i + 1]]
            short = u > 0
            rs.append(sku[ptr[i]:ptr[i + 1]][short])
            rq.append(u[short])
            rp.append(rp[-1] + int(short.sum()))
        engine.register_backorders(np.array([rem0 + i for i in rows]), np.array([times[i] for i in rows]),
                                   reg[rows], lev[rows], np.array(rp), np.concatenate(rs), np.concatenate(rq),
                                   da.rem_status[rows])
    return da


@given(world=worlds(), stop_partial=st.booleans(), explain=st.sampled_from([False, False, False, True]),
       cut=st.sampled_from([0, 0, 1]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_probe_remainder_equals_decide_of_the_remainder_one_by_one(world, stop_partial, explain, cut):
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap, explain)
    if cut:
        mask = np.random.default_rng(cut).random(a.services.fixed.shape) < 0.4
        for e in (a, b):
            e.services.fixed[mask] = np.inf
    want, rem, probes = reference(a, orders, times, stop_partial)
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


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120))
@settings(max_examples=10, deadline=None)
def test_probe_remainder_on_the_default_scenario(seed, n):
    sc = _default_scenario()
    times, orders = random_orders(sc, np.random.default_rng(seed), n, 24 * 6)
    a = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    a._dry_kernel = False
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    want, rem, _ = reference(a, orders, times.tolist())
    da = columnar(b, orders, times.tolist())
    assert da.rem_status.tolist() == rem.tolist()
    assert_columns(da, columns_of(want, a))
    assert_same_state(a, b)


def test_the_probe_is_decided_in_the_kernel_and_rem_status_is_always_filled(monkeypatch):
    # Scarce stock on the default scenario: many partial orders, every probe decided in C (no Python decide),
    # and without probe_remainder rem_status is -1 throughout (decision_arrays too).
    sc = _default_scenario()
    rng = np.random.default_rng(11)
    n = 200
    times = np.sort(rng.uniform(0, 48, n))
    ptr, sku = random_lines(rng, n, 20)
    qty = rng.integers(50, 400, ptr[-1]).astype(np.int64)
    reg, lev = rng.integers(0, len(sc.demand.regions), n), rng.integers(0, 3, n)
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    calls = []
    monkeypatch.setattr(b, "decide", lambda *x, **k: calls.append(x))
    monkeypatch.setattr(b, "_decide_one", lambda *x, **k: calls.append(x))
    da = b.decide_commit_arrays(np.arange(n), times, reg, lev, ptr, sku, qty, probe_remainder=True)
    partial = da.status == DECISION_STATUSES.index("partial")
    assert da.n == n and not calls and partial.sum() > 5
    assert np.all((da.rem_status >= 0) | (da.rem_status == -2) == partial)
    assert np.all(da.rem_status[~partial] == -1)
    c = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    dc = c.decide_commit_arrays(np.arange(n), times, reg, lev, ptr, sku, qty)
    assert np.array_equal(dc.status, da.status) and np.all(dc.rem_status == -1)
    c2 = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    o = Order(0, 1.0, 0, "standard", np.array([0]), np.array([1]))
    assert decision_arrays([c2.decide(o, 1.0)], c2).rem_status.tolist() == [-1]


def test_register_backorders_refuses_what_commit_refuses_and_registers_nothing_then():
    sc = scenario_from_dict(small_scenario_dict(1, 1, 2, policies={"no_stock": "hold"}))
    e = engine_with(sc, [[0, 0]], explain=False)
    bo, hold, cancel = (DECISION_STATUSES.index(s) for s in ("backorder", "hold", "cancel"))
    cols = dict(order_ids=[1, 2], t_h=[0.0, 30.0], region=[0, 0], level=[0, 0], line_ptr=[0, 1, 2],
                line_sku=[0, 1], line_qty=[2, 1])
    with pytest.raises(OmsimError, match="order 2: status code 0"):
        e.register_backorders(**cols, statuses=[bo, 0])
    with pytest.raises(OmsimError, match="order 1: SKU index"):
        e.register_backorders(**dict(cols, line_sku=[5, 1]), statuses=[bo, bo])
    with pytest.raises(OmsimError, match="twice"):
        e.register_backorders(**dict(cols, order_ids=[3, 3]), statuses=[bo, bo])
    assert e.open_orders == 0
    e.register_backorders(**cols, statuses=[hold, cancel])
    assert e.open_orders == 1 and e.committed(2) is None
    d = e.committed(1)
    e._dry_kernel = False
    ref = e.decide(Order(1, 0.0, 0, "standard", np.array([0]), np.array([2])), 0.0)
    assert d.status == ref.status == "hold" and decision_key(d) == decision_key(ref) and not ref.shipments
    with pytest.raises(OmsimError, match="order 1: already committed"):
        e.register_backorders(**cols, statuses=[bo, bo])
    with pytest.raises(OmsimError, match="no shipment 0"):
        e.ship(1, 0, 1.0)
    assert e.cancel(1, 1.0) == 0 and e.open_orders == 0


def test_a_remainder_that_needs_the_split_penalty_re_solve_is_probed_by_the_python_path(monkeypatch):
    # Order 1: 2 units of S0 (only at W0) and 1 of S1 (only at W1), one package at most: W0 ships (its package
    # plus the split penalty the kernel charges is below 2 lost units), S1 is unfilled. Its probe, 1 unit of S1
    # at W1: the kernel's solve ships nothing (package + split penalty > one lost unit) although stock is there,
    # so the exact re-solve (Python) decides it: one package, no split penalty, cheaper than the lost sale.
    svc = [{"id": "s", "level": "standard", "per_package": 10.0, "per_kg": 0.0}]
    pol = {"max_packages": 1, "split_penalty": 15.0, "lost_sale_penalty": 20.0, "no_stock": "backorder"}
    sc = scenario_from_dict(small_scenario_dict(2, 1, 2, services=svc, policies=pol,
                                                nodes={0: {"handling_cost_per_order": 0.0, "handling_cost_per_line": 0.0},
                                                       1: {"handling_cost_per_order": 0.0, "handling_cost_per_line": 0.0}}))
    stock = [[9, 0], [0, 5]]
    orders = [Order(1, 1.0, 0, "standard", np.array([0, 1]), np.array([2, 1])),
              Order(2, 2.0, 0, "standard", np.array([0]), np.array([2]))]
    for k in (2, 1):        # the partial order first in its run, then last (the probe's dry run follows it)
        a = engine_with(sc, stock, explain=False)
        a._dry_kernel = False
        b = engine_with(sc, stock, explain=False)
        calls = []
        orig = b._probe_remainder
        monkeypatch.setattr(b, "_probe_remainder", lambda run, i: calls.append(i) or orig(run, i))
        monkeypatch.setattr(b, "_decide_one", lambda *x: pytest.fail("order decided by the Python path"))
        want, rem, _ = reference(a, orders[:k], [1.0, 2.0][:k])
        da = columnar(b, orders[:k], [1.0, 2.0][:k])
        assert [d.status for d in want] == ["partial", "allocated"][:k]
        assert rem.tolist() == da.rem_status.tolist() == [-2, -1][:k] and calls == [0]
        assert_columns(da, columns_of(want, a))
        assert_same_state(a, b)
        # the next run goes on from the state (and the store rows) the probe left
        want2, _, _ = reference(a, [Order(3, 3.0, 0, "standard", np.array([0]), np.array([2]))], [3.0])
        da2 = columnar(b, [Order(3, 3.0, 0, "standard", np.array([0]), np.array([2]))], [3.0])
        assert_columns(da2, columns_of(want2, a))
        assert_columns(da, columns_of(want, a))
        assert_same_state(a, b)
