"""Sweep on 1 worker vs 2 local worker processes: wall time, speed-up, equal results.

Runs the same grid x replications twice — in process (1 worker) and on a
pool of 2 spawned processes — and checks the two results tables are
identical (same seeds → same numbers on any executor). With ``--dask`` it
also runs on a 2-worker Dask ``LocalCluster`` and checks that table too.

    python benchmarks/sweep.py                      # small-business, 2 x 2 grid x 2 replications, 21 days
    python benchmarks/sweep.py --days 3 --replications 3 --json out.json

Timings on a shared machine are noisy: "cores used" (CPU seconds / wall
seconds) shows how much of the machine each executor actually got. As a control, the same two executors
run a pure-Python CPU burn of the same shape: its speed-up is what this
machine could give two processes at that moment (about 2 on two idle cores,
about 1 when other jobs already use them), so read the sweep's speed-up
against it.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd

from omsim.scenario import load_scenario
from omsim.sweep import expand_grid, make_tasks, parse_set, run_tasks

ROOT = Path(__file__).resolve().parents[1]


def burn(n: int) -> int:
    """CPU-bound control work (module level: picklable for the pool)."""
    s = 0
    for i in range(n):
        s += i * i
    return s


def control(jobs: int, n: int) -> tuple[float, float]:
    """Wall seconds of ``jobs`` burns in process and on 2 spawned processes."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    for _ in range(jobs):
        burn(n)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        list(pool.map(burn, [n] * jobs))
    return t1, time.perf_counter() - t0


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(tasks, **kw):
    c0, t0 = cpu_seconds(), time.perf_counter()
    table = run_tasks(tasks, **kw)
    return time.perf_counter() - t0, cpu_seconds() - c0, table


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "small-business.yaml"))
    ap.add_argument("--set", dest="sets", action="append",
                    default=None, help="PATH=V1,V2 (default: pickers 2,3 and allocation nearest,cheapest)")
    ap.add_argument("--replications", "-r", type=int, default=2)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dask", action="store_true", help="also run on a 2-worker Dask LocalCluster")
    ap.add_argument("--json", dest="json_out", default=None, help="write the measurements here")
    ap.add_argument("--no-control", action="store_true", help="skip the CPU-burn control")
    args = ap.parse_args(argv)

    sets = args.sets or ["network.warehouses[0].pickers=2,3", "policies.allocation=nearest,cheapest"]
    sc = load_scenario(args.scenario)
    tasks = make_tasks(sc, expand_grid([parse_set(s) for s in sets]), args.replications,
                       seed=args.seed, days=args.days)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t1, cpu1, serial = timed(tasks, workers=1)
    t2, cpu2, pooled = timed(tasks, workers=2)
    rows = [("1 worker (in process)", t1, cpu1, serial), ("2 worker processes", t2, cpu2, pooled)]
    if args.dask:
        import distributed

        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            td, _, dsk = timed(tasks, scheduler=cluster.scheduler_address)
        rows.append(("Dask LocalCluster, 2 workers", td, float("nan"), dsk))  # workers are not our children

    print(f"{os.cpu_count()} CPUs, load average {load:.1f} before the runs")
    print(f"scenario {sc.name}: {len(tasks)} runs ({', '.join(sets)}; "
          f"{args.replications} replications, {args.days} days)")
    print(f"{'executor':32s} {'wall s':>8s} {'speed-up vs 1':>14s} {'same table':>11s} {'CPU s':>7s} "
          f"{'cores used':>10s}")
    out = {"scenario": args.scenario, "runs": len(tasks), "days": args.days,
           "replications": args.replications, "sets": sets, "results": []}
    for name, t, cpu, table in rows:
        same = True
        try:
            pd.testing.assert_frame_equal(serial, table)
        except AssertionError:
            same = False
        print(f"{name:32s} {t:8.2f} {t1 / t:14.2f} {str(same):>11s} {cpu:7.2f} {cpu / t:10.2f}")
        out["results"].append({"executor": name, "seconds": t, "speedup": t1 / t, "identical": same,
                               "cpu_seconds": cpu})
    if not args.no_control:
        # Calibrate the burn to the sweep's mean run time, so the control has the same shape.
        t0 = time.perf_counter()
        burn(500_000)
        n = int(500_000 * (t1 / len(tasks)) / max(time.perf_counter() - t0, 1e-6))
        c1, c2 = control(len(tasks), n)
        print(f"{'control: CPU burn, 2 processes':32s} {c2:8.2f} {c1 / c2:14.2f}   (1 process: {c1:.2f} s)")
        out["control"] = {"serial_s": c1, "two_processes_s": c2, "speedup": c1 / c2}
    out["load_average"] = load
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
