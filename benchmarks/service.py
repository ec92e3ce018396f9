"""Open-loop load on ``omsim serve``: fixed arrival rates, latency from the intended send time.

Each rate runs for ``--seconds``; request ``i`` is due at ``t0 + i / rate``
whatever the earlier ones did (no coordinated omission: a slow answer delays
nobody's clock, and its lateness counts in its latency). The mix is 60 %
``POST /v1/promise``, 30 % durable ``POST /v1/orders``, 10 % availability
reads and package ships. Beside it, the engine's own in-process decision
time for the same carts (the floor no server can beat).

    python benchmarks/service.py --rates 100,300,500 --seconds 10
    python benchmarks/service.py --pg postgresql://user@host/db   # also on PostgreSQL

The server runs in its own process (pinned to CPU 0 when ``taskset`` exists),
the load generator in this one (CPU 1). Prints a table; writes JSON to
benchmarks/results/service.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-admin-key-0123456789"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, tmp: str) -> tuple[subprocess.Popen, str]:
    port = _port()
    cmd = [sys.executable, "-m", "omsim.cli", "serve", "--db", db, "--port", str(port)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0"] + cmd
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMSIM_API_KEYS": f"{KEY}:admin"}
    proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server on {db} did not start")


def carts(sc, n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    skus, regions = sc.sku_ids, [r.id for r in sc.demand.regions]
    return [{"lines": [{"sku": s, "qty": rng.randint(1, 3)} for s in rng.sample(skus, rng.randint(1, 3))],
             "ship_to": {"region": rng.choice(regions)}, "service_level": "standard"} for _ in range(n)]


async def run_rate(url: str, rate: float, seconds: float, cart_list: list[dict], tag: str) -> dict:
    n = int(rate * seconds)
    rng = random.Random(int(rate))
    kinds = rng.choices(["promise", "order", "read"], weights=[60, 30, 10], k=n)
    lat: dict[str, list[float]] = {"promise": [], "order": [], "read": []}
    errors = {"promise": 0, "order": 0, "read": 0}
    placed: list[str] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
                                 limits=limits) as c:
        t0 = time.perf_counter() + 0.2

        async def one(i: int, kind: str):
            due = t0 + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            cart = cart_list[i % len(cart_list)]
            try:
                if kind == "promise":
                    r = await c.post("/v1/promise", json=cart)
                    ok = r.status_code == 200
                elif kind == "order":
                    oid = f"{tag}-{int(rate)}-{i}"
                    r = await c.post("/v1/orders", json={**cart, "order_id": oid}, headers={"Idempotency-Key": oid})
                    ok = r.status_code == 201
                    if ok:
                        placed.append(oid)
                elif placed and i % 2:
                    oid = placed[rng.randrange(len(placed))]
                    r = await c.post(f"/v1/orders/{oid}/shipments/0/ship", headers={"Idempotency-Key": f"s-{oid}"})
                    ok = r.status_code in (200, 404, 409)       # shipped already / no package: still an answer
                else:
                    r = await c.get("/v1/availability", params={"sku": cart["lines"][0]["sku"]})
                    ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            lat[kind].append(time.perf_counter() - due)
            if not ok:
                errors[kind] += 1
        await asyncio.gather(*(one(i, k) for i, k in enumerate(kinds)))
        wall = time.perf_counter() - t0
    out = {"rate": rate, "requests": n, "wall_s": wall, "throughput": n / wall}
    for k, v in lat.items():
        a = np.array(v) * 1000 if v else np.zeros(1)
        out[k] = {"n": len(v), "errors": errors[k], "p50_ms": float(np.percentile(a, 50)),
                  "p95_ms": float(np.percentile(a, 95)), "p99_ms": float(np.percentile(a, 99))}
    return out


def in_process_floor(sc, cart_list) -> dict:
    from omsim.engine import DecisionEngine
    from omsim.engine.live import LiveEngine

    live = LiveEngine(DecisionEngine.from_scenario(sc))
    ts = []
    for i, cart in enumerate(cart_list[:500]):
        lines = [(ln["sku"], ln["qty"]) for ln in cart["lines"]]
        t = time.perf_counter()
        o = live.order("p", lines, cart["ship_to"]["region"], "standard", 0.0)
        live.engine.decide(o, o.created_h)
        ts.append(time.perf_counter() - t)
    a = np.array(ts) * 1000
    return {"decide_p50_ms": float(np.percentile(a, 50)), "decide_p99_ms": float(np.percentile(a, 99))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="100,300,500")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pg", default=None, help="also run on this PostgreSQL URL (an empty database)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import omsim

    sc = omsim.load_scenario()
    cart_list = carts(sc, 2000)
    floor = in_process_floor(sc, cart_list)
    results = {"floor": floor, "runs": []}
    dbs = [("sqlite", None)] + ([("postgresql", args.pg)] if args.pg else [])
    print(f"in-process decide: p50 {floor['decide_p50_ms']:.2f} ms, p99 {floor['decide_p99_ms']:.2f} ms")
    print(f"{'db':10} {'rate/s':>7} {'done/s':>7} {'kind':8} {'n':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8}")
    for name, url in dbs:
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_server(url or f"sqlite:///{tmp}/bench.db", tmp)
            try:
                for rate in [float(r) for r in args.rates.split(",")]:
                    res = asyncio.run(run_rate(base, rate, args.seconds, cart_list, name))
                    res["db"] = name
                    results["runs"].append(res)
                    for k in ("promise", "order", "read"):
                        s = res[k]
                        print(f"{name:10} {rate:7.0f} {res['throughput']:7.0f} {k:8} {s['n']:6d} {s['errors']:4d} "
                              f"{s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['p99_ms']:8.2f}")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    out = ROOT / "benchmarks" / "results" / "service.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
