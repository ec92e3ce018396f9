"""Durability and the one writer, on SQLite and PostgreSQL: the last units race, restart, kill -9 under load."""
from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import httpx
import pytest

from service.server import READ, WRITE, order_body

SKU = "SKU00001"


@pytest.fixture
def scarce_stock(tmp_path):
    """5 units of SKU00001 in the whole network (2 + 2 + 1), plenty of SKU00002; no safety stock."""
    p = tmp_path / "stock.csv"
    p.write_text("node,sku,on_hand,safety\nRNO,SKU00001,2,0\nMEM,SKU00001,2,0\nABE,SKU00001,1,0\n"
                 "RNO,SKU00002,100000,0\nMEM,SKU00002,100000,0\nABE,SKU00002,100000,0\n")
    return str(p)


def reserved(c, sku=SKU) -> tuple[int, int]:
    rows = c.get("/v1/availability", params={"sku": sku}).json()
    return sum(r["reserved"] for r in rows), sum(r["available"] for r in rows)


def test_last_units_race(db_url, make_server, scarce_stock):
    srv = make_server(db_url, stock=scarce_stock)

    def place(i):
        with srv.client() as c:
            r = c.post("/v1/orders", json=order_body(f"R{i}", qty=1, region=["new-york", "dallas"][i % 2]),
                       headers={"Idempotency-Key": f"race-{i}"})
            assert r.status_code == 201, r.text
            return r.json()
    with cf.ThreadPoolExecutor(40) as ex:
        got = list(ex.map(place, range(40)))
    allocated = sum(ln["qty"] for o in got for s in o["shipments"] for ln in s["lines"])
    assert allocated == 5 and sum(o["status"] == "allocated" for o in got) == 5
    assert sorted(o["seq"] for o in got) == list(range(1, 41))          # one writer, in order, no gaps
    with srv.client(READ) as c:
        assert reserved(c) == (5, 0)
    # restart: the database is the truth (the --stock file is not read again)
    srv.stop()
    srv.start()
    with srv.client(READ) as c:
        assert reserved(c) == (5, 0) and c.get("/health").json()["seq"] == 40


def test_kill_9_under_load(db_url, make_server, scarce_stock):
    """8 clients order as fast as they can; kill -9; restart: every acknowledged order is there, once."""
    srv = make_server(db_url, stock=scarce_stock)
    acked: dict[str, dict] = {}
    sent: dict[str, dict] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def client(w):
        n = 0
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {WRITE}"}, timeout=10) as c:
            while not stop.is_set():
                oid = f"K{w}-{n}"
                body = order_body(oid, sku="SKU00002", qty=1 + n % 3)
                with lock:
                    sent[oid] = body
                try:
                    r = c.post("/v1/orders", json=body, headers={"Idempotency-Key": oid})
                except httpx.HTTPError:
                    return                                   # the server died under this request
                if r.status_code == 201:
                    with lock:
                        acked[oid] = r.json()
                n += 1
    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    while len(acked) < 60:
        time.sleep(0.05)
    srv.kill()
    stop.set()
    for t in threads:
        t.join()
    srv.start()
    with srv.client() as c:
        for oid, o in acked.items():
            got = c.get(f"/v1/orders/{oid}").json()
            assert got["shipments"][0]["lines"] == o["shipments"][0]["lines"]
            assert got["shipments"][0]["node"] == o["shipments"][0]["node"] and got["seq"] == o["seq"]
        feed = c.get("/v1/events", params={"limit": 1000}).json()["events"]
        ids = [e["data"]["order_id"] for e in feed]
        assert len(ids) == len(set(ids))                    # nothing twice
        in_flight = set(ids) - set(acked)
        assert len(in_flight) <= 8                          # at most one unacknowledged per client
        # retry every order that was sent but not acknowledged, with its key: it completes, once
        for oid in set(sent) - set(acked):
            r = c.post("/v1/orders", json=sent[oid], headers={"Idempotency-Key": oid})
            assert r.status_code == 201, r.text
            acked[oid] = r.json()
        units = sum(ln["qty"] for o in acked.values() for s in o["shipments"] for ln in s["lines"])
        assert reserved(c, "SKU00002")[0] == units
        assert c.get("/health").json()["seq"] == len(acked)


def test_second_writer_refused_and_read_only_follows(db_url, make_server, scarce_stock):
    srv = make_server(db_url, stock=scarce_stock)
    second = make_server(db_url, start=False)
    second.port = 1
    import os
    import subprocess

    from service.server import KEYS, SRC
    res = subprocess.run(second.command(), env={**os.environ, "PYTHONPATH": SRC, "OMSIM_API_KEYS": KEYS},
                         capture_output=True, text=True, timeout=120, cwd=second.tmp)
    assert res.returncode == 2 and "another omsim writer" in res.stderr and "Traceback" not in res.stderr
    reader = make_server(db_url, extra=["--read-only"])
    with srv.client() as c:
        assert c.post("/v1/orders", json=order_body("RO1"), headers={"Idempotency-Key": "ro1"}).status_code == 201
    with reader.client(WRITE) as c:
        r = c.post("/v1/orders", json=order_body("RO2"), headers={"Idempotency-Key": "ro2"})
        assert r.status_code == 405
        for _ in range(100):
            if c.get("/health").json()["seq"] == 1:
                break
            time.sleep(0.1)
        assert reserved(c) == (1, 4)
        assert c.get("/v1/orders/RO1").json()["order_id"] == "RO1"


def test_restart_from_a_snapshot_or_past_a_bad_one_is_exact(tmp_path, caplog):
    """Snapshots every 3 events; a restart from the latest equals the full replay, and a snapshot of another
    format version (or damaged) is skipped with a log line, the state still exact."""
    import logging

    import sqlalchemy as sa

    from omsim.engine.live import LiveEngine
    from omsim.service.app import Service
    from omsim.service.settings import Settings
    from omsim.service.writer import Command

    def rewrite(data: bytes, **change) -> bytes:          # the snapshot with some of its state.json changed
        import io
        import json

        import numpy as np

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        state = {**json.loads(arrays.pop("state_json").tobytes()), **change}
        buf = io.BytesIO()
        np.savez(buf, state_json=np.frombuffer(json.dumps(state).encode(), dtype=np.uint8), **arrays)
        return buf.getvalue()

    settings = Settings(db=f"sqlite:///{tmp_path / 'live.db'}", keys={WRITE: "write"}, snapshot_every=3)
    svc = Service(settings)
    svc.start()
    try:
        for i in range(10):
            run = (lambda lv, i=i: (201, {"seq": lv.place(f"O{i}", [(SKU, 1), ("SKU00002", i + 1)], "chicago")[1].seq}))
            assert svc.writer.submit(Command(f"k{i}", "fp", run)).result(timeout=30)[0] == 201
        run = lambda lv: (200, {"seq": lv.ship("O1", 0).seq})  # noqa: E731
        assert svc.writer.submit(Command("ship", "fp", run)).result(timeout=30)[0] == 200
        want = svc.live.digest()
    finally:
        svc.stop()
    with sa.create_engine(settings.db).connect() as c:
        seqs = [r[0] for r in c.execute(sa.text("SELECT seq FROM omsim_snapshot ORDER BY seq"))]
    assert seqs[0] == 0 and seqs[-1] >= 9 and len(seqs) >= 4
    full = Service(settings)
    try:
        first = full.db.snapshot_at(0)
        assert LiveEngine.replay(None, full.db.journal, snapshot=first, scenario=full.scenario).digest() == want
        assert full.live.digest() == want                        # from the latest snapshot + the events after it
        latest = full.db.latest_snapshot()
    finally:
        full.db.close()
    for bad in (rewrite(latest[1], format_version=99), latest[1][:100]):
        with sa.create_engine(settings.db).begin() as c:
            c.execute(sa.text("UPDATE omsim_snapshot SET data = :d WHERE seq = :s"), {"d": bad, "s": latest[0]})
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="omsim.service"):
            again = Service(settings)
        try:
            assert again.live.digest() == want
            assert f"snapshot at seq {latest[0]} ignored" in caplog.text and "replaying the whole journal" in caplog.text
        finally:
            again.db.close()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="snapshots go to a child process only where fork exists")
def test_snapshots_dumped_by_a_child_process_restart_exactly(tmp_path):
    """Once a snapshot has been slow, the next ones are dumped by a forked child while the writer goes on;
    what it stores is the state at its sequence: a restart from it plus the journal after it is exact."""
    import sqlalchemy as sa

    from omsim.service.app import Service
    from omsim.service.settings import Settings
    from omsim.service.writer import Command

    settings = Settings(db=f"sqlite:///{tmp_path / 'live.db'}", keys={WRITE: "write"}, snapshot_every=2)
    svc = Service(settings)
    svc.start()
    svc.writer._slow = True                 # as after a snapshot that took too long in the writer
    try:
        for i in range(12):
            run = (lambda lv, i=i: (201, {"seq": lv.place(f"F{i}", [(SKU, 1), ("SKU00002", i + 1)], "dallas")[1].seq}))
            assert svc.writer.submit(Command(f"f{i}", "fp", run)).result(timeout=30)[0] == 201
            time.sleep(0.05)                # give the child time, so several snapshots come from children
        deadline = time.time() + 30         # one child at a time (others are skipped): let the last one land
        while svc.writer._child is not None and time.time() < deadline:
            time.sleep(0.05)
        want, stored = svc.live.digest(), svc.writer.last_snapshot
    finally:
        svc.stop()
    assert svc.writer.forked >= 2 and stored > 0
    with sa.create_engine(settings.db).connect() as c:
        seqs = [r[0] for r in c.execute(sa.text("SELECT seq FROM omsim_snapshot ORDER BY seq"))]
    assert len(seqs) >= 3 and seqs[-1] == stored           # seq 0 at the first start, then the children's
    again = Service(settings)
    try:
        assert again.db.latest_snapshot()[0] == seqs[-1]
        assert again.live.digest() == want
    finally:
        again.db.close()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="snapshots go to a child process only where fork exists")
def test_a_snapshot_child_that_fails_costs_nothing_but_the_shortcut(tmp_path, caplog):
    """A child whose dump fails exits non-zero: the writer logs it, stores no snapshot for that sequence,
    goes on serving, and the next start replays the journal to the same state."""
    import logging

    import sqlalchemy as sa

    from omsim.service.app import Service
    from omsim.service.settings import Settings
    from omsim.service.writer import Command

    settings = Settings(db=f"sqlite:///{tmp_path / 'live.db'}", keys={WRITE: "write"}, snapshot_every=2)
    svc = Service(settings)
    svc.start()
    svc.writer._slow = True                 # the next snapshots go to a child

    def fails():
        raise RuntimeError("disk full")     # what the child meets; it only dumps, so it just exits 1

    svc.live.snapshot = fails               # the forked child inherits it
    try:
        with caplog.at_level(logging.WARNING, logger="omsim.service"):
            for i in range(6):
                run = (lambda lv, i=i: (201, {"seq": lv.place(f"X{i}", [(SKU, 1)], "dallas")[1].seq}))
                assert svc.writer.submit(Command(f"x{i}", "fp", run)).result(timeout=30)[0] == 201
                time.sleep(0.05)
            deadline = time.time() + 30
            while svc.writer._child is not None and time.time() < deadline:
                time.sleep(0.05)
            # still serving after the failed children
            run = lambda lv: (201, {"seq": lv.place("X6", [(SKU, 1)], "dallas")[1].seq})  # noqa: E731
            assert svc.writer.submit(Command("x6", "fp", run)).result(timeout=30)[0] == 201
        want = svc.live.digest()
    finally:
        svc.stop()
    assert svc.writer.forked >= 1 and "the child process failed" in caplog.text
    with sa.create_engine(settings.db).connect() as c:
        seqs = [r[0] for r in c.execute(sa.text("SELECT seq FROM omsim_snapshot ORDER BY seq"))]
    assert seqs == [0]                      # only the first start's; no child stored one
    again = Service(settings)
    try:
        assert again.live.digest() == want and again.live.seq == 7
    finally:
        again.db.close()


def test_the_writer_collects_cycles_when_idle(tmp_path):
    """``collect_when_idle`` (serve turns automatic full collections off): once the writer has been idle for
    a poll after writing, it runs a full collection, and reclaims a cycle that reached the oldest generation;
    nothing changes in what it serves, and a restart is still exact."""
    import gc
    import weakref

    from omsim.service.app import Service
    from omsim.service.settings import Settings
    from omsim.service.writer import Command

    class Node:
        pass

    settings = Settings(db=f"sqlite:///{tmp_path / 'live.db'}", keys={WRITE: "write"}, collect_when_idle=True)
    svc = Service(settings)
    old = gc.get_threshold()
    gc.set_threshold(old[0], old[1], 1 << 30)               # as serve sets it
    svc.start()
    try:
        cycle = Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        gc.collect(1)                                       # alive: moved on to the oldest generation
        del cycle
        gc.collect(1)                                       # garbage now, out of the young collections' sight
        assert gone() is not None
        for i in range(5):
            run = (lambda lv, i=i: (201, {"seq": lv.place(f"G{i}", [(SKU, 1)], "dallas")[1].seq}))
            assert svc.writer.submit(Command(f"g{i}", "fp", run)).result(timeout=30)[0] == 201
        deadline = time.time() + 10
        while svc.writer.idle_collections == 0 and time.time() < deadline:
            time.sleep(0.1)
        want = svc.live.digest()
        assert svc.writer.idle_collections >= 1 and gone() is None
        n = svc.writer.idle_collections
        time.sleep(1.2)                                     # idle with nothing new written: no more
        assert svc.writer.idle_collections == n
    finally:
        svc.stop()
        gc.set_threshold(*old)
    again = Service(settings)
    try:
        assert again.live.digest() == want
    finally:
        again.db.close()


def test_group_commit_waits_only_under_load(tmp_path):
    """``commit_delay_s``: a command arriving at an idle writer is committed at once, alone; once commands
    arrive closely (the last commit less than ``commit_siblings_s`` ago) the writer waits up to the delay
    for more, and they share one transaction. Every command is answered, and a restart is exact."""
    from omsim.service.app import Service
    from omsim.service.settings import Settings
    from omsim.service.writer import Command

    settings = Settings(db=f"sqlite:///{tmp_path / 'live.db'}", keys={WRITE: "write"},
                        commit_delay_s=0.5, commit_siblings_s=60.0)
    svc = Service(settings)
    svc.start()

    def cmd(i):
        return Command(f"c{i}", "fp", lambda lv, i=i: (201, {"seq": lv.place(f"C{i}", [(SKU, 1)], "dallas")[1].seq}))
    try:
        assert svc.writer.submit(cmd(0)).result(timeout=30)[0] == 201      # idle: no wait
        assert (svc.writer.batches, svc.writer.delayed) == (1, 0)
        first = svc.writer.submit(cmd(1))                                  # just after a commit: waits ...
        time.sleep(0.05)
        second = svc.writer.submit(cmd(2))                                 # ... and this one joins it
        assert first.result(timeout=30)[0] == 201 and second.result(timeout=30)[0] == 201
        assert (svc.writer.batches, svc.writer.delayed) == (2, 1)
        sizes = {s.labels.get("le"): s.value for m in svc.metrics.registry.collect()
                 if m.name == "omsim_writer_batch_commands" for s in m.samples if s.name.endswith("_bucket")}
        assert sizes["1.0"] == 1 and sizes["2.0"] == 2                     # one batch of 1, one of 2
        want = svc.live.digest()
    finally:
        svc.stop()
    again = Service(settings)
    try:
        assert again.live.digest() == want and again.live.seq == 3
    finally:
        again.db.close()
