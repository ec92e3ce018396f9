"""Two clocks: a simulated day's engine operations sent through HTTP decide exactly as the in-process engine,
and the service's snapshot starts a simulation from exactly that state."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
from click.testing import CliRunner

import omsim
from omsim.engine import DecisionEngine
from omsim.engine.live import LiveEngine, decision_to_json
from omsim.rng import Streams
from omsim.sim.demand import LEVELS, generate_demand
from omsim.sim.model import Simulation
from omsim.sim.snapshot import read_start
from service.server import ADMIN


def test_a_day_through_http_decides_as_in_process(server, tmp_path):
    sc = omsim.load_scenario()
    demand = generate_demand(sc, Streams(sc.seed), days=1)          # the simulator's own orders of day 0
    live = LiveEngine(DecisionEngine.from_scenario(sc))             # the engine the server starts from
    clock = live.clock
    regions = [r.id for r in sc.demand.regions]
    n = 60
    ops = []                                                        # (engine hour, kind, payload)
    for i in range(n):
        a, b = demand.line_ptr[i], demand.line_ptr[i + 1]
        lines = [(sc.sku_ids[int(j)], int(q)) for j, q in zip(demand.line_sku[a:b], demand.line_qty[a:b])]
        ops.append((float(demand.created_h[i]), 0, ("order", f"S{i}", lines, regions[int(demand.region[i])],
                                                     LEVELS[int(demand.level[i])])))
        if i % 20 == 19:
            ops.append((float(demand.created_h[i]) + 0.01, 1, ("receipt", sc.node_ids[i % 3], lines[0][0], 5)))
    ops.sort(key=lambda o: (o[0], o[1]))
    seen = []
    with server.client() as c:
        k = 0
        for h, _order, op in ops:
            at = clock.to_datetime(h).isoformat()
            k += 1
            if op[0] == "order":
                _, oid, lines, region, level = op
                d, _ev = live.place(oid, lines, region, level, at=h)
                want = decision_to_json(d, live.sku_ids, live.node_ids)
                r = c.post("/v1/orders", headers={"Idempotency-Key": f"o{k}"},
                           json={"order_id": oid, "lines": [{"sku": s, "qty": q} for s, q in lines],
                                 "ship_to": {"region": region}, "service_level": level, "created_at": at})
                assert r.status_code == 201, r.text
                got = r.json()
                assert got["status"] == want["status"]
                assert got["cost"]["total"] == want["total"]
                assert [(s["node"], s["service"], [(x["sku"], x["qty"]) for x in s["lines"]]) for s in got["shipments"]] \
                    == [(s["node"], s["service"], list(zip(s["skus"], s["qty"]))) for s in want["shipments"]]
                assert [s["promised_delivery"] for s in got["shipments"]] == \
                    [clock.to_datetime(s["promised_h"]).isoformat() for s in want["shipments"]]
                seen.append((oid, len(want["shipments"]), want["shipments"]))
                # ship the oldest order's packages half an hour later, on both clocks
                if len(seen) % 5 == 0:
                    oid0, npk, ships = seen[len(seen) // 5 - 1]
                    for p in range(npk):
                        live.ship(oid0, p, at=h + 0.5)
                        r = c.post(f"/v1/orders/{oid0}/shipments/{p}/ship", headers={"Idempotency-Key": f"s{k}-{p}"},
                                   json={"at": clock.to_datetime(h + 0.5).isoformat()})
                        assert r.status_code == 200, r.text
            else:
                _, node, sku, qty = op
                live.receive(node, sku, qty, at=h)
                r = c.post("/v1/receipts", headers={"Idempotency-Key": f"r{k}"},
                           json={"node": node, "sku": sku, "qty": qty, "at": at})
                assert r.status_code == 200, r.text
        assert c.get("/health").json()["seq"] == live.seq
        for sku in {ln[0] for _h, _o, op in ops if op[0] == "order" for ln in op[2]}:
            rows = c.get("/v1/availability", params={"sku": sku}).json()
            j = live.sku(sku)
            assert [r["reserved"] for r in rows] == live.engine.inventory.reserved[:, j].tolist()
            assert [r["on_hand"] for r in rows] == live.engine.inventory.on_hand[:, j].tolist()
    assert np.isfinite(demand.created_h[:n]).all()
    _simulate_forward_from_the_snapshot(server, live, tmp_path)


def _simulate_forward_from_the_snapshot(server, live, tmp_path):
    """GET /v1/snapshot, then ``omsim simulate --from-snapshot``: the run starts with the live stock and open orders."""
    from omsim.cli import main

    with server.client(ADMIN) as c:
        r = c.get("/v1/snapshot")
    assert r.status_code == 200 and int(r.headers["X-Omsim-Seq"]) == live.seq
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path / "snap")
    res = CliRunner().invoke(main, ["simulate", "--from-snapshot", str(tmp_path / "snap"), "--days", "2", "-q",
                                    "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    t0 = live.last_h % 24.0                                  # day 0 is the snapshot's date, from its hour
    inv = live.engine.inventory
    ledger = pd.read_csv(tmp_path / "run" / "ledger.csv")
    initial = ledger[ledger.reason == "initial"]
    assert np.allclose(initial.time_h, t0, atol=1e-6)          # events.csv and ledger.csv keep 6 decimals
    got = np.zeros_like(inv.on_hand)
    for row in initial.itertuples():
        got[live.node(row.node), live.sku(row.sku)] = row.delta
    assert (got == inv.on_hand).all()                       # day-0 on hand is the live on hand
    # the live open orders (their unshipped packages) are the run's first commitments, and they ship
    want = {oid: [(live.node_ids[int(s.node)], s.units) for k, s in enumerate(live.engine.committed(st.key).shipments)
                  if not st.shipped[k]]
            for oid, st in live.orders.items() if live.engine.committed(st.key) is not None}
    want = {k: v for k, v in want.items() if v}
    assert want                                             # the day left packages on the floor
    events = pd.read_csv(tmp_path / "run" / "events.csv", keep_default_na=False)
    rows = events[(events.event == "created") & events.detail.str.startswith("live:")]
    assert sorted(rows.detail.str[5:]) == sorted(want)
    row_of = dict(zip(rows.detail.str[5:], rows.order_id))
    shipped = events[events.event == "shipped"]
    for oid, pkgs in want.items():
        mine = shipped[shipped.order_id == row_of[oid]]
        assert sorted(mine.node) == sorted(n for n, _ in pkgs), oid
        assert (mine.time_h >= t0 - 1e-6).all()
    ships = ledger[(ledger.reason == "ship") & ledger.order_id.isin(list(row_of.values()))]
    assert ships.delta.sum() == -sum(u for pkgs in want.values() for _n, u in pkgs)
    # in process: the engine the run starts with reserves exactly what the live engine does
    start = read_start(tmp_path / "snap", live.scenario)
    sim = Simulation(start.scenario, start.scenario.seed, 2, start=start)
    assert abs(sim.env.now - t0) < 1e-6 and (sim.engine.inventory.reserved == inv.reserved).all()  # HTTP times: µs
    assert (sim.engine.node_backlog_units == live.engine.node_backlog_units).all()
