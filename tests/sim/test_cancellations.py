"""Customer cancellations after the order: matched from a history, or generated; every unit accounted for."""
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from omsim.history import load_history
from omsim.history.cancellations import cancellation_stats, match_cancellations
from omsim.scenario import load_scenario, scenario_from_dict
from omsim.scenario_demand import Cancellations
from omsim.sim.model import Simulation
from omsim.sim.states import PAY_FAILED, PENDING

UCI = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"


def _uci(tmp_path, rows):
    p = tmp_path / "uci.csv"
    p.write_text(UCI + "\n" + "\n".join(rows) + "\n")
    return p


def _scenario(tmp_path, path, days=3, **cancellations):
    raw = {
        "name": "cancel", "seed": 5,
        "horizon": {"days": days, "start": "2024-03-04", "timezone": "Europe/London"},
        "catalogue": {"skus": [{"id": "P1"}, {"id": "P2"}, {"id": "P3"}]},
        "demand": {"history": str(path), "cancellations": cancellations,
                   "payment": {"failure_rate": 0.0},
                   "regions": [{"id": "uk", "lat": 52, "lon": -1, "country": "United Kingdom"}]},
        "network": {"warehouses": [{"id": "W", "lat": 52, "lon": -1, "pickers": 2, "packers": 1,
                                    "stock": {"days_cover": 30}}]},
        "policies": {"wave": {"interval_h": 2.0}},
    }
    return scenario_from_dict(raw, base_dir=tmp_path)


ROWS = [
    "1001,P1,x,6,2024-03-04 09:00,1.0,17,United Kingdom",
    "1001,P2,x,12,2024-03-04 09:00,1.0,17,United Kingdom",
    "1002,P2,x,5,2024-03-04 09:10,1.0,18,United Kingdom",
    "C1003,P2,x,-12,2024-03-04 09:30,1.0,17,United Kingdom",    # 1001's B before its wave: cancelled
    "C1004,P1,x,-6,2024-03-06 12:00,1.0,17,United Kingdom",     # 1001's A, long shipped: too late
    "C1005,P2,x,-5,2024-03-04 09:20,1.0,,United Kingdom",       # no customer id
    "C1006,P3,x,-1,2024-03-04 09:20,1.0,18,United Kingdom",     # customer 18 never ordered C
    "C1007,P2,x,-9,2024-03-04 09:15,1.0,18,United Kingdom",     # more than 1002 has: 5 cancelled
]


def test_matching_rule(tmp_path):
    h = load_history(_uci(tmp_path, ROWS))
    m = match_cancellations(h.lines, h.cancellations)
    got = dict(zip(m["cancel_id"], zip(m["match"], [None if pd.isna(x) else x for x in m["order_id"]])))
    assert got == {"C1003": ("matched", "1001"), "C1004": ("matched", "1001"), "C1005": ("no_customer", None),
                   "C1006": ("no_order", None), "C1007": ("matched", "1002")}
    assert m.set_index("cancel_id").loc["C1004", "delay_h"] == 51.0
    s = cancellation_stats(h.lines, m)
    assert s["share"] == 1.0 and (s["matched"], s["no_customer"], s["no_order"]) == (3, 1, 1)


def test_latest_earlier_order_of_the_customer_with_the_sku(tmp_path):
    rows = ["2001,P1,x,1,2024-03-04 09:00,1.0,7,United Kingdom",
            "2002,P1,x,1,2024-03-04 10:00,1.0,7,United Kingdom",
            "2003,P1,x,1,2024-03-04 12:00,1.0,7,United Kingdom",
            "C2004,P1,x,-1,2024-03-04 11:00,1.0,7,United Kingdom"]
    h = load_history(_uci(tmp_path, rows))
    m = match_cancellations(h.lines, h.cancellations)
    assert m["order_id"].tolist() == ["2002"] and m["delay_h"].tolist() == [1.0]


def test_replayed_cancellations(tmp_path):
    sc = _scenario(tmp_path, _uci(tmp_path, ROWS))
    sim = Simulation(sc, 5)
    res = sim.run()
    k = res.kpis
    assert k["customer_cancel_lines_unmatched"] == 2
    assert k["customer_cancel_units"] == 12 + 5 and k["customer_cancel_units_too_late"] == 6
    assert k["customer_cancellations"] == 2 and k["customer_cancel_rate"] == 1.0
    orders = res.orders.set_index("history_id")
    assert orders.loc["1001", "units_shipped"] == 6 and orders.loc["1001", "status"] == "delivered"
    assert orders.loc["1002", "units_shipped"] == 0 and orders.loc["1002", "status"] == "cancelled"
    ev = res.events
    cc = ev[ev["event"] == "customer_cancel"]
    assert cc["detail"].tolist() == ["5/9", "12/12", "0/6"]
    assert ev[(ev["event"] == "cancelled")]["detail"].tolist() == ["customer"]
    assert k["cancel_rate"] == 0.0              # the customer's, not for want of stock
    # The cancelled units went back to stock: released, never shipped.
    led = res.ledger
    assert -led.loc[led["reason"] == "ship", "delta"].sum() == 6


def test_off_by_default_and_history_false(tmp_path):
    sc = _scenario(tmp_path, _uci(tmp_path, ROWS), history=False)
    res = Simulation(sc, 5).run()
    assert res.kpis["customer_cancellations"] == 0 and res.kpis["customer_cancel_lines_unmatched"] == 0
    base = load_scenario()
    assert base.demand.cancellations is None
    assert not any(k.startswith("customer_") for k in Simulation(base, 1, days=1).run().kpis)


def _due(sim) -> int:
    """Cancellations that act in the horizon: not before their order is decided, which is when it is paid,
    or under the batch policy at the end of its batch window (NaN, payment failed, compares False)."""
    c = sim.cancels
    decided = sim.ot.paid_h[c.oid]
    if sim.batch:
        w = sim.pol.batch_window_h
        decided = (np.floor(decided / w) + 1.0) * w
    return int((np.maximum(c.t, decided) < sim.end_h).sum())


def _accounting(sim) -> tuple[int, int]:
    """(units ordered, shipped + cancelled + unfilled + open) at the end of a run, each from its own books."""
    ot = sim.ot
    n = ot.n
    kind, state = ot.kind[:n], ot.state[:n]
    ordered = int(ot.units[:n][(kind != 2) & (state != PAY_FAILED)].sum())
    led = sim.engine.ledger_frame()
    shipped = -int(led.loc[led["reason"] == "ship", "delta"].sum())
    cancelled = int(ot.units_cancelled[:n].sum())
    waiting = sum(int(o.qty.sum()) for o in sim.backorders.orders.values())
    open_ = int(sim.engine.inventory.reserved.sum()) + waiting + int(ot.units[:n][state == PENDING].sum())
    return ordered, shipped + cancelled + sim.units_lost + open_


# No shrinking: a run takes a second; a failing example is reported as drawn.
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 10_000), share=st.floats(0.0, 1.0), line_share=st.floats(0.05, 1.0),
       delays=st.lists(st.integers(0, 60), min_size=1, max_size=4, unique=True),
       cover=st.sampled_from([0.3, 1.0, 30.0]), no_stock=st.sampled_from(["backorder", "cancel"]),
       max_wait=st.sampled_from([6.0, 1000.0]), allocation=st.sampled_from(["cheapest", "batch"]))
@example(seed=6697, share=0.5681437505309029, line_share=0.15830323636327198, delays=[0, 50, 31, 55], cover=0.3,
         no_stock="backorder", max_wait=1000.0, allocation="batch")   # a cancellation due after the last window
def test_every_unit_accounted_for(seed, share, line_share, delays, cover, no_stock, max_wait, allocation):
    sc = load_scenario()
    sc.demand.orders_per_day = 200
    sc.demand.cancellations = Cancellations(share=share, line_share=line_share, delay_h=[[d, 1.0] for d in delays])
    sc.policies.no_stock = no_stock
    sc.policies.max_backorder_wait_h = max_wait
    sc.policies.allocation = allocation
    for w in sc.network.warehouses:
        w.stock.days_cover = cover
    sim = Simulation(sc, seed, days=3)
    res = sim.run()
    ordered, accounted = _accounting(sim)
    assert ordered == accounted
    assert res.kpis["customer_cancel_units"] == int(sim.ot.units_cancelled[: sim.ot.n].sum())
    # Every customer cancellation of a paid order in the horizon is logged once.
    assert (res.events["event"] == "customer_cancel").sum() == _due(sim)


def test_generated_share_and_seed():
    sc = load_scenario()
    sc.demand.cancellations = Cancellations(share=0.2, line_share=0.5, delay_h=[[0, 1.0], [3, 1.0]])
    a = Simulation(sc, 3, days=2)
    b = Simulation(sc, 3, days=2)
    for x in ("t", "oid", "ptr", "sku", "qty"):
        np.testing.assert_array_equal(getattr(a.cancels, x), getattr(b.cancels, x))
    c = a.cancels
    n = a.dem.n
    # share of orders drawn: binomial, 5 sd
    assert abs(c.oid.size / n - 0.2) < 5 * np.sqrt(0.2 * 0.8 / n)
    delay = c.t - a.dem.created_h[c.oid]
    assert ((delay >= 0) & (delay < 1)).mean() + ((delay >= 3) & (delay < 4)).mean() == 1.0
    assert np.diff(c.t).min() >= 0
    # every cancellation names at least one line of its own order, all of its units
    for j in range(min(c.oid.size, 200)):
        o = c.oid[j]
        lines = dict(zip(a.dem.line_sku[a.dem.line_ptr[o]:a.dem.line_ptr[o + 1]].tolist(),
                         a.dem.line_qty[a.dem.line_ptr[o]:a.dem.line_ptr[o + 1]].tolist()))
        named = dict(zip(c.sku[c.ptr[j]:c.ptr[j + 1]].tolist(), c.qty[c.ptr[j]:c.ptr[j + 1]].tolist()))
        assert named and all(lines[s] == q for s, q in named.items())
    r = a.run()
    assert r.kpis["customer_cancel_units"] > 0 and r.kpis["customer_cancel_units_too_late"] > 0
    assert pd.Series(r.events["event"]).eq("customer_cancel").sum() == _due(a)
