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
    python benchmarks/simulation.py --sizes 1000000 --real-sizes --format parquet   # in memory vs streamed
    python benchmarks/simulation.py --scenario scenarios/large-retailer.yaml --days 90 --format parquet

With ``--format parquet`` each default size also runs streamed (orders,
events and ledger written to Parquet as the run goes, :mod:`omsim.sim.stream`)
right after its in-memory run, and both are timed with writing their outputs
(the in-memory run's CSV files at the end). With ``--scenario FILE --days D``
it runs that scenario (the scale case: ``scenarios/large-retailer.yaml``,
about 9M orders, target <= 4 GB peak RSS at >= 0.6x the default's orders/s)
and then the default scenario at the first ``--sizes`` (1M orders unless
given) in the same format, and prints the ratio of their orders/s.

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
    if name != "uk":            # a scenario file (--scenario): its horizon, or --days
        sc = omsim.load_scenario(name)
        return sc, sc.horizon.days
    sc = omsim.load_scenario(UK)
    # From the Monday before the history's first day: the whole year replays (about 56 orders a
    # calendar day); with only the shipped week present, that week replays once.
    sc.horizon.start = dt.date(2009, 11, 30)
    return sc, min(374, max(1, int(math.ceil(orders / 56.0))))


def _child(orders: int, seed: int, scenario: str = "default", days: int | None = None, fmt: str = "memory",
           write: bool = False) -> dict:
    """Run one size in this process and return its measurements; ``fmt``: ``memory`` (in-memory Result)
    or ``csv``/``parquet`` (streamed to a temporary directory); ``write``: time writing the outputs too."""
    import resource
    import shutil
    import tempfile

    from omsim import engine as _engine
    from omsim.sim.model import Simulation
    from omsim.sim.stream import Sink

    sc, horizon = _load(scenario, orders)
    days = days or horizon
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
    tmp = tempfile.mkdtemp(prefix="omsim-bench-")
    sink = Sink(tmp, fmt) if fmt != "memory" else None
    t0, c0 = time.perf_counter(), time.process_time()
    sim = Simulation(sc, seed, days, sink=sink)
    res = sim.run()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    n = int(res.kpis["orders"])
    lines = int(sim.dem.line_ptr[-1])
    # The events frame is built when first read (the KPIs do not need it): timed on its own.
    e0 = time.perf_counter()
    if sink is None:
        n_events, n_ledger = len(res.events), len(res.ledger)
    else:       # counted from the files: reading 90 days of events back is not the run's cost
        n_events, n_ledger = sink.rows["events"], sink.rows["ledger"]
    events_s = time.perf_counter() - e0
    # What `omsim simulate` then writes: the in-memory run's CSV files (a streamed run wrote its tables as
    # it went, and writes only kpis.json, daily.csv and scenario.yaml now).
    w0 = time.perf_counter()
    if write:
        res.write_files(tmp)
    write_s = time.perf_counter() - w0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shutil.rmtree(tmp, ignore_errors=True)
    return {"scenario": sc.name if scenario not in ("default", "uk") else scenario, "format": fmt,
            "write_s": write_s, "run_write_orders_per_s": n / (wall + write_s), "target_orders": orders, "orders": n, "lines": lines,
            "lines_per_order": lines / max(sim.dem.n, 1), "lines_per_s": lines / wall, "days": days, "wall_s": wall, "orders_per_s": n / wall,
            "cpu_s": cpu, "orders_per_cpu_s": n / cpu,
            "us_per_order": 1e6 * wall / max(n, 1), "engine_s": spent["engine_s"], "floor_s": spent["floor_s"],
            "sim_us_per_order": 1e6 * (wall - spent["engine_s"] - spent["floor_s"]) / max(n, 1),
            "peak_rss_mb": peak_kb / 1024.0, "events": n_events, "events_frame_s": events_s,
            "ledger_rows": n_ledger}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--quick", action="store_true", help="2k and 10k orders only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the measurements to this JSON file")
    ap.add_argument("--real-sizes", type=int, nargs="*", default=None,
                    help="orders of the real scenario (uk-gift-retailer.yaml, replaying Online Retail II: "
                         "median 15 lines an order) to run beside the default's [default: 2k and the whole year]")
    ap.add_argument("--scenario", help="run this scenario file (for --days) and the default scenario beside it")
    ap.add_argument("--days", type=int, help="days of --scenario (its horizon when omitted)")
    ap.add_argument("--format", choices=["csv", "parquet"], default=None,
                    help="also run streamed in this format (with --scenario: only streamed)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-scenario", default="default", help=argparse.SUPPRESS)
    ap.add_argument("--child-days", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-format", default="memory", help=argparse.SUPPRESS)
    ap.add_argument("--child-write", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(args.child, args.seed, args.child_scenario, args.child_days, args.child_format,
                                args.child_write)))
        return 0
    sizes = [2_000, 10_000] if args.quick else args.sizes
    real = args.real_sizes if args.real_sizes is not None else ([2_000] if args.quick else [2_000, 21_000])
    jobs = []       # (scenario, orders, days, format), in the order they run
    if args.scenario:
        ref = sizes[0] if args.sizes != ap.get_default("sizes") else 1_000_000
        fmt = args.format or "memory"
        jobs = [(args.scenario, 0, args.days, fmt), ("default", ref, None, fmt)]
    else:
        for s in sizes:
            jobs.append(("default", s, None, "memory"))
            if args.format:
                jobs.append(("default", s, None, args.format))
        jobs += [("uk", s, None, "memory") for s in real]
    rows = []
    for name, size, days, fmt in jobs:
        cmd = [sys.executable, __file__, "--child", str(size), "--seed", str(args.seed), "--child-scenario", name,
               "--child-format", fmt] + (["--child-days", str(days)] if days else [])
        out = subprocess.run(cmd + (["--child-write"] if args.format else []), capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]["us_per_order"]
    print(f"{'scenario':>14} {'format':>7} {'orders':>9} {'lines':>9} {'lines/o':>7} {'days':>5} {'wall s':>8} {'orders/s':>9} "
          f"{'lines/s':>9} {'us/order':>9} {'x smallest':>10} "
          f"{'engine %':>8} {'floor %':>8} {'sim us/order':>12} {'peak MB':>8} {'vs target':>9} {'orders/cpu-s':>12} "
          f"{'events s':>8}")
    for r in rows:
        print(f"{r['scenario']:>14} {r['format']:>7} {r['orders']:>9} {r['lines']:>9} {r['lines_per_order']:>7.1f} {r['days']:>5} "
              f"{r['wall_s']:>8.1f} {r['orders_per_s']:>9.0f} {r['lines_per_s']:>9.0f} "
              f"{r['us_per_order']:>9.1f} {r['us_per_order'] / base:>10.2f} "
              f"{100 * r['engine_s'] / r['wall_s']:>8.1f} {100 * r['floor_s'] / r['wall_s']:>8.1f} "
              f"{r['sim_us_per_order']:>12.1f} "
              f"{r['peak_rss_mb']:>8.0f} {r['orders_per_s'] / TARGET:>9.3f} {r['orders_per_cpu_s']:>12.0f} "
              f"{r['events_frame_s']:>8.1f}")
    if args.format:
        print("with writing the outputs (in memory: CSV at the end; streamed: as the run goes):")
        for r in rows:
            print(f"  {r['scenario']:>14} {r['format']:>7} {r['orders']:>9} orders: run {r['wall_s']:.1f} s + write "
                  f"{r['write_s']:.1f} s = {r['run_write_orders_per_s']:,.0f} orders/s")
    if args.scenario:
        big, base_run = rows
        print(f"{big['scenario']}: {big['orders']:,} orders, peak RSS {big['peak_rss_mb'] / 1024:.2f} GB "
              f"(target <= 4), {big['orders_per_s']:,.0f} orders/s = "
              f"{big['orders_per_s'] / base_run['orders_per_s']:.2f}x the default scenario's "
              f"{base_run['orders_per_s']:,.0f} (target >= 0.6)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"target_orders_per_s": TARGET, "runs": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
