"""omsim plan: bad input is refused with file, row and column; a plan accounts for every
unit, respects the stock snapshot and the carts, and its routes are real tours."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from omsim.cli import main
from omsim.errors import OmsimError
from omsim.inputs import read_open_orders, read_stock, to_hours
from omsim.plan import make_plan
from omsim.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios" / "default.yaml"
ORDERS = ROOT / "scenarios" / "plan" / "open_orders.csv"
STOCK = ROOT / "scenarios" / "plan" / "stock.csv"
AT = "2026-12-01 08:00"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCEN)


@pytest.fixture(scope="module")
def plan(scenario):
    return make_plan(scenario, ORDERS, STOCK, AT)


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


GOOD_HEADER = "order_id,sku,qty,region,service_level,created_at"


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


# ------------------------------------------------------------------ bad input through the CLI
@pytest.mark.parametrize("body, needle", [
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,standard,2026-12-01 07:00\nA,NOPE,1,chicago,standard,2026-12-01 07:00",
     "row 3, column sku: unknown SKU 'NOPE'"),
    (f"{GOOD_HEADER}\nA,SKU00001,-2,chicago,standard,2026-12-01 07:00",
     "row 2, column qty: must be >= 1, got '-2'"),
    (f"{GOOD_HEADER}\nA,SKU00001,1.5,chicago,standard,2026-12-01 07:00",
     "row 2, column qty: expected a whole number"),
    ("order_id,sku,region,service_level,created_at\nA,SKU00001,chicago,standard,2026-12-01 07:00",
     "row 1: missing column(s) qty"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,atlantis,standard,2026-12-01 07:00",
     "row 2, column region: unknown region 'atlantis'"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,same_hour,2026-12-01 07:00",
     "row 2, column service_level: expected one of standard, express, next_day"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,standard,yesterday",
     "row 2, column created_at: expected a date and time"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,standard,2026-12-01 09:00",
     "row 2, column created_at: 2026-12-01 09:00 is after the planning time 2026-12-01 08:00"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,standard,2026-12-01 07:00\nA,SKU00002,1,boston,standard,2026-12-01 07:00",
     "row 3, column region: order 'A' has a different region on row 2"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,standard,2026-12-01 07:00\nA,SKU00001,2,chicago,standard,2026-12-01 07:00",
     "row 3, column sku: SKU 'SKU00001' appears twice in order 'A'"),
    (f"{GOOD_HEADER}\nA,SKU00001,1,chicago,standard,2026-12-01 07:00,extra",
     "row 2: more fields than the header has"),
    (GOOD_HEADER, "no order rows"),
])
def test_bad_orders_exit_2_naming_file_row_column_and_write_nothing(tmp_path, body, needle):
    bad = _write(tmp_path / "orders.csv", body)
    out = tmp_path / "out"
    res = _run(["plan", "--scenario", str(SCEN), "--orders", str(bad), "--at", AT, "--out", str(out)])
    assert res.exit_code == 2
    assert str(bad) in res.output and needle in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.glob(".out.tmp-*"))


def test_every_bad_row_is_reported_at_once(tmp_path, scenario):
    bad = _write(tmp_path / "o.csv", f"{GOOD_HEADER}\nA,X1,1,chicago,standard,2026-12-01 07:00\n"
                                      f"B,SKU00001,0,chicago,standard,2026-12-01 07:00\n"
                                      f"C,SKU00001,1,mars,standard,2026-12-01 07:00")
    with pytest.raises(OmsimError) as exc:
        read_open_orders(bad, scenario)
    assert len(exc.value.errors) == 3
    assert [e.split(": ", 1)[1].split(",")[0] for e in exc.value.errors] == ["row 2", "row 3", "row 4"]


@pytest.mark.parametrize("body, needle", [
    ("node,sku,on_hand\nRNO,SKU00001,5\nXXX,SKU00001,5", "row 3, column node: unknown node 'XXX'"),
    ("node,sku,on_hand\nRNO,SKU00001,-1", "row 2, column on_hand: must be >= 0, got '-1'"),
    ("node,sku,on_hand\nRNO,BAD,1", "row 2, column sku: unknown SKU 'BAD'"),
    ("node,sku\nRNO,SKU00001", "row 1: missing column(s) on_hand"),
    ("node,sku,on_hand\nRNO,SKU00001,1\nRNO,SKU00001,2", "row 3, column sku: node 'RNO' and SKU 'SKU00001' already listed on row 2"),
])
def test_bad_stock_exit_2(tmp_path, body, needle):
    bad = _write(tmp_path / "stock.csv", body)
    out = tmp_path / "out"
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--stock", str(bad), "--at", AT, "--out", str(out)])
    assert res.exit_code == 2
    assert str(bad) in res.output and needle in res.output
    assert not out.exists()


def test_missing_files_and_bad_time(tmp_path):
    res = _run(["plan", "-s", str(SCEN), "--orders", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "none.csv: no such file" in res.output
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--at", "soon", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--at: expected a date and time" in res.output
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--at", "2026-01-01 08:00", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "before the scenario's start date" in res.output
    assert not (tmp_path / "o").exists()


def test_lat_lon_maps_to_the_nearest_region(tmp_path, scenario):
    f = _write(tmp_path / "o.csv", "order_id,sku,qty,lat,lon,created_at\n"
                                   "A,SKU00001,1,41.9,-87.7,2026-12-01 07:00\nB,SKU00002,2,47.5,-122.2,2026-12-01 06:00")
    oo = read_open_orders(f, scenario)
    region_ids = [r.id for r in scenario.demand.regions]
    assert [region_ids[o.region] for o in oo.orders] == ["chicago", "seattle"]
    assert [o.level for o in oo.orders] == ["standard", "standard"]  # the default level
    assert oo.orders[1].created_h == pytest.approx(24 + 6)  # the scenario starts 2026-11-30


def test_stock_snapshot_replaces_initial_stock(scenario):
    on_hand, safety = read_stock(STOCK, scenario)
    df = pd.read_csv(STOCK)
    assert on_hand.sum() == df["on_hand"].sum() and safety is None
    n = scenario.node_ids.index("MEM")
    j = scenario.sku_ids.index("SKU00010")
    assert on_hand[n, j] == int(df[(df.node == "MEM") & (df.sku == "SKU00010")]["on_hand"].iloc[0])
    assert on_hand[:, 60:].sum() == 0  # SKUs not listed carry nothing


# ------------------------------------------------------------------ the plan itself
def test_every_unit_is_shipped_or_reported(plan):
    orders = pd.read_csv(ORDERS)
    want = Counter({(r.order_id, r.sku): r.qty for r in orders.itertuples()})
    got = Counter()
    for r in plan.lines.itertuples():
        got[(r.order_id, r.sku)] += r.qty
    assert got == want
    s = plan.summary
    assert s["orders"] == orders["order_id"].nunique() and s["units"] == orders["qty"].sum()
    shipped = plan.lines[plan.lines["package"] > 0]
    assert s["units_allocated"] == shipped["qty"].sum()
    assert s["packages"] == len(shipped.drop_duplicates(["order_id", "package"]))
    assert s["split_orders"] == int((shipped.groupby("order_id")["package"].nunique() > 1).sum())
    assert s["total_cost"] == pytest.approx(sum(s["cost"].values()), abs=1e-3)
    assert s["shipping_and_handling"] == pytest.approx(shipped["cost"].sum(), abs=1e-2)


def test_plan_respects_the_snapshot_and_explains_what_cannot_ship(plan, scenario):
    stock = pd.read_csv(STOCK).set_index(["node", "sku"])["on_hand"]
    shipped = plan.lines[plan.lines["package"] > 0].groupby(["node", "sku"])["qty"].sum()
    for (node, sku), q in shipped.items():
        assert q <= stock.get((node, sku), 0), (node, sku)
    # the example snapshot has SKU00059 nowhere: its order is reported with that reason
    out = {c["order_id"]: c for c in plan.summary["cannot_ship"]}
    unfilled = plan.lines[plan.lines["package"] == 0]
    assert set(unfilled["order_id"]) == set(out)
    nowhere = unfilled[unfilled["sku"] == "SKU00059"]
    assert len(nowhere) >= 1
    assert all("no stock of SKU00059 at any node" in out[o]["why"] for o in nowhere["order_id"])


def test_ship_by_and_promise_are_consistent(plan, scenario):
    at_h = to_hours(scenario, pd.Timestamp(AT).to_pydatetime())
    s = plan.lines[plan.lines["package"] > 0]
    assert (s["ship_by_h"] >= at_h).all()
    assert (s["promised_h"] > s["ship_by_h"]).all()
    # calendar columns say the same as the hour columns
    t0 = pd.Timestamp(scenario.horizon.start)
    back = (pd.to_datetime(s["promised"]) - t0) / pd.Timedelta(hours=1)
    np.testing.assert_allclose(back, s["promised_h"], atol=1 / 60)


def test_routes_pick_each_allocated_line_once_in_real_tours(plan, scenario):
    from omsim.warehouse import Layout, sequence_length

    shipped = plan.lines[plan.lines["package"] > 0]
    picks = plan.routes[plan.routes["location"] == "pick"]
    want = Counter((r.node, r.order_id, r.sku, r.qty) for r in shipped.itertuples())
    got = Counter((r.node, r.order_id, r.sku, r.qty) for r in picks.itertuples())
    assert got == want
    cap = scenario.policies.cart_capacity_units
    for (node, wave, batch), g in plan.routes.groupby(["node", "wave", "batch"]):
        wh = scenario.network.warehouses[scenario.node_ids.index(node)]
        layout = Layout(**wh.layout.model_dump())
        assert g["stop"].tolist() == list(range(len(g)))
        assert g["location"].iloc[0] == "depot" and g["location"].iloc[-1] == "depot"
        cum = g["cum_length_m"].to_numpy()
        assert (np.diff(cum) >= -1e-9).all()
        p = g[g["location"] == "pick"]
        pts = p[["aisle", "cell"]].to_numpy(dtype=np.int64)
        # the tour's length, recomputed from the visiting order by the layout's own distances
        assert cum[-1] == pytest.approx(sequence_length(layout, pts, np.arange(len(pts))), abs=1e-6)
        # the cart holds the batch, unless one package alone is bigger than the cart
        if p["order_id"].nunique() > 1:
            assert p["qty"].sum() <= cap
    assert set(plan.waves["node"]) == set(shipped["node"])
    assert plan.waves.groupby("node")["packages"].sum().to_dict() == \
        shipped.drop_duplicates(["order_id", "package"]).groupby("node").size().to_dict()


def test_waves_are_released_every_interval_within_picker_capacity(tmp_path):
    # One warehouse, one picker, 0.25 h waves and slow picking: the orders cannot fit in one wave.
    raw = {
        "name": "waves", "horizon": {"start": "2026-12-01"},
        "catalogue": {"skus": [{"id": f"S{i}"} for i in range(6)]},
        "demand": {"regions": [{"id": "here", "lat": 45.5, "lon": -122.6}]},
        "network": {"warehouses": [{"id": "W", "lat": 45.6, "lon": -122.6, "pickers": 1, "pick_time_s": 120,
                                    "layout": {"aisles": 3, "cells_per_aisle": 4}}]},
        "policies": {"wave": {"interval_h": 0.25}, "cart_capacity_units": 4},
    }
    sc = scenario_from_dict(raw)
    orders = _write(tmp_path / "o.csv", "order_id,sku,qty,region,created_at\n" + "\n".join(
        f"O{k},S{k % 6},2,here,2026-12-01 07:0{k}" for k in range(8)))
    stock = _write(tmp_path / "s.csv", "node,sku,on_hand\n" + "\n".join(f"W,S{i},50" for i in range(6)))
    p = make_plan(sc, orders, stock, "2026-12-01 08:00")
    assert p.summary["status"] == {"allocated": 8}
    w = p.waves
    assert len(w) > 1
    assert w["release_h"].tolist() == pytest.approx([8 + 0.25 * k for k in range(len(w))])
    # each wave's estimated picking fits the picker's 0.25 h, or holds a single package
    assert ((w["picker_h"] <= 0.25 + 1e-9) | (w["packages"] == 1)).all()
    assert w["packages"].sum() == 8 and w["units"].sum() == 16


def test_cli_writes_files_and_prints_a_table(tmp_path):
    out = tmp_path / "plan"
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--stock", str(STOCK), "--at", AT,
                "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("plan_lines.csv", "plan_routes.csv", "plan_waves.csv", "plan.json"):
        assert (out / name).stat().st_size > 0
    doc = json.loads((out / "plan.json").read_text())
    assert doc["summary"]["at"] == AT
    assert len(doc["lines"]) == len(pd.read_csv(out / "plan_lines.csv"))
    assert sum(len(r["stops"]) for r in doc["routes"]) == (pd.read_csv(out / "plan_routes.csv")["location"] == "pick").sum()
    assert "order" in res.output and "W1033" in res.output and "Total:" in res.output
    assert "not fully shipped" in res.output
    # a second run over the same directory is refused, then replaces it whole with --overwrite
    (out / "stale.txt").write_text("from before")
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--at", AT, "--out", str(out)])
    assert res.exit_code == 2 and str(out) in res.output and "--overwrite" in res.output
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--at", AT, "--out", str(out), "--overwrite"])
    assert res.exit_code == 0
    assert json.loads((out / "plan.json").read_text())["summary"]["at"] == AT
    assert not (out / "stale.txt").exists() and (out / "manifest.json").exists()


def test_cli_max_rows_0_prints_no_order_rows(tmp_path):
    res = _run(["plan", "-s", str(SCEN), "--orders", str(ORDERS), "--stock", str(STOCK), "--at", AT,
                "--out", str(tmp_path / "p"), "--max-rows", "0"])
    assert res.exit_code == 0, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "W1033" not in res.output and "more orders (see plan_lines.csv)" in res.output
    assert "Total:" in res.output


def test_failed_write_leaves_nothing_half_written(tmp_path, plan, monkeypatch):
    out = tmp_path / "plan"

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(pd.DataFrame, "to_json", boom)
    with pytest.raises(OmsimError, match="cannot write the plan"):
        plan.write(out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_default_time_is_the_newest_order(scenario):
    p = make_plan(scenario, ORDERS, STOCK)
    newest = pd.to_datetime(pd.read_csv(ORDERS)["created_at"]).max()
    assert p.summary["at"] == newest.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("overrides", [
    {"policies.batching": "fcfs", "policies.routing": "s-shape"},
    {"policies.batching": "local-search", "policies.routing": "largest-gap", "policies.cart_capacity_units": 8},
    {"policies.allocation": "nearest", "policies.max_packages": 1},
])
def test_policies_change_the_plan_but_not_its_invariants(scenario, overrides):
    from omsim.warehouse import Layout, sequence_length

    sc = scenario.with_overrides(overrides)
    p = make_plan(sc, ORDERS, STOCK, AT)
    shipped = p.lines[p.lines["package"] > 0]
    picks = p.routes[p.routes["location"] == "pick"]
    assert Counter((r.node, r.order_id, r.sku) for r in picks.itertuples()) == \
        Counter((r.node, r.order_id, r.sku) for r in shipped.itertuples())
    cap = sc.policies.cart_capacity_units
    for (node, _, _), g in p.routes.groupby(["node", "wave", "batch"]):
        pk = g[g["location"] == "pick"]
        if pk["order_id"].nunique() > 1:
            assert pk["qty"].sum() <= cap
        wh = sc.network.warehouses[sc.node_ids.index(node)]
        pts = pk[["aisle", "cell"]].to_numpy(dtype=np.int64)
        assert g["cum_length_m"].iloc[-1] == pytest.approx(
            sequence_length(Layout(**wh.layout.model_dump()), pts, np.arange(len(pts))), abs=1e-6)
    if sc.policies.max_packages == 1:
        assert p.summary["split_orders"] == 0
