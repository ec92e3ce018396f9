"""Lookahead prices refresh in the background: orders are decided while the LP solves, and replay is exact."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np

from omsim.engine.journal import Event
from omsim.engine.live import LiveEngine
from omsim.service.app import Service
from omsim.service.settings import Settings
from service.server import WRITE

ROOT = Path(__file__).resolve().parents[2]


def _lookahead_service(tmp_path) -> Service:
    """The default scenario under lookahead, with little stock (so the LP prices it), prices every 50 ms."""
    text = (ROOT / "scenarios" / "default.yaml").read_text()
    assert "allocation: cheapest" in text
    (tmp_path / "lookahead.yaml").write_text(text.replace("allocation: cheapest", "allocation: lookahead"))
    sc_nodes = ("RNO", "MEM", "ABE")
    rows = [f"{n},SKU{j:05d},5,0" for n in sc_nodes for j in range(1, 501)]
    (tmp_path / "stock.csv").write_text("node,sku,on_hand,safety\n" + "\n".join(rows) + "\n")
    return Service(Settings(scenario=str(tmp_path / "lookahead.yaml"), db=f"sqlite:///{tmp_path / 'live.db'}",
                            stock=str(tmp_path / "stock.csv"), keys={WRITE: "write"}, price_refresh_s=0.05))


def _order(svc, i):
    lines = [(f"SKU{1 + (7 * i) % 40:05d}", 1 + i % 2), (f"SKU{1 + (3 * i) % 60:05d}", 1)]
    lines = list(dict(lines).items())
    run = lambda lv: (201, {"seq": lv.place(f"O{i}", lines, ["chicago", "dallas", "new-york"][i % 3])[1].seq})  # noqa: E731
    status, body = asyncio.run(svc.execute(f"k{i}", "fp", run))
    assert status == 201, body
    return body["seq"]


def test_orders_are_decided_while_prices_refresh_and_replay_is_exact(tmp_path):
    svc = _lookahead_service(tmp_path)
    engine = svc.live.engine
    real = engine.solve_shadow_prices
    solving, release = threading.Event(), threading.Event()

    def slow_lp(at_h, available):       # the first solve lasts until the test has decided orders meanwhile
        out = real(at_h, available)
        solving.set()
        release.wait(10)
        return out
    engine.solve_shadow_prices = slow_lp
    svc.start()
    try:
        assert solving.wait(30)
        during = [_order(svc, i) for i in range(5)]            # the writer is free while the LP "solves"
        assert svc.live.price_version == 0 and svc.prices.thread.is_alive()
        release.set()
        deadline, i = time.time() + 30, 1000
        while svc.live.price_version < 3 and time.time() < deadline:     # orders while the prices refresh
            i += 1
            _order(svc, i)
        assert svc.live.price_version >= 3
        for i in range(10):
            _order(svc, 100 + i)
    finally:
        svc.stop()
    want = svc.live.digest()
    journal_svc = Service(Settings(scenario=str(tmp_path / "lookahead.yaml"), db=f"sqlite:///{tmp_path / 'live.db'}",
                                   keys={WRITE: "write"}))
    try:
        db, sc = journal_svc.db, journal_svc.scenario
        events = db.journal.read(after=0, limit=None)
        first = db.snapshot_at(0)
        full = LiveEngine.replay(None, db.journal, snapshot=first, scenario=sc)
        assert full.digest() == want == journal_svc.live.digest()
        assert full.price_version >= 3 and np.count_nonzero(full.engine.shadow_prices(0.0)) > 0   # the LP priced the stock (pinned: any time)
        # each lookahead decision recorded the prices it used: the prices.updated events before it
        version, priced_after = 0, 0
        for ev in events:
            if ev.type == "prices.updated":
                version += 1
                assert ev.data["version"] == version and ev.data["skus"]
            elif ev.type == "order.committed":
                assert ev.data["decision"]["policy"] == "lookahead" and ev.data["price_version"] == version
                priced_after += version > 0
        assert [e.seq for e in events if e.type == "order.committed"][:5] == during and priced_after >= 10
        # ... and those prices give the recorded decisions again (the state before each, rebuilt)
        for ev in [e for e in events if e.type == "order.committed"][-4:]:
            before = LiveEngine.replay(None, db.journal, snapshot=first, scenario=sc, upto=ev.seq - 1)
            before.persist = lambda seq, new: [Event.numbered(e, seq + k, "") for k, e in enumerate(new)]  # memory
            d, again = before.place(ev.data["order_id"], ev.data["lines"], ev.data["region"], ev.data["level"],
                                    at=ev.at_h)
            assert again.data["price_version"] == ev.data["price_version"], (again.data, ev.data)
            assert again.data["decision"] == ev.data["decision"], (again.data, ev.data)
    finally:
        journal_svc.db.close()


def test_a_failing_refresh_keeps_the_prices_in_use_and_tries_again(tmp_path, caplog):
    """An LP that fails (here: raises twice) is logged, changes nothing and journals nothing; orders are
    decided with the prices in use meanwhile, and the next period's solve swaps new prices in."""
    svc = _lookahead_service(tmp_path)
    engine = svc.live.engine
    real, calls, go = engine.solve_shadow_prices, [], threading.Event()

    def flaky_lp(at_h, available):
        calls.append(at_h)
        if len(calls) <= 2:
            raise RuntimeError("GLOP hit its time limit")
        go.wait(10)                    # the third solve waits until the test has placed its order
        return real(at_h, available)
    engine.solve_shadow_prices = flaky_lp
    with caplog.at_level("WARNING", logger="omsim.service"):
        svc.start()
        try:
            deadline = time.time() + 30
            while len(calls) < 2 and time.time() < deadline:
                time.sleep(0.01)
            assert len(calls) >= 2
            seq = _order(svc, 1)                                   # decided with the prices in use
            assert svc.live.price_version == 0 and seq == svc.live.seq
            go.set()
            while svc.live.price_version < 1 and time.time() < deadline:
                time.sleep(0.01)
            assert svc.live.price_version >= 1                     # the third solve went in
        finally:
            svc.stop()
    failed = [r for r in caplog.records if "lookahead price refresh failed" in r.getMessage()]
    assert len(failed) == 2 and "GLOP hit its time limit" in failed[0].getMessage()
    types = [ev.type for ev in svc.db.journal.read(after=0, limit=None)]
    assert types[0] == "order.committed" and types.count("prices.updated") == svc.live.price_version
