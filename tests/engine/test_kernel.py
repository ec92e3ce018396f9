"""omsim.engine.kernel: the compiled loop against the Python path (the reference), and its binding.

The only tests that read or set engine internals (``_dry_kernel``, ``_decide_compiled``, ``_kernel_covers``, ...)."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from omsim._kernels import _decide
from omsim.engine import DECISION_STATUSES, DecisionEngine, decision_arrays
from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.rng import Streams
from omsim.scenario import scenario_from_dict
from engine_helpers import (LEVELS, _decide_both, _default_scenario, _pair, assert_columns, assert_same_state, assert_same_state_dict, columnar, columns_of, decision_key, engine_with, full_state, random_lines, reference, small_scenario_dict, worlds)


def test_the_kernel_path_covers_the_default_scenario_without_python_steps(monkeypatch):
    # The default scenario's orders are decided in C: the Python path is not called once.
    sc = _default_scenario()
    rng = np.random.default_rng(5)
    n = 300
    times = np.sort(rng.uniform(0, 48, n))
    ptr, sku = random_lines(rng, n, len(sc.sku_ids))
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    calls = []
    monkeypatch.setattr(b, "_decide_one", lambda *a: calls.append(a))
    da = b.decide_commit_arrays(np.arange(n), times, rng.integers(0, len(sc.demand.regions), n),
                                rng.integers(0, 3, n), ptr, sku, rng.integers(1, 3, ptr[-1]))
    assert da.n == n and not calls
    assert (da.status == DECISION_STATUSES.index("allocated")).sum() > n // 2


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
    a = DecisionEngine.from_scenario(sc, Streams(sc.seed))
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
    e = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    assert e._kernel_covers("cheapest")
    lab = e.labour_units_per_h.copy()
    lab[0] = 0.0
    e.labour_units_per_h = lab
    assert not e._kernel_covers("cheapest")


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
    b = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    calls = []
    monkeypatch.setattr(b, "decide", lambda *x, **k: calls.append(x))
    monkeypatch.setattr(b, "_decide_one", lambda *x, **k: calls.append(x))
    da = b.decide_commit_arrays(np.arange(n), times, reg, lev, ptr, sku, qty, probe_remainder=True)
    partial = da.status == DECISION_STATUSES.index("partial")
    assert da.n == n and not calls and partial.sum() > 5
    assert np.all((da.rem_status >= 0) | (da.rem_status == -2) == partial)
    assert np.all(da.rem_status[~partial] == -1)
    c = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    dc = c.decide_commit_arrays(np.arange(n), times, reg, lev, ptr, sku, qty)
    assert np.array_equal(dc.status, da.status) and np.all(dc.rem_status == -1)
    c2 = DecisionEngine.from_scenario(sc, Streams(sc.seed))
    o = Order(0, 1.0, 0, "standard", np.array([0]), np.array([1]))
    assert decision_arrays([c2.decide(o, 1.0)], c2).rem_status.tolist() == [-1]


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
        a = engine_with(sc, stock)
        a._dry_kernel = False
        b = engine_with(sc, stock)
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
