"""The demand format's fitted-history fields: month profile, trend, closed days, hour profile per
weekday, empirical count tables and the returning-customer process (against closed forms)."""
import datetime as dt

import numpy as np
import pytest

from omsim.errors import OmsimError
from omsim.rng import Streams
from omsim.scenario_demand import Customers
from omsim.sim.demand import customer_ids, generate_demand, hourly_rates

from test_demand import scen


def test_month_profile_trend_and_closed_days_set_the_daily_rate():
    month = [1.0] * 12
    month[1] = 3.0                                      # February 3x the other months
    sc = scen(weekday_profile=[1] * 7, month_profile=month, trend_per_year=0.5, closed_weekdays=["sat"],
              closed_dates=["02-03"])
    sc = sc.with_overrides({"horizon.start": "2027-01-25", "horizon.days": 14})
    r = hourly_rates(sc, 14).reshape(14, 24).sum(1)
    dates = [dt.date(2027, 1, 25) + dt.timedelta(days=k) for k in range(14)]
    mean_m = np.mean(month)
    expect = np.array([400 * month[d.month - 1] / mean_m * 1.5 ** (k / 365.25) for k, d in enumerate(dates)])
    expect[[k for k, d in enumerate(dates) if d.weekday() == 5 or d == dt.date(2027, 2, 3)]] = 0.0
    np.testing.assert_allclose(r, expect)


def test_hour_profile_by_weekday_replaces_the_profile_on_that_day():
    tue = [0.0] * 24
    tue[9] = 1.0
    sc = scen(weekday_profile=[1] * 7, hour_profile_by_weekday={"tue": tue})
    r = hourly_rates(sc, 7).reshape(7, 24)
    dow = (sc.horizon.start.weekday() + np.arange(7)) % 7
    assert r[dow == 1, 9].item() == pytest.approx(400) and r[dow == 1].sum() == pytest.approx(400)
    hp = np.asarray(sc.demand.hour_profile) / sum(sc.demand.hour_profile)
    np.testing.assert_allclose(r[dow == 0][0], 400 * hp)


def test_count_tables_are_drawn_with_their_weights():
    table = [[1, 5], [6, 2], [12, 2], [24, 1]]
    sc = scen(units_per_line={"table": table}, lines_per_order={"table": [[1, 1], [3, 1]]})
    dem = generate_demand(sc, Streams(3), 14)
    v, c = np.unique(dem.line_qty, return_counts=True)
    assert v.tolist() == [1, 6, 12, 24]
    p = np.array([5, 2, 2, 1]) / 10
    n = dem.line_qty.size
    assert np.all(np.abs(c - n * p) < 5 * np.sqrt(n * p * (1 - p)))
    assert set(np.diff(dem.line_ptr).tolist()) == {1, 3}


@pytest.mark.parametrize("pref, single", [(1.0, 2 / 3), (0.0, 1 / 2)])
def test_returning_customers_match_the_closed_forms(pref, single):
    # returning share r = 1/2. Preferential (Yule-Simon): a share 1/(1 + r) of customers order once.
    # Uniform over customers: a customer first seen at s gets Poisson(c ln(T/s)) more orders,
    # c = r / (1 - r), so a share E[(s/T)^c] = 1/(1 + c) order once.
    ids = customer_ids(Customers(returning_share=0.5, preferential=pref), 200_000, np.random.default_rng(1))
    counts = np.bincount(ids)
    assert ids.min() == 0 and (counts == 1).mean() == pytest.approx(single, abs=0.01)
    assert 1 - counts.size / ids.size == pytest.approx(0.5, abs=0.01)


def test_guests_have_no_customer_and_runs_without_customers_have_none():
    ids = customer_ids(Customers(returning_share=0.3, guest_share=0.25), 40_000, np.random.default_rng(2))
    assert (ids == -1).mean() == pytest.approx(0.25, abs=0.01)
    assert generate_demand(scen(), Streams(1), 1).customer is None
    dem = generate_demand(scen(customers={"returning_share": 0.5}), Streams(1), 2)
    assert dem.customer.shape == (dem.n,) and dem.customer.min() >= 0


@pytest.mark.parametrize("demand, field", [({"units_per_line": {"table": [[2, 1], [2, 3]]}}, "units_per_line"),
                                           ({"units_per_line": {"table": [[0, 1]]}}, "units_per_line"),
                                           ({"closed_dates": ["13-01"]}, "closed_dates"),
                                           ({"closed_weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
                                            "demand"),
                                           ({"month_profile": [1.0] * 11}, "month_profile")])
def test_bad_fields_name_the_field(demand, field):
    with pytest.raises(OmsimError) as exc:
        scen(**demand)
    assert field in exc.value.message
