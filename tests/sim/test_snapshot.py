"""A simulation started from a live snapshot: the live stock, open orders and time; bad directories refused."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import omsim
from omsim.cli import main
from omsim.engine import DecisionEngine
from omsim.errors import OmsimError
from omsim.engine.live import LiveEngine
from omsim.service.routes.reads import snapshot_files
from omsim.sim import simulate
from omsim.sim.model import Simulation
from omsim.sim.snapshot import read_start


@pytest.fixture(scope="module")
def live():
    sc = omsim.load_scenario()
    lv = LiveEngine(DecisionEngine.from_scenario(sc))
    lv.place("Y1", [("SKU00003", 1)], "chicago", at=20.0)                 # the day before the snapshot's
    lv.place("A1", [("SKU00001", 2)], "new-york", at=30.5)
    lv.place("A2", [("SKU00004", 1), ("SKU00002", 3)], "chicago", at=31.0)
    lv.place("A3", [("SKU00005", 1)], "chicago", at=31.5)
    lv.ship("A3", 0, at=31.75)                                              # shipped: not carried
    lv.place("C1", [("SKU00006", 1)], "chicago", at=31.8)
    lv.cancel("C1", at=31.9)                                                # cancelled: not carried
    lv.hold("H1", [("SKU00007", 2)], "chicago", at=32.0)                    # a held cart: not carried
    lv.receive("RNO", "SKU00001", 5, at=32.25)
    return lv


def write(live, path, edit=None):
    path.mkdir(parents=True, exist_ok=True)
    files = snapshot_files(live)
    if edit:
        edit(files)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_the_run_starts_from_the_live_state(live, tmp_path):
    d = write(live, tmp_path / "snap")
    start = read_start(d, live.scenario)
    assert start.scenario.horizon.start.isoformat() == live.clock.to_datetime(live.last_h).date().isoformat()
    assert start.t0_h == live.last_h - 24.0 and [o.order_id for o in start.orders] == ["Y1", "A1", "A2"]
    sim = Simulation(start.scenario, 7, 2, start=start)
    inv, live_inv = sim.engine.inventory, live.engine.inventory
    held = live.engine.committed(live.holds["H1"][0]).shipments[0]
    want_reserved = live_inv.reserved.copy()
    want_reserved[held.node, held.skus] -= held.qty
    assert sim.env.now == start.t0_h and (inv.on_hand == live_inv.on_hand).all()
    assert (inv.reserved == want_reserved).all() and inv.reserved.sum() == 1 + 2 + 4
    assert sim.dem.created_h.min() >= start.t0_h                    # the demand goes on from the snapshot's time
    assert sim.open_orders == 3 and [sim.wq.waiting(n) for n in range(3)] == \
        [int(np.sum([s.node == n for o in start.orders for s in o.decision.shipments])) for n in range(3)]
    res = sim.run()
    rows = res.events[(res.events.event == "created") & res.events.detail.str.startswith("live:")]
    assert sorted(rows.detail) == ["live:A1", "live:A2", "live:Y1"]
    created = dict(zip(rows.detail, rows.time_h))
    assert created["live:Y1"] == 20.0 - 24.0 and created["live:A1"] == 30.5 - 24.0
    shipped = res.events[(res.events.event == "shipped") & res.events.order_id.isin(rows.order_id)]
    assert shipped.order_id.nunique() == 3 and (shipped.time_h >= start.t0_h).all()
    # the same seed, the same results (the seeded rows included)
    again = simulate(live.scenario, seed=7, days=2, from_snapshot=d)
    assert again.kpis == res.kpis and again.events.equals(res.events)


def _set(name, fn):
    def edit(files):
        data = json.loads(files[name])
        fn(data)
        files[name] = json.dumps(data)
    return edit


def _backlog_off(files):
    lines = files["backlog.csv"].splitlines()
    node, units = lines[1].split(",")
    lines[1] = f"{node},{int(units) + 1}"
    files["backlog.csv"] = "\n".join(lines) + "\n"


@pytest.mark.parametrize("edit, where", [
    (lambda f: f.pop("open_orders.json"), "open_orders.json: no such file"),
    (_set("snapshot.json", lambda d: d.update(format_version=99)), "snapshot.json: format_version"),
    (_set("snapshot.json", lambda d: d.pop("at_h")), "snapshot.json: at_h"),
    (_set("snapshot.json", lambda d: d["clock"].update(timezone="Europe/London")), "snapshot.json: clock.timezone"),
    (_set("snapshot.json", lambda d: d.update(reserved_units=1)), "snapshot.json: reserved_units is 1"),
    (_set("open_orders.json", lambda d: d["orders"][1]["decision"]["shipments"][0].update(node="XYZ")),
     "open_orders.json: orders[1].decision.shipments[0].node: unknown node 'XYZ'"),
    (_set("open_orders.json", lambda d: d["orders"][0].update(region="atlantis")),
     "open_orders.json: orders[0].region: unknown region"),
    (_set("open_orders.json", lambda d: d["orders"][0]["decision"]["shipments"][0].update(qty=[0])),
     "open_orders.json: orders[0].decision.shipments[0].qty"),
    (_backlog_off, "backlog.csv: node RNO: backlog_units"),
    (lambda f: f.update({"open_orders.json": "{not json"}), "open_orders.json: not a JSON document"),
])
def test_a_bad_snapshot_directory_is_refused_naming_the_file_and_field(live, tmp_path, edit, where):
    d = write(live, tmp_path / "snap", edit)
    with pytest.raises(OmsimError, match=None) as err:
        read_start(d, live.scenario)
    assert where in err.value.message
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["simulate", "--from-snapshot", str(d), "--days", "1", "-q", "--out", str(out)])
    assert res.exit_code == 2 and where in res.output and "Traceback" not in res.output
    assert not out.exists()                                         # nothing half-written


def test_not_a_directory(tmp_path):
    res = CliRunner().invoke(main, ["simulate", "--from-snapshot", str(tmp_path / "nowhere"), "--days", "1", "-q"])
    assert res.exit_code == 2 and "not a directory" in res.output



def test_more_than_one_replication_is_refused(live, tmp_path):
    d = write(live, tmp_path / "snap")
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["simulate", "--from-snapshot", str(d), "-r", "2", "--days", "1", "-q",
                                    "--out", str(out)])
    assert res.exit_code == 2 and "drop --replications" in res.output and "Traceback" not in res.output
    assert not out.exists()

@pytest.fixture(scope="module")
def waiting():
    """A live engine with an order backordered (its SKU out of stock everywhere), a partial one and an allocated one."""
    sc = omsim.load_scenario()
    lv = LiveEngine(DecisionEngine.from_scenario(sc))
    for sku in ("SKU00020", "SKU00021"):
        for node in sc.node_ids:
            lv.count(node, sku, 0, at=30.0)
    b1, _ = lv.place("B1", [("SKU00020", 2)], "chicago", at=30.5)
    p1, _ = lv.place("P1", [("SKU00021", 3), ("SKU00001", 1)], "chicago", at=31.0)
    lv.place("A1", [("SKU00001", 2)], "new-york", at=31.5)
    assert (b1.status, p1.status, p1.unfilled.tolist()) == ("backorder", "partial", [3, 0])
    return lv


def _live_rows(events):
    rows = events[(events.event == "created") & events.detail.astype(str).str.startswith("live:")]
    return dict(zip(rows.detail.str[5:], rows.order_id))


def _lead_time(sc, days):
    whs = [w.model_copy(update={"replenishment": w.replenishment.model_copy(update={"lead_time_days": days})})
           for w in sc.network.warehouses]
    return sc.model_copy(update={"network": sc.network.model_copy(update={"warehouses": whs})})


def test_a_live_backorder_waits_in_the_simulation_and_expires_after_the_max_wait(waiting, tmp_path):
    import pandas as pd

    d = write(waiting, tmp_path / "snap")
    saved = json.loads((d / "open_orders.json").read_text())
    assert saved["format_version"] == 2
    assert [o["order_id"] for o in saved["orders"]] == ["B1", "P1", "A1"]
    assert saved["orders"][0]["lines"] == [["SKU00020", 2]] and "lines" not in saved["orders"][1]
    start = read_start(d, waiting.scenario)
    t0 = start.t0_h
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["simulate", "--from-snapshot", str(d), "--days", "4", "--seed", "3", "-q",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    ev = pd.read_csv(out / "events.csv")
    orders = pd.read_csv(out / "orders.csv").set_index("order_id")
    ids = _live_rows(ev)
    b1 = ev[ev.order_id == ids["B1"]]
    # backordered at the snapshot's instant, its live created time kept: cancelled 72 h (max wait) after it
    assert b1.event.tolist() == ["created", "paid", "backordered", "cancelled"]
    assert b1.time_h.tolist() == pytest.approx([30.5 - 24.0, 30.5 - 24.0, t0, 30.5 - 24.0 + 72.0])
    assert b1.detail.iloc[-1] == "max_wait" and waiting.scenario.policies.max_backorder_wait_h == 72.0
    row = orders.loc[ids["B1"]]
    assert (row.status, row.units, row.units_shipped, row.packages) == ("cancelled", 2, 0, 0)
    # the partial's unfilled lines are over live (nothing waits for them): its package alone is carried
    p1 = ev[ev.order_id == ids["P1"]]
    assert "backordered" not in p1.event.tolist() and "shipped" in p1.event.tolist()
    assert (orders.loc[ids["P1"], "units"], orders.loc[ids["P1"], "units_shipped"]) == (1, 1)


def test_a_live_backorder_ships_when_a_receipt_brings_its_stock(waiting, tmp_path):
    d = write(waiting, tmp_path / "snap")
    sc = _lead_time(waiting.scenario, 0.5)           # the reviews' purchase orders arrive half a day later
    start = read_start(d, sc)
    sim = Simulation(start.scenario, 3, 3, start=start)
    assert len(sim.backorders) == 1 and sim.backorders.units.sum() == 2
    res = sim.run()
    ev = res.events
    b1 = ev[ev.order_id == _live_rows(ev)["B1"]]
    assert b1.event.tolist()[:4] == ["created", "paid", "backordered", "allocated"]
    got = b1[b1.event == "allocated"].time_h.iloc[0]
    assert got == pytest.approx(start.t0_h + 12.0)         # the first review's receipt (reviews start at t0)
    assert "shipped" in b1.event.tolist() and "cancelled" not in b1.event.tolist()
    oid = int(b1.order_id.iloc[0])
    assert sim.ot.units[oid] == 2 and oid not in sim.backorders
    pk = np.flatnonzero(sim.P.order[:sim.P.n] == oid)
    assert int(sim.P.units[pk].sum()) == 2                  # both units in its packages


@pytest.mark.parametrize("edit, where", [
    (_set("open_orders.json", lambda d: d["orders"][0].pop("lines")), "open_orders.json: orders[0].lines"),
    (_set("open_orders.json", lambda d: d["orders"][0].update(lines=[["SKU99999", 2]])),
     "open_orders.json: orders[0].lines"),
    (_set("open_orders.json", lambda d: d["orders"][0].update(lines=[["SKU00020", 3]])),
     "open_orders.json: orders[0].decision.unfilled"),
])
def test_a_bad_waiting_order_is_refused_naming_the_field(waiting, tmp_path, edit, where):
    d = write(waiting, tmp_path / "snap", edit)
    res = CliRunner().invoke(main, ["simulate", "--from-snapshot", str(d), "--days", "1", "-q"])
    assert res.exit_code == 2 and where in res.output and "Traceback" not in res.output


def test_a_version_1_snapshot_is_still_read(live, tmp_path):
    def v1(files):
        for name in ("snapshot.json", "open_orders.json"):
            data = json.loads(files[name])
            data["format_version"] = 1
            files[name] = json.dumps(data)
    start = read_start(write(live, tmp_path / "snap", v1), live.scenario)
    assert [o.order_id for o in start.orders] == ["Y1", "A1", "A2"]
