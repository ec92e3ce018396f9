"""Two clocks: a simulated day's engine operations sent through HTTP decide exactly as the in-process engine."""
from __future__ import annotations

import numpy as np

import omsim
from omsim.engine import DecisionEngine
from omsim.engine.live import LiveEngine, decision_to_json
from omsim.rng import Streams
from omsim.sim.demand import LEVELS, generate_demand



def test_a_day_through_http_decides_as_in_process(server):
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
