"""Order batching: travel saved against first-come-first-served, per method.

Random orders of 1-4 lines on a 10-aisle single-block layout (30 cells per
aisle, 3 m pitch), cart capacity in items; every batch routed with
``--routing`` (default ``optimal``). For each method it prints the total
travel, the % saved against FCFS measured in the same run, the number of
tours, the picker hours (:class:`~omsim.warehouse.picktime.PickTimeModel`
defaults), the wall time and the routes evaluated. Several instances are
averaged.

Usage::

    python benchmarks/batching.py [--quick] [--orders 100] [--capacity 24] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from omsim.warehouse import BATCHING_METHODS, Layout, PickTimeModel, batch_orders


def make_orders(rng, layout, n):
    lines = rng.integers(1, 5, n)
    orders = [np.column_stack([rng.integers(0, layout.aisles, k), rng.integers(0, layout.cells_per_aisle, k)])
              for k in lines]
    sizes = np.array([int(rng.integers(1, 4, k).sum()) for k in lines], dtype=float)  # items
    return orders, sizes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI-size run (seconds)")
    ap.add_argument("--orders", type=int, default=100)
    ap.add_argument("--capacity", type=float, default=24.0, help="cart capacity in items")
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--routing", default="optimal")
    ap.add_argument("--time-limit", type=float, default=5.0, help="local-search budget per instance (s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=str, default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.orders, args.instances, args.time_limit = 40, 2, 0.5
    layout = Layout(aisles=10, cells_per_aisle=30, aisle_pitch_m=3.0)
    clock = PickTimeModel()
    rng = np.random.default_rng(args.seed)
    acc = {m: dict(total_m=0.0, tours=0, hours=0.0, wall_s=0.0, routes=0) for m in BATCHING_METHODS}
    for inst in range(args.instances):
        orders, sizes = make_orders(rng, layout, args.orders)
        for m in BATCHING_METHODS:
            t0 = time.perf_counter()
            res = batch_orders(layout, orders, sizes, args.capacity, method=m, routing=args.routing,
                               time_limit_s=args.time_limit, rng=inst)
            wall = time.perf_counter() - t0
            picks = np.array([sum(len(orders[o]) for o in b) for b in res.batches])
            a = acc[m]
            a["total_m"] += res.total_m
            a["tours"] += len(res)
            a["hours"] += float(np.sum(clock.tour_time_h(res.lengths, picks)))
            a["wall_s"] += wall
            a["routes"] += res.info["routes_evaluated"]
    base = acc["fcfs"]["total_m"]
    print(f"Order batching: {args.instances} instances x {args.orders} orders (1-4 lines), "
          f"capacity {args.capacity:g} items, routing {args.routing!r}, 10 aisles")
    print(f"{'method':<14}{'travel m':>12}{'saved vs FCFS':>15}{'tours':>8}{'picker h':>10}{'wall s':>9}{'routes eval.':>14}")
    rows = []
    for m, a in acc.items():
        k = args.instances
        saved = (1 - a["total_m"] / base) * 100
        rows.append(dict(method=m, travel_m=a["total_m"] / k, saved_vs_fcfs_pct=saved, tours=a["tours"] / k,
                         picker_h=a["hours"] / k, wall_s=a["wall_s"] / k, routes_evaluated=a["routes"] / k))
        r = rows[-1]
        print(f"{m:<14}{r['travel_m']:>12,.0f}{saved:>14.1f}%{r['tours']:>8.1f}{r['picker_h']:>10.2f}"
              f"{r['wall_s']:>9.2f}{r['routes_evaluated']:>14,.0f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(rows=rows, args={k: v for k, v in vars(args).items() if k != "json"},
                           python=platform.python_version()), fh, indent=2)


if __name__ == "__main__":
    main()
