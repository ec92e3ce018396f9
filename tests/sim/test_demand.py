"""Demand generation: NHPP rates, lines, payment, common random numbers."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.rng import Streams
from omsim.scenario import scenario_from_dict
from omsim.sim.demand import LEVELS, generate_demand, hourly_rates


def scen(**demand):
    d = {"orders_per_day": 400, "regions": [{"id": "a", "lat": 40, "lon": -74, "weight": 3},
                                            {"id": "b", "lat": 34, "lon": -118, "weight": 1}]}
    d.update(demand)
    return scenario_from_dict({"demand": d, "catalogue": {"generator": {"count": 50}},
                               "network": {"warehouses": [{"id": "W", "lat": 40, "lon": -75}]}})


def test_counts_follow_the_hour_profile():
    profile = [0.0] * 24
    profile[10], profile[20] = 1.0, 3.0
    sc = scen(hour_profile=profile, weekday_profile=[1] * 7)
    dem = generate_demand(sc, Streams(1), 20)
    hours = np.floor(dem.created_h % 24).astype(int)
    assert set(np.unique(hours)) == {10, 20}
    n10, n20 = np.sum(hours == 10), np.sum(hours == 20)
    # Poisson totals: 20 days x 100 and x 300; 5-sigma band.
    assert abs(n10 - 2000) < 5 * np.sqrt(2000)
    assert abs(n20 - 6000) < 5 * np.sqrt(6000)
    assert np.all(np.diff(dem.created_h) >= 0)


def test_weekday_and_promotion_rates():
    sc = scen(weekday_profile=[2, 1, 1, 1, 1, 1, 1], promotions=[{"start_day": 2, "days": 1, "multiplier": 3}])
    r = hourly_rates(sc, 7).reshape(7, 24).sum(1)
    wd = np.array([2, 1, 1, 1, 1, 1, 1]) / (8 / 7)
    start = sc.horizon.start.weekday()
    expect = 400 * wd[(start + np.arange(7)) % 7]
    expect[2] *= 3
    assert np.allclose(r, expect)


def test_lines_distinct_and_bounded_and_means():
    sc = scen(lines_per_order={"mean": 2.5, "max": 6}, units_per_line={"mean": 1.5, "max": 4},
              service_mix={"standard": 1, "express": 1, "next_day": 2})
    dem = generate_demand(sc, Streams(3), 10)
    lines = np.diff(dem.line_ptr)
    assert lines.min() >= 1 and lines.max() <= 6
    assert lines.mean() == pytest.approx(2.5, abs=0.1)  # truncation at 6 barely matters
    assert dem.line_qty.min() >= 1 and dem.line_qty.max() <= 4
    for i in range(dem.n):
        s = dem.line_sku[dem.line_ptr[i]:dem.line_ptr[i + 1]]
        assert len(set(s.tolist())) == s.size
    assert np.mean(dem.region == 0) == pytest.approx(0.75, abs=0.03)
    assert np.mean(dem.level == LEVELS.index("next_day")) == pytest.approx(0.5, abs=0.03)


def test_payment_failures_and_retries():
    sc = scen(payment={"failure_rate": 0.5, "retries": 2, "retry_delay_h": 1.0, "retry_success": 0.5})
    dem = generate_demand(sc, Streams(4), 10)
    failed = np.isnan(dem.paid_h)
    # P(fail) = 0.5 * 0.5 * 0.5
    assert failed.mean() == pytest.approx(0.125, abs=0.02)
    delay = dem.paid_h[~failed] - dem.created_h[~failed]
    assert set(np.round(np.unique(delay), 9)) == {0.0, 1.0, 2.0}
    assert np.all(dem.payment_attempts[failed] == 3)


def test_same_seed_same_orders_other_seed_not():
    sc = scen()
    a, b, c = (generate_demand(sc, Streams(s), 3) for s in (9, 9, 10))
    assert np.array_equal(a.created_h, b.created_h) and np.array_equal(a.line_sku, b.line_sku)
    assert a.n != c.n or not np.array_equal(a.created_h, c.created_h)


def test_longer_horizon_extends_the_same_demand():
    sc = scen()
    a, b = generate_demand(sc, Streams(2), 3), generate_demand(sc, Streams(2), 5)
    k = a.n
    assert np.array_equal(a.created_h, b.created_h[:k])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(2, 30), st.floats(0.0, 3.0))
def test_distinct_skus_draws_what_redrawing_every_line_each_round_draws(seed, n_orders, n_skus, skew):
    # Looking only at orders that had a repeat is the same redraw, number for number.
    from omsim.sim.demand import _distinct_skus, _distinct_skus_reference
    rng = np.random.default_rng(seed)
    lines = rng.integers(1, min(n_skus, 6) + 1, n_orders)
    ptr = np.concatenate([[0], np.cumsum(lines)]).astype(np.int64)
    owner = np.repeat(np.arange(n_orders, dtype=np.int64), lines)
    w = np.arange(1, n_skus + 1, dtype=np.float64) ** -skew
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    got = _distinct_skus(owner, ptr, n_skus, cdf, np.random.default_rng(seed + 1))
    want = _distinct_skus_reference(owner, n_skus, cdf, np.random.default_rng(seed + 1))
    np.testing.assert_array_equal(got, want)
    for a, b in zip(ptr[:-1], ptr[1:]):
        assert len(set(got[a:b].tolist())) == b - a


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.floats(1.0, 4.0), st.integers(0, 2))
def test_demand_made_day_by_day_is_the_demand_made_at_once(seed, days, lines_mean, retries):
    """DemandFeed (a streamed run's demand) draws the same orders as generate_demand, day after day."""
    from omsim.sim.demand import DemandFeed

    sc = scen(lines_per_order={"mean": lines_mean, "max": 6},
              payment={"failure_rate": 0.3, "retries": retries, "retry_delay_h": 0.5, "retry_success": 0.5})
    whole = generate_demand(sc, Streams(seed), days)
    feed = DemandFeed(sc, Streams(seed), days)
    assert feed.dem.n == whole.n
    rows = [feed.next_day() for _ in range(days)]
    assert rows[0][0] == 0 and rows[-1][1] == whole.n
    assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))
    got = feed.dem
    for key in ("created_h", "region", "level", "channel", "line_ptr", "paid_h", "payment_attempts"):
        np.testing.assert_array_equal(getattr(got, key), getattr(whole, key), err_msg=key)
    L = int(whole.line_ptr[-1])
    np.testing.assert_array_equal(got.line_sku[:L], whole.line_sku)
    np.testing.assert_array_equal(got.line_qty[:L], whole.line_qty)
