"""demand.history: the simulator replays a history's orders exactly."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from omsim.errors import OmsimError
from omsim.scenario import scenario_from_dict
from omsim.sim import simulate
from omsim.sim.demand import generate_demand
from omsim.rng import Streams


def _history(tmp_path, rows, header="order_id,created_at,sku,qty,region,service_level,customer_id"):
    p = tmp_path / "orders.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    return p


def _scenario(tmp_path, history, **demand):
    raw = {
        "name": "replay", "seed": 5,
        "horizon": {"days": 3, "start": "2024-03-04"},
        "catalogue": {"skus": [{"id": "A"}, {"id": "B"}, {"id": "C"}]},
        "demand": {"orders_per_day": 999, "history": history if isinstance(history, list) else str(history),
                   "regions": [{"id": "north", "lat": 55, "lon": -2, "country": "United Kingdom"},
                               {"id": "south", "lat": 51, "lon": 0, "country": "United Kingdom", "weight": 3},
                               {"id": "paris", "lat": 48.9, "lon": 2.35, "country": "France"}],
                   **demand},
        "network": {"warehouses": [{"id": "W", "lat": 52, "lon": -1, "pickers": 2, "packers": 1,
                                    "stock": {"days_cover": 30}}]},
    }
    return scenario_from_dict(raw, base_dir=tmp_path)


ROWS = [  # three orders on 2024-03-04 and 05; one repeats a SKU; one SKU (NEW1) the catalogue lacks
    "o1,2024-03-04 09:15:00,A,2,north,standard,c1",
    "o1,2024-03-04 09:15:00,B,1,north,standard,c1",
    "o2,2024-03-04 13:40:00,C,6,south,express,c2",
    "o2,2024-03-04 13:40:00,NEW1,12,south,express,c2",
    "o2,2024-03-04 13:40:00,C,6,south,express,c2",
    "o3,2024-03-05 08:05:00,B,24,north,next_day,c1",
    "o4,2024-03-20 08:05:00,B,1,north,next_day,c1",       # outside the 3-day horizon
]


def test_replay_orders_exactly(tmp_path):
    sc = _scenario(tmp_path, _history(tmp_path, ROWS))
    assert sc.sku_ids == ["A", "B", "C", "NEW1"] and sc.demand._skus_added == 1
    dem = generate_demand(sc, Streams(5), 3)
    assert dem.order_ids.tolist() == ["o1", "o2", "o3"]
    np.testing.assert_allclose(dem.created_h, [9.25, 13 + 40 / 60, 24 + 8 + 5 / 60])
    assert np.diff(dem.line_ptr).tolist() == [2, 2, 1]
    skus = np.asarray(sc.sku_ids)[dem.line_sku]
    assert skus.tolist() == ["A", "B", "C", "NEW1", "B"]
    assert dem.line_qty.tolist() == [2, 1, 12, 12, 24]     # o2's two lines of C merged
    assert dem.region.tolist() == [0, 1, 0] and dem.level.tolist() == [0, 1, 2]

    res = simulate(sc, seed=5, days=3)
    o = res.orders[res.orders["kind"] == "order"]
    assert o["history_id"].tolist() == ["o1", "o2", "o3"]
    np.testing.assert_allclose(o["created_h"], dem.created_h)
    assert o["units"].tolist() == [3, 24, 24]
    assert res.kpis["orders"] == 3 and res.kpis["history_skus_added"] == 1
    created = res.events[res.events["event"] == "created"]
    assert created["order_id"].tolist()[:3] == [0, 1, 2]


def test_horizon_outside_the_history_shifts_weekday_aligned(tmp_path):
    sc = _scenario(tmp_path, _history(tmp_path, ROWS))
    # 2026-12-02 is a Wednesday; the history starts Monday 2024-03-04, its first Wednesday is 03-06:
    # nothing in the three days from there but o4 (2024-03-20, a Wednesday) is 14 days later.
    sc.horizon.start = dt.date(2026, 12, 2)
    dem = generate_demand(sc, Streams(5), 20)
    assert dem.order_ids.tolist() == ["o4"] and dem.created_h.tolist() == [14 * 24 + 8 + 5 / 60]
    sc.horizon.start = dt.date(2026, 11, 30)  # a Monday: the history from its first Monday
    dem = generate_demand(sc, Streams(5), 2)
    assert dem.order_ids.tolist() == ["o1", "o2", "o3"] and dem.created_h[0] == 9.25


def test_generator_fields_are_ignored_and_seeds_are_deterministic(tmp_path):
    h = _history(tmp_path, ROWS)
    a = generate_demand(_scenario(tmp_path, h, orders_per_day=5), Streams(1), 3)
    b = generate_demand(_scenario(tmp_path, h, orders_per_day=5000), Streams(1), 3)
    assert a.order_ids.tolist() == b.order_ids.tolist()
    np.testing.assert_array_equal(a.paid_h, b.paid_h)


def test_country_spreads_over_the_countrys_regions_by_weight(tmp_path):
    rows = [f"o{i},2024-03-04 10:00:00,A,1,,{'United Kingdom' if i % 4 else 'France'}" for i in range(4000)]
    sc = _scenario(tmp_path, _history(tmp_path, rows, "order_id,created_at,sku,qty,customer_id,country"))
    dem = generate_demand(sc, Streams(2), 1)
    country = np.where(np.arange(4000) % 4, "uk", "fr")
    region = dem.region[np.argsort(np.array([int(x[1:]) for x in dem.order_ids]))]
    assert set(region[country == "fr"]) == {2}
    uk = region[country == "uk"]
    assert set(uk) == {0, 1}
    share = (uk == 1).mean()           # weight 3 of 4
    assert abs(share - 0.75) < 4 * np.sqrt(0.75 * 0.25 / uk.size)


def test_candidates_first_existing_wins_and_missing_is_an_error(tmp_path):
    h = _history(tmp_path, ROWS)
    sc = _scenario(tmp_path, ["nowhere/orders.csv", h.name])
    assert sc.demand.history == str(h.resolve())
    with pytest.raises(OmsimError, match="demand.history: no such file"):
        _scenario(tmp_path, ["nowhere/orders.csv"])


def test_unknown_region_is_an_error(tmp_path):
    sc = _scenario(tmp_path, _history(tmp_path, ["o1,2024-03-04 09:15:00,A,2,mars,standard,c1"]))
    with pytest.raises(OmsimError, match="column region: 'mars' is not a region"):
        generate_demand(sc, Streams(0), 3)


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
UK = ROOT / "scenarios" / "uk-gift-retailer.yaml"
EXTRACT = ROOT / "scenarios" / "data" / "uk-gift-retailer" / "orders-2010-11-01-to-07.csv.gz"


def test_uk_gift_retailer_runs_on_the_shipped_extract():
    from omsim.history import load_history
    from omsim.scenario import load_scenario

    sc = load_scenario(UK).with_overrides({"demand.history": str(EXTRACT)})
    assert sc.demand.history == str(EXTRACT.resolve()) and sc.demand._skus_added == 0
    lines = load_history(EXTRACT).lines
    day1 = lines[lines["created_at"] < pd.Timestamp("2010-11-02", tz="Europe/London")]
    res = simulate(sc, seed=1, days=1)
    o = res.orders[res.orders["kind"] == "order"]
    assert o["history_id"].tolist() == day1["order_id"].drop_duplicates().tolist()
    units = day1.groupby("order_id", sort=False)["qty"].sum()
    assert o["units"].tolist() == units.tolist()
    assert (SOURCE := EXTRACT.parent / "SOURCE.md").is_file() and "CC BY 4.0" in SOURCE.read_text()


def test_uk_gift_retailer_replays_the_full_shared_history(shared_dir):
    from omsim.history import load_history
    from omsim.scenario import load_scenario

    full = shared_dir / "data" / "online-retail-ii" / "online_retail_II_2009_2010.csv.gz"
    sc = load_scenario(UK)
    assert sc.demand.history == str(full.resolve())        # the first candidate wins when present
    dem = generate_demand(sc, Streams(1), 7)
    week = load_history(full).lines
    week = week[(week["created_at"] >= pd.Timestamp("2010-11-01", tz="Europe/London"))
                & (week["created_at"] < pd.Timestamp("2010-11-08", tz="Europe/London"))]
    assert dem.order_ids.tolist() == week["order_id"].drop_duplicates().tolist()
    assert dem.line_qty.sum() == week["qty"].sum()


def test_a_scenarios_own_demand_replays_as_generated(tmp_path):
    from omsim.history.write import demand_frame, write_demand
    from omsim.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "small-business.yaml")
    gen = generate_demand(sc, Streams(7), 4)
    out = write_demand(demand_frame(sc, days=4, seed=7), tmp_path / "own.csv.gz")
    re = sc.with_overrides({"demand.history": str(out)})
    assert re.demand._skus_added == 0
    rep = generate_demand(re, Streams(7), 4)
    assert rep.n == gen.n
    np.testing.assert_allclose(rep.created_h, gen.created_h, atol=1 / 3600)
    np.testing.assert_array_equal(rep.line_ptr, gen.line_ptr)
    np.testing.assert_array_equal(rep.line_sku, gen.line_sku)
    np.testing.assert_array_equal(rep.line_qty, gen.line_qty)
    np.testing.assert_array_equal(rep.region, gen.region)
    np.testing.assert_array_equal(rep.level, gen.level)
