"""The HTTP contract, on a real server process: exact keys, idempotency, auth, problems (RFC 9457)."""
from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile

import httpx
import pytest

from service.server import ADMIN, READ, WRITE, order_body

ORDER_KEYS = {"order_id", "status", "shipments", "unfilled", "cost", "decision_id", "seq"}
PROBLEM = "application/problem+json"


def post(c, path, body, key=None):
    key = key or uuid.uuid4().hex
    return c.post(path, json=body, headers={"Idempotency-Key": key})


def test_order_keys_times_and_state(server):
    with server.client() as c:
        r = post(c, "/v1/orders", order_body("A1", qty=2, created_at="2026-12-01T09:30:00-05:00"), "k1")
        assert r.status_code == 201, r.text
        o = r.json()
        assert set(o) == ORDER_KEYS and o["order_id"] == "A1" and o["status"] == "allocated"
        (sh,) = o["shipments"]
        assert set(sh) >= {"index", "node", "service", "lines", "ship_by", "promised_delivery"}
        assert sh["index"] == 0 and sh["lines"] == [{"sku": "SKU00001", "qty": 2}]
        ship_by = dt.datetime.fromisoformat(sh["ship_by"])
        assert ship_by.tzinfo is not None and ship_by >= dt.datetime(2026, 12, 1, 14, 30, tzinfo=dt.timezone.utc)
        assert dt.datetime.fromisoformat(sh["promised_delivery"]) > ship_by
        assert set(o["cost"]) == {"total", "breakdown"}
        assert o["cost"]["total"] == pytest.approx(sum(o["cost"]["breakdown"].values()))
        assert o["unfilled"] == [] and o["seq"] == 1
        av = c.get("/v1/availability", params={"sku": "SKU00001", "node": sh["node"]})
        assert av.headers["X-Omsim-Seq"] == "1"
        (row,) = av.json()
        assert set(row) == {"node", "sku", "on_hand", "reserved", "available"} and row["reserved"] == 2
        got = c.get("/v1/orders/A1").json()
        assert got["history"][0]["event"] == "order.committed" and got["shipments"][0]["shipped"] is False
        why = c.get(f"/v1/decisions/{o['decision_id']}").json()
        assert why["order_id"] == "A1" and why["alternatives"]
        assert why["chosen"]["total"] == o["cost"]["total"] and why["policy"] == "cheapest"
        for alt in why["alternatives"]:      # every alternative lost (cheapest: it cost at least as much) ...
            assert alt["why"] and alt["lost_by"] >= -1e-9
            assert alt["lost_by"] == pytest.approx(alt["total"] - why["chosen"]["total"], abs=1e-12)
            # ... with the chosen one's breakdown (the engine's cost model), adding up to its total
            assert list(alt["breakdown"]) == list(why["chosen"]["breakdown"])
            assert alt["total"] == pytest.approx(sum(alt["breakdown"].values()), rel=1e-12)
        nothing = [a for a in why["alternatives"] if a["why"].startswith("ship nothing")]
        assert nothing and nothing[0]["breakdown"]["lost_penalty"] == nothing[0]["total"] > 0
        # ship the package, then it cannot be cancelled; events feed in order
        assert post(c, "/v1/orders/A1/shipments/0/ship", None, "k2").json()["status"] == "shipped"
        r = post(c, "/v1/orders/A1/cancel", None, "k3")
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
        ev = c.get("/v1/events", params={"after": 0}).json()
        assert [e["type"] for e in ev["events"]] == ["order.committed", "shipment.shipped"]
        assert [e["seq"] for e in c.get("/v1/events", params={"after": 1, "limit": 5}).json()["events"]] == [2]
        assert c.get("/health").json() == {"status": "ok", "seq": 2}


def test_idempotency(server):
    with server.client() as c:
        body = order_body("B1", qty=3)
        first = post(c, "/v1/orders", body, "same")
        again = post(c, "/v1/orders", body, "same")
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert c.get("/health").json()["seq"] == 1                      # nothing changed
        other = post(c, "/v1/orders", order_body("B1", qty=4), "same")
        assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
        dup = post(c, "/v1/orders", body, "new-key")
        assert dup.status_code == 409 and dup.json()["field"] == "order_id"
        assert post(c, "/v1/orders", body, "new-key").status_code == 409  # the failure is kept too
        missing = c.post("/v1/orders", json=order_body("B2"))
        assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"
        reserved = sum(r["reserved"] for r in c.get("/v1/availability", params={"sku": "SKU00001"}).json())
        assert reserved == 3 and c.get("/health").json()["seq"] == 1


def test_auth(shared_server):
    server = shared_server
    anon = httpx.Client(base_url=server.url)
    assert anon.get("/health").status_code == 200
    for path in ("/v1/availability?sku=SKU00001", "/", "/metrics", "/v1/events", "/v1/orders/X"):
        r = anon.get(path)
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM, path
    assert anon.get("/v1/events", headers={"Authorization": "Bearer not-a-key-at-all-xx"}).status_code == 401
    with server.client(READ) as c:
        assert c.get("/v1/availability", params={"sku": "SKU00001"}).status_code == 200
        r = post(c, "/v1/orders", order_body("C1"))
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
        assert c.get("/v1/snapshot").status_code == 403
    with server.client(WRITE) as c:
        assert post(c, "/v1/orders", order_body("C1"), "c1").status_code == 201
    assert READ not in server.logtext() and WRITE not in server.logtext()


@pytest.mark.parametrize("body, field", [
    (order_body("E1", sku="NOPE"), "lines[0].sku"),
    (order_body("E1", region="atlantis"), "ship_to.region"),
    (order_body("E1", qty=0), "lines[0].qty"),
    (order_body("E1", qty=-3), "lines[0].qty"),
    (order_body("E1", qty=1.5), "lines[0].qty"),
    (order_body("E1", qty="2"), "lines[0].qty"),
    ({**order_body("E1"), "lines": []}, "lines"),
    ({**order_body("E1"), "service_level": "warp"}, "service_level"),
    ({**order_body("E1"), "created_at": "2026-12-01T10:00:00"}, "created_at"),
    ({**order_body("E1"), "ship_to": {}}, "ship_to"),
])
def test_bad_orders_are_4xx_naming_the_field(shared_server, body, field):
    with shared_server.client() as c:
        seq = c.get("/health").json()["seq"]
        r = post(c, "/v1/orders", body)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
        p = r.json()
        assert p["status"] == 422 and p["field"] == field and field in p["detail"]
        assert c.get("/health").json()["seq"] == seq


def test_other_problems(shared_server):
    with shared_server.client() as c:
        r = c.post("/v1/orders", content=b'{"order_id": "X", "lines": [', headers={"Idempotency-Key": "m",
                                                                                 "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["field"] == "body"
        assert post(c, "/v1/orders/NOPE/cancel", None).status_code == 404
        assert c.get("/v1/orders/NOPE").status_code == 404
        assert c.get("/v1/decisions/d99").status_code == 404
        assert c.get("/v1/availability", params={"sku": "NOPE"}).status_code == 422
        post(c, "/v1/orders", order_body("F1"), "f1")
        assert post(c, "/v1/orders/F1/shipments/7/ship", None, "f2").status_code == 404


def test_stock_movements(server):
    with server.client() as c:
        def pos():
            return c.get("/v1/availability", params={"sku": "SKU00002", "node": "RNO"}).json()[0]
        base = pos()["on_hand"]
        r = post(c, "/v1/receipts", {"node": "RNO", "sku": "SKU00002", "qty": 7}, "r1")
        assert r.status_code == 200 and r.json()["on_hand"] == base + 7
        r = post(c, "/v1/returns", {"node": "RNO", "lines": [{"sku": "SKU00002", "qty": 2, "disposition": "restock"},
                                                              {"sku": "SKU00002", "qty": 1, "disposition": "scrap"}]},
                 "r2")
        assert r.status_code == 200 and len(r.json()["lines"]) == 2
        assert pos()["on_hand"] == base + 7 + 2           # scrapped units were never back on hand
        stale = post(c, "/v1/adjustments", {"node": "RNO", "sku": "SKU00002", "on_hand": 5, "expected": base}, "r3")
        assert stale.status_code == 409 and stale.json()["field"] == "expected"
        ok = post(c, "/v1/adjustments", {"node": "RNO", "sku": "SKU00002", "on_hand": 5, "expected": base + 9}, "r4")
        assert ok.status_code == 200 and ok.json()["on_hand"] == 5 and pos()["on_hand"] == 5
        bad = post(c, "/v1/returns", {"node": "XX", "lines": [{"sku": "SKU00002", "qty": 1, "disposition": "bin"}]})
        assert bad.status_code == 422


def test_promise_reserves_nothing(shared_server):
    with shared_server.client(READ) as c:
        cart = {"lines": [{"sku": "SKU00003", "qty": 2}], "ship_to": {"lat": 34.0, "lon": -118.2}}
        before = c.get("/v1/availability", params={"sku": "SKU00003"}).json()
        p = c.post("/v1/promise", json=cart)
        assert p.status_code == 200 and p.json()["shipments"]
        assert c.get("/v1/availability", params={"sku": "SKU00003"}).json() == before


def test_orders_take_the_fast_path_or_the_route_with_the_same_outcome(server):
    """A plainly valid POST /v1/orders is served by omsim.service.fastpath, anything else by the FastAPI route
    (here: a +json media type, which only the route takes): one fingerprint, one stored outcome, one wording."""
    import json

    def raw(c, body, key, ctype):
        return c.post("/v1/orders", content=json.dumps(body), headers={"Idempotency-Key": key, "Content-Type": ctype})

    with server.client() as c:
        for i, (first, again) in enumerate([("application/json", "application/vnd.omsim+json"),
                                            ("application/vnd.omsim+json", "application/json; charset=utf-8")]):
            body = order_body(f"FP{i}", qty=1, created_at="2026-12-01T10:00:00Z")
            r1, r2 = raw(c, body, f"fp{i}", first), raw(c, body, f"fp{i}", again)      # a retry: the stored answer
            assert r1.status_code == r2.status_code == 201 and r1.content == r2.content
            assert r1.headers["content-type"] == r2.headers["content-type"] == "application/json"
            # the same key with another body, and the same order under a new key: refused alike on both paths
            other = raw(c, {**body, "lines": [{"sku": "SKU00002", "qty": 1}]}, f"fp{i}", again)
            assert other.status_code == 422 and other.headers["content-type"] == PROBLEM
            dup = raw(c, body, f"fp{i}-new", first)
            assert dup.status_code == 409 and "exists already" in dup.json()["detail"]
            assert dup.headers["content-type"] == PROBLEM and int(dup.headers["content-length"]) == len(dup.content)
        for ctype in ("application/json", "application/vnd.omsim+json"):      # errors are the route's, worded once
            bad = raw(c, order_body("FPX", sku="NOPE"), uuid.uuid4().hex, ctype)
            assert bad.status_code == 422 and bad.json()["field"] == "lines[0].sku"
            assert c.post("/v1/orders", content=json.dumps(order_body("FPY")),
                          headers={"Content-Type": ctype}).status_code == 400      # no Idempotency-Key
            noauth = httpx.post(server.url + "/v1/orders", content=json.dumps(order_body("FPZ")),
                                headers={"Idempotency-Key": uuid.uuid4().hex, "Content-Type": ctype})
            assert noauth.status_code == 401 and noauth.headers["content-type"] == PROBLEM
        text = c.get("/metrics").text
        assert 'omsim_requests_total{method="POST",route="/v1/orders",status="201"} 4.0' in text
        # fast: fp0 and its duplicate under a new key (application/json); fp1's retry and its refused reuse
        # (with a charset); the rest went through the route
        assert 'omsim_fast_requests_total{route="/v1/orders"} 4.0' in text


def test_promises_take_the_fast_path_or_the_route_with_the_same_answer(server):
    """A plainly valid POST /v1/promise (no hold) is answered by omsim.service.fastpath with the bytes and headers
    the route gives for it; errors, holds and other media types are the route's."""
    import json

    cart = {"lines": [{"sku": "SKU00003", "qty": 2}, {"sku": "SKU00002", "qty": 1}],
            "ship_to": {"region": "new-york"}, "created_at": "2026-12-01T10:00:00Z"}

    def raw(c, body, ctype, **headers):
        return c.post("/v1/promise", content=json.dumps(body), headers={"Content-Type": ctype, **headers})

    with server.client(READ) as c:
        fast, route = raw(c, cart, "application/json"), raw(c, cart, "application/vnd.omsim+json")
        assert fast.status_code == route.status_code == 200 and fast.content == route.content
        assert fast.json()["shipments"] and fast.headers["x-omsim-seq"] == route.headers["x-omsim-seq"]
        assert fast.headers["content-type"] == route.headers["content-type"] == "application/json"
        assert int(fast.headers["content-length"]) == len(fast.content)
        for ctype in ("application/json", "application/vnd.omsim+json"):       # the route words every error
            bad = raw(c, {**cart, "lines": [{"sku": "NOPE", "qty": 1}]}, ctype)
            assert bad.status_code == 422 and bad.json()["field"] == "lines[0].sku"
            assert bad.headers["content-type"] == PROBLEM
            far = raw(c, {**cart, "ship_to": {"region": "atlantis"}}, ctype)
            assert far.status_code == 422 and far.headers["content-type"] == PROBLEM
            held = raw(c, {**cart, "hold_s": 60}, ctype, **{"Idempotency-Key": uuid.uuid4().hex})
            assert held.status_code == 403                                     # a hold is a write
        noauth = httpx.post(server.url + "/v1/promise", content=json.dumps(cart),
                            headers={"Content-Type": "application/json"})
        assert noauth.status_code == 401 and noauth.headers["content-type"] == PROBLEM
        text = c.get("/metrics").text
        assert 'omsim_fast_requests_total{route="/v1/promise"} 1.0' in text
        assert 'omsim_requests_total{method="POST",route="/v1/promise",status="200"} 2.0' in text


def test_metrics_ops_page_and_openapi(server):
    with server.client() as c:
        post(c, "/v1/orders", order_body("M1"), "m1")
        text = c.get("/metrics").text
        assert 'omsim_decisions_total{status="allocated"} 1.0' in text
        assert "omsim_journal_seq 1.0" in text and 'route="/v1/orders"' in text
        assert "omsim_request_seconds_bucket" in text
        page = c.get("/")
        assert page.status_code == 200 and "M1" in page.text and "RNO" in page.text
        spec = httpx.get(server.url + "/openapi.json").json()
        for path in ("/v1/orders", "/v1/orders/{order_id}", "/v1/orders/{order_id}/cancel",
                     "/v1/orders/{order_id}/shipments/{index}/ship", "/v1/returns", "/v1/receipts",
                     "/v1/adjustments", "/v1/availability", "/v1/decisions/{decision_id}", "/v1/events",
                     "/v1/promise", "/v1/snapshot", "/metrics", "/health", "/"):
            assert path in spec["paths"], path
        assert httpx.get(server.url + "/docs").status_code == 200


def test_snapshot_files_plan_forward(server, tmp_path):
    from click.testing import CliRunner

    from omsim.cli import main

    with server.client() as c:
        post(c, "/v1/orders", order_body("S1", qty=2), "s1")
        post(c, "/v1/orders", order_body("S2", sku="SKU00004", qty=1, region="chicago"), "s2")
        post(c, "/v1/orders/S2/cancel", None, "s3")
    with server.client(ADMIN) as c:
        r = c.get("/v1/snapshot")
    assert r.status_code == 200 and r.headers["X-Omsim-Seq"] == "3"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    z.extractall(tmp_path / "snap")
    orders = (tmp_path / "snap" / "orders.csv").read_text().splitlines()
    assert orders[0] == "order_id,sku,qty,region,service_level,created_at" and len(orders) == 2
    assert orders[1].startswith("S1,SKU00001,2,new-york,standard,")
    res = CliRunner().invoke(main, ["plan", "--orders", str(tmp_path / "snap" / "orders.csv"),
                                    "--stock", str(tmp_path / "snap" / "stock.csv"), "--out", str(tmp_path / "plan")])
    assert res.exit_code == 0, res.output
    assert "S1" in (tmp_path / "plan" / "plan_lines.csv").read_text()


def test_hold_reserves_then_expires(server):
    import time

    with server.client() as c:
        cart = {"lines": [{"sku": "SKU00005", "qty": 3}], "ship_to": {"region": "chicago"}, "hold_s": 1.0}
        assert c.post("/v1/promise", json=cart).status_code == 400            # a hold is a write: key needed
        with server.client(READ) as rc:
            assert rc.post("/v1/promise", json=cart, headers={"Idempotency-Key": "h0"}).status_code == 403
        r = c.post("/v1/promise", json=cart, headers={"Idempotency-Key": "h1"})
        assert r.status_code == 200 and r.json()["hold_id"] and r.json()["hold_expires_at"]
        assert sum(x["reserved"] for x in c.get("/v1/availability", params={"sku": "SKU00005"}).json()) == 3
        for _ in range(100):
            if c.get("/health").json()["seq"] == 2:
                break
            time.sleep(0.1)
        types = [e["type"] for e in c.get("/v1/events").json()["events"]]
        assert types == ["hold.placed", "hold.released"]
        assert sum(x["reserved"] for x in c.get("/v1/availability", params={"sku": "SKU00005"}).json()) == 0
