"""Picker routing: speed of every method and the heuristics' distance above optimal.

On a 10-aisle single-block layout (30 cells per aisle, 3 m aisle pitch, depot
in front of the first aisle) it measures, in one run:

1. Routes per second for 15-pick lists: ``optimal`` batched (one call to the
   exact DP kernel for all lists) and single (one :func:`route` call per list),
   every heuristic batched (the ``_route_heuristics`` kernel) and single, and
   ``ortools`` (guided local search, 100 ms limit per route) with its gap to
   the optimum. Target: ``optimal`` batched >= 50,000 routes/s and >= 1000x
   OR-Tools at equal or better length.
2. Each heuristic's mean and max % above optimal by pick-list size, for one
   and two blocks, beside published figures for the textbook heuristics.
3. The same on Heßler & Irnich's SPRP instances against their published
   optima (all 2400 from ``../shared`` when present, else the 20 fixtures).
   Our heuristics walk shortest paths between consecutive stops, so they can
   only be shorter than the textbook versions the literature measured. It
   also checks that ``optimal`` equals every published optimum.
4. For one block at 15 and 30 picks, each heuristic's mean gap on the SPRP
   instances beside the literature's range (``LITERATURE``, with sources),
   and whether ``combined`` is below ``largest-gap`` and within its range; the
   same by aisle count x picks and by picks per pick aisle.
5. ``combined`` and ``largest-gap`` on random lists of 15 to 60 picks in 10
   aisles: the combined heuristic sweeps each pick aisle once, so it needs
   several picks per pick aisle to beat ``largest-gap`` (Wahlen & Gschwind's
   figures are over order batches, several orders per tour); most SPRP lists
   at 15 and 30 picks have one to three.

Usage::

    python benchmarks/routing.py [--quick] [--sprp-only] [--lists 20000] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from omsim.warehouse import Layout, route, route_lengths
from omsim.warehouse.heuristics import HEURISTICS
from omsim.warehouse.routing import pack_pick_lists

# Published mean gaps above optimal, single block, (low, high) in % over the
# pick-list sizes studied, with their source. s-shape: Petersen (1997),
# Roodbergen & de Koster (2001). largest-gap and combined: Wahlen & Gschwind
# (2023), "Branch-price-and-cut-based solution of order batching problems",
# Transportation Science, doi 10.1287/trsc.2023.1198, as quoted in issue 11 (not
# re-read from the paper here). Their routes are order-picking *batches* (several
# customer orders per tour, so many picks per pick aisle), not the SPRP lists;
# the combined heuristic is Roodbergen & de Koster (2001), "Routing order
# pickers in a warehouse with a middle aisle", EJOR 133(1).
LITERATURE = {
    "s-shape": ((5.0, 30.0), "Petersen 1997; Roodbergen & de Koster 2001"),
    "largest-gap": ((8.0, 14.0), "Wahlen & Gschwind 2023 (as quoted in issue 11)"),
    "combined": ((2.8, 5.5), "Wahlen & Gschwind 2023 (as quoted in issue 11)"),
}


def literature_text(method):
    if method not in LITERATURE:
        return "", ""
    (lo, hi), source = LITERATURE[method]
    return f"{lo:g}-{hi:g} %", source


def make_lists(rng, layout, n_lists, k):
    """``n_lists`` pick lists of ``k`` picks drawn uniformly over the storage locations."""
    aisle = rng.integers(0, layout.aisles, (n_lists, k))
    cell = rng.integers(0, layout.cells_per_aisle, (n_lists, k))
    return [np.column_stack([aisle[i], cell[i]]) for i in range(n_lists)]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def single_rate(layout, lists, method, budget_s):
    """Routes/s of one route() call per list, within a time budget."""
    t0, n = time.perf_counter(), 0
    while n < len(lists) and (n == 0 or time.perf_counter() - t0 < budget_s):
        route(layout, lists[n], method)
        n += 1
    return n / (time.perf_counter() - t0)


def speed(layout, args, rng):
    lists = make_lists(rng, layout, args.lists, 15)
    flat, off = pack_pick_lists(layout, lists)
    rows = []
    opt, t = timed(lambda: route_lengths(layout, flat, "optimal", offsets=off))
    opt_rate = len(lists) / t
    rows.append(dict(method="optimal", mode="batched", routes_per_s=opt_rate, gap_mean_pct=0.0, gap_max_pct=0.0))
    rows.append(dict(method="optimal", mode="single", routes_per_s=single_rate(layout, lists, "optimal", args.budget)))
    for m in HEURISTICS:
        got, t = timed(lambda: route_lengths(layout, flat, m, offsets=off))
        gap = (got / opt - 1) * 100
        rows.append(dict(method=m, mode="batched", routes_per_s=len(lists) / t,
                         gap_mean_pct=float(gap.mean()), gap_max_pct=float(gap.max())))
        rows.append(dict(method=m, mode="single", routes_per_s=single_rate(layout, lists, m, args.budget)))
    k = args.ortools_routes
    ort, t = timed(lambda: np.array([route(layout, p, "ortools").length for p in lists[:k]]))
    gap = (ort / opt[:k] - 1) * 100
    ort_rate = k / t
    rows.append(dict(method="ortools GLS 100 ms", mode="single", routes_per_s=ort_rate,
                     gap_mean_pct=float(gap.mean()), gap_max_pct=float(gap.max())))
    summary = dict(
        optimal_batched_routes_per_s=opt_rate,
        ortools_routes_per_s=ort_rate,
        speedup_optimal_vs_ortools=opt_rate / ort_rate,
        ortools_never_shorter=bool(np.all(ort >= opt[:k] - 1e-9)),
        target_50k_met=bool(opt_rate >= 50_000),
        target_1000x_met=bool(opt_rate / ort_rate >= 1000),
    )
    return rows, summary


def quality(args, rng):
    rows = []
    for blocks in (1, 2):
        layout = Layout(blocks=blocks, aisles=10, cells_per_aisle=30, aisle_pitch_m=3.0)
        for k in args.sizes:
            lists = make_lists(rng, layout, args.quality_lists, k)
            flat, off = pack_pick_lists(layout, lists)
            opt = route_lengths(layout, flat, "optimal", offsets=off)
            for m in HEURISTICS:
                gap = (route_lengths(layout, flat, m, offsets=off) / opt - 1) * 100
                rows.append(dict(blocks=blocks, picks=k, method=m, gap_mean_pct=float(gap.mean()),
                                 gap_max_pct=float(gap.max()), optimal_mean_m=float(opt.mean())))
    return rows


def sprp(args):
    """Mean/max % above the published optima of Heßler & Irnich's SPRP instances.

    Returns the folder, rows by (blocks, picks, method), per-instance records
    for one block (aisles, picks, pick aisles, % above the optimum of
    ``combined`` and ``largest-gap``) and, per block count, how many of our
    ``optimal`` lengths equal the published optimum.
    """
    import dataclasses
    from pathlib import Path

    from omsim.warehouse import read_sprp, sprp_optima
    from omsim.warehouse.sprp import sprp_root

    folder = sprp_root(Path(__file__).resolve().parents[1])
    if args.quick or not (folder / "instances").is_dir():
        folder = Path(__file__).resolve().parents[1] / "tests" / "data" / "sprp"
    groups: dict = {}
    for f in sorted((folder / "instances").glob("*.txt")):
        layout, picks = read_sprp(f)
        groups.setdefault(layout, []).append((f.name, picks))
    rows, records, exact = [], [], {}
    for blocks in (1, 2):
        optima = sprp_optima(folder / "results", blocks)
        gaps: dict = {}
        n_exact = n_all = 0
        for layout, items in groups.items():
            lay = dataclasses.replace(layout, blocks=blocks)
            lists = [p for _, p in items]
            opt = np.array([optima[name] for name, _ in items])
            ours = route_lengths(lay, lists, "optimal")
            n_exact += int(np.sum(ours == opt))  # the published optima are integers
            n_all += len(items)
            ks = np.array([len(p) for p in lists])
            by_method = {m: (route_lengths(lay, lists, m) / opt - 1) * 100 for m in HEURISTICS}
            for m, g in by_method.items():
                for k in np.unique(ks):
                    gaps.setdefault((m, int(k)), []).extend(g[ks == k].tolist())
            if blocks == 1:
                for i, p in enumerate(lists):
                    records.append(dict(aisles=layout.aisles, cells=layout.cells_per_aisle, picks=int(ks[i]),
                                        pick_aisles=len(np.unique(p[:, 0])),
                                        combined=float(by_method["combined"][i]),
                                        largest_gap=float(by_method["largest-gap"][i])))
        exact[blocks] = (n_exact, n_all)
        for (m, k), g in sorted(gaps.items(), key=lambda x: (x[0][1], x[0][0])):
            rows.append(dict(blocks=blocks, picks=k, method=m, n=len(g), gap_mean_pct=float(np.mean(g)),
                             gap_max_pct=float(np.max(g))))
    return folder, rows, records, exact


def density(rng, n_lists=1000, sizes=(15, 30, 45, 60)):
    """``combined`` and ``largest-gap`` on random lists of growing density (10 aisles x 30 cells, 1 block).

    The combined heuristic sweeps the pick aisles once, so its gap falls as
    the picks per pick aisle grow (Wahlen & Gschwind's figures are over order
    batches, i.e. dense lists). Rows by picks: mean picks per pick aisle and mean
    % above optimal of both heuristics.
    """
    layout = Layout(blocks=1, aisles=10, cells_per_aisle=30, aisle_pitch_m=3.0)
    rows = []
    for k in sizes:
        lists = make_lists(rng, layout, n_lists, k)
        flat, off = pack_pick_lists(layout, lists)
        opt = route_lengths(layout, flat, "optimal", offsets=off)
        row = dict(picks=k, per_pick_aisle=float(np.mean([k / len(np.unique(p[:, 0])) for p in lists])))
        for m in ("combined", "largest-gap"):
            row[m] = float(((route_lengths(layout, flat, m, offsets=off) / opt - 1) * 100).mean())
        rows.append(row)
    return rows


def print_speed(rows, summary, args):
    print(f"Routing speed: 10 aisles x 30 cells, 1 block, 15 picks per list, {args.lists} lists, one core")
    print(f"{'method':<20}{'mode':<9}{'routes/s':>12}{'mean % > opt':>14}{'max % > opt':>13}")
    for r in rows:
        g1 = f"{r['gap_mean_pct']:.2f}" if "gap_mean_pct" in r else ""
        g2 = f"{r['gap_max_pct']:.2f}" if "gap_max_pct" in r else ""
        print(f"{r['method']:<20}{r['mode']:<9}{r['routes_per_s']:>12,.0f}{g1:>14}{g2:>13}")
    print(f"optimal batched / ortools: {summary['speedup_optimal_vs_ortools']:,.0f}x "
          f"(target >= 1000x: {'met' if summary['target_1000x_met'] else 'NOT met'}); "
          f">= 50,000 routes/s: {'met' if summary['target_50k_met'] else 'NOT met'}; "
          f"ortools never shorter than optimal: {summary['ortools_never_shorter']}")


def print_quality(qrows, args):
    print(f"Heuristics: % above optimal by pick-list size ({args.quality_lists} random lists each, 10 aisles)")
    header = f"{'blocks':>6}{'picks':>6}" + "".join(f"{m:>16}" for m in HEURISTICS)
    print(header + "   (mean / max %)")
    for blocks in (1, 2):
        for k in args.sizes:
            cells = []
            for m in HEURISTICS:
                r = next(x for x in qrows if x["blocks"] == blocks and x["picks"] == k and x["method"] == m)
                cells.append(f"{r['gap_mean_pct']:6.1f} / {r['gap_max_pct']:5.1f}")
            print(f"{blocks:>6}{k:>6}" + "".join(f"{c:>16}" for c in cells))
    print("literature, 1 block, textbook routes (mean % above optimal over list sizes): " +
          "; ".join(f"{m} {literature_text(m)[0]} ({literature_text(m)[1]})" for m in LITERATURE))
    print("(ours walk shortest paths between consecutive stops, so they are never longer than the textbook routes)")


def _cell(srows, **key):
    return next(x for x in srows if all(x[k] == v for k, v in key.items()))


def _verdict(c, g):
    (lo, hi), _ = LITERATURE["combined"]
    return (f"combined {c:.1f} % {'<' if c < g else '>='} largest-gap {g:.1f} %, "
            f"{'within' if lo <= c <= hi else 'below' if c < lo else 'above'} the literature's {lo:g}-{hi:g} %")


def print_sprp(folder, srows, records, exact):
    n_inst = sum(r["n"] for r in srows if r["blocks"] == 1 and r["method"] == "s-shape")
    print(f"SPRP instances (Heßler & Irnich, {n_inst} from {folder}): % above the published optimum")
    print("optimal equal to the published optimum: " + ", ".join(
        f"{blocks} block{'s' if blocks > 1 else ''} {n}/{m}" for blocks, (n, m) in exact.items()))
    print(f"{'blocks':>6}{'picks':>6}" + "".join(f"{m:>16}" for m in HEURISTICS) + "   (mean / max %)")
    sizes = sorted({r["picks"] for r in srows})
    for blocks in (1, 2):
        for k in sizes:
            cells = []
            for m in HEURISTICS:
                r = _cell(srows, blocks=blocks, picks=k, method=m)
                cells.append(f"{r['gap_mean_pct']:6.1f} / {r['gap_max_pct']:5.1f}")
            print(f"{blocks:>6}{k:>6}" + "".join(f"{c:>16}" for c in cells))
    compare = [k for k in (15, 30) if k in sizes]
    print()
    print("Single block, SPRP: mean % above the optimum beside the literature's range")
    print(f"{'method':<14}" + "".join(f"{f'{k} picks':>10}" for k in compare) + f"  {'literature':<12}source")
    for m in HEURISTICS:
        means = "".join(f"{_cell(srows, blocks=1, picks=k, method=m)['gap_mean_pct']:>10.1f}" for k in compare)
        lit, source = literature_text(m)
        print(f"{m:<14}{means}  {lit:<12}{source}")
    for k in compare:
        c = _cell(srows, blocks=1, picks=k, method="combined")["gap_mean_pct"]
        g = _cell(srows, blocks=1, picks=k, method="largest-gap")["gap_mean_pct"]
        print(f"{k} picks, all layouts: {_verdict(c, g)}")
    print_sprp_by_layout(records)


def print_sprp_by_layout(records):
    """combined vs largest-gap by aisle count and picks, then by picks per pick aisle (1 block)."""
    if not records:
        return
    rec = {key: np.array([r[key] for r in records]) for key in records[0]}
    print()
    print("Single block, SPRP, by layout: mean % above the optimum (combined sweeps each pick aisle once;")
    print("largest-gap takes the back parts going out and the front parts coming back)")
    print(f"{'aisles':>6}{'picks':>6}{'n':>5}{'picks/pick aisle':>18}{'combined':>10}{'largest-gap':>13}"
          f"{'combined <= LG':>16}")
    for a in np.unique(rec["aisles"]):
        for k in np.unique(rec["picks"]):
            sel = (rec["aisles"] == a) & (rec["picks"] == k)
            if not sel.any():
                continue
            c, g = rec["combined"][sel], rec["largest_gap"][sel]
            dens = (rec["picks"][sel] / rec["pick_aisles"][sel]).mean()
            print(f"{a:>6}{k:>6}{sel.sum():>5}{dens:>18.1f}{c.mean():>10.1f}{g.mean():>13.1f}"
                  f"{np.mean(c <= g + 1e-9) * 100:>15.0f}%")
    print("by picks per pick aisle (7 to 30 picks, all aisle counts):")
    ratio = rec["picks"] / rec["pick_aisles"]
    for lo, hi in ((0, 1.25), (1.25, 1.75), (1.75, 2.5), (2.5, 4.0), (4.0, np.inf)):
        sel = (rec["picks"] >= 7) & (ratio >= lo) & (ratio < hi)
        if sel.any():
            span = f"{lo:g}-{hi:g}" if np.isfinite(hi) else f">= {lo:g}"
            verdict = _verdict(rec["combined"][sel].mean(), rec["largest_gap"][sel].mean())
            print(f"  {span:>9}: {sel.sum():4d} instances, {verdict}")


def print_density(drows):
    print("Random lists, 10 aisles x 30 cells, 1 block, depot at the first aisle "
          "(denser lists, as in order batches):")
    print(f"{'picks':>6}{'picks/pick aisle':>18}{'combined':>10}{'largest-gap':>13}")
    for r in drows:
        print(f"{r['picks']:>6}{r['per_pick_aisle']:>18.1f}{r['combined']:>10.1f}{r['largest-gap']:>13.1f}"
              f"   {_verdict(r['combined'], r['largest-gap'])}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI-size run (seconds)")
    ap.add_argument("--sprp-only", action="store_true",
                    help="only the SPRP table and its comparison with the literature (skip speed and random lists)")
    ap.add_argument("--lists", type=int, default=20000, help="15-pick lists for the speed table")
    ap.add_argument("--ortools-routes", type=int, default=10, help="routes solved by OR-Tools (100 ms each)")
    ap.add_argument("--quality-lists", type=int, default=2000, help="lists per pick-list size in the gap table")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds per single-call measurement")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=str, default=None, help="write the results as JSON to this path")
    args = ap.parse_args(argv)
    args.sizes = [5, 10, 15, 20, 30, 45, 60]
    if args.quick:
        args.lists, args.ortools_routes, args.quality_lists, args.budget = 2000, 3, 200, 0.2
        args.sizes = [5, 15, 30]
    rng = np.random.default_rng(args.seed)
    layout = Layout(blocks=1, aisles=10, cells_per_aisle=30, aisle_pitch_m=3.0)

    rows, summary, qrows = [], {}, []
    if not args.sprp_only:
        rows, summary = speed(layout, args, rng)
        print_speed(rows, summary, args)
        qrows = quality(args, rng)
        print()
        print_quality(qrows, args)
        print()
    folder, srows, records, exact = sprp(args)
    print_sprp(folder, srows, records, exact)
    drows = density(rng, n_lists=200 if args.quick else 1000)
    print()
    print_density(drows)

    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(speed=rows, summary=summary, quality=qrows, sprp=srows, sprp_instances=records,
                           sprp_optimal_exact={b: list(v) for b, v in exact.items()}, density=drows,
                           literature={m: dict(range_pct=list(r), source=s) for m, (r, s) in LITERATURE.items()},
                           args={k: v for k, v in vars(args).items() if k != "json"},
                           python=platform.python_version()), fh, indent=2)


if __name__ == "__main__":
    main()
