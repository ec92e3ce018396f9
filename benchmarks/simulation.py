"""End-to-end simulation throughput: orders simulated per second and peak memory.

Runs the bundled default scenario (about 2,000 orders a day) for as many days
as it takes to reach each target order count, each size in a fresh
subprocess so that its peak resident memory is its own, and prints

* orders/s end to end (demand generation, the SimPy model, the engine's
  decisions, building the Result);
* µs per order and its ratio to the smallest size (cost per order should
  stay flat as runs grow);
* the share of the time spent inside the DecisionEngine (decide, commit,
  ship, review, ...) and in wave batching and routing (omsim.warehouse, via
  ``Floor.tours``) — the peers measured in the same run: what remains is the
  simulator's own overhead (SimPy, bookkeeping, logging, Result), reported
  as ``sim µs/order``;
* peak RSS (the events frame built after the run included);
* the seconds it takes to build ``Result.events`` (a DataFrame of every state
  change, about ten rows an order) when it is first read, after the timed run:
  the run's Result holds the event log and builds that frame on demand;
* orders per CPU-second of the child (the machine may be shared: wall time
  then overstates the cost).

Target: >= 20,000 orders/s on one core at 1M orders, in under 4 GB.

Usage::

    python benchmarks/simulation.py            # 10k, 100k, 1M orders
    python benchmarks/simulation.py --quick    # 2k and 10k orders
    python benchmarks/simulation.py --sizes 10000 50000 --json out.json
    python benchmarks/simulation.py --sizes 20000 --real-sizes 21000   # default vs real orders

Beside the default scenario it runs ``scenarios/uk-gift-retailer.yaml``,
replaying the real Online Retail II orders (median 15 lines, p99 about 200;
the whole year when ``../shared`` is present, else the shipped week), and
prints orders/s and lines/s of both: the real orders have about 15 times the
lines of the default's, so lines/s is the comparable rate.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

TARGET = 20_000.0


UK = Path(__file__).resolve().parents[1] / "scenarios" / "uk-gift-retailer.yaml"


def _load(name: str, orders: int):
    """(scenario, days) for about ``orders`` orders of the default or the real (uk) scenario."""
    import datetime as dt

    import omsim

    if name == "default":
        sc = omsim.load_scenario()
        return sc, max(1, int(math.ceil(orders / sc.demand.orders_per_day)))
    sc = omsim.load_scenario(UK)
    # From the Monday before the history's first day: the whole year replays (about 56 orders a
    # calendar day); with only the shipped week present, that week replays once.
    sc.horizon.start = dt.date(2009, 11, 30)
    return sc, min(374, max(1, int(math.ceil(orders / 56.0))))


def _child(orders: int, seed: int, scenario: str = "default") -> dict:
    """Run one size in this process and return its measurements."""
    import resource

    from omsim import engine as _engine
    from omsim.sim.model import Simulation

    sc, days = _load(scenario, orders)
    from omsim.engine import floor as _floor

    spent = {"engine_s": 0.0, "floor_s": 0.0}
    depth = {"engine_s": 0, "floor_s": 0}

    def timed(fn, key):
        def wrapper(*a, **k):
            # Only the outermost call counts (decide_commit_many calls decide and commit itself).
            depth[key] += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                depth[key] -= 1
                if depth[key] == 0:
                    spent[key] += time.perf_counter() - t0
        return wrapper

    cls = _engine.DecisionEngine
    for name in ("decide", "commit", "decide_batch", "decide_commit_many", "decide_commit_arrays", "cancel", "ship",
                 "ship_many", "restock", "scrap", "receive", "review"):
        if hasattr(cls, name):
            setattr(cls, name, timed(getattr(cls, name), "engine_s"))
    # Batching + routing of waves (omsim.warehouse), called through the floor adapter.
    _floor.Floor.tours = timed(_floor.Floor.tours, "floor_s")
    t0, c0 = time.perf_counter(), time.process_time()
    sim = Simulation(sc, seed, days)
    res = sim.run()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    n = int(res.kpis["orders"])
    lines = int(sim.dem.line_ptr[-1])
    # The events frame is built when first read (the KPIs do not need it): timed on its own.
    e0 = time.perf_counter()
    n_events = len(res.events)
    events_s = time.perf_counter() - e0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"scenario": scenario, "target_orders": orders, "orders": n, "lines": lines,
            "lines_per_order": lines / max(sim.dem.n, 1), "lines_per_s": lines / wall, "days": days, "wall_s": wall, "orders_per_s": n / wall,
            "cpu_s": cpu, "orders_per_cpu_s": n / cpu,
            "us_per_order": 1e6 * wall / max(n, 1), "engine_s": spent["engine_s"], "floor_s": spent["floor_s"],
            "sim_us_per_order": 1e6 * (wall - spent["engine_s"] - spent["floor_s"]) / max(n, 1),
            "peak_rss_mb": peak_kb / 1024.0, "events": n_events, "events_frame_s": events_s,
            "ledger_rows": len(res.ledger)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--quick", action="store_true", help="2k and 10k orders only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the measurements to this JSON file")
    ap.add_argument("--real-sizes", type=int, nargs="*", default=None,
                    help="orders of the real scenario (uk-gift-retailer.yaml, replaying Online Retail II: "
                         "median 15 lines an order) to run beside the default's [default: 2k and the whole year]")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-scenario", default="default", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(args.child, args.seed, args.child_scenario)))
        return 0
    sizes = [2_000, 10_000] if args.quick else args.sizes
    real = args.real_sizes if args.real_sizes is not None else ([2_000] if args.quick else [2_000, 21_000])
    rows = []
    for name, size in [("default", s) for s in sizes] + [("uk", s) for s in real]:
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--seed", str(args.seed),
                              "--child-scenario", name], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]["us_per_order"]
    print(f"{'scenario':>8} {'orders':>9} {'lines':>9} {'lines/o':>7} {'days':>5} {'wall s':>8} {'orders/s':>9} "
          f"{'lines/s':>9} {'us/order':>9} {'x smallest':>10} "
          f"{'engine %':>8} {'floor %':>8} {'sim us/order':>12} {'peak MB':>8} {'vs target':>9} {'orders/cpu-s':>12} "
          f"{'events s':>8}")
    for r in rows:
        print(f"{r['scenario']:>8} {r['orders']:>9} {r['lines']:>9} {r['lines_per_order']:>7.1f} {r['days']:>5} "
              f"{r['wall_s']:>8.1f} {r['orders_per_s']:>9.0f} {r['lines_per_s']:>9.0f} "
              f"{r['us_per_order']:>9.1f} {r['us_per_order'] / base:>10.2f} "
              f"{100 * r['engine_s'] / r['wall_s']:>8.1f} {100 * r['floor_s'] / r['wall_s']:>8.1f} "
              f"{r['sim_us_per_order']:>12.1f} "
              f"{r['peak_rss_mb']:>8.0f} {r['orders_per_s'] / TARGET:>9.3f} {r['orders_per_cpu_s']:>12.0f} "
              f"{r['events_frame_s']:>8.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"target_orders_per_s": TARGET, "runs": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
